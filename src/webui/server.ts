/**
 * The web UI server: HTTPS through our TLS stack and plain HTTP, both parsed by ONE node:http
 * server fed the connections ('connection' events), a small REST API about the server itself,
 * a WebSocket feed (/ws) and the dashboard page.
 *
 *   HTTPS port: net.Server → peek at the first bytes: a TLS record (0x16) goes to our TLS
 *               Server (accept) → 'secureConnection' → httpServer.emit('connection', tlsSocket);
 *               an HTTP request line gets a plaintext 400 saying the port speaks HTTPS.
 *   HTTP port:  net.Server → httpServer.emit('connection', socket).
 *
 * Shutdown: stop accepting; WebSockets get 1001; idle keep-alive connections are ended; requests
 * in flight finish (their connections close after the response) until the drain deadline; then
 * our TLS Server.shutdown drains what is queued and abandons the rest at the deadline.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { createServer as createTlsServer, TlsError, type Server as TlsServer, type TLSSocket, type CounterValues } from '../node/index.js';
import { dashboardAssets, type DashboardAssets } from './assets.js';
import {
  clientErrorMessage, clientErrorStatus, DOWNLOAD_CHUNK, hostPort, parseTarget, patternSlice, rawErrorResponse, sendError, sendJson,
} from './http-util.js';
import { Registry, type ConnRecord, type ConnectionInfo } from './registry.js';
import { UsageError } from './certs.js';

export const MAX_DOWNLOAD = 1024 * 1024 * 1024;

export interface WebServerOptions {
  /** PEM key and certificate of the HTTPS port. */
  key: string;
  cert: string;
  /** Client CA bundle (PEM); with requestCert, clients must present a certificate it signed. */
  ca?: string;
  requestCert?: boolean;
  host?: string;
  /** HTTPS port (default 8443; 0 picks one). */
  port?: number;
  /** Plain HTTP port (default 8080; 0 picks one; null: no plain HTTP). */
  httpPort?: number | null;
  /** Milliseconds from accept to a complete TLS handshake, first-bytes peek included. */
  handshakeTimeout?: number;
  headersTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  /** Socket inactivity timeout (node's server.timeout), e.g. a client that stopped reading. */
  idleTimeout?: number;
  maxHeaderSize?: number;
  /** How often node:http checks headersTimeout / requestTimeout. */
  connectionsCheckingInterval?: number;
  /** Largest POST /api/echo body in bytes. */
  echoLimit?: number;
  /** Default drain time for shutdown(). */
  drainMs?: number;
  statsIntervalMs?: number;
  /** NSS key log lines from the TLS server's 'keylog' events (each ends with "\n"). */
  keylog?: (line: Buffer) => void;
  /** Serve the dashboard at / (default true). */
  dashboard?: boolean;
  /** Diagnostics (one line each). */
  log?: (line: string) => void;
  version?: string;
}

export interface Address { host: string; port: number }

export interface ServerStats {
  version: string;
  uptimeMs: number;
  state: 'running' | 'draining' | 'stopped';
  shuttingDown: boolean;
  connections: {
    open: { tls: number; plain: number; total: number };
    total: { tls: number; plain: number; total: number };
  };
  handshakes: { ok: number; failed: number; failedByReason: Record<string, number> };
  /** Plaintext HTTP requests answered with 400 on the HTTPS port. */
  plaintextOnHttpsPort: number;
  /** Our TLS server's counters (server.counters.snapshot()). */
  tls: CounterValues;
  plain: { bytesIn: number; bytesOut: number };
  bytes: { in: number; out: number };
  wantRead: number;
  wantWrite: number;
  retries: number;
  queuedBytes: number;
  http: { requests: number; byStatus: Record<string, number>; clientErrors: Record<string, number> };
  websockets: { open: number; total: number; messages: number };
}

export interface ShutdownSummary {
  drained: number;
  abandoned: number;
}

interface Defaults {
  host: string; port: number; httpPort: number | null; handshakeTimeout: number; headersTimeout: number;
  requestTimeout: number; keepAliveTimeout: number; idleTimeout: number; maxHeaderSize: number;
  connectionsCheckingInterval: number; echoLimit: number; drainMs: number; statsIntervalMs: number;
}

