/**
 * The pump: drives one TlsEngine over one Transport, from events only.
 *
 * Theory of operation
 * -------------------
 * A connection has up to four pending operations: the handshake, the head of the outbound
 * plaintext queue (a write), reading, and closing (close_notify). Each remembers the readiness
 * it is waiting for, as a value:
 *   null        runnable now
 *   'inbound'   mbedTLS said WANT_READ: it needs ciphertext from the peer
 *   'drain'     mbedTLS said WANT_WRITE: the engine's outbound queue is at its limit, and can
 *               only empty into the transport once the transport drains
 * together with the readiness generation at the moment it blocked. Readiness only advances on
 * events: bytes arrived or the stream ended (inbound generation + 1), outbound bytes moved from
 * the engine to the transport or the transport drained (drain generation + 1). On every event
 * the pump runs each operation whose awaited
 * readiness advanced, hands outbound bytes to the transport, and stops when every operation
 * waits on a readiness that has not changed. Nothing is retried on a timer or in a loop, so:
 *   - a write blocked on WANT_READ is retried when bytes arrive, not only when the socket is
 *     writable (the stalled-response bug this package exists to kill), and
 *   - a connection stalled on WANT costs nothing until its peer does something.
 * The number of engine calls is bounded by the number of readiness events plus the work done.
 *
 * Events: transport data / end / drain / close, application write / end / destroy / read
 * resume, and one timer the connection owns (the handshake timeout).
 *
 * Writes made in the same tick coalesce: the queue is run once, a microtask after the first
 * write (as cork/uncork), and runs of small chunks are packed into records of up to 16 KiB.
 * A writer that lends its buffer (a stream whose callback lets the caller reuse it) has the
 * whole records it completes encrypted inside its write, straight from its memory; only the
 * rest, less than a record, is copied to wait (and coalesce) in the queue.
 * Records go to the transport in batches of up to 64 KiB while it keeps up (its last write
 * left nothing waiting), one at a time once it backs up: one write(2) per three records on a
 * fast path, and at most one batch beyond a slow peer's backpressure.
 * Backpressure: `write()` reports whether the queue is below its high-water mark and the host
 * is told (onQueueBelowHighWater) when it drops below again; the transport's own backpressure
 * reaches mbedTLS as WANT_WRITE (the engine's outbound queue is bounded); inbound delivery is
 * paused while the application is not reading, unless an operation other than reading waits
 * for inbound bytes (the handshake, or a write mbedTLS blocked on WANT_READ): pausing then would
 * recreate the stall this scheduler exists to prevent.
 *
 * Inbound is bounded: ciphertext fed to the engine is consumed by the operation that needs it,
 * and whatever nobody can consume yet (the handshake blocked on drain or waiting for the
 * SNICallback) pauses the transport once INBOUND_CAP bytes wait. Bytes after the peer's
 * close_notify are discarded, as TLS requires, instead of piling up unread.
 *
 * Ordering: each pass runs handshake, write, read, close. Reading waits while mbedTLS is part-way
 * through one of our records (a write that returned WANT_*): only that write's retry may drive
 * mbedTLS's output, or a post-handshake message (TLS 1.3 NewSessionTicket) read meanwhile would
 * flush the record from inside mbedtls_ssl_read and break the write's same-buffer retry. When
 * that record waits for a full transport to drain while the peer's bytes wait to be read, the
 * read finishes the record first, handing its ciphertext to the transport although it is full
 * (at most one record beyond its backpressure per drain), rather than stop reading: a reader
 * that stops while its own write waits deadlocks two peers that both send in bulk (each waits
 * for the other to read), and one that buffers instead grows without limit.
 *
 * Closing: close_notify is queued after every queued write; the transport is ended (FIN) only
 * once the engine has handed all of its ciphertext to the transport, and end() callbacks run
 * when the transport reports that those bytes were flushed.
 */
