/**
 * A transport over a node-style Duplex (net.Socket, or any Duplex a user hands us). It takes
 * the stream object it is given and imports nothing from node:*, so browser bundles can carry it.
 */
import type { Transport, TransportHandlers } from './transport.js';

/** The part of a node Duplex this transport uses. */
export interface DuplexLike {
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  pause(): unknown;
  resume(): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  listenerCount?(event: string): number;
  readonly destroyed?: boolean;
  readonly writableNeedDrain?: boolean;
  readonly writableLength?: number;
  readonly writableEnded?: boolean;
  readonly writableFinished?: boolean;
}

export interface StreamTransportOptions {
  /**
   * Every 'data' chunk is a buffer of its own that the stream never touches again (a net.Socket
   * reads each chunk into a new buffer). Then, while this transport is the stream's only 'data'
   * listener, chunks are handed on as spare memory (see TransportHandlers.onData).
   */
  freshChunks?: boolean;
  /**
   * The stream keeps no reference to a chunk it has written out (net.Socket: a write(2) that
   * took everything at once leaves nothing behind). Then such a write is reported released
   * (Transport.writeReleased), and its buffer can carry the next one.
   */
  releasesWrites?: boolean;
  /**
   * Sets the stream up to hand inbound bytes to `deliver` instead of emitting 'data' (a
   * net.Socket reading into a buffer it reuses: see src/node/shared-read-buffer.ts); returns
   * false when it did not. Called once, before this transport listens to the stream. Bytes
   * given to `deliver` are valid only until it returns.
   */
  borrowReads?: (deliver: (data: Uint8Array) => void) => boolean;
}

export class StreamTransport implements Transport {
  private handlers: TransportHandlers | null = null;
  private closed = false;
  private full = false;
  private finished = false;
  private endWaiters: Array<(error?: Error) => void> = [];
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];

  private readonly freshChunks: boolean;
  readonly releasesWrites: boolean;
  private readonly borrowReads: StreamTransportOptions['borrowReads'];
  private released = false;

  constructor(readonly stream: DuplexLike, options: StreamTransportOptions = {}) {
    this.freshChunks = options.freshChunks === true;
    this.releasesWrites = options.releasesWrites === true;
    this.borrowReads = options.borrowReads;
  }

  get writeReleased(): boolean {
    return this.released;
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const on = (event: string, fn: (...args: any[]) => void) => {
      this.listeners.push([event, fn]);
      this.stream.on(event, fn);
    };
    this.borrowReads?.((data) => { if (!this.closed) handlers.onData(data, false); });
    // Listened to even when reads are borrowed: a stream emits 'end' only while it flows.
    on('data', (chunk: Uint8Array | string) => {
      if (typeof chunk === 'string') { handlers.onData(new TextEncoder().encode(chunk), true); return; }
      // Another 'data' listener has been handed the same chunk and may keep it.
      handlers.onData(chunk, this.freshChunks && this.stream.listenerCount?.('data') === 1);
    });
    on('end', () => handlers.onEnd());
    on('drain', () => { this.full = false; handlers.onDrain(); });
    // 'finish': everything written before end() reached the OS, and the FIN was sent.
    on('finish', () => { this.finished = true; this.settleEnd(); });
    // 'error' is always followed by 'close' on node streams; remember it for onClose.
    let error: Error | undefined;
    on('error', (e: Error) => { error = e; });
    on('close', () => this.finish(error));
    if (this.stream.destroyed) queueMicrotask(() => this.finish(error));
  }

  get needDrain(): boolean {
    return this.full;
  }

  /**
   * Full means bytes are waiting in the stream's buffer. A node Writable answers false whenever
   * a write reaches its high-water mark, even when the write completed at once (a socket's
   * write(2) took it all and nothing is buffered). With net.Socket's 16 KiB mark, a TLS record
   * (16405 bytes) always reaches it, so trusting the answer alone would hand over one record per
   * 'drain' tick although the socket never backed up. What the stream still holds is the real
   * backpressure: 'drain' follows anyway, and an owner that waits for it waits for bytes to move.
   */
  write(data: Uint8Array): boolean {
    this.released = false;
    if (this.closed || this.stream.destroyed || this.stream.writableEnded) return false;
    const ok = this.stream.write(data);
    // A stream that does not say what it buffers is taken at its word.
    const holding = (this.stream.writableLength ?? 1) > 0;
    this.released = this.releasesWrites && !holding;
    if (ok || !holding) return true;
    this.full = true;
    return false;
  }

  end(cb?: (error?: Error) => void): void {
    if (cb) {
      if (this.finished || this.stream.writableFinished) queueMicrotask(() => cb());
      else if (this.closed) queueMicrotask(() => cb(closedError()));
      else this.endWaiters.push(cb);
    }
    if (!this.closed && !this.stream.writableEnded) this.stream.end();
  }

  destroy(error?: Error): void {
    if (this.stream.destroyed) { this.finish(error); return; }
    this.stream.destroy(error);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const [event, fn] of this.listeners) this.stream.removeListener(event, fn);
    // Keep swallowing late errors from the raw stream: the TLS layer reports them.
    this.stream.on('error', () => {});
    this.settleEnd(error ?? closedError());
    this.handlers?.onClose(error);
  }

  private settleEnd(error?: Error): void {
    const waiters = this.endWaiters;
    this.endWaiters = [];
    for (const cb of waiters) cb(error);
  }
}

function closedError(): Error {
  return Object.assign(new Error('the stream closed before its end was flushed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
