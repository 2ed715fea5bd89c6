// The socket suite against node:tls (the reference), ours, and node:net (plain TCP, the
// scenarios that are not about TLS: the same server code path behaves as a net.Server does).
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { PassThrough } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ours from '../src/node/index.js';
import { FaultTransport } from '../src/transport/fault.js';
import { StreamTransport } from '../src/transport/stream.js';
import type { Transport, TransportHandlers } from '../src/transport/transport.js';
import { memoryPair } from '../src/transport/memory.js';
import { lib } from '../src/wasm/module.js';
import { readIntoSharedBuffer } from '../src/node/shared-read-buffer.js';
import { bytes, concat, equal, heapBaseline, records } from './helpers/pair.js';
import { WireTap } from './helpers/pumps.js';
import { pem } from './helpers/fixtures.js';
import { socketSuite, within, type SuiteImpl, type SuiteSocket } from './socket-suite.js';

type Opts = Record<string, unknown>;

const nodeTls: SuiteImpl = {
  name: 'socket suite: node:tls',
  tls: true,
  connect: (o) => tls.connect(o as tls.ConnectionOptions) as unknown as SuiteSocket,
  connectPositional: (port, host, o, cb) => tls.connect(port, host, o as tls.ConnectionOptions, cb) as unknown as SuiteSocket,
  createServer: (o, l) => tls.createServer(o as tls.TlsOptions, l as (s: tls.TLSSocket) => void),
  createSecureContext: (o) => tls.createSecureContext(o as tls.SecureContextOptions),
  wrapServer: (raw, o) => new tls.TLSSocket(raw, { ...o, isServer: true } as tls.TLSSocketOptions) as unknown as SuiteSocket,
  codes: {
    resetWriter: ['ECONNRESET', 'EPIPE'],
    // node:tls may still try its dead handle.
    resetClient: ['none', 'EINVAL'],
    handshakeAborted: 'ECONNRESET',
    versionServer: 'ERR_SSL_UNSUPPORTED_PROTOCOL',
    versionClient: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  },
};

const mbedtlsWasm: SuiteImpl = {
  name: 'socket suite: mbedtls-wasm',
  tls: true,
  connect: (o) => ours.connect(o as ours.ConnectionOptions) as unknown as SuiteSocket,
  connectPositional: (port, host, o, cb) => ours.connect(port, host, o, cb) as unknown as SuiteSocket,
  createServer: (o, l) => ours.createServer(o as ours.ServerOptions, l as unknown as (s: ours.TLSSocket) => void),
  createSecureContext: (o) => ours.createSecureContext(o as Opts),
  wrapServer: (raw, o) => new ours.TLSSocket(raw, { ...o, isServer: true } as ours.TLSSocketOptions) as unknown as SuiteSocket,
  codes: {
    resetWriter: ['ECONNRESET', 'EPIPE'],
    resetClient: ['none'],
    handshakeAborted: 'ERR_TLS_HANDSHAKE_EOF',
    versionServer: 'ERR_TLS_PROTOCOL_VERSION',
    // The server's protocol_version alert, as ours names a received alert.
    versionClient: 'ERR_TLS_ALERT_RECEIVED',
  },
  heap: { count: () => lib().heap().count, baseline: heapBaseline },
};

const plain: SuiteImpl = {
  name: 'socket suite: node:net (plain)',
  tls: false,
  connect: (o) => ((o.socket as net.Socket | undefined) ?? net.connect({ port: o.port as number, host: o.host as string, allowHalfOpen: o.allowHalfOpen === true })) as unknown as SuiteSocket,
  createServer: (o, l) => net.createServer({ allowHalfOpen: o.allowHalfOpen === true }, l as (s: net.Socket) => void),
  // No TLS: the accepted socket is the connection.
  wrapServer: (raw) => raw as unknown as SuiteSocket,
  codes: { resetWriter: ['ECONNRESET', 'EPIPE'], resetClient: ['none'], handshakeAborted: '', versionServer: '', versionClient: '' },
};

const only = process.env.SOCKET_SUITE;
for (const impl of [nodeTls, mbedtlsWasm, plain]) {
  if (!only || impl.name.includes(only)) socketSuite(impl);
}

