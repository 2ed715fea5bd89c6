// Our sockets under real consumers: node:http fed our TLSSockets, the `ws` package on both
// ends, undici's fetch with our connect(). Byte-exact bodies and messages.
import './helpers/setup.js';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, fetch } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';
import { connect, createServer, type Server, type TLSSocket } from '../src/node/index.js';
import { bytes, equal } from './helpers/pair.js';
import { pem } from './helpers/fixtures.js';

const HOST = '127.0.0.1';
const clientTls = { host: HOST, servername: 'localhost', ca: [pem.ca()] };

async function within<T>(p: Promise<T>, what: string, ms = 20000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`hung: ${what}`)), ms); });
  try { return await Promise.race([p, guard]); } finally { clearTimeout(timer); }
}

function body(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
  });
}

function listen(server: { listen(o: object, cb: () => void): unknown; address(): unknown }): Promise<number> {
  return new Promise((resolve) => server.listen({ port: 0, host: HOST }, () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: { close(cb: () => void): unknown }): Promise<void> {
  return within(new Promise<void>((resolve) => { server.close(() => resolve()); }), 'server close');
}

/** Our TLS server handing each secure socket to a node:http server. */
async function oursHttp(handler: http.RequestListener): Promise<{ port: number; http: http.Server; tls: Server; sockets: Set<TLSSocket>; close(): Promise<void> }> {
  const httpServer = http.createServer(handler);
  const sockets = new Set<TLSSocket>();
  const tlsServer = createServer({ ...pem.ecdsa(), ALPNProtocols: ['http/1.1'] }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    httpServer.emit('connection', s);
  });
  const port = await listen(tlsServer);
  return {
    port, http: httpServer, tls: tlsServer, sockets,
    async close() {
      httpServer.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closeServer(tlsServer);
    },
  };
}

const big = bytes(1024 * 1024 + 123, 77);

function echoHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  void body(req).then((b) => {
    if (req.url === '/big') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(big); return; }
    const text = `${req.method} ${req.url} ${b.length} ${b.toString('latin1').slice(0, 32)}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), 'x-method': req.method ?? '' });
    res.end(text);
  });
}

test('node:http fed our TLSSockets: request/response byte-exact, keep-alive reuses the connection', async () => {
  const srv = await oursHttp(echoHandler);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const request = (path: string, payload?: string) => new Promise<{ body: Buffer; reused: boolean; status: number }>((resolve, reject) => {
    const req = https.request({ ...clientTls, port: srv.port, path, method: payload ? 'POST' : 'GET', agent }, (res) => {
      void body(res).then((b) => resolve({ body: b, reused: req.reusedSocket, status: res.statusCode ?? 0 }), reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
  const a = await within(request('/one', 'hello body'), 'first request');
  assert.is(a.status, 200);
  assert.is(a.body.toString(), 'POST /one 10 hello body');
  assert.is(a.reused, false);
  const b = await within(request('/big'), 'second request');
  assert.ok(equal(b.body, big), 'large body byte-exact');
  assert.is(b.reused, true, 'keep-alive: same TLS connection');
  assert.is(srv.sockets.size, 1);
  agent.destroy();
  await srv.close();
});

test('node:http fed our TLSSockets, our client writing raw HTTP/1.1: two requests on one connection', async () => {
  const srv = await oursHttp(echoHandler);
  const c = connect({ ...clientTls, port: srv.port });
  const chunks: Buffer[] = [];
  c.on('data', (d: Buffer) => chunks.push(d));
  const req1 = 'POST /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc';
  const req2 = 'GET /b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
  c.write(req1);
  c.write(req2);
  await within(once(c, 'end'), 'response end');
  const text = Buffer.concat(chunks).toString('latin1');
  const responses = text.split('HTTP/1.1 200 OK').slice(1);
  assert.is(responses.length, 2, text);
  assert.ok(responses[0]!.endsWith('\r\n\r\nPOST /a 3 abc'), responses[0]);
  assert.ok(responses[1]!.endsWith('\r\n\r\nGET /b 0 '), responses[1]);
  assert.match(responses[1]!, /connection: close/i);
  c.end();
  await srv.close();
});

function wsEcho(wss: WebSocketServer): void {
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

async function wsRoundTrip(ws: WebSocket): Promise<void> {
  await within(once(ws, 'open'), 'ws open');
  const received: Array<{ data: Buffer; binary: boolean }> = [];
  ws.on('message', (data, isBinary) => received.push({ data: data as Buffer, binary: isBinary }));
  ws.send('hello over tls');
  ws.send(big);
  ws.send('last');
  await within(new Promise<void>((resolve) => { const check = () => (received.length >= 3 ? resolve() : setTimeout(check, 5)); check(); }), 'echoes');
  assert.is(received[0]!.data.toString(), 'hello over tls');
  assert.is(received[0]!.binary, false);
  assert.ok(received[1]!.binary && equal(received[1]!.data, big), 'binary message byte-exact');
  assert.is(received[2]!.data.toString(), 'last');
  const closed = once(ws, 'close');
  ws.close(4001, 'done');
  const [code, reason] = await within(closed, 'ws close') as [number, Buffer];
  assert.is(code, 4001);
  assert.is(reason.toString(), 'done');
}

/** A ws echo server on our TLS server: node:http's upgrade hands each socket to `wss` (404 otherwise). */
async function oursWsEcho(): Promise<{ wss: WebSocketServer; srv: Awaited<ReturnType<typeof oursHttp>> }> {
  const wss = new WebSocketServer({ noServer: true });
  wsEcho(wss);
  const srv = await oursHttp((_, res) => { res.writeHead(404).end(); });
  srv.http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  return { wss, srv };
}

test('ws server over our TLS server (node http upgrade), node:tls ws client', async () => {
  const { wss, srv } = await oursWsEcho();
  await wsRoundTrip(new WebSocket(`wss://localhost:${srv.port}/`, { ca: pem.ca(), host: HOST } as WebSocket.ClientOptions));
  wss.close();
  await srv.close();
});

