/**
 * In-process benchmarks (issue "Wasm TLS core"): ours vs raw mbedTLS (the same work inside the
 * wasm, no engine around it) vs node:tls (both ends in one process over an in-memory duplex
 * pair). Each figure is printed with its ratios. Not a test: nothing here asserts anything.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import '../src/node/wasm-source.js';
import { TlsConfig, type SecureOptions } from '../src/engine/config.js';
import { TlsEngine } from '../src/engine/tls-engine.js';
import type { ConnPtr } from '../src/wasm/ffi.js';
import { lib } from '../src/wasm/module.js';

const fx = (n: string) => readFileSync(new URL(`../test/fixtures/${n}`, import.meta.url), 'utf8');
const KEY = fx('server-ecdsa.key'), CERT = fx('server-ecdsa.crt'), CA = fx('ca-ecdsa.crt');

export interface Row { label: string; unit: string; ours: number; raw?: number; node?: number }

function now(): number { return performance.now(); }

/** Runs fn repeatedly for about `ms` milliseconds; returns operations per second. */
function rate(ms: number, fn: () => void): number {
  fn(); // warm-up
  let n = 0;
  const t0 = now();
  let t = t0;
  while (t - t0 < ms) { fn(); n++; t = now(); }
  return n / ((t - t0) / 1000);
}

function configs(version: 'TLSv1.2' | 'TLSv1.3', ciphers?: string): { s: TlsConfig; c: TlsConfig } {
  const common: SecureOptions = { minVersion: version, maxVersion: version, ecdhCurve: 'X25519:P-256', ...(ciphers ? { ciphers } : {}) };
  return {
    s: TlsConfig.server({ key: KEY, cert: CERT, ...common }),
    c: TlsConfig.client({ ca: CA, ...common }),
  };
}

/** Ciphertext from a to b through one reused buffer: feed() copies what it is given. */
const wire = new Uint8Array(64 * 1024);
function pump(a: TlsEngine, b: TlsEngine): number {
  let n = 0;
  for (let out = a.takeOutbound(Infinity, wire); out; out = a.takeOutbound(Infinity, wire)) { b.feed(out); n += out.length; }
  return n;
}

function engineHandshake(c: TlsConfig, s: TlsConfig): void {
  const ce = new TlsEngine(c, { servername: 'localhost' });
  const se = new TlsEngine(s);
  for (let i = 0; i < 32; i++) {
    const a = ce.handshake(); const m1 = pump(ce, se);
    const b = se.handshake(); const m2 = pump(se, ce);
    if (a === 'done' && b === 'done' && m1 === 0 && m2 === 0) break;
    if (a === 'failed' || b === 'failed') throw ce.error ?? se.error;
  }
  ce.dispose(); se.dispose();
}

function rawHandshake(c: TlsConfig, s: TlsConfig): void {
  const x = lib().x;
  const cc = x.tlsw_conn_new(c.ptr), sc = x.tlsw_conn_new(s.ptr);
  lib().withCString('localhost', (p) => x.tlsw_conn_set_hostname(cc, p));
  const rc = x.tlsw_bench_handshake(cc, sc);
  x.tlsw_conn_free(cc); x.tlsw_conn_free(sc);
  if (rc !== 0) throw new Error(`raw handshake failed: ${rc}`);
}

/** Two node Duplexes connected back to back (node 20 has no stream.duplexPair). */
function duplexPair(): [Duplex, Duplex] {
  const make = (): Duplex & { other?: Duplex } => new Duplex({
    read() {},
    write(chunk, _e, cb) { (this as { other?: Duplex }).other!.push(chunk); cb(); },
    final(cb) { (this as { other?: Duplex }).other!.push(null); cb(); },
  });
  const a = make(), b = make();
  a.other = b; b.other = a;
  return [a, b];
}

