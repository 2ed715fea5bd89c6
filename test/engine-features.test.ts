// Resumption (TLS 1.2 tickets, TLS 1.3 PSK), ALPN, SNI, mutual TLS, key logging and
// generateSelfSigned, on in-memory engine pairs. Browser-clean (no node:* imports): the browser
// harness runs this file as it is.
import './helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsConfig } from '../src/engine/config.js';
import { children, parseDer, readUnsignedInteger, TAG } from '../src/engine/der.js';
import { checkServerIdentity } from '../src/engine/identity.js';
import { generateSelfSigned } from '../src/engine/self-signed.js';
import type { EngineEvent, TlsEngine } from '../src/engine/tls-engine.js';
import {
  EKU_CLIENT_AUTH, EKU_SERVER_AUTH, KU_DIGITAL_SIGNATURE, parseCertificate, parseCertificateInfo, pemToDerList,
  type CertificateInfo,
} from '../src/engine/x509.js';
import { lib } from '../src/wasm/module.js';
import { fixture, pem } from './helpers/fixtures.js';
import {
  bytes, equal, handshake, makePair, pairOn, settle, transfer, type Pair,
} from './helpers/pair.js';

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
type Version = (typeof VERSIONS)[number];
const only = (v: Version) => ({ minVersion: v, maxVersion: v });

function sessions(e: TlsEngine): Uint8Array[] {
  return e.takeEvents().flatMap((ev) => (ev.type === 'session' ? [ev.session] : []));
}

function connectOn(sc: TlsConfig, cc: TlsConfig, session?: Uint8Array, servername = 'localhost', outboundLimit?: number): Pair {
  const limit = outboundLimit ? { outboundLimit } : {};
  const p = pairOn(sc, cc, session ? { servername, session, ...limit } : { servername, ...limit }, limit);
  const r = handshake(p);
  assert.equal(r, { client: 'done', server: 'done' }, String(p.client.error ?? p.server.error));
  settle(p); // TLS 1.3 tickets arrive after the handshake
  return p;
}

