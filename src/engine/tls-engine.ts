/**
 * TlsEngine: one mbedTLS connection, sans-IO.
 *
 * Theory of operation
 * -------------------
 * The engine never touches a socket, a timer or a promise. Its owner moves bytes:
 *   feed(bytes)        ciphertext that arrived from the peer (appended to the wasm inbound queue)
 *   takeOutbound()     ciphertext to send (drained from the wasm outbound queue)
 * and runs operations, each of which returns a Step value instead of throwing:
 *   handshake(), write(data), read(), close(), flush()
 *   'done'        the operation finished (read: `data` holds plaintext)
 *   'want-read'   it cannot go on until more ciphertext is fed
 *   'want-write'  it cannot go on until outbound ciphertext is taken (the queue is at its limit)
 *   'closed'      the connection is closed for this operation (peer close_notify for read)
 *   'failed'      a fatal error; `error` holds it. Errors are sticky: every later operation
 *                 returns 'failed' at once, and feed() discards input, so a failed engine never
 *                 consumes input or loops. Bytes already queued outbound (e.g. the fatal alert
 *                 mbedTLS wrote) can and should still be taken and sent.
 * `want` reports the direction the last blocked operation is waiting for, so a scheduler can
 * retry it on exactly that readiness.
 *
 * The mbedTLS contracts the engine upholds so its owner does not have to:
 * - mbedtls_ssl_write that returned WANT_* must be retried with the same buffer and length.
 *   The engine takes ownership of that record's plaintext (a private copy), counts it as
 *   written, and retries it itself (flush(), or before the next write/close) with the same
 *   bytes and length. Nothing is duplicated, reordered or lost.
 * - Outbound bytes produced by a call that returned WANT_* stay queued and are handed out by
 *   takeOutbound() like any others.
 * - mbedtls_ssl_write writes at most one record (16384 bytes in TLS 1.2, 16383 in TLS 1.3,
 *   less with a negotiated max_fragment_length); write() hands it at most that much per call
 *   (so a started record is exactly the bytes the engine keeps), loops over records and
 *   reports how much it took.
 * - mbedtls_ssl_read can return WANT_READ after consuming a non-application record
 *   (NewSessionTicket, a warning alert, an empty application data record) while more input is
 *   queued, or 0 for the second of two empty records; read() retries as long as the previous
 *   call made progress, so buffered input is never left unread, and stops as soon as a call
 *   makes none (no loop without progress).
 * - Failures mbedTLS does not tell the peer about (a malformed or oversized record header, a
 *   TLS 1.2 client certificate missing when required) get their alert from the engine, so the
 *   peer fails too instead of waiting.
 * - Sessions (client): mbedTLS exports each session once and its TLS 1.3 sessions hold no
 *   certificate, so the engine keeps the latest one (session() can be called any number of
 *   times) and wraps it with the server's chain and its verification result; a resumed
 *   connection reports the identity verified when the session was made. sessionReused is
 *   true only when the server accepted the session.
 * - park() never runs while ciphertext waits in either queue (parking releases the queues).
 * - Writes before the handshake completed run the handshake first (and so report want-read
 *   while it is in progress); application data is never encrypted before the client has
 *   verified the server (verification runs in JS right after the handshake, as in node:tls).
 */
import { ALERT_NAMES, fromMbedtls, misuse, TlsError } from '../errors/tls-error.js';
import { RC, type BytePtr, type ConnPtr } from '../wasm/ffi.js';
import type { WasmLib } from '../wasm/module.js';
import { GROUPS, suiteById, versionName, type CipherSuite, type Group, type TlsVersion } from './ciphers.js';
import type { TlsConfig } from './config.js';
import { checkServerIdentity as defaultCheckServerIdentity } from './identity.js';
import { concatBytes } from './der.js';
import { verificationError } from './verify.js';
import { parseCertificate, type PeerCertificate } from './x509.js';

export type Step = 'done' | 'want-read' | 'want-write' | 'closed' | 'failed';
export type Want = 'read' | 'write' | 'none';
export type EngineState = 'handshaking' | 'open' | 'closing' | 'closed' | 'failed';

export interface EngineOptions {
  /** Client: server name to send as SNI (not sent for IP addresses). */
  servername?: string;
  /** Client: the name or address to check the certificate against (default: servername). */
  host?: string;
  /**
   * Client: a session from `session()` / a 'session' event, to resume. Ignored (full
   * handshake) when it does not load or was made for another server name.
   */
  session?: Uint8Array;
  /** Collect NSS key log lines as 'keylog' events. */
  keylog?: boolean;
  /** Outbound ciphertext queue limit in bytes; beyond it mbedTLS sees WANT_WRITE. */
  outboundLimit?: number;
  /**
   * Makes the buffer for `length` bytes of plaintext that read() returns (when no `into` fits):
   * by default a new Uint8Array. Every byte of it is overwritten, so an allocator that skips
   * zero-filling is safe (node: Buffer.allocUnsafe, as node:tls's own reads).
   */
  allocate?: (length: number) => Uint8Array;
}

export type EngineEvent =
  | { type: 'session'; session: Uint8Array }
  | { type: 'keylog'; line: string };

