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
  getProtocol?(): string | null;
  getCipher?(): { name: string; standardName?: string; version: string } | undefined;
  getSession?(): Buffer | undefined;
  isSessionReused?(): boolean;
}

type Opts = Record<string, unknown>;

export interface SuiteImpl {
  name: string;
  /** false: plain TCP (node:net), only the scenarios that are not about TLS run. */
  tls: boolean;
  connect(options: Opts): SuiteSocket;
  createServer(options: Opts, listener?: (socket: SuiteSocket) => void): net.Server;
  createSecureContext?(options: Opts): unknown;
}

const HOST = '127.0.0.1';

interface Run {
  server: net.Server;
  port: number;
  close(): Promise<void>;
}

/** Rejects if `p` has not settled within `ms` (a hang guard, not a timing assertion). */
async function within<T>(p: Promise<T>, what: string, ms = 20000): Promise<T> {
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
    const run = await serve({}, (s) => {
      s.write('220 ready\r\n');
      s.once('data', (d: Buffer) => { s.end(`250 got ${d.toString().trim()}\r\n`); });
    });
    const c = dial(run);
    const greeting = await within(readBytes(c, 11), 'greeting');
    assert.is(greeting.toString(), '220 ready\r\n');
    const rest = readAll(c);
    c.write('HELO x\r\n');
    assert.is((await within(rest, 'reply')).toString(), '250 got HELO x\r\n');
    c.end();
    await within(closed(c), 'close');
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
    c.on('error', () => {});
    await within(readBytes(c, 1000), 'first bytes');
    raw.resetAndDestroy();
    const err = await within(writerClosed, 'writer close');
    assert.ok(writer.destroyed);
    assert.ok(['none', 'ECONNRESET', 'EPIPE'].includes(err) || err.length > 0, err);
    await within(closed(c), 'client close');
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
    if (impl.tls) assert.ok(c2Error, 'the client reports the aborted handshake');
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
    }
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
