/**
 * createTunnel(): a WebSocket-to-TCP relay, so that TLS clients in browsers (TLSStream over a
 * WebSocketTransport) can reach TLS servers. Each WebSocket connection names its target in the
 * URL, `/tunnel?target=host:port` (or `/tunnel/host:port`); binary messages are relayed to a TCP
 * connection to that target and TCP bytes come back as binary messages. The tunnel sees only
 * ciphertext: TLS runs end to end between the browser and the target.
 *
 * Only targets on the allow-list are connected (default: none, so a tunnel that was not told
 * otherwise is not an open proxy). Close codes the client sees:
 *   1000  the target closed the connection (or the client did)
 *   1003  a text message arrived (the tunnel carries bytes only)
 *   1009  a single message larger than maxBuffered / 2 (refused by ws before it is buffered)
 *   4400  no target, or not host:port
 *   4403  target not allowed
 *   4502  the target could not be reached, or its connection failed
 *   4008  more than maxBuffered bytes waiting in one direction
 * Flow control, per connection and direction: TCP reading pauses while the WebSocket's send
 * buffer is above a high-water mark and resumes when the buffered bytes are sent; WebSocket
 * reading pauses while the TCP socket's write buffer is full and resumes on 'drain'. What can
 * still arrive while paused (frames already received, bytes sent before the target connected)
 * is capped by maxBuffered; beyond it the connection is closed with 4008. The largest message is
 * half of maxBuffered, so that one whole message arriving while the TCP write buffer is up to its
 * high-water mark cannot by itself go over the cap (a well-behaved client is never cut off).
 *
 * The `ws` package is loaded when a tunnel is created, so the package's main entry does not
 * require it.
 */
import http from 'node:http';
import type https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';

export interface TunnelTarget { host: string; port: number }

export interface TunnelOptions {
  /**
   * Targets that may be connected: "host:port" strings ("[::1]:443" for IPv6), compared after
   * lower-casing the host; or a function deciding per target. Default: nothing is allowed.
   */
  allow?: readonly string[] | ((target: TunnelTarget) => boolean);
  /** Serve on this existing HTTP(S) server (its 'upgrade' requests for `path`). */
  server?: http.Server | https.Server;
  /** Otherwise listen on this port (0: any free port) ... */
  port?: number;
  /** ... on this address (default 127.0.0.1). */
  host?: string;
  /** URL path of the tunnel (default '/tunnel'). */
  path?: string;
  /** Bytes that may wait per connection and direction (default 1 MiB); half of it is the largest message. */
  maxBuffered?: number;
  /** Milliseconds to wait for the TCP connection to the target (default 10000). */
  connectTimeout?: number;
  /** Opens the TCP connection (default: net.connect); for proxies, Unix sockets and tests. */
  dial?: (target: TunnelTarget) => net.Socket;
}

export interface TunnelStats {
  /** WebSocket connections accepted (including rejected targets). */
  accepted: number;
  /** Open relays now. */
  open: number;
  /** Connections the tunnel closed, per close code. */
  closes: Record<number, number>;
  /** Flow control: times TCP reading paused (WebSocket behind), and WebSocket reading (TCP behind). */
  pauses: { tcp: number; ws: number };
}

export interface Tunnel {
  readonly wss: WebSocketServer;
  /** The HTTP server the tunnel answers on (its own when `port` was given). */
  readonly server: http.Server | https.Server;
  /** The port it listens on. */
  readonly port: number;
  readonly stats: TunnelStats;
  /** The largest WebSocket message accepted (maxBuffered / 2); larger ones close with 1009. */
  readonly maxMessage: number;
  /** ws:// URL for a target on this tunnel (for a tunnel on its own server). */
  url(target: string): string;
  /** Closes every relay and, when the tunnel owns its server, the server. */
  close(): Promise<void>;
}

export const CLOSE_NORMAL = 1000;
export const CLOSE_TEXT = 1003;
export const CLOSE_BAD_TARGET = 4400;
export const CLOSE_NOT_ALLOWED = 4403;
export const CLOSE_UNREACHABLE = 4502;
export const CLOSE_BUFFER_LIMIT = 4008;

