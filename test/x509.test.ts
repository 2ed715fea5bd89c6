import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate, createHash, generateKeyPairSync, createECDH } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';

import {
  base64Decode, base64Encode, derToPem, parseCertificate, parseCertificateInfo, pemToDerList,
  KU_KEY_CERT_SIGN, KU_DIGITAL_SIGNATURE, type PeerCertificate,
} from '../src/engine/x509.js';
import {
  DerReader, parseDer, readIntegerHex, readOid, readString, readTime, readTimeDetails, TAG,
} from '../src/engine/der.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const digest = (alg: string) => (d: Uint8Array): Uint8Array => new Uint8Array(createHash(alg).update(d).digest());
const hash = { sha1: digest('sha1'), sha256: digest('sha256'), sha512: digest('sha512') };

// ---------------------------------------------------------------------------------------------
// A tiny DER writer, to build certificates with unusual contents (node parses them unsigned).

const cat = (...a: Uint8Array[]): Uint8Array => {
  const o = new Uint8Array(a.reduce((n, x) => n + x.length, 0));
  let p = 0;
  for (const x of a) { o.set(x, p); p += x.length; }
  return o;
};
function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const body = cat(...parts);
  const n = body.length;
  const len: number[] = [];
  if (n < 0x80) len.push(n);
  else {
    for (let m = n; m > 0; m = Math.floor(m / 256)) len.unshift(m & 0xff);
    len.unshift(0x80 | len.length);
  }
  return cat(new Uint8Array([tag, ...len]), body);
}
const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);
const setOf = (...p: Uint8Array[]) => tlv(0x31, ...p);
const latin = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const u8 = (...b: number[]) => new Uint8Array(b);
function oidBody(s: string): Uint8Array {
  const a = s.split('.').map(BigInt);
  const out: number[] = [];
  const enc = (v: bigint) => {
    const t = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) t.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...t);
  };
  enc(a[0] * 40n + a[1]);
  for (const v of a.slice(2)) enc(v);
  return new Uint8Array(out);
}
const oid = (s: string) => tlv(0x06, oidBody(s));
const intHex = (h: string) => tlv(0x02, Uint8Array.from(h.match(/../g)!.map((x) => parseInt(x, 16))));
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const printable = (s: string) => tlv(0x13, latin(s));
const ia5 = (s: string) => tlv(0x16, latin(s));
const bmp = (s: string) => tlv(0x1e, Uint8Array.from(s.split('').flatMap((c) => [c.charCodeAt(0) >> 8, c.charCodeAt(0) & 255])));
const bool = (v: boolean) => tlv(0x01, u8(v ? 0xff : 0));
const bitstr = (b: Uint8Array, unused = 0) => tlv(0x03, u8(unused), b);
const utc = (s: string) => tlv(0x17, latin(s));
const gtime = (s: string) => tlv(0x18, latin(s));
type Rdn = Array<[string, Uint8Array]>;
const dn = (...rdns: Rdn[]) => seq(...rdns.map((r) => setOf(...r.map(([o, v]) => seq(oid(o), v)))));
const cn = (s: string) => dn([['2.5.4.3', utf8(s)]]);
const ext = (o: string, value: Uint8Array, critical = false) => seq(oid(o), ...(critical ? [bool(true)] : []), tlv(0x04, value));
const san = (...gns: Uint8Array[]) => ext('2.5.29.17', seq(...gns));

interface Spec {
  version?: number | null;
  serial?: Uint8Array;
  issuer?: Uint8Array;
  subject?: Uint8Array;
  notBefore?: Uint8Array;
  notAfter?: Uint8Array;
  spki?: Uint8Array;
  extensions?: Uint8Array[];
}
const P256_SPKI = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
function buildCert(s: Spec): Uint8Array {
  const alg = seq(oid('1.2.840.10045.4.3.2'));
  const tbs = seq(
    ...(s.version === null ? [] : [tlv(0xa0, intHex('0' + String((s.version ?? 3) - 1)))]),
    s.serial ?? intHex('1234'),
    alg,
    s.issuer ?? cn('Issuer'),
    seq(s.notBefore ?? utc('240101000000Z'), s.notAfter ?? gtime('20991231235959Z')),
    s.subject ?? cn('Subject'),
    s.spki ?? P256_SPKI,
    ...(s.extensions ? [tlv(0xa3, seq(...s.extensions))] : []),
  );
  return seq(tbs, alg, bitstr(seq(intHex('01'), intHex('01'))));
}

// ---------------------------------------------------------------------------------------------
// Comparison with node