// ---- resumption -------------------------------------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: resumption with the session from the 'session' event`, () => {
    const sc = TlsConfig.server(pem.ecdsa());
    const cc = TlsConfig.client({ ca: pem.ca(), ...only(v) });
    try {
      const first = connectOn(sc, cc);
      assert.not.ok(first.client.sessionReused);
      assert.not.ok(first.server.sessionReused);
      const got = sessions(first.client);
      assert.is(got.length, 1, 'one session event');
      // session() gives the same session, as often as asked
      assert.ok(equal(first.client.session()!, got[0]!));
      assert.ok(equal(first.client.session()!, got[0]!));
      assert.is(first.server.session(), null, 'servers have no client session');
      assert.equal(first.client.keyExchange, { name: 'X25519', size: 253 }, 'full handshake: x25519 (the default first group)');
      const cert0 = first.client.peerCertificates()[0]!;
      first.dispose();

      let session = got[0]!;
      for (let round = 0; round < 3; round++) {
        const p = connectOn(sc, cc, session);
        assert.ok(p.client.sessionReused, `client, round ${round}`);
        assert.ok(p.server.sessionReused, `server, round ${round}`);
        assert.is(p.client.protocol, v);
        // TLS 1.2 resumption has no key exchange; TLS 1.3 resumes with psk_dhe_ke (a fresh x25519)
        const kx = v === 'TLSv1.3' ? { name: 'X25519', size: 253 } : null;
        assert.equal(p.client.keyExchange, kx, `client key exchange, round ${round}`);
        assert.equal(p.server.keyExchange, kx, `server key exchange, round ${round}`);
        // the resumed connection reports the verified identity of the original one
        assert.ok(p.client.authorized);
        assert.is(p.client.authorizationError, null);
        const cert = p.client.peerCertificates()[0];
        assert.is(cert?.fingerprint256, cert0.fingerprint256);
        const d = bytes(10000, round);
        assert.ok(equal(transfer(p.client, p.server, d), d));
        assert.ok(equal(transfer(p.server, p.client, d), d));
        const next = sessions(p.client);
        assert.is(next.length, 1, 'a resumed connection yields a fresh session');
        session = next[0]!;
        p.dispose();
      }
      // the first session again (TLS 1.2 tickets and TLS 1.3 tickets are reusable here)
      const again = connectOn(sc, cc, got[0]);
      assert.ok(again.client.sessionReused, 'client: the first session resumes again');
      assert.ok(again.server.sessionReused, 'server: the first session resumes again');
      again.dispose();
    } finally {
      sc.dispose();
      cc.dispose();
    }
  });

  test(`${v}: a session the server does not accept → full handshake, sessionReused false on both sides`, () => {
    const sA = TlsConfig.server(pem.ecdsa());
    const sB = TlsConfig.server(pem.ecdsa()); // other ticket keys
    const cc = TlsConfig.client({ ca: pem.ca(), ...only(v) });
    try {
      const first = connectOn(sA, cc);
      const s = sessions(first.client)[0]!;
      first.dispose();
      for (const limit of [undefined, 20]) {
        const p = connectOn(sB, cc, s, 'localhost', limit);
        assert.not.ok(p.server.sessionReused);
        assert.not.ok(p.client.sessionReused);
        assert.ok(p.client.authorized);
        p.dispose();
        // the same session with the server that made it, through a tiny queue (every flight
        // written in 20-byte steps): reused on both sides
        const q = connectOn(sA, cc, s, 'localhost', limit);
        assert.ok(q.server.sessionReused, `server, limit ${limit}`);
        assert.ok(q.client.sessionReused, `client, limit ${limit}`);
        q.dispose();
      }
    } finally {
      sA.dispose();
      sB.dispose();
      cc.dispose();
    }
  });

  test(`${v}: a session for another server name, or a corrupt one, is ignored (full handshake)`, () => {
    const sc = TlsConfig.server({ ...pem.ecdsa(), sniCertificates: { 'other.test': pem.other() } });
    const cc = TlsConfig.client({ ca: pem.ca(), ...only(v) });
    try {
      const first = connectOn(sc, cc);
      const s = sessions(first.client)[0]!;
      first.dispose();
      const p = connectOn(sc, cc, s, 'other.test');
      assert.not.ok(p.client.sessionReused);
      assert.is(p.client.peerCertificates()[0]?.subject.CN, 'other.test');
      p.dispose();
      const corrupt = s.slice();
      for (let i = 20; i < corrupt.length; i += 7) corrupt[i]! ^= 0x5a;
      for (const bad of [corrupt, s.subarray(0, s.length - 1), new Uint8Array(3), bytes(500, 1)]) {
        const q = connectOn(sc, cc, bad);
        assert.not.ok(q.client.sessionReused);
        assert.not.ok(q.server.sessionReused);
        q.dispose();
      }
    } finally {
      sc.dispose();
      cc.dispose();
    }
  });

  test(`${v}: a session from an unverified connection does not make a strict client trust the server`, () => {
    const sc = TlsConfig.server({ key: fixture('untrusted.key'), cert: fixture('untrusted.crt') });
    const lax = TlsConfig.client({ ca: pem.ca(), rejectUnauthorized: false, ...only(v) });
    const strict = TlsConfig.client({ ca: pem.ca(), ...only(v) });
    try {
      const first = connectOn(sc, lax);
      assert.not.ok(first.client.authorized);
      const s = sessions(first.client)[0]!;
      first.dispose();
      const p = pairOn(sc, strict, { servername: 'localhost', session: s });
      const r = handshake(p);
      assert.is(r.client, 'failed');
      assert.is(p.client.error?.code, 'ERR_TLS_CERT_UNTRUSTED');
      p.dispose();
      // and the lax client resumes, still unauthorized, with the reason
      const q = connectOn(sc, lax, s);
      assert.ok(q.client.sessionReused);
      assert.not.ok(q.client.authorized);
      assert.is(q.client.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      q.dispose();
    } finally {
      sc.dispose();
      lax.dispose();
      strict.dispose();
    }
  });

  test(`${v}: a session made under another suite than the server now prefers resumes with its own suite`, () => {
    // RFC 5246 7.4.1.3 / RFC 8446 4.2.11: a resumption keeps its session's suite. mbedTLS's TLS 1.2
    // server would pick its preferred suite instead (and the handshake fail), and the server's
    // narrowed TLS 1.3 list would refuse the PSK; the shim puts the ticket's suite first.
    const sc = TlsConfig.server(pem.ecdsa());
    const aesOnly = TlsConfig.client({ ca: pem.ca(), ...only(v), ciphers: v === 'TLSv1.3' ? 'TLS_AES_256_GCM_SHA384' : 'ECDHE-ECDSA-AES256-GCM-SHA384' });
    // AES first, ChaCha offered too, the session's suite last (as OpenSSL orders them).
    const later = TlsConfig.client({ ca: pem.ca(), ...only(v), ciphers: v === 'TLSv1.3'
      ? 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384'
      : 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384' });
    try {
      const first = connectOn(sc, aesOnly);
      assert.match(first.client.cipher!.standardName, /AES_256_GCM/);
      const session = sessions(first.client)[0]!;
      assert.ok(session, 'a session to offer');
      first.dispose();
      const fresh = connectOn(sc, later);
      assert.match(fresh.server.cipher!.standardName, /CHACHA20_POLY1305/, 'a full handshake gets the server\'s first choice');
      fresh.dispose();
      for (let round = 0; round < 2; round++) {
        const p = connectOn(sc, later, session);
        assert.ok(p.client.sessionReused, `client resumed, round ${round}`);
        assert.ok(p.server.sessionReused, `server resumed, round ${round}`);
        assert.match(p.client.cipher!.standardName, /AES_256_GCM/, 'with the session\'s suite');
        assert.is(p.server.cipher!.standardName, p.client.cipher!.standardName);
        const d = bytes(5000, 9);
        assert.ok(equal(transfer(p.client, p.server, d), d));
        assert.ok(equal(transfer(p.server, p.client, d), d));
        p.dispose();
      }
    } finally {
      sc.dispose(); aesOnly.dispose(); later.dispose();
    }
  });

  test(`${v}: sessionTimeout 0 disables tickets: no resumption`, () => {
    const sc = TlsConfig.server({ ...pem.ecdsa(), sessionTimeout: 0 });
    const cc = TlsConfig.client({ ca: pem.ca(), ...only(v) });
    try {
      const first = connectOn(sc, cc);
      const s = sessions(first.client);
      first.dispose();
      if (v === 'TLSv1.3') assert.is(s.length, 0, 'no NewSessionTicket');
      const p = connectOn(sc, cc, s[0]);
      assert.not.ok(p.client.sessionReused);
      assert.not.ok(p.server.sessionReused);
      p.dispose();
    } finally {
      sc.dispose();
      cc.dispose();
    }
  });
}

test('TLSv1.3: session() before the ticket arrives is null, and does not cost the ticket', () => {
  const sc = TlsConfig.server(pem.ecdsa());
  const cc = TlsConfig.client({ ca: pem.ca(), ...only('TLSv1.3') });
  try {
    const p = pairOn(sc, cc);
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    assert.is(p.client.session(), null);
    settle(p);
    const s = sessions(p.client);
    assert.is(s.length, 1);
    assert.ok(equal(p.client.session()!, s[0]!));
    p.dispose();
    const q = connectOn(sc, cc, s[0]);
    assert.ok(q.client.sessionReused && q.server.sessionReused);
    q.dispose();
  } finally {
    sc.dispose();
    cc.dispose();
  }
});

// ---- ALPN -----------------------------------------------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: ALPN: the server picks by its own preference`, () => {
    const cases: Array<[string[] | undefined, string[] | undefined, string | false]> = [
      [['h2', 'http/1.1'], ['http/1.1', 'h2'], 'h2'],
      [['http/1.1', 'h2'], ['h2', 'http/1.1'], 'http/1.1'],
      [['a', 'b', 'c'], ['x', 'c', 'y'], 'c'],
      [['h2'], undefined, false],
      [undefined, ['h2'], false],
    ];
    for (const [server, client, expected] of cases) {
      const p = makePair(server ? { ALPNProtocols: server } : {}, { ...only(v), ...(client ? { ALPNProtocols: client } : {}) });
      try {
        assert.equal(handshake(p), { client: 'done', server: 'done' }, `${server} / ${client}`);
        assert.is(p.client.alpnProtocol, expected);
        assert.is(p.server.alpnProtocol, expected);
      } finally {
        p.dispose();
      }
    }
    // node's wire format (length-prefixed) is accepted too
    const wire = new Uint8Array([2, 0x68, 0x32, 8, ...new TextEncoder().encode('http/1.1')]);
    const p = makePair({ ALPNProtocols: ['http/1.1'] }, { ...only(v), ALPNProtocols: wire });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      assert.is(p.client.alpnProtocol, 'http/1.1');
    } finally {
      p.dispose();
    }
  });

  test(`${v}: ALPN without overlap: fatal no_application_protocol`, () => {
    const p = makePair({ ALPNProtocols: ['h2'] }, { ...only(v), ALPNProtocols: ['http/1.1'] });
    try {
      const r = handshake(p);
      assert.equal(r, { client: 'failed', server: 'failed' });
      assert.is(p.server.error?.code, 'ERR_TLS_NO_APPLICATION_PROTOCOL');
      assert.is(p.client.error?.code, 'ERR_TLS_ALERT_RECEIVED');
      assert.is(p.client.error?.alert, 120);
      assert.is(p.client.error?.fault, 'peer');
    } finally {
      p.dispose();
    }
  });
}

