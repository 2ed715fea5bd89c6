// Graceful shutdown of the real `serve` process: SIGTERM/SIGINT stop accepting, WebSockets get
// 1001, in-flight responses finish, a client that never reads is abandoned at the drain
// deadline, and the process exits 0 by itself; a second signal exits at once with 130.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { connect, type TLSSocket } from '../src/node/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJson, isPattern, waitFor, within } from './helpers/webui-client.js';
import { serve, tempDir } from './helpers/webui-process.js';

const down = suite<{ dir: string; ca: string }>('cli: shutdown');

down.before((ctx) => {
  ctx.dir = tempDir('shutdown');
});

/** Sockets, servers, pipes and child processes this process holds (uvu runs every file in one). */
const HANDLES = new Set(['TCPSocketWrap', 'TCPServerWrap', 'ProcessWrap', 'PipeWrap']);
const handles = () => process.getActiveResourcesInfo().filter((r) => HANDLES.has(r)).length;

/** Each test leaves nothing behind: its serve process and client sockets are gone (bounded wait:
 * a killed child's pipes and a reset socket close a moment after). */
async function nothingLeft(before: number): Promise<void> {
  for (let i = 0; i < 500 && handles() > before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(handles() <= before, `left open: ${process.getActiveResourcesInfo().join(', ')}`);
}

/** Hang guard beyond a drain deadline: the server had that long, plus process start/exit slack. */
const SLACK = 20_000;

function tls(port: number, ca: string): Promise<TLSSocket> {
  return within('TLS handshake with serve', new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  }), SLACK);
}

/** Waits for a connection (by client port) to be blocked writing a response. */
async function blockedOnWrite(httpPort: number, localPort: number | undefined): Promise<void> {
  await waitFor('download blocked on write', async () => {
    const list = await getJson({ kind: 'plain', port: httpPort, path: '/api/connections', limitMs: SLACK });
    return list.json.connections.some((c: any) => c.remotePort === localPort && c.waitingFor === 'write');
  });
}

down('SIGTERM: WebSocket 1001, idle keep-alive closed, never-reading 1 GiB downloads abandoned, exit 0', async ({ dir }) => {
  const before = handles();
  const drainMs = 1500;
  const srv = await serve(['--data-dir', join(dir, 'state'), '--drain-ms', String(drainMs)]);
  const ca = readFileSync(join(dir, 'state', 'cert.pem'), 'utf8');
  try {
    // A TLS client and a plain client that request 1 GiB and never read.
    const stuck = await tls(srv.https, ca);
    stuck.on('error', () => {});
    stuck.write(`GET /api/download?bytes=${1024 ** 3} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const stuckPlain = net.connect({ host: '127.0.0.1', port: srv.http! });
    stuckPlain.on('error', () => {});
    await within('plain connection to serve', new Promise<void>((r) => stuckPlain.once('connect', () => r())), SLACK);
    stuckPlain.write(`GET /api/download?bytes=${1024 ** 3} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await blockedOnWrite(srv.http!, stuck.localPort);
    await blockedOnWrite(srv.http!, stuckPlain.localPort);

    // An idle keep-alive connection (one response read).
    const idle = await tls(srv.https, ca);
    let idleText = '';
    idle.on('data', (d: Buffer) => { idleText += d.toString('latin1'); });
    const idleEnded = new Promise<void>((r) => idle.once('end', () => r()));
    idle.on('error', () => {});
    idle.write('GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('idle response', () => idleText.includes('"status": "ok"'));

    // A WebSocket client.
    const ws = new WebSocket(`wss://127.0.0.1:${srv.https}/ws`, { ca });
    const wsClosed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code: number, reason: Buffer) => r({ code, reason: reason.toString() })));
    ws.on('error', () => {});
    await within('WebSocket open', new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); }), SLACK);

    srv.child.kill('SIGTERM');
    const closed = await within('WebSocket close (1001) after SIGTERM', wsClosed, drainMs + SLACK);
    assert.is(closed.code, 1001);
    assert.match(closed.reason, /shutting down/);
    await within('the idle keep-alive connection ended by the server', idleEnded, drainMs + SLACK);
    const { code, signal } = await within('serve to exit after SIGTERM', srv.exited, drainMs + SLACK);
    assert.is(signal, null);
    assert.is(code, 0, srv.stderr());
    assert.match(srv.stderr(), /SIGTERM: shutting down/);
    const m = /stopped: (\d+) connection\(s\) drained, (\d+) abandoned/.exec(srv.stderr());
    assert.ok(m, srv.stderr());
    assert.ok(Number(m![2]) >= 2, 'the two never-reading downloads were abandoned');
    stuck.destroy();
    stuckPlain.destroy();
  } finally {
    srv.child.kill('SIGKILL');
  }
  await nothingLeft(before);
});

