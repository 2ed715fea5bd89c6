/**
 * Ciphertext reads into one buffer shared by every connection, instead of a new buffer per read.
 *
 * Why: a net.Socket reads each chunk (up to 64 KiB) into a new buffer that lives until the
 * garbage collector frees it, and it frees them in bursts. On a connection receiving hundreds of
 * MB/s, glibc then trims the top of its heap and the following reads fault those pages back in.
 * The TLS layer copies ciphertext into wasm memory the moment it arrives, so it needs no buffer of
 * its own per read; node:tls likewise reads inside C++ into a buffer it frees at once.
 *
 * How: node's own `onread` option (net.connect({ onread })) makes a socket read into a buffer
 * the caller supplies and hand over the byte count instead of emitting 'data'. That option
 * exists only at construction, and a server's sockets are constructed by net.Server, so this
 * sets up the same state on a socket that already exists: the three fields `onread` fills
 * (found by their symbol names on the socket itself) and the handle's `useUserBuffer`. Where
 * any of that is missing (another runtime, another Node version, not a TCP handle), nothing is
 * changed and the socket keeps emitting 'data'.
 *
 * One buffer serves all connections: libuv reads into it and node calls the callback at once,
 * before any other read or any other JavaScript runs, and the callback copies the bytes out.
 */
import { Socket } from 'node:net';

const SIZE = 64 * 1024;
let shared: Buffer | null = null;

interface Fields { buffer: symbol; callback: symbol; generator: symbol }
let fields: Fields | null | undefined;

function findFields(socket: Socket): Fields | null {
  if (fields !== undefined) return fields;
  const byName = new Map(Object.getOwnPropertySymbols(socket).map((s) => [s.description, s]));
  const buffer = byName.get('kBuffer'), callback = byName.get('kBufferCb'), generator = byName.get('kBufferGen');
  fields = buffer && callback && generator ? { buffer, callback, generator } : null;
  return fields;
}

/**
 * Makes `socket` read into the shared buffer and call `onBytes` with a view of what it read,
 * valid only until `onBytes` returns. 'data' is no longer emitted; 'end', 'close', pause() and
 * resume() work as before. Returns false, changing nothing, when that is not possible or not
 * safe: not a net.Socket with a TCP handle, data already buffered, other 'data' listeners, or
 * a socket already reading into a buffer of its own.
 */
export function readIntoSharedBuffer(socket: unknown, onBytes: (data: Uint8Array) => void): boolean {
  if (!(socket instanceof Socket)) return false;
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } | null })._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return false;
  if (socket.readableLength > 0 || socket.listenerCount('data') > 0 || socket.destroyed) return false;
  const f = findFields(socket);
  const s = socket as unknown as Record<symbol, unknown>;
  if (!f || s[f.buffer] !== null || s[f.callback] !== null || s[f.generator] !== null) return false;
  const buf = (shared ??= Buffer.allocUnsafe(SIZE));
  s[f.buffer] = buf;
  s[f.callback] = (n: number) => { onBytes(buf.subarray(0, n)); };
  handle.useUserBuffer(buf);
  return true;
}
