/**
 * What every entry point (Node and browser) exports: the sans-IO engine and its configuration,
 * errors, transports, the scheduler, certificates. Nothing here imports node:*.
 */
export { TlsError, type Fault } from './errors/tls-error.js';
export { ready, isReady, lib as wasmLibrary, wasmSimdSupported, type WasmSource } from './wasm/module.js';
export { TlsConfig, type SecureOptions, type CertificateOptions, type PemInput, type CheckServerIdentity } from './engine/config.js';
export { TlsEngine, type EngineOptions, type EngineEvent, type EngineState, type Step, type Want, type CipherInfo } from './engine/tls-engine.js';
import { CIPHER_SUITES } from './engine/ciphers.js';
export { CIPHER_SUITES, GROUPS } from './engine/ciphers.js';
export { checkServerIdentity } from './engine/identity.js';
export { parseCertificate, type PeerCertificate } from './engine/x509.js';
export { generateSelfSigned, type SelfSignedOptions, type SelfSigned } from './engine/self-signed.js';
export { Pump, type PumpHost, type PumpOptions } from './scheduler/pump.js';
export { Counters, type CounterValues } from './scheduler/counters.js';
export type { Transport, TransportHandlers } from './transport/transport.js';
export { memoryPair } from './transport/memory.js';
export { FaultTransport, type FaultScript } from './transport/fault.js';
export { StreamTransport } from './transport/stream.js';

/** Supported ciphers, as node:tls's getCiphers() (lower-case OpenSSL names). */
export function getCiphers(): string[] {
  return CIPHER_SUITES.map((s) => s.name.toLowerCase());
}
