// Interoperability with real TLS stacks on 127.0.0.1: OpenSSL 3 (s_server / s_client) and
// GnuTLS (gnutls-serv / gnutls-cli). Our engine is the client against each server and the
// server against each client, for TLS 1.2 and TLS 1.3 (forced with the peer's own flags), with
// ECDSA and RSA certificates; plus ALPN, client certificates, session resumption, a server
// certificate with the wrong key usage, key log lines compared with OpenSSL's, and refused
// renegotiation.
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
import { TlsError } from '../src/errors/tls-error.js';
import { fixture } from './helpers/fixtures.js';
import { describeError as describeErr, freePort, hasBinary, scoped, type EngineSocket, type PeerProcess, type Scope } from './helpers/peers.js';

const CASE_MS = 15000;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const file = (name: string): string => join(FIXTURES, name);

// The peers are required, not optional: a missing tool fails each of its cases, naming the
// Debian package that provides it, so a machine without them cannot pass `npm test` without
// running them. MBEDTLS_WASM_SKIP_INTEROP=1 turns that failure into a (printed) skip, for
// machines that cannot install the tools; cases whose tools are present still run.
const SKIP_MISSING = process.env.MBEDTLS_WASM_SKIP_INTEROP === '1';

interface PeerTool { label: string; debianPackage: string; missing: string[] }
function peerTool(label: string, debianPackage: string, binaries: string[]): PeerTool {
  const tool = { label, debianPackage, missing: binaries.filter((b) => !hasBinary(b)) };
  if (tool.missing.length > 0 && SKIP_MISSING) console.log(`interop: ${missingText(tool)}; MBEDTLS_WASM_SKIP_INTEROP=1, skipping the ${label} interop tests`);
  return tool;
}
function missingText(tool: PeerTool): string {
  return `${tool.missing.map((b) => `\`${b}\``).join(' and ')} not found on PATH (Debian package ${tool.debianPackage})`;
}
const OPENSSL = peerTool('OpenSSL', 'openssl', ['openssl']);
const GNUTLS = peerTool('GnuTLS', 'gnutls-bin', ['gnutls-serv', 'gnutls-cli']);

/** Registers one interop case: run inside a Scope (see scoped) when `tool` is installed. */
function interop(tool: PeerTool, name: string, body: (scope: Scope) => Promise<void>): void {
  if (tool.missing.length === 0) test(name, () => scoped(CASE_MS, body));
  else if (SKIP_MISSING) test.skip(name, () => {});
  else {
    test(name, () => {
      throw new Error(`interop: ${missingText(tool)}: install it (apt-get install ${tool.debianPackage}), or set MBEDTLS_WASM_SKIP_INTEROP=1 to skip the ${tool.label} interop tests`);
    });
  }
}

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

/** A fresh temporary directory, removed when the scope ends. */
function tempDir(scope: Scope): string {
  const dir = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-interop-'));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Asserts what every completed handshake must show on our side.
 * TLSv1.2 + RSA as client passes because of the shim's client signature_algorithms
 * (client_sig_algs in wasm/shim.c): mbedTLS 3.6.6's TLS 1.2 client rejects a ServerKeyExchange
 * signed with rsa_pss_rsae_* although it offers them (upstream Mbed-TLS/mbedtls#10668), so the
 * list puts RSA PKCS#1 v1.5 first, and OpenSSL and GnuTLS, which follow the client's order,
 * sign with that instead.
 */
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
    interop(OPENSSL, `client → openssl s_server: ${version}, ${certs.name} certificate, data both ways`, async (scope) => {
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
    });
  }
}

interop(OPENSSL, 'client → openssl s_server: ALPN (TLSv1.2 and TLSv1.3)', async (scope) => {
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
});

for (const version of VERSIONS) {
  interop(OPENSSL, `client → openssl s_server -Verify: client certificate (mTLS), ${version}`, async (scope) => {
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
  });
}

for (const version of VERSIONS) {
  interop(OPENSSL, `client → openssl s_server: session resumption, ${version}`, async (scope) => {
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
    // mbedTLS does not serialise the peer certificate in TLS 1.3 sessions, and a resumed TLS 1.3
    // handshake carries none; the engine's session envelope keeps the chain verified on the
    // first connection and its verification result, so identity check and peerCertificates()
    // work on the resumed connection too (for TLS 1.2 mbedTLS keeps the chain itself).
    const second = await openEngineClient(scope, port, peer, options, { servername: 'localhost', session });
    assert.is(second.engine.protocol, version);
    assert.is(second.engine.sessionReused, true, 'second connection resumed the session');
    assert.is(second.engine.authorized, true, 'the resumed connection counts as verified');
    assert.is(second.engine.peerCertificates()[0]?.subject.CN, 'localhost', 'the resumed connection reports the server certificate');
    await revRoundTrip(second, 20);
    second.close();
    await peer.waitForExit();
    assert.match(peer.output, /1 session cache hits|Reused session-id/, 's_server counted the resumption');
  });
}

// ---- our client ↔ gnutls-serv --echo -------------------------------------------------------------

for (const version of VERSIONS) {
  for (const certs of CERTS) {
    interop(GNUTLS, `client → gnutls-serv: ${version}, ${certs.name} certificate, data both ways`, async (scope) => {
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
    });
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
    interop(OPENSSL, `server ← openssl s_client: ${version}, ${certs.name} certificate, data both ways`, async (scope) => {
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
      // OpenSSL lists AES-GCM first; the server's order (ChaCha20 first: the fast one in Wasm)
      // wins in TLS 1.3 too, where mbedTLS alone would follow the client.
      assert.match(conn.engine.cipher?.standardName ?? '', /_CHACHA20_POLY1305_SHA256$/, 'server order wins');
      assert.match(peer.output, /Cipher is (TLS_CHACHA20_POLY1305_SHA256|ECDHE-(ECDSA|RSA)-CHACHA20-POLY1305)/);
      assert.match(peer.output, /Verify return code: 0 \(ok\)/);
      conn.close();
      await peer.waitForExit();
      assert.is(peer.exitCode, 0, 's_client exit code');
    });
  }
}

interop(OPENSSL, 'server ← openssl s_client: ALPN (TLSv1.2 and TLSv1.3)', async (scope) => {
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
});

for (const version of VERSIONS) {
  interop(OPENSSL, `server ← openssl s_client -cert: client certificate (mTLS), ${version}`, async (scope) => {
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
  });
}

for (const version of VERSIONS) {
  interop(OPENSSL, `server ← openssl s_client -sess_out/-sess_in: session resumption, ${version}`, async (scope) => {
    const sess = join(tempDir(scope), 'session.pem');
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
  });
}

// ---- gnutls-cli → our server --------------------------------------------------------------------

for (const version of VERSIONS) {
  for (const certs of CERTS) {
    interop(GNUTLS, `server ← gnutls-cli: ${version}, ${certs.name} certificate, data both ways`, async (scope) => {
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
    });
  }
}

// ---- wrong key usage, as our client sees it --------------------------------------------------------

// badusage.crt (make-fixtures.sh): a localhost leaf signed by ca-ecdsa whose keyUsage is
// keyCertSign only (no digitalSignature) and whose EKU is clientAuth only. OpenSSL serves it in
// TLS 1.3 only: for TLS 1.2 it finds no ECDHE-ECDSA suite that key may sign for ("no shared
// cipher"), and GnuTLS refuses it for both versions, so TLS 1.3 is the one case where a real
// server presents it to our client. (engine-certs.test.ts has the TLS 1.2 check, with the
// certificate presented by a client.)
const BADUSAGE: CertSet = { name: 'ECDSA', cert: 'badusage.crt', key: 'badusage.key', ca: 'ca-ecdsa.crt', keyType: /ECDSA/ };

interop(OPENSSL, 'client → openssl s_server with a certificate not for TLS servers (TLSv1.3): ERR_TLS_CERT_BAD_USAGE', async (scope) => {
  const port = await freePort();
  const peer = scope.spawn('openssl', sServerArgs(port, 'TLSv1.3', BADUSAGE, ['-msg']));
  const engine = new TlsEngine(clientConfig(scope, { ca: fixture(BADUSAGE.ca) }), { servername: 'localhost' });
  const conn = await scope.connect(engine, port, peer);
  const err = await conn.failure();
  assert.instance(err, TlsError);
  assert.is(err.code, 'ERR_TLS_CERT_BAD_USAGE', describeErr(err));
  assert.is(err.fault, 'certificate');
  assert.is(err.authorizationError, 'INVALID_PURPOSE');
  assert.is(err.alert, 43, 'unsupported_certificate');
  assert.is(conn.engine.authorized, false);
  assert.equal(conn.received(), new Uint8Array(0), 'no application data was delivered');
  // The chain itself is fine (same CA as server-ecdsa.crt): only the purpose is wrong, and the
  // server hears why (s_server -msg prints the decrypted TLS 1.3 alert).
  await peer.waitForOutput(/<<< TLS 1\.3, Alert \[length 0002\], fatal unsupported_certificate/);
});

// ---- key log, checked against OpenSSL's own (-keylogfile) --------------------------------------

/** The NSS key log labels our engine reports, per version (sorted). */
const KEYLOG_LABELS: Record<Version, string[]> = {
  'TLSv1.2': ['CLIENT_RANDOM'],
  'TLSv1.3': ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0'],
};

/**
 * Our lines for one connection must be exactly OpenSSL's lines for the same connection: same
 * labels, client random and secrets. OpenSSL logs more for TLS 1.3 (EXPORTER_SECRET), which we
 * do not emit; those lines are left out of the comparison.
 */
function checkKeylog(ours: string[], keylogFile: string, version: Version): void {
  const label = (line: string): string => line.split(' ')[0]!;
  assert.equal(ours.map(label).sort(), KEYLOG_LABELS[version], `labels we log for ${version}`);
  const theirs = readFileSync(keylogFile, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const comparable = theirs.filter((l) => KEYLOG_LABELS[version].includes(label(l)));
  assert.equal(comparable.length, KEYLOG_LABELS[version].length, `OpenSSL logged one line per label (${theirs.length} lines in all)`);
  assert.equal([...ours].sort(), comparable.sort(), 'our key log lines equal OpenSSL\'s');
}

for (const version of VERSIONS) {
  interop(OPENSSL, `client → openssl s_server -keylogfile: key log lines match OpenSSL's, ${version}`, async (scope) => {
    const keylog = join(tempDir(scope), 'keys.log');
    const port = await freePort();
    const peer = scope.spawn('openssl', sServerArgs(port, version, ECDSA, ['-keylogfile', keylog]));
    const conn = await openEngineClient(scope, port, peer, { ca: fixture(ECDSA.ca) }, { servername: 'localhost', keylog: true });
    assert.is(conn.engine.protocol, version);
    await revRoundTrip(conn, 30);
    conn.close();
    await peer.waitForExit(); // s_server has written (and flushed) everything it logs
    checkKeylog(conn.keylog, keylog, version);
  });

  interop(OPENSSL, `server ← openssl s_client -keylogfile: key log lines match OpenSSL's, ${version}`, async (scope) => {
    const keylog = join(tempDir(scope), 'keys.log');
    const cfg = serverConfig(scope, { key: fixture(ECDSA.key), cert: fixture(ECDSA.cert) });
    const server = await scope.listen(() => new TlsEngine(cfg, { keylog: true }));
    const peer = scope.spawn('openssl', sClientArgs(server.port, version, ECDSA.ca, ['-keylogfile', keylog]));
    const conn = await server.accept();
    await conn.handshake();
    assert.is(conn.engine.protocol, version);
    await sClientExchange(peer, conn);
    conn.close();
    await peer.waitForExit();
    checkKeylog(conn.keylog, keylog, version);
  });
}

