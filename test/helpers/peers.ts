// Interop helpers: real peer processes (openssl, gnutls) on 127.0.0.1, and a TlsEngine wired to
// a node:net socket. Bytes move exactly as the engine's theory of operation describes:
// socket 'data' → feed → handshake()/read() → takeOutbound → socket.write.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import net from 'node:net';
import { delimiter, join } from 'node:path';
import type { TlsEngine } from '../../src/engine/tls-engine.js';
import type { TlsError } from '../../src/errors/tls-error.js';

const HOST = '127.0.0.1';
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** True when `name` is an executable on PATH (looked up here: no dependency on `which`). */
export function hasBinary(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return true;
    } catch { /* not here */ }
  }
  return false;
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Connects to 127.0.0.1:port, retrying on ECONNREFUSED (the peer is still starting) every 50 ms
 * for at most `totalMs`. `alive` lets the caller stop early when the peer process has exited.
 */
export async function connectWithRetry(port: number, totalMs = 5000, alive: () => boolean = () => true): Promise<net.Socket> {
  const deadline = Date.now() + totalMs;
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: HOST, port });
        s.once('connect', () => { s.removeListener('error', reject); resolve(s); });
        s.once('error', reject);
      });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== 'ECONNREFUSED') throw e;
      if (!alive()) throw new Error(`peer exited before listening on port ${port}`);
      if (Date.now() >= deadline) throw new Error(`port ${port} still refused connections after ${totalMs} ms`);
      await delay(50);
    }
  }
}

// ---- peer processes ----------------------------------------------------------------------------

/** A spawned peer (openssl s_server, gnutls-cli, ...) with its output collected. */
export class PeerProcess {
  readonly child: ChildProcess;
  readonly description: string;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private exitedFlag = false;
  private readonly listeners = new Set<() => void>();
  readonly exited: Promise<void>;

