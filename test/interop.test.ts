// Interoperability with real TLS stacks on 127.0.0.1: OpenSSL 3 (s_server / s_client) and
// GnuTLS (gnutls-serv / gnutls-cli). Our engine is the client against each server and the
// server against each client, for TLS 1.2 and TLS 1.3 (forced with the peer's own flags), with
// ECDSA and RSA certificates; plus ALPN, client certificates and session resumption.
// Every case kills its peer process on the way out (see Scope in helpers/peers.ts).
import './helpers/setup.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsConfig, type SecureOptions } from '../src/engine/config.js';
import { TlsEngine, type EngineOptions } from '../src/engine/tls-engine.js';
import { fixture } from './helpers/fixtures.js';
import { freePort, hasBinary, scoped, type EngineSocket, type PeerProcess, type Scope } from './helpers/peers.js';

const CASE_MS = 15000;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const file = (name: string): string => join(FIXTURES, name);

const HAVE_OPENSSL = hasBinary('openssl');
const HAVE_GNUTLS = hasBinary('gnutls-serv') && hasBinary('gnutls-cli');
if (!HAVE_OPENSSL) console.log('interop: `openssl` not found on PATH, skipping the OpenSSL interop tests');
if (!HAVE_GNUTLS) console.log('interop: `gnutls-serv`/`gnutls-cli` not found on PATH (package gnutls-bin), skipping the GnuTLS interop tests');

type Version = 'TLSv1.2' | 'TLSv1.3';
const VERSIONS: Version[] = ['TLSv1.2', 'TLSv1.3'];

interface CertSet { name: 'ECDSA' | 'RSA'; cert: string; key: string; ca: string; keyType: RegExp }
const CERTS: CertSet[] = [
  { name: 'ECDSA', cert: 'server-ecdsa.crt', key: 'server-ecdsa.key', ca: 'ca-ecdsa.crt', keyType: /ECDSA/ },
  { name: 'RSA', cert: 'server-rsa.crt', key: 'server-rsa.key', ca: 'ca-rsa.crt', keyType: /RSA/ },
];
const ECDSA = CERTS[0]!;

const opensslFlag = (v: Version): string => (v === 'TLSv1.2' ? '-tls1_2' : '-tls1_3');
const gnutlsPriority = (v: Version): string => `NORMAL:-VERS-ALL:+VERS-${v === 'TLSv1.2' ? 'TLS1.2' : 'TLS1.3'}`;
const gnutlsVersion = (v: Version): string => (v === 'TLSv1.2' ? 'TLS1.2' : 'TLS1.3');

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A line of random printable ASCII (no newline), `n` characters long. */
function randomLine(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;!?-_+=()[]{}<>/@#$%^&*~';
  const raw = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[raw[i]! % alphabet.length];
  return s;
}

/** `n` random bytes from 0x01..0xff (no NUL). */
function nonZeroBytes(n: number): Uint8Array {
  const out = new Uint8Array(randomBytes(n));
  for (let i = 0; i < n; i++) if (out[i] === 0) out[i] = 1 + (i % 255);
  return out;
}

function reverse(s: string): string {
  return [...s].reverse().join('');
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let first = -1;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) { first = i; break; }
  assert.is(first, -1, `${what}: first differing byte at offset ${first}`);
}

function clientConfig(scope: Scope, options: SecureOptions): TlsConfig {
  const cfg = TlsConfig.client(options);
  scope.defer(() => cfg.dispose());
  return cfg;
}

function serverConfig(scope: Scope, options: SecureOptions): TlsConfig {
  const cfg = TlsConfig.server(options);
  scope.defer(() => cfg.dispose());
  return cfg;
}

