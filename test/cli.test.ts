// The CLI as a process: serve (certificate generation and reuse, key log, one-line errors) and
// connect (s_client-like output, verification, mutual TLS), --help and --version.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture } from './helpers/fixtures.js';
import { runToEnd, serve, tempDir, type Serving } from './helpers/webui-process.js';
import { waitFor } from './helpers/webui-client.js';

const cli = suite<{ server: Serving; dir: string; keylog: string }>('cli');

const HEALTH = 'GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

cli.before(async (ctx) => {
  ctx.dir = tempDir('cli');
  ctx.keylog = join(ctx.dir, 'keys.log');
  ctx.server = await serve(['--data-dir', join(ctx.dir, 'state'), '--keylog', ctx.keylog]);
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
  const again = await serve(['--data-dir', state, '--no-http']);
  assert.ok(again.stdout().includes(`SHA-256 fingerprint: ${fp}`));
  assert.match(again.stdout(), /reused from/);
  assert.is(again.http, null);
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
  assert.match(r.stderr, /SHA-256: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.match(r.stderr, /Verification: OK/);
  assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(r.stdout, /"status": "ok"/);

  const v12 = await runToEnd(['connect', `localhost:${server.https}`, '--ca', ca, '--tls1.2', '--servername', 'localhost'], { stdin: HEALTH });
  assert.is(v12.code, 0, v12.stderr);
  assert.match(v12.stderr, /Protocol: +TLSv1\.2/);
  assert.match(v12.stderr, /SNI sent: +localhost/);
});

cli('connect fails on an untrusted certificate unless --insecure', async ({ server }) => {
  const r = await runToEnd(['connect', `127.0.0.1:${server.https}`], { stdin: HEALTH });
  assert.is(r.code, 1);
  assert.match(r.stderr, /Verification: FAILED/);
  assert.match(r.stderr, /error: certificate verification failed/);
  assert.is(r.stdout, '');
  const wrongCa = await runToEnd(['connect', `127.0.0.1:${server.https}`, '--ca', 'test/fixtures/ca-ecdsa.crt'], { stdin: HEALTH });
  assert.is(wrongCa.code, 1);
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
    [['connect'], 2, /^error: connect needs exactly one HOST:PORT/, 'stderr'],
    [['connect', 'localhost:99999'], 2, /^error: port must be 1-65535/, 'stderr'],
    [['connect', '127.0.0.1:1', '--timeout', '5000'], 1, /^error: cannot connect to 127\.0\.0\.1:1: connection refused \(ECONNREFUSED\)\n$/, 'stderr'],
  ];
  const results = await Promise.all(cases.map(([args]) => runToEnd(args)));
  results.forEach((r, i) => {
    const [args, code, re, stream] = cases[i]!;
    assert.is(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r[stream], re, `${args.join(' ')}: ${r[stream]}`);
    if (code !== 0) assert.is(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  });
});

cli.run();
