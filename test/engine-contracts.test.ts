// The engine contracts from the theory of operation in src/engine/tls-engine.ts: writes before
// the handshake, WANT_WRITE and the started record, partial writes, buffered reads, closure,
// fatal alerts, sticky failures, and object lifetimes.
import './helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TlsConfig } from '../src/engine/config.js';
import { TlsError } from '../src/errors/tls-error.js';
import { TlsEngine, type EngineOptions, type Step } from '../src/engine/tls-engine.js';
import type { BytePtr, ConnPtr } from '../src/wasm/ffi.js';
import { lib } from '../src/wasm/module.js';
import { pem, fixture } from './helpers/fixtures.js';
import {
  bytes, concat, drain, equal, handshake, makePair, move, pairOn, readAll, records, settle, transfer,
  utf8, type Pair,
} from './helpers/pair.js';

const VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
const only = (v: (typeof VERSIONS)[number]) => ({ minVersion: v, maxVersion: v });

function withPair(fn: (p: Pair) => void, ...args: Parameters<typeof makePair>): void {
  const p = makePair(...args);
  try { fn(p); } finally { p.dispose(); }
}

/** Writes `data` in full, moving ciphertext to `to` in `chunk`-sized pieces; returns what `to` read. */
function pushThrough(from: TlsEngine, to: TlsEngine, data: Uint8Array, chunk = Infinity): Uint8Array {
  const got: Uint8Array[] = [];
  let off = 0;
  for (let guard = 0; guard < 100000; guard++) {
    let step: Step;
    if (off < data.length) {
      const w = from.write(data.subarray(off));
      assert.ok(w.written <= data.length - off, 'written never exceeds what was offered');
      off += w.written;
      step = w.step;
    } else {
      step = from.flush();
    }
    assert.ok(step === 'done' || step === 'want-write', `unexpected step ${step}: ${from.error}`);
    const out = from.takeOutbound(chunk);
    if (out) to.feed(out);
    got.push(readAll(to));
    if (off === data.length && step === 'done' && !from.hasPendingWrite && from.outboundLength === 0) break;
  }
  got.push(readAll(to));
  return concat(got);
}

// ---- writes before the handshake completes --------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: write before the handshake completes → want-read, written 0, nothing lost`, () => {
    withPair((p) => {
      const early = bytes(1000, 3);
      const w = p.client.write(early);
      assert.equal(w, { step: 'want-read', written: 0 });
      assert.is(p.client.want, 'read');
      assert.is(p.client.state, 'handshaking');
      const sw = p.server.write(early);
      assert.equal(sw, { step: 'want-read', written: 0 });
      // the client's write ran the handshake: the ClientHello is queued
      assert.ok(p.client.outboundLength > 0);
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      // the retry writes the data exactly once
      assert.ok(equal(transfer(p.client, p.server, early), early));
      assert.ok(equal(transfer(p.server, p.client, early), early));
      assert.is(readAll(p.server).length, 0);
      assert.is(readAll(p.client).length, 0);
    }, {}, only(v));
  });

  test(`${v}: a write drives the handshake to completion, then encrypts`, () => {
    withPair((p) => {
      const data = bytes(500, 4);
      let written = 0;
      const got: Uint8Array[] = [];
      for (let i = 0; i < 20 && written < data.length; i++) {
        const w = p.client.write(data.subarray(written));
        written += w.written;
        move(p.client, p.server);
        p.server.handshake();
        got.push(readAll(p.server));
        move(p.server, p.client);
      }
      assert.is(written, data.length);
      got.push(readAll(p.server));
      assert.ok(equal(concat(got), data));
    }, {}, only(v));
  });

  test(`${v}: a client never encrypts data for a server it has not verified`, () => {
    withPair((p) => {
      const secret = bytes(2000, 5);
      let last: Step = 'want-read';
      for (let i = 0; i < 20; i++) {
        last = p.client.write(secret).step;
        move(p.client, p.server);
        p.server.handshake();
        move(p.server, p.client);
        if (last === 'failed') break;
      }
      assert.is(last, 'failed');
      assert.is(p.client.error?.code, 'ERR_TLS_CERT_UNTRUSTED');
      // nothing that could hold the 2000 bytes left the client: only its Finished and the alert
      const out = drain(p.client);
      assert.ok(out.length < 200, `${out.length} bytes after the failure`);
      p.server.feed(out);
      const r = p.server.read();
      assert.is(r.step, 'failed');
      assert.is(r.data, null);
    }, { key: fixture('untrusted.key'), cert: fixture('untrusted.crt') }, only(v));
  });
}

