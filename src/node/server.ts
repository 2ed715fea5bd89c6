/**
 * Server: node:tls's Server (a net.Server) whose connections are our TLSSockets, plus a
 * graceful shutdown: stop accepting, let queued responses drain until a deadline, then abandon
 * what is left. The server tracks its sockets, so shutdown can reach each of them.
 */
import net from 'node:net';
import { TlsError } from '../errors/tls-error.js';
import { Counters } from '../scheduler/counters.js';
import { createSecureContext, SecureContext } from './secure-context.js';
import { TLSSocket, type SNICallback, type TLSSocketOptions } from './tls-socket.js';
import type { SecureOptions } from '../engine/config.js';

export interface ServerOptions extends SecureOptions {
  SNICallback?: SNICallback;
  /** Milliseconds a client has to complete the handshake (default 120000, as node). */
  handshakeTimeout?: number;
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  highWaterMark?: number;
  /** Advanced: each connection's engine outbound ciphertext limit (see TLSSocketOptions). */
  outboundLimit?: number;
}

export interface ShutdownOptions {
  /** How long queued responses may keep draining (default 5000 ms). */
  drainMs?: number;
}

export interface ShutdownResult {
  /** Connections that finished on their own before the deadline. */
  drained: number;
  /** Connections destroyed at the deadline. */
  abandoned: number;
}

export class Server extends net.Server {
  readonly counters = new Counters();
  readonly sockets = new Set<TLSSocket>();
  private context: SecureContext;
  private readonly tlsOptions: ServerOptions;
  private shuttingDown = false;
  stats = { handshakesOk: 0, handshakesFailed: 0, failuresByCode: {} as Record<string, number>, connectionsTotal: 0 };

  constructor(options: ServerOptions = {}, secureConnectionListener?: (socket: TLSSocket) => void) {
    // Raw sockets are always half-open: the TLS layer ends the TCP stream after close_notify
    // (a raw socket that answered the peer's FIN by itself would cut our close_notify off).
    // `allowHalfOpen` applies to the TLSSocket, as in node:tls.
    super({ allowHalfOpen: true, pauseOnConnect: false });
    this.tlsOptions = options;
    this.context = createSecureContext(options, true);
    if (secureConnectionListener) this.on('secureConnection', secureConnectionListener);
    this.on('connection', (raw: net.Socket) => this.accept(raw));
    this.on('close', () => this.context.dispose());
  }

  /** Wraps a raw connection (also usable for sockets accepted elsewhere). */
  accept(raw: net.Socket): TLSSocket | undefined {
    if (this.shuttingDown) { raw.destroy(); return undefined; }
    const o = this.tlsOptions;
    // As node:tls: only connections accepted while someone listens for 'keylog' log keys.
    const keylog = this.listenerCount('keylog') > 0;
    const opts: TLSSocketOptions = {
      isServer: true,
      secureContext: this.context,
      SNICallback: o.SNICallback,
      handshakeTimeout: o.handshakeTimeout ?? 120000,
      allowHalfOpen: o.allowHalfOpen,
      highWaterMark: o.highWaterMark,
      outboundLimit: o.outboundLimit,
      parentCounters: this.counters,
      enableKeylog: keylog,
    };
    let socket: TLSSocket;
    try {
      socket = new TLSSocket(raw, opts);
    } catch (e) {
      raw.destroy();
      this.emit('error', e);
      return undefined;
    }
    this.stats.connectionsTotal++;
    this.sockets.add(socket);
    if (keylog) {
      socket.on('keylog', (line: Buffer) => this.emit('keylog', line, socket));
    }
    socket.once('secure', () => {
      this.stats.handshakesOk++;
      this.emit('secureConnection', socket);
    });
    socket.on('error', (err: Error) => {
      if (socket.pending || !socket.engine.handshakeComplete) {
        this.stats.handshakesFailed++;
        const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
        this.stats.failuresByCode[code] = (this.stats.failuresByCode[code] ?? 0) + 1;
        this.emit('tlsClientError', err, socket);
      }
      // After the handshake, errors belong to whoever uses the socket; without listeners a
      // server must not crash because one client misbehaved.
    });
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  /** Adds certificates for a server name (node's server.addContext). */
  addContext(hostname: string, context: SecureOptions | SecureContext): void {
    const opts = context instanceof SecureContext ? context.options : context;
    this.context.config(true).addContext(hostname, opts);
  }

  setSecureContext(options: SecureOptions): void {
    const next = createSecureContext({ ...this.tlsOptions, ...options }, true);
    const prev = this.context;
    this.context = next;
    // Existing connections hold their own reference to the old config (freed with them).
    prev.dispose();
  }

  /**
   * Graceful shutdown: stop accepting now; connections that finish their queued work close by
   * themselves (idle ones are ended at once); at `drainMs` the rest are destroyed and their
   * engines freed. Resolves when every socket is gone and the listener is closed.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownResult> {
    const drainMs = options.drainMs ?? 5000;
    this.shuttingDown = true;
    const result: ShutdownResult = { drained: 0, abandoned: 0 };
    const listening = this.listening;
    const closed = new Promise<void>((resolve) => {
      if (!listening) { resolve(); return; }
      this.close(() => resolve());
    });
    const live = [...this.sockets];
    const done = live.map((s) => new Promise<void>((resolve) => {
      if (s.destroyed) { resolve(); return; }
      s.once('close', () => resolve());
    }));
    for (const s of live) {
      if (s.destroyed) continue;
      // Handshakes in progress have nothing to drain.
      if (!s.pump.isSecure) { s.destroy(); continue; }
      if (s.writableEnded) continue;
      // Close politely (close_notify + FIN) once nothing is queued: idle connections now, busy
      // ones when their queued data has been handed to the transport.
      const endWhenIdle = () => {
        s.idleHook = null;
        if (!s.destroyed && !s.writableEnded) s.end();
      };
      if (s.pump.isIdle && s.writableLength === 0) endWhenIdle();
      else s.idleHook = endWhenIdle;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const s of this.sockets) {
          if (!s.destroyed) { result.abandoned++; s.destroy(new TlsError('ERR_TLS_SHUTDOWN', 'local', 'server shutdown deadline reached')); }
        }
        resolve();
      }, drainMs);
    });
    return Promise.race([Promise.all(done).then(() => 'all' as const), deadline.then(() => 'deadline' as const)])
      .then(async (how) => {
        if (timer) clearTimeout(timer);
        if (how === 'all') result.drained = live.length;
        else result.drained = live.length - result.abandoned;
        await Promise.all(done);
        await closed;
        return result;
      });
  }
}

export function createServer(options?: ServerOptions | ((socket: TLSSocket) => void), listener?: (socket: TLSSocket) => void): Server {
  if (typeof options === 'function') return new Server({}, options);
  return new Server(options ?? {}, listener);
}