  constructor(cmd: string, args: string[], cwd?: string) {
    this.description = `${cmd} ${args.join(' ')}`;
    this.child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => { this.stdout += d; this.notify(); });
    this.child.stderr!.on('data', (d: string) => { this.stderr += d; this.notify(); });
    // A peer that exits while we still write to its stdin must not crash the test process.
    this.child.stdin!.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.once('error', (e) => { this.stderr += `\n[spawn error] ${e.message}`; this.markExited(null, null); resolve(); });
      this.child.once('close', (code, signal) => { this.markExited(code, signal); resolve(); });
    });
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  get output(): string {
    return this.stdout + this.stderr;
  }

  /** Writes to the peer's stdin. */
  input(text: string): void {
    this.child.stdin!.write(text);
  }

  endInput(): void {
    this.child.stdin!.end();
  }

  /** Resolves once the combined output matches `re`; rejects if the peer exits first or on timeout. */
  waitForOutput(re: RegExp, ms = 5000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = this.output.match(re);
        if (m) { done(); resolve(m); return; }
        if (this.exitedFlag) { done(); reject(new Error(`${this.describeExit()} before printing ${re}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${ms} ms waiting for ${re} from peer`)); }, ms);
      const done = (): void => { clearTimeout(timer); this.listeners.delete(check); };
      this.listeners.add(check);
      check();
    });
  }

  /** Waits for the peer to exit by itself (bounded). */
  async waitForExit(ms = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`peer still running after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the peer (SIGTERM, then SIGKILL after 2 s). Safe to call more than once. */
  async kill(): Promise<void> {
    if (this.exitedFlag) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => { if (!this.exitedFlag) this.child.kill('SIGKILL'); }, 2000);
    await this.exited;
    clearTimeout(t);
  }

  /** The last lines of output, for failure messages. */
  tail(chars = 3000): string {
    const out = `--- ${this.description}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`;
    return out.length > chars ? '...' + out.slice(-chars) : out;
  }

  private describeExit(): string {
    return `peer exited (code ${this.exitCode}, signal ${this.exitSignal})`;
  }

  private markExited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exitedFlag) return;
    this.exitedFlag = true;
    this.exitCode = code;
    this.exitSignal = signal;
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

// ---- an engine on a socket ----------------------------------------------------------------------

/** One TlsEngine driven over one net.Socket. */
export class EngineSocket {
  readonly engine: TlsEngine;
  readonly socket: net.Socket;
  /** Session blobs the engine reported ('session' events). */
  readonly sessions: Uint8Array[] = [];
  /** NSS key log lines the engine reported ('keylog' events; only with EngineOptions.keylog). */
  readonly keylog: string[] = [];
  /** The transport ended (peer sent FIN). */
  transportEnded = false;
  socketError: Error | null = null;
  private chunks: Uint8Array[] = [];
  private receivedLength = 0;
  private readonly listeners = new Set<() => void>();

  constructor(engine: TlsEngine, socket: net.Socket) {
    this.engine = engine;
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      if (this.engine.disposed) return;
      this.engine.feed(d);
      this.pump();
    });
    socket.on('end', () => {
      this.transportEnded = true;
      if (!this.engine.disposed) { this.engine.feedEnd(); this.pump(); }
      this.notify();
    });
    socket.on('error', (e) => { this.socketError = e; this.notify(); });
    socket.on('close', () => this.notify());
    this.pump();
  }

  /** All plaintext received so far. */
  received(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.receivedLength);
      let off = 0;
      for (const c of this.chunks) { all.set(c, off); off += c.length; }
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  receivedText(): string {
    return decoder.decode(this.received());
  }

  /** Resolves when the handshake completed (and verification passed, for a rejecting client). */
  handshake(ms = 10000): Promise<void> {
    return this.until(() => this.engine.handshakeComplete, 'the handshake to complete', ms);
  }

  /** Encrypts and sends all of `data`. The handshake must be complete. */
  send(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    let off = 0;
    for (let guard = 0; guard < 100000; guard++) {
      const { step, written } = this.engine.write(bytes.subarray(off));
      off += written;
      this.flushOut();
      if (step === 'failed') throw this.engine.error ?? new Error('write failed');
      if (step === 'closed') throw new Error('write on a closed engine');
      if (step === 'done' && off >= bytes.length) break;
      if (step === 'want-write') { this.engine.flush(); this.flushOut(); continue; }
      if (step === 'want-read') throw new Error('write wants to read: handshake not complete?');
    }
    if (this.engine.hasPendingWrite) { this.engine.flush(); this.flushOut(); }
  }

  /** Resolves once at least `n` plaintext bytes have arrived; returns exactly those received. */
  async receive(n: number, ms = 10000): Promise<Uint8Array> {
    await this.until(() => this.receivedLength >= n, `${n} bytes of application data`, ms);
    return this.received();
  }

  /** Resolves once the received plaintext contains `text`. */
  async receiveText(text: string, ms = 10000): Promise<string> {
    await this.until(() => this.receivedText().includes(text), JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text), ms);
    return this.receivedText();
  }

  /** Resolves when the peer's close_notify arrived. */
  peerClose(ms = 10000): Promise<void> {
    return this.until(() => this.engine.peerClosed, 'close_notify from the peer', ms, true);
  }

  /**
   * Resolves with the engine's error once it has failed (errors are sticky, so this also works
   * after the fact). Rejects if it is still healthy after `ms`, or on a socket error first.
   */
  async failure(ms = 10000): Promise<TlsError> {
    let waited: unknown;
    try {
      await this.until(() => false, 'the engine to fail', ms, true);
    } catch (e) {
      waited = e;
    }
    const err = this.engine.disposed ? null : this.engine.error;
    if (err) return err;
    throw waited;
  }

  /** Sends close_notify and half-closes the socket. */
  close(): void {
    if (this.engine.disposed) return;
    this.engine.close();
    this.flushOut();
    if (!this.socket.destroyed) this.socket.end();
  }

  /** Tears everything down (idempotent). */
  destroy(): void {
    this.socket.destroy();
    if (!this.engine.disposed) this.engine.dispose();
    this.notify();
  }

  /**
   * Resolves when `pred` holds (checked after every pump). Rejects on an engine failure, on
   * a transport that ended or failed while waiting (unless `allowEnd`), or after `ms`.
   */
  until(pred: () => boolean, what: string, ms = 10000, allowEnd = false): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        // A failure wins over the predicate: the engine marks the handshake complete before it
        // runs certificate verification, which can still fail it.
        const err = this.engine.disposed ? null : this.engine.error;
        if (err) { done(); reject(new Error(`engine failed while waiting for ${what}: ${describeError(err)}`)); return; }
        if (pred()) { done(); resolve(); return; }
        if (this.engine.disposed) { done(); reject(new Error(`engine disposed while waiting for ${what}`)); return; }
        if (this.socketError) { done(); reject(new Error(`socket error while waiting for ${what}: ${this.socketError.message}`)); return; }
        if (!allowEnd && (this.transportEnded || this.socket.destroyed)) {
          done(); reject(new Error(`the peer closed the transport while waiting for ${what} (engine state ${this.engine.state}, received ${this.receivedLength} bytes)`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what} (engine state ${this.engine.disposed ? 'disposed' : this.engine.state}, received ${this.receivedLength} bytes)`));
      }, ms);
      const done = (): void => { clearTimeout(timer); this.listeners.delete(check); };
      this.listeners.add(check);
      check();
    });
  }

  /** Runs the engine as far as the input allows, then sends whatever it produced. */
  private pump(): void {
    const e = this.engine;
    try {
      if (!e.handshakeComplete) e.handshake();
      if (e.handshakeComplete) {
        for (let guard = 0; guard < 10000; guard++) {
          const r = e.read();
          if (r.step !== 'done' || !r.data) break;
          if (r.data.length > 0) { this.chunks.push(r.data); this.receivedLength += r.data.length; }
        }
        if (e.hasPendingWrite) e.flush();
      }
      for (const ev of e.takeEvents()) {
        if (ev.type === 'session') this.sessions.push(ev.session);
        else if (ev.type === 'keylog') this.keylog.push(ev.line);
      }
    } finally {
      this.flushOut();
      this.notify();
    }
  }

  private flushOut(): void {
    if (this.engine.disposed) return;
    for (;;) {
      const out = this.engine.takeOutbound();
      if (!out) break;
      if (!this.socket.destroyed) this.socket.write(out);
    }
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const x = e as Error & { code?: string; mbedtlsCode?: number; mbedtlsMessage?: string; alert?: number };
  const parts = [x.message];
  if (x.code) parts.push(`code=${x.code}`);
  if (x.mbedtlsCode) parts.push(`mbedtls=-0x${(-x.mbedtlsCode).toString(16).toUpperCase()} ${x.mbedtlsMessage ?? ''}`.trim());
  if (x.alert !== undefined) parts.push(`alert=${x.alert}`);
  return parts.join(' ');
}