// ---- WANT_WRITE: the outbound limit and the started record -----------------------------------

for (const v of VERSIONS) {
  test(`${v}: outboundLimit 100: handshake and writes block, flush() completes the started record`, () => {
    withPair((p) => {
      // The handshake itself runs in ≤100-byte slices.
      let sawWantWrite = false;
      for (let i = 0; i < 500; i++) {
        const c = p.client.handshake();
        if (c === 'want-write') { sawWantWrite = true; assert.is(p.client.want, 'write'); }
        const out = p.client.takeOutbound();
        if (out) { assert.ok(out.length <= 100); p.server.feed(out); }
        const s = p.server.handshake();
        move(p.server, p.client);
        if (c === 'done' && s === 'done' && p.client.outboundLength === 0) break;
      }
      assert.ok(sawWantWrite);
      assert.is(p.client.state, 'open');
      assert.is(p.server.state, 'open');

      const data = bytes(1000, 6);
      const w = p.client.write(data);
      assert.is(w.step, 'want-write');
      assert.is(w.written, 1000, 'the started record counts as written');
      assert.ok(p.client.hasPendingWrite);
      assert.is(p.client.outboundLength, 100);
      // without taking output, flush cannot progress and does not duplicate anything
      assert.is(p.client.flush(), 'want-write');
      assert.is(p.client.flush(), 'want-write');
      assert.is(p.client.outboundLength, 100);
      const ct: Uint8Array[] = [];
      let step: Step = 'want-write';
      for (let i = 0; i < 100 && step !== 'done'; i++) {
        ct.push(p.client.takeOutbound()!);
        step = p.client.flush();
      }
      assert.is(step, 'done');
      assert.not.ok(p.client.hasPendingWrite);
      ct.push(drain(p.client));
      const all = concat(ct);
      // exactly one record holding exactly the 1000 bytes
      const recs = records(all);
      assert.is(recs.length, 1);
      assert.is(recs[0]!.length, all.length);
      p.server.feed(all);
      assert.ok(equal(readAll(p.server), data));
      assert.is(readAll(p.server).length, 0);

      // a second write while a record is pending retries that record first, then goes on
      const a = bytes(300, 7), b = bytes(400, 8);
      const w1 = p.client.write(a);
      assert.equal(w1, { step: 'want-write', written: 300 });
      const w2 = p.client.write(b);
      assert.is(w2.step, 'want-write');
      assert.is(w2.written, 0, 'nothing new is taken while the started record cannot finish');
      const got = pushThrough(p.client, p.server, b, 100);
      // what arrived: a (the started record) then b, each once
      assert.ok(equal(got, concat([a, b])));
    }, {}, only(v), { servername: 'localhost', outboundLimit: 100 });
  });

  test(`${v}: close() after a blocked write sends the record, then close_notify`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      const data = bytes(700, 9);
      assert.equal(p.client.write(data), { step: 'want-write', written: 700 });
      let c: Step = p.client.close();
      const ct: Uint8Array[] = [];
      for (let i = 0; i < 100 && c !== 'done'; i++) {
        assert.is(c, 'want-write');
        ct.push(drain(p.client));
        c = p.client.close();
      }
      ct.push(drain(p.client));
      assert.is(c, 'done');
      p.server.feed(concat(ct));
      assert.ok(equal(readAll(p.server), data));
      assert.is(p.server.read().step, 'closed');
    }, {}, only(v), { servername: 'localhost', outboundLimit: 100 });
  });
}

test('TLSv1.3 server: a NewSessionTicket blocked by the queue limit does not swallow close_notify or data', () => {
  for (const then of ['close', 'write'] as const) {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      // the server's first read sends the ticket: it does not fit in 50 bytes
      assert.equal(p.server.read(), { step: 'want-write', data: null });
      assert.is(p.server.want, 'write');
      const data = bytes(3000, 21);
      let written = 0;
      let st: Step = 'want-write';
      const ct: Uint8Array[] = [];
      for (let i = 0; i < 500; i++) {
        if (then === 'close') st = p.server.close();
        else if (written < data.length) { const w = p.server.write(data.subarray(written)); written += w.written; st = w.step; }
        else st = p.server.flush();
        ct.push(drain(p.server));
        if (st === 'done' && (then === 'close' || written === data.length) && !p.server.hasPendingWrite && p.server.outboundLength === 0) break;
      }
      assert.is(st, 'done');
      p.client.feed(concat(ct));
      if (then === 'close') {
        assert.equal(p.client.read(), { step: 'closed', data: null });
      } else {
        assert.ok(equal(readAll(p.client), data));
      }
      assert.is(p.client.takeEvents().filter((e) => e.type === 'session').length, 1);
    }, {}, only('TLSv1.3'), { servername: 'localhost' }, { outboundLimit: 50 });
  }
});

