// Hostile input: random bytes at every handshake stage, truncated records, and bit flips in
// every flight and in application data. Whatever arrives, an engine ends in a typed TlsError
// (fault 'peer'), a clean alert, or waits for more input; it never throws, loops or leaks, and
// other connections in the process keep working.
import './helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsConfig } from '../src/engine/config.js';
import { TlsError } from '../src/errors/tls-error.js';
import type { Step, TlsEngine } from '../src/engine/tls-engine.js';
import { lib } from '../src/wasm/module.js';
import { pem } from './helpers/fixtures.js';
import {
  bytes, concat, drain, equal, handshake, makePair, pairOn, recordHandshake, records, settle, transfer,
  type Pair,
} from './helpers/pair.js';

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
type Version = (typeof VERSIONS)[number];

// Configs shared by the whole file (created lazily after setup).
let shared: { server: TlsConfig; clients: Record<Version, TlsConfig> } | null = null;
function configs(): { server: TlsConfig; clients: Record<Version, TlsConfig> } {
  shared ??= {
    server: TlsConfig.server(pem.ecdsa()),
    clients: {
      'TLSv1.2': TlsConfig.client({ ca: pem.ca(), minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }),
      'TLSv1.3': TlsConfig.client({ ca: pem.ca(), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }),
    },
  };
  return shared;
}
const fresh = (v: Version): Pair => pairOn(configs().server, configs().clients[v]);

/** A bystander connection kept open across the whole file. */
let bystander: Pair | null = null;

/** Runs `op` and checks the contract: a Step, never a throw; on failure a typed peer error. */
function step(e: TlsEngine, op: () => Step, what: string): Step {
  let s: Step;
  try {
    s = op();
  } catch (err) {
    assert.unreachable(`${what}: threw ${String(err)}`);
    throw err;
  }
  assert.ok(['done', 'want-read', 'want-write', 'closed', 'failed'].includes(s), `${what}: step ${s}`);
  if (s === 'failed') {
    const err = e.error;
    assert.instance(err, TlsError, what);
    assert.ok(err!.fault === 'peer' || err!.fault === 'certificate', `${what}: fault ${err!.fault}: ${err!.code} ${err!.message}`);
    assert.ok(/^ERR_TLS_[A-Z0-9_]+$/.test(err!.code), `${what}: ${err!.code}`);
  }
  return s;
}

const advance = (e: TlsEngine, what: string): Step =>
  step(e, () => (e.handshakeComplete ? e.read().step : e.handshake()), what);

/**
 * After garbage was fed to `victim`: it fails (or, at most, waits for the rest of a record
 * that more garbage completes). Its alert then reaches `peer`, which must fail cleanly or
 * wait; the transport then ends (as an owner closes the socket) and nobody is left hanging.
 */
function settleAfterGarbage(victim: TlsEngine, peer: TlsEngine, what: string, filler = 1): void {
  let s = advance(victim, what);
  for (let i = 0; i < 3 && s === 'want-read'; i++) {
    // a plausible header may announce a long record: complete it with more garbage
    victim.feed(bytes(17 * 1024 + 300, filler + i));
    s = advance(victim, `${what} (+garbage ${i})`);
  }
  if (s !== 'failed') {
    assert.is(s, 'want-read', what);
    victim.feedEnd();
    s = advance(victim, `${what} (EOF)`);
  }
  if (s !== 'failed') {
    // only possible once the handshake is over: EOF after it is not an error by itself
    assert.ok(victim.handshakeComplete, `${what}: ${s} during the handshake after EOF`);
    assert.is(victim.read().step, 'want-read');
    return;
  }
  assert.is(victim.feed(bytes(10, 1)), 0, `${what}: a failed engine takes no input`);
  const alert = drain(victim);
  if (alert.length) peer.feed(alert);
  let ps = advance(peer, `${what}: peer`);
  if (ps === 'done') ps = advance(peer, `${what}: peer, after`);
  if (ps === 'want-read') {
    peer.feedEnd();
    ps = advance(peer, `${what}: peer after EOF`);
  }
  assert.ok(ps === 'failed' || ps === 'want-read' || ps === 'closed', `${what}: peer ${ps}`);
}

/**
 * One case of the stage test, on a fresh pair: `stage` brings it to the point under test and
 * returns [victim, peer]; `garbage` then goes to the victim, and settleAfterGarbage(…, filler).
 */
