// Helpers for the web UI tests: an in-process server with a generated certificate, HTTP(S)
// requests through our TLS client (node:http over connect()) or node:https, raw exchanges for
// malformed input, and bounded waits on conditions (never on durations).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { connect, generateSelfSigned, type TLSSocket } from '../../src/node/index.js';
import { WebServer, type WebServerOptions } from '../../src/webui/server.js';
import { PATTERN_PERIOD } from '../../src/webui/http-util.js';

let identity: { key: string; cert: string } | null = null;

/** One self-signed identity per test process (localhost, 127.0.0.1, ::1). */
export function testIdentity(): { key: string; cert: string } {
  identity ??= generateSelfSigned({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1', '::1'] });
  return identity;
}

export async function startTestServer(options: Partial<WebServerOptions> = {}): Promise<WebServer> {
  const id = testIdentity();
  return WebServer.start({
    key: id.key,
    cert: id.cert,
    host: '127.0.0.1',
    port: 0,
    httpPort: 0,
    dashboard: false,
    ...options,
  });
}

export type Kind = 'tls' | 'plain';

export function portOf(server: WebServer, kind: Kind): number {
  return kind === 'tls' ? server.httpsAddress!.port : server.httpAddress!.port;
}

/** Our TLS client to the server (verifying the generated certificate). */
export function tlsClient(port: number, extra: Record<string, unknown> = {}): TLSSocket {
  return connect({ host: '127.0.0.1', port, ca: testIdentity().cert, ...extra });
}

/** An http.Agent whose connections are our TLSSockets. */
export function ourTlsAgent(keepAlive: boolean): http.Agent {
  const agent = new http.Agent({ keepAlive, maxSockets: 4 });
  (agent as unknown as { createConnection: (o: { port: number }) => Duplex }).createConnection = (o) => tlsClient(o.port);
  return agent;
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  kind: Kind;
  port: number;
  method?: string;
  path: string;
  body?: Buffer | string;
  headers?: Record<string, string | number>;
  /** 'ours' (default for tls): node:http over our TLS client; 'node': node:https. */
  client?: 'ours' | 'node';
  agent?: http.Agent | false;
  /** Fail (and destroy the request) without a complete response within this many ms (a hang guard). */
  limitMs?: number;
}

export function request(o: RequestOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const common: http.RequestOptions = {
      host: '127.0.0.1',
      port: o.port,
      method: o.method ?? 'GET',
      path: o.path,
      headers: o.headers,
      agent: o.agent ?? false,
    };
    let req: http.ClientRequest;
    if (o.kind === 'plain') {
      req = http.request(common);
    } else if (o.client === 'node') {
      req = https.request({ ...common, ca: testIdentity().cert } as https.RequestOptions);
    } else {
      const opts: http.RequestOptions = { ...common };
      if (!o.agent) {
        // Without an agent node:http uses createConnection (agent: false would make a new one).
        delete opts.agent;
        (opts as { createConnection?: () => Duplex }).createConnection = () => tlsClient(o.port);
      }
      req = http.request(opts);
    }
    const timer = o.limitMs === undefined ? undefined : setTimeout(() => {
      req.destroy(new Error(`${o.method ?? 'GET'} ${o.path}: no complete response within ${o.limitMs} ms`));
    }, o.limitMs);
    const fail = (e: Error) => { clearTimeout(timer); reject(e); };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.end(o.body);
  });
}

export async function getJson<T = any>(o: Omit<RequestOptions, 'method'>): Promise<{ status: number; headers: http.IncomingHttpHeaders; json: T }> {
  const r = await request(o);
  return { status: r.status, headers: r.headers, json: JSON.parse(r.body.toString('utf8')) as T };
}

/** Checks a download body against the server's pattern (byte i is i % 251). */
export function isPattern(body: Buffer, from = 0): boolean {
  for (let i = 0; i < body.length; i++) if (body[i] !== (from + i) % PATTERN_PERIOD) return false;
  return true;
}

/** A raw connection (plain TCP, or our TLS client), for hand-made requests. */
export function rawConnection(kind: Kind, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    if (kind === 'plain') {
      const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
      s.once('error', reject);
    } else {
      const s = tlsClient(port);
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    }
  });
}

export interface Exchange {
  text: string;
  /** The server closed the connection. */
  closed: boolean;
}

/**
 * Sends `payload` (string or parts written one by one) and collects the answer until the
 * server closes the connection, or until `until(text)` is true. Fails after `limitMs` (a
 * safety net for hangs, not a timing assertion).
 */
export async function exchange(kind: Kind, port: number, payload: string | Buffer | Array<string | Buffer>, options: { until?: (text: string) => boolean; limitMs?: number } = {}): Promise<Exchange> {
  const s = await rawConnection(kind, port);
  return collect(s, payload, options);
}

export function collect(s: Duplex, payload: string | Buffer | Array<string | Buffer>, options: { until?: (text: string) => boolean; limitMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      s.destroy();
      reject(new Error(`no answer / close within ${options.limitMs ?? 15000} ms; got ${JSON.stringify(text.slice(0, 300))}`));
    }, options.limitMs ?? 15000);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (options.until?.(text)) finish(false);
    });
    s.on('error', () => { /* a reset counts as closed */ });
    s.on('close', () => finish(true));
    // The server ended its side: it closes the connection (a half-open raw socket would wait).
    s.on('end', () => finish(true));
    for (const p of Array.isArray(payload) ? payload : [payload]) s.write(p);
  });
}

/** Status code of the first response in `text`. */
export function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

/** The JSON body of the first response in `text`. */
export function bodyOf(text: string): any {
  const i = text.indexOf('\r\n\r\n');
  return JSON.parse(text.slice(i + 4));
}

/**
 * Sends `GET path` on an open connection and resolves with the response (status, headers, JSON
 * body, by Content-Length), leaving the connection open for more.
 */
export function roundTrip(sock: Duplex, path: string): Promise<{ status: number; head: string; json: any }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1]);
      if (text.length - head - 4 < len) return;
      sock.removeListener('data', onData);
      sock.removeListener('error', reject);
      resolve({ status: statusOf(text), head: text.slice(0, head), json: JSON.parse(text.slice(head + 4, head + 4 + len)) });
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  });
}

/**
 * Resolves or rejects as `p` does, or rejects after `limitMs` naming `what`: a hang guard for
 * waits on events (uvu has no per-test timeout), not a timing assertion.
 */
export function within<T>(what: string, p: Promise<T>, limitMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${limitMs} ms waiting for ${what}`)), limitMs);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

/** Waits until `check()` returns a truthy value (polling on a timer), failing after `limitMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, limitMs = 15000, everyMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A real ClientHello from our TLS client (captured, never answered). */
export function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    let sock: TLSSocket | null = null;
    const d = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        resolve(Buffer.from(chunk));
        cb();
        queueMicrotask(() => sock?.destroy());
      },
      read() { /* nothing ever arrives */ },
    });
    sock = connect({ socket: d, host: 'localhost', ca: testIdentity().cert });
    sock.on('error', () => { /* destroyed on purpose */ });
  });
}
