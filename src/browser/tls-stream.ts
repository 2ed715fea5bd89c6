/**
 * TLSStream: a TLS client connection for runtimes without node:stream (browsers, workers), with
 * the parts of node:tls's TLSSocket that make sense there: write()/end()/destroy(), the events
 * 'secureConnect', 'data', 'end', 'close', 'error', 'drain' (and 'session'), and getProtocol(),
 * getCipher(), alpnProtocol, authorized, ... It is the same machinery as the Node socket: a
 * TlsEngine driven by the pump over a Transport; only the outer shell differs.
 *
 *   await ready(wasmUrl);
 *   const tls = connect({ url: 'wss://proxy.example/tunnel?target=example.com:443',
 *     servername: 'example.com', ca: [caPem], ALPNProtocols: ['http/1.1'] });
 *   tls.on('secureConnect', () => tls.write('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'));
 *   tls.on('data', (bytes) => ...);
 *
 * The WebSocket must lead to a tunnel that relays raw bytes to the TLS server (see
 * src/node/tunnel.ts); the browser's own TLS is not involved in this connection.
 */
import { TlsConfig, type SecureOptions } from '../engine/config.js';
import { TlsEngine, type CipherInfo, type EngineEvent } from '../engine/tls-engine.js';
import type { PeerCertificate } from '../engine/x509.js';
import type { TlsError } from '../errors/tls-error.js';
import { Pump, type PumpHost } from '../scheduler/pump.js';
import type { Transport } from '../transport/transport.js';
import { WebSocketTransport, type WebSocketLike } from '../transport/websocket.js';

export interface ConnectOptions extends SecureOptions {
  /** ws:// or wss:// URL of a WebSocket-to-TCP tunnel that leads to the TLS server. */
  url?: string | URL;
  /** WebSocket sub-protocols (with `url`). */
  protocols?: string | string[];
  /** An already created WebSocket (or `ws` client) to run TLS over. */
  socket?: WebSocketLike;
  /** Any other transport (memory pairs, fault injection, your own). */
  transport?: Transport;
  /** Server name sent as SNI and checked against the certificate. */
  servername?: string;
  /** Name or address the certificate is checked against (default: servername, then 'localhost'). */
  host?: string;
  /** A session from getSession() / a 'session' event, to resume. */
  session?: Uint8Array;
  /** Milliseconds the handshake may take (default 0: no limit). */
  handshakeTimeout?: number;
  /** Plaintext queued before write() returns false (default 64 KiB). */
  highWaterMark?: number;
  /** WebSocket transport: bytes that may wait per direction before the connection fails. */
  maxBuffered?: number;
  /** Keep the writable side open after the server ends (default false: end() follows). */
  allowHalfOpen?: boolean;
}

export interface TLSStreamEvents {
  secureConnect: [];
  data: [data: Uint8Array];
  end: [];
  close: [hadError: boolean];
  error: [error: Error];
  drain: [];
  session: [session: Uint8Array];
}

type Listener<K extends keyof TLSStreamEvents> = (...args: TLSStreamEvents[K]) => void;

const encoder = new TextEncoder();

export class TLSStream {
  readonly engine: TlsEngine;
  readonly pump: Pump;
  readonly transport: Transport;
  authorized = false;
  authorizationError: string | null = null;
  alpnProtocol: string | false = false;
  /** The error that ended the connection, if any. */
  error: Error | null = null;
  private readonly config: TlsConfig;
  private readonly allowHalfOpen: boolean;
  private readonly listeners = new Map<keyof TLSStreamEvents, Array<{ fn: (...args: any[]) => void; once: boolean }>>();
  private secureEstablished = false;
  private ended = false;
  private peerEnded = false;
  private wantDrain = false;
  private paused = false;
  private _destroyed = false;
  private _closed = false;
  private errorEmitted = false;

  constructor(options: ConnectOptions) {
    // Options first (they throw synchronously, as does a wasm module that is not loaded yet),
    // so that a bad call opens no WebSocket.
    const config = TlsConfig.client(options);
    this.config = config;
    this.allowHalfOpen = options.allowHalfOpen === true;
    let transport: Transport | undefined;
    try {
      transport = options.transport ?? (options.socket
        ? new WebSocketTransport(options.socket, { maxBuffered: options.maxBuffered })
        : options.url !== undefined
          ? new WebSocketTransport(options.url, { maxBuffered: options.maxBuffered, protocols: options.protocols })
          : undefined);
      if (!transport) throw new TypeError('connect() needs one of the options url, socket or transport');
      const host = options.host;
      this.engine = new TlsEngine(config, {
        servername: options.servername ?? (host && !isIpLike(host) ? host : undefined),
        host: options.servername ?? host ?? 'localhost',
        session: options.session,
      });
    } catch (e) {
      config.dispose();
      transport?.destroy();
      throw e;
    }
    this.transport = transport;
    this.pump = new Pump(this.engine, transport, this.host(), {
      highWaterMark: options.highWaterMark ?? 64 * 1024,
      handshakeTimeout: options.handshakeTimeout ?? 0,
    });
  }

  // ---- events ------------------------------------------------------------------------------

  on<K extends keyof TLSStreamEvents>(event: K, fn: Listener<K>): this {
    return this.add(event, fn, false);
  }

  once<K extends keyof TLSStreamEvents>(event: K, fn: Listener<K>): this {
    return this.add(event, fn, true);
  }

