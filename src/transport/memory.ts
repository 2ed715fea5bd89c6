/**
 * An in-memory transport pair: what one side writes, the other receives, asynchronously
 * (a microtask later, like a socket's next 'data' event), with a configurable capacity so
 * that write() returns false and 'drain' fires exactly as a socket's would.
 */
import type { Transport, TransportHandlers } from './transport.js';

export interface MemoryPairOptions {
  /** Bytes a side may have in flight before write() returns false (default 64 KiB). */
  capacity?: number;
}

class MemoryEnd implements Transport {
  peer!: MemoryEnd;
  private handlers: TransportHandlers | null = null;
  private inbox: Uint8Array[] = [];
  private inFlight = 0;
  private paused = false;
  private scheduled = false;
  private ended = false;
  private peerEnded = false;
  private gotEnd = false;
  private closed = false;
  private wantDrain = false;
  constructor(private readonly capacity: number) {}

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.schedule();
  }

  get needDrain(): boolean {
    return this.wantDrain;
  }

  write(data: Uint8Array): boolean {
    if (this.closed || this.ended) return false;
    const copy = new Uint8Array(data);   // a copy, also for a Buffer (whose slice() is a view)
    this.inFlight += copy.length;
    this.peer.inbox.push(copy);
    this.peer.schedule();
    if (this.inFlight >= this.capacity) this.wantDrain = true;
    return !this.wantDrain;
  }

  end(cb?: (error?: Error) => void): void {
    if (cb) {
      // Bytes are copied to the peer on write(): once ended, nothing can be lost.
      const err = this.closed ? Object.assign(new Error('memory transport closed'), { code: 'ERR_STREAM_DESTROYED' }) : undefined;
      queueMicrotask(() => cb(err));
    }
    if (this.ended || this.closed) return;
    this.ended = true;
    this.peer.peerEnded = true;
    this.peer.schedule();
    this.closeIfDone();
  }

  destroy(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox = [];
    queueMicrotask(() => this.handlers?.onClose(error));
    if (!this.peer.closed) {
      this.peer.closed = true;
      this.peer.inbox = [];
      const err = Object.assign(new Error('memory transport reset by peer'), { code: 'ECONNRESET' });
      queueMicrotask(() => this.peer.handlers?.onClose(err));
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || !this.handlers) return;
    this.scheduled = true;
    queueMicrotask(() => { this.scheduled = false; this.deliver(); });
  }

  private deliver(): void {
    const h = this.handlers;
    if (!h || this.closed) return;
    while (!this.paused && this.inbox.length > 0 && !this.closed) {
      const chunk = this.inbox.shift()!;
      this.peer.consumed(chunk.length);
      h.onData(chunk, true);   // the writer's bytes were copied for this delivery alone
    }
    if (!this.paused && this.inbox.length === 0 && this.peerEnded && !this.closed) {
      this.peerEnded = false;
      this.gotEnd = true;
      h.onEnd();
      this.closeIfDone();
    }
  }

  private consumed(n: number): void {
    this.inFlight -= n;
    if (this.wantDrain && this.inFlight < this.capacity) {
      this.wantDrain = false;
      queueMicrotask(() => { if (!this.closed) this.handlers?.onDrain(); });
    }
  }

  /** Both directions ended and were seen: both sides close cleanly, as a socket pair does. */
  private closeIfDone(): void {
    const a = this, b = this.peer;
    if (!(a.ended && b.ended && a.gotEnd && b.gotEnd)) return;
    for (const side of [a, b]) {
      if (side.closed) continue;
      side.closed = true;
      queueMicrotask(() => side.handlers?.onClose());
    }
  }
}

/** Two connected in-memory transports. */
export function memoryPair(options: MemoryPairOptions = {}): [Transport, Transport] {
  const cap = options.capacity ?? 64 * 1024;
  const a = new MemoryEnd(cap), b = new MemoryEnd(cap);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