const plain = (v: unknown): unknown => {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = plain((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
};

/** node:tls turns X509Certificate's infoAccess text into an object of arrays; do the same. */
function translateInfoAccess(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const i = line.indexOf(':');
    const key = line.slice(0, i);
    let val = line.slice(i + 1);
    if (val.startsWith('"')) val = JSON.parse(val) as string;
    (out[key] ??= []).push(val);
  }
  return out;
}

function nodeLegacy(der: Uint8Array): Record<string, unknown> {
  const o = { ...(new X509Certificate(der).toLegacyObject() as unknown as Record<string, unknown>) };
  if (typeof o.infoAccess === 'string') o.infoAccess = translateInfoAccess(o.infoAccess);
  return o;
}

function assertSameAsNode(der: Uint8Array, label: string): PeerCertificate {
  const node = nodeLegacy(der);
  const mine = parseCertificate(der, hash);
  assert.equal(Object.keys(mine), Object.keys(node), `${label}: keys (and their order)`);
  for (const k of Object.keys(node)) {
    assert.equal(plain((mine as unknown as Record<string, unknown>)[k]), plain(node[k]), `${label}: ${k}`);
  }
  assert.is(Object.getPrototypeOf(mine.subject), null, `${label}: subject has a null prototype, as node's`);
  return mine;
}

const crtFiles = readdirSync(FIXTURES).filter((f) => f.endsWith('.crt')).sort();
const fixture = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');

// ---------------------------------------------------------------------------------------------
// Fixtures

test('every fixture certificate matches node (toLegacyObject)', () => {
  assert.ok(crtFiles.length >= 15, 'fixtures present');
  let n = 0;
  for (const f of crtFiles) {
    const ders = pemToDerList(fixture(f));
    ders.forEach((der, i) => { assertSameAsNode(der, `${f}#${i}`); n++; });
  }
  assert.ok(n >= 17);
});

test('fixture fields spelled out (server-ecdsa, server-rsa)', () => {
  const e = parseCertificate(pemToDerList(fixture('server-ecdsa.crt'))[0], hash);
  assert.equal({ ...e.subject }, { CN: 'localhost' });
  assert.equal({ ...e.issuer }, { CN: 'mbedtls-wasm Test Root ECDSA' });
  assert.is(e.subjectaltname, 'DNS:localhost, DNS:*.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.is(e.valid_from, 'Jan  1 00:00:00 2024 GMT');
  assert.is(e.valid_to, 'Dec 31 23:59:59 2099 GMT');
  assert.is(e.bits, 256);
  assert.is(e.asn1Curve, 'prime256v1');
  assert.is(e.nistCurve, 'P-256');
  assert.is(e.pubkey?.length, 65);
  assert.is(e.ca, false);
  assert.equal(e.ext_key_usage, ['1.3.6.1.5.5.7.3.1']);
  assert.ok(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/.test(e.fingerprint));
  assert.ok(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(e.fingerprint256));
  assert.ok(e.raw instanceof Uint8Array && !Buffer.isBuffer(e.raw));

  const r = parseCertificate(pemToDerList(fixture('server-rsa.crt'))[0], hash);
  assert.is(r.bits, 2048);
  assert.is(r.exponent, '0x10001');
  assert.ok(/^[0-9A-F]{512}$/.test(r.modulus ?? ''));
  assert.is(r.asn1Curve, undefined);
});

test('parseCertificateInfo: dates, names, usages, CA flags, self-issued', () => {
  const selfIssued = new Set(['ca-ecdsa.crt', 'ca-rsa.crt', 'untrusted-ca.crt', 'selfsigned.crt']);
  for (const f of crtFiles) {
    for (const der of pemToDerList(fixture(f))) {
      const info = parseCertificateInfo(der);
      const x = new X509Certificate(der);
      assert.is(info.notBefore.getTime(), new Date(x.validFrom).getTime(), `${f} notBefore`);
      assert.is(info.notAfter.getTime(), new Date(x.validTo).getTime(), `${f} notAfter`);
      assert.is(info.selfIssued, selfIssued.has(f) && info.subjectDer.length > 0 && x.subject === x.issuer, `${f} selfIssued`);
      assert.is(info.isCA, x.ca, `${f} isCA`);
      assert.is(info.version, 3);
      assert.ok(info.tbs.length < der.length && info.signature.length > 0);
      assert.equal(Array.from(info.raw), Array.from(der));
      // The Name DER appears verbatim inside the TBS.
      assert.ok(Buffer.from(info.tbs).includes(Buffer.from(info.subjectDer)));
      assert.ok(Buffer.from(info.tbs).includes(Buffer.from(info.issuerDer)));
    }
  }
  const leaf = parseCertificateInfo(pemToDerList(fixture('server-ecdsa.crt'))[0]);
  assert.equal(leaf.dnsNames, ['localhost', '*.example.test']);
  assert.equal(leaf.ipAddresses, ['127.0.0.1', '0:0:0:0:0:0:0:1']);
  assert.equal(leaf.extKeyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.is(leaf.publicKeyAlgorithm, '1.2.840.10045.2.1');
  assert.is(leaf.namedCurve, '1.2.840.10045.3.1.7');
  assert.equal(Array.from(leaf.spki),
    Array.from(new X509Certificate(leaf.raw).publicKey.export({ type: 'spki', format: 'der' })));

  const bad = parseCertificateInfo(pemToDerList(fixture('badusage.crt'))[0]);
  assert.ok(bad.keyUsage !== undefined && (bad.keyUsage & KU_KEY_CERT_SIGN) !== 0);
  assert.ok((bad.keyUsage! & KU_DIGITAL_SIGNATURE) === 0);
  assert.equal(bad.extKeyUsage, ['1.3.6.1.5.5.7.3.2']);

  const ca = parseCertificateInfo(pemToDerList(fixture('ca-ecdsa.crt'))[0]);
  assert.ok(ca.isCA && ca.ca && ca.selfIssued);
  const int = parseCertificateInfo(pemToDerList(fixture('int-ecdsa.crt'))[0]);
  assert.ok(int.isCA && !int.selfIssued);
  assert.is(int.pathLenConstraint, 0);

  const expired = parseCertificateInfo(pemToDerList(fixture('expired.crt'))[0]);
  assert.is(expired.notBefore.toISOString(), '2020-01-01T00:00:00.000Z');
  assert.is(expired.notAfter.toISOString(), '2021-01-01T00:00:00.000Z');
});

test('matches what node:tls getPeerCertificate() reports over a real connection', async () => {
  for (const name of ['server-ecdsa', 'server-rsa', 'server-chain']) {
    const key = fixture(`${name}.key`);
    const cert = fixture(`${name}.crt`);
    const server = tls.createServer({ key, cert });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const peer = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
        const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
          const c = sock.getPeerCertificate(true);
          sock.end();
          resolve(c);
        });
        sock.on('error', reject);
      });
      const expected = { ...(peer as unknown as Record<string, unknown>) };
      delete expected.issuerCertificate;
      const mine = parseCertificate(new Uint8Array(peer.raw), hash);
      assert.equal(Object.keys(mine), Object.keys(expected), `${name}: keys`);
      assert.equal(plain(mine), plain(expected), name);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Constructed certificates vs node

const ecSpki = (curve: string) => new Uint8Array(generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ type: 'spki', format: 'der' }));