export interface CipherInfo { name: string; standardName: string; version: TlsVersion }

/** Outbound ciphertext queue limit unless options.outboundLimit sets one. */
const DEFAULT_OUTBOUND_LIMIT = 64 * 1024;
/** A record's worth of plaintext per mbedtls_ssl_write / mbedtls_ssl_read call. */
const RECORD = 16384;
/**
 * One read() returns up to this much plaintext, from as many queued records as it takes. Not
 * more: each result is a buffer the garbage collector frees later, in bursts, and glibc checks
 * whether to trim its heap on every free of 64 KiB or more (FASTBIN_CONSOLIDATION_THRESHOLD).
 * With 64 KiB results, a server receiving hundreds of MB/s had its heap top trimmed and faulted
 * back in over and over (seen: 7,000-12,000 page faults per 256 MiB in every process, ~20% more
 * CPU); with 16 KiB, as node:tls's reads, 50-250.
 */
const READ_BATCH = RECORD;
/** MBEDTLS_ERR_SSL_INVALID_RECORD, MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE */
const INVALID_RECORD = -0x7200;
const NO_CLIENT_CERTIFICATE = -0x7480;
/** MBEDTLS_ERR_SSL_BAD_INPUT_DATA: while reading, a record header longer than the input buffer. */
const SSL_BAD_INPUT_DATA = -0x7100;
/** Signature verification failures: ECP, RSA, PK (length mismatch), PSA invalid signature. */
const SIGNATURE_CODES = new Set([-0x4E00, -0x4380, -0x3900, -0x0095]);
/** Allocation failures of the crypto, X.509, PK, ASN.1 and PEM modules: always local. */
const ALLOC_CODES = new Set([-0x0010, -0x4D80, -0x3F80, -0x2880, -0x006A, -0x1180, -0x4180, -0x6180, -0x5180]);
const decoder = new TextDecoder();

function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

export class TlsEngine implements Disposable {
  readonly isServer: boolean;
  private conn: ConnPtr;
  private readonly lib: WasmLib;
  private readonly config: TlsConfig;
  private readonly host: string | undefined;
  private readonly sentServername: string | undefined;
  private err: TlsError | null = null;
  private handshakeDone = false;
  private lastWant: Want = 'none';
  /** Plaintext of a record mbedtls_ssl_write is part-way through (same bytes, same length). */
  private pending: Uint8Array | null = null;
  private events: EngineEvent[] = [];
  private keylog: boolean;
  /** Outbound ciphertext the engine holds before mbedTLS sees WANT_WRITE. */
  readonly outboundLimit: number;
  private readonly allocate: (length: number) => Uint8Array;
  private _peerClosed = false;
  private _localClosed = false;
  /** A read result met after plaintext in the same read() call, handled by the next call. */
  private stashedReadRc: number | null = null;
  private _authorized = false;
  private _authorizationError: string | null = null;
  private peerCertCache: PeerCertificate[] | null = null;
  /** Client: the session offered for resumption (decoded from options.session). */
  private offered: SavedSession | null = null;
  /** Client: the latest session serialised (mbedTLS exports each session only once). */
  private savedSession: Uint8Array | null = null;
  /** Whether the handshake resumed a session (decided when it completes). */
  private reused = false;
  /** Client: the chain verification flags of this connection (or of the session it resumed). */
  private verifyFlags = 0;
  /** Client, TLS 1.2: the call that completed the handshake also wrote (its Finished came last). */
  private finishedLast = false;

  constructor(config: TlsConfig, options: EngineOptions = {}) {
    this.lib = config.lib;
    this.config = config;
    this.isServer = config.isServer;
    const cfg = config.ptr; // throws on a disposed config
    const x = this.lib.x;
    const conn = x.tlsw_conn_new(cfg);
    if (conn === 0) throw new TlsError('ERR_TLS_ALLOC_FAILED', 'local', 'could not allocate a TLS connection');
    this.conn = conn;
    this.keylog = options.keylog === true;
    this.outboundLimit = options.outboundLimit ?? DEFAULT_OUTBOUND_LIMIT;
    this.allocate = options.allocate ?? ((length) => new Uint8Array(length));
    try {
      if (!Number.isInteger(this.outboundLimit) || this.outboundLimit < 1) {
        throw new TlsError('ERR_TLS_INVALID_OPTION', 'local', 'Invalid option "outboundLimit": expected a positive integer', { option: 'outboundLimit' });
      }
      x.tlsw_conn_set_out_limit(conn, this.outboundLimit);
      if (this.keylog) x.tlsw_conn_set_keylog(conn, 1);
      if (!this.isServer) {
        const sn = options.servername;
        if (sn !== undefined && typeof sn !== 'string') {
          throw new TlsError('ERR_TLS_INVALID_OPTION', 'local', 'Invalid option "servername": expected a string', { option: 'servername' });
        }
        this.host = options.host ?? sn;
        // SNI is never an IP address (RFC 6066); mbedTLS also checks the name it was given, but
        // the identity decision is made in JS by checkServerIdentity, as node:tls does.
        this.sentServername = sn && !isIp(sn) ? sn : undefined;
        const rc = this.lib.withCString(this.sentServername ?? null, (p) => x.tlsw_conn_set_hostname(conn, p));
        if (rc !== 0) throw this.mbedError(rc, 'servername');
        if (options.session !== undefined) {
          if (!(options.session instanceof Uint8Array)) {
            throw new TlsError('ERR_TLS_INVALID_OPTION', 'local', 'Invalid option "session": expected bytes from session()', { option: 'session' });
          }
          // A session that does not load (corrupt, other build, another server name) is
          // ignored: full handshake. mbedTLS refuses to start a TLS 1.3 handshake (a local
          // error) when the session's server name differs from this connection's.
          const saved = decodeSession(options.session);
          if (saved && saved.servername === (this.sentServername ?? '')) {
            const rc = this.lib.withBytes(saved.mbedtls, (p, len) => x.tlsw_conn_session_load(conn, p, len), false, true);
            if (rc === 0) this.offered = saved;
          }
        }
      }
    } catch (e) {
      x.tlsw_conn_free(conn);
      this.conn = 0 as ConnPtr;
      throw e;
    }
  }