function garbageAt(v: Version, what: string, garbage: Uint8Array, filler: number,
  stage: (p: Pair) => [TlsEngine, TlsEngine]): void {
  const p = fresh(v);
  try {
    const [victim, peer] = stage(p);
    victim.feed(garbage);
    settleAfterGarbage(victim, peer, what, filler);
  } finally { p.dispose(); }
}

// ---------------------------------------------------------------------------------------------

let baseline = -1;

test('setup: a bystander connection is open', () => {
  bystander = makePair();
  assert.equal(handshake(bystander), { client: 'done', server: 'done' });
  settle(bystander);
  // warm-up (lazily allocated scratch buffer, error strings, the server config's block of suite
  // twins: a client listing AES before ChaCha needs one), then the allocation baseline
  for (const v of VERSIONS) {
    const p = fresh(v);
    handshake(p);
    settle(p);
    p.server.feed(bytes(100, 1));
    p.server.read();
    p.dispose();
  }
  const aesFirst = TlsConfig.client({ ca: pem.ca(), minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256' });
  const warm = pairOn(configs().server, aesFirst);
  assert.equal(handshake(warm), { client: 'done', server: 'done' });
  assert.is(warm.server.cipher?.standardName, 'TLS_CHACHA20_POLY1305_SHA256');
  warm.dispose();
  aesFirst.dispose();
  baseline = lib().heap().count;
});

const GARBAGE: Array<[string, (seed: number) => Uint8Array]> = [
  ['1 random byte', (s) => bytes(1, s)],
  ['5 random bytes', (s) => bytes(5, s)],
  ['300 random bytes', (s) => bytes(300, s)],
  ['20 KiB random', (s) => bytes(20 * 1024, s)],
  ['handshake header + random', (s) => concat([new Uint8Array([22, 3, 3, 0, 200]), bytes(200, s)])],
  ['application header + random', (s) => concat([new Uint8Array([23, 3, 3, 0, 64]), bytes(64, s)])],
  ['alert header + random', (s) => concat([new Uint8Array([21, 3, 3, 0, 2]), bytes(2, s)])],
  ['CCS header + random', (s) => concat([new Uint8Array([20, 3, 3, 0, 1]), bytes(1, s)])],
  ['oversized record header', (s) => concat([new Uint8Array([23, 3, 3, 0xff, 0xff]), bytes(100, s)])],
  ['SSLv2-style hello', (s) => concat([new Uint8Array([0x80, 0x2e, 0x01, 0x03, 0x01]), bytes(45, s)])],
  ['zero bytes', () => new Uint8Array(64)],
];

for (const v of VERSIONS) {
  test(`${v}: random bytes to a server and a client at every handshake stage`, () => {
    let seed = 1;
    for (const [name, make] of GARBAGE) {
      // server, instead of the ClientHello
      garbageAt(v, `${name} → server, first flight`, make(seed++), seed, (p) => {
        p.client.handshake();
        drain(p.client);
        return [p.server, p.client];
      });
      // server, after the ClientHello (instead of the client's second flight)
      garbageAt(v, `${name} → server, second flight`, make(seed++), seed, (p) => {
        p.client.handshake();
        p.server.feed(drain(p.client));
        assert.is(p.server.handshake(), 'want-read');
        p.client.feed(drain(p.server));
        return [p.server, p.client];
      });
      // client, instead of the server's first flight
      garbageAt(v, `${name} → client, server flight`, make(seed++), seed, (p) => {
        p.client.handshake();
        p.server.feed(drain(p.client));
        p.server.handshake();
        drain(p.server);
        return [p.client, p.server];
      });
      // client, in the middle of the server's flight (after its first record)
      garbageAt(v, `${name} → client, mid flight`, make(seed++), seed, (p) => {
        p.client.handshake();
        p.server.feed(drain(p.client));
        p.server.handshake();
        const flight = drain(p.server);
        const first = records(flight)[0]!;
        p.client.feed(flight.subarray(0, first.length));
        return [p.client, p.server];
      });
      // both, after the handshake
      for (const side of ['client', 'server'] as const) {
        garbageAt(v, `${name} → ${side}, established`, make(seed++), seed, (p) => {
          assert.equal(handshake(p), { client: 'done', server: 'done' });
          settle(p);
          return side === 'client' ? [p.client, p.server] : [p.server, p.client];
        });
      }
    }
  });

  test(`${v}: truncated records: no plaintext from a partial record, EOF fails a handshake`, () => {
    // handshake flights cut at several points, then EOF
    const probe = fresh(v);
    const base = recordHandshake(probe);
    probe.dispose();
    for (let f = 0; f < base.flights.length; f++) {
      for (const frac of [0.01, 0.3, 0.5, 0.99]) {
        const p = fresh(v);
        try {
          let cutAt = -1;
          recordHandshake(p, (to, b, i) => {
            if (i < f) to.feed(b);
            else if (i === f) { cutAt = Math.max(1, Math.floor(b.length * frac)); to.feed(b.subarray(0, Math.min(cutAt, b.length - 1))); }
          });
          const victim = base.flights[f]!.from === 'client' ? p.server : p.client;
          const peer = victim === p.server ? p.client : p.server;
          let s = advance(victim, `flight ${f} cut at ${cutAt}`);
          if (s === 'done') continue; // the cut fell after the victim's last needed byte
          assert.is(s, 'want-read');
          victim.feedEnd();
          s = advance(victim, `flight ${f} cut at ${cutAt}, EOF`);
          if (!victim.handshakeComplete) {
            assert.is(s, 'failed');
            assert.is(victim.error?.code, 'ERR_TLS_HANDSHAKE_EOF');
          }
          // The peer sent the cut flight whole and got nothing bad: no alert comes from the
          // victim (its transport ended, so there is nobody to send one to), and the peer
          // waits, its handshake over only if that flight was its last.
          const what = `flight ${f} cut at ${cutAt}: peer`;
          assert.is(victim.outboundLength, 0, `${what}: the victim queued nothing`);
          assert.is(peer.error, null, what);
          const last = f === base.flights.length - 1;
          assert.is(peer.handshakeComplete, last, what);
          assert.is(advance(peer, what), 'want-read', what);
          // then its own transport ends: an unfinished handshake fails typed, a finished one
          // just has no more data (EOF after the handshake is not an error by itself)
          peer.feedEnd();
          const ps = advance(peer, `${what} after EOF`);
          if (last) {
            assert.is(ps, 'want-read', what);
            assert.is(peer.error, null, what);
          } else {
            assert.is(ps, 'failed', what);
            assert.is(peer.error?.code, 'ERR_TLS_HANDSHAKE_EOF', what);
          }
        } finally { p.dispose(); }
      }
    }
    // an application data record cut at every offset: nothing comes out until it is whole
    const p = fresh(v);
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const msg = bytes(100, 3);
      p.client.write(msg);
      const rec = drain(p.client);
      for (let k = 0; k < rec.length; k++) {
        p.server.feed(rec.subarray(k, k + 1));
        const r = p.server.read();
        if (k < rec.length - 1) assert.equal(r, { step: 'want-read', data: null }, `k=${k}`);
        else { assert.is(r.step, 'done'); assert.ok(equal(r.data!, msg)); }
      }
      // cut record then EOF: the partial record never turns into data
      p.client.write(msg);
      const rec2 = drain(p.client);
      p.server.feed(rec2.subarray(0, rec2.length - 1));
      p.server.feedEnd();
      assert.equal(p.server.read(), { step: 'want-read', data: null });
      assert.is(p.server.error, null);
    } finally { p.dispose(); }
  });

  test(`${v}: bit flips in every handshake flight (sampled positions)`, () => {
    const probe = fresh(v);
    const base = recordHandshake(probe);
    probe.dispose();
    assert.equal([base.client, base.server], ['done', 'done']);
    const outcomes = { failed: 0, survived: 0 };
    for (let f = 0; f < base.flights.length; f++) {
      const len = base.flights[f]!.bytes.length;
      // every position of the first 24 bytes (record and handshake headers), then a spread
      const positions = new Set<number>();
      for (let i = 0; i < Math.min(24, len); i++) positions.add(i);
      for (let i = 24; i < len; i += Math.max(1, Math.floor(len / 40))) positions.add(i);
      positions.add(len - 1);
      for (const pos of positions) {
        const bit = 1 << (pos % 8);
        const p = fresh(v);
        try {
          const what = `flight ${f} (${base.flights[f]!.from}) byte ${pos} bit ${bit}`;
          const r = recordHandshake(p, (to, b, i) => {
            if (i === f && pos < b.length) {
              const c = b.slice();
              c[pos]! ^= bit;
              to.feed(c);
            } else {
              to.feed(b);
            }
          });
          for (const [name, e, s] of [['client', p.client, r.client], ['server', p.server, r.server]] as const) {
            if (s === 'failed') step(e, () => 'failed', `${what}: ${name}`);
          }
          if (r.client === 'done' && r.server === 'done') {
            // A flip that changes nothing protected (e.g. a record header's legacy version)
            // may be accepted; then the connection must work, byte-exact, or fail cleanly.
            const d = bytes(100, pos);
            p.client.write(d);
            p.server.feed(drain(p.client));
            let got: Uint8Array | null = null;
            const s = step(p.server, () => { const r = p.server.read(); got = r.data; return r.step; }, `${what}: read after`);
            if (s === 'failed') { outcomes.failed++; continue; }
            assert.is(s, 'done', what);
            assert.ok(equal(got!, d), `${what}: data intact`);
            outcomes.survived++;
          } else {
            // whoever did not fail yet must, once the other's alert or EOF arrives
            const [victim, peer] = r.client === 'failed' ? [p.client, p.server] : [p.server, p.client];
            if (r.client !== 'failed' && r.server !== 'failed') {
              // both waiting (a flipped length made one side wait for more): the transport ends
              p.client.feedEnd();
              p.server.feedEnd();
              assert.ok(p.client.state === 'failed' || p.server.state === 'failed', what);
            } else {
              settleAfterGarbage(victim, peer, what);
            }
            outcomes.failed++;
          }
        } finally { p.dispose(); }
      }
    }
    assert.ok(outcomes.failed > outcomes.survived * 5, JSON.stringify(outcomes));
  });

  test(`${v}: bit flips at every position of an application data record`, () => {
    // Fresh pairs by resumption keep this cheap (the handshake itself is covered above).
    const sc = configs().server, cc = configs().clients[v];
    const first = pairOn(sc, cc);
    assert.equal(handshake(first), { client: 'done', server: 'done' });
    settle(first);
    const session = first.client.session()!;
    first.dispose();
    const msg = bytes(64, 9);
    let len = 0;
    for (let pos = 0; len === 0 || pos < len; pos++) {
      const p = pairOn(sc, cc, { servername: 'localhost', session });
      try {
        assert.equal(handshake(p), { client: 'done', server: 'done' });
        settle(p);
        p.client.write(msg);
        const rec = drain(p.client);
        len = rec.length;
        for (const bit of [0x01, 0x80]) {
          if (bit === 0x80) {
            // the first flip failed the connection: a new one for the second bit
            p.dispose();
            const q = pairOn(sc, cc, { servername: 'localhost', session });
            handshake(q);
            settle(q);
            q.client.write(msg);
            const rec2 = drain(q.client);
            rec2[pos]! ^= bit;
            q.server.feed(rec2);
            checkCorrupted(q, `byte ${pos} bit ${bit}`);
            q.dispose();
            continue;
          }
          const c = rec.slice();
          c[pos]! ^= bit;
          p.server.feed(c);
          checkCorrupted(p, `byte ${pos} bit ${bit}`);
        }
      } finally { p.dispose(); }
    }
    assert.ok(len > 64 + 5);
  });
}

/** A corrupted application record never yields data; the reader fails or waits for more. */
function checkCorrupted(p: Pair, what: string): void {
  const r = p.server.read();
  assert.is(r.data, null, `${what}: no plaintext from a corrupted record`);
  step(p.server, () => r.step, what);
  if (r.step === 'want-read') {
    // a flipped length asks for more: what follows cannot make the record authentic
    p.server.feed(bytes(17 * 1024 + 300, 5));
    const r2 = p.server.read();
    assert.is(r2.data, null, what);
    assert.is(step(p.server, () => r2.step, what), 'failed', what);
  } else {
    assert.is(r.step, 'failed', what);
  }
  const alert = drain(p.server);
  if (alert.length) {
    p.client.feed(alert);
    const c = step(p.client, () => p.client.read().step, `${what}: client`);
    assert.ok(c === 'failed' || c === 'want-read', `${what}: client ${c}`);
  }
}

test('after all that: nothing leaked; the bystander and new connections work', () => {
  assert.is(lib().heap().count, baseline, 'every failed connection was freed completely');
  const p = bystander!;
  const d = bytes(100000, 42);
  assert.ok(equal(transfer(p.client, p.server, d), d));
  assert.ok(equal(transfer(p.server, p.client, d), d));
  p.dispose();
  for (const v of VERSIONS) {
    const q = fresh(v);
    assert.equal(handshake(q), { client: 'done', server: 'done' });
    assert.ok(equal(transfer(q.client, q.server, d), d));
    q.dispose();
  }
  shared!.server.dispose();
  shared!.clients['TLSv1.2'].dispose();
  shared!.clients['TLSv1.3'].dispose();
});

test.run();