// ---- SNI ------------------------------------------------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: SNI chooses between two certificates`, () => {
    const sc = TlsConfig.server({ ...pem.ecdsa(), sniCertificates: { 'other.test': pem.other() } });
    const cc = TlsConfig.client({ ca: pem.ca(), ...only(v) });
    try {
      const cases: Array<[string | undefined, string | undefined, string, string | false]> = [
        ['other.test', undefined, 'other.test', 'other.test'],
        ['OTHER.test', undefined, 'other.test', 'OTHER.test'],
        ['localhost', undefined, 'localhost', 'localhost'],
        ['unknown.test', 'localhost', 'localhost', 'unknown.test'], // no match: the default
        [undefined, 'localhost', 'localhost', false], // no SNI at all
        ['127.0.0.1', undefined, 'localhost', false], // IP addresses are not sent as SNI
      ];
      for (const [servername, host, cn, sni] of cases) {
        const p = pairOn(sc, cc, { ...(servername !== undefined ? { servername } : {}), ...(host ? { host } : {}) });
        try {
          assert.equal(handshake(p), { client: 'done', server: 'done' }, `${servername}: ${p.client.error}`);
          assert.is(p.client.peerCertificates()[0]?.subject.CN, cn, String(servername));
          assert.is(p.server.servername, sni, String(servername));
          assert.ok(p.client.authorized);
        } finally {
          p.dispose();
        }
      }
    } finally {
      sc.dispose();
      cc.dispose();
    }
  });
}

