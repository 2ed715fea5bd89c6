// Socket-level behaviour as ONE suite, run against several implementations of the same API:
// node:tls, ours (src/node), and node:net for the scenarios that are not about TLS. A scenario
// that fails on node:tls is a wrong scenario: the suite describes node's behaviour.
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bytes, equal } from './helpers/pair.js';
import { fixture, pem } from './helpers/fixtures.js';

/** The parts of node:tls's TLSSocket the suite looks at (node:net sockets have none of them). */
export interface SuiteSocket extends Duplex {
  authorized?: boolean;
  authorizationError?: string | Error | null;
  alpnProtocol?: string | false | null;
  servername?: string | false | null;
  getPeerCertificate?(detailed?: boolean): Record<string, any> | null;
  getCertificate?(): Record<string, any> | null;
  getEphemeralKeyInfo?(): Record<string, any> | null;
  getProtocol?(): string | null;
  getCipher?(): { name: string; standardName?: string; version: string } | undefined;
  getSession?(): Buffer | undefined;
  isSessionReused?(): boolean;
}

type Opts = Record<string, unknown>;

/**
 * Error codes, which differ by implementation (OpenSSL's names in node:tls, ours in mbedtls-wasm)
 * while the behaviour does not: each scenario asserts the code its implementation reports.
 */
export interface SuiteCodes {
  /** The writer's error when its peer resets the connection under a large write. */
  resetWriter: readonly string[];
  /** The error of the client that reset its own TCP socket under the TLS layer ('none': none). */
  resetClient: readonly string[];
  /** A client whose server goes away during the handshake, without an alert. */
  handshakeAborted: string;
  /** Server minVersion TLSv1.3, client maxVersion TLSv1.2: each side's error. */
  versionServer: string;
  versionClient: string;
}

export interface SuiteImpl {
  name: string;
  /** false: plain TCP (node:net), only the scenarios that are not about TLS run. */
  tls: boolean;
  connect(options: Opts): SuiteSocket;
  /** node's positional form, connect(port, host, options, cb). */
  connectPositional?(port: number, host: string, options: Opts, cb: () => void): SuiteSocket;
  createServer(options: Opts, listener?: (socket: SuiteSocket) => void): net.Server;
  createSecureContext?(options: Opts): unknown;
  /** The server side of one accepted TCP connection: `new TLSSocket(raw, { isServer: true, ...options })`. */
  wrapServer(raw: net.Socket, options: Opts): SuiteSocket;
  codes: SuiteCodes;
  /** Ours: the wasm heap (allocation count now, and the baseline with nothing alive). */
  heap?: { count(): number; baseline(): number };
}

const HOST = '127.0.0.1';

interface Run {
  server: net.Server;
  port: number;
  close(): Promise<void>;
}

/** Rejects if `p` has not settled within `ms` (a hang guard, not a timing assertion). */
export async function within<T>(p: Promise<T>, what: string, ms = 20000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`hung: ${what}`)), ms); });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

function readAll(s: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

function readBytes(s: Duplex, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let got = 0;
    const onData = (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= n) { s.removeListener('data', onData); resolve(Buffer.concat(parts)); }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', () => { if (got < n) reject(new Error(`ended after ${got} of ${n} bytes`)); });
  });
}

/** Resolves on 'close' (whatever errors came before it). */
function closed(s: Duplex): Promise<void> {
  if (s.destroyed && (s as { closed?: boolean }).closed) return Promise.resolve();
  return new Promise((resolve) => s.once('close', () => resolve()));
}