test('servername and session engine options of the wrong type → ERR_TLS_INVALID_OPTION naming them', () => {
  const cfg = TlsConfig.client({ ca: pem.ca() });
  const before = lib().heap().count;
  try {
    const cases: Array<[string, EngineOptions]> = [
      ['servername', { servername: 42 as never }],
      ['servername', { servername: null as never }],
      ['servername', { servername: ['localhost'] as never }],
      ['servername', { servername: utf8('localhost') as never }],
      ['session', { servername: 'localhost', session: 'a session' as never }],
      ['session', { servername: 'localhost', session: null as never }],
      ['session', { servername: 'localhost', session: [1, 2, 3] as never }],
      ['session', { servername: 'localhost', session: new ArrayBuffer(8) as never }],
    ];
    for (const [option, opts] of cases) {
      try {
        new TlsEngine(cfg, opts);
        assert.unreachable(`${option}: ${String(opts[option as keyof EngineOptions])}`);
      } catch (e) {
        assert.instance(e, TlsError, option);
        assert.is((e as TlsError).code, 'ERR_TLS_INVALID_OPTION', (e as Error).message);
        assert.is((e as TlsError).option, option, (e as Error).message);
        assert.is((e as TlsError).fault, 'local');
      }
    }
    assert.is(lib().heap().count, before, 'the half-made connections were freed');
    // the config is unharmed: a well-formed engine from it still completes a handshake
    const sc = TlsConfig.server(pem.ecdsa());
    const p = pairOn(sc, cfg);
    try {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
    } finally {
      p.dispose();
      sc.dispose();
    }
  } finally {
    cfg.dispose();
  }
});

test('outboundLimit must be a positive integer', () => {
  const cfg = TlsConfig.client({ ca: pem.ca() });
  const before = lib().heap().count;
  try {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      try {
        new TlsEngine(cfg, { outboundLimit: bad });
        assert.unreachable(`outboundLimit ${bad}`);
      } catch (e) {
        assert.instance(e, TlsError);
        assert.is((e as TlsError).code, 'ERR_TLS_INVALID_OPTION');
        assert.is((e as TlsError).option, 'outboundLimit');
      }
    }
    assert.is(lib().heap().count, before, 'the half-made connection was freed');
  } finally {
    cfg.dispose();
  }
});

// ---- partial writes ---------------------------------------------------------------------------

test('TLSv1.3: a 16 KiB write is two records (payload 16383 + 1), written 16384', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    const data = bytes(16384, 10);
    const w = p.client.write(data);
    assert.equal(w, { step: 'done', written: 16384 });
    const ct = drain(p.client);
    const recs = records(ct);
    assert.is(recs.length, 2);
    // 16383 bytes + content type + 16-byte tag; then 1 byte + type, padded (mbedTLS pads the
    // inner plaintext to a multiple of 16) + tag
    assert.is(recs[0]!.length, 5 + 16383 + 1 + 16);
    assert.is(recs[1]!.length, 5 + 16 + 16);
    p.server.feed(ct);
    assert.ok(equal(readAll(p.server), data));
  }, {}, only('TLSv1.3'));
});

test('takeOutbound(max, into): ciphertext written into the caller\'s buffer, as much as fits, a view of it returned; the rest stays queued', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    readAll(p.client);
    const data = bytes(5000, 14);
    p.client.write(data);
    const queued = p.client.outboundLength;
    const into = new Uint8Array(1000).fill(0xee);
    const first = p.client.takeOutbound(Infinity, into)!;
    assert.ok(first.buffer === into.buffer && first.byteOffset === 0 && first.length === 1000, 'a view of all of `into`');
    assert.is(p.client.outboundLength, queued - 1000, 'the rest is still queued');
    p.server.feed(first);   // feed() copies: `into` may be reused at once
    const big = new Uint8Array(64 * 1024);
    const second = p.client.takeOutbound(10, big)!;
    assert.is(second.length, 10, '`max` still bounds it');
    p.server.feed(second);
    const rest = p.client.takeOutbound(Infinity, big)!;
    assert.is(rest.length, queued - 1010);
    p.server.feed(rest);
    assert.is(p.client.takeOutbound(Infinity, big), null, 'nothing left');
    assert.ok(equal(readAll(p.server), data), 'the pieces are the ciphertext, in order');
  });
});

