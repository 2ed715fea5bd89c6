// Engine pairs in memory: every protocol × cipher × certificate × group combination, a large
// transfer, and record boundaries (handshake and application data split at every offset).
import './helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsConfig } from '../src/engine/config.js';
import type { TlsEngine } from '../src/engine/tls-engine.js';
import { pem } from './helpers/fixtures.js';
import {
  bytes, concat, drain, equal, handshake, makePair, move, pairOn, readAll, recordHandshake, records,
  transfer, type Pair,
} from './helpers/pair.js';

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const CIPHERS = {
  'AES-128-GCM': { 'TLSv1.2': { ECDSA: 'ECDHE-ECDSA-AES128-GCM-SHA256', RSA: 'ECDHE-RSA-AES128-GCM-SHA256' }, 'TLSv1.3': 'TLS_AES_128_GCM_SHA256' },
  'AES-256-GCM': { 'TLSv1.2': { ECDSA: 'ECDHE-ECDSA-AES256-GCM-SHA384', RSA: 'ECDHE-RSA-AES256-GCM-SHA384' }, 'TLSv1.3': 'TLS_AES_256_GCM_SHA384' },
  'ChaCha20-Poly1305': { 'TLSv1.2': { ECDSA: 'ECDHE-ECDSA-CHACHA20-POLY1305', RSA: 'ECDHE-RSA-CHACHA20-POLY1305' }, 'TLSv1.3': 'TLS_CHACHA20_POLY1305_SHA256' },
} as const;
const STANDARD: Record<string, string> = {
  'ECDHE-ECDSA-AES128-GCM-SHA256': 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256': 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384': 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305': 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'ECDHE-RSA-CHACHA20-POLY1305': 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};
const CERTS = {
  ECDSA: { server: pem.ecdsa, ca: pem.ca },
  RSA: { server: pem.rsa, ca: pem.caRsa },
} as const;
const GROUPS = { x25519: 'X25519', secp256r1: 'P-256' } as const;

function exchange(p: Pair, seed: number): void {
  const up = bytes(3000 + seed, seed);
  const down = bytes(5000 + seed, seed + 100);
  assert.ok(equal(transfer(p.client, p.server, up), up), 'client → server byte-exact');
  assert.ok(equal(transfer(p.server, p.client, down), down), 'server → client byte-exact');
}

const GROUP_IDS: Record<string, number> = { X25519: 29, 'P-256': 23, 'P-384': 24 };

/**
 * The key exchange group, read from the server's first flight (plaintext in both versions):
 * TLS 1.3 ServerHello key_share, TLS 1.2 ServerKeyExchange named_curve.
 */
function keyExchangeGroup(flight: Uint8Array): number {
  for (const r of records(flight)) {
    if (r.type !== 22) continue;
    const body = flight.subarray(r.offset + 5, r.offset + r.length);
    for (let m = 0; m + 4 <= body.length;) {
      const type = body[m]!;
      const len = (body[m + 1]! << 16) | (body[m + 2]! << 8) | body[m + 3]!;
      const msg = body.subarray(m + 4, m + 4 + len);
      if (type === 12) { // ServerKeyExchange: curve_type named_curve(3), group
        assert.is(msg[0], 3);
        return (msg[1]! << 8) | msg[2]!;
      }
      if (type === 2) { // ServerHello: version, random, session id, suite, compression, extensions
        let o = 2 + 32;
        o += 1 + msg[o]!;
        o += 3;
        const end = o + 2 + ((msg[o]! << 8) | msg[o + 1]!);
        for (o += 2; o + 4 <= end;) {
          const ext = (msg[o]! << 8) | msg[o + 1]!;
          const elen = (msg[o + 2]! << 8) | msg[o + 3]!;
          if (ext === 0x33) return (msg[o + 4]! << 8) | msg[o + 5]!;
          o += 4 + elen;
        }
      }
      m += 4 + len;
    }
  }
  return -1;
}

let seed = 1;
for (const version of VERSIONS) {
  for (const [cipherName, byVersion] of Object.entries(CIPHERS)) {
    for (const [certName, cert] of Object.entries(CERTS)) {
      for (const [groupName, group] of Object.entries(GROUPS)) {
        const s = seed++;
        test(`${version} ${cipherName} ${certName} ${groupName}`, () => {
          const v = byVersion[version];
          const suite = typeof v === 'string' ? v : v[certName as 'ECDSA' | 'RSA'];
          // The client offers exactly one suite and the server exactly one group, so the
          // negotiated values cannot differ from the intended ones unnoticed. In TLS 1.2 the
          // client's supported_groups also lists the curves it accepts for ECDSA certificates
          // (RFC 8422 §5.1.1): a client offering only X25519 cannot accept a P-256 certificate
          // (mbedTLS, like OpenSSL, then finds no usable certificate), so it offers P-256 too.
          const clientGroups = version === 'TLSv1.2' && certName === 'ECDSA' && group !== 'P-256' ? `${group}:P-256` : group;
          const p = makePair({ ...cert.server(), ecdhCurve: group },
            { ca: cert.ca(), minVersion: version, maxVersion: version, ciphers: suite, ecdhCurve: clientGroups });
          try {
            const r = recordHandshake(p);
            assert.equal([r.client, r.server], ['done', 'done'], String(p.client.error ?? p.server.error));
            assert.is(r.flights[1]!.from, 'server');
            assert.is(keyExchangeGroup(r.flights[1]!.bytes), GROUP_IDS[group], 'the key exchange group');
            const kx = { X25519: { name: 'X25519', size: 253 }, 'P-256': { name: 'prime256v1', size: 256 }, 'P-384': { name: 'secp384r1', size: 384 } }[group];
            for (const e of [p.client, p.server]) {
              assert.equal(e.keyExchange, kx, 'the engine reports the group seen on the wire');
              assert.is(e.protocol, version);
              assert.is(e.cipher?.standardName, STANDARD[suite]);
              assert.is(e.cipher?.name, suite);
              assert.is(e.state, 'open');
            }
            assert.ok(p.client.authorized);
            const leaf = p.client.peerCertificates()[0];
            assert.is(leaf?.subject.CN, 'localhost');
            assert.is(leaf?.asn1Curve !== undefined, certName === 'ECDSA', 'the certificate kind negotiated');
            exchange(p, s);
          } finally {
            p.dispose();
          }
        });
      }
    }
  }
}

test('P-384 group and the default (x25519 first) negotiate too', () => {
  for (const ecdhCurve of ['P-384', undefined]) {
    const p = makePair({}, ecdhCurve ? { ecdhCurve } : {});
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      exchange(p, 7);
    } finally {
      p.dispose();
    }
  }
});