/** Asserts what every completed handshake must show on our side. */
// Known failure, TLSv1.2 + RSA as client (mbedTLS 3.6.6, upstream Mbed-TLS/mbedtls#10668, fixed by
// #10672): our ClientHello offers rsa_pss_rsae_*, OpenSSL and GnuTLS sign their TLS 1.2
// ServerKeyExchange with rsa_pss_rsae_sha512, and the client rejects it (-0x6600, alert 47).
function checkClientSide(conn: EngineSocket, version: Version, certs: CertSet): void {
  const e = conn.engine;
  assert.is(e.protocol, version, 'negotiated protocol');
  assert.ok(e.cipher, 'a ciphersuite is reported');
  assert.is(e.cipher!.version, version, 'the ciphersuite belongs to the negotiated version');
  assert.is(e.authorized, true, `server certificate verified (authorizationError ${e.authorizationError})`);
  const chain = e.peerCertificates();
  assert.ok(chain.length >= 1, 'the server sent its certificate');
  assert.is(chain[0]!.subject.CN, 'localhost');
  assert.is(chain[0]!.issuer.CN, certs.name === 'ECDSA' ? 'mbedtls-wasm Test Root ECDSA' : 'mbedtls-wasm Test Root RSA');
}

// ---- our client ↔ openssl s_server ----------------------------------------------------------------

function sServerArgs(port: number, version: Version, certs: CertSet, extra: string[] = [], naccept = 1): string[] {
  return ['s_server', '-accept', `127.0.0.1:${port}`, '-naccept', String(naccept), '-cert', file(certs.cert), '-key', file(certs.key),
    opensslFlag(version), '-rev', ...extra];
}

/** Sends a line to `s_server -rev` and checks the reversed line comes back byte-exact. */
async function revRoundTrip(conn: EngineSocket, length: number): Promise<void> {
  const line = randomLine(length);
  const before = conn.received().length;
  conn.send(line + '\n');
  const expected = encoder.encode(reverse(line) + '\n');
  const got = await conn.receive(before + expected.length);
  sameBytes(got.subarray(before), expected, 's_server -rev reply');
}

async function openEngineClient(scope: Scope, port: number, peer: PeerProcess, options: SecureOptions, engineOptions: EngineOptions = { servername: 'localhost' }): Promise<EngineSocket> {
  const engine = new TlsEngine(clientConfig(scope, options), engineOptions);
  const conn = await scope.connect(engine, port, peer);
  await conn.handshake();
  return conn;
}

for (const version of VERSIONS) {
  for (const certs of CERTS) {
    (HAVE_OPENSSL ? test : test.skip)(`client → openssl s_server: ${version}, ${certs.name} certificate, data both ways`, () => scoped(CASE_MS, async (scope) => {
      const port = await freePort();
      const peer = scope.spawn('openssl', sServerArgs(port, version, certs));
      const conn = await openEngineClient(scope, port, peer, { ca: fixture(certs.ca) });
      checkClientSide(conn, version, certs);
      await revRoundTrip(conn, 40);
      await revRoundTrip(conn, 12000); // spans records on both sides
      await peer.waitForOutput(new RegExp(`Protocol version: ${version.replace('.', '\\.')}`));
      conn.close();
      await peer.waitForExit();
      assert.is(peer.exitCode, 0, 's_server exit code');
    }));
  }
}

(HAVE_OPENSSL ? test : test.skip)('client → openssl s_server: ALPN (TLSv1.2 and TLSv1.3)', () => scoped(CASE_MS, async (scope) => {
  for (const version of VERSIONS) {
    const port = await freePort();
    const peer = scope.spawn('openssl', sServerArgs(port, version, ECDSA, ['-alpn', 'http/1.1']));
    const conn = await openEngineClient(scope, port, peer, { ca: fixture(ECDSA.ca), ALPNProtocols: ['h2', 'http/1.1'] });
    assert.is(conn.engine.protocol, version);
    assert.is(conn.engine.alpnProtocol, 'http/1.1', `ALPN over ${version}`);
    await revRoundTrip(conn, 64);
    conn.close();
    await peer.waitForExit();
  }
}));