test('read(into): plaintext that fits is decrypted into the caller\'s buffer (a view of it is returned); larger plaintext is a new buffer', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    readAll(p.client);   // a TLS 1.3 NewSessionTicket, if any
    const data = bytes(3000, 12);
    p.client.write(data);
    p.server.feed(drain(p.client));
    const into = new Uint8Array(5000).fill(0xee);
    const r = p.server.read(into);
    assert.is(r.step, 'done');
    assert.ok(r.data!.buffer === into.buffer && r.data!.byteOffset === 0 && r.data!.length === 3000, 'a view of `into`');
    assert.ok(equal(r.data!, data));
    assert.is(into[3000], 0xee, 'nothing written past the plaintext');

    p.client.write(data);
    p.server.feed(drain(p.client));
    const small = new Uint8Array(100).fill(0xee);
    const r2 = p.server.read(small);
    assert.ok(r2.data!.buffer !== small.buffer && equal(r2.data!, data), 'too small: a copy');
    assert.ok(small.every((b) => b === 0xee), '`into` untouched');
  });
});

test('TLSv1.2: a 16 KiB write is one record', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    const data = bytes(16384, 11);
    assert.equal(p.client.write(data), { step: 'done', written: 16384 });
    const ct = drain(p.client);
    assert.is(records(ct).length, 1);
    p.server.feed(ct);
    assert.ok(equal(readAll(p.server), data));
  }, {}, only('TLSv1.2'));
});

for (const v of VERSIONS) {
  test(`${v}: 100 KiB writes against the default 64 KiB queue: partial counts, exact data`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      const payload = v === 'TLSv1.3' ? 16383 : 16384;
      const data = bytes(100 * 1024, 12);
      const w = p.client.write(data);
      // whole records until the queue is full; the record that hit the limit is owned by the engine
      assert.is(w.step, 'want-write');
      assert.is(w.written % payload, 0);
      assert.ok(w.written >= 3 * payload && w.written < data.length, `written ${w.written}`);
      assert.ok(p.client.hasPendingWrite);
      assert.is(p.client.outboundLength, 64 * 1024);
      const got = [drainTo(p.client, p.server)];
      assert.is(p.client.flush(), 'done');
      got.push(drainTo(p.client, p.server));
      const w2 = p.client.write(data.subarray(w.written));
      assert.equal(w2, { step: 'done', written: data.length - w.written });
      got.push(drainTo(p.client, p.server));
      assert.ok(equal(concat(got), data));
      // and several 100 KiB writes in a row through a small queue
      const many = bytes(5 * 100 * 1024, 13);
      const back = pushThrough(p.server, p.client, many, 5000);
      assert.ok(equal(back, many));
    }, {}, only(v));
  });
}

function drainTo(from: TlsEngine, to: TlsEngine): Uint8Array {
  to.feed(drain(from));
  return readAll(to);
}

test('outboundLimit 1000: a 100 KiB write takes one record at a time', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    const data = bytes(100 * 1024, 14);
    const w = p.client.write(data);
    assert.equal(w, { step: 'want-write', written: 16383 });
    const got = pushThrough(p.client, p.server, data.subarray(w.written), 1000);
    assert.ok(equal(got, data));
  }, {}, only('TLSv1.3'), { servername: 'localhost', outboundLimit: 1000 });
});

// ---- reads with several records buffered -----------------------------------------------------

/** Established pair; the client is fed `parts` as records, then one record with its AEAD tag
 * corrupted. */
function feedCorruptedAfter(p: Pair, parts: Uint8Array[]): void {
  assert.equal(handshake(p), { client: 'done', server: 'done' });
  settle(p);
  for (const d of parts) p.server.write(d);
  const good = drain(p.server);
  p.server.write(bytes(3000, 3));
  const bad = drain(p.server);
  bad[bad.length - 3]! ^= 0x40;   // inside the AEAD tag
  p.client.feed(concat([good, bad]));
}