export const DEFAULTS: Defaults = {
  host: '127.0.0.1', port: 8443, httpPort: 8080, handshakeTimeout: 10_000, headersTimeout: 10_000,
  requestTimeout: 30_000, keepAliveTimeout: 5_000, idleTimeout: 120_000, maxHeaderSize: 16 * 1024,
  connectionsCheckingInterval: 1_000, echoLimit: 1024 * 1024, drainMs: 5_000, statsIntervalMs: 1_000,
};

/** How long a connection we answered and ended may linger before it is destroyed. */
const LINGER_MS = 2_000;

/** A WebSocket with more than this queued gets no more messages (a dashboard that stopped reading). */
const MAX_WS_BUFFERED = 1024 * 1024;

type Route = { methods: string[]; handler: (req: IncomingMessage, res: ServerResponse, url: URL, match: RegExpMatchArray) => void };

export class WebServer {
  readonly registry = new Registry();
  readonly tlsServer: TlsServer;
  readonly httpServer: http.Server;
  readonly wss: WebSocketServer;
  private readonly httpsListener: net.Server;
  private readonly plainListener: net.Server | null;
  private readonly opts: WebServerOptions & Defaults;
  private readonly startedAt = Date.now();
  private state: ServerStats['state'] = 'running';
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private shutdownPromise: Promise<ShutdownSummary> | null = null;
  private assets: DashboardAssets | null = null;
  private readonly routes: Array<[RegExp, Route]>;
  /** Handshakes that failed before reaching TLS (silence or EOF while we peeked). */
  private readonly preTlsFailures: Record<string, number> = {};
  private plaintextOnHttpsPort = 0;
  private readonly httpStats = { requests: 0, byStatus: {} as Record<string, number>, clientErrors: {} as Record<string, number> };
  private readonly wsStats = { total: 0, messages: 0 };
  httpsAddress: Address | null = null;
  httpAddress: Address | null = null;