import type { TlsError } from '../errors/tls-error.js';
import { TlsError as TlsErrorClass } from '../errors/tls-error.js';
import type { EngineEvent, Step, TlsEngine } from '../engine/tls-engine.js';
import type { TlsConfig } from '../engine/config.js';
import { peekServerName } from '../engine/client-hello.js';
import { concatBytes } from '../engine/der.js';
import type { Transport } from '../transport/transport.js';
import { Counters } from './counters.js';

export type Readiness = 'inbound' | 'drain' | null;
export type Awaiting = 'read' | 'write' | 'nothing';

export interface PumpHost {
  /** Handshake complete (and, for clients, the server verified or accepted). */
  onSecure(): void;
  /** Decrypted application data. Return false to stop reading until resumeReading(). */
  onPlaintext(data: Uint8Array): boolean;
  /** The peer will send no more data: close_notify, or end of stream. */
  onPeerEnd(): void;
  onEngineEvent(event: EngineEvent): void;
  /** The queue fell below its high-water mark. */
  onQueueBelowHighWater(): void;
  /** The connection failed (sticky); the host should destroy itself with this error. */
  onError(error: TlsError | Error): void;
  /** The transport closed; the pump has released everything. */
  onClose(error?: Error): void;
}

export interface PumpOptions {
  highWaterMark?: number;
  /** Milliseconds the handshake may take (0: no limit). */
  handshakeTimeout?: number;
  /** Server-wide counters this pump also adds to. */
  parentCounters?: Counters;
  /**
   * Called when the connection becomes idle after work: nothing queued, no record pending and
   * every byte of ciphertext handed to the transport (used by graceful shutdown).
   */
  onIdle?: () => void;
  /**
   * Server: picks certificates for the client's SNI before the handshake goes on (node's
   * SNICallback). The handshake waits, as one more readiness, until it settles.
   */
  sniResolver?: (servername: string | undefined) => Promise<TlsConfig | null | undefined>;
}

interface Op { waiting: Readiness; gen: number }

interface QueuedChunk { data: Uint8Array; offset: number }

/**
 * Plaintext handed to the engine per write: chunks are packed up to this size. 16383, not
 * 16384: a TLS 1.3 record carries at most 16383 bytes of data (the inner content type takes
 * one), so 16384-byte chunks would go out as a full record plus a 1-byte record. In TLS 1.2 this
 * costs one byte per record, and no extra records.
 */
const RECORD = 16383;

/**
 * Inbound ciphertext the engine may hold while no operation can consume it; beyond it the
 * transport is paused (see syncInboundFlow). Several records, so a pause never splits one an
 * operation is waiting for, and far below anything a peer could use to exhaust memory.
 */
export const INBOUND_CAP = 128 * 1024;

/**
 * Ciphertext handed to the transport in one piece while it keeps up (see stepWrite): up to
 * 64 KiB, three full records. One write(2), and one wake-up of the peer, per batch instead of
 * per record costs the sender about half as much kernel time per byte on loopback.
 */
const BATCH = 64 * 1024;
/** Room kept for one more record's ciphertext: a full record plus any suite's expansion. */
const RECORD_WIRE = 17 * 1024;

/**
 * Where a batch of ciphertext is copied on its way to a transport that releases writes (a
 * socket whose write(2) takes them at once): one for every pump (JavaScript runs one at a time),
 * replaced by a new one whenever a transport keeps it. On the bulk path that is no allocation
 * instead of one per batch. Only for hand-overs of at least half its size, so a transport that
 * keeps it (a write that went pending) holds at most twice what it was given.
 *
 * Three records' worth (a batch of full records fits; a rarer larger one goes in two pieces),
 * under 64 KiB on purpose: a buffer a transport keeps is freed later by the garbage collector,
 * and glibc considers trimming its heap on every free of 64 KiB or more (see READ_BATCH in the
 * engine); a sender whose socket backs up now and then would meet the same page faults.
 */
const HAND_OVER = 3 * RECORD_WIRE;
let handOverBuffer = new Uint8Array(HAND_OVER);

