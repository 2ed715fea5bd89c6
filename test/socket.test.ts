// The socket suite against node:tls (the reference), ours, and node:net (plain TCP, the
// scenarios that are not about TLS: the same server code path behaves as a net.Server does).
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ours from '../src/node/index.js';
import { memoryPair } from '../src/transport/memory.js';
import { bytes, equal } from './helpers/pair.js';
import { pem } from './helpers/fixtures.js';
import { socketSuite, type SuiteImpl, type SuiteSocket } from './socket-suite.js';

type Opts = Record<string, unknown>;

const nodeTls: SuiteImpl = {
  name: 'socket suite: node:tls',
  tls: true,
  connect: (o) => tls.connect(o as tls.ConnectionOptions) as unknown as SuiteSocket,
  createServer: (o, l) => tls.createServer(o as tls.TlsOptions, l as (s: tls.TLSSocket) => void),
  createSecureContext: (o) => tls.createSecureContext(o as tls.SecureContextOptions),
};

const mbedtlsWasm: SuiteImpl = {
  name: 'socket suite: mbedtls-wasm',
  tls: true,
  connect: (o) => ours.connect(o as ours.ConnectionOptions) as unknown as SuiteSocket,
  createServer: (o, l) => ours.createServer(o as ours.ServerOptions, l as unknown as (s: ours.TLSSocket) => void),
  createSecureContext: (o) => ours.createSecureContext(o as Opts),
};

const plain: SuiteImpl = {
  name: 'socket suite: node:net (plain)',
  tls: false,
  connect: (o) => ((o.socket as net.Socket | undefined) ?? net.connect({ port: o.port as number, host: o.host as string, allowHalfOpen: o.allowHalfOpen === true })) as unknown as SuiteSocket,
  createServer: (o, l) => net.createServer({ allowHalfOpen: o.allowHalfOpen === true }, l as (s: net.Socket) => void),
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

if (!only || 'mbedtls-wasm'.includes(only)) own.run();