  private constructor(options: WebServerOptions) {
    const o = { ...DEFAULTS, ...stripUndefined(options), key: options.key, cert: options.cert } as WebServerOptions & Defaults;
    this.opts = o;
    this.tlsServer = createTlsServer({
      key: o.key,
      cert: o.cert,
      ca: o.ca,
      requestCert: o.requestCert === true,
      rejectUnauthorized: o.requestCert === true,
      ALPNProtocols: ['http/1.1'],
      // 0: no per-socket timer in the TLS layer. handshakeTimeout runs from accept, across the
      // first-bytes peek and the TLS handshake (onHttpsConnection), so a client cannot stretch
      // it to twice the limit by sending its first byte late; accept() takes no per-connection
      // timeout to hand it what is left.
      handshakeTimeout: 0,
      // node:http decides when to end a connection whose peer ended (as https.Server).
      allowHalfOpen: true,
    });
    if (o.keylog) {
      const sink = o.keylog;
      this.tlsServer.on('keylog', (line: Buffer) => sink(line));
    }
    this.tlsServer.on('error', (e: Error) => this.log(`tls server error: ${e.message}`));
    this.tlsServer.on('secureConnection', (s: TLSSocket) => this.onSecure(s));
    this.tlsServer.on('tlsClientError', (err: Error & { code?: string }, s: TLSSocket) => {
      const rec = this.registry.of(s);
      if (rec) {
        rec.error = err.code ?? err.message;
        this.registry.setState(rec, 'failed');
      }
    });

    this.httpServer = http.createServer({
      maxHeaderSize: o.maxHeaderSize,
      headersTimeout: o.headersTimeout,
      requestTimeout: o.requestTimeout,
      connectionsCheckingInterval: o.connectionsCheckingInterval,
      keepAliveTimeout: o.keepAliveTimeout,
    });
    this.httpServer.timeout = o.idleTimeout;
    this.httpServer.on('request', (req, res) => this.onRequest(req, res));
    this.httpServer.on('clientError', (err, socket) => this.onClientError(err, socket));
    this.httpServer.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    // node:http tracks connections (headersTimeout, requestTimeout, idle connections) from its
    // 'listening' event; this server never listens itself (its connections are handed to it).
    this.httpServer.emit('listening');

    this.wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024, clientTracking: true });
    this.wss.on('connection', (ws, req) => this.onWebSocket(ws, req));

    this.httpsListener = net.createServer({ allowHalfOpen: true, noDelay: true }, (raw) => this.onHttpsConnection(raw));
    this.plainListener = o.httpPort === null ? null
      : net.createServer({ allowHalfOpen: true, noDelay: true }, (raw) => this.onPlainConnection(raw));

    this.registry.on('open', (r) => this.broadcastConn('open', r));
    this.registry.on('close', (r) => this.broadcastConn('close', r));
    this.registry.on('state', (r) => this.broadcastConn('state', r));

    this.routes = [
      [/^\/$/, { methods: ['GET', 'HEAD'], handler: (_q, res) => this.sendDashboard(res, 'html') }],
      [/^\/dashboard\.js$/, { methods: ['GET', 'HEAD'], handler: (_q, res) => this.sendDashboard(res, 'script') }],
      [/^\/api\/health$/, { methods: ['GET', 'HEAD'], handler: (_q, res) => sendJson(res, 200, { status: this.state === 'running' ? 'ok' : this.state, version: this.version, uptimeMs: Date.now() - this.startedAt }) }],
      [/^\/api\/stats$/, { methods: ['GET', 'HEAD'], handler: (_q, res) => sendJson(res, 200, this.stats()) }],
      [/^\/api\/connections$/, { methods: ['GET', 'HEAD'], handler: (_q, res) => sendJson(res, 200, { connections: this.registry.list() }) }],
      [/^\/api\/connections\/([^/]+)$/, { methods: ['GET', 'HEAD'], handler: (_q, res, _u, m) => this.connection(res, m[1]!) }],
      [/^\/api\/download$/, { methods: ['GET', 'HEAD'], handler: (q, res, u) => this.download(q, res, u) }],
      [/^\/api\/echo$/, { methods: ['POST'], handler: (q, res) => this.echo(q, res) }],
      [/^\/ws$/, { methods: ['GET'], handler: (_q, res) => sendError(res, 426, 'this endpoint speaks WebSocket', { Upgrade: 'websocket', Connection: 'Upgrade' }) }],
    ];
  }

  /** Starts both listeners; rejects with a UsageError when a port is taken. */
  static async start(options: WebServerOptions): Promise<WebServer> {
    const server = new WebServer(options);
    try {
      if (options.dashboard !== false) server.assets = await dashboardAssets();
      server.httpsAddress = await listen(server.httpsListener, server.opts.host, server.opts.port);
      if (server.plainListener) server.httpAddress = await listen(server.plainListener, server.opts.host, server.opts.httpPort!);
    } catch (e) {
      await server.shutdown({ drainMs: 0 });
      throw e;
    }
    const every = server.opts.statsIntervalMs;
    server.statsTimer = setInterval(() => server.tick(), every);
    server.statsTimer.unref();
    return server;
  }

  get version(): string {
    return this.opts.version ?? '0.0.0';
  }

  get shuttingDown(): boolean {
    return this.state !== 'running';
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  // ---- accepting -----------------------------------------------------------------------------

  private onPlainConnection(raw: net.Socket): void {
    if (this.shuttingDown) { raw.destroy(); return; }
    const rec = this.registry.add('plain', raw, 'idle');
    raw.on('end', () => this.registry.setState(rec, 'closing'));
    this.httpServer.emit('connection', raw);
  }

  /**
   * The HTTPS port looks at the first bytes before TLS sees them: a TLS handshake record starts
   * with 0x16; "GET /" and friends are plaintext HTTP, answered in plaintext. Anything else goes
   * to TLS, which rejects it (a failed handshake).
   */
  private onHttpsConnection(raw: net.Socket): void {
    if (this.shuttingDown) { raw.destroy(); return; }
    const rec = this.registry.add('tls', raw, 'peeking');
    raw.on('error', () => { /* reported through the TLS layer or the close */ });
    let seen: Buffer = Buffer.alloc(0);
    const limit = this.opts.handshakeTimeout;
    // One deadline for the whole handshake, peek included.
    const deadline = setTimeout(() => {
      const tls = rec.tls;
      if (!tls) {
        stopPeeking();
        this.preTlsFailure('ERR_TLS_HANDSHAKE_TIMEOUT', rec);
        raw.destroy();
      } else if (tls.pending && !tls.destroyed) {
        // What the TLS layer's own timer would do: fail the socket with the typed error, which
        // the TLS server counts as a failed handshake ('tlsClientError').
        tls.destroy(new TlsError('ERR_TLS_HANDSHAKE_TIMEOUT', 'peer', `TLS handshake timed out after ${limit} ms`));
      }
    }, limit);
    raw.once('close', () => clearTimeout(deadline));
    const stopPeeking = () => {
      raw.removeListener('data', onData);
      raw.removeListener('end', onEnd);
    };
    const onEnd = () => {
      stopPeeking();
      clearTimeout(deadline);
      this.preTlsFailure('ERR_TLS_HANDSHAKE_EOF', rec);
      raw.destroy();
    };
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const kind = classify(seen);
      if (kind === 'more') return;
      stopPeeking();
      if (kind === 'http') { clearTimeout(deadline); this.answerPlaintext(raw, rec, seen); return; }
      // Give the bytes back and hand the socket over; the TLS layer resumes the flow.
      raw.pause();
      raw.unshift(seen);
      const tls = this.tlsServer.accept(raw);
      if (!tls) { clearTimeout(deadline); raw.destroy(); return; }
      this.registry.attachTls(rec, tls);
      this.registry.setState(rec, 'handshaking');
      tls.once('secure', () => clearTimeout(deadline));
      tls.on('end', () => this.registry.setState(rec, 'closing'));
      raw.resume();
    };
    raw.on('data', onData);
    raw.on('end', onEnd);
  }

  private preTlsFailure(code: string, rec: ConnRecord): void {
    bump(this.preTlsFailures, code);
    rec.error = code;
    this.registry.setState(rec, 'failed');
  }

  private answerPlaintext(raw: net.Socket, rec: ConnRecord, head: Buffer): void {
    this.plaintextOnHttpsPort++;
    this.registry.setState(rec, 'rejected');
    // The name the client used (Host header, without its port), with this port.
    const hostHeader = /\r\nhost:[ \t]*([^\r\n]+)/i.exec(head.toString('latin1'))?.[1]?.trim() ?? '';
    const name = /^(\[[0-9a-fA-F:.]+\]|[\w.-]+)(:\d+)?$/.exec(hostHeader)?.[1];
    const addr = this.httpsAddress;
    const where = addr ? (name ? `${name}:${addr.port}` : hostPort(addr)) : 'this host';
    raw.end(rawErrorResponse(400, `This port speaks HTTPS, not plain HTTP: use https://${where}/`));
    // Read (and drop) what the client still sends, so closing does not reset the connection
    // before it has read the answer; give up after a moment.
    raw.resume();
    raw.on('end', () => raw.destroy());
    destroyAfterLinger(raw);
  }

  private onSecure(s: TLSSocket): void {
    const rec = this.registry.of(s);
    if (rec) this.registry.setState(rec, 'idle');
    if (this.shuttingDown) { s.end(); return; }
    // Workaround (src/node/tls-socket.ts): setTimeout(ms) while an idle timer is armed refreshes
    // that timer with its old duration, so node:http's switch from server.timeout to
    // keepAliveTimeout would not take effect. Clearing first re-arms it with the new duration.
    const setTimeoutOrig = s.setTimeout.bind(s);
    s.setTimeout = ((ms: number, cb?: () => void) => { setTimeoutOrig(0); return setTimeoutOrig(ms, cb); }) as typeof s.setTimeout;
    this.httpServer.emit('connection', s);
  }

  // ---- HTTP --------------------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.httpStats.requests++;
    const rec = this.registry.of(req.socket);
    if (rec) {
      rec.requests++;
      rec.current = `${req.method} ${(req.url ?? '').slice(0, 200)}`;
      this.registry.setState(rec, 'active');
    }
    if (this.shuttingDown) res.setHeader('Connection', 'close');
    res.once('finish', () => bump(this.httpStats.byStatus, res.statusCode));
    res.once('close', () => {
      if (!rec) return;
      rec.current = null;
      if (rec.state === 'active') this.registry.setState(rec, 'idle');
      if (this.shuttingDown) this.endIfIdle(rec);
    });
    const url = parseTarget(req);
    if (!url) { sendError(res, 400, 'request target must be an absolute path'); return; }
    for (const [re, route] of this.routes) {
      const m = url.pathname.match(re);
      if (!m) continue;
      if (!route.methods.includes(req.method ?? '')) {
        req.resume();
        sendError(res, 405, `${req.method} is not allowed on ${url.pathname}`, { Allow: route.methods.join(', ') });
        return;
      }
      try {
        route.handler(req, res, url, m);
      } catch (e) {
        this.log(`handler error: ${(e as Error).stack ?? e}`);
        sendError(res, 500, 'internal error');
      }
      return;
    }
    req.resume();
    sendError(res, 404, `no route for ${url.pathname}`);
  }

  private onClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer; reason?: string }, socket: Duplex): void {
    const code = err.code ?? 'ERR_UNKNOWN';
    bump(this.httpStats.clientErrors, code);
    const rec = this.registry.of(socket);
    if (rec) rec.error = code;
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (code === 'ECONNRESET' || code === 'EPIPE' || socket.destroyed || !socket.writable || socket.writableEnded || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const status = clientErrorStatus(err);
    bump(this.httpStats.byStatus, status);
    if (rec) this.registry.setState(rec, 'closing');
    // end(), not write() + destroy(): a TLS socket encrypts asynchronously, and destroy would
    // drop the response. Keep reading (and dropping) so closing does not reset the connection.
    socket.end(rawErrorResponse(status, clientErrorMessage(err, status)));
    socket.on('data', () => {});
    socket.resume();
    destroyAfterLinger(socket);
  }

  private sendDashboard(res: ServerResponse, what: 'html' | 'script'): void {
    const a = this.assets;
    if (!a) { sendError(res, 404, 'the dashboard is disabled'); return; }
    const body = what === 'html' ? a.html : a.script;
    res.writeHead(200, {
      'Content-Type': what === 'html' ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ...(what === 'html' ? { 'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:" } : {}),
    });
    res.end(body);
  }

  private connection(res: ServerResponse, idText: string): void {
    const id = /^\d{1,15}$/.test(idText) ? Number(idText) : NaN;
    if (!Number.isSafeInteger(id)) { sendError(res, 400, 'connection id must be a positive integer'); return; }
    const rec = this.registry.live.get(id);
    if (!rec) { sendError(res, 404, `no open connection ${id}`); return; }
    sendJson(res, 200, this.registry.info(rec));
  }

  /** GET /api/download?bytes=N: N pattern bytes, streamed as the client reads them. */
  private download(req: IncomingMessage, res: ServerResponse, url: URL): void {
    req.resume();
    const text = url.searchParams.get('bytes');
    if (text === null || !/^\d{1,10}$/.test(text) || Number(text) > MAX_DOWNLOAD) {
      sendError(res, 400, `bytes must be an integer from 0 to ${MAX_DOWNLOAD}`);
      return;
    }
    const total = Number(text);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': total,
      'Cache-Control': 'no-store',
      'Content-Disposition': `attachment; filename="download-${total}.bin"`,
    });
    if (req.method === 'HEAD') { res.end(); return; }
    let sent = 0;
    let stopped = false;
    const more = () => {
      while (!stopped && sent < total) {
        const len = Math.min(DOWNLOAD_CHUNK, total - sent);
        const chunk = patternSlice(sent, len);
        sent += len;
        // Honour backpressure: stop at false, go on at 'drain'.
        if (!res.write(chunk)) { res.once('drain', more); return; }
      }
      if (!stopped) res.end();
    };
    res.once('close', () => { stopped = true; res.removeListener('drain', more); });
    more();
  }

  /** POST /api/echo: the body back, same content type; 413 beyond the limit. */
  private echo(req: IncomingMessage, res: ServerResponse): void {
    const limit = this.opts.echoLimit;
    const tooLarge = () => {
      req.resume();
      sendError(res, 413, `the body exceeds the echo limit of ${limit} bytes`, { Connection: 'close' });
    };
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) { tooLarge(); return; }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) { over = true; chunks.length = 0; tooLarge(); return; }
      chunks.push(c);
    });
    req.on('error', () => { /* the connection is going away; node answers or closes */ });
    req.on('end', () => {
      if (over || res.headersSent || res.destroyed) return;
      const body = Buffer.concat(chunks, size);
      res.writeHead(200, {
        'Content-Type': req.headers['content-type'] ?? 'application/octet-stream',
        'Content-Length': body.length,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(body);
    });
  }

  // ---- WebSocket ----------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = parseTarget(req);
    const fail = (status: number, message: string) => {
      socket.end(rawErrorResponse(status, message));
      destroyAfterLinger(socket);
    };
    if (!url || url.pathname !== '/ws') { fail(404, `no WebSocket endpoint at ${url?.pathname ?? req.url}`); return; }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') { fail(400, 'only WebSocket upgrades are supported'); return; }
    if (this.shuttingDown) { fail(503, 'the server is shutting down'); return; }
    const rec = this.registry.of(socket);
    if (rec) {
      rec.requests++;
      rec.current = 'GET /ws';
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  private onWebSocket(ws: WebSocket, req: IncomingMessage): void {
    this.wsStats.total++;
    const rec = this.registry.of(req.socket);
    if (rec) this.registry.setState(rec, 'websocket');
    ws.on('error', () => { /* closes */ });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.wsStats.messages++;
      ws.send(data as Buffer, { binary: isBinary });
    });
    this.sendTo(ws, { type: 'hello', you: rec?.id ?? null, version: this.version, stats: this.stats(), connections: this.registry.list() });
  }

  private sendTo(ws: WebSocket, msg: unknown): void {
    if (writable(ws)) ws.send(JSON.stringify(msg));
  }

  private broadcast(msg: unknown): void {
    if (this.wss.clients.size === 0) return;
    const text = JSON.stringify(msg);
    for (const ws of this.wss.clients) {
      if (writable(ws)) ws.send(text);
    }
  }

  private broadcastConn(event: 'open' | 'close' | 'state', rec: ConnRecord): void {
    if (this.wss.clients.size === 0) return;
    const info: ConnectionInfo | { id: number } = event === 'close' ? { id: rec.id } : this.registry.info(rec);
    this.broadcast({ type: 'connection', event, connection: info });
  }

  private tick(): void {
    if (this.wss.clients.size === 0) return;
    this.broadcast({ type: 'stats', stats: this.stats(), connections: this.registry.list() });
  }

  // ---- stats -------------------------------------------------------------------------------------

  stats(): ServerStats {
    const open = this.registry.openCounts();
    const totals = this.registry.totals;
    const tls = this.tlsServer.counters.snapshot();
    const plain = this.registry.plainBytes();
    const s = this.tlsServer.stats;
    const byReason: Record<string, number> = { ...s.failuresByCode };
    let preFailed = 0;
    for (const [k, v] of Object.entries(this.preTlsFailures)) { byReason[k] = (byReason[k] ?? 0) + v; preFailed += v; }
    return {
      version: this.version,
      uptimeMs: Date.now() - this.startedAt,
      state: this.state,
      shuttingDown: this.shuttingDown,
      connections: {
        open: { ...open, total: open.tls + open.plain },
        total: { tls: totals.tls, plain: totals.plain, total: totals.tls + totals.plain },
      },
      handshakes: { ok: s.handshakesOk, failed: s.handshakesFailed + preFailed, failedByReason: byReason },
      plaintextOnHttpsPort: this.plaintextOnHttpsPort,
      tls,
      plain,
      bytes: { in: tls.bytesIn + plain.bytesIn, out: tls.bytesOut + plain.bytesOut },
      wantRead: tls.wantRead,
      wantWrite: tls.wantWrite,
      retries: tls.retries,
      queuedBytes: tls.queuedBytes,
      http: { requests: this.httpStats.requests, byStatus: { ...this.httpStats.byStatus }, clientErrors: { ...this.httpStats.clientErrors } },
      websockets: { open: this.wss.clients.size, total: this.wsStats.total, messages: this.wsStats.messages },
    };
  }

  // ---- shutdown ----------------------------------------------------------------------------------

  /** Ends a connection once nothing is in flight on it (during shutdown). */
  private endIfIdle(rec: ConnRecord): void {
    const s = rec.socket;
    if (!s || s.destroyed || s.writableEnded) return;
    if (rec.state === 'idle') {
      this.registry.setState(rec, 'closing');
      s.end();
    }
  }

  /**
   * Stops accepting, closes WebSockets with 1001, lets requests in flight finish until `drainMs`,
   * then (TLS Server.shutdown) drains queued bytes and abandons whatever is left at the deadline.
   */
  shutdown(options: { drainMs?: number } = {}): Promise<ShutdownSummary> {
    this.shutdownPromise ??= this.doShutdown(options.drainMs ?? this.opts.drainMs);
    return this.shutdownPromise;
  }

  private async doShutdown(drainMs: number): Promise<ShutdownSummary> {
    this.state = 'draining';
    const deadline = Date.now() + drainMs;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    const listenersClosed = Promise.all([closeListener(this.httpsListener), closeListener(this.plainListener)]);
    this.broadcast({ type: 'shutdown', drainMs });
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    const before = [...this.registry.live.values()];
    for (const rec of before) {
      if (rec.state === 'peeking' || rec.state === 'rejected' || rec.state === 'failed') rec.raw.destroy();
      else this.endIfIdle(rec);
    }
    // Phase 1: requests in flight and WebSocket closing handshakes, until the deadline.
    await untilOrDeadline(deadline, (check) => {
      const busy = () => [...this.registry.live.values()].some((r) => r.state === 'active' || r.state === 'websocket');
      if (!busy()) return true;
      const onChange = () => { if (!busy()) check(); };
      this.registry.on('state', onChange);
      this.registry.on('close', onChange);
      return () => { this.registry.off('state', onChange); this.registry.off('close', onChange); };
    });
    // Phase 2: TLS connections drain what is queued (ended politely once idle) until the
    // deadline; plain connections get the same treatment here.
    const remaining = Math.max(0, deadline - Date.now());
    const plain = [...this.registry.live.values()].filter((r) => r.transport === 'plain');
    const plainDone = Promise.all(plain.map((r) => new Promise<boolean>((resolve) => {
      const raw = r.raw;
      if (raw.destroyed) { resolve(true); return; }
      if (!raw.writableEnded && raw.writableLength === 0) raw.end();
      const t = setTimeout(() => { raw.destroy(); resolve(false); }, remaining);
      raw.once('close', () => { clearTimeout(t); resolve(true); });
    })));
    const tlsResult = await this.tlsServer.shutdown({ drainMs: remaining });
    const plainResults = await plainDone;
    await listenersClosed;
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.httpServer.close(() => resolve()));
    // Our TLS server never listened; closing it releases its configuration.
    this.tlsServer.close();
    this.state = 'stopped';
    return {
      drained: tlsResult.drained + plainResults.filter(Boolean).length,
      abandoned: tlsResult.abandoned + plainResults.filter((x) => !x).length,
    };
  }
}

