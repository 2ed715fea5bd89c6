/**
 * The byte transport under a TLS connection: anything that can carry ciphertext both ways
 * (a node socket, an in-memory pipe, a WebSocket, a scripted fault injector).
 *
 * The contract is node-stream-like and event-driven, so the scheduler never has to poll:
 * - write() returns false when the transport's buffer is full; `onDrain` fires when it is not.
 * - pause()/resume() stop and restart inbound delivery (inbound backpressure).
 * - `onData` delivers inbound bytes, `onEnd` the peer's end of stream (FIN), `onClose` the end
 *   of the transport (with the error that caused it, if any).
 */
export interface TransportHandlers {
  /**
   * Inbound bytes, valid until this returns: a transport may read the next bytes into the same
   * memory (a socket reading into a buffer it reuses), so a receiver that keeps them copies them.
   * `spare` says the chunk's memory is the receiver's from now on: nothing else holds it or will
   * read it again or write there, so the receiver may keep it, and once its bytes are taken may
   * write there (the pump decrypts into it instead of allocating a buffer for the plaintext).
   */
  onData(data: Uint8Array, spare?: boolean): void;
  onEnd(): void;
  onDrain(): void;
  onClose(error?: Error): void;
}

export interface Transport {
  /** Installs the handlers; called once by the owner before any I/O. */
  attach(handlers: TransportHandlers): void;
  /** Sends bytes; false means "full: wait for onDrain before writing more". */
  write(data: Uint8Array): boolean;
  /**
   * Half-closes the sending side (FIN) after everything written so far. `cb` runs once the
   * transport has flushed those bytes and the FIN (or with the error that prevented it), so the
   * owner knows when tearing the transport down can no longer lose data.
   */
  end(cb?: (error?: Error) => void): void;
  /** Tears the transport down now. */
  destroy(error?: Error): void;
  pause(): void;
  resume(): void;
  /** True while write() would report the transport as full. */
  readonly needDrain: boolean;
  /**
   * Whether this transport can tell that a write's bytes were copied out at once (a socket whose
   * write(2) took them), so the writer may reuse that buffer: see writeReleased.
   */
  readonly releasesWrites?: boolean;
  /** True when the last write()'s buffer is held by nothing any more (see releasesWrites). */
  readonly writeReleased?: boolean;
}