export class Pump {
  readonly counters: Counters;
  private readonly hwm: number;
  private readonly queue: QueuedChunk[] = [];
  private queued = 0;
  private aboveHwm = false;
  private inboundGen = 0;
  private drainGen = 0;
  private readonly hsOp: Op = { waiting: null, gen: 0 };
  private readonly writeOp: Op = { waiting: null, gen: 0 };
  private readonly readOp: Op = { waiting: null, gen: 0 };
  private readonly closeOp: Op = { waiting: null, gen: 0 };
  private secure = false;
  private reading = true;
  private closeRequested = false;
  private closeSent = false;
  /** transport.end() called (after close_notify left the engine), and its callback ran. */
  private finSent = false;
  private finDone = false;
  private finError: Error | undefined;
  private transportPaused = false;
  private idle = true;
  private readonly onIdle: (() => void) | undefined;
  private transportEnded = false;
  private peerEndReported = false;
  private transportFull = false;
  /**
   * An inbound chunk of spare memory (see TransportHandlers.onData) whose bytes are in the
   * engine: plaintext read in the same run is decrypted into it instead of into a new buffer
   * (no allocation, and memory the CPU has just touched). Dropped when the run ends, so an idle
   * connection holds none.
   */
  private spare: Uint8Array | null = null;
  /** The transport took the last hand-over without backing up: records go out in batches. */
  private batching = false;
  private running = false;
  private again = false;
  private scheduled = false;
  private dead = false;
  private closed = false;
  private failed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private endCallbacks: Array<(err?: Error) => void> = [];
  /** SNI resolution: 'peek' collecting the ClientHello, 'wait' for the resolver, 'done'. */
  private sniState: 'peek' | 'wait' | 'done';
  private sniBytes: Uint8Array[] = [];
  private readonly sniResolver: PumpOptions['sniResolver'];

  /** Milliseconds the handshake may take (0: no limit), as configured. */
  readonly handshakeTimeout: number;