/** "host:port" (with IPv6 in brackets) → parts, or null when malformed. */
export function parseTarget(text: string): TunnelTarget | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const host = (m[1] ?? m[2]!).toLowerCase();
  if (m[1] !== undefined && net.isIPv6(host) === false) return null;
  return { host, port };
}

function targetKey(t: TunnelTarget): string {
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function allowFilter(allow: TunnelOptions['allow']): (t: TunnelTarget) => boolean {
  if (typeof allow === 'function') return allow;
  const set = new Set<string>();
  for (const entry of allow ?? []) {
    const t = parseTarget(entry);
    if (!t) throw new TypeError(`createTunnel: allow entry "${entry}" is not host:port`);
    set.add(targetKey(t));
  }
  return (t) => set.has(targetKey(t));
}

/** Close reasons are limited to 123 bytes. */
function reason(text: string): string {
  return text.length > 120 ? text.slice(0, 120) : text;
}

export async function createTunnel(options: TunnelOptions = {}): Promise<Tunnel> {
  let WSS: typeof WebSocketServer;
  try {
    ({ WebSocketServer: WSS } = await import('ws'));
  } catch (e) {
    throw new Error('createTunnel needs the "ws" package (npm install ws)', { cause: e });
  }
  const maxBuffered = options.maxBuffered ?? 1024 * 1024;
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1024) throw new TypeError('createTunnel: maxBuffered must be an integer of at least 1024');
  const allowed = allowFilter(options.allow);
  const path = options.path ?? '/tunnel';
  const connectTimeout = options.connectTimeout ?? 10000;
  const dial = options.dial ?? ((t: TunnelTarget) => net.connect({ host: t.host, port: t.port, allowHalfOpen: true }));
  // TCP reading pauses above this many bytes waiting to be sent on the WebSocket.
  const wsHighWater = Math.max(16 * 1024, Math.min(256 * 1024, Math.floor(maxBuffered / 4)));
  const stats: TunnelStats = { accepted: 0, open: 0, closes: {}, pauses: { tcp: 0, ws: 0 } };
  const relays = new Set<() => void>();

  const maxMessage = Math.floor(maxBuffered / 2);
  const wss = new WSS({ noServer: true, maxPayload: maxMessage, perMessageDeflate: false });
  const ownServer = options.server === undefined;
  const server = options.server ?? http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket tunnel: connect with a WebSocket\n');
  });

  const onUpgrade = (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://tunnel.invalid');
    if (url.pathname !== path && !url.pathname.startsWith(path + '/')) {
      // Someone else's upgrade (another path on a shared server); refuse only when alone.
      if (server.listenerCount('upgrade') <= 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    let text = url.searchParams.get('target') ?? url.pathname.slice(path.length + 1);
    try { text = decodeURIComponent(text); } catch { text = '%'; /* malformed escape: a bad target */ }
    wss.handleUpgrade(req, socket, head, (ws) => relay(ws, text));
  };
  server.on('upgrade', onUpgrade);

  function relay(ws: WebSocket, targetText: string): void {
    stats.accepted++;
    let finished = false;
    const closeWs = (code: number, why: string) => {
      if (finished) return;
      finished = true;
      stats.closes[code] = (stats.closes[code] ?? 0) + 1;
      ws.close(code, reason(why));
    };
    const target = targetText ? parseTarget(targetText) : null;
    if (!target) { closeWs(CLOSE_BAD_TARGET, targetText ? 'bad target: expected host:port' : 'no target'); return; }
    if (!allowed(target)) { closeWs(CLOSE_NOT_ALLOWED, 'target not allowed'); return; }

    stats.open++;
    let tcp: net.Socket;
    try {
      tcp = dial(target);
    } catch (e) {
      stats.open--;
      closeWs(CLOSE_UNREACHABLE, `target unreachable: ${(e as Error).message}`);
      return;
    }
    let connected = false;
    let early: Buffer[] = [];
    let earlyBytes = 0;
    let tcpPaused = false;
    let wsPaused = false;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      stats.open--;
      relays.delete(kill);
      clearTimeout(connectTimer);
    };
    const kill = () => { closeWs(CLOSE_NORMAL, 'tunnel closing'); tcp.destroy(); };
    relays.add(kill);
    const connectTimer = setTimeout(() => {
      if (connected) return;
      closeWs(CLOSE_UNREACHABLE, 'target unreachable: connect timed out');
      tcp.destroy();
    }, connectTimeout);
    connectTimer.unref();

    const overLimit = () => {
      closeWs(CLOSE_BUFFER_LIMIT, 'buffer limit exceeded');
      tcp.destroy();
    };

    // WebSocket → TCP
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      if (finished) return;
      if (!isBinary) { closeWs(CLOSE_TEXT, 'binary messages only'); tcp.destroy(); return; }
      const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!connected) {
        early.push(chunk);
        earlyBytes += chunk.length;
        if (earlyBytes > maxBuffered) overLimit();
        return;
      }
      const ok = tcp.write(chunk);
      if (tcp.writableLength > maxBuffered) { overLimit(); return; }
      if (!ok && !wsPaused) { wsPaused = true; stats.pauses.ws++; ws.pause(); }
    });
    tcp.on('drain', () => {
      if (wsPaused && !finished) { wsPaused = false; ws.resume(); }
    });

    // TCP → WebSocket
    const afterSend = () => {
      if (tcpPaused && !finished && ws.bufferedAmount < wsHighWater / 2) { tcpPaused = false; tcp.resume(); }
    };
    tcp.on('data', (chunk: Buffer) => {
      if (finished) return;
      ws.send(chunk, { binary: true }, afterSend);
      if (ws.bufferedAmount > maxBuffered) { overLimit(); return; }
      if (ws.bufferedAmount >= wsHighWater && !tcpPaused) { tcpPaused = true; stats.pauses.tcp++; tcp.pause(); }
    });

    tcp.on('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      if (finished) return;
      tcp.setNoDelay(true);
      const pending = early;
      early = [];
      earlyBytes = 0;
      let ok = true;
      for (const c of pending) ok = tcp.write(c);
      if (!ok && !wsPaused) { wsPaused = true; stats.pauses.ws++; ws.pause(); }
    });
    // The target ended its side. A WebSocket cannot half-close: the close frame goes out after
    // every message already sent, and the client reads that as the end of the stream.
    tcp.on('end', () => {
      closeWs(CLOSE_NORMAL, 'target closed');
      tcp.end();
    });
    let tcpError: Error | undefined;
    tcp.on('error', (e) => { tcpError = e; });
    tcp.on('close', () => {
      release();
      if (tcpError) closeWs(CLOSE_UNREACHABLE, `${connected ? 'target connection failed' : 'target unreachable'}: ${(tcpError as NodeJS.ErrnoException).code ?? tcpError.message}`);
      else closeWs(CLOSE_NORMAL, 'target closed');
    });

    ws.on('close', () => {
      finished = true;
      // The client is gone: send what it sent (FIN after it), drop what the target says next.
      if (!tcp.destroyed) {
        tcp.resume();
        if (connected) tcp.end(); else tcp.destroy();
        setTimeout(() => tcp.destroy(), 5000).unref();
      }
    });
    ws.on('error', () => { /* 'close' follows */ });
  }

  let port = 0;
  if (ownServer) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    port = (server.address() as AddressInfo).port;
  } else {
    const addr = server.address();
    port = addr && typeof addr === 'object' ? addr.port : 0;
  }
  const hostForUrl = (() => {
    const addr = server.address();
    const h = addr && typeof addr === 'object' ? addr.address : options.host ?? '127.0.0.1';
    return h.includes(':') ? `[${h}]` : h;
  })();

  return {
    wss,
    maxMessage,
    server,
    port,
    stats,
    url: (target: string) => `ws://${hostForUrl}:${port}${path}?target=${encodeURIComponent(target)}`,
    async close() {
      server.off('upgrade', onUpgrade);
      for (const kill of [...relays]) kill();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      if (ownServer) await new Promise<void>((resolve) => (server as http.Server).close(() => resolve()));
    },
  };
}
