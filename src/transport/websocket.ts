/**
 * A transport over a WebSocket that carries raw TLS bytes as binary messages (a WebSocket-to-TCP
 * tunnel such as src/node/tunnel.ts or websockify). It takes the socket object it is given (a
 * browser `WebSocket`, or anything shaped like one, e.g. the `ws` package's client) and imports
 * nothing from node:*, so browser bundles carry it.
 *
 * Limits, stated plainly:
 * - Outbound backpressure. A browser WebSocket reports `bufferedAmount` but has no event for
 *   "the buffer drained", and this package does not poll. So write() never reports "full":
 *   every send is accepted, and if a send leaves more than `maxBuffered` bytes buffered the
 *   connection fails with ERR_WS_BUFFER_OVERFLOW instead of stalling or growing without bound.
 *   Request/response traffic never comes near the cap; an application that uploads faster
 *   than the network carries it must pace itself (e.g. on replies) or raise `maxBuffered`.
 * - Inbound backpressure. A WebSocket cannot stop its peer. pause() holds received messages in
 *   memory, at most `maxBuffered` bytes, beyond which the connection fails the same way.
 * - No half-close. A WebSocket closes both directions at once, so end() (called by the pump
 *   after close_notify) sends what is buffered and then closes the socket; bytes the peer sends
 *   after that are lost. A clean close from the peer (1000, or no code) is its end of stream;
 *   any other close code is an error that names the code and reason (for our tunnel, e.g.
 *   4403 "target not allowed").
 * - Before the socket opens, writes are held (within the same cap) and sent on 'open'.
 */
import type { Transport, TransportHandlers } from './transport.js';

/** What this transport needs of a WebSocket (the browser API, which `ws` also implements). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: any) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
}

export interface WebSocketTransportOptions {
  /**
   * Bytes that may wait in each direction (the socket's send buffer; messages held while
   * paused) before the connection fails with ERR_WS_BUFFER_OVERFLOW. Default 8 MiB.
   */
  maxBuffered?: number;
  /** Sub-protocols, when the transport opens the socket from a URL. */
  protocols?: string | string[];
}

const CONNECTING = 0;
const OPEN = 1;

/** A transport-level failure, with a stable `code` (and the close code, when there was one). */
export class WebSocketTransportError extends Error {
  override readonly name = 'WebSocketTransportError';
  constructor(readonly code: string, message: string, readonly closeCode?: number, readonly closeReason?: string) {
    super(message);
  }
}

export class WebSocketTransport implements Transport {
  readonly socket: WebSocketLike;
  private handlers: TransportHandlers | null = null;
  private readonly maxBuffered: number;
  /** Writes made before 'open'. */
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  private paused = false;
  private endRequested = false;
  private endCallbacks: Array<(error?: Error) => void> = [];
  /** The peer closed cleanly while messages were still held: end + close after delivery. */
  private pendingPeerClose = false;
  /** destroy() or a failure: no more I/O; onClose follows in a microtask. */
  private dead = false;
  private closed = false;
  private readonly listeners: Array<[string, (event: any) => void]> = [];

