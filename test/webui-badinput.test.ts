// Bad input to the web UI server, each answered correctly (status, then close) while a good
// client on the other transport keeps being served.
import net from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebServer } from '../src/webui/server.js';
import {
  bodyOf, captureClientHello, collect, exchange, getJson, isPattern, portOf, rawConnection, request, startTestServer, statusOf, tlsClient, waitFor, within,
  type Kind,
} from './helpers/webui-client.js';

const bad = suite<{ server: WebServer; good: number }>('webui: bad input');

bad.before(async (ctx) => {
  ctx.good = 0;
  ctx.server = await startTestServer({
    maxHeaderSize: 4096,
    headersTimeout: 600,
    requestTimeout: 5000,
    keepAliveTimeout: 300,
    handshakeTimeout: 600,
    connectionsCheckingInterval: 50,
    echoLimit: 64 * 1024,
  });
});

bad.after(async (ctx) => {
  await ctx.server.shutdown({ drainMs: 500 });
});

const kinds: Kind[] = ['plain', 'tls'];
const other = (k: Kind): Kind => (k === 'tls' ? 'plain' : 'tls');

/** A good request (download + echo, byte-exact) on `kind`, run while `badCase` is in flight. */
async function alongside<T>(ctx: { server: WebServer; good: number }, kind: Kind, badCase: Promise<T>): Promise<T> {
  const port = portOf(ctx.server, kind);
  const good = (async () => {
    const d = await request({ kind, port, path: '/api/download?bytes=100000' });
    assert.is(d.status, 200);
    assert.ok(d.body.length === 100000 && isPattern(d.body), 'good download intact');
    const body = Buffer.from('still served '.repeat(100));
    const e = await request({ kind, port, method: 'POST', path: '/api/echo', body });
    assert.is(e.status, 200);
    assert.ok(e.body.equals(body), 'good echo intact');
    ctx.good++;
  })();
  const [r] = await Promise.all([badCase, good]);
  return r;
}

function stats(server: WebServer) {
  return server.stats();
}

