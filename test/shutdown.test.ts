// Server.shutdown({ drainMs }): responses in flight complete, a response nobody reads is abandoned
// at the deadline, and afterwards nothing of the server is left: no sockets, no timers, no wasm
// allocations.
import './helpers/setup.js';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, createServer, type Server, type TLSSocket } from '../src/node/index.js';
import { lib } from '../src/wasm/module.js';
import { bytes, equal, heapBaseline } from './helpers/pair.js';
import { pem } from './helpers/fixtures.js';

const HOST = '127.0.0.1';

async function within<T>(p: Promise<T>, what: string, ms = 20000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`hung: ${what}`)), ms); });
  try { return await Promise.race([p, guard]); } finally { clearTimeout(timer); }
}

const KINDS = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'] as const;

/** Sockets, servers and timers alive now, by kind. */
function resources(): Record<string, number> {
  const all = process.getActiveResourcesInfo();
  return Object.fromEntries(KINDS.map((k) => [k, all.filter((r) => r === k).length]));
}

/**
 * What is alive beyond `before` (uvu runs every test file in one process, so other files may
 * hold resources of their own), after letting closing handles finish for a few loop turns.
 */
async function leftovers(before: Record<string, number>): Promise<Record<string, number>> {
  const extra = () => Object.fromEntries(KINDS.map((k) => [k, resources()[k]! - before[k]!]).filter(([, n]) => (n as number) > 0));
  for (let i = 0; i < 50 && Object.keys(extra()).length > 0; i++) await new Promise((r) => setImmediate(r));
  return extra();
}

/**
 * uvu runs every test file in one process, and a file may end with sockets or child processes
 * still closing (holding wasm connections until they do). Waits, bounded, until none are left,
 * so that the baselines below count nothing of theirs.
 */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const all = process.getActiveResourcesInfo();
    if (!all.includes('TCPSocketWrap') && !all.includes('ProcessWrap')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function httpsOverOurs(handler: http.RequestListener): Promise<{ server: Server; port: number; secure: TLSSocket[] }> {
  const httpServer = http.createServer(handler);
  const secure: TLSSocket[] = [];
  const server = createServer({ ...pem.ecdsa() }, (s) => { secure.push(s); httpServer.emit('connection', s); });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: HOST }, resolve));
  return { server, port: (server.address() as AddressInfo).port, secure };
}

function get(port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    https.get({ host: HOST, servername: 'localhost', ca: pem.ca(), port, path, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('shutdown: in-flight responses complete, an unread 50 MB response is abandoned, nothing is left', async () => {
  await quiesce();
  const heap = lib();
  const baseline = heapBaseline();
  const before = resources();

  const huge = bytes(50 * 1024 * 1024, 5);
  const medium = bytes(3 * 1024 * 1024 + 17, 6);
  let requests = 0;
  const { server, port, secure } = await httpsOverOurs((req, res) => {
    requests++;
    req.resume();
    const body = req.url === '/huge' ? huge : medium;
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
  });

  // A client that asks for 50 MB and never reads: it writes its request on our own TLS client
  // and attaches no 'data' listener, so TCP backpressure leaves the response queued in the server.
  const stuck = connect({ host: HOST, servername: 'localhost', ca: [pem.ca()], port });
  stuck.on('error', () => {});
  stuck.write('GET /huge HTTP/1.1\r\nHost: localhost\r\n\r\n');
  // Two well-behaved clients (node:https) whose responses are in flight during the shutdown.
  const fetches = [get(port, '/medium'), get(port, '/medium')];
  await within((async () => { while (requests < 3) await new Promise((r) => setImmediate(r)); })(), 'three requests');
  // The stuck client's connection, by its port (the well-behaved ones may have data queued too).
  const stuckServerSide = secure.find((s) => s.remotePort === stuck.localPort);
  assert.ok(stuckServerSide, 'the stuck client\'s connection is found by its port');
  assert.ok(stuckServerSide.pump.queuedBytes > 0, 'the unread response is queued in the server');

  const result = await within(server.shutdown({ drainMs: 1500 }), 'shutdown');
  assert.ok(result.abandoned >= 1, `abandoned ${result.abandoned}`);
  assert.ok(stuckServerSide.destroyed, 'the connection with the unread response was destroyed');
  const bodies = await within(Promise.all(fetches), 'responses');
  for (const b of bodies) assert.ok(equal(b, medium), 'in-flight response completed byte-exact');
  assert.is(server.sockets.size, 0);
  assert.not.ok(server.listening);
  assert.is(server.counters.values.queuedBytes, 0, 'nothing queued any more');

  // The stuck client is the test's own; its owner tears it down.
  stuck.destroy();
  assert.equal(await leftovers(before), {}, 'no sockets, servers or timers left');
  assert.is(heap.heap().count, baseline, 'wasm allocations back to the baseline');
});

test('shutdown with idle and handshaking connections: all close at once, none abandoned', async () => {
  await quiesce();
  const heap = lib();
  const baseline = heapBaseline();
  const before = resources();
  const { server, port } = await httpsOverOurs((req, res) => { req.resume(); res.end('ok'); });
  // Idle keep-alive connections on our client, after one request each.
  const clients = await Promise.all([0, 1, 2].map(() => new Promise<TLSSocket>((resolve, reject) => {
    const c = connect({ host: HOST, servername: 'localhost', ca: [pem.ca()], port });
    c.on('error', reject);
    c.once('data', () => resolve(c));
    c.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  })));
  const ends = clients.map((c) => new Promise<void>((resolve) => { c.on('end', () => resolve()); c.resume(); }));
  // A TCP connection that never starts its handshake.
  const silent = net.connect({ port, host: HOST });
  const silentClosed = new Promise((r) => silent.on('close', r));
  await new Promise((r) => silent.once('connect', r));
  await within((async () => { while (server.sockets.size < 4) await new Promise((r) => setImmediate(r)); })(), 'accepted');

  // Far-away deadline: it resolves because everything closed, long before.
  const result = await within(server.shutdown({ drainMs: 60000 }), 'shutdown', 15000);
  assert.is(result.abandoned, 0);
  assert.is(result.drained, 4);
  await within(Promise.all(ends), 'clients see close_notify');
  for (const c of clients) assert.ok(c.engine.peerClosed, 'an orderly close_notify');
  silent.resume();
  await within(silentClosed, 'silent closed');
  for (const c of clients) c.end();
  assert.equal(await leftovers(before), {});
  assert.is(heap.heap().count, baseline);
});

test('a new connection during shutdown is refused', async () => {
  await quiesce();
  const baseline = heapBaseline();
  const before = resources();
  const { server, port } = await httpsOverOurs((_, res) => res.end());
  const pending = server.shutdown({ drainMs: 1000 });
  const c = net.connect({ port, host: HOST });
  const outcome = await within(new Promise<string>((resolve) => {
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    c.on('close', () => resolve('closed'));
  }), 'refused');
  assert.ok(['ECONNREFUSED', 'ECONNRESET', 'closed'].includes(outcome), outcome);
  const r = await within(pending, 'shutdown');
  assert.is(r.abandoned, 0);
  assert.equal(await leftovers(before), {});
  assert.is(lib().heap().count, baseline);
});

test.run();