test('SNI wildcard entry and useCertificates() (SNICallback result)', () => {
  const sc = TlsConfig.server({ ...pem.ecdsa(), sniCertificates: { '*.other.test': pem.other() } });
  const other = TlsConfig.server(pem.other());
  const cc = TlsConfig.client({ ca: pem.ca(), rejectUnauthorized: false });
  try {
    let p = pairOn(sc, cc, { servername: 'a.other.test' });
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    assert.is(p.client.peerCertificates()[0]?.subject.CN, 'other.test');
    p.dispose();
    p = pairOn(sc, cc, { servername: 'localhost' });
    p.server.useCertificates(other);
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    assert.is(p.client.peerCertificates()[0]?.subject.CN, 'other.test');
    assert.not.ok(p.client.authorized);
    assert.is(p.client.authorizationError, 'ERR_TLS_CERT_ALTNAME_INVALID');
    p.dispose();
  } finally {
    sc.dispose();
    other.dispose();
    cc.dispose();
  }
});

// ---- mutual TLS ---------------------------------------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: mTLS: a client certificate the server trusts → authorized`, () => {
    const p = makePair({ requestCert: true, ca: pem.ca() }, { ...only(v), ...pem.client() });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' }, String(p.server.error ?? p.client.error));
      settle(p);
      assert.ok(p.server.authorized);
      assert.is(p.server.authorizationError, null);
      assert.is(p.server.peerCertificates()[0]?.subject.CN, 'test-client');
      assert.ok(p.client.authorized);
    } finally {
      p.dispose();
    }
  });

  test(`${v}: mTLS: no client certificate when required → the server fails, typed`, () => {
    const p = makePair({ requestCert: true, ca: pem.ca() }, only(v));
    try {
      const r = handshake(p);
      assert.is(r.server, 'failed');
      const e = p.server.error!;
      assert.is(e.code, 'ERR_TLS_CERT_MISSING');
      assert.is(e.fault, 'certificate');
      assert.is(e.authorizationError, 'NO_PEER_CERTIFICATE');
      // the client learns of it (never waits forever): an alert in TLS 1.2; in TLS 1.3 the
      // mbedTLS server protects that alert with its handshake keys while the client (done
      // with its handshake) expects application keys, so the client sees a bad record.
      const c = r.client === 'failed' ? 'failed' : p.client.read().step;
      assert.is(c, 'failed');
      if (v === 'TLSv1.2') {
        assert.is(p.client.error?.code, 'ERR_TLS_ALERT_RECEIVED');
        assert.is(p.client.error?.alert, 40);
      } else {
        assert.is(p.client.error?.fault, 'peer');
      }
    } finally {
      p.dispose();
    }
  });

  test(`${v}: mTLS: an untrusted client certificate when required → the server fails, typed`, () => {
    const p = makePair({ requestCert: true, ca: pem.caRsa() }, { ...only(v), ...pem.client() });
    try {
      const r = handshake(p);
      assert.is(r.server, 'failed');
      assert.is(p.server.error?.fault, 'certificate');
      assert.is(p.server.error?.code, 'ERR_TLS_CERT_UNTRUSTED');
      assert.is(p.server.error?.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      // the client is told: unknown_ca (TLS 1.2 during its handshake; TLS 1.3 see above)
      const c = r.client === 'failed' ? 'failed' : p.client.read().step;
      assert.is(c, 'failed');
      if (v === 'TLSv1.2') assert.is(p.client.error?.alert, 48);
    } finally {
      p.dispose();
    }
  });

  test(`${v}: mTLS with rejectUnauthorized false: handshake completes, authorized false`, () => {
    for (const [clientCert, reason] of [[undefined, 'UNABLE_TO_GET_ISSUER_CERT'], [pem.client(), null]] as const) {
      const p = makePair({ requestCert: true, rejectUnauthorized: false, ca: pem.caRsa() }, { ...only(v), ...(clientCert ?? {}) });
      try {
        assert.equal(handshake(p), { client: 'done', server: 'done' });
        settle(p);
        assert.not.ok(p.server.authorized);
        if (reason) assert.is(p.server.authorizationError, reason);
        else assert.ok(p.server.authorizationError, 'a reason is given');
        assert.is(p.server.peerCertificates().length, clientCert ? 1 : 0);
        const d = bytes(1000, 1);
        assert.ok(equal(transfer(p.client, p.server, d), d));
      } finally {
        p.dispose();
      }
    }
  });
}

