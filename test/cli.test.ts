// The CLI as a process: serve (certificate generation and reuse, data directory permissions,
// key log by flag and by $SSLKEYLOGFILE, IPv6, echo limit, one-line errors), connect
// (s_client-like output, verification, version pinning, mutual TLS), colour rules, --help and
// --version.
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import tls from 'node:tls';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { paint, useColor } from '../src/cli/common.js';
import { fixture } from './helpers/fixtures.js';
import { runToEnd, serve, tempDir, type Serving } from './helpers/webui-process.js';
import { request, waitFor, within } from './helpers/webui-client.js';

const cli = suite<{ server: Serving; dir: string; keylog: string }>('cli');

const HEALTH = 'GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

cli.before(async (ctx) => {
  ctx.dir = tempDir('cli');
  ctx.keylog = join(ctx.dir, 'keys.log');
  ctx.server = await serve(['--data-dir', join(ctx.dir, 'state'), '--keylog', ctx.keylog, '--echo-limit', '1k']);
});

cli.after(async (ctx) => {
  ctx.server.child.kill('SIGTERM');
  await ctx.server.exited;
});

cli('serve generates a certificate, stores it privately and prints its fingerprint', ({ server, dir }) => {
  const state = join(dir, 'state');
  const cert = readFileSync(join(state, 'cert.pem'), 'utf8');
  assert.is(statSync(join(state, 'key.pem')).mode & 0o777, 0o600);
  assert.is(statSync(state).mode & 0o777, 0o700);
  const x = new X509Certificate(cert);
  assert.match(x.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(x.subjectAltName ?? '', /IP Address:0:0:0:0:0:0:0:1/);
  assert.is(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(server.stdout().includes(`SHA-256 fingerprint: ${x.fingerprint256}`), server.stdout());
  assert.match(server.stdout(), /https:\/\/127\.0\.0\.1:\d+\//);
  assert.match(server.stdout(), /generated now/);
});

cli('a second start reuses the stored certificate; a taken port is one clear error', async ({ server, dir }) => {
  const state = join(dir, 'state');
  const fp = new X509Certificate(readFileSync(join(state, 'cert.pem'))).fingerprint256;
  // Loosened since the first start (a restored backup, a careless chmod): tightened again.
  chmodSync(state, 0o755);
  chmodSync(join(state, 'key.pem'), 0o644);
  const again = await serve(['--data-dir', state, '--no-http']);
  assert.ok(again.stdout().includes(`SHA-256 fingerprint: ${fp}`));
  assert.match(again.stdout(), /reused from/);
  assert.is(again.http, null);
  assert.is(statSync(state).mode & 0o777, 0o700, 'data directory 0700 again');
  assert.is(statSync(join(state, 'key.pem')).mode & 0o777, 0o600, 'reused key 0600 again');
  again.child.kill('SIGINT');
  assert.is((await again.exited).code, 0);

  const taken = await runToEnd(['serve', '--data-dir', state, '--port', String(server.https), '--no-http']);
  assert.is(taken.code, 1);
  assert.match(taken.stderr, /^error: port \d+ on 127\.0\.0\.1 is already in use \(EADDRINUSE\)\n$/);
});

cli('connect prints protocol, cipher, chain and verification, then pipes the response', async ({ server, dir }) => {
  const ca = join(dir, 'state', 'cert.pem');
  const r = await runToEnd(['connect', `127.0.0.1:${server.https}`, '--ca', ca, '--alpn', 'http/1.1'], { stdin: HEALTH });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /Protocol: +TLSv1\.3/);
  assert.match(r.stderr, /Cipher: +TLS_/);
  assert.match(r.stderr, /ALPN: +http\/1\.1/);
  assert.match(r.stderr, / 0 subject: CN=localhost/);
  const x = new X509Certificate(readFileSync(ca));
  // Self-signed: the issuer is the subject; the validity is the certificate's own.
  assert.match(r.stderr, /\n {3}issuer: +CN=localhost, O=mbedtls-wasm web UI\n/);
  assert.ok(r.stderr.includes(`\n   valid:   ${x.validFrom} → ${x.validTo}\n`), r.stderr);
  assert.ok(r.stderr.includes(`\n   SHA-256: ${x.fingerprint256}\n`), r.stderr);
  assert.match(r.stderr, /Verification: OK/);
  assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(r.stdout, /"status": "ok"/);

  const v12 = await runToEnd(['connect', `localhost:${server.https}`, '--ca', ca, '--tls1.2', '--servername', 'localhost'], { stdin: HEALTH });
  assert.is(v12.code, 0, v12.stderr);
  assert.match(v12.stderr, /Protocol: +TLSv1\.2/);
  assert.match(v12.stderr, /SNI sent: +localhost/);
});

cli('connect fails on an untrusted certificate or a wrong name unless --insecure', async ({ server, dir }) => {
  const r = await runToEnd(['connect', `127.0.0.1:${server.https}`], { stdin: HEALTH });
  assert.is(r.code, 1);
  assert.match(r.stderr, /Verification: FAILED/);
  assert.match(r.stderr, /error: certificate verification failed/);
  assert.is(r.stdout, '');
  const wrongCa = await runToEnd(['connect', `127.0.0.1:${server.https}`, '--ca', 'test/fixtures/ca-ecdsa.crt'], { stdin: HEALTH });
  assert.is(wrongCa.code, 1);
  assert.match(wrongCa.stderr, /^error: certificate verification failed: .*--ca FILE/m);
  assert.is(wrongCa.stdout, '');
  // Trusted issuer, wrong name: the certificate is for localhost and the loopback addresses.
  const wrongName = await runToEnd(['connect', `127.0.0.1:${server.https}`, '--ca', join(dir, 'state', 'cert.pem'), '--servername', 'example.com'], { stdin: HEALTH });
  assert.is(wrongName.code, 1, wrongName.stderr);
  assert.match(wrongName.stderr, /SNI sent: +example\.com/);
  assert.match(wrongName.stderr, /Verification: FAILED \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
  assert.match(wrongName.stderr, /^error: certificate verification failed: ERR_TLS_CERT_ALTNAME_INVALID \(the certificate is not for example\.com; .*--servername NAME.*\)\n$/m);
  assert.is(wrongName.stdout, '', 'nothing sent or received after a failed verification');
  const insecure = await runToEnd(['connect', `127.0.0.1:${server.https}`, '--insecure'], { stdin: HEALTH });
  assert.is(insecure.code, 0, insecure.stderr);
  assert.match(insecure.stderr, /going on because of --insecure/);
  assert.match(insecure.stdout, /^HTTP\/1\.1 200 OK/);
  const plain = await runToEnd(['connect', `127.0.0.1:${server.http}`, '--insecure', '--timeout', '5000'], { stdin: HEALTH });
  assert.is(plain.code, 1, 'TLS to the plain HTTP port fails');
  assert.match(plain.stderr, /^error: handshake failed: /m);
});

cli('the key log gets NSS lines for each connection', async ({ server, keylog }) => {
  const before = existsSync(keylog) ? readFileSync(keylog, 'utf8').length : 0;
  const r = await runToEnd(['connect', `127.0.0.1:${server.https}`, '--insecure', '-q'], { stdin: HEALTH });
  assert.is(r.code, 0);
  assert.is(r.stderr, '');
  const text = await waitFor('key log lines', () => {
    const t = readFileSync(keylog, 'utf8').slice(before);
    return /SERVER_TRAFFIC_SECRET_0/.test(t) ? t : '';
  });
  const lines = text.trim().split('\n');
  for (const line of lines) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
  assert.ok(lines.some((l) => l.startsWith('CLIENT_HANDSHAKE_TRAFFIC_SECRET ')));
  assert.is(statSync(keylog).mode & 0o777, 0o600);
});

cli('connect --tls1.3 insists on TLS 1.3; without it a TLS 1.2-only server is fine', async () => {
  // node:tls as the peer, capped at TLS 1.2.
  const peer = tls.createServer({ key: fixture('server-ecdsa.key'), cert: fixture('server-ecdsa.crt'), maxVersion: 'TLSv1.2' }, (s) => {
    s.on('error', () => {});
    s.end('hello from TLS 1.2\n');
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const port = (peer.address() as { port: number }).port;
  try {
    const args = ['connect', `127.0.0.1:${port}`, '--ca', 'test/fixtures/ca-ecdsa.crt', '--servername', 'localhost'];
    const any = await runToEnd(args, { stdin: '' });
    assert.is(any.code, 0, any.stderr);
    assert.match(any.stderr, /Protocol: +TLSv1\.2/);
    assert.is(any.stdout, 'hello from TLS 1.2\n');
    const v13 = await runToEnd([...args, '--tls1.3'], { stdin: '' });
    assert.is(v13.code, 1, v13.stderr);
    assert.match(v13.stderr, /^error: handshake failed: .*\(ERR_TLS_[A-Z_]+\)\n$/);
    assert.is(v13.stderr.trim().split('\n').length, 1, 'one line');
    assert.is(v13.stdout, '');
  } finally {
    await new Promise<void>((resolve) => peer.close(() => resolve()));
  }
});

cli('serve --echo-limit: bodies up to the limit are echoed, one byte more is 413', async ({ server }) => {
  const port = server.http!;
  const fits = Buffer.alloc(1024, 7);
  const ok = await request({ kind: 'plain', port, method: 'POST', path: '/api/echo', body: fits, limitMs: 15_000 });
  assert.is(ok.status, 200);
  assert.ok(ok.body.equals(fits));
  const over = await request({ kind: 'plain', port, method: 'POST', path: '/api/echo', body: Buffer.alloc(1025, 7), limitMs: 15_000 });
  assert.is(over.status, 413);
  assert.match(JSON.parse(over.body.toString('utf8')).message, /echo limit of 1024 bytes/);
});

cli('colour: only on a terminal, never with NO_COLOR or TERM=dumb', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  assert.ok(useColor(tty, { TERM: 'xterm-256color' }));
  assert.not.ok(useColor(pipe, { TERM: 'xterm-256color' }));
  assert.not.ok(useColor({}, { TERM: 'xterm-256color' }), 'isTTY undefined (a file or pipe)');
  assert.not.ok(useColor(tty, { TERM: 'xterm-256color', NO_COLOR: '1' }));
  assert.not.ok(useColor(tty, { TERM: 'dumb' }));
  assert.is(paint(tty, { TERM: 'xterm' }).red('error:'), '\x1b[31merror:\x1b[39m');
  assert.is(paint(tty, { TERM: 'xterm' }).bold('x'), '\x1b[1mx\x1b[22m');
  assert.is(paint(pipe, { TERM: 'xterm' }).red('error:'), 'error:');
  assert.is(paint(tty, { NO_COLOR: '1' }).cyan('url'), 'url');
});

cli('serve on ::1 with $SSLKEYLOGFILE, colour allowed but piped: bracketed URL, reachable, key log appended, no escapes', async ({ dir }) => {
  const keylog = join(dir, 'env-keys.log');
  writeFileSync(keylog, '# kept: the file is appended to, not replaced\n');
  const colour = { NO_COLOR: undefined, TERM: 'xterm-256color', SSLKEYLOGFILE: keylog };
  const v6 = await serve(['--host', '::1', '--data-dir', join(dir, 'state')], { env: colour });
  try {
    const out = v6.stdout();
    assert.ok(out.includes(`https://[::1]:${v6.https}/`), out);
    assert.ok(out.includes(`http://[::1]:${v6.http}/`), out);
    assert.ok(out.includes(`listening https=[::1]:${v6.https} http=[::1]:${v6.http}`), out);
    assert.ok(out.includes(`key log: appending to ${keylog}`), out);
    assert.not.ok(out.includes('\x1b['), 'no escape sequences on a pipe');
    // Reachable over IPv6 on both ports: TLS through connect, plain with node:http.
    const r = await runToEnd(['connect', `[::1]:${v6.https}`, '--ca', join(dir, 'state', 'cert.pem')], { stdin: HEALTH, env: colour });
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`Connected to \\[::1\\]:${v6.https}\\n`));
    assert.match(r.stderr, /Verification: OK/);
    assert.match(r.stdout, /"status": "ok"/);
    assert.not.ok(r.stderr.includes('\x1b['), 'connect: no escape sequences on a pipe');
    const plain = await within('GET over ::1', new Promise<number>((resolve, reject) => {
      http.get({ host: '::1', port: v6.http!, path: '/api/health' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    }), 15_000);
    assert.is(plain, 200);
    const text = await waitFor('key log lines from $SSLKEYLOGFILE', () => {
      const t = readFileSync(keylog, 'utf8');
      return /SERVER_TRAFFIC_SECRET_0 /.test(t) ? t : '';
    });
    const [first, ...rest] = text.trim().split('\n');
    assert.is(first, '# kept: the file is appended to, not replaced');
    for (const line of rest) assert.match(line, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
    // An error on stderr, piped: no colour either.
    const err = await runToEnd(['frobnicate'], { env: colour });
    assert.match(err.stderr, /^error: unknown command/);
  } finally {
    v6.child.kill('SIGTERM');
    await v6.exited;
  }
});

cli('mutual TLS: --request-cert with --ca requires a client certificate', async () => {
  const mtls = await serve(['--cert', 'test/fixtures/server-ecdsa.crt', '--key', 'test/fixtures/server-ecdsa.key', '--ca', 'test/fixtures/ca-ecdsa.crt', '--request-cert', '--no-http']);
  try {
    assert.match(mtls.stdout(), /client certificate required/);
    const ok = await runToEnd(['connect', `127.0.0.1:${mtls.https}`, '--ca', 'test/fixtures/ca-ecdsa.crt', '--cert', 'test/fixtures/client-ecdsa.crt', '--key', 'test/fixtures/client-ecdsa.key'], { stdin: 'GET /api/connections HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' });
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /"subject": "CN=test-client/);
    const no = await runToEnd(['connect', `127.0.0.1:${mtls.https}`, '--ca', 'test/fixtures/ca-ecdsa.crt'], { stdin: HEALTH });
    assert.is(no.code, 1);
    assert.match(no.stderr, /^error: (handshake failed|connection error): /m);
  } finally {
    mtls.child.kill('SIGTERM');
    await mtls.exited;
  }
});

cli('--help, --version and one-line errors with non-zero exits', async ({ dir }) => {
  const bad = join(dir, 'bad.pem');
  writeFileSync(bad, 'not a certificate\n');
  const otherKey = join(dir, 'other.key');
  writeFileSync(otherKey, fixture('other-ecdsa.key'));
  const garbageKey = join(dir, 'garbage.key');
  writeFileSync(garbageKey, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  const crt = 'test/fixtures/server-ecdsa.crt';
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const cases: Array<[string[], number, RegExp, 'stdout' | 'stderr']> = [
    [['--version'], 0, new RegExp(`^${pkg.version.replace(/\./g, '\\.')}\\n$`), 'stdout'],
    [['--help'], 0, /Usage: mbedtls-wasm <command>/, 'stdout'],
    [['serve', '--help'], 0, /Usage: mbedtls-wasm serve[\s\S]*--drain-ms[\s\S]*exits at once with code 130/, 'stdout'],
    [['connect', '--help'], 0, /Usage: mbedtls-wasm connect HOST:PORT[\s\S]*--insecure/, 'stdout'],
    [['frobnicate'], 2, /^error: unknown command "frobnicate"/, 'stderr'],
    [['serve', '--bogus'], 2, /^error: unknown option --bogus \(see mbedtls-wasm serve --help\)\n$/, 'stderr'],
    [['serve', '--port'], 2, /^error: --port needs a value \(see mbedtls-wasm serve --help\)\n$/, 'stderr'],
    [['serve', '--port', 'http'], 2, /^error: --port must be an integer from 0 to 65535, got "http"\n$/, 'stderr'],
    [['serve', '--cert', 'x.pem'], 2, /^error: --cert and --key go together\n$/, 'stderr'],
    [['serve', '--request-cert'], 2, /^error: --request-cert needs --ca/, 'stderr'],
    [['serve', '--cert', bad, '--key', 'test/fixtures/server-ecdsa.key', '--port', '0', '--no-http'], 1, /^error: .*bad\.pem.*certificate/, 'stderr'],
    [['serve', '--cert', join(dir, 'missing.pem'), '--key', 'test/fixtures/server-ecdsa.key', '--port', '0', '--no-http'], 1, /^error: cannot read certificate .*missing\.pem: no such file\n$/, 'stderr'],
    [['serve', '--cert', 'test/fixtures/server-ecdsa.crt', '--key', otherKey, '--port', '0', '--no-http'], 1, /^error: .*the private key does not match the certificate \(ERR_TLS_KEY_MISMATCH\)\n$/, 'stderr'],
    [['serve', '--cert', crt, '--key', garbageKey, '--port', '0', '--no-http'], 1, /^error: .*garbage\.key: the private key does not load \(.+\) \(ERR_TLS_INVALID_OPTION\)\n$/, 'stderr'],
    [['serve', '--cert', crt, '--key', join(dir, 'missing.key'), '--port', '0', '--no-http'], 1, /^error: cannot read key .*missing\.key: no such file\n$/, 'stderr'],
    // A directory where the key should be: unreadable as a file (root reads any file, so a
    // chmod 000 file would not do).
    [['serve', '--cert', crt, '--key', dir, '--port', '0', '--no-http'], 1, /^error: cannot read key .*: EISDIR/, 'stderr'],
    [['serve', '--echo-limit', 'lots'], 2, /^error: --echo-limit must be a number of bytes/, 'stderr'],
    [['serve', '--data-dir', shared, '--port', '0', '--no-http'], 1, /^error: data directory .*shared is writable by every user \(mode 777\)/, 'stderr'],
    [['connect'], 2, /^error: connect needs exactly one HOST:PORT/, 'stderr'],
    [['connect', '127.0.0.1:1', '--tls1.2', '--tls1.3'], 2, /^error: choose one of --tls1\.2 and --tls1\.3/, 'stderr'],
    [['connect', '127.0.0.1:1', '--cert', 'test/fixtures/client-ecdsa.crt', '--key', garbageKey], 1, /^error: .*garbage\.key: .*\(ERR_TLS_[A-Z_]+\)\n$/, 'stderr'],
    [['connect', '127.0.0.1:1', '--cert', 'test/fixtures/client-ecdsa.crt', '--key', join(dir, 'missing.key')], 1, /^error: cannot read key .*missing\.key: no such file\n$/, 'stderr'],
    [['connect', 'localhost:99999'], 2, /^error: port must be 1-65535/, 'stderr'],
    [['connect', '127.0.0.1:1', '--timeout', '5000'], 1, /^error: cannot connect to 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\)\n$/, 'stderr'],
  ];
  // A few at a time: each is a node process, and a crowded machine must not push one past
  // runToEnd's hang guard.
  const results: Array<Awaited<ReturnType<typeof runToEnd>>> = [];
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await runToEnd(cases[i]![0]);
    }
  }));
  assert.is(statSync(shared).mode & 0o777, 0o777, 'a refused directory is left as it was');
  results.forEach((r, i) => {
    const [args, code, re, stream] = cases[i]!;
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r[stream], re, `${args.join(' ')}: ${r[stream]}`);
    if (code !== 0) assert.is(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  });
});

cli.run();