// ---- ours only: what node:tls cannot show (close_notify seen, counters, transports) ----------

const own = suite('socket: mbedtls-wasm specifics');
const HOST = '127.0.0.1';
const clientOpts = { host: HOST, servername: 'localhost', ca: [pem.ca()] };

async function listen(server: ours.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen({ port: 0, host: HOST }, resolve));
  return (server.address() as AddressInfo).port;
}

/** A plain TCP listener on loopback: connect() opens a socket pair through it, [client, server]. */
async function tcpLoopback() {
  const tcp = net.createServer();
  await new Promise<void>((r) => tcp.listen(0, HOST, () => r()));
  const port = (tcp.address() as AddressInfo).port;
  const connect = async (): Promise<[net.Socket, net.Socket]> => {
    const accepted = once(tcp, 'connection');
    const raw = net.connect(port, HOST);
    const [rawServer] = (await accepted) as [net.Socket];
    return [raw, rawServer];
  };
  return { connect, close: () => tcp.close() };
}

function collect(s: ours.TLSSocket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return once(s, 'end').then(() => Buffer.concat(parts));
}

own('orderly close is a close_notify each way, then FIN', async () => {
  let serverSide!: ours.TLSSocket;
  const server = ours.createServer({ ...pem.ecdsa() }, (s) => { serverSide = s; s.resume(); });
  const port = await listen(server);
  const c = ours.connect({ ...clientOpts, port });
  const closed = once(c, 'close');
  await once(c, 'secureConnect');
  const ended = collect(c);
  c.end();
  await ended;
  await closed;
  assert.ok(c.engine.peerClosed, 'client received close_notify');
  assert.ok(serverSide.engine.peerClosed, 'server received close_notify');
  await new Promise<void>((r) => server.close(() => r()));
});