for (const v of VERSIONS) {
  test(`${v}: read() returns queued plaintext in pieces of 16 KiB, small records merged, large ones split across calls, then close_notify on the next call`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const parts = [...Array.from({ length: 40 }, (_, i) => bytes(1000, 60 + i)), bytes(16000, 5), bytes(16000, 6)];
      const wire: Uint8Array[] = [];
      for (const d of parts) { assert.equal(p.server.write(d), { step: 'done', written: d.length }); wire.push(drain(p.server)); }
      assert.is(p.server.close(), 'done');
      wire.push(drain(p.server));
      p.client.feed(concat(wire));
      const got: Uint8Array[] = [];
      for (let r = p.client.read(); r.step === 'done'; r = p.client.read()) got.push(r.data!);
      assert.equal(got.map((d) => d.length), [16384, 16384, 16384, 16384, 6464], 'full 16 KiB pieces (72,000 bytes in 42 records), then the rest');
      assert.ok(equal(concat(got), concat(parts)), 'byte-exact, in order');
      assert.is(p.client.read().step, 'closed', 'close_notify after the data, on its own call');
    }, {}, only(v));
  });

  test(`${v}: read(): a corrupted record after plaintext: that plaintext first, then the typed error (sticky)`, () => {
    withPair((p) => {
      const parts = [bytes(3000, 1), bytes(3000, 2)];
      feedCorruptedAfter(p, parts);
      const r1 = p.client.read();
      assert.is(r1.step, 'done');
      assert.ok(equal(r1.data!, concat(parts)));
      const r2 = p.client.read();
      assert.is(r2.step, 'failed');
      assert.ok(p.client.error instanceof TlsError);
      assert.match(p.client.error!.code, /^ERR_TLS_/);
      assert.is(p.client.read().step, 'failed', 'sticky');
    }, {}, only(v));
  });

  test(`${v}: a write after plaintext whose batch ended in a corrupted record fails with that record's error, sending nothing`, () => {
    const codes: string[] = [];
    for (const next of ['read', 'write'] as const) {
      withPair((p) => {
        feedCorruptedAfter(p, [bytes(3000, 1)]);
        assert.is(p.client.read().step, 'done');
        drain(p.client);
        if (next === 'read') assert.is(p.client.read().step, 'failed');
        else assert.is(p.client.write(bytes(100, 4)).step, 'failed');
        const out = p.client.takeOutbound();
        // At most an alert (2 bytes of plaintext; in TLS 1.3 inside an encrypted record of about
        // 24 bytes), never the 100-byte write.
        assert.ok(out === null || records(out).every((r) => r.length < 40), 'at most an alert goes out, no data');
        codes.push(p.client.error!.code);
      }, {}, only(v));
    }
    assert.is(codes[1], codes[0], 'the same typed error either way');
  });
}

test('TLSv1.3: NewSessionTicket and application data in one feed: all read, session event', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    assert.equal(p.client.takeEvents().filter((e) => e.type === 'session'), []);
    const parts = [bytes(100, 1), bytes(20000, 2), bytes(1, 3), bytes(5000, 4)];
    for (const d of parts) assert.equal(p.server.write(d), { step: 'done', written: d.length });
    const ct = drain(p.server);
    const recs = records(ct);
    assert.ok(recs.length >= 6, `${recs.length} records: ticket + data`);
    p.client.feed(ct);
    assert.ok(equal(readAll(p.client), concat(parts)));
    assert.is(p.client.inboundLength, 0, 'no input left unread');
    const sessions = p.client.takeEvents().filter((e) => e.type === 'session');
    assert.is(sessions.length, 1);
    assert.ok(p.client.read().step === 'want-read');
  }, {}, only('TLSv1.3'));
});

test('TLSv1.3: a NewSessionTicket alone: read reports want-read and emits the session', () => {
  withPair((p) => {
    assert.equal(handshake(p), { client: 'done', server: 'done' });
    // a server read (no data) sends the ticket
    assert.is(p.server.read().step, 'want-read');
    assert.ok(move(p.server, p.client) > 0);
    assert.equal(p.client.read(), { step: 'want-read', data: null });
    assert.is(p.client.inboundLength, 0);
    assert.is(p.client.takeEvents().filter((e) => e.type === 'session').length, 1);
  }, {}, only('TLSv1.3'));
});

