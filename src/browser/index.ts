/**
 * mbedtls-wasm for browsers (and any runtime without node:*): everything in core (the engine,
 * the pump, transports, certificates), plus TLS over a WebSocket to a tunnel.
 *
 *   import { ready, connect } from 'mbedtls-wasm';
 *   await ready(new URL('mbedtls-wasm/wasm/mbedtls.wasm', import.meta.url));
 *   const tls = connect({ url: 'wss://example.net/tunnel?target=example.com:443', servername: 'example.com', ca });
 *
 * Nothing reachable from this file imports node:* (test/bundle.test.ts checks the bundle).
 */
export * from '../core.js';
export { WebSocketTransport, WebSocketTransportError, type WebSocketLike, type WebSocketTransportOptions } from '../transport/websocket.js';
export { connect, TLSStream, type ConnectOptions, type TLSStreamEvents } from './tls-stream.js';
