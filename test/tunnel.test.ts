// The WebSocket-to-TCP tunnel (src/node/tunnel.ts): allow-list, close codes, byte-exact relay
// with flow control in both directions, the buffer caps (before and after the target connected);
// and TLS end to end through it with the browser-side stream (src/browser/tls-stream.ts) running
// in Node over a `ws` client.
import './helpers/setup.js';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { connect as tlsConnect } from '../src/browser/tls-stream.js';
import { createServer } from '../src/node/server.js';
import { createTunnel, type Tunnel, type TunnelOptions } from '../src/node/tunnel.js';
import { pem } from './helpers/fixtures.js';

const TIMEOUT = 10000;

function within<T>(p: Promise<T>, what: string, ms = TIMEOUT): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); }),
  ]);
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A TCP server that echoes, tracking its connections so a test can end them. */
async function echoServer(): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { port: 0, connections: 0, close: async () => { for (const s of sockets) s.destroy(); await closeServer(server); } };
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  state.port = await listen(server);
  return state;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function random(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
  return out;
}

async function withTunnel(options: TunnelOptions, fn: (t: Tunnel) => Promise<void>): Promise<void> {
  const tunnel = await createTunnel(options);
  try { await fn(tunnel); } finally { await tunnel.close(); }
}

/** A client for `fn`, terminated afterwards: a failed test must not leave a paused client holding
 * the tunnel's close open (that would hang the suite instead of failing it). */
async function withClient(url: string, fn: (ws: WebSocket) => Promise<void>): Promise<void> {
  const ws = await open(url);
  try { await fn(ws); } finally { ws.terminate(); }
}

test('no allow-list: every target is refused with 4403, and nothing is dialled', async () => {
  const echo = await echoServer();
  try {
    await withTunnel({}, async (t) => {
      const ws = await open(t.url(`127.0.0.1:${echo.port}`));
      const c = await within(closed(ws), 'close');
      assert.is(c.code, 4403);
      assert.is(c.reason, 'target not allowed');
      assert.is(echo.connections, 0);
    });
  } finally { await echo.close(); }
});

test('a target not on the list is refused; malformed and missing targets get 4400', async () => {
  const echo = await echoServer();
  try {
    await withTunnel({ allow: [`127.0.0.1:${echo.port}`] }, async (t) => {
      const other = await open(t.url(`127.0.0.1:${echo.port + 1}`));
      assert.is((await within(closed(other), 'close')).code, 4403);
      const bad = await open(t.url('no-port-here'));
      assert.is((await within(closed(bad), 'close')).code, 4400);
      const none = await open(`ws://127.0.0.1:${t.port}/tunnel`);
      assert.is((await within(closed(none), 'close')).code, 4400);
      assert.is(echo.connections, 0);
    });
  } finally { await echo.close(); }
});

test('allowed target: 1 MiB round-trips byte for byte (query and path forms)', async () => {
  const echo = await echoServer();
  try {
    await withTunnel({ allow: [`127.0.0.1:${echo.port}`] }, async (t) => {
      for (const url of [t.url(`127.0.0.1:${echo.port}`), `ws://127.0.0.1:${t.port}/tunnel/127.0.0.1:${echo.port}`]) {
        const ws = await open(url);
        const data = random(1024 * 1024, 7);
        const got: Buffer[] = [];
        let n = 0;
        const done = new Promise<void>((resolve) => ws.on('message', (m: Buffer) => { got.push(m); n += m.length; if (n >= data.length) resolve(); }));
        for (let i = 0; i < data.length; i += 16384) ws.send(data.subarray(i, i + 16384));
        await within(done, 'echo');
        assert.ok(Buffer.concat(got).equals(Buffer.from(data)));
        ws.close();
        await closed(ws);
      }
      assert.is(echo.connections, 2);
    });
  } finally { await echo.close(); }
});

test('the target closing is a clean close (1000) after all of its bytes', async () => {
  const server = net.createServer((s) => { s.end('goodbye'); });
  const port = await listen(server);
  try {
    await withTunnel({ allow: [`127.0.0.1:${port}`] }, async (t) => {
      const ws = await open(t.url(`127.0.0.1:${port}`));
      const got: Buffer[] = [];
      ws.on('message', (m: Buffer) => got.push(m));
      const c = await within(closed(ws), 'close');
      assert.is(c.code, 1000);
      assert.is(Buffer.concat(got).toString(), 'goodbye');
    });
  } finally { await closeServer(server); }
});