function nodeContexts(version: 'TLSv1.2' | 'TLSv1.3', ciphers?: string) {
  const opts = { minVersion: version, maxVersion: version, ecdhCurve: 'X25519:P-256' } as const;
  const c13 = ciphers && version === 'TLSv1.3' ? { ciphersuites: ciphers } : {};
  const c12 = ciphers && version === 'TLSv1.2' ? { ciphers } : {};
  return {
    server: tls.createSecureContext({ key: KEY, cert: CERT, ...opts, ...c13, ...c12 }),
    client: tls.createSecureContext({ ca: CA, ...opts, ...c13, ...c12 }),
  };
}

function nodePair(ctx: ReturnType<typeof nodeContexts>): Promise<{ c: tls.TLSSocket; s: tls.TLSSocket }> {
  const [a, b] = duplexPair();
  const s = new tls.TLSSocket(a, { isServer: true, secureContext: ctx.server });
  const c = tls.connect({ socket: b, secureContext: ctx.client, servername: 'localhost' });
  return new Promise((resolve, reject) => {
    let n = 0;
    const done = () => { if (++n === 2) resolve({ c, s }); };
    s.once('secure', done);
    c.once('secureConnect', done);
    c.once('error', reject); s.once('error', reject);
  });
}

async function nodeHandshakeRate(ms: number, version: 'TLSv1.2' | 'TLSv1.3'): Promise<number> {
  const ctx = nodeContexts(version);
  const one = async () => { const { c, s } = await nodePair(ctx); c.destroy(); s.destroy(); };
  await one();
  let n = 0;
  const t0 = now();
  while (now() - t0 < ms) { await one(); n++; }
  return n / ((now() - t0) / 1000);
}

async function nodeBulk(version: 'TLSv1.2' | 'TLSv1.3', cipher: string, total: number): Promise<number> {
  const ctx = nodeContexts(version, cipher);
  const { c, s } = await nodePair(ctx);
  const chunk = Buffer.alloc(16384, 7);
  let got = 0;
  const t0 = now();
  await new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => { got += d.length; if (got >= total) resolve(); });
    const write = () => {
      let sent = 0;
      const go = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!c.write(chunk)) { c.once('drain', go); return; }
        }
      };
      go();
    };
    write();
  });
  const secs = (now() - t0) / 1000;
  c.destroy(); s.destroy();
  return total / secs / 1e6;
}

function established(version: 'TLSv1.2' | 'TLSv1.3', ciphers?: string) {
  const { c, s } = configs(version, ciphers);
  const ce = new TlsEngine(c, { servername: 'localhost' });
  const se = new TlsEngine(s);
  for (let i = 0; i < 32; i++) {
    ce.handshake(); pump(ce, se); se.handshake(); pump(se, ce);
    if (ce.handshakeComplete && se.handshakeComplete && ce.outboundLength === 0) break;
  }
  ce.read(); // consume any NewSessionTicket
  return { c, s, ce, se, dispose() { ce.dispose(); se.dispose(); c.dispose(); s.dispose(); } };
}

function engineBulk(version: 'TLSv1.2' | 'TLSv1.3', cipher: string, total: number): number {
  const p = established(version, cipher);
  const chunk = new Uint8Array(16384).fill(7);
  const plain = new Uint8Array(64 * 1024);
  let sent = 0, got = 0;
  const t0 = now();
  while (sent < total) {
    const { written } = p.ce.write(chunk);
    sent += written;
    pump(p.ce, p.se);
    // Plaintext into one reused buffer too (it is counted, then dropped).
    for (let r = p.se.read(plain); r.step === 'done'; r = p.se.read(plain)) got += r.data!.length;
  }
  const secs = (now() - t0) / 1000;
  if (got !== total) throw new Error(`engine bulk lost data: ${got}/${total}`);
  p.dispose();
  return total / secs / 1e6;
}

function rawBulk(version: 'TLSv1.2' | 'TLSv1.3', cipher: string, total: number): number {
  const p = established(version, cipher);
  const L = lib();
  const buf = L.alloc(16384), rbuf = L.alloc(16384);
  const conn = (e: TlsEngine) => (e as unknown as { conn: ConnPtr }).conn;
  const t0 = now();
  const got = L.x.tlsw_bench_transfer(conn(p.ce), conn(p.se), buf, 16384, total, rbuf, 16384);
  const secs = (now() - t0) / 1000;
  L.x.tlsw_mem_free(buf); L.x.tlsw_mem_free(rbuf);
  if (got !== total) throw new Error(`raw bulk failed: ${got}`);
  p.dispose();
  return total / secs / 1e6;
}