  // ---- byte movement --------------------------------------------------------------------------

  /** Queues inbound ciphertext. Returns the number of bytes accepted (0 once failed or closed). */
  feed(data: Uint8Array): number {
    const conn = this.ptr;
    if (this.err || data.length === 0 || (this._peerClosed && this._localClosed)) return 0;
    const p = this.lib.x.tlsw_conn_in_reserve(conn, data.length);
    if (p === 0) {
      this.fail(new TlsError('ERR_TLS_ALLOC_FAILED', 'local', 'inbound buffer allocation failed'));
      return 0;
    }
    this.lib.u8.set(data, p);
    this.lib.x.tlsw_conn_in_commit(conn, data.length);
    return data.length;
  }

  /** The peer's transport ended (EOF). Before the handshake completed this is fatal. */
  feedEnd(): void {
    void this.ptr; // throws after dispose(), like every other operation
    if (this.err || this.handshakeDone) return;
    this.fail(new TlsError('ERR_TLS_HANDSHAKE_EOF', 'peer', 'the peer closed the connection before the TLS handshake completed'));
  }

  get inboundLength(): number {
    return this.conn === 0 ? 0 : this.lib.x.tlsw_conn_in_len(this.conn);
  }

  get outboundLength(): number {
    return this.conn === 0 ? 0 : this.lib.x.tlsw_conn_out_len(this.conn);
  }

  /**
   * Takes up to `max` bytes of outbound ciphertext, or null when there is none: a new buffer, or
   * with `into`, as much as fits written there and a view of it returned (a caller that passes
   * the ciphertext on at once can reuse one buffer).
   */
  takeOutbound(max = Infinity, into?: Uint8Array): Uint8Array | null {
    const conn = this.ptr;
    const x = this.lib.x;
    const len = Math.min(x.tlsw_conn_out_len(conn), max, into ? into.length : Infinity);
    if (len <= 0) return null;
    const out = this.lib.copyOut(x.tlsw_conn_out_ptr(conn), len, into);
    x.tlsw_conn_out_consume(conn, len);
    return out;
  }

  // ---- operations --------------------------------------------------------------------------------

  handshake(): Step {
    const conn = this.ptr;
    if (this.err) return 'failed';
    if (this.handshakeDone) return 'done';
    const outBefore = this.lib.x.tlsw_conn_out_len(conn);
    const rc = this.lib.x.tlsw_conn_handshake(conn);
    this.collectKeylog();
    if (rc !== 0) return this.blocked(rc, 'handshake');
    this.finishedLast = this.lib.x.tlsw_conn_out_len(conn) > outBefore;
    return this.finishHandshake();
  }

  /**
   * Encrypts as much of `data` as the outbound queue allows. `written` counts the bytes the
   * engine has taken responsibility for (a record part-way through is retried by the engine).
   * `data` may be a list of pieces that together fit one record (maxPayload bytes): they are
   * gathered into one record without being joined in JS first.
   */
  write(data: Uint8Array | readonly Uint8Array[]): { step: Step; written: number } {
    this.ptr;
    this.settleStashedFailure();
    if (this.err) return { step: 'failed', written: 0 };
    if (this._localClosed) return { step: 'closed', written: 0 };
    if (!this.handshakeDone) {
      const hs = this.handshake();
      if (hs !== 'done') return { step: hs, written: 0 };
    }
    const first = this.retryPending();
    if (first !== 'done') return { step: first, written: 0 };
    // Likewise a half-sent message that is not ours (a post-handshake message or an alert
    // written by a read): with output pending, mbedtls_ssl_write only flushes it and reports
    // the new data as written without encrypting it.
    const unsent = this.flushStarted('write');
    if (unsent !== 'done') return { step: unsent, written: 0 };
    // mbedtls_ssl_write takes at most one record's payload: 16384 bytes in TLS 1.2, 16383 in
    // TLS 1.3 (the inner content type byte), less with a negotiated max_fragment_length. A
    // record it started is exactly that long, so never hand it more than it will take.
    const max = this.maxPayload();
    if (!(data instanceof Uint8Array)) {
      const total = data.reduce((n, p) => n + p.length, 0);
      if (total <= max) {
        const r = this.writeRecord(data, total);
        if (r.step === 'done' && r.written === total) this.lastWant = 'none';
        return r;
      }
      data = concatBytes(data);
    }
    let written = 0;
    while (written < data.length) {
      const chunk = data.subarray(written, written + max);
      const r = this.writeRecord([chunk], chunk.length);
      written += r.written;
      if (r.step !== 'done') return { step: r.step, written };
    }
    this.lastWant = 'none';
    return { step: 'done', written };
  }