test('constructed: subjectaltname formatting and escaping', () => {
  const gn = (tag: number, s: string) => tlv(tag, latin(s));
  assertSameAsNode(buildCert({ extensions: [san(
    gn(0x82, 'a,b'), gn(0x82, 'q"\\x'), gn(0x82, "it's"), gn(0x82, 'ctl\x01\x7f'), gn(0x82, 'hi\xe9'),
    gn(0x82, 'plain.example'), gn(0x81, 'a@b.c'), gn(0x81, 'x,y@b.c'), gn(0x86, 'http://x/a,b'), gn(0x86, 'https://ok/'),
    tlv(0x87, u8(1, 2, 3)), tlv(0x87, new Uint8Array(16).fill(0xab)), tlv(0x87, u8(0, 0, 0, 0)),
    tlv(0x87, u8(0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)), tlv(0x88, oidBody('1.2.3.4')),
  )] }), 'san escapes');
  assertSameAsNode(buildCert({ extensions: [san(
    tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, utf8('user@x'))),
    tlv(0xa0, oid('1.3.6.1.4.1.311.20.2.3'), tlv(0xa0, utf8('us,er\u00e9'))),
    tlv(0xa0, oid('1.3.6.1.5.5.7.8.7'), tlv(0xa0, ia5('_x.y'))),
    tlv(0xa0, oid('1.3.6.1.5.5.7.8.7'), tlv(0xa0, utf8('_x.y'))),
    tlv(0xa0, oid('1.3.6.1.5.5.7.8.9'), tlv(0xa0, utf8('m@x'))),
    tlv(0xa0, oid('1.2.3'), tlv(0xa0, utf8('v'))),
  )] }), 'othername');
  assertSameAsNode(buildCert({ extensions: [san(tlv(0xa4, dn(
    [['2.5.4.6', printable('US')]],
    [['2.5.4.10', utf8('Acme, Inc')], ['2.5.4.11', utf8('#ops ')]],
    [['2.5.4.3', utf8('né;x<y>"q"\\')]],
    [['1.2.3.4', utf8('unknown')]],
    [['2.5.4.3', bitstr(u8(0x41))]],
  )), tlv(0xa4, cn('simple')))] }), 'dirname');
  assertSameAsNode(buildCert({ extensions: [san(tlv(0xa3, seq(seq(tlv(0x61, printable('US'))))), tlv(0xa5, tlv(0xa1, utf8('x'))), tlv(0x82, latin('a')))] }), 'x400/edi');
  assertSameAsNode(buildCert({ extensions: [san()] }), 'empty SAN');
});

test('constructed: names (types, repeats, multi-valued RDNs, attribute short names)', () => {
  assertSameAsNode(buildCert({ subject: dn(
    [['2.5.4.3', utf8('a')]],
    [['2.5.4.3', printable('b')], ['2.5.4.10', bmp('Bé')]],
    [['1.2.3.4', utf8('x')]],
    [['2.5.4.3', ia5('c')]],
    [['0.9.2342.19200300.100.1.25', ia5('com')]],
    [['1.2.840.113549.1.9.1', ia5('a@b')]],
    [['2.5.4.7', tlv(0x14, latin('caf\xe9'))]],
    [['2.5.4.8', tlv(0x1c, u8(0, 0, 0, 0x41, 0, 1, 0xf6, 0))]],
    [['2.5.4.5', tlv(0x12, latin('123'))]],
    [['2.5.4.11', utf8('日本')]],
  ) }), 'names');
  const oids: string[] = [];
  for (let i = 0; i <= 100; i++) oids.push(`2.5.4.${i}`);
  for (let i = 1; i <= 60; i++) oids.push(`0.9.2342.19200300.100.1.${i}`);
  for (let i = 1; i <= 25; i++) oids.push(`1.2.840.113549.1.9.${i}`);
  for (let i = 1; i <= 3; i++) oids.push(`1.3.6.1.4.1.311.60.2.1.${i}`);
  for (let i = 1; i <= 6; i++) oids.push(`1.3.6.1.5.5.7.9.${i}`);
  assertSameAsNode(buildCert({ subject: dn(...oids.map((o): Rdn => [[o, utf8('v')]])) }), 'attribute names');
  assertSameAsNode(buildCert({ subject: seq(), issuer: seq() }), 'empty names');
  // A value with no text form: node reports no subject at all, we report an empty one.
  const odd = parseCertificate(buildCert({ subject: dn([['2.5.4.3', bitstr(u8(0x41))]], [['2.5.4.3', utf8('x')]]) }), hash);
  assert.equal({ ...odd.subject }, {});
});

