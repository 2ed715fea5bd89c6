/**
 * Small HTTP helpers for the web UI: JSON bodies and errors, raw error responses written on a
 * socket (for requests node:http could not parse), and the download pattern.
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';

export const JSON_TYPE = 'application/json; charset=utf-8';

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | number> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(value, null, 1) + '\n';
  res.writeHead(status, {
    'Content-Type': JSON_TYPE,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(body);
}

export function errorBody(status: number, message: string): { error: string; status: number; message: string } {
  return { error: STATUS_CODES[status] ?? 'Error', status, message };
}

export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string | number> = {}): void {
  sendJson(res, status, errorBody(status, message), headers);
}

/** A complete HTTP/1.1 response with a JSON error body that closes the connection. */
export function rawErrorResponse(status: number, message: string, extraHeaders: string[] = []): string {
  const body = JSON.stringify(errorBody(status, message)) + '\n';
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    `Content-Type: ${JSON_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
    ...extraHeaders,
    '',
    body,
  ].join('\r\n');
}

/**
 * The status for a request node:http's parser rejected (err.code from llhttp or node).
 * An unknown method in an otherwise well-formed request line is 501; other syntax errors 400.
 */
export function clientErrorStatus(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): number {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW': return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT': return 408;
    case 'HPE_INVALID_METHOD': {
      const raw = err.rawPacket?.subarray(0, 512).toString('latin1') ?? '';
      const line = raw.split('\r\n', 1)[0] ?? '';
      return /^[A-Z][A-Z0-9_-]{0,31} \S+ HTTP\/1\.[01]$/.test(line) ? 501 : 400;
    }
    default: return 400;
  }
}

export function clientErrorMessage(err: NodeJS.ErrnoException & { reason?: string }, status: number): string {
  switch (status) {
    case 431: return 'request header fields too large';
    case 408: return 'request timed out before the request headers were complete';
    case 501: return 'unknown request method';
    default: return `malformed request: ${err.reason ?? err.message}`;
  }
}

/** Download body: byte i is i % 251 (a prime, so chunk boundaries do not line up with it). */
export const PATTERN_PERIOD = 251;
export const DOWNLOAD_CHUNK = 64 * 1024;
const pattern = Buffer.alloc(DOWNLOAD_CHUNK + PATTERN_PERIOD);
for (let i = 0; i < pattern.length; i++) pattern[i] = i % PATTERN_PERIOD;

/** The `len` (≤ DOWNLOAD_CHUNK) pattern bytes starting at body offset `offset`. */
export function patternSlice(offset: number, len: number): Buffer {
  const start = offset % PATTERN_PERIOD;
  return pattern.subarray(start, start + len);
}

/** HOST:PORT, with an IPv6 address in brackets ([::1]:8443). */
export function hostPort(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Path and query of a request target ("/a/b?x=1"), or null if it is not origin-form. */
export function parseTarget(req: IncomingMessage): URL | null {
  const url = req.url ?? '';
  if (!url.startsWith('/')) return null;
  try {
    return new URL(url, 'http://localhost');
  } catch {
    return null;
  }
}