for (const version of VERSIONS) {
  (HAVE_OPENSSL ? test : test.skip)(`client → openssl s_server -Verify: client certificate (mTLS), ${version}`, () => scoped(CASE_MS, async (scope) => {
    const port = await freePort();
    const peer = scope.spawn('openssl', sServerArgs(port, version, ECDSA, ['-Verify', '1', '-verify_return_error', '-CAfile', file('ca-ecdsa.crt')]));
    const conn = await openEngineClient(scope, port, peer, { ca: fixture('ca-ecdsa.crt'), key: fixture('client-ecdsa.key'), cert: fixture('client-ecdsa.crt') });
    checkClientSide(conn, version, ECDSA);
    await revRoundTrip(conn, 100);
    // s_server prints the client certificate's subject and its verification result.
    await peer.waitForOutput(/Peer certificate: CN ?= ?test-client[\s\S]*Verification: OK/);
    assert.ok(!/verify error/i.test(peer.output), 's_server reported no verification error');
    conn.close();
    await peer.waitForExit();
    assert.is(peer.exitCode, 0, 's_server exit code');
  }));
}

for (const version of VERSIONS) {
  (HAVE_OPENSSL ? test : test.skip)(`client → openssl s_server: session resumption, ${version}`, () => scoped(CASE_MS, async (scope) => {
    const port = await freePort();
    const peer = scope.spawn('openssl', sServerArgs(port, version, ECDSA, [], 2));
    const options = { ca: fixture(ECDSA.ca) };
    const first = await openEngineClient(scope, port, peer, options);
    assert.is(first.engine.sessionReused, false, 'first connection is a full handshake');
    await revRoundTrip(first, 20); // TLS 1.3: the NewSessionTicket arrives with the reply
    assert.ok(first.sessions.length > 0, 'the engine reported a session to resume');
    const session = first.sessions[first.sessions.length - 1]!;
    first.close();
    await first.peerClose().catch(() => {}); // s_server may just drop the connection
    // Known failure for TLSv1.3 (library, not this test): a resumed TLS 1.3 session carries no
    // peer certificate (mbedTLS does not serialise it in TLS 1.3 tickets), so the engine's
    // identity check fails with ERR_TLS_CERT_ALTNAME_INVALID "the server sent no certificate".
    const second = await openEngineClient(scope, port, peer, options, { servername: 'localhost', session });
    assert.is(second.engine.protocol, version);
    assert.is(second.engine.sessionReused, true, 'second connection resumed the session');
    await revRoundTrip(second, 20);
    second.close();
    await peer.waitForExit();
    assert.match(peer.output, /1 session cache hits|Reused session-id/, 's_server counted the resumption');
  }));
}

// ---- our client ↔ gnutls-serv --echo -------------------------------------------------------------

for (const version of VERSIONS) {
  for (const certs of CERTS) {
    (HAVE_GNUTLS ? test : test.skip)(`client → gnutls-serv: ${version}, ${certs.name} certificate, data both ways`, () => scoped(CASE_MS, async (scope) => {
      const port = await freePort();
      const peer = scope.spawn('gnutls-serv', ['--port', String(port), '--echo', '--disable-client-cert',
        '--x509certfile', file(certs.cert), '--x509keyfile', file(certs.key), '--priority', gnutlsPriority(version)]);
      const conn = await openEngineClient(scope, port, peer, { ca: fixture(certs.ca) });
      checkClientSide(conn, version, certs);
      // gnutls-serv --echo answers each record it reads with strdup() of it, so the data is text
      // (a NUL would end the echo early); every byte value from 0x01 to 0xff is still covered.
      const small = encoder.encode('hello gnutls\n');
      conn.send(small);
      sameBytes(await conn.receive(small.length), small, 'echo of a small message');
      const big = nonZeroBytes(70000); // several records in each direction
      conn.send(big);
      const got = await conn.receive(small.length + big.length);
      sameBytes(got.subarray(small.length), big, 'echo of 70000 bytes');
      conn.close();
    }));
  }
}

// ---- openssl s_client → our server --------------------------------------------------------------

function sClientArgs(port: number, version: Version, ca: string, extra: string[] = []): string[] {
  return ['s_client', '-connect', `127.0.0.1:${port}`, opensslFlag(version), '-CAfile', file(ca), '-verify_return_error',
    '-servername', 'localhost', '-verify_hostname', 'localhost', ...extra];
}