test('constructed: serial numbers, times, versions', () => {
  for (const s of ['00ff', 'ff01', '00', '0a', '7f', '0080', '01020304050607080910111213141516171819', 'ff']) {
    assertSameAsNode(buildCert({ serial: intHex(s) }), `serial ${s}`);
  }
  assertSameAsNode(buildCert({ notBefore: gtime('20240102030405.123Z'), notAfter: gtime('20240102030405.5Z') }), 'fractional');
  assertSameAsNode(buildCert({ notBefore: utc('2401020304Z'), notAfter: utc('491231235959Z') }), 'UTCTime without seconds, 2049');
  assertSameAsNode(buildCert({ notBefore: utc('240102030405+0130'), notAfter: gtime('20240102030405-0200') }), 'offsets');
  assertSameAsNode(buildCert({ notBefore: utc('500102030405Z'), notAfter: gtime('99991231235959Z') }), '1950, 9999');
  assertSameAsNode(buildCert({ notBefore: utc('240229120000Z'), notAfter: gtime('20001231235959Z') }), 'leap day');
  assertSameAsNode(buildCert({ version: null }), 'v1 (no version field)');
  assertSameAsNode(buildCert({ version: 1 }), 'v1 (explicit)');
  const info = parseCertificateInfo(buildCert({ notBefore: gtime('20240102030405.123Z'), notAfter: utc('500101000000Z') }));
  assert.is(info.notBefore.toISOString(), '2024-01-02T03:04:05.123Z');
  assert.is(info.notAfter.toISOString(), '1950-01-01T00:00:00.000Z');
});