  constructor(readonly engine: TlsEngine, readonly transport: Transport, private readonly host: PumpHost,
    options: PumpOptions = {}) {
    this.counters = new Counters(options.parentCounters);
    this.sniResolver = options.sniResolver;
    this.onIdle = options.onIdle;
    this.sniState = options.sniResolver && engine.isServer ? 'peek' : 'done';
    this.hwm = options.highWaterMark ?? 64 * 1024;
    const timeout = options.handshakeTimeout ?? 0;
    this.handshakeTimeout = timeout;
    if (timeout > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.counters.add('events');
        this.fail(new TlsErrorClass('ERR_TLS_HANDSHAKE_TIMEOUT', 'peer', `TLS handshake timed out after ${timeout} ms`));
      }, timeout);
    }
    transport.attach({
      onData: (d, spare) => this.onData(d, spare === true),
      onEnd: () => this.onEnd(),
      onDrain: () => this.onDrain(),
      onClose: (e) => this.onTransportClose(e),
    });
    // Clients speak first; servers have nothing to do until the ClientHello arrives, but
    // running once is harmless (the handshake reports want-read without consuming anything).
    this.schedule();
  }

  // ---- application side --------------------------------------------------------------------

  /**
   * Queues plaintext. Returns false when the queue is at or above its high-water mark.
   * `borrowed`: the caller may change `data` once this returns (a stream's write callback has
   * run). Then the whole records the queue holds are encrypted at once, straight from `data`,
   * and only the rest of it, less than a record, is copied to wait for the next write (which it
   * coalesces with, as any queued data does).
   */
  write(data: Uint8Array, borrowed = false): boolean {
    if (this.dead || this.closeRequested) return false;
    if (data.length > 0) {
      const entry: QueuedChunk = { data, offset: 0 };
      this.queue.push(entry);
      this.queued += data.length;
      this.counters.setQueued(this.queued);
      if (borrowed) {
        if (this.queued >= RECORD) this.writeNow();
        if (entry.offset < data.length) {
          entry.data = new Uint8Array(data.subarray(entry.offset));   // a copy, also for a Buffer
          entry.offset = 0;
        }
      }
      this.schedule();
    }
    if (this.dead) return false;
    if (this.queued >= this.hwm) this.aboveHwm = true;
    return !this.aboveHwm;
  }

  /**
   * The write operation alone, inside an application write (see write()): whole records only,
   * handed over as batches fill, and nothing else (no handshake step, no read: no host callback
   * fires inside the caller's write). The run the write scheduled does the rest, and hands over
   * what is left of the batch.
   */
  private writeNow(): void {
    if (this.running || this.dead || this.failed || !this.secure || this.transportFull || !this.runnable(this.writeOp)) return;
    this.running = true;
    try {
      this.stepWrite(true);
    } finally {
      this.running = false;
    }
  }

  /** After the queue is written: close_notify, then end of stream; `cb` once both are handed over. */
  end(cb?: (err?: Error) => void): void {
    if (cb) {
      if (this.finDone) { const err = this.finError; queueMicrotask(() => cb(err)); return; }
      if (this.dead) { queueMicrotask(() => cb(new TlsErrorClass('ERR_TLS_INVALID_STATE', 'local', 'connection destroyed before close_notify was sent'))); return; }
      this.endCallbacks.push(cb);
    }
    if (this.dead || this.closeRequested) return;
    this.closeRequested = true;
    this.schedule();
  }

  pauseReading(): void {
    if (!this.reading) return;
    this.reading = false;
    this.syncInboundFlow();
  }

  resumeReading(): void {
    if (this.reading || this.dead) return;
    this.reading = true;
    this.syncInboundFlow();
    this.counters.add('events');
    this.schedule();
  }

  /**
   * The transport is paused only while nothing needs inbound bytes: the application is not
   * reading, and neither the handshake nor a blocked write or close waits for the peer. An
   * operation blocked on WANT_READ always gets its bytes (pausing then is the stall this
   * scheduler exists to prevent); reading and a handshake in progress get them up to
   * INBOUND_CAP queued bytes, beyond which they are busy with something else (a drain, the
   * SNICallback) and more ciphertext would only pile up in the engine.
   */
  private syncInboundFlow(): void {
    if (this.dead) return;
    const pending = (op: Op) => op.waiting === 'inbound';
    const starved = (!this.secure && (this.sniState === 'peek' || pending(this.hsOp))) ||
      ((this.queue.length > 0 || this.engine.hasPendingWrite) && pending(this.writeOp)) ||
      (this.closeRequested && !this.closeSent && pending(this.closeOp)) ||
      (this.secure && this.reading && !this.peerEndReported && !this.engine.hasPendingWrite && pending(this.readOp));
    // While the SNICallback runs nothing can consume inbound bytes.
    const wanted = (this.reading && this.secure) || (!this.secure && this.sniState !== 'wait');
    const need = starved || (wanted && this.engine.inboundLength < INBOUND_CAP);
    if (need && this.transportPaused) {
      this.transportPaused = false;
      this.transport.resume();
    } else if (!need && !this.transportPaused) {
      this.transportPaused = true;
      this.transport.pause();
    }
  }

  /** Tears everything down now: transport destroyed, engine freed, timer cleared. */
  destroy(error?: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.clearTimer();
    this.queue.length = 0;
    this.queued = 0;
    this.counters.setQueued(0);
    this.transport.destroy(error);
    // Freed now, not when the transport reports its close (later, or never for a stream that
    // emits no 'close'): whoever destroyed the connection may count on its memory being back.
    // Every step checks `dead` first, so nothing touches the engine after this.
    this.engine.dispose();
  }

  get queuedBytes(): number {
    return this.queued;
  }

  get isSecure(): boolean {
    return this.secure;
  }

  get isDead(): boolean {
    return this.dead;
  }

  /** Secure, nothing queued, no record pending, all ciphertext handed to the transport. */
  get isIdle(): boolean {
    return !this.dead && this.secure && this.queue.length === 0 && !this.engine.hasPendingWrite && this.engine.outboundLength === 0;
  }

  /** What each pending operation waits for (for status displays and tests). */
  waiting(): { handshake: Readiness | 'done'; write: Readiness | 'idle'; read: Readiness | 'paused'; close: Readiness | 'idle' | 'done' } {
    return {
      handshake: this.secure ? 'done' : this.hsOp.waiting,
      write: this.queue.length > 0 || this.engine.disposed === false && !this.dead && this.engine.hasPendingWrite
        // Before the handshake completes, queued data waits on whatever the handshake waits on.
        ? (this.secure ? this.writeOp.waiting : this.hsOp.waiting) : 'idle',
      read: this.reading ? this.readOp.waiting : 'paused',
      close: this.closeSent ? 'done' : this.closeRequested ? this.closeOp.waiting : 'idle',
    };
  }

  /** One word for what the connection waits on: 'read', 'write' or 'nothing'. */
  awaiting(): Awaiting {
    if (this.dead) return 'nothing';
    const w = this.waiting();
    const all = [w.handshake, w.write, w.close];
    if (all.includes('drain') || this.transportFull) return 'write';
    if (all.includes('inbound')) return 'read';
    return 'nothing';
  }

  // ---- transport events ------------------------------------------------------------------------

  private onData(data: Uint8Array, spare: boolean): void {
    if (this.dead) return;
    this.counters.add('events');
    this.counters.add('bytesIn', data.length);
    if (this.failed) return; // a failed engine consumes no more input
    // After close_notify nothing the peer sends means anything (RFC 8446 §6.1, RFC 5246
    // §7.2.1: ignored); feeding it would only let it pile up in the engine, never read.
    if (this.engine.peerClosed) return;
    this.engine.feed(data);
    // Not during the handshake: the SNI peek may keep handshake chunks.
    if (spare && this.secure) this.spare = data;
    this.inboundGen++;
    this.counters.add('readiness');
    // Kept across events: a copy unless the chunk is ours (see TransportHandlers.onData).
    if (this.sniState === 'peek') this.peekSni(spare ? data : data.slice());
    this.run();
  }

  private peekSni(data: Uint8Array): void {
    this.sniBytes.push(data);
    const all = concatBytes(this.sniBytes);
    const peek = peekServerName(all);
    if (peek.status === 'incomplete') return;
    // Malformed hellos go to mbedTLS, which rejects them with the proper alert.
    this.sniBytes = [];
    this.sniState = 'wait';
    const name = peek.status === 'ok' ? peek.servername : undefined;
    Promise.resolve()
      .then(() => this.sniResolver!(name))
      .then((cfg) => {
        if (this.dead) return;
        if (cfg) this.engine.useCertificates(cfg);
        this.sniState = 'done';
        this.counters.add('events');
        this.run();
      }, (err: unknown) => {
        if (this.dead) return;
        this.fail(err instanceof Error ? err : new Error(String(err)));
      });
  }

  private onEnd(): void {
    if (this.dead) return;
    this.counters.add('events');
    this.transportEnded = true;
    this.engine.feedEnd();
    this.inboundGen++;
    this.counters.add('readiness');
    this.run();
  }

  private onDrain(): void {
    if (this.dead) return;
    this.counters.add('events');
    this.transportFull = false;
    // A drain is drain readiness even when the engine holds no ciphertext: a write that stopped
    // because the transport was full (its bytes already handed over) resumes on it.
    this.drainGen++;
    this.counters.add('readiness');
    this.run();
  }

  private onTransportClose(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.dead = true;
    this.clearTimer();
    this.engine.dispose();
    this.queue.length = 0;
    this.queued = 0;
    this.counters.setQueued(0);
    this.settleEnd(new TlsErrorClass('ERR_TLS_INVALID_STATE', 'local', 'connection closed before close_notify was sent'));
    this.host.onClose(error);
  }

  // ---- the run loop ------------------------------------------------------------------------------

  private schedule(): void {
    if (this.scheduled || this.dead) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.counters.add('events');
      this.run();
    });
  }

  private runnable(op: Op): boolean {
    if (op.waiting === null) return true;
    return op.waiting === 'inbound' ? this.inboundGen > op.gen : this.drainGen > op.gen;
  }

  private block(op: Op, step: Step): void {
    if (step === 'want-read') {
      op.waiting = 'inbound';
      op.gen = this.inboundGen;
      this.counters.add('wantRead');
    } else if (step === 'want-write') {
      op.waiting = 'drain';
      op.gen = this.drainGen;
      this.counters.add('wantWrite');
    }
  }

  private unblock(op: Op): void {
    if (op.waiting !== null) this.counters.add('retries');
    op.waiting = null;
  }

  private run(): void {
    if (this.running) { this.again = true; return; }
    this.running = true;
    try {
      do {
        this.again = false;
        let progress = true;
        while (progress && !this.dead && !this.failed) {
          progress = this.flushOut();
          if (!this.secure && this.sniState === 'done') progress = this.stepHandshake() || progress;
          if (this.secure) {
            progress = this.stepWrite() || progress;
            progress = this.stepRead() || progress;
            progress = this.stepClose() || progress;
          }
          progress = this.flushOut() || progress;
        }
      } while (this.again && !this.dead);
      if (!this.dead && !this.failed) this.afterRun();
      if (!this.dead && !this.failed) this.syncInboundFlow();
    } finally {
      this.running = false;
      this.spare = null;
    }
  }

  private afterRun(): void {
    if (this.aboveHwm && this.queued < this.hwm) {
      this.aboveHwm = false;
      this.host.onQueueBelowHighWater();
    }
    if (this.transportEnded && !this.peerEndReported && this.secure && this.engine.inboundLength === 0) {
      // End of stream without close_notify: the readable side ends as node:tls reports it.
      this.reportPeerEnd();
    }
    this.maybeSendFin();
    const idle = this.isIdle;
    if (idle && this.engine.inboundLength === 0 && !this.engine.parked) {
      if (this.engine.park()) this.counters.add('parks');
    }
    if (idle && !this.idle) {
      this.idle = true;
      this.onIdle?.();
    } else if (!idle) {
      this.idle = false;
    }
  }

  /** After close_notify: FIN once the engine has handed every byte to the transport. */
  private maybeSendFin(): void {
    if (!this.closeSent || this.finSent || this.dead || this.engine.outboundLength > 0) return;
    this.finSent = true;
    this.transport.end((err) => {
      this.finDone = true;
      this.finError = err;
      this.settleEnd(err);
    });
  }

  /** Engine outbound ciphertext → transport, while the transport accepts it. */
  private flushOut(): boolean {
    if (this.dead) return false;
    let moved = false;
    while (!this.transportFull) {
      const shared = this.transport.releasesWrites === true && this.engine.outboundLength >= HAND_OVER / 2;
      const out = this.engine.takeOutbound(Infinity, shared ? handOverBuffer : undefined);
      if (out === null) break;
      moved = true;
      if (!this.handOver(out)) this.transportFull = true;
      if (shared && !this.transport.writeReleased) handOverBuffer = new Uint8Array(HAND_OVER);
    }
    if (moved) { this.drainGen++; this.counters.add('readiness'); }
    if (this.engine.error && !this.failed) this.fail(this.engine.error);
    return moved;
  }

  /** One piece of ciphertext to the transport; false when the transport reports full. */
  private handOver(out: Uint8Array): boolean {
    this.counters.add('bytesOut', out.length);
    return this.transport.write(out);
  }

  private stepHandshake(): boolean {
    if (this.dead || !this.runnable(this.hsOp)) return false;
    this.unblock(this.hsOp);
    this.counters.add('ops');
    const step = this.engine.handshake();
    this.collectEvents();
    if (this.dead) return false; // an event listener destroyed the connection
    if (step === 'done') {
      this.secure = true;
      this.clearTimer();
      this.flushOut();
      this.host.onSecure();
      return true;
    }
    if (step === 'failed' || step === 'closed') {
      this.flushOut();
      this.fail(this.engine.error ?? new TlsErrorClass('ERR_TLS_HANDSHAKE_EOF', 'peer', 'connection closed during the handshake'));
      return false;
    }
    this.block(this.hsOp, step);
    return false;
  }

  private stepWrite(wholeRecords = false): boolean {
    if (this.dead || (this.queue.length === 0 && !this.engine.hasPendingWrite) || !this.runnable(this.writeOp)) return false;
    this.unblock(this.writeOp);
    let progress = false;
    if (this.engine.hasPendingWrite) {
      this.counters.add('ops');
      const step = this.engine.flush();
      if (step !== 'done') return this.writeBlocked(step);
      progress = true;
    }
    while (this.queue.length > 0) {
      if (wholeRecords && this.queued < RECORD) break;
      if (this.aboveHwm && this.queued < RECORD && this.queued < this.hwm) {
        // Only a part-record tail is left while the writer waits on the high-water mark:
        // release the writer first, so what it writes next fills this record instead of the
        // tail going out as a short record of its own (64 KiB of 16 KiB writes would otherwise
        // end every batch with a 4-byte record: 1.25 records and socket writes per write).
        this.aboveHwm = false;
        this.host.onQueueBelowHighWater();
        if (this.dead) return progress;
        if (this.queue.length === 0) break;
      }
      const record = this.nextRecord();
      this.counters.add('ops');
      const { step, written } = this.engine.write(record);
      if (written > 0) {
        this.dequeue(written);
        this.counters.add('plainOut', written);
        progress = true;
      }
      if (step !== 'done') return this.writeBlocked(step) || progress;
      // While the transport keeps up, encrypt up to a batch before handing it over (bounded by
      // the engine's outbound limit too); once it backs up, one record per drain: a peer that
      // stops reading gets at most one batch beyond its backpressure, then nothing more.
      if (this.batching && this.queue.length > 0 &&
        this.engine.outboundLength + RECORD_WIRE <= Math.min(BATCH, this.engine.outboundLimit)) continue;
      this.flushOut();
      this.batching = !this.transportFull;
      if (this.transportFull) {
        // Keep queued plaintext in the queue (where backpressure is visible) rather than
        // encrypting ahead into the engine; resume on the next drain.
        this.writeOp.waiting = 'drain';
        this.writeOp.gen = this.drainGen;
        break;
      }
    }
    return progress;
  }

  private writeBlocked(step: Step): boolean {
    if (step === 'failed' || step === 'closed') {
      this.fail(this.engine.error ?? new TlsErrorClass('ERR_TLS_INVALID_STATE', 'local', 'write after close'));
      return false;
    }
    this.block(this.writeOp, step);
    return false;
  }

  /**
   * The next record's plaintext: the head chunk's next RECORD bytes, or pieces of the queued
   * chunks up to RECORD bytes, which the engine gathers straight into wasm memory (no copy here).
   */
  private nextRecord(): Uint8Array | Uint8Array[] {
    const head = this.queue[0]!;
    const headRest = head.data.length - head.offset;
    if (headRest >= RECORD || this.queue.length === 1) return head.data.subarray(head.offset, head.offset + RECORD);
    const parts: Uint8Array[] = [];
    let left = RECORD;
    for (const c of this.queue) {
      const n = Math.min(c.data.length - c.offset, left);
      parts.push(c.data.subarray(c.offset, c.offset + n));
      left -= n;
      if (left === 0) break;
    }
    return parts;
  }

  private dequeue(n: number): void {
    this.queued -= n;
    this.counters.setQueued(this.queued);
    while (n > 0) {
      const head = this.queue[0]!;
      const rest = head.data.length - head.offset;
      if (n >= rest) { this.queue.shift(); n -= rest; } else { head.offset += n; n = 0; }
    }
  }

  private stepRead(): boolean {
    if (this.dead || !this.reading || this.peerEndReported || !this.runnable(this.readOp)) return false;
    // Not while mbedTLS is part-way through a record of ours (a write that returned WANT_*):
    // a TLS 1.3 NewSessionTicket read now makes mbedtls_ssl_read flush that record itself,
    // after which the write's retry either fails (RECEIVED_NEW_SESSION_TICKET) or, if the flush
    // completed, sends the record a second time. The write op runs first in every pass, so
    // reading resumes in the same pass the record completes. A record waiting for a full
    // transport to drain is finished here instead, when there is ciphertext to read.
    if (this.engine.hasPendingWrite && !this.finishRecordToRead()) return false;
    this.unblock(this.readOp);
    let progress = false;
    for (;;) {
      this.counters.add('ops');
      const { step, data } = this.engine.read(this.spare ?? undefined);
      this.collectEvents();
      if (step === 'done' && data) {
        // Written to now, or too small for this plaintext: used at most once either way.
        this.spare = null;
        progress = true;
        this.counters.add('plainIn', data.length);
        if (!this.host.onPlaintext(data)) {
          this.pauseReading();
          return true;
        }
        if (this.dead) return true;
        continue;
      }
      if (step === 'closed') {
        this.reportPeerEnd();
        return true;
      }
      if (step === 'failed') {
        this.fail(this.engine.error!);
        return progress;
      }
      this.block(this.readOp, step);
      return progress;
    }
  }

  /**
   * The read waits for a record of ours that waits for the transport to drain, which may
   * need the peer to read first, and the peer may be waiting for us to read: finish the record
   * now, handing its ciphertext to the transport past its backpressure (write() reporting full
   * is advice; every transport keeps what it is given). That is at most one record: the write
   * op still waits for the drain before it encrypts anything more, and the drain generation is
   * left alone so that it keeps waiting. Returns true when no record is pending any more.
   */
  private finishRecordToRead(): boolean {
    if (!this.transportFull || this.writeOp.waiting !== 'drain' || this.engine.inboundLength === 0) return false;
    while (this.engine.hasPendingWrite) {
      let out: Uint8Array | null;
      let moved = false;
      while ((out = this.engine.takeOutbound()) !== null) {
        moved = true;
        this.handOver(out);
      }
      if (!moved) return false; // nothing to make room with: the write keeps waiting
      this.counters.add('ops');
      const step = this.engine.flush();
      // want-write: the engine's queue took the next part of the record; go on emptying it.
      if (step !== 'done' && step !== 'want-write') { this.writeBlocked(step); return false; }
    }
    // The end of the record may still sit in the engine: it goes with the next flushOut, which
    // the full transport holds back until its drain.
    return true;
  }

  private stepClose(): boolean {
    if (this.dead || !this.closeRequested || this.closeSent || this.queue.length > 0 || this.engine.hasPendingWrite || !this.runnable(this.closeOp)) return false;
    this.unblock(this.closeOp);
    this.counters.add('ops');
    const step = this.engine.close();
    if (step === 'done') {
      this.closeSent = true;
      this.flushOut();
      this.maybeSendFin();
      return true;
    }
    if (step === 'failed') { this.fail(this.engine.error!); return false; }
    this.block(this.closeOp, step);
    return false;
  }

  private reportPeerEnd(): void {
    if (this.peerEndReported) return;
    this.peerEndReported = true;
    this.host.onPeerEnd();
  }

  private collectEvents(): void {
    for (const ev of this.engine.takeEvents()) this.host.onEngineEvent(ev);
  }

  private fail(error: TlsError | Error): void {
    if (this.failed || this.dead) return;
    this.failed = true;
    this.clearTimer();
    this.counters.add('failures');
    // Send what the engine queued (e.g. its fatal alert) before the host tears down.
    if (!this.engine.disposed) {
      let out: Uint8Array | null;
      while ((out = this.engine.takeOutbound()) !== null) this.transport.write(out);
    }
    this.host.onError(error);
  }

  private settleEnd(err?: Error): void {
    const cbs = this.endCallbacks;
    this.endCallbacks = [];
    for (const cb of cbs) cb(err);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
  }
}