export function socketSuite(impl: SuiteImpl): void {
  const t = suite(impl.name);
  const connectEvent = impl.tls ? 'secureConnect' : 'connect';
  const serverEvent = impl.tls ? 'secureConnection' : 'connection';

  const clientOpts = (extra: Opts = {}): Opts => impl.tls
    ? { host: HOST, servername: 'localhost', ca: [pem.ca(), pem.caRsa()], ...extra }
    : { host: HOST, ...extra };
  const serverOpts = (extra: Opts = {}): Opts => impl.tls ? { ...pem.ecdsa(), ...extra } : extra;

  // Whatever a test leaves behind (when it fails half-way) is torn down after it, so that one
  // failure cannot hang the run.
  const servers = new Set<net.Server>();
  const sockets = new Set<Duplex>();
  t.after.each(async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    for (const server of servers) {
      await within(new Promise<void>((resolve) => { if (server.listening) server.close(() => resolve()); else resolve(); }), 'cleanup close', 10000).catch(() => {});
    }
    servers.clear();
  });

  /** A plain TCP server whose connections the test wraps itself (see wrapServer). */
  async function serveRaw(onRaw: (raw: net.Socket) => void): Promise<Run> {
    const server = net.createServer({ allowHalfOpen: true }, (raw) => { sockets.add(raw); onRaw(raw); });
    servers.add(server);
    await new Promise<void>((resolve) => server.listen({ port: 0, host: HOST }, resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      server, port,
      close: () => within(new Promise<void>((resolve) => server.close(() => resolve())), 'server close'),
    };
  }

  async function serve(options: Opts, onSocket: (s: SuiteSocket) => void): Promise<Run> {
    const server = impl.createServer(serverOpts(options));
    servers.add(server);
    server.on(serverEvent, (s: SuiteSocket) => { sockets.add(s); onSocket(s); });
    await new Promise<void>((resolve) => server.listen({ port: 0, host: HOST, backlog: 2048 }, resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      server, port,
      close: () => within(new Promise<void>((resolve) => server.close(() => resolve())), 'server close'),
    };
  }

  const dial = (run: Run, extra: Opts = {}): SuiteSocket => {
    const c = impl.connect(clientOpts({ port: run.port, ...extra }));
    sockets.add(c);
    return c;
  };

  /** SMTP/FTP style, the server's side: a greeting at once, then one reply to the client's line. */
  const greetThenReply = (s: SuiteSocket): void => {
    s.write('220 ready\r\n');
    s.once('data', (d: Buffer) => { s.end(`250 got ${d.toString().trim()}\r\n`); });
  };

  /** The client's side of greetThenReply: reads the greeting, sends one line, checks the reply, closes. */
  async function heloAfterGreeting(run: Run): Promise<void> {
    const c = dial(run);
    const greeting = await within(readBytes(c, 11), 'greeting');
    assert.is(greeting.toString(), '220 ready\r\n');
    const rest = readAll(c);
    c.write('HELO x\r\n');
    assert.is((await within(rest, 'reply')).toString(), '250 got HELO x\r\n');
    c.end();
    await within(closed(c), 'close');
  }

  // ---- data paths --------------------------------------------------------------------------

  for (const version of impl.tls ? ['TLSv1.3', 'TLSv1.2'] : ['tcp']) {
    t(`echo (${version})`, async () => {
      const range = impl.tls ? { minVersion: version, maxVersion: version } : {};
      let serverProtocol: string | null | undefined;
      const run = await serve(range, (s) => { serverProtocol = s.getProtocol?.(); s.pipe(s); });
      const c = dial(run);
      await within(once(c, connectEvent), 'connect');
      if (impl.tls) assert.is(c.getProtocol!(), version);
      const payload = bytes(100000, 1);
      const got = readAll(c);
      c.write(payload.subarray(0, 10));
      c.end(payload.subarray(10));
      assert.ok(equal(await within(got, 'echo'), payload), 'byte-exact echo');
      if (impl.tls) assert.is(serverProtocol, version);
      await within(closed(c), 'client close');
      await run.close();
    });
  }

  t('writes before the connection is established are queued and sent in order', async () => {
    const run = await serve({}, (s) => s.pipe(s));
    const c = dial(run);
    const parts = ['one,', 'two,', 'three'];
    for (const p of parts) c.write(p);
    c.end();
    const got = await within(readAll(c), 'echo');
    assert.is(got.toString(), parts.join(''));
    await run.close();
  });

  t('a buffer reused after its write callback is sent as it was when written', async () => {
    const run = await serve({}, (s) => s.pipe(s));
    const c = dial(run);
    const buf = Buffer.alloc(5000, 'a');
    const all = readAll(c);
    c.write(buf, () => {
      // Node's contract: once the callback ran, the caller may reuse its buffer.
      buf.fill('b');
      c.end(buf);
    });
    const got = (await within(all, 'echo')).toString();
    assert.is(got, 'a'.repeat(5000) + 'b'.repeat(5000));
    await run.close();
  });

  t('server speaks first; the client writes only after reading the greeting', async () => {
    const run = await serve({}, greetThenReply);
    await heloAfterGreeting(run);
    await run.close();
  });

  t('greeting written before the handshake: a server TLSSocket made on connection speaks first', async () => {
    // SMTP/FTP style, written the moment the TCP connection exists: before the ClientHello has
    // even arrived. The client sends nothing until it has read the greeting.
    const run = await serveRaw((raw) => {
      const s = impl.wrapServer(raw, serverOpts());
      sockets.add(s);
      s.on('error', () => {});
      greetThenReply(s);
    });
    await heloAfterGreeting(run);
    await run.close();
  });

  t('half-close with allowHalfOpen: client end → server end, server still writes, then ends', async () => {
    const order: string[] = [];
    const serverDone = new Promise<void>((resolve) => {
      void serve({ allowHalfOpen: true }, (s) => {
        const got: Buffer[] = [];
        s.on('data', (d: Buffer) => got.push(d));
        s.on('end', () => {
          order.push('server end');
          // The client's direction is closed; ours is still open.
          s.write(`late reply to ${Buffer.concat(got).toString()}`);
          setImmediate(() => { s.end(' (bye)'); order.push('server ended'); });
        });
        s.on('close', () => resolve());
      }).then((run) => { runRef = run; started(); });
    });
    let runRef!: Run;
    let started!: () => void;
    await new Promise<void>((r) => { started = r; });
    const c = dial(runRef, { allowHalfOpen: true });
    await within(once(c, connectEvent), 'connect');
    const all = readAll(c);
    c.end('request');
    const reply = (await within(all, 'reply')).toString();
    order.push('client end');
    assert.is(reply, 'late reply to request (bye)');
    assert.equal(order, ['server end', 'server ended', 'client end']);
    await within(serverDone, 'server socket close');
    await within(closed(c), 'client close');
    await runRef.close();
  });

  t('orderly close both ways: each side sees end, then close, no errors', async () => {
    const events: string[] = [];
    let serverClosed!: Promise<void>;
    const run = await serve({}, (s) => {
      s.on('error', (e) => events.push(`server error ${String((e as { code?: string }).code)}`));
      s.on('end', () => events.push('server end'));
      serverClosed = once(s, 'close').then(() => { events.push('server close'); });
      s.resume();
      s.write('x');
    });
    const c = dial(run);
    c.on('error', (e) => events.push(`client error ${String((e as { code?: string }).code)}`));
    const all = readAll(c);
    await within(once(c, connectEvent), 'connect');
    await within(readBytes(c, 1), 'first byte');
    c.end();
    await within(all, 'client end');
    events.push('client end');
    await within(closed(c), 'client close');
    await within(serverClosed, 'server close');
    assert.ok(events.indexOf('server end') >= 0 && events.indexOf('client end') >= 0, events.join());
    assert.not.ok(events.some((e) => e.includes('error')), events.join());
    await run.close();
  });

  t('peer reset mid-write: the writer gets error/close, nothing crashes', async () => {
    let writer!: SuiteSocket;
    const writerClosed = new Promise<string>((resolve) => {
      void serve({}, (s) => {
        writer = s;
        let err = 'none';
        s.on('error', (e) => { err = String((e as { code?: string }).code ?? e.message); });
        s.on('close', () => resolve(err));
        const big = bytes(16 * 1024 * 1024, 3);
        s.write(big);
      }).then((run) => { runRef = run; started(); });
    });
    let runRef!: Run;
    let started!: () => void;
    await new Promise<void>((r) => { started = r; });
    // The client brings its own TCP socket, so the test can cut it under the TLS layer.
    const raw = net.connect({ port: runRef.port, host: HOST });
    const c = dial(runRef, { socket: raw });
    let clientError = 'none';
    c.on('error', (e) => { clientError = String((e as { code?: string }).code ?? e.message); });
    await within(readBytes(c, 1000), 'first bytes');
    raw.resetAndDestroy();
    const err = await within(writerClosed, 'writer close');
    assert.ok(writer.destroyed);
    assert.ok(impl.codes.resetWriter.includes(err), `writer error: ${err}`);
    await within(closed(c), 'client close');
    // The client cut its own socket: it closes, at most with the error of its dead handle.
    assert.ok(impl.codes.resetClient.includes(clientError), `client error: ${clientError}`);
    await runRef.close();
  });

  t('destroy during the handshake (client side, and server side)', async () => {
    let serverSockets = 0;
    const run = await serve({}, (s) => { serverSockets++; s.end(); });
    // Client gives up at once.
    const c1 = dial(run);
    let c1Connected = false;
    c1.on(connectEvent, () => { c1Connected = true; });
    c1.on('error', () => {});
    c1.destroy();
    await within(closed(c1), 'c1 close');
    assert.not.ok(c1Connected);
    // A server that drops every raw connection before the handshake.
    const dropping = await serve({}, () => {});
    dropping.server.prependListener('connection', (raw: net.Socket) => raw.destroy());
    const c2 = dial(dropping);
    let c2Error: unknown;
    c2.on('error', (e) => { c2Error = e; });
    await within(closed(c2), 'c2 close');
    if (impl.tls) assert.is((c2Error as { code?: string } | undefined)?.code, impl.codes.handshakeAborted, String(c2Error));
    // The first server is unaffected.
    const c3 = dial(run);
    c3.resume();
    await within(once(c3, connectEvent), 'c3 connect');
    await within(closed(c3), 'c3 close');
    assert.ok(serverSockets >= 1);
    await run.close();
    await dropping.close();
  });

  // ---- TLS only ----------------------------------------------------------------------------

  if (impl.tls) {
    const codeOf = (e: unknown) => (e as { code?: string } | undefined)?.code;

    t('server TLSSocket destroyed as the ClientHello arrives: both sides close, nothing is left', async () => {
      // Settle what earlier scenarios left closing, so the heap baseline counts none of it.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      const baseline = impl.heap?.baseline();
      let server!: SuiteSocket;
      let helloSeen = false;
      const serverClosed = new Promise<string>((resolve) => {
        void serveRaw((raw) => {
          // The SNICallback runs when the ClientHello has arrived, before any reply.
          server = impl.wrapServer(raw, serverOpts({
            SNICallback: () => { helloSeen = true; server.destroy(); },
          }));
          sockets.add(server);
          let err = 'none';
          server.on('error', (e) => { err = codeOf(e) ?? e.message; });
          server.on('close', () => resolve(err));
        }).then((run) => { runRef = run; started(); });
      });
      let runRef!: Run;
      let started!: () => void;
      await new Promise<void>((r) => { started = r; });
      const c = dial(runRef);
      let connected = false;
      c.on(connectEvent, () => { connected = true; });
      const [clientError] = await within(once(c, 'error'), 'client error') as [Error];
      assert.is(codeOf(clientError), impl.codes.handshakeAborted, String(clientError));
      await within(closed(c), 'client close');
      assert.is(await within(serverClosed, 'server close'), 'none', 'destroy() without an error closes quietly');
      assert.ok(helloSeen && server.destroyed && !connected);
      if (impl.heap) {
        const engine = (server as unknown as { engine: { disposed: boolean } }).engine;
        assert.ok(engine.disposed, 'the server engine is freed');
        assert.is(impl.heap.count(), baseline, 'wasm allocations back to the baseline');
      }
      await runRef.close();
    });

    const reason = (e: unknown) => {
      const err = e as { authorizationError?: string; code?: string };
      return err.authorizationError ?? err.code;
    };
    for (const [name, key, cert, expected] of [
      ['self-signed', 'selfsigned.key', 'selfsigned.crt', 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      ['untrusted issuer', 'untrusted.key', 'untrusted.crt', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['expired', 'expired.key', 'expired.crt', 'CERT_HAS_EXPIRED'],
      ['wrong host', 'wronghost.key', 'wronghost.crt', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ] as const) {
      t(`certificate rejected (${name}): 'error' with the reason; accepted without rejectUnauthorized`, async () => {
        const run = await serve({ key: fixture(key), cert: fixture(cert) }, (s) => { s.on('error', () => {}); s.end('hi'); });
        run.server.on('tlsClientError', () => {});
        const c = dial(run);
        let connected = false;
        c.on(connectEvent, () => { connected = true; });
        const [err] = await within(once(c, 'error'), 'error') as [Error];
        assert.is(reason(err), expected, String(err));
        assert.not.ok(connected, 'no secureConnect');
        await within(closed(c), 'close');

        const lax = dial(run, { rejectUnauthorized: false });
        const data = readAll(lax);
        await within(once(lax, connectEvent), 'connect');
        assert.is(lax.authorized, false);
        assert.is(lax.authorizationError instanceof Error ? (lax.authorizationError as { code?: string }).code : lax.authorizationError, expected);
        assert.is((await within(data, 'data')).toString(), 'hi');
        await run.close();
      });
    }

    t('negotiated parameters: peer certificate, protocol, cipher, ALPN, servername', async () => {
      let server!: SuiteSocket;
      const run = await serve({ ALPNProtocols: ['h2', 'http/1.1'] }, (s) => { server = s; s.resume(); s.end(); });
      const c = dial(run, { ALPNProtocols: ['http/1.1'] });
      c.resume();
      await within(once(c, connectEvent), 'connect');
      assert.ok(c.authorized);
      const cert = c.getPeerCertificate!();
      assert.is(cert!.subject.CN, 'localhost');
      assert.is(cert!.issuer.CN, 'mbedtls-wasm Test Root ECDSA');
      assert.is(cert!.fingerprint256, new X509Certificate(pem.ecdsa().cert).fingerprint256);
      assert.is(cert!.serialNumber.toUpperCase(), new X509Certificate(pem.ecdsa().cert).serialNumber.toUpperCase());
      assert.is(c.getProtocol!(), 'TLSv1.3');
      const cipher = c.getCipher!()!;
      assert.is(cipher.version, 'TLSv1.3');
      assert.ok(/^TLS_(AES|CHACHA20)/.test(cipher.standardName ?? cipher.name), cipher.name);
      assert.is(c.alpnProtocol, 'http/1.1');
      await within(once(c, 'end'), 'end');
      assert.is(server.alpnProtocol, 'http/1.1');
      assert.is(server.servername, 'localhost');
      assert.equal(server.getPeerCertificate!(), {}, 'no client certificate');
      c.end();
      await within(closed(c), 'close');
      await run.close();
    });

    t('mutual TLS: the server sees the client certificate', async () => {
      let server!: SuiteSocket;
      const run = await serve({ requestCert: true, ca: [pem.ca()] }, (s) => { server = s; s.resume(); s.end('ok'); });
      const c = dial(run, pem.client());
      const data = readAll(c);
      assert.is((await within(data, 'data')).toString(), 'ok');
      assert.ok(server.authorized, String(server.authorizationError));
      assert.is(server.getPeerCertificate!()!.subject.CN, 'test-client');
      await within(closed(c), 'close');
      await run.close();
    });

    for (const version of ['TLSv1.3', 'TLSv1.2']) {
      t(`session resumption (${version})`, async () => {
        const run = await serve({ maxVersion: version }, (s) => { s.resume(); s.end('x'); });
        const first = dial(run);
        let session: Buffer | undefined;
        first.on('session', (s: Buffer) => { session = s; });
        await within(readAll(first), 'first');
        assert.is(first.isSessionReused!(), false);
        await within(closed(first), 'first close');
        assert.ok(session && session.length > 0, 'a session was offered');
        const second = dial(run, { session });
        const data = readAll(second);
        await within(once(second, connectEvent), 'second connect');
        assert.is(second.isSessionReused!(), true);
        assert.is(second.getProtocol!(), version);
        assert.is((await within(data, 'second data')).toString(), 'x');
        await within(closed(second), 'second close');
        await run.close();
      });

      t(`getSession() resumes (${version})`, async () => {
        const run = await serve({ maxVersion: version }, (s) => { s.resume(); s.end('x'); });
        const first = dial(run);
        await within(readAll(first), 'first');
        // After the data the session (for TLS 1.3, the ticket) is in; the socket is still open.
        const session = first.getSession!();
        await within(closed(first), 'first close');
        assert.ok(session && session.length > 0, 'getSession() returned a session');
        const second = dial(run, { session });
        const data = readAll(second);
        await within(once(second, connectEvent), 'second connect');
        assert.is(second.isSessionReused!(), true);
        assert.is((await within(data, 'second data')).toString(), 'x');
        await within(closed(second), 'second close');
        await run.close();
      });

      t(`server 'keylog' (${version}): the connection's secrets, as the client logs them`, async () => {
        let secured: SuiteSocket | undefined;
        const run = await serve({ maxVersion: version }, (s) => { secured = s; s.end('x'); });
        const serverLines: string[] = [];
        const keylogSockets = new Set<unknown>();
        run.server.on('keylog', (line: Buffer, socket: unknown) => { serverLines.push(line.toString()); keylogSockets.add(socket); });
        // The listener, added after connect(), is what turns client key logging on (node:tls too).
        const c = dial(run, {});
        const clientLines: string[] = [];
        c.on('keylog', (line: Buffer) => clientLines.push(line.toString()));
        await within(readAll(c), 'data');
        await within(closed(c), 'close');
        const labels = new Set(serverLines.map((l) => l.split(' ')[0]));
        const expected = version === 'TLSv1.3'
          ? ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']
          : ['CLIENT_RANDOM'];
        for (const label of expected) assert.ok(labels.has(label), `${label} in ${[...labels].join()}`);
        for (const line of serverLines) assert.ok(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,}\n$/.test(line), line);
        assert.equal([...serverLines].sort(), [...clientLines].sort(), 'both ends log the same secrets');
        assert.equal([...keylogSockets], [secured], 'with the server-side socket');
        await run.close();
      });
    }

    t('connect(port, host, options, cb): the positional form', async () => {
      const run = await serve({}, (s) => { s.end('pos'); });
      let self: unknown;
      const c = impl.connectPositional!(run.port, HOST, { servername: 'localhost', ca: [pem.ca()] }, function (this: unknown) { self = this; });
      sockets.add(c);
      const data = readAll(c);
      await within(once(c, connectEvent), 'connect');
      assert.is(self, c, 'the callback runs on secureConnect, as the socket');
      assert.ok(c.authorized, String(c.authorizationError));
      assert.is((await within(data, 'data')).toString(), 'pos');
      await run.close();
    });

    t(`'tlsClientError' on a failed handshake, with the server's socket`, async () => {
      let secured = false;
      const run = await serve({ minVersion: 'TLSv1.3' }, () => { secured = true; });
      const failed = new Promise<[Error, SuiteSocket]>((resolve) => run.server.once('tlsClientError', (e: Error, s: SuiteSocket) => resolve([e, s])));
      const c = dial(run, { maxVersion: 'TLSv1.2' });
      const clientError = new Promise<Error>((resolve) => c.once('error', resolve));
      const [err, socket] = await within(failed, 'tlsClientError');
      assert.is(codeOf(err), impl.codes.versionServer, String(err));
      assert.type(socket.getPeerCertificate, 'function', 'the server-side TLS socket');
      assert.is(codeOf(await within(clientError, 'client error')), impl.codes.versionClient);
      await within(closed(c), 'client close');
      await within(closed(socket), 'server socket close');
      assert.not.ok(secured, 'no secureConnection');
      await run.close();
    });

    t('handshakeTimeout: a silent client gets tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT', async () => {
      const run = await serve({ handshakeTimeout: 150 }, () => {});
      const timedOut = new Promise<Error>((resolve) => run.server.once('tlsClientError', (e: Error, s: SuiteSocket) => {
        // node:tls leaves closing the socket to this listener; ours has closed it already.
        s.destroy();
        resolve(e);
      }));
      const raw = net.connect({ port: run.port, host: HOST });
      sockets.add(raw);
      raw.on('error', () => {});
      raw.resume();
      const err = await within(timedOut, 'handshake timeout');
      assert.is(codeOf(err), 'ERR_TLS_HANDSHAKE_TIMEOUT', String(err));
      await within(closed(raw), 'the silent client is disconnected');
      await run.close();
    });

    t('SNICallback picks a certificate by server name; without one the default', async () => {
      const other = impl.createSecureContext!(pem.other());
      const names: string[] = [];
      const run = await serve({
        SNICallback: (name: string, cb: (err: Error | null, ctx?: unknown) => void) => { names.push(name); cb(null, name === 'other.test' ? other : undefined); },
      }, (s) => { s.resume(); s.end(String(s.servername)); });
      for (const [servername, cn] of [['other.test', 'other.test'], ['localhost', 'localhost']] as const) {
        const c = dial(run, { servername });
        const data = readAll(c);
        await within(once(c, connectEvent), `connect ${servername}`);
        assert.ok(c.authorized, String(c.authorizationError));
        assert.is(c.getPeerCertificate!()!.subject.CN, cn);
        assert.is((await within(data, 'data')).toString(), servername);
        await within(closed(c), 'close');
      }
      assert.equal(names, ['other.test', 'localhost']);
      await run.close();
    });

    t('SNICallback failing: the handshake fails, tlsClientError carries its error', async () => {
      const failure = new Error('no certificate for this name');
      const run = await serve({ SNICallback: (_: string, cb: (err: Error | null) => void) => cb(failure) }, () => {});
      const serverError = new Promise<Error>((resolve) => run.server.once('tlsClientError', (e: Error) => resolve(e)));
      const c = dial(run);
      let connected = false;
      c.on(connectEvent, () => { connected = true; });
      const clientError = new Promise<Error>((resolve) => c.once('error', resolve));
      assert.is(await within(serverError, 'tlsClientError'), failure);
      assert.is(codeOf(await within(clientError, 'client error')), impl.codes.handshakeAborted);
      await within(closed(c), 'client close');
      assert.not.ok(connected);
      await run.close();
    });

    t(`setTimeout(ms): 'timeout' after ms idle; the socket stays open`, async () => {
      const run = await serve({}, (s) => { s.resume(); });
      const c = dial(run);
      await within(once(c, connectEvent), 'connect');
      const socket = c as SuiteSocket & { setTimeout(ms: number, cb?: () => void): unknown };
      let viaCallback = false;
      socket.setTimeout(100, () => { viaCallback = true; });
      await within(once(c, 'timeout'), 'timeout');
      assert.ok(viaCallback, 'the callback is a timeout listener');
      assert.not.ok(c.destroyed, 'a timeout only notifies');
      // Still usable.
      socket.setTimeout(0);
      c.end();
      await within(closed(c), 'close');
      await run.close();
    });

    t('getPeerCertificate(true): issuerCertificate up to the trusted root, which is its own issuer', async () => {
      const run = await serve({}, (s) => { s.resume(); s.end(); });
      const c = dial(run);
      c.resume();
      await within(once(c, connectEvent), 'connect');
      const leaf = c.getPeerCertificate!(true)!;
      assert.is(leaf.subject.CN, 'localhost');
      const root = leaf.issuerCertificate;
      assert.ok(root, 'the leaf has an issuerCertificate');
      assert.is(root.subject.CN, 'mbedtls-wasm Test Root ECDSA');
      assert.is(root.fingerprint256, new X509Certificate(pem.ca()).fingerprint256, 'the trusted CA (the server did not send it)');
      assert.is(root.issuerCertificate, root, 'a self-signed root is its own issuer');
      assert.not.ok('issuerCertificate' in c.getPeerCertificate!()!, 'not without detailed');
      await within(closed(c), 'close');
      await run.close();
    });

    t('getEphemeralKeyInfo(): the client sees the ECDH group it forced; the server socket gives null', async () => {
      const expected: Record<string, object> = {
        X25519: { type: 'ECDH', name: 'X25519', size: 253 },
        'P-256': { type: 'ECDH', name: 'prime256v1', size: 256 },
        'P-384': { type: 'ECDH', name: 'secp384r1', size: 384 },
      };
      let serverInfo: unknown = 'unset';
      const run = await serve({}, (s) => { serverInfo = s.getEphemeralKeyInfo!(); s.resume(); s.end(); });
      for (const curve of Object.keys(expected)) {
        const c = dial(run, { ecdhCurve: curve });
        c.resume();
        await within(once(c, connectEvent), 'connect');
        assert.equal(c.getEphemeralKeyInfo!(), expected[curve], curve);
        await within(closed(c), 'close');
        assert.is(serverInfo, null, 'server socket');
      }
      await run.close();
    });

    t('getCertificate(): the server shows the certificate the client received; a client without one shows {}', async () => {
      let serverView = null as Record<string, any> | null;
      const run = await serve({}, (s) => { serverView = s.getCertificate!(); s.resume(); s.end(); });
      const c = dial(run);
      c.resume();
      await within(once(c, connectEvent), 'connect');
      const peer = c.getPeerCertificate!()!;
      assert.equal(c.getCertificate!(), {}, 'no client certificate');
      await within(closed(c), 'close');
      assert.ok(serverView, 'getCertificate() on the server socket');
      assert.is(serverView!.fingerprint256, peer.fingerprint256);
      assert.is(serverView!.subject.CN, 'localhost');
      assert.is(serverView!.serialNumber, peer.serialNumber);
      await run.close();
    });
  }

  t('1,000 concurrent connections all complete', async () => {
    const run = await serve({}, (s) => {
      s.once('data', (d: Buffer) => s.end(`pong ${d.toString()}`));
      s.on('error', () => {});
    });
    const context = impl.createSecureContext?.({ ca: [pem.ca()] });
    const N = 1000;
    const results = await within(Promise.all(Array.from({ length: N }, (_, i) => {
      const c = dial(run, context ? { secureContext: context } : {});
      const all = readAll(c);
      c.write(String(i));
      return all.then((b) => b.toString() === `pong ${i}`);
    })), 'all connections', 60000);
    assert.is(results.filter(Boolean).length, N);
    await run.close();
  });

  t.run();
}