test('constructed: extensions (basicConstraints, keyUsage, EKU, AIA)', () => {
  const bc = (ca: boolean, pathLen?: string) => ext('2.5.29.19', seq(...(ca ? [bool(true)] : []), ...(pathLen ? [intHex(pathLen)] : [])), true);
  const ku = (b0: number, unused: number) => ext('2.5.29.15', bitstr(u8(b0), unused), true);
  assertSameAsNode(buildCert({ extensions: [bc(true)] }), 'cA');
  assertSameAsNode(buildCert({ extensions: [bc(false)] }), 'not cA');
  assertSameAsNode(buildCert({ extensions: [bc(true), ku(0x80, 7)] }), 'cA without keyCertSign');
  assertSameAsNode(buildCert({ extensions: [bc(true, '03'), ku(0x06, 1)] }), 'cA with keyCertSign');
  assertSameAsNode(buildCert({ extensions: [ku(0x04, 2)] }), 'keyCertSign without basicConstraints');
  assertSameAsNode(buildCert({ extensions: [ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.2.3.4.5'), oid('2.5.29.37.0')))] }), 'EKU');
  assertSameAsNode(buildCert({ extensions: [ext('1.3.6.1.5.5.7.1.1', seq(
    seq(oid('1.3.6.1.5.5.7.48.1'), tlv(0x86, latin('http://ocsp.x/'))),
    seq(oid('1.3.6.1.5.5.7.48.2'), tlv(0x86, latin('http://ca.x/a,b'))),
    seq(oid('1.3.6.1.5.5.7.48.2'), tlv(0x86, latin('http://ca2.x/'))),
    seq(oid('1.2.3.4'), tlv(0x82, latin('d.x'))),
    seq(oid('1.3.6.1.5.5.7.48.3'), tlv(0x87, u8(1, 2, 3, 4))),
  ))] }), 'AIA');
  assertSameAsNode(buildCert({ extensions: [ext('1.2.3.4.5', u8(1, 2, 3), true), ext('2.5.29.14', tlv(0x04, u8(1, 2)))] }), 'unknown extensions');
  const info = parseCertificateInfo(buildCert({ extensions: [bc(true, '03'), ku(0x06, 1), ext('2.5.29.37', seq(oid('1.3.6.1.5.5.7.3.2')))] }));
  assert.is(info.pathLenConstraint, 3);
  assert.is(info.keyUsage, 0x06);
  assert.equal(info.extensions.map((e) => [e.oid, e.critical]), [['2.5.29.19', true], ['2.5.29.15', true], ['2.5.29.37', false]]);
});

test('constructed: public keys (RSA sizes and exponents, EC curves, compressed points, Ed25519)', () => {
  for (const [bits, e] of [[1024, 65537], [1025, 3], [2048, 65537]] as const) {
    const spki = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: e }).publicKey.export({ type: 'spki', format: 'der' }));
    assertSameAsNode(buildCert({ spki }), `RSA ${bits}/${e}`);
  }
  for (const curve of ['P-256', 'P-384', 'P-521', 'secp256k1', 'prime192v1', 'secp224r1', 'brainpoolP256r1', 'brainpoolP384r1', 'brainpoolP512r1']) {
    assertSameAsNode(buildCert({ spki: ecSpki(curve) }), curve);
  }
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const compressed = new Uint8Array(ecdh.getPublicKey(undefined, 'compressed'));
  const spki = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bitstr(compressed));
  // node reports compressed and hybrid points uncompressed, and no key at all when the point is not
  // on the curve.
  const ecSpkiFor = (curveOid: string, point: Uint8Array) => seq(seq(oid('1.2.840.10045.2.1'), oid(curveOid)), bitstr(point));
  for (const [curve, curveOid] of [['prime256v1', '1.2.840.10045.3.1.7'], ['secp384r1', '1.3.132.0.34'], ['secp521r1', '1.3.132.0.35'],
    ['secp224r1', '1.3.132.0.33'], ['secp256k1', '1.3.132.0.10'], ['brainpoolP256r1', '1.3.36.3.3.2.8.1.1.7']] as const) {
    for (let i = 0; i < 4; i++) {
      const ecdh = createECDH(curve);
      ecdh.generateKeys();
      const full = new Uint8Array(ecdh.getPublicKey());
      const compressed = new Uint8Array(ecdh.getPublicKey(undefined, 'compressed'));
      const hybrid = new Uint8Array(ecdh.getPublicKey(undefined, 'hybrid'));
      const c = assertSameAsNode(buildCert({ spki: ecSpkiFor(curveOid, compressed) }), `compressed ${curve}`);
      assert.equal(Array.from(c.pubkey ?? []), Array.from(full));
      assertSameAsNode(buildCert({ spki: ecSpkiFor(curveOid, hybrid) }), `hybrid ${curve}`);
      const offCurve = full.slice();
      offCurve[offCurve.length - 1] ^= 1;
      const bad = assertSameAsNode(buildCert({ spki: ecSpkiFor(curveOid, offCurve) }), `off-curve ${curve}`);
      assert.is(bad.pubkey, undefined);
      const wrongParity = hybrid.slice();
      wrongParity[0] ^= 1;
      assertSameAsNode(buildCert({ spki: ecSpkiFor(curveOid, wrongParity) }), `hybrid with wrong parity ${curve}`);
    }
  }
  assertSameAsNode(buildCert({ spki: ecSpkiFor('1.2.840.10045.3.1.7', u8(0)) }), 'point at infinity');
  assertSameAsNode(buildCert({ spki: ecSpkiFor('1.2.840.10045.3.1.7', u8(4, 1, 2)) }), 'short point');
  assertSameAsNode(buildCert({ spki: ecSpkiFor('1.2.3.4', P256_SPKI.subarray(-65)) }), 'unknown curve');
  // x not on the curve for a compressed point: try a few x until one has no square root.
  for (let x = 1; x < 6; x++) {
    const pt = new Uint8Array(33);
    pt[0] = 2;
    pt[32] = x;
    assertSameAsNode(buildCert({ spki: ecSpkiFor('1.2.840.10045.3.1.7', pt) }), `compressed x=${x}`);
  }
  // RSA: BIGNUM semantics (no sign, no minimality), trailing data ignored, unused bits cleared.
  const rsaSpki = (key: Uint8Array, unused = 0) => seq(seq(oid('1.2.840.113549.1.1.1'), tlv(0x05)), bitstr(key, unused));
  const n = 'c3' + 'a5'.repeat(127);
  assertSameAsNode(buildCert({ spki: rsaSpki(seq(intHex('00' + n), intHex('010001'))) }), 'RSA plain');
  assertSameAsNode(buildCert({ spki: rsaSpki(seq(tlv(0x02, Uint8Array.from(Buffer.from(n, 'hex'))), intHex('03'))) }), 'RSA "negative" modulus');
  assertSameAsNode(buildCert({ spki: rsaSpki(seq(intHex('0000' + n), intHex('000003'))) }), 'RSA non-minimal integers');
  assertSameAsNode(buildCert({ spki: rsaSpki(cat(seq(intHex('00' + n), intHex('03')), u8(1, 2, 3))) }), 'RSA trailing data');
  assertSameAsNode(buildCert({ spki: rsaSpki(seq(intHex('00' + n), intHex('010001')), 1) }), 'RSA unused bits');
  assertSameAsNode(buildCert({ spki: rsaSpki(seq(intHex('00' + n), intHex('0100000000000000000001'))) }), 'RSA huge exponent');
  assertSameAsNode(buildCert({ spki: seq(seq(oid('1.2.840.113549.1.1.1'), tlv(0x04)), bitstr(seq(intHex('00' + n), intHex('03')))) }), 'RSA odd params');
  assertSameAsNode(buildCert({ spki: rsaSpki(seq(intHex('00' + n))) }), 'RSA missing exponent');
  const ed = new Uint8Array(generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' }));
  const edc = assertSameAsNode(buildCert({ spki: ed }), 'Ed25519');
  assert.is(edc.bits, undefined);
  assert.is(parseCertificateInfo(buildCert({ spki: ed })).publicKeyAlgorithm, '1.3.101.112');
});

test('constructed: other extensions OpenSSL decodes (valid forms accepted, broken ones rejected)', () => {
  const bcCA = ext('2.5.29.19', seq(bool(true)), true);
  const uri = (s: string) => tlv(0x86, latin(s));
  const valid: Array<[string, Uint8Array]> = [
    ['SKI', ext('2.5.29.14', tlv(0x04, u8(1, 2, 3, 4)))],
    ['AKI keyid', ext('2.5.29.35', seq(tlv(0x80, u8(1, 2, 3))))],
    ['AKI full', ext('2.5.29.35', seq(tlv(0x80, u8(1, 2, 3)), tlv(0xa1, tlv(0xa4, cn('Root'))), tlv(0x82, u8(0x10, 0x01))))],
    ['nameConstraints', ext('2.5.29.30', seq(
      tlv(0xa0, seq(tlv(0x82, latin('.example.test'))), seq(tlv(0x87, u8(10, 0, 0, 0, 255, 0, 0, 0)))),
      tlv(0xa1, seq(tlv(0x81, latin('bad.example')), tlv(0x80, u8(0)))),
    ), true)],
    ['CRLDP', ext('2.5.29.31', seq(
      seq(tlv(0xa0, tlv(0xa0, uri('http://crl.example/a.crl')))),
      seq(tlv(0xa0, tlv(0xa1, seq(oid('2.5.4.3'), utf8('part')))), tlv(0x81, u8(5, 0xa0)), tlv(0xa2, tlv(0xa4, cn('CRL Issuer')))),
    ))],
    ['freshestCRL', ext('2.5.29.46', seq(seq(tlv(0xa0, tlv(0xa0, uri('http://crl.example/delta.crl'))))))],
    ['nsCertType', ext('2.16.840.1.113730.1.1', bitstr(u8(0x40), 6))],
  ];
  for (const [label, e] of valid) {
    const c = assertSameAsNode(buildCert({ extensions: [bcCA, e] }), label);
    assert.is(c.ca, true, `${label}: valid, so still a CA`);
  }
  const broken: Array<[string, Uint8Array]> = [
    ['SKI', ext('2.5.29.14', tlv(0x05, u8()))],
    ['AKI', ext('2.5.29.35', seq(tlv(0x83, u8(1))))],
    ['nameConstraints', ext('2.5.29.30', seq(tlv(0xa0, seq(tlv(0x89, latin('x'))))), true)],
    ['CRLDP', ext('2.5.29.31', seq(seq(tlv(0xa0, tlv(0xa3, u8())))))],
    ['nsCertType', ext('2.16.840.1.113730.1.1', tlv(0x04, u8(1)))],
  ];
  for (const [label, e] of broken) {
    const der = buildCert({ extensions: [bcCA, e] });
    assert.is(nodeLegacy(der).ca, false, `${label}: OpenSSL treats the certificate as invalid`);
    assert.throws(() => parseCertificateInfo(der), /DER:|X\.509:/, `${label}: rejected`);
  }
  // OpenSSL does not decode freshestCRL when caching extensions; neither do we.
  assertSameAsNode(buildCert({ extensions: [bcCA, ext('2.5.29.46', tlv(0x04, u8()))] }), 'broken freshestCRL');
});

test('deliberate strictness: malformed details node tolerates are rejected', () => {
  // A certificate that would never verify anyway: duplicate extensions, impossible dates.
  assert.throws(() => parseCertificateInfo(buildCert({ extensions: [san(tlv(0x82, latin('a'))), san(tlv(0x82, latin('b')))] })), /duplicate extension/);
  assert.throws(() => parseCertificateInfo(buildCert({ notBefore: utc('241302030405Z') })), /month/);
  assert.throws(() => parseCertificateInfo(buildCert({ notBefore: utc('230229030405Z') })), /day/);
  assert.throws(() => parseCertificateInfo(buildCert({ serial: intHex('0001') })), /non-minimal INTEGER/);
  assert.throws(() => parseCertificateInfo(buildCert({ subject: dn([['2.5.4.3', tlv(0x0c, u8(0xc3))]]) })), /UTF-8/);
  assert.throws(() => parseCertificateInfo(buildCert({ subject: dn([['2.5.4.3', intHex('01')]]) })), /unsupported attribute value/);
  assert.throws(() => parseCertificateInfo(buildCert({ version: 4 })), /version/);
});

// ---------------------------------------------------------------------------------------------
// DER reader

test('der: lengths, tags and bounds', () => {
  assert.is(parseDer(u8(0x04, 0x00)).value.length, 0);
  assert.is(parseDer(u8(0x04, 0x81, 0x80, ...new Array(0x80).fill(7))).value.length, 0x80);
  assert.is(parseDer(cat(u8(0x04, 0x82, 0x01, 0x00), new Uint8Array(256))).value.length, 256);
  const high = parseDer(u8(0x9f, 0x81, 0x00, 0x01, 0x55));
  assert.is(high.tagNumber, 128);
  assert.is(high.cls, 2);
  assert.is(high.tag, -1);
  const cases: Array<[number[], RegExp]> = [
    [[], /end of data/],
    [[0x30], /truncated length/],
    [[0x30, 0x80, 0x00, 0x00], /indefinite/],
    [[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], /non-minimal length/],
    [[0x04, 0x82, 0x00, 0x80, ...new Array(0x80).fill(0)], /non-minimal length/],
    [[0x04, 0x85, 1, 0, 0, 0, 0], /too long/],
    [[0x04, 0x84, 0x7f, 0xff, 0xff, 0xff], /exceeds/],
    [[0x04, 0x03, 1, 2], /exceeds/],
    [[0x04, 0x01, 1, 2], /unexpected data/],
    [[0x9f], /truncated high tag/],
    [[0x9f, 0x80, 0x01, 0x00], /non-minimal high tag/],
    [[0x9f, 0x05, 0x00], /low tag number/],
    [[0x9f, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00], /tag number too large/],
    [[0x04, 0xff], /reserved/],
  ];
  for (const [bytes, re] of cases) {
    try {
      parseDer(new Uint8Array(bytes));
      assert.unreachable(`${JSON.stringify(bytes)} should throw`);
    } catch (e) {
      assert.instance(e, Error);
      assert.is((e as Error).constructor, Error);
      assert.match((e as Error).message, re);
    }
  }
  const r = new DerReader(u8(0x02, 0x01, 0x05, 0x05, 0x00));
  assert.is(r.peekTag(), 0x02);
  assert.is(r.optional(0x05), undefined);
  assert.is(readIntegerHex(r.expect(TAG.INTEGER)), '05');
  assert.throws(() => r.expect(TAG.INTEGER), /expected INTEGER, found NULL/);
});

test('der: INTEGER, OID, strings, times', () => {
  const int = (...b: number[]) => readIntegerHex(parseDer(u8(0x02, b.length, ...b)));
  assert.is(int(0), '0');
  assert.is(int(0x7f), '7F');
  assert.is(int(0x00, 0x80), '80');
  assert.is(int(0x80), '-80');
  assert.is(int(0xff), '-01');
  assert.is(int(0x01, 0x00), '0100');
  assert.throws(() => int(), /empty INTEGER/);
  assert.throws(() => int(0xff, 0x80), /non-minimal/);

  const o = (s: string) => readOid(parseDer(oid(s)));
  for (const s of ['2.5.4.3', '1.2.840.113549.1.1.11', '0.9.2342.19200300.100.1.25', '2.999.1', '1.3.6.1.4.1.99999999999999999999']) assert.is(o(s), s);
  assert.throws(() => readOid(parseDer(u8(0x06, 0x00))), /empty OBJECT IDENTIFIER/);
  assert.throws(() => readOid(parseDer(u8(0x06, 0x02, 0x2a, 0x86))), /truncated OBJECT IDENTIFIER/);
  assert.throws(() => readOid(parseDer(u8(0x06, 0x02, 0x80, 0x01))), /non-minimal/);

  const str = (tag: number, ...b: number[]) => readString(parseDer(u8(tag, b.length, ...b)));
  assert.is(str(0x0c, 0xc3, 0xa9), 'é');
  assert.is(str(0x13, 0x41, 0x42), 'AB');
  assert.is(str(0x16, 0x61), 'a');
  assert.is(str(0x14, 0xe9), 'é'); // T61 read as Latin-1
  assert.is(str(0x1e, 0x00, 0xe9, 0xd8, 0x3d, 0xde, 0x00), 'é😀');
  assert.is(str(0x1c, 0, 0, 0, 0x41, 0, 1, 0xf6, 0), 'A😀');
  assert.throws(() => str(0x0c, 0xc3), /UTF-8/);
  assert.throws(() => str(0x1e, 0x00), /odd/);
  assert.throws(() => str(0x1e, 0xd8, 0x00), /surrogate/);
  assert.throws(() => str(0x1c, 0, 0x11, 0, 0), /code point/);
  assert.throws(() => str(0x02, 0x01), /string type/);
  assert.throws(() => readString(parseDer(u8(0x2c, 0x03, 0x0c, 0x01, 0x41))), /primitive/);

  const t = (el: Uint8Array) => readTime(parseDer(el)).toISOString();
  assert.is(t(utc('491231235959Z')), '2049-12-31T23:59:59.000Z');
  assert.is(t(utc('500101000000Z')), '1950-01-01T00:00:00.000Z');
  assert.is(t(gtime('20991231235959Z')), '2099-12-31T23:59:59.000Z');
  assert.is(t(gtime('00050101000000Z')), '0005-01-01T00:00:00.000Z');
  assert.is(t(gtime('20240101000000.25Z')), '2024-01-01T00:00:00.250Z');
  assert.is(t(utc('240101000000+0100')), '2023-12-31T23:00:00.000Z');
  assert.is(readTimeDetails(parseDer(gtime('20240101000000.250Z'))).fraction, '.250');
  for (const bad of [utc('2401010000'), utc('24010100000Z'), utc('240101000000'), utc('240101000000Zx'), utc('24a101000000Z'),
    utc('240100000000Z'), utc('240132000000Z'), utc('240101240000Z'), utc('240101006000Z'), utc('240101000060Z'),
    gtime('20240101000000.Z'), gtime('2024010100Z'), utc('240101000000+1300'), tlv(0x04, latin('240101000000Z'))]) {
    assert.throws(() => readTime(parseDer(bad)), /DER:/);
  }
});

// ---------------------------------------------------------------------------------------------
// PEM and base64

test('pemToDerList / derToPem', () => {
  const chain = pemToDerList(fixture('server-chain-fullchain.crt'));
  assert.is(chain.length, 2);
  assert.equal(Array.from(chain[0]), Array.from(pemToDerList(fixture('server-chain.crt'))[0]));
  assert.equal(Array.from(chain[1]), Array.from(pemToDerList(fixture('int-ecdsa.crt'))[0]));
  for (const f of crtFiles) {
    const text = fixture(f);
    const ders = pemToDerList(text);
    assert.is(ders.map((d) => derToPem(d)).join(''), text.replace(/\r\n/g, '\n'), `${f} round trip`);
    assert.equal(ders.map((d) => Array.from(d)), pemToDerList(text.replace(/\n/g, '\r\n')).map((d) => Array.from(d)), `${f} CRLF`);
    assert.equal(ders.map((d) => Array.from(d)), pemToDerList(Buffer.from(text)).map((d) => Array.from(d)), `${f} bytes`);
  }
  // Whitespace, text between blocks, other blocks skipped.
  const one = fixture('ca-ecdsa.crt');
  const body = one.split('\n').slice(1, -2).join('');
  const messy = `subject=foo\n\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n  -----BEGIN CERTIFICATE-----\n\t${body.slice(0, 10)} \n ${body.slice(10)}\r\n-----END CERTIFICATE-----\ntrailing`;
  assert.equal(Array.from(pemToDerList(messy)[0]), Array.from(pemToDerList(one)[0]));
  assert.ok(derToPem(u8(1, 2, 3), 'X').startsWith('-----BEGIN X-----\nAQID\n-----END X-----'));
  const long = derToPem(new Uint8Array(100));
  assert.ok(long.split('\n').every((l) => l.length <= 64));
});

test('pemToDerList rejects garbage', () => {
  const body = fixture('ca-ecdsa.crt').split('\n').slice(1, -2).join('\n');
  const wrap = (b: string) => `-----BEGIN CERTIFICATE-----\n${b}\n-----END CERTIFICATE-----\n`;
  const bad: Array<[unknown, RegExp]> = [
    ['', /no "-----BEGIN CERTIFICATE-----" block/],
    ['hello world', /no "-----BEGIN CERTIFICATE-----" block/],
    ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /no "-----BEGIN CERTIFICATE-----" block/],
    [`-----BEGIN CERTIFICATE-----\n${body}\n`, /not terminated/],
    [`-----BEGIN CERTIFICATE-----\n${body}\n-----END PRIVATE KEY-----\n`, /not terminated/],
    [`-----BEGIN CERTIFICATE-----\n${body}\n-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`, /another boundary/],
    [wrap(body.replace('M', '!')), /base64/],
    [wrap(body.slice(0, -1)), /base64/],
    [wrap(body.slice(1)), /base64/],
    [wrap('=AAA'), /base64/],
    [wrap('AA=A'), /base64/],
    [wrap(''), /empty/],
    [wrap('AAAA'), /not a DER SEQUENCE/],
    [wrap(Buffer.from(u8(0x30, 0x05, 1)).toString('base64')), /not a DER SEQUENCE/],
    [wrap('Proc-Type: 4,ENCRYPTED\n\n' + body), /headers/],
    [wrap(body) + wrap('@@@@'), /#2 is not valid base64/],
    [42, /expected a string/],
    [null, /expected a string/],
  ];
  for (const [input, re] of bad) {
    try {
      pemToDerList(input as string);
      assert.unreachable(`should throw: ${String(input).slice(0, 60)}`);
    } catch (e) {
      assert.is((e as Error).constructor, Error);
      assert.match((e as Error).message, re);
    }
  }
});

test('base64 matches Buffer on random data', () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let n = 0; n < 200; n++) {
    const data = new Uint8Array(n).map(() => rand() & 0xff);
    const b64 = Buffer.from(data).toString('base64');
    assert.is(base64Encode(data), b64);
    assert.equal(Array.from(base64Decode(b64)), Array.from(data));
  }
});