  /** One record from `parts` (`total` bytes, at most one record's payload). */
  private writeRecord(parts: readonly Uint8Array[], total: number): { step: Step; written: number } {
    if (total === 0) return { step: 'done', written: 0 };
    const p = this.lib.scratch(total);
    const rc = this.sslWrite(parts, p, total);
    if (rc > 0) return { step: 'done', written: rc };
    if (rc === RC.WANT_READ || rc === RC.WANT_WRITE) {
      // mbedTLS has started this record: it owns these exact bytes until a retry completes. A
      // copy out of the scratch buffer (the caller's pieces may be reused once we return).
      this.pending = this.lib.copyOut(p, total);
      return { step: this.blocked(rc, 'write'), written: total };
    }
    return { step: this.blocked(rc, 'write'), written: 0 };
  }

  /**
   * A fatal read error kept behind plaintext (see read()) fails the connection as soon as
   * anything but read() is asked of it: nothing is written after it. A kept close_notify stays
   * for read(): writing after the peer's close_notify is allowed.
   */
  private settleStashedFailure(): void {
    const rc = this.stashedReadRc;
    if (rc === null || rc === RC.PEER_CLOSE_NOTIFY) return;
    this.stashedReadRc = null;
    this.blocked(rc, 'read');
  }

  /** Finishes a record mbedTLS started (after want-read / want-write) and pushes out pending output. */
  flush(): Step {
    const conn = this.ptr;
    this.settleStashedFailure();
    if (this.err) return 'failed';
    const s = this.retryPending();
    if (s !== 'done') return s;
    const rc = this.lib.x.tlsw_conn_flush(conn);
    if (rc !== 0) return this.blocked(rc, 'flush');
    this.lastWant = 'none';
    return 'done';
  }

  /** True while a started record waits for its retry (flush()). */
  get hasPendingWrite(): boolean {
    return this.pending !== null;
  }

  /**
   * Decrypts the next plaintext available from queued input. With `into`, plaintext that fits
   * there is written there and `data` is a view of it; otherwise `data` is a new buffer.
   */
  read(into?: Uint8Array): { step: Step; data: Uint8Array | null } {
    const conn = this.ptr;
    if (this.err) return { step: 'failed', data: null };
    if (this._peerClosed) return { step: 'closed', data: null };
    if (!this.handshakeDone) {
      const hs = this.handshake();
      if (hs !== 'done') return { step: hs, data: null };
    }
    const x = this.lib.x;
    const buf = this.lib.scratch(READ_BATCH);
    // Bounded by progress: every iteration must consume input or surface an event.
    for (;;) {
      const before = x.tlsw_conn_in_len(conn);
      let rc: number;
      if (this.stashedReadRc !== null) {
        rc = this.stashedReadRc;
        this.stashedReadRc = null;
      } else {
        rc = x.tlsw_conn_read(conn, buf, READ_BATCH);
      }
      if (rc > 0) {
        // Go on decrypting what is already queued until READ_BATCH is full: one copy out and
        // one plaintext event for many small records instead of one each (mbedTLS keeps the
        // rest of a record that does not fit for the next call). A close_notify or an error
        // that ends the batch is kept for the next read(), which handles it exactly as if it had
        // come first: after the plaintext before it, with nothing reordered or lost.
        let len = rc;
        while (len < READ_BATCH && (x.tlsw_conn_in_len(conn) > 0 || x.tlsw_conn_check_pending(conn))) {
          const more = x.tlsw_conn_read(conn, (buf + len) as BytePtr, READ_BATCH - len);
          if (more > 0) { len += more; continue; }
          if (more === RC.RECEIVED_NEW_SESSION_TICKET) { this.emitSession(); continue; }
          // Only final results are kept; a want or an empty record (0) is simply met again, or
          // not, by the next mbedtls_ssl_read.
          if (more < 0 && more !== RC.WANT_READ && more !== RC.WANT_WRITE) this.stashedReadRc = more;
          break;
        }
        this.collectKeylog();
        return { step: 'done', data: this.lib.copyOut(buf, len, into && into.length >= len ? into : this.allocate(len)) };
      }
      if (rc === RC.RECEIVED_NEW_SESSION_TICKET) {
        this.emitSession();
        continue;
      }
      // WANT_READ after consuming a record without data (ticket, warning alert, empty record),
      // or 0: an empty application data record (peers may send them; mbedTLS returns 0 for
      // the second of two in a row). Either way, go on while input was consumed.
      if (rc === RC.WANT_READ || rc === 0) {
        const after = x.tlsw_conn_in_len(conn);
        if (after > 0 && after < before) continue; // consumed a record that held no data
        if (after < before && x.tlsw_conn_check_pending(conn)) continue;
        this.lastWant = 'read';
        return { step: 'want-read', data: null };
      }
      if (rc === RC.PEER_CLOSE_NOTIFY) {
        this._peerClosed = true;
        this.lastWant = 'none';
        return { step: 'closed', data: null };
      }
      return { step: this.blocked(rc, 'read'), data: null };
    }
  }