own('a response stalled by a client that does not read costs nothing while stalled', async () => {
  let serverSide!: ours.TLSSocket;
  const server = ours.createServer({ ...pem.ecdsa() }, (s) => { serverSide = s; s.resume(); s.write(bytes(30 * 1024 * 1024, 2)); });
  const port = await listen(server);
  const c = ours.connect({ ...clientOpts, port });
  const closed = once(c, 'close');
  await once(c, 'secureConnect');
  // The client reads nothing: TCP fills up and the server's queue stops moving.
  let last = -1;
  while (serverSide === undefined || serverSide.pump.counters.values.bytesOut !== last) {
    last = serverSide?.pump.counters.values.bytesOut ?? -1;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.is(serverSide.pump.awaiting(), 'write');
  const before = serverSide.pump.counters.snapshot();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(serverSide.pump.counters.snapshot(), before, 'no engine work, no events during the stall');
  // Reading resumes the flow, to the last byte.
  let got = 0;
  c.on('data', (d: Buffer) => { got += d.length; if (got === 30 * 1024 * 1024) c.end(); });
  await closed;
  assert.is(got, 30 * 1024 * 1024);
  await new Promise<void>((r) => server.close(() => r()));
});

own('TLSSocket over a memory transport, with a small engine outbound limit', async () => {
  const [a, b] = memoryPair({ capacity: 4096 });
  const server = new ours.TLSSocket(null, { isServer: true, ...pem.ecdsa(), transport: b, outboundLimit: 1024 });
  const client = new ours.TLSSocket(null, { ...clientOpts, transport: a, outboundLimit: 1024 });
  const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
  server.pipe(server);
  const data = bytes(500000, 4);
  const got = collect(client);
  client.end(data);
  assert.ok(equal(await got, data), 'echo byte-exact');
  assert.ok(server.pump.counters.values.wantWrite > 0, 'the small limit was hit');
  await closed;
});

own('outboundLimit over TCP: large echo stays byte-exact', async () => {
  const server = ours.createServer({ ...pem.ecdsa() }, (s) => s.pipe(s));
  const port = await listen(server);
  const c = ours.connect({ ...clientOpts, port, outboundLimit: 700 });
  const data = bytes(2 * 1024 * 1024, 8);
  const got = collect(c);
  c.end(data);
  assert.ok(equal(await got, data));
  assert.ok(c.pump.counters.values.wantWrite > 0);
  await new Promise<void>((r) => server.close(() => r()));
});

own('write() returns false at the high-water mark; drain fires after the transport is released, byte-exact', async () => {
  const HWM = 32 * 1024, CHUNK = 4096;
  const [a, b] = memoryPair();
  const held = new FaultTransport(b);
  const server = new ours.TLSSocket(null, { isServer: true, ...pem.ecdsa(), transport: held, highWaterMark: HWM });
  const client = new ours.TLSSocket(null, { ...clientOpts, transport: a });
  const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
  const got = collect(client);
  await Promise.all([once(server, 'secure'), once(client, 'secureConnect')]);
  held.holdOutbound(1);
  let drained = false;
  server.on('drain', () => { drained = true; });
  // Synchronous writes: the first record is encrypted inside the write that completes it and
  // goes to the held transport; after that nothing moves, and the marks fill.
  const sent: Buffer[] = [];
  let ok = true;
  while (ok && sent.length < 1000) {
    const chunk = Buffer.from(bytes(CHUNK, sent.length + 1));
    sent.push(chunk);
    ok = server.write(chunk);
  }
  assert.not.ok(ok, 'write() said stop');
  // The pump's queue filled to its mark (its last chunk's callback waits; what it holds is the
  // rest of that first record's last chunk plus whole chunks), then the socket's own buffer to
  // the same mark: the first false is exactly at the second.
  const q = server.pump.queuedBytes;
  assert.ok(q >= HWM && q < HWM + CHUNK, `the pump queue is at its high-water mark (${q})`);
  assert.is(server.writableLength, server.writableHighWaterMark, 'the socket buffer is at its high-water mark');
  assert.is(server.writableHighWaterMark, HWM);
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.not.ok(drained, 'no drain while the transport holds everything');
  assert.ok(held.heldOutbound > 0 && held.heldOutbound < 2 * 16384 + 1024, `held ${held.heldOutbound}: one record, then it stopped`);
  // 'drain' may come from inside the release (the pump runs in the transport's drain event).
  const drain = once(server, 'drain');
  held.releaseOutbound();
  await within(drain, 'drain');
  server.end();
  assert.ok(equal(await within(got, 'data'), concat(sent)), 'byte-exact');
  client.end();
  await within(closed, 'close');
});

own('16 KiB writes against the high-water mark go out as full records, not one short record per batch, batched into few socket writes', async () => {
  // Over TCP, as the bulk benchmark runs: the writer refills on 'drain'.
  const tcp = net.createServer();
  await new Promise<void>((r) => tcp.listen(0, HOST, () => r()));
  const port = (tcp.address() as AddressInfo).port;
  const accepted = once(tcp, 'connection');
  const raw = net.connect(port, HOST);
  await once(raw, 'connect');
  const [rawServer] = (await accepted) as [net.Socket];
  const wire = new WireTap(new StreamTransport(raw));
  const server = new ours.TLSSocket(rawServer, { isServer: true, ...pem.ecdsa() });
  const client = new ours.TLSSocket(null, { ...clientOpts, transport: wire, maxVersion: 'TLSv1.3' });
  const got = collect(server);
  try {
    await Promise.all([once(server, 'secure'), once(client, 'secureConnect')]);
    const from = wire.sent.length;
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(bytes(16384, 100 + i)));
    await new Promise<void>((resolve) => {
      let i = 0;
      const go = () => {
        while (i < chunks.length) { if (!client.write(chunks[i++]!)) { client.once('drain', go); return; } }
        resolve();
      };
      go();
    });
    client.end();
    assert.ok(equal(await within(got, 'end'), concat(chunks)), 'byte-exact');
    const data = records(concat(wire.sent.slice(from))).filter((r) => r.type === 23);
    // 655360 bytes at 16383 per TLS 1.3 record is 41 records (one more for close_notify, which is
    // also type 23 in TLS 1.3); a 4-byte tail per 64 KiB batch would make it about 50.
    assert.ok(data.length <= 43, `${data.length} application-data records`);
    // While the socket keeps up, records go to it in batches of up to three (one write(2) each):
    // seen here 16 writes (one record, then 13 batches, then the tail and close_notify) where
    // one per record made 43.
    const sizes = wire.sent.slice(from).map((b) => b.length);
    assert.ok(sizes.length <= 24, `${sizes.length} socket writes: ${sizes.join(', ')}`);
    assert.ok(Math.max(...sizes) <= 64 * 1024, 'no write above 64 KiB');
  } finally {
    server.destroy();
    client.destroy();
    tcp.close();
  }
});