/** s_client sends a line from stdin; we check it arrives exactly, reply, and check s_client printed it. */
async function sClientExchange(peer: PeerProcess, conn: EngineSocket): Promise<void> {
  const fromPeer = `from openssl ${randomLine(50)}\n`;
  peer.input(fromPeer);
  sameBytes(await conn.receive(fromPeer.length), encoder.encode(fromPeer), 'line from s_client');
  const reply = `from mbedtls-wasm ${randomLine(50)}`;
  conn.send(reply + '\n');
  await peer.waitForOutput(new RegExp(`^${escapeRe(reply)}$`, 'm'));
}

async function waitForFile(path: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(existsSync(path) && statSync(path).size > 0 && readFileSync(path, 'utf8').includes('END SSL SESSION PARAMETERS'))) {
    if (Date.now() > deadline) throw new Error(`${path} was not written within ${ms} ms (no session / NewSessionTicket received?)`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

for (const version of VERSIONS) {
  for (const certs of CERTS) {
    (HAVE_OPENSSL ? test : test.skip)(`server ← openssl s_client: ${version}, ${certs.name} certificate, data both ways`, () => scoped(CASE_MS, async (scope) => {
      const cfg = serverConfig(scope, { key: fixture(certs.key), cert: fixture(certs.cert) });
      const server = await scope.listen(() => new TlsEngine(cfg));
      const peer = scope.spawn('openssl', sClientArgs(server.port, version, certs.ca));
      const conn = await server.accept();
      await conn.handshake();
      assert.is(conn.engine.protocol, version);
      assert.is(conn.engine.servername, 'localhost', 'SNI from s_client');
      await sClientExchange(peer, conn);
      await peer.waitForOutput(/Verification: OK/);
      assert.match(peer.output, new RegExp(`New, ${escapeRe(version)}, Cipher is`), 's_client saw the forced protocol');
      assert.match(peer.output, /Verify return code: 0 \(ok\)/);
      conn.close();
      await peer.waitForExit();
      assert.is(peer.exitCode, 0, 's_client exit code');
    }));
  }
}

(HAVE_OPENSSL ? test : test.skip)('server ← openssl s_client: ALPN (TLSv1.2 and TLSv1.3)', () => scoped(CASE_MS, async (scope) => {
  const cfg = serverConfig(scope, { ...{ key: fixture(ECDSA.key), cert: fixture(ECDSA.cert) }, ALPNProtocols: ['h2', 'http/1.1'] });
  const server = await scope.listen(() => new TlsEngine(cfg));
  for (const version of VERSIONS) {
    const peer = scope.spawn('openssl', sClientArgs(server.port, version, ECDSA.ca, ['-alpn', 'http/1.1,spdy/3']));
    const conn = await server.accept();
    await conn.handshake();
    assert.is(conn.engine.protocol, version);
    assert.is(conn.engine.alpnProtocol, 'http/1.1', `ALPN over ${version}`);
    await sClientExchange(peer, conn);
    assert.match(peer.output, /ALPN protocol: http\/1\.1/);
    conn.close();
    await peer.waitForExit();
  }
}));

for (const version of VERSIONS) {
  (HAVE_OPENSSL ? test : test.skip)(`server ← openssl s_client -cert: client certificate (mTLS), ${version}`, () => scoped(CASE_MS, async (scope) => {
    const cfg = serverConfig(scope, { key: fixture(ECDSA.key), cert: fixture(ECDSA.cert), ca: fixture('ca-ecdsa.crt'), requestCert: true });
    const server = await scope.listen(() => new TlsEngine(cfg));
    const peer = scope.spawn('openssl', sClientArgs(server.port, version, ECDSA.ca, ['-cert', file('client-ecdsa.crt'), '-key', file('client-ecdsa.key')]));
    const conn = await server.accept();
    await conn.handshake();
    assert.is(conn.engine.protocol, version);
    assert.is(conn.engine.authorized, true, `client certificate verified (authorizationError ${conn.engine.authorizationError})`);
    const chain = conn.engine.peerCertificates();
    assert.is(chain[0]?.subject.CN, 'test-client');
    await sClientExchange(peer, conn);
    conn.close();
    await peer.waitForExit();
    assert.is(peer.exitCode, 0, 's_client exit code');
  }));
}

for (const version of VERSIONS) {
  (HAVE_OPENSSL ? test : test.skip)(`server ← openssl s_client -sess_out/-sess_in: session resumption, ${version}`, () => scoped(CASE_MS, async (scope) => {
    const dir = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-interop-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const sess = join(dir, 'session.pem');
    const cfg = serverConfig(scope, { key: fixture(ECDSA.key), cert: fixture(ECDSA.cert) });
    const server = await scope.listen(() => new TlsEngine(cfg));

    const first = scope.spawn('openssl', sClientArgs(server.port, version, ECDSA.ca, ['-sess_out', sess]));
    const c1 = await server.accept();
    await c1.handshake();
    assert.is(c1.engine.sessionReused, false, 'first connection is a full handshake');
    await sClientExchange(first, c1);
    // s_client writes -sess_out when the session (TLS 1.3: the NewSessionTicket) arrives.
    await waitForFile(sess);
    assert.match(first.output, new RegExp(`New, ${escapeRe(version)}, Cipher is`));
    c1.close();
    await first.waitForExit();

    const second = scope.spawn('openssl', sClientArgs(server.port, version, ECDSA.ca, ['-sess_in', sess]));
    const c2 = await server.accept();
    await c2.handshake();
    assert.is(c2.engine.protocol, version);
    assert.is(c2.engine.sessionReused, true, 'our server resumed the session');
    await sClientExchange(second, c2);
    assert.match(second.output, new RegExp(`Reused, ${escapeRe(version)}, Cipher is`), 's_client reports "Reused"');
    c2.close();
    await second.waitForExit();
  }));
}

// ---- gnutls-cli → our server --------------------------------------------------------------------

for (const version of VERSIONS) {
  for (const certs of CERTS) {
    (HAVE_GNUTLS ? test : test.skip)(`server ← gnutls-cli: ${version}, ${certs.name} certificate, data both ways`, () => scoped(CASE_MS, async (scope) => {
      const cfg = serverConfig(scope, { key: fixture(certs.key), cert: fixture(certs.cert) });
      const server = await scope.listen(() => new TlsEngine(cfg));
      const peer = scope.spawn('gnutls-cli', ['--port', String(server.port), '--x509cafile', file(certs.ca),
        '--priority', gnutlsPriority(version), '127.0.0.1']);
      const conn = await server.accept();
      await conn.handshake();
      assert.is(conn.engine.protocol, version);
      await peer.waitForOutput(/- Handshake was completed/);
      assert.match(peer.output, /- Status: The certificate is trusted/, 'gnutls-cli verified our certificate');
      assert.match(peer.output, new RegExp(`- Description: \\(${gnutlsVersion(version).replace('.', '\\.')}-X\\.509\\)`), 'gnutls-cli saw the forced protocol');
      assert.match(peer.output, certs.keyType, 'signature algorithm matches the certificate');
      const fromPeer = `from gnutls ${randomLine(60)}\n`;
      peer.input(fromPeer);
      sameBytes(await conn.receive(fromPeer.length), encoder.encode(fromPeer), 'line from gnutls-cli');
      const reply = `from mbedtls-wasm ${randomLine(60)}`;
      conn.send(reply + '\n');
      await peer.waitForOutput(new RegExp(`^${escapeRe(reply)}$`, 'm'));
      // gnutls-cli closes (close_notify) when its stdin ends.
      peer.endInput();
      await conn.peerClose();
      conn.close();
      await peer.waitForExit();
      assert.is(peer.exitCode, 0, 'gnutls-cli exit code');
      assert.is(decoder.decode(conn.received()), fromPeer, 'nothing else arrived');
    }));
  }
}

test.run();
