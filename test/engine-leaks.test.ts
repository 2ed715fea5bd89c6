// Leaks: create/handshake/dispose cycles leave the wasm heap's live allocation count (and
// bytes) where they started.
//
// Measured on the development machine (2 cores, Node 20), per client+server engine pair with
// shared configs: full handshake ≈ 9–11 ms (ECDSA P-256, either version, x25519 or P-256),
// TLS 1.3 PSK resumption (psk_dhe_ke, still an ECDHE) ≈ 4–5 ms, TLS 1.2 ticket resumption
// ≈ 0.3–0.5 ms, create/dispose without a handshake ≈ 0.02 ms. 10,000 full handshakes would
// take ~100 s, so the 10,000 handshake cycles below mix them: every 10th cycle is a full
// handshake (1,000, both versions, both groups, some with a rejected certificate), every 10th
// (offset 5) a TLS 1.3 resumption (1,000), the rest TLS 1.2 resumptions (8,000); each cycle
// creates both engines, completes the handshake, moves data both ways, closes and disposes.
// The whole file takes ≈ 25 s there (the cycles print their own rate).
import './helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsConfig } from '../src/engine/config.js';
import { TlsEngine } from '../src/engine/tls-engine.js';
import { lib } from '../src/wasm/module.js';
import { fixture, pem } from './helpers/fixtures.js';
import { bytes, drain, equal, handshake, pairOn, readAll, settle, transfer, utf8, type Pair } from './helpers/pair.js';

const heap = () => { const h = lib().heap(); return { count: h.count, bytes: h.bytes }; };

function closeBoth(p: Pair): void {
  assert.is(p.client.close(), 'done');
  p.server.feed(drain(p.client));
  assert.is(p.server.read().step, 'closed');
  assert.is(p.server.close(), 'done');
  p.client.feed(drain(p.server));
  assert.is(p.client.read().step, 'closed');
}

test('10,000 create/dispose cycles (engines, and configs every 10th)', () => {
  const sc = TlsConfig.server(pem.ecdsa());
  const cc = TlsConfig.client({ ca: pem.ca() });
  try {
    // warm-up: the first ClientHello's key share grows the PSA key store (kept for reuse)
    const w = new TlsEngine(cc, { servername: 'localhost', keylog: true });
    w.handshake();
    w.dispose();
    const base = heap();
    for (let i = 0; i < 10_000; i++) {
      const c = new TlsEngine(cc, { servername: 'localhost', outboundLimit: 1000 + i, keylog: (i & 1) === 0 });
      const s = new TlsEngine(sc);
      if (i % 3 === 0) c.handshake(); // a ClientHello queued, then dropped
      if (i % 10 === 0) {
        const tmp = TlsConfig.server({ ...pem.ecdsa(), ALPNProtocols: ['h2'], sniCertificates: { 'other.test': pem.other() } });
        const e = new TlsEngine(tmp);
        tmp.dispose();
        e.dispose();
      }
      s.dispose();
      c.dispose();
    }
    assert.equal(heap(), base);
  } finally {
    sc.dispose();
    cc.dispose();
  }
});