  off<K extends keyof TLSStreamEvents>(event: K, fn: Listener<K>): this {
    const list = this.listeners.get(event);
    const i = list ? list.findIndex((l) => l.fn === fn) : -1;
    if (i >= 0) list!.splice(i, 1);
    return this;
  }

  private add(event: keyof TLSStreamEvents, fn: (...args: any[]) => void, once: boolean): this {
    let list = this.listeners.get(event);
    if (!list) this.listeners.set(event, list = []);
    list.push({ fn, once });
    return this;
  }

  private emit<K extends keyof TLSStreamEvents>(event: K, ...args: TLSStreamEvents[K]): boolean {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const l of [...list]) {
      if (l.once) this.off(event, l.fn as Listener<K>);
      // A throwing listener must not unwind the pump mid-run: report it as uncaught instead.
      try { l.fn(...args); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
    return true;
  }

  // ---- pump host ---------------------------------------------------------------------------

  private host(): PumpHost {
    return {
      onSecure: () => {
        const e = this.engine;
        this.secureEstablished = true;
        this.authorized = e.authorized;
        this.authorizationError = e.authorizationError;
        this.alpnProtocol = e.alpnProtocol;
        this.emit('secureConnect');
      },
      onPlaintext: (data) => {
        this.emit('data', data);
        return !this.paused;
      },
      onPeerEnd: () => {
        this.peerEnded = true;
        this.emit('end');
        if (!this.allowHalfOpen) this.end();
      },
      onEngineEvent: (ev: EngineEvent) => {
        if (ev.type === 'session') this.emit('session', ev.session);
      },
      onQueueBelowHighWater: () => {
        if (!this.wantDrain) return;
        this.wantDrain = false;
        this.emit('drain');
      },
      onError: (err: TlsError | Error) => this.destroy(err),
      onClose: (err?: Error) => {
        this._destroyed = true;
        this._closed = true;
        this.config.dispose();
        const error = this.error ?? err ?? null;
        this.error = error;
        if (error && !this.errorEmitted) this.emitError(error);
        this.emit('close', error !== null);
      },
    };
  }

  private emitError(error: Error): void {
    this.errorEmitted = true;
    // As node: an 'error' nobody listens for is thrown (asynchronously: never into the pump).
    if (!this.emit('error', error)) queueMicrotask(() => { throw error; });
  }

  // ---- application side --------------------------------------------------------------------

  /** Queues plaintext; false when the queue is at its high-water mark (wait for 'drain'). */
  write(data: Uint8Array | string): boolean {
    if (this._destroyed || this.ended) {
      const err = new Error(this.ended ? 'write after end' : 'write after the connection was destroyed');
      queueMicrotask(() => this.emitError(err));
      return false;
    }
    // The pump keeps the chunk until it is encrypted; copy so callers may reuse their buffer.
    const bytes = typeof data === 'string' ? encoder.encode(data) : data.slice();
    const ok = this.pump.write(bytes);
    if (!ok) this.wantDrain = true;
    return ok;
  }

  /** Writes `data` (if any), then close_notify, then closes the transport. */
  end(data?: Uint8Array | string): this {
    if (this.ended || this._destroyed) return this;
    if (data !== undefined) this.write(data);
    this.ended = true;
    this.pump.end();
    return this;
  }

  /** Tears the connection down now ('error' first when `error` is given, then 'close'). */
  destroy(error?: Error): this {
    if (this._destroyed) return this;
    this._destroyed = true;
    if (error) this.error = error;
    this.pump.destroy(error);
    return this;
  }

  /** Stops 'data' events (and, once nothing else needs inbound bytes, reading the transport). */
  pause(): this {
    this.paused = true;
    this.pump.pauseReading();
    return this;
  }

  resume(): this {
    if (!this.paused) return this;
    this.paused = false;
    this.pump.resumeReading();
    return this;
  }

  // ---- connection facts --------------------------------------------------------------------

  get secure(): boolean { return this.secureEstablished; }
  get destroyed(): boolean { return this._destroyed; }
  get closed(): boolean { return this._closed; }
  get readableEnded(): boolean { return this.peerEnded; }
  get writableEnded(): boolean { return this.ended; }

  getProtocol(): string | null {
    return this.engine.disposed ? null : this.engine.protocol;
  }

  getCipher(): CipherInfo | undefined {
    return this.engine.disposed ? undefined : this.engine.cipher ?? undefined;
  }

  getPeerCertificate(): PeerCertificate | null {
    if (!this.secureEstablished || this.engine.disposed) return null;
    return this.engine.peerCertificates()[0] ?? null;
  }

  getSession(): Uint8Array | undefined {
    return this.engine.disposed ? undefined : this.engine.session() ?? undefined;
  }

  isSessionReused(): boolean {
    return !this.engine.disposed && this.engine.sessionReused;
  }
}

/**
 * Opens a TLS connection (node:tls's connect(), for browsers). The wasm module must be loaded
 * first: `await ready(urlOrBytes)`. `onSecureConnect` is added as a 'secureConnect' listener.
 */
export function connect(options: ConnectOptions, onSecureConnect?: () => void): TLSStream {
  const stream = new TLSStream(options);
  if (onSecureConnect) stream.once('secureConnect', onSecureConnect);
  return stream;
}

function isIpLike(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
