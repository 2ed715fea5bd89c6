// In-memory engine pairs: both ends in one process, bytes moved by hand, fully deterministic.
import { TlsConfig, type SecureOptions } from '../../src/engine/config.js';
import { TlsEngine, type EngineOptions, type Step } from '../../src/engine/tls-engine.js';
import { lib } from '../../src/wasm/module.js';
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

// ---- more helpers for the engine suites ------------------------------------------------------

/** An engine pair on existing configs (the caller owns and disposes the configs). */
export function pairOn(serverConfig: TlsConfig, clientConfig: TlsConfig,
  clientEngine: EngineOptions = { servername: 'localhost' }, serverEngine: EngineOptions = {}): Pair {
  const client = new TlsEngine(clientConfig, clientEngine);
  const server = new TlsEngine(serverConfig, serverEngine);
  return {
    client, server, clientConfig, serverConfig,
    dispose() { client.dispose(); server.dispose(); },
  };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Everything queued outbound by an engine, as one buffer (empty when nothing). */
export function drain(e: TlsEngine): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let out = e.takeOutbound(); out; out = e.takeOutbound()) parts.push(out);
  return concat(parts);
}

export interface Flight { from: 'client' | 'server'; bytes: Uint8Array }

/**
 * Runs the handshake one flight at a time, recording each flight's bytes (what one side sent in
 * reply to the other's previous flight). `deliver` may replace how a flight reaches its peer
 * (default: one feed). Stops when both sides are done (or one failed) and nothing moves.
 */
export function recordHandshake(p: Pair, deliver: (to: TlsEngine, bytes: Uint8Array, index: number) => void =
  (to, b) => { if (b.length) to.feed(b); }): { client: Step; server: Step; flights: Flight[] } {
  const flights: Flight[] = [];
  let c: Step = p.client.handshake();
  let s: Step = 'want-read';
  for (let i = 0; i < 50; i++) {
    const a = drain(p.client);
    if (a.length) { flights.push({ from: 'client', bytes: a }); deliver(p.server, a, flights.length - 1); }
    s = p.server.handshake();
    const b = drain(p.server);
    if (b.length) { flights.push({ from: 'server', bytes: b }); deliver(p.client, b, flights.length - 1); }
    c = p.client.handshake();
    const done = (x: Step) => x === 'done' || x === 'failed';
    if (done(c) && done(s) && p.client.outboundLength === 0 && p.server.outboundLength === 0) break;
  }
  return { client: c, server: s, flights };
}

/** TLS records in a byte string: [offset, total length] of each (stops at a partial record). */
export function records(b: Uint8Array): Array<{ type: number; offset: number; length: number }> {
  const out: Array<{ type: number; offset: number; length: number }> = [];
  for (let off = 0; off + 5 <= b.length;) {
    const len = 5 + ((b[off + 3]! << 8) | b[off + 4]!);
    if (off + len > b.length) break;
    out.push({ type: b[off]!, offset: off, length: len });
    off += len;
  }
  return out;
}

/**
 * Moves bytes both ways and reads on both sides until nothing moves; returns what each side
 * read. Used to let post-handshake messages (TLS 1.3 NewSessionTicket) arrive.
 */
export function settle(p: Pair): { client: Uint8Array; server: Uint8Array } {
  const got = { client: [] as Uint8Array[], server: [] as Uint8Array[] };
  for (let i = 0; i < 20; i++) {
    got.client.push(readAll(p.client));
    got.server.push(readAll(p.server));
    const a = move(p.client, p.server);
    const b = move(p.server, p.client);
    if (a === 0 && b === 0) break;
  }
  return { client: concat(got.client), server: concat(got.server) };
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * The wasm heap's allocation count, once process-wide state exists: the scratch buffer, and
 * one block the first ClientHello of the process allocates and keeps (a lazily initialised
 * global inside the module, the same count ever after). Neither belongs to any connection, so
 * once every connection and config is gone the count is back to this.
 */
export function heapBaseline(): number {
  const heap = lib();
  heap.scratch(1);
  const warm = makePair();
  handshake(warm);
  warm.dispose();
  return heap.heap().count;
}
