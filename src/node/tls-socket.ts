/**
 * TLSSocket: node:tls's TLSSocket, as a Duplex over any Duplex (a net.Socket for connect() and
 * servers; anything else for tunnels and tests), driven by the pump.
 *
 * Ownership: the socket owns its pump, the pump its engine; the engine is freed exactly once
 * when the underlying transport closes (destroy() leads there too).
 */
import { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { TlsConfig, type SecureOptions } from '../engine/config.js';
import { TlsEngine, type EngineEvent } from '../engine/tls-engine.js';
import { bytesEqual } from '../engine/der.js';
import { parseCertificate, parseCertificateInfo, toPeerCertificate, type CertificateInfo, type PeerCertificate } from '../engine/x509.js';
import { TlsError } from '../errors/tls-error.js';
import type { Counters } from '../scheduler/counters.js';
import { Pump, type PumpHost } from '../scheduler/pump.js';
import { StreamTransport, type DuplexLike } from '../transport/stream.js';
import { readIntoSharedBuffer } from './shared-read-buffer.js';
import type { Transport } from '../transport/transport.js';
import { nodeHash } from './node-hash.js';
import { SecureContext, createSecureContext } from './secure-context.js';
import './wasm-source.js';

export type SNICallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;

export interface TLSSocketOptions extends SecureOptions {
  isServer?: boolean;
  secureContext?: SecureContext;
  servername?: string;
  /** Client: host the certificate is checked against (default: servername, then 'localhost'). */
  host?: string;
  session?: Uint8Array;
  SNICallback?: SNICallback;
  handshakeTimeout?: number;
  allowHalfOpen?: boolean;
  highWaterMark?: number;
  /**
   * Emit 'keylog' events (NSS key log lines: the session's secrets) from the start. Off by
   * default, so that secrets never leave the wasm heap for nobody; adding a 'keylog' listener
   * turns it on from then on (as node:tls), and a Server sets it for its connections when it
   * has 'keylog' listeners.
   */
  enableKeylog?: boolean;
  /** Advanced: a Transport instead of a Duplex (memory pairs, fault transports, WebSockets). */
  transport?: Transport;
  /** Counters of the server this socket belongs to. */
  parentCounters?: Counters;
  /**
   * Advanced: the engine's outbound ciphertext limit in bytes (default 64 KiB); beyond it
   * mbedTLS sees WANT_WRITE and the write waits for the transport to drain.
   */
  outboundLimit?: number;
}

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

export class TLSSocket extends Duplex {
  readonly encrypted = true;
  authorized = false;
  authorizationError: string | null = null;
  alpnProtocol: string | false = false;
  servername: string | false = false;
  /** The raw stream under this socket (undefined for a bare Transport). */
  readonly rawSocket: DuplexLike | undefined;
  readonly engine: TlsEngine;
  readonly pump: Pump;
  private readonly isServerSide: boolean;
  private secureEstablished = false;
  private pendingWriteCb: ((err?: Error | null) => void) | null = null;
  private ownsContext: SecureContext | null = null;
  private readonly context: SecureContext;
  /** Server: the context an SNICallback chose for this connection. */
  private sniContext: SecureContext | undefined;
  private keylogEnabled: boolean;
  private _timeoutMs = 0;
  private _timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  private peerEndPushed = false;
  /** Called when the connection becomes idle after work (set by Server.shutdown). */
  idleHook: (() => void) | null = null;

  constructor(socket: DuplexLike | null | undefined, options: TLSSocketOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen === true, highWaterMark: options.highWaterMark });
    this.isServerSide = options.isServer === true;
    let context = options.secureContext;
    if (!context) {
      context = createSecureContext(options, this.isServerSide);
      this.ownsContext = context;
    }
    this.context = context;
    const config = context.config(this.isServerSide);
    // A net.Socket reads into one buffer all connections share, where node lets us (see
    // shared-read-buffer.ts); otherwise it reads every chunk into a new buffer and never touches
    // it again. It keeps no reference to a chunk its write(2) took at once.
    const net = socket instanceof Socket;
    const transport = options.transport ?? (socket ? new StreamTransport(socket, {
      freshChunks: net, releasesWrites: net,
      borrowReads: net ? (deliver) => readIntoSharedBuffer(socket, deliver) : undefined,
    }) : undefined);
    if (!transport) throw new TlsError('ERR_TLS_INVALID_OPTION', 'local', 'Invalid option "socket": a Duplex or a transport is required', { option: 'socket' });
    this.rawSocket = socket ?? undefined;
    this.keylogEnabled = options.enableKeylog === true;
    const host = options.host;
    this.engine = new TlsEngine(config, {
      servername: this.isServerSide ? undefined : options.servername ?? (host && !isIpLike(host) ? host : undefined),
      host: this.isServerSide ? undefined : options.servername ?? host ?? 'localhost',
      // node:tls ignores a null / false session (code that passes `session: cache.get(host)`)
      session: options.session ? options.session : undefined,
      keylog: this.keylogEnabled,
      outboundLimit: options.outboundLimit,
      // Plaintext overwrites every byte: no zero-filling first (node:tls's reads do the same).
      allocate: (length) => Buffer.allocUnsafe(length),
    });
    // A 'keylog' listener added after construction (node:tls allows it) turns key export on
    // from then on; without any listener no secret ever leaves the wasm.
    this.on('newListener', (event: string | symbol) => {
      if (event !== 'keylog' || this.keylogEnabled || this.engine.disposed) return;
      this.keylogEnabled = true;
      this.engine.enableKeylog();
    });
    const sni = options.SNICallback;
    this.pump = new Pump(this.engine, transport, this.host(), {
      highWaterMark: options.highWaterMark ?? 64 * 1024,
      handshakeTimeout: options.handshakeTimeout ?? 0,
      parentCounters: options.parentCounters,
      onIdle: () => this.idleHook?.(),
      sniResolver: this.isServerSide && sni ? (name) => new Promise<TlsConfig | null>((resolve, reject) => {
        if (name === undefined) { resolve(null); return; }
        sni(name, (err, ctx) => {
          if (err) reject(err);
          else { this.sniContext = ctx ?? undefined; resolve(ctx ? ctx.config(true) : null); }
        });
      }) : undefined,
    });
  }

  // ---- pump host ---------------------------------------------------------------------------

  private host(): PumpHost {
    return {
      onSecure: () => this.onSecure(),
      onPlaintext: (data) => { this.touch(); return this.push(toBuffer(data)); },
      onPeerEnd: () => {
        this.peerEndPushed = true;
        this.push(null);
        // As net.Socket at EOF: with nothing left unread, 'end' (and then 'close') follows even
        // when the application never reads; without it a socket nobody reads never closes.
        this.read(0);
      },
      onEngineEvent: (ev) => this.onEngineEvent(ev),
      onQueueBelowHighWater: () => {
        const cb = this.pendingWriteCb;
        this.pendingWriteCb = null;
        cb?.();
      },
      onError: (err) => this.destroy(err),
      onClose: (err) => {
        this.clearIdleTimer();
        this.ownsContext?.dispose();
        this.ownsContext = null;
        const cb = this.pendingWriteCb;
        this.pendingWriteCb = null;
        if (!this.destroyed) {
          // A clean close after both directions ended: the readable side still holds data the
          // application has not consumed; 'end' and then autoDestroy follow once it does.
          const cleanEnd = !err && this.peerEndPushed && this.writableEnded;
          if (!cleanEnd) this.destroy(err);
        }
        cb?.(err ?? new TlsError('ERR_TLS_INVALID_STATE', 'local', 'the connection closed before the write was sent'));
      },
    };
  }

  private onSecure(): void {
    const e = this.engine;
    this.secureEstablished = true;
    this.authorized = e.authorized;
    this.authorizationError = e.authorizationError;
    this.alpnProtocol = e.alpnProtocol;
    this.servername = e.servername;
    this.emit('secure');
    if (!this.isServerSide) this.emit('secureConnect');
  }

  private onEngineEvent(ev: EngineEvent): void {
    if (ev.type === 'session') this.emit('session', toBuffer(ev.session));
    else if (ev.type === 'keylog' && this.keylogEnabled) this.emit('keylog', Buffer.from(ev.line + '\n'));
  }

  // ---- Duplex ------------------------------------------------------------------------------

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.touch();
    // The callback runs before the bytes are all encrypted, and callers may reuse their buffer
    // once it has: lent to the pump, which encrypts the whole records at once and copies the rest.
    if (this.pump.write(chunk, true)) cb();
    else if (this.pump.isDead) cb(this.engine.error ?? new TlsError('ERR_TLS_INVALID_STATE', 'local', 'write after the connection closed'));
    else this.pendingWriteCb = cb;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    let ok = true;
    this.touch();
    for (const { chunk } of chunks) ok = this.pump.write(chunk, true);
    if (ok) cb();
    else if (this.pump.isDead) cb(this.engine.error ?? new TlsError('ERR_TLS_INVALID_STATE', 'local', 'write after the connection closed'));
    else this.pendingWriteCb = cb;
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.pump.end((err) => cb(err ?? null));
  }

  override _read(): void {
    this.pump.resumeReading();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.clearIdleTimer();
    // The pump frees the engine now; the context this socket made goes with it, so that by
    // 'close' the socket's wasm memory is back.
    this.pump.destroy(err ?? undefined);
    this.ownsContext?.dispose();
    this.ownsContext = null;
    cb(err);
  }

  // ---- node:tls members --------------------------------------------------------------------

  getPeerCertificate(detailed = false): DetailedPeerCertificate | Record<string, never> | null {
    if (!this.secureEstablished) return null;
    if (this.engine.disposed) return {};
    const chain = this.engine.peerCertificates();
    if (chain.length === 0) return {};
    if (!detailed) return { ...chain[0]! };
    return withIssuers(chain, this.context.trustAnchors(this.isServerSide));
  }

  /** The local certificate as getPeerCertificate() shows certificates; {} when there is none. */
  getCertificate(): PeerCertificate | Record<string, never> | null {
    if (!this.secureEstablished) return null;
    const ctx = this.sniContext ?? this.context;
    const der = ctx.ownCertificate(this.isServerSide && !this.sniContext && this.servername ? this.servername : undefined);
    return der ? parseCertificate(der, nodeHash) : {};
  }

  getProtocol(): string | null {
    return this.engine.disposed ? null : this.engine.protocol;
  }

  getCipher(): { name: string; standardName: string; version: string } | undefined {
    if (this.engine.disposed) return undefined;
    return this.engine.cipher ?? undefined;
  }

  getSession(): Buffer | undefined {
    if (this.engine.disposed) return undefined;
    const s = this.engine.session();
    return s ? toBuffer(s) : undefined;
  }

  isSessionReused(): boolean {
    return !this.engine.disposed && this.engine.sessionReused;
  }

  /** Client: the ephemeral key exchange as node:tls reports it ({} when there was none). */
  getEphemeralKeyInfo(): { type: 'ECDH'; name: string; size: number } | Record<string, never> | null {
    if (this.isServerSide) return null;
    const kx = this.engine.disposed ? null : this.engine.keyExchange;
    return kx ? { type: 'ECDH', name: kx.name, size: kx.size } : {};
  }

  /** node:net's idle timeout: 'timeout' after ms without activity (0 disables). */
  setTimeout(ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    this._timeoutMs = ms;
    this.touch();
    return this;
  }

  setNoDelay(noDelay = true): this {
    (this.rawSocket as Partial<Socket> | undefined)?.setNoDelay?.(noDelay);
    return this;
  }

  setKeepAlive(enable = false, delay = 0): this {
    (this.rawSocket as Partial<Socket> | undefined)?.setKeepAlive?.(enable, delay);
    return this;
  }

  ref(): this {
    (this.rawSocket as Partial<Socket> | undefined)?.ref?.();
    return this;
  }

  unref(): this {
    (this.rawSocket as Partial<Socket> | undefined)?.unref?.();
    return this;
  }

  address(): ReturnType<Socket['address']> | {} {
    return (this.rawSocket as Partial<Socket> | undefined)?.address?.() ?? {};
  }

  get remoteAddress(): string | undefined { return (this.rawSocket as Partial<Socket> | undefined)?.remoteAddress; }
  get remotePort(): number | undefined { return (this.rawSocket as Partial<Socket> | undefined)?.remotePort; }
  get remoteFamily(): string | undefined { return (this.rawSocket as Partial<Socket> | undefined)?.remoteFamily; }
  get localAddress(): string | undefined { return (this.rawSocket as Partial<Socket> | undefined)?.localAddress; }
  get localPort(): number | undefined { return (this.rawSocket as Partial<Socket> | undefined)?.localPort; }
  get connecting(): boolean { return !this.secureEstablished && !this.destroyed; }
  get pending(): boolean { return !this.secureEstablished; }
  get bytesWritten(): number { return this.pump.counters.values.bytesOut; }
  get bytesRead(): number { return this.pump.counters.values.bytesIn; }
  get readyState(): string {
    if (this.destroyed) return 'closed';
    if (!this.secureEstablished) return 'opening';
    if (this.readableEnded) return this.writableEnded ? 'closed' : 'writeOnly';
    return this.writableEnded ? 'readOnly' : 'open';
  }
  /** True once the handshake completed (node:tls's internal name, used by some libraries). */
  get _secureEstablished(): boolean { return this.secureEstablished; }
  get isServer(): boolean { return this.isServerSide; }

  private touch(): void {
    // No timer for a closed socket (http and others call setTimeout() during teardown too).
    if (this._timeoutMs <= 0 || this.destroyed || this.pump.isDead) { this.clearIdleTimer(); return; }
    if (this._timeoutTimer) { this._timeoutTimer.refresh(); return; }
    this._timeoutTimer = setTimeout(() => {
      this._timeoutTimer = undefined;
      if (!this.destroyed) this.emit('timeout');
    }, this._timeoutMs);
    // As node's socket timeouts: an idle timer alone does not keep the process alive.
    this._timeoutTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this._timeoutTimer) { clearTimeout(this._timeoutTimer); this._timeoutTimer = undefined; }
  }
}