for (const v of VERSIONS) {
  test(`${v}: mTLS: every connection proves the client's identity (no resumption without it)`, () => {
    const sc = TlsConfig.server({ ...pem.ecdsa(), requestCert: true, ca: pem.ca() });
    const cc = TlsConfig.client({ ca: pem.ca(), ...only(v), ...pem.client() });
    try {
      const first = connectOn(sc, cc);
      assert.ok(first.server.authorized);
      // A server with requestCert issues no tickets (see TlsConfig): TLS 1.3 sends no
      // NewSessionTicket at all; a TLS 1.2 client still makes a session (a session ID) at the
      // handshake, and offers it, but the server (no session cache) does not resume it.
      const s = sessions(first.client)[0];
      first.dispose();
      if (v === 'TLSv1.3') assert.is(s, undefined, 'no ticket from a requestCert server');
      else assert.ok(s, 'a TLS 1.2 session to offer');
      for (let i = 0; i < 2; i++) {
        const p = connectOn(sc, cc, s);
        assert.ok(p.server.authorized, `connection ${i + 2}: ${p.server.authorizationError}`);
        assert.is(p.server.peerCertificates()[0]?.subject.CN, 'test-client');
        // a full handshake every time: the client's certificate was sent and checked again
        assert.not.ok(p.client.sessionReused, `client, connection ${i + 2}`);
        assert.not.ok(p.server.sessionReused, `server, connection ${i + 2}`);
        p.dispose();
      }
    } finally {
      sc.dispose();
      cc.dispose();
    }
  });
}

