/**
 * mbedtls-wasm for Node: a drop-in subset of node:tls backed by mbedTLS in WebAssembly.
 *   import { connect, createServer } from 'mbedtls-wasm';
 */
import './wasm-source.js';

export { connect, type ConnectionOptions } from './connect.js';
export { createServer, Server, type ServerOptions, type ShutdownOptions, type ShutdownResult } from './server.js';
export { TLSSocket, type TLSSocketOptions, type SNICallback, type DetailedPeerCertificate } from './tls-socket.js';
export { SecureContext, createSecureContext } from './secure-context.js';
export { rootCertificates, DEFAULT_MIN_VERSION, DEFAULT_MAX_VERSION } from './defaults.js';
export { createTunnel, parseTarget, type Tunnel, type TunnelOptions, type TunnelTarget, type TunnelStats } from './tunnel.js';
export * from '../core.js';