test('ws client over our connect() to a node:https + ws server', async () => {
  const httpsServer = https.createServer({ ...pem.ecdsa() });
  const wss = new WebSocketServer({ server: httpsServer });
  wsEcho(wss);
  const port = await listen(httpsServer);
  const ws = new WebSocket(`wss://localhost:${port}/`, {
    createConnection: () => connect({ ...clientTls, port }) as unknown as Duplex,
  } as unknown as WebSocket.ClientOptions);
  await wsRoundTrip(ws);
  wss.close();
  httpsServer.closeAllConnections();
  await closeServer(httpsServer);
});

test('ws on both ends over ours', async () => {
  const { wss, srv } = await oursWsEcho();
  const ws = new WebSocket(`wss://localhost:${srv.port}/`, {
    createConnection: () => connect({ ...clientTls, port: srv.port }) as unknown as Duplex,
  } as unknown as WebSocket.ClientOptions);
  await wsRoundTrip(ws);
  wss.close();
  await srv.close();
});

function oursAgent(): Agent {
  return new Agent({
    connect: (opts, cb) => {
      const s = connect({ ...clientTls, port: Number(opts.port) });
      s.once('secureConnect', () => cb(null, s as unknown as import('node:net').Socket));
      s.once('error', (e) => cb(e, null));
    },
  });
}

test('undici fetch through our connect(): node:https server, keep-alive, large body', async () => {
  const server = https.createServer({ ...pem.ecdsa() }, echoHandler);
  let connections = 0;
  server.on('secureConnection', () => connections++);
  const port = await listen(server);
  const dispatcher = oursAgent();
  const r1 = await within(fetch(`https://localhost:${port}/x`, { method: 'POST', body: 'payload!', dispatcher }), 'fetch 1');
  assert.is(r1.status, 200);
  assert.is(await r1.text(), 'POST /x 8 payload!');
  const r2 = await within(fetch(`https://localhost:${port}/big`, { dispatcher }), 'fetch 2');
  assert.ok(equal(new Uint8Array(await r2.arrayBuffer()), big), 'byte-exact');
  // (How many connections undici opens is its own business: node:tls gets the same count.)
  assert.ok(connections >= 1);
  await dispatcher.close();
  server.closeAllConnections();
  await closeServer(server);
});

test('undici fetch through our connect() to our server (http fed our sockets)', async () => {
  const srv = await oursHttp(echoHandler);
  const dispatcher = oursAgent();
  const results = await within(Promise.all([1, 2, 3, 4].map(async (i) => {
    const r = await fetch(`https://localhost:${srv.port}/n${i}`, { method: 'PUT', body: 'x'.repeat(i * 1000), dispatcher });
    return r.text();
  })), 'parallel fetches');
  results.forEach((t, i) => assert.is(t, `PUT /n${i + 1} ${(i + 1) * 1000} ${'x'.repeat(32)}`));
  const r = await within(fetch(`https://localhost:${srv.port}/big`, { dispatcher }), 'big');
  assert.ok(equal(new Uint8Array(await r.arrayBuffer()), big));
  await dispatcher.close();
  await srv.close();
});

test('node:tls client fetch via undici default against our server, for reference', async () => {
  const srv = await oursHttp(echoHandler);
  const dispatcher = new Agent({ connect: { ca: pem.ca(), servername: 'localhost' } });
  const r = await within(fetch(`https://localhost:${srv.port}/ref`, { dispatcher }), 'fetch');
  assert.is(await r.text(), 'GET /ref 0 ');
  await dispatcher.close();
  await srv.close();
  void tls;
});

test('nothing of ours is left behind (sockets, servers, timers)', async () => {
  // Closing handles finish on the next turns of the loop.
  for (let i = 0; i < 20; i++) {
    const left = process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'Timeout');
    if (left.length === 0) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'Timeout'), []);
});

test.run();