// ---- key log ------------------------------------------------------------------------------------

function keylogLines(events: EngineEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'keylog' ? [e.line] : []));
}

for (const v of VERSIONS) {
  test(`${v}: keylog events are NSS key log lines`, () => {
    const p = makePair({}, only(v), { servername: 'localhost', keylog: true }, { keylog: true });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const client = keylogLines(p.client.takeEvents());
      const server = keylogLines(p.server.takeEvents());
      const labels = v === 'TLSv1.3'
        ? ['CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_TRAFFIC_SECRET_0', 'SERVER_TRAFFIC_SECRET_0']
        : ['CLIENT_RANDOM'];
      for (const [side, lines] of [['client', client], ['server', server]] as const) {
        assert.equal(lines.map((l) => l.split(' ')[0]).sort(), [...labels].sort(), side);
        const randoms = new Set<string>();
        for (const l of lines) {
          const m = /^([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]+)$/.exec(l);
          assert.ok(m, `${side}: ${l}`);
          randoms.add(m![2]!);
          // TLS 1.2 master secret: 48 bytes; TLS 1.3 secrets: the suite's hash (SHA-256 for the
          // default ChaCha20-Poly1305 suite)
          assert.is(m![3]!.length, v === 'TLSv1.2' ? 96 : 64, l);
        }
        assert.is(randoms.size, 1, 'one client random per connection');
      }
      // both sides log the same secrets
      assert.equal([...client].sort(), [...server].sort());
    } finally {
      p.dispose();
    }
  });
}

test('no keylog option → no keylog events', () => {
  const p = makePair();
  try {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    settle(p);
    assert.equal(keylogLines(p.client.takeEvents()), []);
    assert.equal(keylogLines(p.server.takeEvents()), []);
  } finally {
    p.dispose();
  }
});

// ---- generateSelfSigned -------------------------------------------------------------------------
// Checked with the project's own parser and identity check (browser-clean), an independent
// ECDSA implementation (WebCrypto) for the self-signature, and handshakes that trust the
// certificate as their CA. test/engine-selfsigned-node.test.ts cross-checks the same output
// against node's X509Certificate.

const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';

// Names come with a null prototype (as node's do): compare copies ({ ...name }) with literals.
function certInfo(certPem: string): CertificateInfo {
  const ders = pemToDerList(certPem);
  assert.is(ders.length, 1, 'one certificate in the PEM');
  return parseCertificateInfo(ders[0]!);
}

/**
 * Verifies the certificate's signature over its TBSCertificate with its own public key. Needed
 * because a handshake does not: mbedTLS accepts a self-issued leaf that is byte-identical to a
 * trusted certificate without checking its signature (x509_crt_check_ee_locally_trusted).
 */