/** Our engine as a server: net.createServer on 127.0.0.1:0, one new engine per connection. */
export class EngineServer {
  readonly server: net.Server;
  readonly connections: EngineSocket[] = [];
  private waiting: Array<(c: EngineSocket) => void> = [];
  private taken = 0;

  private constructor(makeEngine: () => TlsEngine) {
    this.server = net.createServer((socket) => {
      const conn = new EngineSocket(makeEngine(), socket);
      this.connections.push(conn);
      const w = this.waiting.shift();
      if (w) { this.taken++; w(conn); }
    });
  }

  static async listen(makeEngine: () => TlsEngine): Promise<EngineServer> {
    const s = new EngineServer(makeEngine);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, HOST, () => { s.server.removeListener('error', reject); resolve(); });
    });
    return s;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** The next accepted connection (in order), waiting at most `ms`. */
  accept(ms = 10000): Promise<EngineSocket> {
    if (this.taken < this.connections.length) return Promise.resolve(this.connections[this.taken++]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== got);
        reject(new Error(`no connection accepted within ${ms} ms`));
      }, ms);
      const got = (c: EngineSocket): void => { clearTimeout(timer); resolve(c); };
      this.waiting.push(got);
    });
  }

  /** Closes the listener and every connection (idempotent). */
  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- per-test resources -------------------------------------------------------------------------

/**
 * Everything one test case starts (peer processes, listeners, sockets, configs), released in
 * reverse order when the case ends, whether it passed, failed or timed out.
 */
export class Scope {
  readonly peers: PeerProcess[] = [];
  private cleanups: Array<() => unknown> = [];

  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /** Starts a peer process; it is killed when the scope ends. */
  spawn(cmd: string, args: string[], cwd?: string): PeerProcess {
    const p = new PeerProcess(cmd, args, cwd);
    this.peers.push(p);
    this.defer(() => p.kill());
    return p;
  }

  /** Our engine as a server on an ephemeral port; closed when the scope ends. */
  async listen(makeEngine: () => TlsEngine): Promise<EngineServer> {
    const s = await EngineServer.listen(makeEngine);
    this.defer(() => s.close());
    return s;
  }

  /** Our engine as a client of 127.0.0.1:port (retrying while `peer` starts up). */
  async connect(engine: TlsEngine, port: number, peer?: PeerProcess): Promise<EngineSocket> {
    let socket: net.Socket;
    try {
      socket = await connectWithRetry(port, 5000, () => peer?.running ?? true);
    } catch (e) {
      engine.dispose();
      throw e;
    }
    const c = new EngineSocket(engine, socket);
    this.defer(() => c.destroy());
    return c;
  }

  async dispose(): Promise<void> {
    const list = this.cleanups.reverse();
    this.cleanups = [];
    for (const fn of list) {
      try { await fn(); } catch { /* keep releasing the rest */ }
    }
  }
}

/**
 * Runs one interop case with a hard time limit. Resources registered on the scope are always
 * released (peers killed) before this settles; a failure message carries the peers' output.
 */
export async function scoped(ms: number, fn: (scope: Scope) => Promise<void>): Promise<void> {
  const scope = new Scope();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`case timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([fn(scope), timeout]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    void err.stack; // format the stack now, so the peers' output is not repeated in it
    const tails = scope.peers.map((p) => p.tail()).join('\n');
    if (tails) err.message += `\n${tails}`;
    throw err;
  } finally {
    clearTimeout(timer);
    await scope.dispose();
  }
}