for (const v of VERSIONS) {
  test(`${v}: many small records in one feed are all read`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 300; i++) {
        const d = bytes(1 + (i % 7), i + 1);
        parts.push(d);
        assert.is(p.client.write(d).written, d.length);
      }
      p.server.feed(drain(p.client));
      assert.ok(equal(readAll(p.server), concat(parts)));
      assert.is(p.server.inboundLength, 0);
    }, {}, only(v));
  });

  test(`${v}: empty application data records between data records do not stall reads`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      // A peer may send zero-length application data records (RFC 5246 §6.2.1, RFC 8446 §5.1);
      // the engine API never makes them, so write them through the FFI.
      const L = lib();
      const conn = (p.client as unknown as { conn: ConnPtr }).conn;
      const buf = L.alloc(1);
      const empty = () => assert.is(L.x.tlsw_conn_write(conn, buf as BytePtr, 0), 0);
      try {
        const a = bytes(10, 1), b = bytes(20, 2);
        p.client.write(a);
        empty();
        p.client.write(b);
        empty();
        empty();
        p.client.write(a);
        empty();
        p.server.feed(drain(p.client));
        assert.ok(equal(readAll(p.server), concat([a, b, a])));
        assert.is(p.server.inboundLength, 0, 'nothing left unread');
      } finally {
        L.x.tlsw_mem_free(buf);
      }
    }, {}, only(v));
  });
}

// ---- closure ----------------------------------------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: close_notify: data before it is read, then 'closed'; states closing → closed`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const last = utf8('last words');
      assert.equal(p.client.write(last), { step: 'done', written: last.length });
      assert.is(p.client.close(), 'done');
      assert.is(p.client.state, 'closing');
      assert.ok(p.client.localClosed);
      assert.is(p.client.close(), 'done', 'close is idempotent');
      assert.equal(p.client.write(utf8('more')), { step: 'closed', written: 0 });
      const ct = drain(p.client);
      p.server.feed(ct);
      const r1 = p.server.read();
      assert.is(r1.step, 'done');
      assert.ok(equal(r1.data!, last));
      assert.equal(p.server.read(), { step: 'closed', data: null });
      assert.equal(p.server.read(), { step: 'closed', data: null });
      assert.ok(p.server.peerClosed);
      assert.is(p.server.state, 'closing');
      assert.is(p.server.error, null);
      // the server can still write before closing its side (half close)
      const reply = utf8('bye');
      assert.equal(p.server.write(reply), { step: 'done', written: reply.length });
      assert.is(p.server.close(), 'done');
      assert.is(p.server.state, 'closed');
      p.client.feed(drain(p.server));
      const r2 = p.client.read();
      assert.is(r2.step, 'done');
      assert.ok(equal(r2.data!, reply));
      assert.is(p.client.read().step, 'closed');
      assert.is(p.client.state, 'closed');
      assert.is(p.client.feed(utf8('x')), 0, 'a closed engine accepts no input');
    }, {}, only(v));
  });

  test(`${v}: a server that closes right after the handshake sends close_notify`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      assert.is(p.server.close(), 'done');
      assert.ok(move(p.server, p.client) > 0);
      assert.is(p.client.read().step, 'closed');
      assert.is(p.client.error, null);
    }, {}, only(v));
  });

  test(`${v}: close before the handshake: no alert owed, state follows`, () => {
    withPair((p) => {
      p.client.handshake();
      drain(p.client);
      assert.is(p.client.close(), 'done');
      assert.ok(p.client.localClosed);
      assert.is(p.client.outboundLength, 0);
    }, {}, only(v));
  });

  test(`${v}: EOF (feedEnd) during the handshake is fatal, after it is not`, () => {
    withPair((p) => {
      p.client.handshake();
      move(p.client, p.server);
      p.server.handshake();
      p.server.feedEnd();
      assert.is(p.server.state, 'failed');
      assert.is(p.server.error?.code, 'ERR_TLS_HANDSHAKE_EOF');
      assert.is(p.server.error?.fault, 'peer');
      assert.is(p.server.handshake(), 'failed');
    }, {}, only(v));
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      p.server.feedEnd();
      assert.is(p.server.error, null);
      assert.is(p.server.state, 'open');
    }, {}, only(v));
  });
}

// ---- fatal alerts and sticky failures --------------------------------------------------------