  /** Sends close_notify (after any started record). Idempotent. */
  close(): Step {
    const conn = this.ptr;
    this.settleStashedFailure();
    if (this.err) return 'failed';
    if (this._localClosed) return this.flush();
    const s = this.retryPending();
    if (s !== 'done') return s;
    if (!this.handshakeDone) {
      // Nothing to protect yet: a close before the handshake just stops (no alert owed).
      this._localClosed = true;
      this.lastWant = 'none';
      return 'done';
    }
    // A message mbedTLS has half-sent (a TLS 1.3 NewSessionTicket, an alert) must go first:
    // with output pending, mbedtls_ssl_close_notify only flushes it and reports success
    // without ever writing the close_notify.
    const unsent = this.flushStarted('close');
    if (unsent !== 'done') return unsent;
    const rc = this.lib.x.tlsw_conn_close_notify(conn);
    this._localClosed = true;
    if (rc !== 0) return this.blocked(rc, 'close');
    this.lastWant = 'none';
    return 'done';
  }

  /**
   * Releases the record buffers while idle (see wasm/shim.c). Returns true if it did. Never
   * while ciphertext waits in either queue: parking releases the queues too.
   */
  park(): boolean {
    if (this.conn === 0 || this.err || this.pending || !this.handshakeDone) return false;
    const x = this.lib.x;
    if (x.tlsw_conn_in_len(this.conn) !== 0 || x.tlsw_conn_out_len(this.conn) !== 0) return false;
    return x.tlsw_conn_park(this.conn) === 1;
  }

  get parked(): boolean {
    return this.conn !== 0 && this.lib.x.tlsw_conn_parked(this.conn) === 1;
  }

  // ---- state ------------------------------------------------------------------------------------

  get state(): EngineState {
    if (this.err) return 'failed';
    if (this.conn === 0 || (this._peerClosed && this._localClosed)) return 'closed';
    if (!this.handshakeDone) return 'handshaking';
    if (this._peerClosed || this._localClosed) return 'closing';
    return 'open';
  }

  /** The readiness the last blocked operation waits for. */
  get want(): Want {
    return this.err ? 'none' : this.lastWant;
  }

  get error(): TlsError | null {
    return this.err;
  }

  get handshakeComplete(): boolean {
    return this.handshakeDone;
  }

  get peerClosed(): boolean {
    return this._peerClosed;
  }

  get localClosed(): boolean {
    return this._localClosed;
  }

  /**
   * Starts collecting NSS key log lines from now on (as node:tls does when a 'keylog' listener
   * is added late): secrets of the handshake steps already run are not available any more.
   */
  enableKeylog(): void {
    const conn = this.ptr;
    if (this.keylog) return;
    this.keylog = true;
    this.lib.x.tlsw_conn_set_keylog(conn, 1);
  }

  /** Session ticket / keylog events since the last call. */
  takeEvents(): EngineEvent[] {
    const ev = this.events;
    this.events = [];
    return ev;
  }

  // ---- negotiated parameters --------------------------------------------------------------------

  get protocol(): TlsVersion | null {
    return this.handshakeDone && this.conn !== 0 ? versionName(this.lib.x.tlsw_conn_version(this.conn)) : null;
  }

  get cipher(): CipherInfo | null {
    if (!this.handshakeDone || this.conn === 0) return null;
    const s: CipherSuite | undefined = suiteById(this.lib.x.tlsw_conn_ciphersuite(this.conn));
    return s ? { name: s.name, standardName: s.standardName, version: s.version } : null;
  }

  /**
   * The group of this connection's (EC)DHE key exchange, with node:tls's names and key sizes
   * (getEphemeralKeyInfo); null before the handshake completed, or for a resumption that had
   * no key exchange.
   */
  get keyExchange(): Group['keyInfo'] | null {
    if (!this.handshakeDone || this.conn === 0) return null;
    const id = this.lib.x.tlsw_conn_group(this.conn);
    const g = GROUPS.find((x) => x.id === id);
    return g ? { ...g.keyInfo } : null;
  }

  get alpnProtocol(): string | false {
    if (!this.handshakeDone || this.conn === 0) return false;
    return this.lib.cstr(this.lib.x.tlsw_conn_alpn(this.conn)) ?? false;
  }

  /** Server: the SNI the client sent. Client: the SNI this engine sent. */
  get servername(): string | false {
    if (!this.isServer) return this.sentServername ?? false;
    if (this.conn === 0) return false;
    return this.lib.cstr(this.lib.x.tlsw_conn_sni(this.conn)) ?? false;
  }

  get sessionReused(): boolean {
    return this.reused;
  }

  get authorized(): boolean {
    return this._authorized;
  }

