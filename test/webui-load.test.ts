// 200 concurrent clients mixing HTTPS (our client and node:https) and HTTP, keep-alive and not,
// on every endpoint (the dashboard page and script included), plus a few WebSocket clients;
// every byte checked.
import http from 'node:http';
import https from 'node:https';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import type { WebServer } from '../src/webui/server.js';
import {
  getJson, isPattern, ourTlsAgent, portOf, request, startTestServer, testIdentity, tlsClient, waitFor, type Kind,
} from './helpers/webui-client.js';

const load = suite<{ server: WebServer; page: Buffer; script: Buffer }>('webui: load');

load.before(async (ctx) => {
  // With the dashboard, so its page and script are among the endpoints under load.
  ctx.server = await startTestServer({ echoLimit: 64 * 1024, statsIntervalMs: 200, dashboard: true });
  const page = await request({ kind: 'plain', port: portOf(ctx.server, 'plain'), path: '/' });
  const script = await request({ kind: 'plain', port: portOf(ctx.server, 'plain'), path: '/dashboard.js' });
  ctx.page = page.body;
  ctx.script = script.body;
  assert.ok(ctx.page.length > 0 && ctx.script.length > 0);
});

load.after(async (ctx) => {
  await ctx.server.shutdown({ drainMs: 1000 });
});

/** Deterministic pseudo-random numbers (so a failure can be replayed). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

interface Variant { kind: Kind; client?: 'ours' | 'node'; keepAlive: boolean }
const VARIANTS: Variant[] = [
  { kind: 'tls', client: 'ours', keepAlive: true },
  { kind: 'tls', client: 'ours', keepAlive: false },
  { kind: 'tls', client: 'node', keepAlive: true },
  { kind: 'tls', client: 'node', keepAlive: false },
  { kind: 'plain', keepAlive: true },
  { kind: 'plain', keepAlive: false },
];

async function client(server: WebServer, index: number, dashboard: { page: Buffer; script: Buffer }): Promise<number> {
  const v = VARIANTS[index % VARIANTS.length]!;
  const rand = rng(index + 1);
  const port = portOf(server, v.kind);
  let agent: http.Agent | undefined;
  if (v.keepAlive) {
    agent = v.kind === 'plain' ? new http.Agent({ keepAlive: true, maxSockets: 1 })
      : v.client === 'node' ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: testIdentity().cert })
      : ourTlsAgent(true);
  }
  const base = { kind: v.kind, client: v.client, port, agent };
  let checks = 0;
  try {
    const h = await getJson({ ...base, path: '/api/health' });
    assert.is(h.status, 200);
    assert.is(h.json.status, 'ok');
    checks++;
    for (let round = 0; round < 2; round++) {
      const n = Math.floor(rand() * 200_000);
      const d = await request({ ...base, path: `/api/download?bytes=${n}` });
      assert.is(d.status, 200);
      assert.is(d.body.length, n, `client ${index}: download length`);
      assert.ok(isPattern(d.body), `client ${index}: download bytes`);
      checks++;
      const body = Buffer.alloc(Math.floor(rand() * 40_000));
      for (let i = 0; i < body.length; i++) body[i] = (i * 13 + index) & 0xff;
      const e = await request({ ...base, method: 'POST', path: '/api/echo', body, headers: { 'Content-Type': 'application/octet-stream' } });
      assert.is(e.status, 200);
      assert.ok(e.body.equals(body), `client ${index}: echo bytes`);
      checks++;
    }
    const s = await getJson({ ...base, path: '/api/stats' });
    assert.is(s.status, 200);
    assert.ok(s.json.connections.open.total >= 1);
    const c = await getJson({ ...base, path: '/api/connections' });
    assert.is(c.status, 200);
    assert.ok(Array.isArray(c.json.connections));
    const id = c.json.connections[Math.floor(rand() * c.json.connections.length)]?.id ?? 1;
    const one = await getJson({ ...base, path: `/api/connections/${id}` });
    assert.ok(one.status === 200 || one.status === 404, `connection ${id}: ${one.status}`);
    assert.is(one.json.id ?? one.json.status, one.status === 200 ? id : 404);
    const nf = await getJson({ ...base, path: '/no/such/route' });
    assert.is(nf.status, 404);
    const na = await getJson({ ...base, path: '/api/stats', method: 'PUT' } as never);
    assert.is(na.status, 405);
    checks += 5;
    // The dashboard page and its script, byte for byte what a quiet server sends.
    const page = await request({ ...base, path: '/' });
    assert.is(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.ok(page.body.equals(dashboard.page), `client ${index}: dashboard page`);
    const script = await request({ ...base, path: '/dashboard.js' });
    assert.is(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    assert.ok(script.body.equals(dashboard.script), `client ${index}: dashboard script`);
    checks += 2;
  } finally {
    agent?.destroy();
  }
  return checks;
}

async function wsClient(server: WebServer, index: number): Promise<number> {
  const tls = index % 2 === 0;
  const url = tls ? `wss://127.0.0.1:${portOf(server, 'tls')}/ws` : `ws://127.0.0.1:${portOf(server, 'plain')}/ws`;
  const opts: WebSocket.ClientOptions = tls
    ? (index % 4 === 0 ? { ca: testIdentity().cert } : { createConnection: (() => tlsClient(portOf(server, 'tls'))) as never })
    : {};
  const ws = new WebSocket(url, opts);
  const rand = rng(1000 + index);
  const sent: Buffer[] = [];
  const echoed: Buffer[] = [];
  let snapshots = 0;
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (binary) echoed.push(data);
    else if (JSON.parse(data.toString('utf8')).type === 'stats') snapshots++;
  });
  await new Promise<void>((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  for (let i = 0; i < 30; i++) {
    const m = Buffer.alloc(Math.floor(rand() * 20_000) + 1);
    for (let j = 0; j < m.length; j++) m[j] = (j + i * 7 + index) & 0xff;
    sent.push(m);
    ws.send(m, { binary: true });
  }
  await waitFor(`ws ${index} echoes`, () => echoed.length === sent.length, 30_000);
  sent.forEach((m, i) => assert.ok(echoed[i]!.equals(m), `ws ${index} message ${i}`));
  await waitFor(`ws ${index} stats snapshot`, () => snapshots > 0, 30_000);
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  ws.close(1000);
  assert.is(await closed, 1000);
  return sent.length;
}

load('200 concurrent clients (HTTPS ours / node:https / HTTP, keep-alive or not) and 4 WebSockets, byte-exact', async ({ server, page, script }) => {
  const clients = Array.from({ length: 200 }, (_, i) => client(server, i, { page, script }));
  const sockets = Array.from({ length: 4 }, (_, i) => wsClient(server, i));
  const results = await Promise.all([...clients, ...sockets]);
  assert.ok(results.slice(0, 200).every((n) => n === 12), 'every client completed every check');
  const st = server.stats();
  assert.is(st.handshakes.failed, 0, JSON.stringify(st.handshakes.failedByReason));
  assert.ok(st.handshakes.ok >= 100);
  assert.ok(st.connections.total.tls >= 100 && st.connections.total.plain >= 60);
  assert.is(st.http.byStatus['500'] ?? 0, 0);
  assert.ok(st.websockets.total >= 4);
  // Every connection ends once the clients are gone.
  await waitFor('all connections closed', () => server.registry.live.size === 0, 20_000);
  assert.is(server.stats().queuedBytes, 0);
});

load.run();