  constructor(socket: WebSocketLike | string | URL, options: WebSocketTransportOptions = {}) {
    const max = options.maxBuffered ?? 8 * 1024 * 1024;
    if (!Number.isInteger(max) || max < 1) throw new TypeError('maxBuffered must be a positive integer');
    this.maxBuffered = max;
    if (typeof socket === 'string' || socket instanceof URL) {
      const WS = (globalThis as { WebSocket?: new (url: string | URL, protocols?: string | string[]) => WebSocketLike }).WebSocket;
      if (!WS) throw new TypeError('this runtime has no global WebSocket: pass a WebSocket object (e.g. from the ws package) instead of a URL');
      socket = new WS(socket, options.protocols);
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
  }

  attach(handlers: TransportHandlers): void {
    this.handlers = handlers;
    const on = (type: string, fn: (event: any) => void) => {
      this.listeners.push([type, fn]);
      this.socket.addEventListener(type, fn);
    };
    on('open', () => this.onOpen());
    on('message', (ev: { data: unknown }) => this.onMessage(ev.data));
    // Browsers say nothing useful in 'error'; the 'close' that always follows carries the code.
    on('error', () => {});
    on('close', (ev: { code?: number; reason?: string; wasClean?: boolean }) => this.onSocketClose(ev));
    if (this.socket.readyState > OPEN) {
      queueMicrotask(() => this.finish(new WebSocketTransportError('ERR_WS_CLOSED', 'the WebSocket was already closed')));
    }
  }

  /** Never true: see the file comment (no drain event in browsers, so no "full" either). */
  get needDrain(): boolean {
    return false;
  }

  /** Bytes the socket holds now (sent but not yet on the network, or waiting for 'open'). */
  get bufferedAmount(): number {
    return this.earlyBytes + (this.closed ? 0 : this.socket.bufferedAmount);
  }

  write(data: Uint8Array): boolean {
    if (this.dead || this.closed || this.endRequested) return false;
    if (data.length === 0) return true;
    if (this.socket.readyState === CONNECTING) {
      this.early.push(new Uint8Array(data));   // a copy, also for a Buffer
      this.earlyBytes += data.length;
      if (this.earlyBytes > this.maxBuffered) this.overflow('outbound');
      return true;
    }
    this.socket.send(data);
    if (this.socket.bufferedAmount > this.maxBuffered) this.overflow('outbound');
    return true;
  }

  end(cb?: (error?: Error) => void): void {
    if (cb) {
      if (this.closed) queueMicrotask(() => cb(new WebSocketTransportError('ERR_WS_CLOSED', 'the WebSocket closed before its end was flushed')));
      else this.endCallbacks.push(cb);
    }
    if (this.closed || this.endRequested) return;
    this.endRequested = true;
    // Data already sent goes out before the close frame; while connecting, on 'open'.
    if (this.socket.readyState === OPEN) this.socket.close(1000, 'end');
  }

  destroy(error?: Error): void {
    if (this.dead || this.closed) return;
    this.dead = true;
    try { this.socket.close(error ? 4000 : 1000, error ? 'error' : 'destroy'); } catch { /* already closing */ }
    queueMicrotask(() => this.finish(error));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.deliver();
  }

  // ---- socket events -----------------------------------------------------------------------

  private onOpen(): void {
    if (this.dead || this.closed) return;
    const early = this.early;
    this.early = [];
    this.earlyBytes = 0;
    for (const chunk of early) this.socket.send(chunk);
    if (this.endRequested) this.socket.close(1000, 'end');
    else if (this.socket.bufferedAmount > this.maxBuffered) this.overflow('outbound');
  }

  private onMessage(data: unknown): void {
    if (this.dead || this.closed) return;
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else {
      this.fail(new WebSocketTransportError('ERR_WS_TEXT_MESSAGE', 'received a text message: TLS over WebSocket uses binary messages only'));
      return;
    }
    if (this.paused || this.inbox.length > 0) {
      this.inbox.push(bytes);
      this.inboxBytes += bytes.length;
      if (this.inboxBytes > this.maxBuffered) this.overflow('inbound');
      return;
    }
    this.handlers?.onData(bytes);
  }

  private onSocketClose(ev: { code?: number; reason?: string; wasClean?: boolean }): void {
    if (this.dead || this.closed) return;
    const code = ev.code ?? 1005;
    const clean = (code === 1000 || code === 1005) && ev.wasClean !== false;
    if (!clean) {
      const reason = ev.reason ? `: ${ev.reason}` : '';
      this.finish(new WebSocketTransportError('ERR_WS_CLOSED', `WebSocket closed with code ${code}${reason}`, code, ev.reason));
      return;
    }
    if (this.inbox.length > 0) {
      // Deliver what the peer sent before its close once the owner reads again.
      this.pendingPeerClose = true;
      return;
    }
    this.peerClosed();
  }

  private deliver(): void {
    const h = this.handlers;
    while (!this.paused && !this.dead && !this.closed && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!;
      this.inboxBytes -= chunk.length;
      h?.onData(chunk);
    }
    if (!this.paused && !this.dead && !this.closed && this.inbox.length === 0 && this.pendingPeerClose) this.peerClosed();
  }

  private peerClosed(): void {
    this.handlers?.onEnd();
    this.finish();
  }

  private overflow(direction: 'inbound' | 'outbound'): void {
    this.fail(new WebSocketTransportError('ERR_WS_BUFFER_OVERFLOW',
      `more than ${this.maxBuffered} ${direction} bytes waiting on the WebSocket (maxBuffered)`));
  }

  private fail(error: Error): void {
    if (this.dead || this.closed) return;
    this.dead = true;
    try { this.socket.close(4000, 'error'); } catch { /* already closing */ }
    queueMicrotask(() => this.finish(error));
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    for (const [type, fn] of this.listeners) this.socket.removeEventListener(type, fn);
    this.listeners.length = 0;
    this.inbox = [];
    this.inboxBytes = 0;
    this.early = [];
    this.earlyBytes = 0;
    const cbs = this.endCallbacks;
    this.endCallbacks = [];
    const endError = error ?? (this.endRequested ? undefined : new WebSocketTransportError('ERR_WS_CLOSED', 'the WebSocket closed before its end was flushed'));
    for (const cb of cbs) cb(endError);
    this.handlers?.onClose(error);
  }
}