  get authorizationError(): string | null {
    return this._authorizationError;
  }

  /** The peer's certificate chain as sent, leaf first (DER). */
  peerCertificatesDer(): Uint8Array[] {
    if (this.conn === 0) return [];
    const x = this.lib.x;
    const n = x.tlsw_conn_peer_cert_count(this.conn);
    // A resumed TLS 1.3 session carries no certificate in mbedTLS: the chain verified when the
    // session was made travels in our session envelope instead.
    if (n === 0 && this.reused && this.offered) return this.offered.chain.map((c) => c.slice());
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(this.lib.copyOut(x.tlsw_conn_peer_cert_ptr(this.conn, i), x.tlsw_conn_peer_cert_len(this.conn, i)));
    return out;
  }

  /** The peer's chain parsed as node:tls reports it (leaf first); empty when none. */
  peerCertificates(): PeerCertificate[] {
    if (this.peerCertCache === null) {
      const hash = { sha256: (d: Uint8Array) => this.lib.sha256(d), sha1: (d: Uint8Array) => this.lib.sha1(d) };
      this.peerCertCache = this.peerCertificatesDer().map((der) => parseCertificate(der, hash));
    }
    return this.peerCertCache;
  }

  /**
   * Client: the latest session, serialised for resumption (null when there is none yet: TLS 1.3
   * sessions arrive after the handshake, as 'session' events). Can be called any number of times.
   */
  session(): Uint8Array | null {
    if (this.isServer || !this.handshakeDone) return null;
    return this.savedSession ? this.savedSession.slice() : null;
  }

  /** Server: use another config's certificates for this connection (SNICallback's result). */
  useCertificates(config: TlsConfig): void {
    this.lib.x.tlsw_conn_set_cert_cfg(this.ptr, config.ptr);
  }

  // ---- lifetime --------------------------------------------------------------------------------

  get disposed(): boolean {
    return this.conn === 0;
  }