const parseErrors: Array<[string, string | string[], number]> = [
  ['malformed request line', 'hello world\r\n\r\n', 400],
  ['request line without target', 'GET\r\n\r\n', 400],
  ['oversized headers', `GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`, 431],
  ['conflicting Content-Length', 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400],
  ['invalid Content-Length', 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n', 400],
  ['Content-Length with chunked', 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['invalid chunked encoding', ['POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhello\r\nZZ\r\nworld\r\n0\r\n\r\n'], 400],
  ['unknown method', 'BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n', 501],
  ['body over the echo limit', `POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 + 1}\r\n\r\n`, 413],
];

for (const [name, payload, status] of parseErrors) {
  bad(`${name}: ${status}, then close (plain and TLS)`, async (ctx) => {
    for (const kind of kinds) {
      const x = await alongside(ctx, other(kind), exchange(kind, portOf(ctx.server, kind), payload));
      assert.is(statusOf(x.text), status, `${kind}: ${JSON.stringify(x.text.slice(0, 120))}`);
      assert.ok(x.closed, `${kind}: closed`);
      const body = bodyOf(x.text);
      assert.is(body.status, status);
      assert.type(body.message, 'string');
    }
  });
}

bad('slowloris (headers never finish): 408 at the headers timeout, then close', async (ctx) => {
  for (const kind of kinds) {
    const s = await rawConnection(kind, portOf(ctx.server, kind));
    let n = 0;
    const trickle = setInterval(() => { if (!s.destroyed && s.writable) s.write(`X-Slow-${n++}: a\r\n`); }, 50);
    try {
      const x = await alongside(ctx, other(kind), collect(s, 'GET /api/health HTTP/1.1\r\nHost: x\r\n'));
      assert.is(statusOf(x.text), 408, kind);
      assert.ok(x.closed);
    } finally {
      clearInterval(trickle);
    }
  }
  assert.ok((stats(ctx.server).http.clientErrors.ERR_HTTP_REQUEST_TIMEOUT ?? 0) >= 2);
});

bad('idle keep-alive connection: closed by the server after the keep-alive timeout', async (ctx) => {
  for (const kind of kinds) {
    const x = await alongside(ctx, other(kind), exchange(kind, portOf(ctx.server, kind), 'GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.is(statusOf(x.text), 200, kind);
    assert.match(x.text, /"status": "ok"/);
    // A keep-alive response: any close after it is the server's idle timeout, not the answer
    // itself announcing a close.
    const head = x.text.slice(0, x.text.indexOf('\r\n\r\n'));
    assert.not.match(head, /\r\nConnection: *close/i, `${kind}: ${head}`);
    assert.match(head, /\r\nKeep-Alive: *timeout=\d+/i, `${kind}: ${head}`);
    assert.ok(x.closed, `${kind}: closed without a second request`);
  }
});

bad('plaintext HTTP to the HTTPS port: plaintext 400 saying the port speaks HTTPS', async (ctx) => {
  const before = stats(ctx.server).plaintextOnHttpsPort;
  for (const payload of ['GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', ['G', 'ET /api/health HTTP/1.1\r\n\r\n'], 'POST /api/echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc']) {
    const x = await alongside(ctx, 'tls', exchange('plain', portOf(ctx.server, 'tls'), payload));
    assert.is(statusOf(x.text), 400);
    assert.match(bodyOf(x.text).message, /speaks HTTPS/);
    assert.match(bodyOf(x.text).message, new RegExp(`https://127\\.0\\.0\\.1:${portOf(ctx.server, 'tls')}/`));
    assert.ok(x.closed);
  }
  assert.is(stats(ctx.server).plaintextOnHttpsPort, before + 3);
});

bad('TLS garbage to the HTTPS port: closed, counted as failed handshakes', async (ctx) => {
  const before = stats(ctx.server).handshakes.failed;
  const garbage = [
    Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]),
    Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff, 0xfe, 0xfd]),
    Buffer.from('\x16\x03\x03\x40\x00' + 'x'.repeat(100)), // a record longer than TLS allows
    Buffer.from('ssh-2.0-OpenSSH\r\n'),
  ];
  for (const g of garbage) {
    const x = await alongside(ctx, 'tls', exchange('plain', portOf(ctx.server, 'tls'), g));
    assert.ok(x.closed, `closed after ${g.toString('hex').slice(0, 12)}`);
    assert.not.match(x.text, /^HTTP/);
  }
  await waitFor('failures counted', () => stats(ctx.server).handshakes.failed >= before + garbage.length);
});

bad('a handshake that stops halfway: closed at the handshake timeout', async (ctx) => {
  const before = stats(ctx.server).handshakes.failedByReason.ERR_TLS_HANDSHAKE_TIMEOUT ?? 0;
  const hello = await captureClientHello();
  assert.is(hello[0], 0x16);
  // The server answers the ClientHello with its flight, then waits for ours, which never comes.
  const x = await alongside(ctx, 'tls', exchange('plain', portOf(ctx.server, 'tls'), hello));
  assert.ok(x.closed);
  assert.is(x.text.charCodeAt(0), 0x16, 'the server sent its handshake flight');
  // And a client that connects and says nothing at all.
  const silent = await alongside(ctx, 'plain', exchange('plain', portOf(ctx.server, 'tls'), Buffer.alloc(0)));
  assert.ok(silent.closed);
  assert.is(silent.text, '');
  await waitFor('timeouts counted', () => (stats(ctx.server).handshakes.failedByReason.ERR_TLS_HANDSHAKE_TIMEOUT ?? 0) >= before + 2);
});