test('an allowed target that refuses the connection: 4502', async () => {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  await withTunnel({ allow: [`127.0.0.1:${port}`] }, async (t) => {
    const ws = await open(t.url(`127.0.0.1:${port}`));
    const c = await within(closed(ws), 'close');
    assert.is(c.code, 4502);
    assert.match(c.reason, /ECONNREFUSED/);
  });
});

test('message size: the largest message (maxBuffered / 2) is relayed whole; one byte more is refused (1009)', async () => {
  const echo = await echoServer();
  try {
    await withTunnel({ allow: [`127.0.0.1:${echo.port}`], maxBuffered: 64 * 1024 }, async (t) => {
      // Half the cap: one whole message on top of a full TCP write buffer stays under it.
      assert.is(t.maxMessage, 32 * 1024);
      const ws = await open(t.url(`127.0.0.1:${echo.port}`));
      const biggest = random(t.maxMessage, 4);
      const parts: Buffer[] = [];
      let n = 0;
      const echoed = new Promise<void>((resolve) => ws.on('message', (m: Buffer) => { parts.push(m); n += m.length; if (n >= biggest.length) resolve(); }));
      ws.send(biggest);
      await within(echoed, 'the echo of the largest message');
      assert.ok(Buffer.concat(parts).equals(Buffer.from(biggest)), 'byte-exact');
      ws.send(random(t.maxMessage + 1, 3));
      assert.is((await within(closed(ws), 'close')).code, 1009);
      assert.is(t.stats.closes[4008], undefined);
    });
  } finally { await echo.close(); }
});

test('over the cap: bytes piling up for the target close the tunnel with 4008', async () => {
  // A dial that never connects: everything the client sends waits in the tunnel.
  const stuck: net.Socket[] = [];
  await withTunnel({ allow: ['127.0.0.1:9'], maxBuffered: 64 * 1024, dial: () => { const s = new net.Socket(); stuck.push(s); return s; } }, async (t) => {
    const ws = await open(t.url('127.0.0.1:9'));
    for (let i = 0; i < 5; i++) ws.send(random(16 * 1024, i + 1));
    const c = await within(closed(ws), 'close');
    assert.is(c.code, 4008);
    assert.is(c.reason, 'buffer limit exceeded');
    assert.is(t.stats.closes[4008], 1);
  });
  for (const s of stuck) s.destroy();
});

/** Polls `cond` (a hang guard, not a timing assertion): resolves once it holds. */
async function until(cond: () => boolean, what: string, ms = TIMEOUT): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// The two caps after the target connected (tunnel.ts: TCP write buffer, WebSocket send buffer).
// Flow control normally pauses the other side first: TCP reading pauses at 16 KiB or more
// waiting on the WebSocket, WebSocket reading when the TCP socket's write buffer is over its
// 16 KiB high-water mark. With maxBuffered at 8 KiB, below both, the cap is what acts as soon
// as one direction backs up, so these tests need no race with the pauses to reach it.
const SMALL_CAP = 8 * 1024;
/** Far more than loopback's kernel buffers hold: the guard against a tunnel that never caps. */
const FLOOD_LIMIT = 256 * 1024 * 1024;