test('10,000 create/handshake/data/close/dispose cycles leave the heap where it started', () => {
  const ecdsa = TlsConfig.server(pem.ecdsa());
  const rsa = TlsConfig.server(pem.rsa());
  const untrusted = TlsConfig.server({ key: fixture('untrusted.key'), cert: fixture('untrusted.crt') });
  const clients = {
    'TLSv1.2': TlsConfig.client({ ca: [pem.ca(), pem.caRsa()], maxVersion: 'TLSv1.2' }),
    'TLSv1.3': TlsConfig.client({ ca: [pem.ca(), pem.caRsa()], minVersion: 'TLSv1.3' }),
    p256: TlsConfig.client({ ca: [pem.ca(), pem.caRsa()], ecdhCurve: 'P-256' }),
  };
  const configs = [ecdsa, rsa, untrusted, ...Object.values(clients)];
  try {
    const sessionFor = (cc: TlsConfig): Uint8Array => {
      const p = pairOn(ecdsa, cc);
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const s = p.client.session();
      p.dispose();
      assert.ok(s);
      return s!;
    };
    // Warm-up (lazily allocated scratch buffer, PSA key store slices, cached ECP tables).
    let s12 = sessionFor(clients['TLSv1.2']);
    let s13 = sessionFor(clients['TLSv1.3']);
    const small = bytes(1000, 1), big = bytes(40_000, 2);
    const cycle = (i: number): void => {
      const kind = i % 10;
      let p: Pair;
      if (kind === 0) {
        // full handshakes, rotating through versions, groups, certificate types and a failure
        const variant = (i / 10) % 5;
        if (variant === 4) {
          p = pairOn(untrusted, clients['TLSv1.2']);
          try {
            const r = handshake(p);
            assert.is(r.client, 'failed');
            assert.is(p.client.error?.code, 'ERR_TLS_CERT_UNTRUSTED');
            p.server.read();
          } finally {
            p.dispose();
          }
          return;
        }
        const cc = [clients['TLSv1.2'], clients['TLSv1.3'], clients.p256, clients['TLSv1.3']][variant]!;
        p = pairOn(variant === 3 ? rsa : ecdsa, cc);
      } else if (kind === 5) {
        p = pairOn(ecdsa, clients['TLSv1.3'], { servername: 'localhost', session: s13 });
      } else {
        p = pairOn(ecdsa, clients['TLSv1.2'], { servername: 'localhost', session: s12 });
      }
      try {
        const r = handshake(p);
        assert.equal(r, { client: 'done', server: 'done' }, `cycle ${i}: ${p.client.error ?? p.server.error}`);
        if (kind !== 0) assert.ok(p.client.sessionReused && p.server.sessionReused, `cycle ${i}: resumed`);
        const d = i % 100 === 1 ? big : small;
        assert.ok(equal(transfer(p.client, p.server, d), d));
        p.server.write(utf8('ok'));
        p.client.feed(drain(p.server));
        assert.ok(equal(readAll(p.client), utf8('ok')));
        // keep the freshest sessions from the resumption server (TLS 1.3 tickets arrive with
        // the server's first flight)
        for (const ev of p.client.takeEvents()) {
          if (ev.type !== 'session' || p.serverConfig !== ecdsa) continue;
          if (p.clientConfig === clients['TLSv1.3']) s13 = ev.session;
          if (p.clientConfig === clients['TLSv1.2']) s12 = ev.session;
        }
        closeBoth(p);
        assert.is(p.client.state, 'closed');
      } finally {
        p.dispose();
      }
    };
    // Two rounds of every kind: some state grows once on its second use (RSA blinding values
    // are squared into larger MPIs; MPIs never shrink), none after.
    for (let i = 0; i < 100; i++) cycle(i);
    const base = heap();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) cycle(i);
    const ms = performance.now() - t0;
    const after = heap();
    console.log(`    10,000 handshake cycles in ${(ms / 1000).toFixed(1)} s (${(10_000 / (ms / 1000)).toFixed(0)} cycles/s); heap ${base.count} → ${after.count} allocations`);
    assert.equal(after, base, 'the heap returns to where it started');
  } finally {
    for (const c of configs) c.dispose();
  }
});

test('configs: create/dispose (valid and invalid) leaves nothing behind', () => {
  TlsConfig.server(pem.ecdsa()).dispose();
  try { TlsConfig.server({ key: fixture('other-ecdsa.key'), cert: fixture('server-ecdsa.crt') }); } catch { /* expected */ }
  const base = heap();
  for (let i = 0; i < 200; i++) {
    TlsConfig.server({ ...pem.ecdsa(), ca: pem.ca(), requestCert: true, ALPNProtocols: ['h2', 'http/1.1'], ciphers: 'TLS_AES_128_GCM_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256', ecdhCurve: 'X25519:P-256', sniCertificates: { 'other.test': pem.other() } }).dispose();
    TlsConfig.client({ ca: [pem.ca(), pem.caRsa()], ...pem.client() }).dispose();
    for (const bad of [
      () => TlsConfig.server({ key: fixture('other-ecdsa.key'), cert: fixture('server-ecdsa.crt') }),
      () => TlsConfig.server({ key: fixture('server-ecdsa-encrypted.key'), cert: fixture('server-ecdsa.crt'), passphrase: 'x' }),
      () => TlsConfig.server({ ...pem.ecdsa(), sniCertificates: { 'x.test': { key: 'garbage', cert: fixture('other-ecdsa.crt') } } }),
      () => TlsConfig.client({ ca: 'not a certificate -----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----' }),
    ]) {
      try { bad(); assert.unreachable('config error expected'); } catch (e) { assert.is((e as { code?: string }).code?.startsWith('ERR_TLS_'), true); }
    }
  }
  assert.equal(heap(), base);
});

test.run();
