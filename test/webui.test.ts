// The web UI server's REST API and WebSocket feed, over HTTPS (our TLS client and node:https)
// and plain HTTP: status codes, content types, bodies, byte-exact downloads and echoes, what
// connections report they wait for, and where the dashboard script comes from.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { dashboardAssets, loadDashboard } from '../src/webui/assets.js';
import type { WebServer } from '../src/webui/server.js';
import {
  exchange, getJson, isPattern, ourTlsAgent, portOf, rawConnection, request, roundTrip, startTestServer, statusOf, bodyOf, testIdentity,
  tlsClient, waitFor, type Kind,
} from './helpers/webui-client.js';

const ECHO_LIMIT = 64 * 1024;
const api = suite<{ server: WebServer }>('webui: REST API');

api.before(async (ctx) => {
  ctx.server = await startTestServer({ echoLimit: ECHO_LIMIT, statsIntervalMs: 100 });
});

api.after(async (ctx) => {
  await ctx.server.shutdown({ drainMs: 1000 });
});

const variants: Array<{ kind: Kind; client?: 'ours' | 'node'; name: string }> = [
  { kind: 'tls', client: 'ours', name: 'HTTPS (our client)' },
  { kind: 'tls', client: 'node', name: 'HTTPS (node:https)' },
  { kind: 'plain', name: 'HTTP' },
];

api('GET /api/health and /api/stats answer JSON on both ports', async ({ server }) => {
  for (const v of variants) {
    const port = portOf(server, v.kind);
    const h = await getJson({ kind: v.kind, client: v.client, port, path: '/api/health' });
    assert.is(h.status, 200, v.name);
    assert.match(String(h.headers['content-type']), /^application\/json/, v.name);
    assert.is(h.json.status, 'ok');
    const s = await getJson({ kind: v.kind, client: v.client, port, path: '/api/stats' });
    assert.is(s.status, 200, v.name);
    assert.is(s.json.state, 'running');
    assert.is(s.json.shuttingDown, false);
    for (const k of ['wantRead', 'wantWrite', 'retries', 'queuedBytes', 'uptimeMs']) assert.type(s.json[k], 'number', k);
    assert.type(s.json.connections.open.tls, 'number');
    assert.type(s.json.connections.total.plain, 'number');
    assert.type(s.json.handshakes.failedByReason, 'object');
    assert.ok(s.json.bytes.in > 0 && s.json.bytes.out > 0);
  }
  const s = await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/stats' });
  assert.ok(s.json.handshakes.ok >= 2, 'TLS handshakes counted');
  assert.ok(s.json.connections.total.tls >= 2 && s.json.connections.total.plain >= 1);
  assert.ok(s.json.tls.bytesIn > 0 && s.json.plain.bytesIn > 0);
});