own('stream transport: a write the Duplex completed at once is no backpressure; one it still holds is, until drain', async () => {
  const { Duplex } = await import('node:stream');
  // A 10-byte high-water mark: every 16-byte write reaches it and write() answers false.
  let held: (() => void) | null = null;
  const duplex = new Duplex({
    writableHighWaterMark: 10,
    read() {},
    write(_chunk, _enc, cb) { if (hold) held = cb; else cb(); },
  });
  let hold = false;
  const t = new StreamTransport(duplex);
  let drains = 0;
  t.attach({ onData() {}, onEnd() {}, onDrain: () => { drains++; }, onClose() {} });
  assert.ok(t.write(new Uint8Array(16)), 'completed at once: the stream holds nothing, so not full');
  assert.not.ok(t.needDrain);
  hold = true;
  assert.not.ok(t.write(new Uint8Array(16)), 'held by the stream: full');
  assert.ok(t.needDrain);
  await new Promise((r) => setImmediate(r));
  const before = drains;
  held!();
  await new Promise((r) => setImmediate(r));
  assert.ok(drains > before, "the stream's drain reaches the owner");
  assert.not.ok(t.needDrain);
  t.destroy();
});

own('over net.Sockets, ciphertext is read into one buffer all connections share: no raw "data" events, and three connections sending and echoing at once each get their own bytes', async () => {
  const tcp = await tcpLoopback();
  try {
    const pairs: Array<[net.Socket, net.Socket]> = [];
    for (let i = 0; i < 3; i++) {
      const [raw, rawServer] = await tcp.connect();
      pairs.push([raw, rawServer]);
    }
    const runs = pairs.map(async ([raw, rawServer], i) => {
      const data = bytes((1 << 20) + 777 * i, 20 + i);
      const server = new ours.TLSSocket(rawServer, { isServer: true, ...pem.ecdsa() });
      const client = new ours.TLSSocket(raw, { ...clientOpts });
      // As over node:tls: once the TLS layer reads the socket, nobody else gets its chunks;
      // over the shared buffer the socket emits none at all.
      let rawEvents = 0;
      rawServer.on('data', () => rawEvents++);
      raw.on('data', () => rawEvents++);
      server.on('data', (d: Buffer) => server.write(d));
      server.on('end', () => server.end());
      const echoed = collect(client);
      await once(client, 'secureConnect');
      client.end(data);
      assert.ok(equal(await within(echoed, 'end'), data), `connection ${i}: byte-exact both ways`);
      assert.is(rawEvents, 0, `connection ${i}: the raw sockets emitted no "data"`);
      server.destroy();
      client.destroy();
    });
    await Promise.all(runs);
  } finally {
    tcp.close();
  }
});

own('readIntoSharedBuffer takes over only a net.Socket nothing else reads: not another Duplex, not one with a "data" listener, not twice; bytes, end and close still arrive', async () => {
  const tcp = await tcpLoopback();
  try {
    assert.is(readIntoSharedBuffer(new PassThrough(), () => {}), false, 'not a net.Socket');
    const [raw, rawServer] = await tcp.connect();
    const listened = () => {};
    raw.on('data', listened);
    assert.is(readIntoSharedBuffer(raw, () => {}), false, 'a socket with a "data" listener');
    raw.removeListener('data', listened);
    const got: Buffer[] = [];
    assert.is(readIntoSharedBuffer(rawServer, (d) => got.push(Buffer.from(d))), true, 'a fresh socket');
    assert.is(readIntoSharedBuffer(rawServer, () => {}), false, 'not twice');
    const ended = once(rawServer, 'end'), closed = once(rawServer, 'close');
    rawServer.resume();
    const data = bytes(300_000, 17);
    raw.end(data);
    await within(ended, 'end');
    rawServer.end();
    await within(closed, 'close');
    assert.ok(equal(concat(got), data), 'byte-exact');
  } finally {
    tcp.close();
  }
});

