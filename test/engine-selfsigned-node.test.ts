// generateSelfSigned cross-checked against an independent parser: node's X509Certificate
// (OpenSSL). Node-only (node:crypto), so the browser harness leaves it out; the browser-clean
// checks of the same output, with the project's own parser, are in engine-features.test.ts.
import './helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { checkServerIdentity } from '../src/engine/identity.js';
import { generateSelfSigned, type SelfSignedOptions } from '../src/engine/self-signed.js';
import { EKU_CLIENT_AUTH, EKU_SERVER_AUTH, parseCertificate, parseCertificateInfo, pemToDerList } from '../src/engine/x509.js';
import { lib } from '../src/wasm/module.js';
import { equal } from './helpers/pair.js';

const hash = { sha256: (d: Uint8Array) => lib().sha256(d), sha1: (d: Uint8Array) => lib().sha1(d) };

const CASES: Array<{ options: SelfSignedOptions; hosts: string[]; ips: string[]; notHosts: string[]; notIps: string[] }> = [
  {
    options: { altNames: ['localhost', '127.0.0.1', '::1'], days: 30 },
    hosts: ['localhost'], ips: ['127.0.0.1', '::1'], notHosts: ['example.com', 'a.localhost'], notIps: ['127.0.0.2', '::2'],
  },
  {
    options: { commonName: 'a.test', organization: 'Example, Inc.' },
    hosts: ['a.test'], ips: [], notHosts: ['b.test', 'localhost'], notIps: ['127.0.0.1'],
  },
  {
    options: { commonName: 'svc', altNames: ['*.svc.test', 'svc.test', '10.1.2.3', 'fe80::1'], days: 2 },
    hosts: ['x.svc.test', 'svc.test'], ips: ['10.1.2.3', 'fe80::1'], notHosts: ['a.b.svc.test', 'svc'], notIps: ['10.1.2.4'],
  },
  { options: {}, hosts: ['localhost'], ips: [], notHosts: ['example.com'], notIps: ['127.0.0.1'] },
];

for (const c of CASES) {
  test(`generateSelfSigned ${JSON.stringify(c.options)}: node's X509Certificate reads what we read`, () => {
    const g = generateSelfSigned(c.options);
    const x = new X509Certificate(g.cert);
    const ders = pemToDerList(g.cert);
    assert.is(ders.length, 1);
    const info = parseCertificateInfo(ders[0]!);
    const peer = parseCertificate(ders[0]!, hash);

    assert.ok(equal(new Uint8Array(x.raw), info.raw), 'the same DER');
    assert.is(x.subjectAltName, info.subjectAltName);
    assert.equal({ ...x.toLegacyObject().subject }, { ...info.subject });
    assert.is(x.subject, x.issuer, 'self-issued');
    assert.is(x.serialNumber, info.serialNumber);
    assert.is(x.validFrom, info.validFrom);
    assert.is(x.validTo, info.validTo);
    assert.is(Date.parse(x.validFrom), info.notBefore.getTime());
    assert.is(x.fingerprint256, peer.fingerprint256);
    assert.is(x.fingerprint, peer.fingerprint);
    // node's keyUsage is the extendedKeyUsage list; ours are the same OIDs
    assert.equal(x.keyUsage, [EKU_SERVER_AUTH, EKU_CLIENT_AUTH]);
    assert.equal(info.extKeyUsage, x.keyUsage);
    assert.is(x.ca, false);
    assert.is(x.ca, info.ca);
    assert.is(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(equal(new Uint8Array(x.publicKey.export({ type: 'spki', format: 'der' })), info.spki));

    // OpenSSL verifies the self-signature, and the key PEM is the certificate's private key
    assert.ok(x.verify(x.publicKey), 'self-signed');
    const key = createPrivateKey(g.key);
    assert.is(key.asymmetricKeyType, 'ec');
    assert.ok(x.checkPrivateKey(key), 'the key belongs to the certificate');
    assert.not.ok(x.checkPrivateKey(createPrivateKey(generateSelfSigned().key)), 'another key does not');

    // OpenSSL's name checks agree with our checkServerIdentity, both ways
    for (const h of c.hosts) {
      assert.ok(x.checkHost(h), h); // returns the subject name that matched (maybe a wildcard)
      assert.is(checkServerIdentity(h, peer), undefined, h);
    }
    for (const ip of c.ips) {
      assert.ok(x.checkIP(ip), ip);
      assert.is(checkServerIdentity(ip, peer), undefined, ip);
    }
    for (const h of c.notHosts) {
      assert.is(x.checkHost(h), undefined, h);
      assert.ok(checkServerIdentity(h, peer), h);
    }
    for (const ip of c.notIps) {
      assert.is(x.checkIP(ip), undefined, ip);
      assert.ok(checkServerIdentity(ip, peer), ip);
    }
  });
}

test.run();
