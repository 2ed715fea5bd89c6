/**
 * FaultTransport: a scripted transport for tests (exported: users testing their own protocols
 * over TLS want it too). It wraps another transport and can, at the points a test chooses:
 * - hold outbound bytes (write() reports "full" and nothing moves until releaseOutbound()),
 * - limit how much may be in flight before write() reports "full" (short-write behaviour),
 * - hold inbound bytes until releaseInbound(n) (delayed delivery),
 * - deliver inbound bytes in chunks of a chosen size (1 for byte-by-byte),
 * so that mbedTLS returns WANT_READ / WANT_WRITE exactly where the test wants it.
 * Everything is event-driven: held bytes move only when the test calls a release method.
 */
import type { Transport, TransportHandlers } from './transport.js';

export interface FaultScript {
  /** Inbound delivery chunk size (default: as received). */
  inboundChunk?: number;
  /** Start with inbound held. */
  holdInbound?: boolean;
  /** Start with outbound held. */
  holdOutbound?: boolean;
  /** write() reports full once this many bytes wait in the hold (default: 1 byte when held). */
  outboundCapacity?: number;
}

export class FaultTransport implements Transport {
  private handlers: TransportHandlers | null = null;
  private inHeld: boolean;
  private outHeld: boolean;
  private inChunk: number;
  private outCapacity: number;
  private inbox: Uint8Array[] = [];
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  /** write() reported full to the owner, who now waits for onDrain. */
  private full = false;
  /** The inner transport reported full and has not drained yet. */
  private innerFull = false;
  private pendingEnd = false;
  private endRequested = false;
  private endCallbacks: Array<(error?: Error) => void> = [];
  private delivering = false;
  /** What crossed, for assertions. */
  readonly stats = { writes: 0, bytesWritten: 0, bytesDelivered: 0, deliveries: 0, drains: 0 };

  constructor(private readonly inner: Transport, script: FaultScript = {}) {
    this.inHeld = script.holdInbound === true;
    this.outHeld = script.holdOutbound === true;
    this.inChunk = script.inboundChunk ?? Infinity;
    this.outCapacity = script.outboundCapacity ?? 1;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.inner.attach({
      // Delivered later, so kept: a copy unless the inner transport gave the chunk away.
      onData: (d, spare) => { this.inbox.push(spare ? d : d.slice()); this.deliver(); },
      onEnd: () => { this.pendingEnd = true; this.deliver(); },
      onDrain: () => {
        this.innerFull = false;
        if (!(this.outHeld && this.outboxBytes >= this.outCapacity)) this.emitDrain();
      },
      onClose: (e) => handlers.onClose(e),
    });
  }

  get needDrain(): boolean {
    return this.full;
  }

  write(data: Uint8Array): boolean {
    this.stats.writes++;
    this.stats.bytesWritten += data.length;
    if (this.outHeld) {
      this.outbox.push(new Uint8Array(data));   // a copy, also for a Buffer
      this.outboxBytes += data.length;
      if (this.outboxBytes >= this.outCapacity) this.full = true;
      return !this.full;
    }
    const ok = this.inner.write(data);
    if (!ok) { this.innerFull = true; this.full = true; }
    return ok;
  }

  end(cb?: (error?: Error) => void): void {
    if (this.outHeld) {
      // The FIN goes after the held bytes, when they are released.
      this.endRequested = true;
      if (cb) this.endCallbacks.push(cb);
      return;
    }
    this.inner.end(cb);
  }

  destroy(error?: Error): void {
    this.inner.destroy(error);
  }

  pause(): void { this.inner.pause(); }
  resume(): void { this.inner.resume(); }

  // ---- script controls ---------------------------------------------------------------------

  /** Outbound bytes held so far. */
  get heldOutbound(): number { return this.outboxBytes; }
  /** Inbound bytes held so far. */
  get heldInbound(): number { return this.inbox.reduce((n, c) => n + c.length, 0); }

  holdOutbound(capacity = 1): void {
    this.outHeld = true;
    this.outCapacity = capacity;
  }

  /**
   * Sends every held outbound byte and, if write() had reported full, emits drain. With
   * `keepHolding`, the hold stays in force for what is written next (one step at a time).
   */
  releaseOutbound(keepHolding = false): void {
    this.outHeld = keepHolding;
    const box = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    for (const c of box) if (!this.inner.write(c)) this.innerFull = true;
    if (this.endRequested && !keepHolding) {
      this.endRequested = false;
      const cbs = this.endCallbacks;
      this.endCallbacks = [];
      this.inner.end(cbs.length === 0 ? undefined : (err) => { for (const cb of cbs) cb(err); });
    }
    // Drain now unless the inner transport is full (then its own drain relays it).
    if (!this.innerFull) this.emitDrain();
  }

  holdInbound(): void {
    this.inHeld = true;
  }

  /** Delivers up to `bytes` held inbound bytes (all when omitted) and keeps holding the rest. */
  releaseInbound(bytes = Infinity): void {
    this.deliver(bytes);
  }

  /** Stops holding inbound bytes: everything held and later arriving is delivered. */
  passInbound(): void {
    this.inHeld = false;
    this.deliver();
  }

  setInboundChunk(size: number): void {
    this.inChunk = size;
  }

  private emitDrain(): void {
    if (!this.full) return;
    this.full = false;
    this.stats.drains++;
    this.handlers?.onDrain();
  }

  private deliver(budget = this.inHeld ? 0 : Infinity): void {
    if (this.delivering || !this.handlers) return;
    this.delivering = true;
    try {
      while (budget > 0 && this.inbox.length > 0) {
        const head = this.inbox[0]!;
        const n = Math.min(head.length, this.inChunk, budget);
        const part = head.subarray(0, n);
        if (n === head.length) this.inbox.shift(); else this.inbox[0] = head.subarray(n);
        budget -= n;
        this.stats.bytesDelivered += n;
        this.stats.deliveries++;
        this.handlers.onData(part);
      }
      if (this.pendingEnd && this.inbox.length === 0 && !this.inHeld) {
        this.pendingEnd = false;
        this.handlers.onEnd();
      }
    } finally {
      this.delivering = false;
    }
  }
}