/** Delivers inbound bytes 7 at a time from one buffer it scribbles over after each delivery:
 * what a receiver does not copy during onData is gone (the contract of TransportHandlers.onData). */
class ReusingTransport implements Transport {
  private readonly scratch = new Uint8Array(7);
  constructor(private readonly inner: Transport) {}
  attach(h: TransportHandlers): void {
    this.inner.attach({
      ...h,
      onData: (d) => {
        for (let off = 0; off < d.length; off += 7) {
          const n = Math.min(7, d.length - off);
          this.scratch.set(d.subarray(off, off + n));
          h.onData(this.scratch.subarray(0, n), false);
          this.scratch.fill(0xa5);
        }
      },
    });
  }
  write(d: Uint8Array): boolean { return this.inner.write(d); }
  end(cb?: (error?: Error) => void): void { this.inner.end(cb); }
  destroy(e?: Error): void { this.inner.destroy(e); }
  pause(): void { this.inner.pause(); }
  resume(): void { this.inner.resume(); }
  get needDrain(): boolean { return this.inner.needDrain; }
}

own('inbound bytes valid only during delivery: the SNI peek (ClientHello in 7-byte pieces) and a fault transport holding them keep copies, byte-exact both ways', async () => {
  for (const hold of [false, true]) {
    const [a, b] = memoryPair();
    const reusing = new ReusingTransport(b);
    const fault = hold ? new FaultTransport(reusing, { holdInbound: true }) : null;
    const names: string[] = [];
    const server = new ours.TLSSocket(null, {
      isServer: true, ...pem.ecdsa(), transport: fault ?? reusing,
      SNICallback: (name: string, cb: (err: Error | null) => void) => { names.push(name); cb(null); },
    });
    const client = new ours.TLSSocket(null, { ...clientOpts, servername: 'localhost', transport: a });
    const up = bytes(100_000, 18), down = bytes(70_000, 19);
    const atServer = collect(server), atClient = collect(client);
    server.on('end', () => server.end(down));
    if (fault) {
      // Let bytes pile up in the fault transport, then release them in uneven amounts.
      const release = setInterval(() => fault.releaseInbound(1000 + Math.floor(Math.random() * 5000)), 1);
      client.once('close', () => clearInterval(release));
    }
    client.end(up);
    assert.ok(equal(await within(atServer, 'server end'), up), `hold ${hold}: client to server byte-exact`);
    assert.ok(equal(await within(atClient, 'client end'), down), `hold ${hold}: server to client byte-exact`);
    assert.equal(names, ['localhost'], 'the server name was read from the pieces');
    server.destroy();
    client.destroy();
  }
});

own('a net.Socket that already holds unread bytes or has another "data" listener keeps emitting "data": chunks nobody else has are decrypted in place, the other listener\'s are left as they arrived', async () => {
  const tcp = await tcpLoopback();
  const data = bytes(1 << 20, 13);
  try {
    for (const sniff of [false, true]) {
      const [raw, rawServer] = await tcp.connect();
      const client = new ours.TLSSocket(raw, { ...clientOpts });
      // A second listener on the raw socket keeps the ciphertext chunks it is given.
      const kept: Array<{ chunk: Buffer; copy: Buffer }> = [];
      if (sniff) {
        rawServer.on('data', (chunk: Buffer) => kept.push({ chunk, copy: Buffer.from(chunk) }));
      } else {
        // The ClientHello waits unread in the socket's buffer, as after a protocol sniffer's unshift().
        rawServer.pause();
        while (rawServer.readableLength === 0) await new Promise((r) => setTimeout(r, 5));
      }
      // The read buffers the socket hands out, seen without adding a listener.
      const emitted: Buffer[] = [];
      const emit = rawServer.emit.bind(rawServer);
      rawServer.emit = (event: string | symbol, ...args: any[]) => {
        if (event === 'data') emitted.push(args[0] as Buffer);
        return emit(event, ...args);
      };
      const server = new ours.TLSSocket(rawServer, { isServer: true, ...pem.ecdsa() });
      rawServer.resume();   // as the sniffer does once it has handed the socket over
      const chunks: Buffer[] = [];
      server.on('data', (d: Buffer) => chunks.push(d));
      const ended = once(server, 'end');
      await once(client, 'secureConnect');
      client.end(data);
      await within(ended, 'end');
      assert.ok(equal(concat(chunks), data), 'byte-exact');
      if (sniff) {
        const theirs = new Set(kept.map((k) => k.chunk.buffer));
        assert.ok(chunks.every((c) => !theirs.has(c.buffer)), 'no plaintext written into chunks another listener has');
        assert.ok(kept.length > 0 && kept.every((k) => k.chunk.equals(k.copy)), "the other listener's chunks are as they arrived");
      } else {
        const reads = new Set(emitted.map((c) => c.buffer));
        const inPlace = chunks.filter((c) => reads.has(c.buffer)).length;
        assert.ok(inPlace > 0, `${inPlace} of ${chunks.length} plaintext chunks in the read buffers`);
      }
      server.destroy();
      client.destroy();
    }
  } finally {
    tcp.close();
  }
});