async function selfSignatureValid(info: CertificateInfo): Promise<boolean> {
  // X.509 carries ECDSA-Sig-Value (DER SEQUENCE of r, s); WebCrypto wants r || s, 32 bytes each
  const [r, s] = children(parseDer(info.signature, TAG.SEQUENCE, 'ECDSA-Sig-Value')).map(readUnsignedInteger);
  const raw = new Uint8Array(64);
  raw.set(r!, 32 - r!.length);
  raw.set(s!, 64 - s!.length);
  const subtle = globalThis.crypto.subtle;
  // (copies: WebCrypto's types want ArrayBuffer-backed views)
  const key = await subtle.importKey('spki', new Uint8Array(info.spki), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  return subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw, new Uint8Array(info.tbs));
}

const DAY = 86_400_000;

test('generateSelfSigned: a usable server certificate with the requested names', async () => {
  const before = Date.now();
  const g = generateSelfSigned({ altNames: ['localhost', '127.0.0.1', '::1'], days: 30 });
  assert.match(g.key, /^-----BEGIN EC PRIVATE KEY-----\n[^]*\n-----END EC PRIVATE KEY-----\n$/);
  assert.match(g.cert, /^-----BEGIN CERTIFICATE-----\n[^]*\n-----END CERTIFICATE-----\n$/);
  assert.not.match(g.cert, /PRIVATE KEY/, 'the key stays out of the certificate PEM');
  const info = certInfo(g.cert);
  assert.is(info.version, 3);
  assert.is(info.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  assert.equal(info.dnsNames, ['localhost']);
  assert.equal(info.ipAddresses, ['127.0.0.1', '0:0:0:0:0:0:0:1']);
  assert.equal({ ...info.subject }, { CN: 'localhost' });
  assert.equal({ ...info.issuer }, { ...info.subject });
  assert.ok(info.selfIssued, 'subject and issuer are the same name');
  // valid from a minute ago (clock skew), for the requested number of days
  const from = info.notBefore.getTime(), to = info.notAfter.getTime();
  assert.ok(from <= before && from > before - 10 * 60_000, `validFrom ${info.validFrom}`);
  const days = (to - from) / DAY;
  assert.ok(days > 29.9 && days < 30.1, `validity ${days} days`);
  // an ECDSA P-256 key, signed with ECDSA-SHA256
  assert.is(info.publicKeyAlgorithm, OID_EC_PUBLIC_KEY);
  assert.is(info.namedCurve, OID_P256);
  assert.is(info.publicKey.asn1Curve, 'prime256v1');
  assert.is(info.publicKey.nistCurve, 'P-256');
  assert.is(info.signatureAlgorithm, OID_ECDSA_SHA256);
  assert.ok(await selfSignatureValid(info), 'signed by its own key');
  // a server certificate, not a CA: digitalSignature only, serverAuth and clientAuth
  assert.is(info.keyUsage, KU_DIGITAL_SIGNATURE);
  assert.equal(info.extKeyUsage, [EKU_SERVER_AUTH, EKU_CLIENT_AUTH]);
  assert.not.ok(info.isCA);
  assert.not.ok(info.ca);
  // the signature check can fail: one flipped bit in the signed part is caught
  const tampered = { ...info, tbs: info.tbs.slice() };
  tampered.tbs[tampered.tbs.length - 40]! ^= 0x01;
  assert.not.ok(await selfSignatureValid(tampered), 'a modified TBSCertificate fails');

  // node:tls's identity rules (checkServerIdentity) accept exactly the requested names
  const peer = parseCertificate(info.raw, { sha256: (d) => lib().sha256(d), sha1: (d) => lib().sha1(d) });
  for (const name of ['localhost', 'LOCALHOST', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']) {
    assert.is(checkServerIdentity(name, peer), undefined, name);
  }
  for (const name of ['example.com', 'sub.localhost', '127.0.0.2', '::2']) {
    assert.is(checkServerIdentity(name, peer)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID', name);
  }

  // a client trusting it as its CA completes the handshake (which proves the key matches the
  // certificate: the server's CertificateVerify is checked against it) for each name
  for (const v of VERSIONS) {
    for (const [servername, host] of [['localhost', undefined], [undefined, '::1'], [undefined, '127.0.0.1']] as const) {
      const sc = TlsConfig.server(g);
      const cc = TlsConfig.client({ ca: g.cert, ...only(v) });
      const p = pairOn(sc, cc, { ...(servername ? { servername } : {}), ...(host ? { host } : {}) });
      const what = `${v} ${servername ?? host}`;
      try {
        assert.equal(handshake(p), { client: 'done', server: 'done' }, `${what}: ${p.client.error}`);
        assert.ok(p.client.authorized, `${what}: ${p.client.authorizationError}`);
        assert.is(p.client.protocol, v);
        const seen = p.client.peerCertificates();
        assert.is(seen.length, 1, what);
        assert.ok(equal(seen[0]!.raw, info.raw), `${what}: the server sent this certificate`);
        assert.is(seen[0]!.fingerprint256, peer.fingerprint256);
        const d = bytes(3000, 1);
        assert.ok(equal(transfer(p.client, p.server, d), d));
        assert.ok(equal(transfer(p.server, p.client, d), d));
      } finally {
        p.dispose();
        sc.dispose();
        cc.dispose();
      }
    }
  }
  const refuse = (ca: string, servername: string, code: string) => {
    const sc = TlsConfig.server(g);
    const cc = TlsConfig.client({ ca });
    const p = pairOn(sc, cc, { servername });
    try {
      assert.is(handshake(p).client, 'failed', `${servername} with another CA`);
      assert.is(p.client.error?.code, code, String(p.client.error));
    } finally {
      p.dispose();
      sc.dispose();
      cc.dispose();
    }
  };
  // a name it was not made for is refused
  refuse(g.cert, 'example.com', 'ERR_TLS_CERT_ALTNAME_INVALID');
  // trusting another self-signed certificate with the same name does not make this one trusted
  refuse(generateSelfSigned({ altNames: ['localhost'] }).cert, 'localhost', 'ERR_TLS_CERT_SELF_SIGNED');
});

test('generateSelfSigned: defaults, organisation, distinct keys, invalid options, no leak', () => {
  const warm = generateSelfSigned();
  const base = lib().heap().count;
  const a = generateSelfSigned({ commonName: 'a.test', organization: 'Example, Inc.' });
  const b = generateSelfSigned({ commonName: 'a.test' });
  assert.is(lib().heap().count, base);
  // defaults: CN localhost, that name as the only subjectAltName, 365 days
  const w = certInfo(warm.cert);
  assert.equal({ ...w.subject }, { CN: 'localhost' });
  assert.is(w.subjectAltName, 'DNS:localhost');
  const xa = certInfo(a.cert), xb = certInfo(b.cert);
  assert.is(xa.subjectAltName, 'DNS:a.test', 'the common name is the default altName');
  // the comma in the organisation survives mbedTLS's name-string parser (escaped)
  assert.equal({ ...xa.subject }, { CN: 'a.test', O: 'Example, Inc.' });
  assert.equal({ ...xa.issuer }, { ...xa.subject });
  assert.equal({ ...xb.subject }, { CN: 'a.test' });
  assert.is.not(a.key, b.key);
  assert.is.not(xa.serialNumber, xb.serialNumber);
  assert.ok(!xa.spki.every((byte, i) => byte === xb.spki[i]), 'a fresh key pair each time');
  for (const x of [w, xa]) {
    const days = (x.notAfter.getTime() - x.notBefore.getTime()) / DAY;
    assert.ok(days > 364.9 && days < 365.1, `validity ${days} days`);
  }
  for (const bad of [{ days: 0 }, { days: 1.5 }, { commonName: '' }, { altNames: [''] }, { altNames: 'x' as unknown as string[] }]) {
    try {
      generateSelfSigned(bad);
      assert.unreachable(JSON.stringify(bad));
    } catch (e) {
      assert.is((e as { code?: string }).code, 'ERR_TLS_INVALID_OPTION', JSON.stringify(bad));
    }
  }
  assert.is(lib().heap().count, base);
});

test.run();