for (const v of VERSIONS) {
  test(`${v}: the client rejects the certificate → the server gets the alert, typed`, () => {
    withPair((p) => {
      const r = handshake(p);
      assert.is(r.client, 'failed');
      assert.is(p.client.error?.code, 'ERR_TLS_CERT_UNTRUSTED');
      assert.is(p.client.error?.alert, 48);
      // The client verifies once its mbedTLS handshake is over (as node:tls does): by then the
      // server has sent its Finished (TLS 1.2) or received the client's (TLS 1.3), so the
      // server's handshake is complete and the alert fails its next operation.
      assert.is(r.server, 'done');
      assert.is(p.server.read().step, 'failed');
      const e = p.server.error!;
      assert.instance(e, TlsError);
      assert.is(e.code, 'ERR_TLS_ALERT_RECEIVED');
      assert.is(e.fault, 'peer');
      assert.is(e.alert, 48); // unknown_ca
      assert.match(e.message, /unknown_ca/);
    }, { key: fixture('untrusted.key'), cert: fixture('untrusted.crt') }, only(v));
  });

  test(`${v}: failed engines are sticky: no input taken, every operation fails at once`, () => {
    withPair((p) => {
      p.client.handshake();
      move(p.client, p.server);
      // garbage after a valid ClientHello
      // a valid ClientHello followed by garbage
      p.server.feed(new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x01, 0x99]));
      p.server.feed(bytes(2000, 77));
      assert.is(p.server.handshake(), 'failed');
      const err = p.server.error;
      assert.instance(err, TlsError);
      assert.is(p.server.state, 'failed');
      assert.is(p.server.want, 'none');
      const inBefore = p.server.inboundLength;
      assert.is(p.server.feed(bytes(100, 1)), 0);
      assert.is(p.server.inboundLength, inBefore);
      assert.is(p.server.handshake(), 'failed');
      assert.equal(p.server.read(), { step: 'failed', data: null });
      assert.equal(p.server.write(utf8('x')), { step: 'failed', written: 0 });
      assert.is(p.server.flush(), 'failed');
      assert.is(p.server.close(), 'failed');
      assert.is(p.server.error, err, 'the first error stays');
      // what was queued (the server's flight, then the alert) can still be taken and delivered
      p.client.feed(drain(p.server));
      let c = p.client.handshake();
      if (c === 'done') c = p.client.read().step; // TLS 1.3: the alert follows the server's Finished
      assert.is(c, 'failed');
      assert.is(p.client.error?.fault, 'peer');
    }, {}, only(v));
  });
}

// ---- parking (idle connections release their record buffers) ---------------------------------

for (const v of VERSIONS) {
  test(`${v}: park() while idle frees the record buffers; traffic resumes byte-exact`, () => {
    withPair((p) => {
      assert.not.ok(p.client.park(), 'not during the handshake');
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      for (let round = 0; round < 3; round++) {
        const before = lib().heap().bytes;
        assert.ok(p.client.park());
        assert.ok(p.server.park());
        assert.ok(p.client.parked && p.server.parked);
        assert.not.ok(p.client.park(), 'already parked');
        assert.ok(before - lib().heap().bytes > 4 * 16 * 1024, 'four record buffers released');
        const up = bytes(20000 + round, round), down = bytes(30000, round + 10);
        assert.ok(equal(transfer(p.client, p.server, up), up));
        assert.not.ok(p.client.parked);
        assert.ok(equal(transfer(p.server, p.client, down), down));
      }
      assert.ok(p.client.park() && p.server.park());
      assert.is(p.client.close(), 'done');
      p.server.feed(drain(p.client));
      assert.is(p.server.read().step, 'closed');
    }, {}, only(v));
  });

  test(`${v}: park() refuses while ciphertext waits in either queue (nothing is dropped)`, () => {
    withPair((p) => {
      assert.equal(handshake(p), { client: 'done', server: 'done' });
      settle(p);
      const d = bytes(500, 1);
      p.client.write(d);
      // untaken output
      assert.not.ok(p.client.park());
      assert.ok(p.client.outboundLength > 0);
      p.server.feed(drain(p.client));
      // fed but unread input
      assert.not.ok(p.server.park());
      assert.ok(equal(readAll(p.server), d));
      assert.ok(p.server.park());
      // a started record waiting for its retry
      const big = bytes(5000, 2);
      const q = makePair({}, only(v), { servername: 'localhost', outboundLimit: 100 });
      try {
        assert.equal(handshake(q), { client: 'done', server: 'done' });
        settle(q);
        assert.is(q.client.write(big).step, 'want-write');
        q.server.feed(drain(q.client));
        assert.ok(q.client.hasPendingWrite);
        assert.not.ok(q.client.park());
        const got = concat([readAll(q.server), pushThrough(q.client, q.server, new Uint8Array(0), 100)]);
        assert.ok(equal(got, big));
      } finally {
        q.dispose();
      }
    }, {}, only(v));
  });
}