  /** Frees the wasm connection. Safe to call more than once; any other use afterwards throws. */
  dispose(): void {
    if (this.conn === 0) return;
    this.lib.x.tlsw_conn_free(this.conn);
    this.conn = 0 as ConnPtr;
    this.pending = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- internals -------------------------------------------------------------------------------

  private get ptr(): ConnPtr {
    if (this.conn === 0) throw misuse('ERR_TLS_DISPOSED', 'TlsEngine used after dispose()');
    return this.conn;
  }

  /** Pushes out a record mbedTLS has started but not finished sending (ssl->out_left). */
  private flushStarted(op: string): Step {
    if (this.lib.x.tlsw_conn_out_left(this.conn) === 0) return 'done';
    const rc = this.lib.x.tlsw_conn_flush(this.conn);
    return rc === 0 ? 'done' : this.blocked(rc, op);
  }

  /** The largest plaintext one mbedtls_ssl_write call turns into a record. */
  private maxPayload(): number {
    const n = this.lib.x.tlsw_conn_max_payload(this.conn);
    return n > 0 ? Math.min(n, RECORD) : RECORD;
  }

  /** mbedtls_ssl_write of `parts` gathered at `p` in wasm memory (`total` bytes). */
  private sslWrite(parts: readonly Uint8Array[], p: BytePtr, total: number): number {
    const u8 = this.lib.u8;
    let off: number = p;
    for (const part of parts) { u8.set(part, off); off += part.length; }
    return this.lib.x.tlsw_conn_write(this.conn, p, total);
  }

  private retryPending(): Step {
    const chunk = this.pending;
    if (chunk === null) return 'done';
    const rc = this.sslWrite([chunk], this.lib.scratch(chunk.length), chunk.length);
    if (rc === chunk.length) {
      this.pending = null;
      return 'done';
    }
    if (rc > 0) {
      // mbedTLS completed fewer bytes than the record it started: cannot happen for a retry
      // with the same length; treat it as an internal error rather than lose data silently.
      return this.fail(new TlsError('ERR_TLS_INTERNAL', 'local', `write retry completed ${rc} of ${chunk.length} bytes`));
    }
    return this.blocked(rc, 'write');
  }

  /** Turns a non-success code into a Step, recording want or a sticky failure. */
  private blocked(rc: number, op: string): Step {
    if (rc === RC.WANT_READ) { this.lastWant = 'read'; return 'want-read'; }
    if (rc === RC.WANT_WRITE) { this.lastWant = 'write'; return 'want-write'; }
    if (rc === RC.PEER_CLOSE_NOTIFY) {
      this._peerClosed = true;
      if (!this.handshakeDone) return this.fail(new TlsError('ERR_TLS_HANDSHAKE_EOF', 'peer', 'the peer sent close_notify during the handshake', { mbedtlsCode: rc }));
      return 'closed';
    }
    const e = this.mbedError(rc, op);
    const alert = this.conn !== 0 ? this.unsentAlert(rc) : null;
    if (alert !== null) this.lib.x.tlsw_conn_send_alert(this.conn, alert);
    return this.fail(e);
  }

  /**
   * Failures mbedTLS reports without telling the peer, which would then wait for an answer
   * that never comes; the alert it is owed (RFC 5246 §7.2, RFC 8446 §6):
   *  - a malformed record header (unknown type, wrong version): decode_error;
   *  - a record header announcing more than fits in a record: record_overflow;
   *  - TLS 1.2 server requiring a client certificate and getting none: handshake_failure
   *    (mbedTLS's TLS 1.3 code sends its own alert).
   */
  private unsentAlert(rc: number): number | null {
    if (rc === INVALID_RECORD) return 50;
    if (rc === SSL_BAD_INPUT_DATA) return 22; // record_overflow
    if (rc === NO_CLIENT_CERTIFICATE && this.isServer && this.lib.x.tlsw_conn_version(this.conn) !== 0x0304) return 40;
    return null;
  }

  private mbedError(rc: number, op: string): TlsError {
    const alert = this.conn !== 0 ? this.lib.x.tlsw_conn_alert_received(this.conn) : -1;
    const err = fromMbedtls(rc, (c) => this.lib.strerror(c), `TLS ${op} failed`, alert >= 0 ? { alert } : {});
    if (rc === RC.X509_CERT_VERIFY_FAILED || err.fault === 'certificate') {
      // A server with requestCert + rejectUnauthorized: mbedTLS rejected the client's chain.
      const flags = this.conn !== 0 ? this.lib.x.tlsw_conn_verify_result(this.conn) : 0;
      const v = verificationError(flags, this.peerCertificatesDerSafe(), this.lib);
      if (v) return new TlsError(v.code, 'certificate', `${v.message} (${err.message})`, { mbedtlsCode: rc, mbedtlsMessage: err.mbedtlsMessage, authorizationError: v.authorizationError });
    }
    if ((op === 'handshake' || op === 'read') && err.fault === 'local' && !ALLOC_CODES.has(rc)) {
      // While reading the peer's messages, errors of the crypto, X.509 and PK modules are the
      // peer's doing (a signature that does not verify, a malformed certificate or key), and
      // mbedTLS's "bad input data" means a record longer than any record may be.
      const code = rc === SSL_BAD_INPUT_DATA ? 'ERR_TLS_RECORD_OVERFLOW'
        : SIGNATURE_CODES.has(rc) ? 'ERR_TLS_BAD_SIGNATURE'
        : err.code === 'ERR_TLS_BAD_CERTIFICATE_DATA' ? 'ERR_TLS_BAD_CERTIFICATE'
        : err.code;
      const message = rc === SSL_BAD_INPUT_DATA ? `TLS ${op} failed: the peer sent a record longer than the maximum (-0x7100)` : err.message;
      return new TlsError(code, 'peer', message, {
        mbedtlsCode: rc, mbedtlsMessage: err.mbedtlsMessage, ...(err.alert !== undefined ? { alert: err.alert } : {}),
      });
    }
    return err;
  }

  private peerCertificatesDerSafe(): Uint8Array[] {
    try { return this.peerCertificatesDer(); } catch { return []; }
  }

  private fail(e: TlsError): 'failed' {
    if (!this.err) this.err = e;
    this.lastWant = 'none';
    this.pending = null;
    return 'failed';
  }

  private finishHandshake(): Step {
    this.handshakeDone = true;
    this.lastWant = 'none';
    const x = this.lib.x;
    this.reused = this.decideReused();
    const certs = this.peerCertificatesDerSafe();
    if (!this.isServer) {
      // Chain verification result (hostname excluded) then identity, as node:tls does. A
      // resumed session keeps the result of the verification made when it was established.
      const fromEnvelope = this.reused && this.offered !== null && x.tlsw_conn_peer_cert_count(this.conn) === 0;
      const flags = fromEnvelope ? this.offered!.flags : x.tlsw_conn_verify_result(this.conn) & ~0x04;
      this.verifyFlags = flags;
      let problem = verificationError(flags, certs, this.lib);
      if (!problem) {
        const check = this.config.checkServerIdentity ?? defaultCheckServerIdentity;
        const leaf = this.peerCertificates()[0];
        const host = this.host ?? 'localhost';
        let e: Error | undefined;
        try {
          e = leaf ? check(host, leaf) : new Error('the server sent no certificate');
        } catch (thrown) {
          e = thrown instanceof Error ? thrown : new Error(String(thrown));
        }
        if (e) {
          const code = (e as { code?: unknown }).code;
          problem = { code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: e.message, authorizationError: typeof code === 'string' ? code : 'ERR_TLS_CERT_ALTNAME_INVALID', alert: 42, cause: e };
        }
      }
      this._authorized = problem === null;
      this._authorizationError = problem?.authorizationError ?? null;
      if (problem && this.config.rejectUnauthorized) {
        x.tlsw_conn_send_alert(this.conn, problem.alert);
        return this.fail(new TlsError(problem.code, 'certificate', problem.message, { authorizationError: problem.authorizationError, alert: problem.alert, cause: problem.cause }));
      }
      // TLS 1.2 sessions (ticket or id) exist now; TLS 1.3 ones arrive as NewSessionTicket later.
      if (this.protocol === 'TLSv1.2') this.emitSession();
    } else if (this.config.requestCert) {
      const flags = x.tlsw_conn_verify_result(this.conn);
      const problem = certs.length === 0
        ? { authorizationError: 'UNABLE_TO_GET_ISSUER_CERT' }
        : verificationError(flags, certs, this.lib);
      this._authorized = problem === null;
      this._authorizationError = problem?.authorizationError ?? null;
    }
    this.collectKeylog();
    return 'done';
  }

  /**
   * The shim's resumption flag is set as soon as the client offers a session, even when the
   * server answers with a full handshake (it reads handshake->resume before the ServerHello).
   * A client tells the cases apart by what the handshake contained:
   *  - TLS 1.3: a full handshake always carries the server's Certificate; a resumption never
   *    does (and mbedTLS's TLS 1.3 session serialisation holds no certificate);
   *  - TLS 1.2: in an abbreviated handshake the server's Finished comes first and the client's
   *    own CCS/Finished, written by the call that completes the handshake, last; in a full one
   *    the client's Finished went out before the server's arrived.
   * Servers know: their flag is set only when they accepted the session.
   */
  private decideReused(): boolean {
    const x = this.lib.x;
    if (x.tlsw_conn_resumed(this.conn) !== 1) return false;
    if (this.isServer) return true;
    if (x.tlsw_conn_version(this.conn) === 0x0304) return x.tlsw_conn_peer_cert_count(this.conn) === 0;
    return this.finishedLast;
  }

  /** Serialises the current session (client) into our envelope; mbedTLS exports each once. */
  private emitSession(): void {
    if (this.isServer || this.conn === 0) return;
    const rc = this.lib.x.tlsw_conn_session_save(this.conn);
    if (rc <= 0) return;
    const blob = this.lib.takeResult();
    const s = encodeSession({
      mbedtls: blob,
      servername: this.sentServername ?? '',
      flags: this.verifyFlags,
      chain: this.peerCertificatesDerSafe(),
    });
    this.savedSession = s;
    this.events.push({ type: 'session', session: s.slice() });
  }

  private collectKeylog(): void {
    if (!this.keylog || this.conn === 0) return;
    const x = this.lib.x;
    const len = x.tlsw_conn_keylog_len(this.conn);
    if (len === 0) return;
    const text = decoder.decode(this.lib.u8.subarray(x.tlsw_conn_keylog_ptr(this.conn), x.tlsw_conn_keylog_ptr(this.conn) + len));
    x.tlsw_conn_keylog_clear(this.conn);
    for (const line of text.split('\n')) if (line) this.events.push({ type: 'keylog', line });
  }
}

export { ALERT_NAMES };

// ---- session envelope ------------------------------------------------------------------------

/**
 * What a client needs to resume a session: mbedTLS's serialised session plus what that
 * serialisation lacks for TLS 1.3 (the server's certificate chain and the result of its
 * verification), and the server name the session belongs to (mbedTLS refuses a TLS 1.3
 * session for another name). Opaque to users, like node's session Buffers.
 *
 *   "MWS" 0x01 | u32 verify flags | u16 n + server name (UTF-8) | u8 count, (u32 n + DER)*
 *   | u32 n + mbedTLS session
 */
interface SavedSession { mbedtls: Uint8Array; servername: string; flags: number; chain: Uint8Array[] }

const SESSION_MAGIC = [0x4d, 0x57, 0x53, 0x01] as const;
const encoder = new TextEncoder();

function encodeSession(s: SavedSession): Uint8Array {
  const name = encoder.encode(s.servername);
  const chain = s.chain.slice(0, 255);
  const size = 4 + 4 + 2 + name.length + 1 + chain.reduce((n, c) => n + 4 + c.length, 0) + 4 + s.mbedtls.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  out.set(SESSION_MAGIC, o); o += 4;
  dv.setUint32(o, s.flags >>> 0); o += 4;
  dv.setUint16(o, name.length); o += 2;
  out.set(name, o); o += name.length;
  out[o++] = chain.length;
  for (const c of chain) { dv.setUint32(o, c.length); o += 4; out.set(c, o); o += c.length; }
  dv.setUint32(o, s.mbedtls.length); o += 4;
  out.set(s.mbedtls, o);
  return out;
}

/** null when `b` is not an envelope this version wrote (or is truncated / corrupt). */
function decodeSession(b: Uint8Array): SavedSession | null {
  if (b.length < 15 || SESSION_MAGIC.some((m, i) => b[i] !== m)) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 4;
  const need = (n: number) => o + n <= b.length;
  const flags = dv.getUint32(o); o += 4;
  const nameLen = dv.getUint16(o); o += 2;
  if (!need(nameLen + 1)) return null;
  let servername: string;
  try { servername = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(o, o + nameLen)); } catch { return null; }
  o += nameLen;
  const count = b[o++]!;
  const chain: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (!need(4)) return null;
    const n = dv.getUint32(o); o += 4;
    if (!need(n)) return null;
    chain.push(b.slice(o, o + n)); o += n;
  }
  if (!need(4)) return null;
  const n = dv.getUint32(o); o += 4;
  if (n === 0 || o + n !== b.length) return null;
  return { mbedtls: b.subarray(o, o + n), servername, flags, chain };
}