// ---------------------------------------------------------------------------------------------
// Garbage

/** Parsing either succeeds or throws a plain Error; anything else (TypeError, RangeError, a hang) fails. */
function parseOrPlainError(der: Uint8Array, label: string): boolean {
  try {
    parseCertificate(der, hash);
    return true;
  } catch (e) {
    if (!(e instanceof Error) || e.constructor !== Error) {
      throw new assert.Assertion({ message: `${label}: threw ${String(e)} (${(e as Error)?.constructor?.name})`, operator: 'plainError', generated: false, expects: 'Error', actual: e });
    }
    assert.ok(e.message.length > 0);
    return false;
  }
}

const fixtureDers = crtFiles.flatMap((f) => pemToDerList(fixture(f)).map((der) => ({ f, der })));

test('garbage: every truncation of every fixture throws', () => {
  for (const { f, der } of fixtureDers) {
    for (let len = 0; len < der.length; len++) {
      assert.is(parseOrPlainError(der.subarray(0, len), `${f} truncated at ${len}`), false, `${f} truncated at ${len}`);
    }
    // Trailing data is rejected too.
    assert.is(parseOrPlainError(cat(der, u8(0)), `${f} + trailing byte`), false);
  }
});

test('garbage: every single-bit flip is rejected cleanly, or parsed exactly as node parses it', () => {
  const started = Date.now();
  let rejected = 0, total = 0, compared = 0;
  for (const { f, der } of fixtureDers.filter((x) => /^(server-ecdsa|server-rsa|ca-ecdsa|badusage)\.crt$/.test(x.f))) {
    for (let bit = 0; bit < der.length * 8; bit++) {
      const m = der.slice();
      m[bit >> 3] ^= 1 << (bit & 7);
      total++;
      if (!parseOrPlainError(m, `${f} bit ${bit}`)) { rejected++; continue; }
      // We are never laxer than OpenSSL: what we accept, node accepts, and reads the same way.
      let node: Record<string, unknown>;
      try { node = nodeLegacy(m); } catch { assert.unreachable(`${f} bit ${bit}: node rejects what we accept`); return; }
      const mine = parseCertificate(m, hash) as unknown as Record<string, unknown>;
      // node's raw is OpenSSL's re-encoding; it differs from the input when the flip lands in a
      // signature BIT STRING's unused bits. Ours is the input (and the fingerprints are of it).
      const reencoded = !Buffer.from(node.raw as Buffer).equals(m);
      for (const k of new Set([...Object.keys(node), ...Object.keys(mine)])) {
        if (reencoded && /^(raw|fingerprint(256|512)?)$/.test(k)) continue;
        assert.equal(plain(mine[k]), plain(node[k]), `${f} bit ${bit}: ${k}`);
      }
      compared++;
    }
  }
  assert.ok(rejected > total / 20, `${rejected}/${total} flips rejected`);
  assert.ok(compared > total / 2, `${compared}/${total} flips compared with node`);
  assert.ok(Date.now() - started < 60000, 'no pathological slowness');
});