test('over the cap after connect: a target that writes faster than the client reads closes with 4008', async () => {
  const chunk = Buffer.from(random(1024 * 1024, 21));
  let written = 0;
  let targetSocket: net.Socket | undefined;
  const server = net.createServer((s) => {
    targetSocket = s;
    s.on('error', () => {});
    // Every chunk write() takes counts, including the one it answers false to.
    const pump = () => { while (!s.destroyed && written < FLOOD_LIMIT) { const ok = s.write(chunk); written += chunk.length; if (!ok) break; } };
    s.on('drain', pump);
    pump();
  });
  const port = await listen(server);
  try {
    await withTunnel({ allow: [`127.0.0.1:${port}`], maxBuffered: SMALL_CAP }, (t) => withClient(t.url(`127.0.0.1:${port}`), async (ws) => {
      // The browser side stops reading: kernel buffers fill, then the tunnel's send buffer grows.
      ws.pause();
      await until(() => t.stats.closes[4008] === 1, 'the tunnel closes the relay over its cap');
      // The target is cut off, and the close frame waits behind the bytes already queued.
      await until(() => targetSocket?.destroyed === true, 'the target connection is closed');
      // What arrives is exactly the start of what the target wrote (the chunk, repeated).
      let received = 0;
      let intact = true;
      ws.on('message', (m: Buffer) => {
        for (let i = 0; i < m.length;) {
          const at = (received + i) % chunk.length;
          const n = Math.min(m.length - i, chunk.length - at);
          if (!m.subarray(i, i + n).equals(chunk.subarray(at, at + n))) intact = false;
          i += n;
        }
        received += m.length;
      });
      const c = closed(ws);
      ws.resume();
      const { code, reason } = await within(c, 'close');
      assert.is(code, 4008);
      assert.is(reason, 'buffer limit exceeded');
      assert.ok(received > 0 && received <= written, `got ${received} of the ${written} bytes written`);
      assert.ok(intact, 'the bytes that arrived are the start of the stream the target wrote');
      assert.ok(written < FLOOD_LIMIT, 'capped long before the flood ended');
      assert.is(t.stats.closes[1000], undefined, 'not reported as a normal close');
      assert.is(t.stats.open, 0);
    }));
  } finally {
    targetSocket?.destroy();
    await closeServer(server);
  }
});

test('over the cap after connect: a target that never reads while the client keeps sending closes with 4008', async () => {
  let targetSocket: net.Socket | undefined;
  const server = net.createServer((s) => {
    targetSocket = s;
    s.on('error', () => {});
    s.pause(); // never reads
  });
  const port = await listen(server);
  try {
    await withTunnel({ allow: [`127.0.0.1:${port}`], maxBuffered: SMALL_CAP }, (t) => withClient(t.url(`127.0.0.1:${port}`), async (ws) => {
      const c = closed(ws);
      const message = random(t.maxMessage, 23);
      let sent = 0;
      // Keep sending (in steps, so the client's own buffer stays small) until the tunnel closes,
      // or (a broken cap: the tunnel just stops reading) until the hang guard gives up.
      const giveUp = Date.now() + TIMEOUT;
      while (ws.readyState === WebSocket.OPEN && sent < FLOOD_LIMIT && Date.now() < giveUp) {
        while (ws.bufferedAmount < 256 * 1024 && sent < FLOOD_LIMIT) { ws.send(message); sent += message.length; }
        await new Promise((r) => setTimeout(r, 1));
      }
      const { code, reason } = await within(c, 'close');
      assert.is(code, 4008);
      assert.is(reason, 'buffer limit exceeded');
      assert.ok(sent < FLOOD_LIMIT, 'capped long before the flood ended');
      assert.is(t.stats.closes[4008], 1);
      assert.is(t.stats.pauses.ws, 0, 'the cap acted, not flow control');
      // The tunnel let go of the TCP connection (the target, not reading, never sees the FIN).
      await until(() => t.stats.open === 0, 'the tunnel releases the relay');
    }));
  } finally {
    targetSocket?.destroy();
    await closeServer(server);
  }
});

test('flow control: a slow client and a slow target stall the relay without closing it or losing bytes', async () => {
  const SIZE = 8 * 1024 * 1024;
  const payload = random(SIZE, 11);
  // Target → client: the target writes 8 MiB while the client does not read for a while.
  let targetSocket: net.Socket | undefined;
  const server = net.createServer((s) => {
    targetSocket = s;
    s.write(payload);
  });
  const port = await listen(server);
  try {
    await withTunnel({ allow: [`127.0.0.1:${port}`] }, async (t) => {
      const ws = await open(t.url(`127.0.0.1:${port}`));
      ws.pause();
      await new Promise((r) => setTimeout(r, 300));
      let n = 0;
      const parts: Buffer[] = [];
      const done = new Promise<void>((resolve) => ws.on('message', (m: Buffer) => { parts.push(m); n += m.length; if (n >= SIZE) resolve(); }));
      ws.resume();
      await within(done, 'download');
      assert.ok(Buffer.concat(parts).equals(Buffer.from(payload)));
      // Client → target: the target does not read for a while.
      const received: Buffer[] = [];
      let m = 0;
      const uploaded = new Promise<void>((resolve) => targetSocket!.on('data', (d: Buffer) => { received.push(d); m += d.length; if (m >= SIZE) resolve(); }));
      targetSocket!.pause();
      for (let i = 0; i < SIZE; i += 64 * 1024) ws.send(payload.subarray(i, i + 64 * 1024));
      await new Promise((r) => setTimeout(r, 300));
      assert.is(ws.readyState, WebSocket.OPEN);
      targetSocket!.resume();
      await within(uploaded, 'upload');
      assert.ok(Buffer.concat(received).equals(Buffer.from(payload)));
      assert.is(t.stats.closes[4008], undefined);
      assert.ok(t.stats.pauses.tcp > 0, 'TCP reading paused while the client was not reading');
      assert.ok(t.stats.pauses.ws > 0, 'WebSocket reading paused while the target was not reading');
      ws.close();
      await closed(ws);
    });
  } finally {
    targetSocket?.destroy();
    await closeServer(server);
  }
});

