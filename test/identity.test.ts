import { test } from 'uvu';
import * as assert from 'uvu/assert';
import tls from 'node:tls';
import net from 'node:net';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { canonicalizeIP, checkServerIdentity, isIP, splitAltNames, type IdentityCertificate } from '../src/engine/identity.js';
import { parseCertificate, pemToDerList } from '../src/engine/x509.js';

type Cert = { subject?: Record<string, string | string[]> | null; subjectaltname?: string };

/** Runs both implementations and checks they agree exactly; returns node's verdict. */
function compare(host: string, cert: Cert, label: string): Error | undefined {
  let nodeErr: Error | undefined, nodeThrown: unknown;
  let mineErr: Error | undefined, mineThrown: unknown;
  try { nodeErr = tls.checkServerIdentity(host, cert as unknown as tls.PeerCertificate); } catch (e) { nodeThrown = e; }
  try { mineErr = checkServerIdentity(host, cert as IdentityCertificate); } catch (e) { mineThrown = e; }
  if (nodeThrown !== undefined || mineThrown !== undefined) {
    assert.ok(nodeThrown !== undefined && mineThrown !== undefined, `${label}: both throw (node: ${String(nodeThrown)}, mine: ${String(mineThrown)})`);
    const n = nodeThrown as Error & { code?: string }, m = mineThrown as Error & { code?: string };
    assert.is(m.name, n.name, `${label}: thrown name`);
    assert.is(m.message, n.message, `${label}: thrown message`);
    assert.is(m.code, n.code, `${label}: thrown code`);
    throw n;
  }
  assert.is(mineErr === undefined, nodeErr === undefined, `${label}: same verdict (node: ${nodeErr?.message ?? 'ok'}; mine: ${mineErr?.message ?? 'ok'})`);
  if (nodeErr && mineErr) {
    const n = nodeErr as Error & Record<string, unknown>, m = mineErr as Error & Record<string, unknown>;
    assert.is(m.message, n.message, `${label}: message`);
    assert.is(m.code, n.code, `${label}: code`);
    assert.is(m.reason, n.reason, `${label}: reason`);
    assert.is(m.host, n.host, `${label}: host`);
    assert.is(m.cert, cert, `${label}: cert`);
    assert.is(m.name, n.name, `${label}: name`);
    assert.is(String(m), String(n), `${label}: toString`);
    assert.equal(Object.keys(m), Object.keys(n), `${label}: own enumerable keys`);
    assert.instance(m, Error);
  }
  return nodeErr;
}

const san = (s: string, cn?: string | string[]): Cert => ({ subject: cn === undefined ? {} : { CN: cn }, subjectaltname: s });
const cnOnly = (cn: string | string[]): Cert => ({ subject: { CN: cn } });