bad('the handshake timeout runs from connect: a late first byte does not buy a second one', async (ctx) => {
  const port = portOf(ctx.server, 'tls');
  const limit = 600; // the suite's handshakeTimeout
  const before = stats(ctx.server).handshakes.failedByReason.ERR_TLS_HANDSHAKE_TIMEOUT ?? 0;
  const hello = await captureClientHello();
  const order: string[] = [];
  const closedAs = (name: string, s: net.Socket) => new Promise<void>((resolve) => {
    s.on('data', () => {});
    s.on('error', () => {});
    s.once('close', () => { order.push(name); resolve(); });
  });
  // late: connects, waits most of the limit, then starts a handshake it never finishes.
  // silent: connects halfway through and sends nothing (closed at its own limit).
  // With one deadline from connect, late goes first; if the TLS layer restarted the clock when
  // the first bytes came, late would last until 0.8 + 1 limits and close after silent (0.5 + 1).
  const late = net.connect({ host: '127.0.0.1', port });
  const lateClosed = closedAs('late', late);
  await new Promise<void>((resolve) => late.once('connect', () => resolve()));
  const silentClosed = new Promise<void>((resolve) => setTimeout(() => {
    void closedAs('silent', net.connect({ host: '127.0.0.1', port })).then(resolve);
  }, limit * 0.5));
  setTimeout(() => { if (!late.destroyed) late.write(hello); }, limit * 0.8);
  await within('both connections closed by the server', Promise.all([lateClosed, silentClosed]), 20 * limit);
  assert.equal(order, ['late', 'silent']);
  await waitFor('timeouts counted', () => (stats(ctx.server).handshakes.failedByReason.ERR_TLS_HANDSHAKE_TIMEOUT ?? 0) >= before + 2);
});

bad('a client that requests 1 GiB and never reads: bounded buffering, others are served', async (ctx) => {
  const MiB = 1024 * 1024;
  for (const kind of kinds) {
    const port = portOf(ctx.server, kind);
    const s = kind === 'tls' ? tlsClient(port) : net.connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    // Never read: no 'data' listener, so nothing is consumed once the buffers are full.
    await new Promise<void>((resolve) => s.once(kind === 'tls' ? 'secureConnect' : 'connect', () => resolve()));
    s.write(`GET /api/download?bytes=${1024 ** 3} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const local = (s as net.Socket).localPort;
    const look = async () => {
      const list = await getJson({ kind: other(kind), port: portOf(ctx.server, other(kind)), path: '/api/connections' });
      return list.json.connections.find((c: any) => c.remotePort === local);
    };
    const stuck = await waitFor(`${kind} download blocked on write`, async () => {
      const c = await look();
      return c && c.waitingFor === 'write' && c.state === 'active' ? c : null;
    });
    assert.match(stuck.current, /\/api\/download\?bytes=1073741824/);
    // What the server holds for this client is bounded by its buffers, not the 1 GiB asked
    // for: a server that produced the body regardless of backpressure would hold all of it.
    const bounded = (c: any, when: string) => {
      assert.ok(c.queuedBytes < 8 * MiB, `${kind} ${when}: queued ${c.queuedBytes}`);
      assert.ok(c.counters.bytesOut > 0, `${kind} ${when}: some of the body went out`);
      assert.ok(c.counters.bytesOut < 64 * MiB, `${kind} ${when}: bytesOut ${c.counters.bytesOut}`);
    };
    bounded(stuck, 'when blocked');
    // Meanwhile: every other kind of request is served, on both transports.
    await alongside(ctx, 'tls', alongside(ctx, 'plain', Promise.resolve()));
    const st = await getJson({ kind, port, path: '/api/stats' });
    assert.is(st.status, 200);
    assert.ok(st.json.queuedBytes < 8 * MiB, `server-wide queued plaintext ${st.json.queuedBytes}`);
    // Polled again after all that traffic: still blocked, and it has not grown (beyond kernel
    // buffer slack), because nothing was produced while the client did not read.
    const later = await look();
    assert.ok(later, `${kind}: still open`);
    assert.is(later.waitingFor, 'write');
    bounded(later, 'after other traffic');
    assert.ok(later.counters.bytesOut - stuck.counters.bytesOut < 2 * MiB, `${kind}: grew from ${stuck.counters.bytesOut} to ${later.counters.bytesOut}`);
    s.destroy();
    await waitFor('stuck connection gone', () => ![...ctx.server.registry.live.values()].some((r) => r.remotePort === local));
  }
});

bad('a good client was served alongside every case', (ctx) => {
  assert.ok(ctx.good >= parseErrors.length * 2 + 10, `good clients served: ${ctx.good}`);
});

bad.run();