own('a buffer reused once its write() callback has run: what arrives is what was written, whole records and tails alike', async () => {
  const [a, b] = memoryPair();
  const server = new ours.TLSSocket(null, { isServer: true, ...pem.ecdsa(), transport: b });
  const client = new ours.TLSSocket(null, { ...clientOpts, transport: a });
  const got = collect(server);
  await Promise.all([once(server, 'secure'), once(client, 'secureConnect')]);
  // One buffer, refilled as soon as each write's callback has run (node's streams ask no more:
  // a Writable keeps no copy of what it buffers either). Sizes around the 16383-byte record,
  // so that writes leave tails of every length behind in the queue.
  const buf = Buffer.alloc(40000);
  const want: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const n = [16383, 16384, 20000, 100, 32767, 16382, 40000, 1][i % 8]!;
    buf.fill(i + 1, 0, n);
    const view = buf.subarray(0, n);
    want.push(Buffer.from(view));
    await new Promise<void>((r) => client.write(view, () => r()));
    buf.fill(0xee);
  }
  client.end();
  assert.ok(equal(await within(got, 'end'), concat(want)), 'byte-exact');
  server.end();
});

own('over TCP, ciphertext a backed-up socket still holds stays intact while other connections send (byte-exact after its reader resumes)', async () => {
  const tcp = await tcpLoopback();
  const open = async () => {
    const [raw, rawServer] = await tcp.connect();
    const server = new ours.TLSSocket(rawServer, { isServer: true, ...pem.ecdsa() });
    const client = new ours.TLSSocket(raw, { ...clientOpts });
    await Promise.all([once(server, 'secure'), once(client, 'secureConnect')]);
    const chunks: Buffer[] = [];
    server.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
    // A corrupted record fails both ends (bad_record_mac): that rejects here instead of hanging.
    const ended = new Promise((resolve, reject) => { server.once('end', resolve); server.once('error', reject); client.once('error', reject); });
    return { raw, server, client, chunks, ended };
  };
  const send = (c: ours.TLSSocket, data: Uint8Array) => {
    let off = 0;
    const go = () => { while (off < data.length) { const n = Math.min(16384, data.length - off); const ok = c.write(data.subarray(off, off + n)); off += n; if (!ok) { c.once('drain', go); return; } } c.end(); };
    go();
  };
  try {
    // A's reader stalls, so A's socket is left holding a batch of ciphertext it could not write;
    // meanwhile B sends 8 MiB through the same process.
    const a = await open(), b = await open();
    a.server.pause();
    const dataA = bytes(4 << 20, 15), dataB = bytes(8 << 20, 16);
    send(a.client, dataA);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(a.raw.writableLength > 0, "A's socket holds ciphertext it could not write");
    send(b.client, dataB);
    await within(b.ended, 'B end');
    assert.ok(equal(concat(b.chunks), dataB), 'B byte-exact');
    a.server.resume();
    await within(a.ended, 'A end');
    assert.ok(equal(concat(a.chunks), dataA), 'A byte-exact: what its socket held was not overwritten');
    for (const c of [a, b]) { c.server.destroy(); c.client.destroy(); }
  } finally {
    tcp.close();
  }
});