api('GET /api/connections lists the caller with TLS details, and /api/connections/:id', async ({ server }) => {
  const port = portOf(server, 'tls');
  const sock = tlsClient(port, { servername: 'localhost', ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => { sock.once('secureConnect', resolve); sock.once('error', reject); });
  const send = (path: string) => roundTrip(sock, path);
  const list = await send('/api/connections');
  assert.is(list.status, 200);
  const me = list.json.connections.find((c: any) => c.remotePort === sock.localPort);
  assert.ok(me, 'own connection listed');
  assert.is(me.transport, 'tls');
  assert.is(me.state, 'active');
  assert.is(me.protocol, 'TLSv1.3');
  assert.type(me.cipher, 'string');
  assert.is(me.alpn, 'http/1.1');
  assert.is(me.sni, 'localhost');
  assert.ok(['read', 'write', 'nothing'].includes(me.waitingFor));
  assert.type(me.counters.wantRead, 'number');
  assert.type(me.queuedBytes, 'number');
  assert.type(me.ageMs, 'number');
  const one = await send(`/api/connections/${me.id}`);
  assert.is(one.status, 200);
  assert.is(one.json.id, me.id);
  assert.is(one.json.requests, 2);
  assert.is(one.json.current, `GET /api/connections/${me.id}`);
  sock.end();

  // Plain connections are listed too.
  const plainList = await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/connections' });
  assert.ok(plainList.json.connections.some((c: any) => c.transport === 'plain' && c.state === 'active'));

  const missing = await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/connections/999999' });
  assert.is(missing.status, 404);
  assert.is(missing.json.status, 404);
  const bad = await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/connections/abc' });
  assert.is(bad.status, 400);
});

api('GET /api/download streams exactly N pattern bytes; bad N is 400', async ({ server }) => {
  for (const v of variants) {
    const port = portOf(server, v.kind);
    for (const n of [0, 1, 250, 251, 65536, 65537, 1_000_003]) {
      const r = await request({ kind: v.kind, client: v.client, port, path: `/api/download?bytes=${n}` });
      assert.is(r.status, 200);
      assert.is(r.headers['content-type'], 'application/octet-stream');
      assert.is(Number(r.headers['content-length']), n);
      assert.is(r.body.length, n, `${v.name} ${n}`);
      assert.ok(isPattern(r.body), `${v.name} ${n}: pattern`);
    }
  }
  const port = portOf(server, 'plain');
  for (const q of ['', '?bytes=', '?bytes=-1', '?bytes=1.5', '?bytes=abc', `?bytes=${1024 ** 3 + 1}`, '?bytes=99999999999', '?bytes=1e3']) {
    const r = await getJson({ kind: 'plain', port, path: `/api/download${q}` });
    assert.is(r.status, 400, q);
    assert.match(r.json.message, /bytes/);
  }
  const max = await request({ kind: 'plain', port, method: 'HEAD', path: `/api/download?bytes=${1024 ** 3}` });
  assert.is(max.status, 200);
  assert.is(Number(max.headers['content-length']), 1024 ** 3);
});

api('POST /api/echo returns the body and type; 413 beyond the limit', async ({ server }) => {
  const body = Buffer.alloc(ECHO_LIMIT);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
  for (const v of variants) {
    const port = portOf(server, v.kind);
    const r = await request({ kind: v.kind, client: v.client, port, method: 'POST', path: '/api/echo', body, headers: { 'Content-Type': 'application/x-test' } });
    assert.is(r.status, 200);
    assert.is(r.headers['content-type'], 'application/x-test');
    assert.ok(r.body.equals(body), `${v.name}: byte-exact echo`);
    const empty = await request({ kind: v.kind, client: v.client, port, method: 'POST', path: '/api/echo', body: '' });
    assert.is(empty.status, 200);
    assert.is(empty.body.length, 0);
    const big = await getJson({ kind: v.kind, client: v.client, port, path: '/api/echo', body: Buffer.concat([body, Buffer.from('x')]), headers: { 'Content-Type': 'text/plain' }, method: 'POST' } as never);
    assert.is(big.status, 413, `${v.name}: declared length over the limit`);
    assert.match(big.json.message, /limit/);
  }
  // A chunked body that grows past the limit.
  for (const kind of ['plain', 'tls'] as const) {
    const chunk = 'a'.repeat(40000);
    const x = await exchange(kind, portOf(server, kind), [
      'POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`, `${chunk.length.toString(16)}\r\n${chunk}\r\n`, '0\r\n\r\n',
    ]);
    assert.is(statusOf(x.text), 413, kind);
    assert.ok(x.closed, 'connection closed after 413');
  }
});

api('unknown routes 404, wrong methods 405 with Allow, JSON errors', async ({ server }) => {
  for (const v of variants) {
    const port = portOf(server, v.kind);
    const nf = await getJson({ kind: v.kind, client: v.client, port, path: '/nope' });
    assert.is(nf.status, 404);
    assert.match(String(nf.headers['content-type']), /^application\/json/);
    assert.equal(Object.keys(nf.json).sort(), ['error', 'message', 'status']);
    const m = await getJson({ kind: v.kind, client: v.client, port, path: '/api/health', method: 'DELETE' } as never);
    assert.is(m.status, 405);
    assert.is(m.headers.allow, 'GET, HEAD');
    const e = await getJson({ kind: v.kind, client: v.client, port, path: '/api/echo' });
    assert.is(e.status, 405);
    assert.is(e.headers.allow, 'POST');
    const ws = await getJson({ kind: v.kind, client: v.client, port, path: '/ws' });
    assert.is(ws.status, 426);
  }
  const x = await exchange('plain', portOf(server, 'plain'), 'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.is(statusOf(x.text), 400);
  assert.is(bodyOf(x.text).status, 400);
});

api('/ws pushes a stats snapshot and connection events, and echoes', async ({ server }) => {
  const urls = [
    { url: `wss://127.0.0.1:${portOf(server, 'tls')}/ws`, opts: { ca: testIdentity().cert } },
    { url: `wss://127.0.0.1:${portOf(server, 'tls')}/ws`, opts: { createConnection: () => tlsClient(portOf(server, 'tls')) } },
    { url: `ws://127.0.0.1:${portOf(server, 'plain')}/ws`, opts: {} },
  ];
  for (const { url, opts } of urls) {
    const ws = new WebSocket(url, opts as WebSocket.ClientOptions);
    const messages: any[] = [];
    const echoes: Array<{ data: Buffer; binary: boolean }> = [];
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (binary) { echoes.push({ data, binary }); return; }
      const text = data.toString('utf8');
      try {
        const m = JSON.parse(text);
        if (m && typeof m === 'object' && typeof m.type === 'string') { messages.push(m); return; }
      } catch { /* an echo */ }
      echoes.push({ data, binary });
    });
    await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const hello = await waitFor('hello', () => messages.find((m) => m.type === 'hello'));
    assert.type(hello.you, 'number');
    assert.ok(hello.connections.some((c: any) => c.id === hello.you && c.state === 'websocket'), url);
    const stats = await waitFor('stats snapshot', () => messages.find((m) => m.type === 'stats'));
    assert.type(stats.stats.wantRead, 'number');
    assert.ok(Array.isArray(stats.connections));
    // Another connection opening, serving a request and closing shows up as events.
    await request({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/health' });
    const opened = await waitFor('open event', () => messages.find((m) => m.type === 'connection' && m.event === 'open' && m.connection.transport === 'plain'));
    const id = opened.connection.id;
    const active = await waitFor('state event', () => messages.find((m) => m.type === 'connection' && m.event === 'state' && m.connection.id === id && m.connection.state === 'active'));
    assert.is(active.connection.current, 'GET /api/health');
    await waitFor('close event', () => messages.some((m) => m.type === 'connection' && m.event === 'close' && m.connection.id === id));
    ws.send('hello there');
    const bin = Buffer.from([0, 1, 2, 254, 255]);
    ws.send(bin);
    await waitFor('echoes', () => echoes.length >= 2);
    assert.is(echoes[0]!.data.toString('utf8'), 'hello there');
    assert.is(echoes[0]!.binary, false);
    assert.ok(echoes[1]!.data.equals(bin));
    assert.is(echoes[1]!.binary, true);
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.close(1000);
    assert.is(await closed, 1000);
  }
  const x = await exchange('plain', portOf(server, 'plain'), 'GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.is(statusOf(x.text), 404);
});

api('idle keep-alive connections wait for read, on both transports', async ({ server }) => {
  for (const kind of ['plain', 'tls'] as const) {
    const sock = await rawConnection(kind, portOf(server, kind));
    try {
      const first = await roundTrip(sock, '/api/health');
      assert.is(first.status, 200);
      const local = (sock as { localPort?: number }).localPort;
      // Asked over the other transport, so this connection stays idle meanwhile.
      const other = kind === 'tls' ? 'plain' : 'tls';
      const me = await waitFor(`${kind} connection idle`, async () => {
        const list = await getJson({ kind: other, port: portOf(server, other), path: '/api/connections' });
        return list.json.connections.find((c: any) => c.remotePort === local && c.state === 'idle');
      });
      assert.is(me.transport, kind);
      assert.is(me.waitingFor, 'read', `${kind}: an idle keep-alive connection waits for the next request`);
      assert.is(me.queuedBytes, 0);
      // Once the client has ended its side, the connection no longer waits to read.
      sock.end();
      await waitFor(`${kind} connection gone or not reading`, () => {
        const rec = [...server.registry.live.values()].find((r) => r.remotePort === local);
        return !rec || server.registry.info(rec).waitingFor !== 'read';
      });
    } finally {
      sock.destroy();
    }
  }
});

api('the dashboard script is prebuilt, bundled from source, or a loud error', async () => {
  // From the source tree (npm start): bundled from src/webui/dashboard/main.ts.
  const fromSource = await dashboardAssets();
  assert.match(fromSource.html, /<canvas id="chart"/);
  assert.match(fromSource.script, /\/ws/);
  const dir = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-assets-'));
  try {
    const base = pathToFileURL(`${dir}/`);
    // Neither a prebuilt script nor the sources: an error naming both and the way out.
    try {
      await loadDashboard(base);
      assert.unreachable('loaded a dashboard from an empty directory');
    } catch (e) {
      const err = e as Error & { code?: string };
      assert.instance(err, Error);
      assert.is(err.code, 'ERR_DASHBOARD');
      assert.match(err.message, /dashboard\.js/);
      assert.match(err.message, /--no-dashboard/);
    }
    // A broken source tree is an error too, not an empty page.
    mkdirSync(join(dir, 'dashboard'));
    writeFileSync(join(dir, 'dashboard', 'main.ts'), 'this is not ( TypeScript');
    const broken = await loadDashboard(base).then(() => null, (e: Error & { code?: string }) => e);
    assert.is(broken?.code, 'ERR_DASHBOARD');
    // A packaged dist/: the prebuilt dashboard.js wins.
    writeFileSync(join(dir, 'dashboard.js'), 'console.log("prebuilt")');
    const packaged = await loadDashboard(base);
    assert.is(packaged.script, 'console.log("prebuilt")');
    assert.is(packaged.html, fromSource.html);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

api('keep-alive agents reuse connections (ours over TLS, node over HTTP)', async ({ server }) => {
  const agent = ourTlsAgent(true);
  const port = portOf(server, 'tls');
  const first = await request({ kind: 'tls', port, path: '/api/health', agent });
  const before = (await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/stats' })).json.connections.total.tls;
  for (let i = 0; i < 5; i++) {
    const r = await request({ kind: 'tls', port, path: `/api/download?bytes=${1000 + i}`, agent });
    assert.is(r.body.length, 1000 + i);
    assert.ok(isPattern(r.body));
  }
  const after = (await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/stats' })).json.connections.total.tls;
  assert.is(first.status, 200);
  assert.is(after, before, 'no new TLS connections');
  agent.destroy();
});

api.run();