/** getPeerCertificate(true): a certificate and, through issuerCertificate, its issuers. */
export type DetailedPeerCertificate = PeerCertificate & { issuerCertificate?: DetailedPeerCertificate };

/** No real chain is longer; a bound against cross-signed loops among the CAs. */
const MAX_CHAIN = 16;

/**
 * node's issuer chain: each certificate's issuerCertificate is its issuer, looked up by name
 * among the certificates the peer sent, then among the trusted CAs (peers usually leave the
 * root out, and node reports it from its trust store). A self-issued certificate is its own
 * issuer (the cycle node makes); where no issuer is known the chain ends without one.
 */
function withIssuers(sent: readonly PeerCertificate[], anchors: readonly CertificateInfo[]): DetailedPeerCertificate {
  const pool = sent.map((c) => ({ cert: { ...c } as DetailedPeerCertificate, info: parseCertificateInfo(c.raw) }));
  const used = new Set<CertificateInfo>();
  let cur = pool[0]!;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    used.add(cur.info);
    if (cur.info.selfIssued) { cur.cert.issuerCertificate = cur.cert; break; }
    const issuedBy = (info: CertificateInfo) => !used.has(info) && bytesEqual(info.subjectDer, cur.info.issuerDer);
    let next = pool.find((p) => issuedBy(p.info));
    if (!next) {
      const anchor = anchors.find(issuedBy);
      if (!anchor) break;
      next = { cert: toPeerCertificate(anchor, nodeHash), info: anchor };
    }
    cur.cert.issuerCertificate = next.cert;
    cur = next;
  }
  return pool[0]!.cert;
}

function isIpLike(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
