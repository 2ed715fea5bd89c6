// In-memory engine pairs: both ends in one process, bytes moved by hand, fully deterministic.
import { TlsConfig, type SecureOptions } from '../../src/engine/config.js';
import { TlsEngine, type EngineOptions, type Step } from '../../src/engine/tls-engine.js';
import { pem } from './fixtures.js';

export interface Pair {
  client: TlsEngine;
  server: TlsEngine;
  clientConfig: TlsConfig;
  serverConfig: TlsConfig;
  dispose(): void;
}

export function makePair(serverOptions: SecureOptions = {}, clientOptions: SecureOptions = {},
  clientEngine: EngineOptions = { servername: 'localhost' }, serverEngine: EngineOptions = {}): Pair {
  const serverConfig = TlsConfig.server({ ...pem.ecdsa(), ...serverOptions });
  const clientConfig = TlsConfig.client({ ca: [pem.ca(), pem.caRsa()], ...clientOptions });
  const client = new TlsEngine(clientConfig, clientEngine);
  const server = new TlsEngine(serverConfig, serverEngine);
  return {
    client, server, clientConfig, serverConfig,
    dispose() { client.dispose(); server.dispose(); clientConfig.dispose(); serverConfig.dispose(); },
  };
}

/** Moves every outbound byte from `from` to `to`; returns the byte count. */
export function move(from: TlsEngine, to: TlsEngine, chunk = Infinity): number {
  let n = 0;
  for (;;) {
    const out = from.takeOutbound();
    if (!out) return n;
    n += out.length;
    if (chunk === Infinity) to.feed(out);
    else for (let i = 0; i < out.length; i += chunk) to.feed(out.subarray(i, i + chunk));
  }
}

/** Runs both handshakes to completion (or failure); returns the final steps. */
export function handshake(p: Pair, chunk = Infinity): { client: Step; server: Step } {
  let c: Step = 'want-read', s: Step = 'want-read';
  for (let i = 0; i < 200; i++) {
    c = p.client.handshake();
    const a = move(p.client, p.server, chunk);
    s = p.server.handshake();
    const b = move(p.server, p.client, chunk);
    if ((c === 'done' || c === 'failed') && (s === 'done' || s === 'failed') && a === 0 && b === 0) break;
  }
  return { client: c, server: s };
}

/** Reads every plaintext byte available from an engine. */
export function readAll(e: TlsEngine): Uint8Array {
  const parts: Uint8Array[] = [];
  for (;;) {
    const r = e.read();
    if (r.step !== 'done' || !r.data) break;
    parts.push(r.data);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Writes all of `data` from one engine to the other, moving bytes as needed; returns what arrived. */
export function transfer(from: TlsEngine, to: TlsEngine, data: Uint8Array): Uint8Array {
  const got: Uint8Array[] = [];
  let off = 0;
  for (let guard = 0; off < data.length && guard < 100000; guard++) {
    const { step, written } = from.write(data.subarray(off));
    off += written;
    move(from, to);
    got.push(readAll(to));
    if (step === 'failed') throw from.error;
    if (step === 'want-write') { from.flush(); }
  }
  from.flush();
  move(from, to);
  got.push(readAll(to));
  const out = new Uint8Array(got.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of got) { out.set(p, o); o += p.length; }
  return out;
}

export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
  return out;
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