/** node:tls idle memory, measured in a fresh child process (RSS delta per connection). */
function nodeIdleMemory(n: number): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./node-memory.ts', import.meta.url)), String(n)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!).perConnection as number;
}

function ourIdleMemory(n: number): { wasm: number; js: number } {
  const { c, s } = configs('TLSv1.3');
  const L = lib();
  global.gc?.();
  const heap0 = L.heap().bytes;
  const js0 = process.memoryUsage().heapUsed;
  const engines: TlsEngine[] = [];
  for (let i = 0; i < n; i++) {
    const ce = new TlsEngine(c, { servername: 'localhost' });
    const se = new TlsEngine(s);
    for (let k = 0; k < 32; k++) {
      ce.handshake(); pump(ce, se); se.handshake(); pump(se, ce);
      if (ce.handshakeComplete && se.handshakeComplete && ce.outboundLength === 0 && se.outboundLength === 0) break;
    }
    ce.read();
    ce.park(); se.park();
    engines.push(ce, se);
  }
  global.gc?.();
  const wasm = (L.heap().bytes - heap0) / (2 * n);
  const js = (process.memoryUsage().heapUsed - js0) / (2 * n);
  for (const e of engines) e.dispose();
  c.dispose(); s.dispose();
  return { wasm, js };
}

export async function runEngineBench(quick: boolean): Promise<Row[]> {
  const ms = quick ? 1500 : 4000;
  const total = quick ? 32 << 20 : 128 << 20;
  const rows: Row[] = [];
  // Ours and raw alternate in ROUNDS short runs and each keeps its best: on a shared, noisy
  // machine a slow spell then hits both alike instead of whichever ran during it.
  const ROUNDS = quick ? 2 : 4;
  const best = (fns: Array<() => number>): number[] => {
    const out = fns.map(() => 0);
    for (let r = 0; r < ROUNDS; r++) fns.forEach((fn, i) => { out[i] = Math.max(out[i]!, fn()); });
    return out;
  };
  for (const v of ['TLSv1.3', 'TLSv1.2'] as const) {
    const { c, s } = configs(v);
    const [ours, raw] = best([() => rate(ms / ROUNDS, () => engineHandshake(c, s)), () => rate(ms / ROUNDS, () => rawHandshake(c, s))]) as [number, number];
    c.dispose(); s.dispose();
    const node = await nodeHandshakeRate(ms, v);
    rows.push({ label: `full handshakes/s ${v} ECDSA P-256 + x25519 (in-process pair)`, unit: 'hs/s', ours, raw, node });
  }
  const bulk: Array<[string, 'TLSv1.3', string, string]> = [
    ['ChaCha20-Poly1305', 'TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
    ['AES-128-GCM', 'TLSv1.3', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
  ];
  for (const [name, v, ours, nodeName] of bulk) {
    const share = Math.max(16384, Math.floor(total / ROUNDS / 16384) * 16384);
    const [o, r] = best([() => engineBulk(v, ours, share), () => rawBulk(v, ours, share)]) as [number, number];
    const n = await nodeBulk(v, nodeName, total);
    rows.push({ label: `bulk MB/s ${name} ${v}, 16 KiB writes (one way)`, unit: 'MB/s', ours: o, raw: r, node: n });
  }
  const N = quick ? 200 : 500;
  const mem = ourIdleMemory(N);
  const nodeMem = nodeIdleMemory(N);
  rows.push({ label: 'memory per idle established connection: wasm heap', unit: 'bytes', ours: mem.wasm });
  rows.push({ label: 'memory per idle established connection: wasm heap + JS heap (node: RSS)', unit: 'bytes', ours: mem.wasm + mem.js, node: nodeMem });
  return rows;
}