// ---- renegotiation is refused ----------------------------------------------------------------------

// Renegotiation is compiled out (wasm/mbedtls_config.h). mbedTLS then refuses a peer's request,
// a ClientHello after the handshake (to a server) or a HelloRequest (to a client), with a
// *warning* no_renegotiation alert and would carry on with the connection. OpenSSL takes the
// refusal of a renegotiation it asked for as fatal (SSL_R_NO_RENEGOTIATION, "no renegotiation")
// and answers with a fatal handshake_failure alert, so with OpenSSL the connection always ends,
// and our side must end it cleanly: the engine fails with a typed error (sticky: later writes
// throw the same error), nothing is lost or invented in the data received before.

function checkRenegotiationRefused(err: TlsError, conn: EngineSocket, receivedBefore: string): void {
  assert.instance(err, TlsError);
  assert.is(err.code, 'ERR_TLS_ALERT_RECEIVED', describeErr(err));
  assert.is(err.fault, 'peer');
  assert.is(err.alert, 40, 'OpenSSL answered the refusal with handshake_failure');
  assert.is(conn.engine.state, 'failed');
  assert.is(conn.receivedText(), receivedBefore, 'the data received before is intact, nothing more arrived');
  let thrown: unknown;
  try { conn.send('after the refusal\n'); } catch (e) { thrown = e; }
  assert.is(thrown, err, 'a write after the failure throws the same typed error');
}