down('SIGINT: an in-flight download still completes, new connections are refused, exit 0', async ({ dir }) => {
  const before = handles();
  const drainMs = 60_000;
  const srv = await serve(['--data-dir', join(dir, 'state'), '--drain-ms', String(drainMs)]);
  const ca = readFileSync(join(dir, 'state', 'cert.pem'), 'utf8');
  try {
    const size = 8 * 1024 * 1024;
    const s = await tls(srv.https, ca);
    s.write(`GET /api/download?bytes=${size} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await blockedOnWrite(srv.http!, s.localPort);
    srv.child.kill('SIGINT');
    await waitFor('shutdown started', () => /SIGINT: shutting down/.test(srv.stderr()));
    // Not accepting any more.
    const refused = await within('a new connection to be refused or accepted', new Promise<string>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port: srv.https });
      c.once('connect', () => { c.destroy(); resolve('connected'); });
      c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    }), SLACK);
    assert.is(refused, 'ECONNREFUSED');
    // Now read everything: the response (headers sent before the signal, so keep-alive)
    // completes, then the server ends the connection.
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    await within('the in-flight download to complete and the server to end the connection', new Promise<void>((r) => s.once('end', () => r())), drainMs + SLACK);
    const all = Buffer.concat(chunks);
    const head = all.indexOf('\r\n\r\n');
    assert.match(all.subarray(0, head).toString('latin1'), /^HTTP\/1\.1 200 OK/);
    const body = all.subarray(head + 4);
    assert.is(body.length, size);
    assert.ok(isPattern(body));
    const { code } = await within('serve to exit after SIGINT', srv.exited, drainMs + SLACK);
    assert.is(code, 0, srv.stderr());
    assert.match(srv.stderr(), /stopped: 1 connection\(s\) drained, 0 abandoned/);
  } finally {
    srv.child.kill('SIGKILL');
  }
  await nothingLeft(before);
});

down('a second signal during the drain exits at once with 130', async ({ dir }) => {
  const before = handles();
  const srv = await serve(['--data-dir', join(dir, 'state'), '--drain-ms', '600000', '--no-http']);
  const ca = readFileSync(join(dir, 'state', 'cert.pem'), 'utf8');
  try {
    const stuck = await tls(srv.https, ca);
    stuck.on('error', () => {});
    stuck.write(`GET /api/download?bytes=${1024 ** 3} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor('response started', () => stuck.readableLength > 0);
    srv.child.kill('SIGTERM');
    await waitFor('shutdown started', () => /SIGTERM: shutting down/.test(srv.stderr()));
    srv.child.kill('SIGTERM');
    // The drain would last 10 minutes: exiting at once is the point, so no drain in the guard.
    const { code } = await within('serve to exit on the second signal', srv.exited, SLACK);
    assert.is(code, 130);
    assert.match(srv.stderr(), /SIGTERM again: exiting now/);
    stuck.destroy();
  } finally {
    srv.child.kill('SIGKILL');
  }
  await nothingLeft(before);
});

down.run();