// [hostname, certificate, expected verdict]
const CASES: Array<[string, Cert, 'ok' | 'fail']> = [
  // exact DNS names, case and trailing dots
  ['localhost', san('DNS:localhost'), 'ok'],
  ['LOCALHOST', san('DNS:localhost'), 'ok'],
  ['localhost', san('DNS:LocalHost'), 'ok'],
  ['localhost.', san('DNS:localhost'), 'ok'],
  ['localhost', san('DNS:localhost.'), 'ok'],
  ['localhost..', san('DNS:localhost'), 'ok'], // node strips a dot twice
  ['localhost', san('DNS:other.test, DNS:localhost'), 'ok'],
  ['localhost2', san('DNS:localhost'), 'fail'],
  ['a.example.com', san('DNS:b.example.com'), 'fail'],
  ['', san('DNS:localhost'), 'fail'],
  ['İ.example', san('DNS:i.example'), 'fail'], // only A-Z are case-folded
  // wildcards
  ['foo.example.test', san('DNS:*.example.test'), 'ok'],
  ['FOO.Example.TEST.', san('DNS:*.example.test'), 'ok'],
  ['a.b.example.test', san('DNS:*.example.test'), 'fail'],
  ['example.test', san('DNS:*.example.test'), 'fail'],
  ['foo.com', san('DNS:*.com'), 'fail'],
  ['foo.com', san('DNS:f*.com'), 'fail'],
  ['localhost', san('DNS:*'), 'fail'],
  ['bar.example.com', san('DNS:b*r.example.com'), 'ok'],
  ['baz.example.com', san('DNS:ba*.example.com'), 'ok'],
  ['ba.example.com', san('DNS:ba*.example.com'), 'ok'],
  ['b.example.com', san('DNS:ba*.example.com'), 'fail'],
  ['bz.example.com', san('DNS:b*z*.example.com'), 'fail'],
  ['xn--bcher-kva.example.com', san('DNS:xn--*.example.com'), 'fail'],
  ['xn--bcher-kva.example.com', san('DNS:xn--bcher-kva.example.com'), 'ok'],
  ['foo.bar.example.com', san('DNS:foo.*.example.com'), 'fail'],
  ['.example.com', san('DNS:*.example.com'), 'ok'], // node quirk: '*' may match an empty label
  ['a..example.com', san('DNS:a..example.com'), 'fail'],
  ['bücher.example', san('DNS:bücher.example'), 'fail'],
  ['a b.example', san('DNS:a b.example'), 'fail'],
  // CN fallback only without DNS alt names
  ['cn.example.org', san('DNS:other.test', 'cn.example.org'), 'fail'],
  ['cn.example.org', cnOnly('cn.example.org'), 'ok'],
  ['CN.example.org.', cnOnly('cn.EXAMPLE.org'), 'ok'],
  ['a.example.org', cnOnly('*.example.org'), 'ok'],
  ['b.test', cnOnly(['a.test', 'b.test']), 'ok'],
  ['c.test', cnOnly(['a.test', 'b.test']), 'fail'],
  ['host.test', san('IP Address:1.2.3.4', 'host.test'), 'ok'],
  ['host.test', san('email:a@host.test, URI:https://host.test/', 'host.test'), 'ok'],
  ['host.test', san('othername:UPN:host.test', 'other.test'), 'fail'],
  ['host.test', san('', 'host.test'), 'ok'],
  ['host.test', cnOnly(''), 'fail'],
  ['host.test', san(''), 'fail'],
  ['host.test', { subject: {} }, 'fail'],
  ['host.test', {}, 'fail'],
  ['host.test', { subject: null }, 'fail'],
  // IPv4
  ['127.0.0.1', san('IP Address:127.0.0.1'), 'ok'],
  ['127.0.0.1.', san('IP Address:127.0.0.1'), 'ok'],
  ['127.0.0.2', san('IP Address:127.0.0.1'), 'fail'],
  ['127.0.0.1', san('DNS:127.0.0.1'), 'fail'],
  ['127.0.0.1', cnOnly('127.0.0.1'), 'fail'],
  ['127.0.0.1', san('DNS:localhost, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1'), 'fail'],
  ['127.0.0.1', san('IP Address:<invalid length=3>, IP Address:127.0.0.1'), 'ok'],
  ['127.0.0.9', san('IP Address:<invalid length=3>, IP Address:127.0.0.1'), 'fail'],
  ['127.000.000.001', san('IP Address:127.0.0.1'), 'fail'], // not an IP for node: a DNS name
  ['127.0.0.1', san('IP Address:127.000.000.001'), 'fail'],
  // IPv6
  ['::1', san('IP Address:0:0:0:0:0:0:0:1'), 'ok'],
  ['0:0::1', san('IP Address:0:0:0:0:0:0:0:1'), 'ok'],
  ['0000:0000:0000:0000:0000:0000:0000:0001', san('IP Address:0:0:0:0:0:0:0:1'), 'ok'],
  ['::2', san('IP Address:0:0:0:0:0:0:0:1'), 'fail'],
  ['[::1]', san('IP Address:0:0:0:0:0:0:0:1'), 'fail'],
  ['FE80::1', san('IP Address:FE80:0:0:0:0:0:0:1'), 'ok'],
  ['fe80::1%eth0', san('IP Address:FE80:0:0:0:0:0:0:1'), 'ok'],
  ['2001:db8::1', san('IP Address:2001:DB8:0:0:0:0:0:2, IP Address:0:0:0:0:0:FFFF:7F00:1, IP Address:1:0:0:2:0:0:0:3'), 'fail'],
  ['::ffff:127.0.0.1', san('IP Address:127.0.0.1'), 'fail'],
  ['::ffff:127.0.0.1', san('IP Address:0:0:0:0:0:FFFF:7F00:1'), 'ok'],
  ['::ffff:7f00:1', san('IP Address:0:0:0:0:0:FFFF:7F00:1'), 'ok'],
  ['::1', san('DNS:localhost'), 'fail'],
  ['::1', cnOnly('::1'), 'fail'],
  // quoted (escaped) entries
  ['real.example', san('DNS:"a,b.example", DNS:real.example'), 'ok'],
  ['a,b.example', san('DNS:"a,b.example"'), 'ok'], // the quoted entry is one name, commas and all
  ['x.example', san('"DNS:x.example"'), 'ok'],
  ['x.example', san('DNS:"x\\u002eexample"'), 'ok'],
  ['127.0.0.1', san('IP Address:"127.0.0.1"'), 'ok'],
];