interop(OPENSSL, 'server ← openssl s_client -tls1_2, "R" (renegotiate): refused with a no_renegotiation warning', async (scope) => {
  const cfg = serverConfig(scope, { key: fixture(ECDSA.key), cert: fixture(ECDSA.cert) });
  const server = await scope.listen(() => new TlsEngine(cfg));
  // -msg prints every message and alert s_client sends (>>>) and receives (<<<).
  const peer = scope.spawn('openssl', sClientArgs(server.port, 'TLSv1.2', ECDSA.ca, ['-msg']));
  const conn = await server.accept();
  await conn.handshake();
  assert.is(conn.engine.protocol, 'TLSv1.2');
  await sClientExchange(peer, conn);
  const before = conn.receivedText();
  // s_client reads a line "R" on stdin as a command: SSL_renegotiate, i.e. a new ClientHello.
  peer.input('R\n');
  const err = await conn.failure();
  await peer.waitForExit();
  // -msg output goes to stdout, s_client's own messages to stderr. The second ClientHello is
  // the renegotiation.
  assert.match(peer.stderr, /RENEGOTIATING/);
  assert.match(peer.stdout, />>> TLS 1\.2, Handshake \[length [0-9a-f]+\], ClientHello[\s\S]*>>> TLS 1\.2, Handshake \[length [0-9a-f]+\], ClientHello[\s\S]*<<< TLS 1\.2, Alert \[length 0002\], warning no_renegotiation[\s\S]*>>> TLS 1\.2, Alert \[length 0002\], fatal handshake_failure/,
    'our server answered the new ClientHello with a warning no_renegotiation');
  assert.match(peer.stderr, /no renegotiation/, 's_client failed because the renegotiation was refused');
  checkRenegotiationRefused(err, conn, before);
});