test('suite choice when both offer several: the server\'s order wins in TLS 1.3 and TLS 1.2', () => {
  // mbedTLS 3.6's TLS 1.3 server would take the client's first suite; the shim reads the
  // ClientHello's suites first and narrows the server's TLS 1.3 list to its own first choice.
  const cases: Array<[string, string, string]> = [
    ['TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
    ['TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
    ['ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  ];
  for (const [server, client, expected] of cases) {
    const p = makePair({ ciphers: server }, { ciphers: client });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      assert.is(p.client.cipher?.standardName, expected);
      assert.is(p.server.cipher?.standardName, expected);
    } finally {
      p.dispose();
    }
  }
});

test('default server order: ChaCha20-Poly1305 whenever the client offers it, even last (TLS 1.3 and 1.2)', () => {
  const cases: Array<[string, string | undefined, string]> = [
    // as OpenSSL and browsers order them: AES first
    ['TLSv1.3', 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
    ['TLSv1.3', 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
    ['TLSv1.3', undefined, 'TLS_CHACHA20_POLY1305_SHA256'],
    // no ChaCha offered: the server's next choice, AES-128-GCM, before the client's AES-256
    ['TLSv1.3', 'TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
    ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  ];
  for (const [version, client, expected] of cases) {
    const p = makePair({}, { minVersion: version as 'TLSv1.3', maxVersion: version as 'TLSv1.3', ...(client ? { ciphers: client } : {}) });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' }, `${version} ${client}`);
      assert.is(p.server.cipher?.standardName, expected, `${version} ${client}`);
      assert.is(p.client.cipher?.standardName, expected);
      exchange(p, 3);
    } finally {
      p.dispose();
    }
  }
});

test('no common ciphersuite: both sides fail with typed errors', () => {
  const p = makePair({ ciphers: 'TLS_AES_256_GCM_SHA384' }, { ciphers: 'TLS_AES_128_GCM_SHA256' });
  try {
    const r = handshake(p);
    assert.is(r.server, 'failed');
    assert.is(r.client, 'failed');
    assert.is(p.server.error?.fault, 'peer');
    assert.is(p.client.error?.code, 'ERR_TLS_ALERT_RECEIVED');
    assert.is(p.client.error?.alert, 40); // handshake_failure
  } finally {
    p.dispose();
  }
});

test('no common protocol version: both sides fail with typed errors', () => {
  const cases = [
    // a TLS 1.3-only server refuses a TLS 1.2-only client: protocol_version
    ['TLSv1.3', 'TLSv1.2', 'ERR_TLS_PROTOCOL_VERSION', 70],
    // a TLS 1.2-only server sees a TLS 1.2 hello offering only TLS 1.3 suites: handshake_failure
    ['TLSv1.2', 'TLSv1.3', 'ERR_TLS_HANDSHAKE_FAILURE', 40],
  ] as const;
  for (const [sv, cv, code, alert] of cases) {
    const p = makePair({ minVersion: sv, maxVersion: sv }, { minVersion: cv, maxVersion: cv });
    try {
      assert.equal(handshake(p), { client: 'failed', server: 'failed' });
      assert.is(p.server.error?.code, code);
      assert.is(p.server.error?.fault, 'peer');
      assert.is(p.client.error?.code, 'ERR_TLS_ALERT_RECEIVED');
      assert.is(p.client.error?.alert, alert);
      assert.is(p.client.protocol, null);
    } finally {
      p.dispose();
    }
  }
});

for (const version of VERSIONS) {
  test(`${version}: 4 MiB each way, byte-exact`, () => {
    const p = makePair({}, { maxVersion: version, minVersion: version });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      const big = bytes(4 * 1024 * 1024, 99);
      const got = transfer(p.client, p.server, big);
      assert.is(got.length, big.length);
      assert.ok(equal(got, big));
      const back = bytes(4 * 1024 * 1024 + 17, 98);
      assert.ok(equal(transfer(p.server, p.client, back), back));
    } finally {
      p.dispose();
    }
  });
}

// ---- record boundaries ------------------------------------------------------------------------

for (const version of VERSIONS) {
  // Every flight of the handshake, in both directions, split at every byte offset k: the
  // receiver gets [0,k), must ask for more without sending anything, then gets [k,end). One
  // connection per k splits every flight longer than k at that k (the flights are independent,
  // so this covers every (flight, k) pair with as many connections as the longest flight has
  // bytes, not their sum). Full sweep for both versions: about 1650 handshakes, some 20 s here,
  // with ECDSA (RSA signing would make it more than twice as slow).
  test(`${version}: every handshake flight split at every offset k ([0,k) then [k,end))`, () => {
    const sc = TlsConfig.server({ ...pem.ecdsa() });
    const cc = TlsConfig.client({ ca: pem.ca(), maxVersion: version, minVersion: version });
    try {
      const probe = pairOn(sc, cc);
      const base = recordHandshake(probe);
      probe.dispose();
      assert.equal([base.client, base.server], ['done', 'done']);
      const senders = base.flights.map((f) => f.from);
      assert.ok(senders.length >= 3 && senders.includes('client') && senders.includes('server'), senders.join());
      // ECDSA signatures (DER) vary in length by a byte or two, so a flight's length differs
      // between connections. `longest` tracks the longest seen of each flight; a k that falls
      // beyond a flight in one connection is tried again until every flight that can be longer
      // than k was split at k.
      const longest = base.flights.map((f) => f.bytes.length);
      let connections = 0;
      for (let k = 1; k < Math.max(...longest); k++) {
        for (let attempt = 0; ; attempt++) {
          const split = new Set<number>();
          const lengths: number[] = [];
          const p = pairOn(sc, cc);
          connections++;
          try {
            const r = recordHandshake(p, (to, b, i) => {
              lengths[i] = b.length;
              if (k >= b.length) { to.feed(b); return; }
              split.add(i);
              const what = `flight ${i} (${senders[i]}, ${b.length} bytes) k=${k}`;
              to.feed(b.subarray(0, k));
              assert.is(to.handshake(), 'want-read', `${what}: a partial flight asks for more`);
              assert.is(to.outboundLength, 0, `${what}: nothing is sent before the flight is whole`);
              assert.not.ok(to.handshakeComplete, what);
              to.feed(b.subarray(k));
            });
            const what = `k=${k} (flights ${lengths.join('/')})`;
            assert.equal([r.client, r.server], ['done', 'done'], `${what}: ${p.client.error ?? p.server.error}`);
            assert.equal(r.flights.map((f) => f.from), senders, `${what}: the same flights`);
            assert.is(p.client.protocol, version);
            assert.is(p.server.protocol, version);
            const up = bytes(64, k), down = bytes(80, k + 1);
            assert.ok(equal(transfer(p.client, p.server, up), up), `${what}: client → server`);
            assert.ok(equal(transfer(p.server, p.client, down), down), `${what}: server → client`);
          } finally {
            p.dispose();
          }
          lengths.forEach((n, i) => { longest[i] = Math.max(longest[i]!, n); });
          const missed = longest.flatMap((n, i) => (k < n && !split.has(i) ? [i] : []));
          if (missed.length === 0) break;
          // a flight's longest form comes out about one connection in four or five
          assert.ok(attempt < 60, `k=${k}: flight(s) ${missed.join()} never came out longer than ${k} bytes`);
        }
      }
      assert.ok(connections >= Math.max(...longest) - 1, `${connections} connections`);
    } finally {
      sc.dispose();
      cc.dispose();
    }
  });

  test(`${version}: the whole handshake and data in 1-byte chunks`, () => {
    const p = makePair({}, { maxVersion: version, minVersion: version });
    try {
      const r = recordHandshake(p, (to, b) => {
        for (let i = 0; i < b.length; i++) {
          to.feed(b.subarray(i, i + 1));
          const step = to.handshake();
          // the receiver can only finish (or answer) once the flight's last byte is in
          if (i < b.length - 1) assert.is(step, 'want-read', `byte ${i} of ${b.length}`);
        }
      });
      assert.equal([r.client, r.server], ['done', 'done']);
      const up = bytes(40000, 5);
      // write everything first, then deliver the ciphertext one byte at a time with reads between
      let off = 0;
      const got: Uint8Array[] = [];
      while (off < up.length) {
        const w = p.client.write(up.subarray(off));
        off += w.written;
        const ct = drain(p.client);
        for (let i = 0; i < ct.length; i++) {
          p.server.feed(ct.subarray(i, i + 1));
          const r = p.server.read();
          if (r.step === 'done') got.push(r.data!);
          else assert.is(r.step, 'want-read');
        }
        got.push(readAll(p.server));
      }
      assert.ok(equal(concat(got), up));
      move(p.server, p.client, 1); // NewSessionTicket (TLS 1.3) in single bytes
      const down = bytes(20000, 6);
      p.server.write(down);
      const ct = drain(p.server);
      const got2: Uint8Array[] = [];
      for (let i = 0; i < ct.length; i++) {
        p.client.feed(ct.subarray(i, i + 1));
        got2.push(readAll(p.client));
      }
      assert.ok(equal(concat(got2), down));
    } finally {
      p.dispose();
    }
  });

  test(`${version}: application data records split at every offset`, () => {
    const p = makePair({}, { maxVersion: version, minVersion: version });
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      // Two records back to back (so splits also land inside the second one's header).
      const msgA = bytes(300, 1), msgB = bytes(200, 2);
      const sample = (from: TlsEngine): Uint8Array => {
        from.write(msgA);
        from.write(msgB);
        return drain(from);
      };
      for (const [from, to] of [[p.client, p.server], [p.server, p.client]] as const) {
        // a probe (delivered whole, so sequence numbers stay in step) gives the length
        const probe = sample(from);
        to.feed(probe);
        assert.ok(equal(readAll(to), concat([msgA, msgB])));
        let n = probe.length;
        for (let k = 0; k <= n; k++) {
          const ct = sample(from);
          n = ct.length;
          assert.is(records(ct).filter((r) => r.type === 23).length >= 2, true);
          to.feed(ct.subarray(0, k));
          const first = readAll(to);
          to.feed(ct.subarray(k));
          const rest = readAll(to);
          const got = concat([first, rest]);
          assert.ok(equal(got, concat([msgA, msgB])), `k=${k} (${got.length} bytes)`);
        }
      }
    } finally {
      p.dispose();
    }
  });
}

test.run();