test(`table: ${CASES.length} cases agree with node's tls.checkServerIdentity`, () => {
  assert.ok(CASES.length >= 30);
  for (const [host, cert, expected] of CASES) {
    const label = `${JSON.stringify(host)} vs ${JSON.stringify(cert)}`;
    const err = compare(host, cert, label);
    assert.is(err ? 'fail' : 'ok', expected, `${label}: expected ${expected}`);
  }
});

test('error shape and messages', () => {
  const cert = san('DNS:localhost, DNS:*.example.test');
  const e = checkServerIdentity('wrong.test', cert)!;
  assert.is(e.message, "Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: DNS:localhost, DNS:*.example.test");
  assert.is(e.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.is(e.host, 'wrong.test');
  assert.is(e.cert, cert);
  assert.is(String(e), `Error [ERR_TLS_CERT_ALTNAME_INVALID]: ${e.message}`);
  assert.is(checkServerIdentity('10.0.0.1', san('IP Address:0:0:0:0:0:0:0:1, IP Address:1.2.3'))!.reason,
    "IP: 10.0.0.1 is not in the cert's list: ::1, ");
  assert.is(checkServerIdentity('a.test', cnOnly(['b.test', 'c.test']))!.reason, "Host: a.test. is not cert's CN: b.test,c.test");
  assert.is(checkServerIdentity('a.test', {})!.reason, 'Cert does not contain a DNS name');
});

test('malformed quoted subjectaltname throws as node does', () => {
  for (const bad of ['"DNS:a,b', 'DNS:"a\\x"', 'DNS:"a\u0001"', 'DNS:"\\u12"', 'DNS:ok, "']) {
    try {
      compare('a.test', san(bad), bad);
      assert.unreachable(`${bad} should throw`);
    } catch (e) {
      assert.instance(e, SyntaxError);
      assert.is((e as { code?: string }).code, 'ERR_TLS_CERT_ALTNAME_FORMAT');
    }
  }
  assert.equal(splitAltNames('DNS:a, "DNS:b, c", DNS:"d\\"e"'), ['DNS:a', 'DNS:b, c', 'DNS:d"e']);
  assert.equal(splitAltNames('DNS:a, DNS:b'), ['DNS:a', 'DNS:b']);
  assert.equal(splitAltNames(''), ['']);
});

test('fixture certificates: our parsed object vs node\'s, through both implementations', () => {
  const dir = fileURLToPath(new URL('./fixtures/', import.meta.url));
  const hash = {
    sha1: (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest()),
    sha256: (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest()),
  };
  const hosts = ['localhost', 'LOCALHOST.', 'foo.example.test', 'a.b.example.test', 'example.test', '127.0.0.1', '127.0.0.2',
    '::1', '0:0::1', '::2', 'wrong.test', 'other.test', 'test-client', 'mbedtls-wasm Test Root ECDSA'];
  const expectations: Record<string, string[]> = {
    'server-ecdsa.crt': ['localhost', 'LOCALHOST.', 'foo.example.test', '127.0.0.1', '::1', '0:0::1'],
    'wronghost.crt': ['wrong.test'],
    'other-ecdsa.crt': ['other.test'],
    'client-ecdsa.crt': ['test-client'], // no SAN: the CN is used
  };
  for (const f of ['server-ecdsa.crt', 'server-rsa.crt', 'wronghost.crt', 'other-ecdsa.crt', 'client-ecdsa.crt', 'ca-ecdsa.crt', 'selfsigned.crt']) {
    const der = pemToDerList(readFileSync(dir + f, 'utf8'))[0];
    const mine = parseCertificate(der, hash);
    const theirs = new X509Certificate(der).toLegacyObject() as unknown as Cert;
    for (const host of hosts) {
      const a = compare(host, mine as Cert, `${f} ${host} (our object)`);
      const b = compare(host, theirs, `${f} ${host} (node's object)`);
      assert.is(a?.message, b?.message, `${f} ${host}: same result from either object`);
      if (expectations[f]?.includes(host)) assert.is(a, undefined, `${f} should be valid for ${host}`);
    }
  }
});

test('randomised agreement with node (DNS names, CN fallback, IPs)', () => {
  let seed = 0x5eed;
  const rand = (n: number) => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return (seed >>> 8) % n; };
  const pick = <T>(a: readonly T[]): T => a[rand(a.length)];
  const labels = ['a', 'b', 'A', '*', 'xn--a', 'a*', '*b', 'a*b', '**', '', 'é', 'com', 'x', 'test'] as const;
  const name = () => {
    const n = 1 + rand(4);
    let s = Array.from({ length: n }, () => pick(labels)).join('.');
    if (rand(5) === 0) s += '.';
    return s;
  };
  const ipText = () => pick(['127.0.0.1', '::1', '0:0:0:0:0:0:0:1', 'FE80:0:0:0:0:0:0:1', '1.2.3', '0:0:0:0:0:FFFF:7F00:1', '10.0.0.1']);
  for (let i = 0; i < 4000; i++) {
    const host = rand(4) === 0 ? pick(['127.0.0.1', '::1', '::ffff:127.0.0.1', 'fe80::1', '10.0.0.1', '10.0.0.1.']) : name().replace(/\*/g, 'q');
    const entries: string[] = [];
    for (let k = rand(4); k > 0; k--) entries.push(rand(3) === 0 ? `IP Address:${ipText()}` : `DNS:${name()}`);
    const cn = rand(3) === 0 ? [name(), name()] : name();
    compare(host, { subject: { CN: cn }, subjectaltname: entries.join(', ') }, `random #${i}`);
    compare(host, { subject: { CN: cn } }, `random CN #${i}`);
  }
});