for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
  test(`TLS (${version}) through the tunnel: browser-side stream over a ws client to our Node server`, async () => {
    const response = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello';
    const server = createServer({ ...pem.ecdsa(), minVersion: version, maxVersion: version, ALPNProtocols: ['http/1.1'] }, (socket) => {
      let req = '';
      socket.on('data', (d: Buffer) => {
        req += d.toString();
        if (req.includes('\r\n\r\n')) socket.end(response);
      });
      socket.on('error', () => {});
    });
    const port = await listen(server);
    try {
      await withTunnel({ allow: [`127.0.0.1:${port}`] }, async (t) => {
        const ws = new WebSocket(t.url(`127.0.0.1:${port}`));
        const stream = tlsConnect({ socket: ws as never, servername: 'localhost', ca: pem.ca(), ALPNProtocols: ['http/1.1'] });
        const chunks: Uint8Array[] = [];
        const result = new Promise<{ protocol: string | null; alpn: string | false; authorized: boolean; text: string }>((resolve, reject) => {
          let protocol: string | null = null;
          stream.on('secureConnect', () => {
            protocol = stream.getProtocol();
            stream.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
          });
          stream.on('data', (d) => chunks.push(d));
          stream.on('error', reject);
          stream.on('close', () => resolve({ protocol, alpn: stream.alpnProtocol, authorized: stream.authorized, text: Buffer.concat(chunks).toString() }));
        });
        const r = await within(result, 'TLS request');
        assert.is(r.protocol, version);
        assert.is(r.authorized, true);
        assert.is(r.alpn, 'http/1.1');
        assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
        assert.ok(r.text.endsWith('hello'));
      });
    } finally { await closeServer(server); }
  });
}

test('WebSocketTransport: bytes held while the application does not read are capped (ERR_WS_BUFFER_OVERFLOW)', async () => {
  const big = new Uint8Array(256 * 1024).fill(0x61);
  const server = createServer({ ...pem.ecdsa() }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', () => { for (let i = 0; i < 8; i++) socket.write(big); });
  });
  const port = await listen(server);
  try {
    await withTunnel({ allow: [`127.0.0.1:${port}`] }, async (t) => {
      const stream = tlsConnect({ socket: new WebSocket(t.url(`127.0.0.1:${port}`)) as never, servername: 'localhost', ca: pem.ca(), maxBuffered: 128 * 1024 });
      stream.on('secureConnect', () => { stream.pause(); stream.write('go'); });
      const err = await within(new Promise<Error>((resolve) => stream.on('error', resolve)), 'overflow');
      assert.is((err as Error & { code?: string }).code, 'ERR_WS_BUFFER_OVERFLOW');
      assert.match(err.message, /inbound/);
    });
  } finally { await closeServer(server); }
});

test('a malformed escape in the target path is a bad target (4400)', async () => {
  await withTunnel({ allow: ['127.0.0.1:9'] }, async (t) => {
    const ws = await open(`ws://127.0.0.1:${t.port}/tunnel/%E0%A4%A`);
    assert.is((await within(closed(ws), 'close')).code, 4400);
  });
});

test('TLS through the tunnel to a refused target: the stream reports the close code', async () => {
  await withTunnel({}, async (t) => {
    const ws = new WebSocket(t.url('127.0.0.1:9'));
    const stream = tlsConnect({ socket: ws as never, servername: 'localhost', ca: pem.ca() });
    const err = await within(new Promise<Error>((resolve) => stream.on('error', resolve)), 'error');
    assert.is((err as Error & { code?: string }).code, 'ERR_WS_CLOSED');
    assert.match(err.message, /4403: target not allowed/);
  });
});

test.run();