test('garbage: random bytes, random mutations, hostile lengths', () => {
  let seed = 0xc0ffee;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
  for (let i = 0; i < 3000; i++) {
    const n = rand() % 600;
    const b = new Uint8Array(n).map(() => rand() & 0xff);
    if (i % 2 === 0 && n > 4) { b[0] = 0x30; b[1] = 0x82; b[2] = (n - 4) >> 8; b[3] = (n - 4) & 0xff; }
    parseOrPlainError(b, `random #${i}`);
  }
  for (let i = 0; i < 3000; i++) {
    const { f, der } = fixtureDers[i % fixtureDers.length];
    const m = der.slice();
    const k = 1 + (rand() % 8);
    for (let j = 0; j < k; j++) m[rand() % m.length] = rand() & 0xff;
    parseOrPlainError(m, `${f} mutation #${i}`);
  }
  // Nested SEQUENCEs claiming huge lengths, deep nesting.
  parseOrPlainError(u8(0x30, 0x84, 0xff, 0xff, 0xff, 0xff), 'huge length');
  let deep: Uint8Array = u8(0x05, 0x00);
  for (let i = 0; i < 2000; i++) deep = seq(deep);
  parseOrPlainError(deep, 'deep nesting');
  parseOrPlainError(seq(seq(), seq(), bitstr(u8())), 'empty parts');
  assert.throws(() => parseCertificate('not bytes' as unknown as Uint8Array, hash), /Uint8Array/);
});

test.run();