test('isIP and canonicalizeIP agree with node', () => {
  const samples = ['', '1.2.3.4', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1.2.3.-4', ' 1.2.3.4',
    '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
    '1::2:3:4:5:6:7:8', '12345::1', 'g::1', '::ffff:1.2.3.4', '::ffff:01.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
    '1.2.3.4::', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%e th', 'fe80::1%25eth0', '::1%1', 'FFFF::', ':1::2', '1::2:', '[::1]'];
  for (const s of samples) {
    assert.is(isIP(s), net.isIP(s), `isIP(${JSON.stringify(s)})`);
  }
  const words = [
    '0:0:0:0:0:0:0:1', '0:0:0:0:0:0:0:2', '0:0:0:0:0:FFFF:7F00:1', '1:0:0:2:0:0:0:3', '1:0:0:0:2:0:0:3', '0:0:0:0:1:0:0:0',
    '0:0:0:0:0:0:0:0', '0:0:0:0:0:0:102:304', '0:0:0:0:0:FFFE:102:304', 'FE80:0:0:0:0:0:0:1', '1:0:3:4:5:6:7:8',
    '1:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:FFFF', '0:0:0:0:0:0:1:0', '0:0:0:0:0:FFFF:0:0', '1.2.3.4', '1.2.3', 'garbage', '::1%eth0',
    '2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1',
  ];
  for (const w of words) {
    const reason = (tls.checkServerIdentity('9.9.9.9', { subject: {}, subjectaltname: `IP Address:${w}` } as unknown as tls.PeerCertificate) as Error & { reason: string }).reason;
    const nodeCanonical = reason.slice("IP: 9.9.9.9 is not in the cert's list: ".length);
    assert.is(canonicalizeIP(w) ?? '', nodeCanonical, `canonicalizeIP(${w})`);
  }
});

test.run();