own('writes in one tick coalesce: two TLSSocket writes go out as one application-data record', async () => {
  const [a, b] = memoryPair();
  const wire = new WireTap(b);
  const server = new ours.TLSSocket(null, { isServer: true, ...pem.ecdsa(), transport: wire });
  const client = new ours.TLSSocket(null, { ...clientOpts, transport: a });
  const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
  const got = collect(client);
  await Promise.all([once(server, 'secure'), once(client, 'secureConnect')]);
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  const from = wire.sent.length;
  server.write('hello, ');
  server.write('world');
  await within(once(client, 'data'), 'data');
  const recs = records(concat(wire.sent.slice(from)));
  assert.equal(recs.map((r) => r.type), [23], 'exactly one application-data record');
  server.end();
  assert.is((await within(got, 'end')).toString(), 'hello, world');
  client.end();
  await within(closed, 'close');
});

own('handshakeTimeout: 120000 ms by default for server connections (as node), as given otherwise; none for clients', async () => {
  const servers = [ours.createServer({ ...pem.ecdsa() }), ours.createServer({ ...pem.ecdsa(), handshakeTimeout: 5000 })];
  const timeouts: number[] = [];
  for (const server of servers) {
    const port = await listen(server);
    const accepted = once(server, 'connection');
    const c = ours.connect({ ...clientOpts, port });
    c.on('error', () => {});
    await within(accepted, 'accepted');
    const [side] = [...server.sockets];
    timeouts.push(side!.pump.handshakeTimeout);
    assert.is(c.pump.handshakeTimeout, 0, 'clients have no handshake timeout');
    c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.equal(timeouts, [120000, 5000]);
});

own('keylog: no engine key logging without a listener; enableKeylog and a server listener turn it on', async () => {
  /** Engine event types the socket's pump collects (the engine only makes keylog events when logging). */
  const spy = (s: ours.TLSSocket) => {
    const types: string[] = [];
    const take = s.engine.takeEvents.bind(s.engine);
    s.engine.takeEvents = () => { const ev = take(); types.push(...ev.map((e) => e.type)); return ev; };
    return types;
  };
  const server = ours.createServer({ ...pem.ecdsa() }, (s) => { s.resume(); s.end('x'); });
  const serverTypes: string[][] = [];
  // Registered after the server's own listener: the connection's socket exists, its handshake not yet.
  server.on('connection', () => { serverTypes.push(spy([...server.sockets].at(-1)!)); });
  const port = await listen(server);
  const run = async (opts: object, listen = true) => {
    const c = ours.connect({ ...clientOpts, port, ...opts });
    const types = spy(c);
    const lines: string[] = [];
    if (listen) c.on('keylog', (l: Buffer) => lines.push(l.toString()));
    await within(collect(c), 'data');
    await within(once(c, 'close'), 'close');
    return { types, lines };
  };
  const quiet = await run({}, false);
  assert.ok(quiet.types.includes('session'), 'the spy sees engine events');
  assert.not.ok(quiet.types.includes('keylog'), 'client: no keys left the engine');
  assert.not.ok(serverTypes[0]!.includes('keylog'), 'server: no keys left the engine');
  assert.equal(quiet.lines, []);

  const serverLines: string[] = [];
  server.on('keylog', (l: Buffer) => serverLines.push(l.toString()));
  const logged = await run({ enableKeylog: true });
  assert.ok(logged.types.includes('keylog') && logged.lines.length >= 4, `client lines: ${logged.lines.length}`);
  assert.ok(serverTypes[1]!.includes('keylog'));
  assert.equal([...serverLines].sort(), [...logged.lines].sort());
  // A listener added after connect() (as node:tls allows) turns it on too, before any secret exists.
  serverLines.length = 0;
  const late = await run({});
  assert.ok(late.types.includes('keylog') && late.lines.length >= 4, `late listener lines: ${late.lines.length}`);
  assert.equal([...serverLines].sort(), [...late.lines].sort());
  await new Promise<void>((r) => server.close(() => r()));
});

if (!only || 'mbedtls-wasm'.includes(only)) own.run();