// ---- lifetimes ----------------------------------------------------------------------------------

/** `use` (called `name`) throws the typed local ERR_TLS_DISPOSED; `faultMessage` labels the fault check. */
function throwsDisposed(name: string, use: () => unknown, faultMessage?: string): void {
  try {
    use();
    assert.unreachable(name);
  } catch (e) {
    assert.instance(e, TlsError, name);
    assert.is((e as TlsError).code, 'ERR_TLS_DISPOSED', name);
    assert.is((e as TlsError).fault, 'local', faultMessage);
  }
}

test('dispose() twice is safe; any use afterwards throws ERR_TLS_DISPOSED', () => {
  const p = makePair();
  assert.equal(handshake(p), { client: 'done', server: 'done' });
  p.client.dispose();
  p.client.dispose();
  assert.ok(p.client.disposed);
  assert.is(p.client.state, 'closed');
  assert.is(p.client.protocol, null);
  assert.is(p.client.inboundLength, 0);
  assert.is(p.client.outboundLength, 0);
  const uses: Array<[string, () => unknown]> = [
    ['feed', () => p.client.feed(utf8('x'))],
    ['takeOutbound', () => p.client.takeOutbound()],
    ['handshake', () => p.client.handshake()],
    ['write', () => p.client.write(utf8('x'))],
    ['read', () => p.client.read()],
    ['close', () => p.client.close()],
    ['flush', () => p.client.flush()],
    ['useCertificates', () => p.client.useCertificates(p.serverConfig)],
    // the transport's EOF after dispose: a late 'end' event from a socket must not reach a
    // freed connection silently
    ['feedEnd', () => p.client.feedEnd()],
  ];
  for (const [name, use] of uses) throwsDisposed(name, use);
  // queries answer without throwing
  assert.is(p.client.session(), null);
  assert.ok(Array.isArray(p.client.peerCertificates()));
  assert.equal(p.client.peerCertificatesDer(), []);
  p.dispose();
  p.dispose();
  // a disposed config: making an engine from it, or adding an SNI context to it (which would
  // hand a freed config to the wasm side), throws the same typed error
  const configUses: Array<[string, () => unknown]> = [
    ['new TlsEngine', () => new TlsEngine(p.clientConfig)],
    ['addContext', () => p.serverConfig.addContext('other.test', pem.other())],
  ];
  for (const [name, use] of configUses) throwsDisposed(name, use, name);
});

test('using / Symbol.dispose frees engines and configs', () => {
  const base = heapAfterWarmup();
  {
    using sc = TlsConfig.server(pem.ecdsa());
    using cc = TlsConfig.client({ ca: pem.ca() });
    using s = new TlsEngine(sc);
    using c = new TlsEngine(cc, { servername: 'localhost' });
    const p = { client: c, server: s, clientConfig: cc, serverConfig: sc, dispose() {} };
    assert.equal(handshake(p), { client: 'done', server: 'done' });
  }
  assert.is(lib().heap().count, base);
});

function heapAfterWarmup(): number {
  const p = makePair();
  handshake(p);
  settle(p);
  transfer(p.client, p.server, bytes(20000, 1));
  p.dispose();
  return lib().heap().count;
}

test('a config disposed before its engines keeps working until they are disposed', () => {
  const base = heapAfterWarmup();
  const sc = TlsConfig.server(pem.ecdsa());
  const cc = TlsConfig.client({ ca: pem.ca() });
  const p1 = pairOn(sc, cc);
  sc.dispose();
  cc.dispose();
  assert.ok(sc.disposed);
  // the engines made before still work: handshake, data both ways, close
  assert.equal(handshake(p1), { client: 'done', server: 'done' });
  const d = bytes(50000, 3);
  assert.ok(equal(transfer(p1.client, p1.server, d), d));
  assert.ok(equal(transfer(p1.server, p1.client, d), d));
  assert.ok(p1.client.authorized);
  assert.ok(lib().heap().count > base);
  p1.client.dispose();
  assert.ok(lib().heap().count > base, 'the server config lives while its engine does');
  p1.server.dispose();
  assert.is(lib().heap().count, base, 'everything freed once the last engine is gone');
});

test.run();