// ---- helpers ----------------------------------------------------------------------------------------

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** 'tls': hand to TLS; 'http': a plaintext HTTP request line; 'more': need more bytes to tell. */
export function classify(b: Buffer): 'tls' | 'http' | 'more' {
  if (b.length === 0) return 'more';
  if (b[0] === 0x16) return 'tls';
  // An HTTP method token (upper-case letters) followed by a space.
  const n = Math.min(b.length, 24);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0x20) return i > 0 ? 'http' : 'tls';
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return 'tls';
  }
  return b.length < 24 ? 'more' : 'tls';
}

/** Open, and not backed up: a client that stops reading does not make the server buffer without bound. */
function writable(ws: WebSocket): boolean {
  return ws.readyState === WebSocket.OPEN && ws.bufferedAmount <= MAX_WS_BUFFERED;
}

function bump(counts: Record<string, number>, key: string | number): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** For a connection we answered and ended: destroy it if it is still open after LINGER_MS. */
function destroyAfterLinger(socket: Duplex): void {
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => clearTimeout(t));
}

function listen(server: net.Server, host: string, port: number): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.removeListener('listening', onListening);
      const where = hostPort({ host, port });
      if (e.code === 'EADDRINUSE') reject(new UsageError(`port ${port} on ${host} is already in use (EADDRINUSE)`, 'EADDRINUSE'));
      else if (e.code === 'EACCES') reject(new UsageError(`no permission to listen on ${where} (EACCES)`, 'EACCES'));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new UsageError(`cannot listen on ${where}: address not available (${e.code})`, e.code));
      else reject(new UsageError(`cannot listen on ${where}: ${e.message}`, e.code ?? 'ERR_LISTEN'));
    };
    const onListening = () => {
      server.removeListener('error', onError);
      const a = server.address() as net.AddressInfo;
      resolve({ host: a.address, port: a.port });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

function closeListener(server: net.Server | null): Promise<void> {
  return new Promise((resolve) => {
    if (!server || !server.listening) { resolve(); return; }
    server.close(() => resolve());
  });
}

/**
 * Resolves when `arm` reports the condition true (immediately, or later via `check`) or at the
 * deadline. `arm` returns true when already satisfied, else a cleanup function.
 */
function untilOrDeadline(deadline: number, arm: (check: () => void) => true | (() => void)): Promise<void> {
  return new Promise((resolve) => {
    let cleanup: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      cleanup?.();
      resolve();
    };
    const r = arm(finish);
    if (r === true) { finish(); return; }
    cleanup = r;
    timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
  });
}
