/**
 * Reads the server name (SNI) out of a ClientHello without consuming it, so a server can pick
 * certificates asynchronously (node's SNICallback) before mbedTLS processes the hello.
 * Pure parsing over bytes; bounds-checked; never throws.
 */
export type PeekResult =
  | { status: 'incomplete' }
  | { status: 'ok'; servername: string | undefined }
  | { status: 'malformed' };

const MAX_HELLO = 64 * 1024;

export function peekServerName(data: Uint8Array): PeekResult {
  // Gather handshake-layer bytes from consecutive handshake records.
  const hs: number[] = [];
  let off = 0;
  let needed = -1;
  while (off + 5 <= data.length) {
    if (data[off] !== 22) return { status: 'malformed' };
    const len = (data[off + 3]! << 8) | data[off + 4]!;
    if (len === 0 || len > 18432) return { status: 'malformed' };
    if (off + 5 + len > data.length) break;
    for (let i = 0; i < len; i++) hs.push(data[off + 5 + i]!);
    off += 5 + len;
    if (hs.length >= 4 && needed < 0) {
      if (hs[0] !== 1) return { status: 'malformed' };
      needed = 4 + ((hs[1]! << 16) | (hs[2]! << 8) | hs[3]!);
      if (needed > MAX_HELLO) return { status: 'malformed' };
    }
    if (needed >= 0 && hs.length >= needed) break;
  }
  if (off + 5 > data.length && data.length > 0 && data[0] !== 22) return { status: 'malformed' };
  if (needed < 0 || hs.length < needed) return { status: 'incomplete' };
  return parseHello(Uint8Array.from(hs.slice(4, needed)));
}

function parseHello(b: Uint8Array): PeekResult {
  let p = 2 + 32; // legacy_version, random
  const need = (n: number) => p + n <= b.length;
  if (!need(1)) return { status: 'malformed' };
  p += 1 + b[p]!; // session id
  if (!need(2)) return { status: 'malformed' };
  p += 2 + ((b[p]! << 8) | b[p + 1]!); // cipher suites
  if (!need(1)) return { status: 'malformed' };
  p += 1 + b[p]!; // compression methods
  if (p === b.length) return { status: 'ok', servername: undefined };
  if (!need(2)) return { status: 'malformed' };
  const extEnd = p + 2 + ((b[p]! << 8) | b[p + 1]!);
  p += 2;
  if (extEnd > b.length) return { status: 'malformed' };
  while (p + 4 <= extEnd) {
    const type = (b[p]! << 8) | b[p + 1]!;
    const len = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    if (p + len > extEnd) return { status: 'malformed' };
    if (type === 0) {
      let q = p + 2;
      const listEnd = Math.min(p + len, p + 2 + ((b[p]! << 8) | b[p + 1]!));
      while (q + 3 <= listEnd) {
        const nameType = b[q]!;
        const nameLen = (b[q + 1]! << 8) | b[q + 2]!;
        q += 3;
        if (q + nameLen > listEnd) return { status: 'malformed' };
        if (nameType === 0) return { status: 'ok', servername: new TextDecoder().decode(b.subarray(q, q + nameLen)) };
        q += nameLen;
      }
      return { status: 'ok', servername: undefined };
    }
    p += len;
  }
  return { status: 'ok', servername: undefined };
}