interop(OPENSSL, 'client → openssl s_server -tls1_2, "r" (HelloRequest): refused with a no_renegotiation warning', async (scope) => {
  const port = await freePort();
  // Without -rev, s_server sends its stdin to the client and reads commands from it; "r" sends a
  // HelloRequest ("R" would do the same and also ask for a client certificate).
  const peer = scope.spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-naccept', '1', '-cert', file(ECDSA.cert), '-key', file(ECDSA.key),
    '-tls1_2', '-msg']);
  const conn = await openEngineClient(scope, port, peer, { ca: fixture(ECDSA.ca) });
  checkClientSide(conn, 'TLSv1.2', ECDSA);
  const line = `from mbedtls-wasm ${randomLine(40)}`;
  conn.send(line + '\n');
  await peer.waitForOutput(new RegExp(`^${escapeRe(line)}$`, 'm'));
  const fromPeer = `from openssl ${randomLine(40)}\n`;
  peer.input(fromPeer);
  await conn.receiveText(fromPeer);
  peer.input('r\n');
  const err = await conn.failure();
  await peer.waitForExit();
  assert.match(peer.stdout, />>> TLS 1\.2, Handshake \[length 0004\], HelloRequest[\s\S]*<<< TLS 1\.2, Alert \[length 0002\], warning no_renegotiation[\s\S]*>>> TLS 1\.2, Alert \[length 0002\], fatal handshake_failure/,
    'our client answered the HelloRequest with a warning no_renegotiation');
  checkRenegotiationRefused(err, conn, fromPeer);
});

test.run();
