// The scheduler (pump) under scripted readiness: FaultTransport decides when bytes move, so every
// WANT_READ / WANT_WRITE happens where the test puts it. Assertions are on counters and bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Counters, type CounterValues } from '../src/scheduler/counters.js';
import { INBOUND_CAP } from '../src/scheduler/pump.js';
import { memoryPair } from '../src/transport/memory.js';
import { FaultTransport } from '../src/transport/fault.js';
import { bytes, equal, records } from './helpers/pair.js';
import { pumpPair, settle, text, until, type PumpPair, type Side } from './helpers/pumps.js';

const v = (s: Side) => s.pump.counters.snapshot();

function timers(): { Timeout: number; Immediate: number } {
  const all = process.getActiveResourcesInfo();
  return { Timeout: all.filter((r) => r === 'Timeout').length, Immediate: all.filter((r) => r === 'Immediate').length };
}

/**
 * An established pair whose server engine queues at most `outboundLimit` bytes of ciphertext,
 * and the server's transport then held: fault.holdOutbound(1).
 */
async function heldWriter(outboundLimit: number): Promise<PumpPair> {
  const p = pumpPair({ server: { engine: { outboundLimit } } });
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  p.server.fault.holdOutbound(1);
  return p;
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`seam WANT_READ (${version}): a response queued during the handshake goes out on inbound bytes`, async () => {
    const p = pumpPair({ server: { script: { holdInbound: true }, config: { maxVersion: version } } });
    const response = bytes(40000, 11);
    // The application answers at once, before the client's flights have arrived.
    p.server.pump.write(response);
    await settle();
    assert.is(v(p.server).plainOut, 0);
    assert.ok(p.server.fault.heldInbound > 0, 'the ClientHello is held');
    assert.is(p.server.pump.waiting().write, 'inbound', 'the queued write waits for inbound bytes');
    assert.is(p.server.pump.awaiting(), 'read');

    let releases = 0;
    let wroteOnRelease = -1;
    while (v(p.server).plainOut === 0 && releases < 10) {
      await until(() => p.server.fault.heldInbound > 0, 'a client flight reaches the server');
      const before = v(p.server).plainOut;
      p.server.fault.releaseInbound();
      releases++;
      // Synchronously inside the inbound event: the write ran because bytes arrived.
      if (v(p.server).plainOut > before) wroteOnRelease = releases;
      await settle();
    }
    assert.ok(wroteOnRelease > 0, 'the queued response was written inside an inbound-data event');
    p.server.fault.passInbound();
    await until(() => p.client.received().length === response.length, 'the response arrives');
    assert.ok(equal(p.client.received(), response), 'byte-exact');

    const s = v(p.server);
    assert.ok(s.wantRead > 0, 'WANT_READ was seen');
    assert.ok(s.retries > 0);
    assert.is(s.wantWrite, 0, 'nothing waited on drain');
    assert.is(p.server.fault.stats.drains, 0, 'no drain event was involved');
    assert.is(p.server.errors.length + p.client.errors.length, 0);
    p.dispose();
  });
}

test('seam WANT_WRITE: engine outbound at its limit and transport held → delivered on drain, byte-exact', async () => {
  const p = await heldWriter(2048);
  const data = bytes(100000, 3);
  const wantReadBefore = v(p.server).wantRead;
  p.server.pump.write(data);
  await settle();
  assert.ok(v(p.server).wantWrite > 0, 'mbedTLS reported WANT_WRITE');
  assert.is(p.server.pump.waiting().write, 'drain');
  assert.is(p.server.pump.awaiting(), 'write');
  assert.is(v(p.client).plainIn, 0, 'nothing reached the client yet');
  const stalled = v(p.server);
  await settle(200);
  assert.equal(v(p.server), stalled, 'no work while stalled');

  const outBefore = v(p.server).bytesOut;
  p.server.fault.releaseOutbound();
  assert.ok(v(p.server).bytesOut > outBefore, 'the retry ran inside the drain event');
  await until(() => p.client.received().length === data.length, 'all data arrives');
  assert.ok(equal(p.client.received(), data), 'byte-exact');
  assert.is(v(p.server).wantRead, wantReadBefore, 'no WANT_READ involved');
  assert.is(p.server.pump.queuedBytes, 0);
  p.dispose();
});

test('while the transport keeps up, records go out in batches of up to 64 KiB; once it backs up, one record per hand-over', async () => {
  const p = pumpPair({ capacity: 1 << 20 });
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  const writes = () => p.server.fault.stats.writes;
  const sizes: number[] = [];
  const wire = () => p.server.wire().length;
  // Keeping up: the first hand-over is a single record (nothing is known about the transport
  // yet), then up to three records (~48 KiB) per write.
  let w0 = writes(), b0 = wire();
  const data = bytes(300000, 21);   // 19 records
  p.server.pump.write(data);
  await until(() => p.client.received().length === data.length, 'all data');
  assert.ok(equal(p.client.received(), data), 'byte-exact');
  const batches = writes() - w0;
  assert.ok(batches >= 2 && batches <= 8, `${batches} hand-overs for 19 records`);
  assert.ok(wire() - b0 <= batches * 64 * 1024, 'no hand-over above 64 KiB');

  // Backed up: the transport takes one batch and reports full; the rest of the data waits in
  // the queue (not in the engine, not in the transport).
  p.server.fault.holdOutbound(1);
  w0 = writes(); b0 = wire();
  const more = bytes(300000, 22);
  p.server.pump.write(more);
  await settle();
  assert.is(writes() - w0, 1, 'one hand-over, then it waits for the drain');
  const held = p.server.fault.heldOutbound;
  assert.ok(held > 16384 && held <= 64 * 1024, `held ${held}: one batch`);
  assert.ok(p.server.pump.queuedBytes >= 300000 - 3 * 16383, `queued ${p.server.pump.queuedBytes}`);
  assert.is(p.server.engine.outboundLength, 0, 'nothing encrypted ahead into the engine');
  // Each drain while it stays backed up moves one record.
  for (let i = 0; i < 3; i++) {
    const before = writes();
    p.server.fault.releaseOutbound(true);
    await settle();
    assert.is(writes() - before, 1, `drain ${i}: one hand-over`);
    sizes.push(p.server.fault.heldOutbound);
  }
  assert.ok(sizes.every((n) => n > 16383 && n < 16384 + 64), `one record each: ${sizes.join(', ')}`);
  p.server.fault.releaseOutbound();
  await until(() => p.client.received().length === data.length + more.length, 'the rest arrives');
  assert.ok(equal(p.client.received().subarray(data.length), more), 'byte-exact');
  p.dispose();
});

test('transport full with the engine emptied: the queue resumes on the transport drain', async () => {
  // The engine hands everything over, then the transport reports full: no ciphertext is left in
  // the engine, so only the transport's drain can restart the queue.
  const p = pumpPair();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  p.server.fault.holdOutbound(20000);
  const data = bytes(200000, 5);
  p.server.pump.write(data);
  await settle();
  assert.ok(p.server.pump.queuedBytes > 0, 'data still queued');
  assert.is(p.server.pump.waiting().write, 'drain');
  assert.is(p.server.engine.outboundLength, 0, 'the engine holds no ciphertext');
  p.server.fault.releaseOutbound();
  await until(() => p.client.received().length === data.length, 'all data arrives');
  assert.ok(equal(p.client.received(), data));
  p.dispose();
});

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`greeting before the handshake completes (${version}): server speaks first, client waits for it`, async () => {
    const p = pumpPair({ server: { config: { maxVersion: version } } });
    // SMTP/FTP style: the server greets as soon as the connection exists.
    p.server.pump.write(text('220 mail.example.test ESMTP ready\r\n'));
    await until(() => p.client.text().endsWith('\r\n'), 'greeting');
    assert.is(p.client.text(), '220 mail.example.test ESMTP ready\r\n');
    assert.is(v(p.client).plainOut, 0, 'the client sent nothing before the greeting');
    p.client.pump.write(text('EHLO client\r\n'));
    await until(() => p.server.text() === 'EHLO client\r\n', 'command');
    p.server.pump.write(text('250 ok\r\n'));
    await until(() => p.client.text().endsWith('250 ok\r\n'), 'reply');
    p.dispose();
  });
}

for (const size of [1000, 150000]) test(`close_notify is not lost when the transport is full at end() (${size} bytes queued)`, async () => {
  const p = pumpPair();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  p.server.fault.holdOutbound(1);
  const data = bytes(size, 9);
  p.server.pump.write(data);
  let ended: Error | undefined | 'pending' = 'pending';
  p.server.pump.end((err) => { ended = err; });
  await settle(100);
  assert.is(ended, 'pending', 'end() settles only once everything is handed over');
  p.server.fault.releaseOutbound();
  await until(() => p.client.peerEnded, 'client sees the end');
  assert.ok(equal(p.client.received(), data), 'all data before the end');
  assert.ok(p.client.engine.peerClosed, 'the end was a close_notify, not a bare FIN');
  await until(() => ended !== 'pending', 'end callback');
  assert.is(ended, undefined);
  p.dispose();
});

test('TLS 1.3 ticket arriving while a client write is part-flushed: no failure, no duplicate record', async () => {
  // The client's Finished is out when onSecure runs; hold what comes next (the server's
  // NewSessionTicket) and the client's own output, then start a large write: it blocks on
  // WANT_WRITE with a record part-way through.
  const p = pumpPair({
    client: {
      engine: { outboundLimit: 512 },
      onSecure: (side) => { side.fault.holdInbound(); side.fault.holdOutbound(1); },
    },
  });
  await until(() => p.client.secure, 'client secure');
  const data = bytes(200000, 31);
  p.client.pump.write(data);
  await until(() => p.client.fault.heldInbound > 0, 'the ticket reaches the client');
  await settle(50);
  assert.ok(p.client.engine.hasPendingWrite, 'a record is part-way through');
  assert.is(p.client.pump.waiting().write, 'drain');
  // The ticket arrives first, then the transport drains.
  p.client.fault.passInbound();
  await settle(50);
  p.client.fault.releaseOutbound();
  await until(() => p.server.received().length >= data.length || p.client.errors.length > 0 || p.server.errors.length > 0, 'data arrives');
  await settle(50);
  assert.equal(p.client.errors.map(String), [], 'client failed');
  assert.equal(p.server.errors.map(String), [], 'server failed');
  assert.ok(equal(p.server.received(), data), 'byte-exact, nothing sent twice');
  assert.ok(p.client.log.includes('session'), 'the ticket was processed');
  p.dispose();
});

test('reading paused: inbound stops, resumes on resumeReading, nothing lost', async () => {
  const p = pumpPair();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  p.server.accept = false; // the application's buffer is full after the first chunk
  const data = bytes(300000, 13);
  p.client.pump.write(data);
  await until(() => p.server.chunks.length === 1, 'first chunk');
  // The pause is the transport's, not only the pump's: no more bytes cross it or reach the
  // engine, so the sender's data waits where it came from (the client's queue and transport).
  const delivered = p.server.fault.stats.bytesDelivered;
  const inbound = p.server.engine.inboundLength;
  await settle(200);
  assert.is(p.server.chunks.length, 1, 'delivery paused');
  assert.is(p.server.pump.waiting().read, 'paused');
  assert.is(p.server.fault.stats.bytesDelivered, delivered, 'no bytes delivered while paused');
  assert.is(p.server.engine.inboundLength, inbound, 'nothing fed to the engine while paused');
  assert.ok(delivered < data.length, 'most of the data is still with the sender');
  p.server.accept = true;
  p.server.pump.resumeReading();
  await until(() => p.server.received().length === data.length, 'the rest arrives');
  assert.ok(equal(p.server.received(), data));
  p.dispose();
});

test('no spin: 1-byte delivery both ways, each connection alone >10,000 consecutive WANT_READ, ops bounded by its events', async () => {
  const p = pumpPair({ server: { script: { inboundChunk: 1 } }, client: { script: { inboundChunk: 1 } } });
  await until(() => p.server.secure && p.client.secure, 'handshake', 1_000_000);
  await settle();
  const s0 = v(p.server), c0 = v(p.client);
  // Each direction is one record (< 16 KiB) arriving one byte per event: every read before its
  // last byte is a WANT_READ, with no successful read in between (one chunk delivered).
  const up = bytes(12000, 21), down = bytes(12000, 22);
  p.client.pump.write(up);
  p.server.pump.write(down);
  await until(() => p.server.received().length === up.length && p.client.received().length === down.length, 'all data', 1_000_000);
  assert.ok(equal(p.server.received(), up));
  assert.ok(equal(p.client.received(), down));
  for (const [name, side, base] of [['server', p.server, s0], ['client', p.client, c0]] as const) {
    const now = v(side);
    const d = (k: keyof CounterValues) => now[k] - base[k];
    assert.is(side.chunks.length, 1, `${name}: the record was read once, after ${d('wantRead')} WANT_READs`);
    assert.ok(d('wantRead') >= 10000, `${name} consecutive WANT_READs: ${d('wantRead')}`);
    // One engine operation per readiness event, plus a constant (the write, the last read).
    assert.ok(d('ops') <= d('events') + 5, `${name} ops ${d('ops')} vs events ${d('events')}`);
    assert.ok(d('ops') <= d('readiness') + 5, `${name} ops ${d('ops')} vs readiness ${d('readiness')}`);
    assert.ok(d('retries') <= d('events'), `${name} retries ${d('retries')} vs events ${d('events')}`);
  }
  p.dispose();
});

test('no spin: 2,000 one-step releases of a held transport → WANT_WRITE each time, ops bounded', async () => {
  const p = await heldWriter(512);
  const data = bytes(2000 * 512, 23);
  p.server.pump.write(data);
  await settle();
  const before = v(p.server);
  const drainsBefore = p.server.fault.stats.drains;
  let cycles = 0;
  while (p.client.received().length < data.length && cycles < 20000) {
    // Let exactly what is held through, and keep holding: one drain per cycle.
    p.server.fault.releaseOutbound(true);
    await settle(3);
    cycles++;
  }
  assert.ok(equal(p.client.received(), data), 'byte-exact');
  const after = v(p.server);
  const d = (k: keyof typeof after) => after[k] - before[k];
  assert.ok(d('wantWrite') >= 2000, `WANT_WRITEs: ${d('wantWrite')}`);
  assert.ok(cycles >= 2000, `cycles ${cycles}`);
  // Each cycle is one drain event; the engine runs once per readiness advance (the drain, and
  // the ciphertext it then hands to the transport), never more.
  assert.ok(d('ops') <= d('readiness') + 10, `ops ${d('ops')} vs readiness ${d('readiness')}`);
  assert.ok(d('ops') <= 2 * d('events') + 10, `ops ${d('ops')} vs events ${d('events')}`);
  assert.ok(d('events') <= p.server.fault.stats.drains - drainsBefore + 5, 'the events were the drains');
  p.dispose();
});

test('stalled on WANT for 2 s: counters frozen, no timers but the handshake timer', async () => {
  const base = timers();
  const p = pumpPair({ server: { pump: { handshakeTimeout: 60000 }, script: { holdInbound: true } } });
  await settle();
  // Stalled in the handshake (ClientHello held): the handshake timer is the only timer.
  assert.is(p.server.pump.awaiting(), 'read');
  assert.equal(timers(), { Timeout: base.Timeout + 1, Immediate: base.Immediate });
  p.server.fault.passInbound();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  assert.equal(timers(), base, 'handshake timer cleared');

  // Stall both directions: the server's write on WANT_WRITE, the client's read on WANT_READ.
  p.server.fault.holdOutbound(1);
  p.server.pump.write(bytes(500000, 1));
  p.client.fault.holdInbound();
  await settle(50);
  assert.is(p.server.pump.awaiting(), 'write');
  assert.is(p.client.pump.waiting().read, 'inbound');
  assert.equal(timers(), base, 'no timer armed while stalled');
  const s0 = v(p.server), c0 = v(p.client);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(v(p.server), s0, 'server did nothing during the stall');
  assert.equal(v(p.client), c0, 'client did nothing during the stall');
  p.server.fault.releaseOutbound();
  p.client.fault.passInbound();
  await until(() => p.client.received().length === 500000, 'stall resolved');
  p.dispose();
  await settle();
  assert.equal(timers(), base);
});

test('handshake timeout: the one timer fires once and fails the connection', async () => {
  const p = pumpPair({ server: { pump: { handshakeTimeout: 50 }, script: { holdInbound: true } } });
  await new Promise((r) => setTimeout(r, 120));
  assert.is(p.server.errors.length, 1);
  assert.is((p.server.errors[0] as { code?: string }).code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
  await until(() => p.server.closed, 'closed');
  p.dispose();
});

test('destroy releases the engine', async () => {
  const p = pumpPair();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  p.client.pump.destroy();
  await until(() => p.client.closed && p.server.closed, 'both closed');
  assert.ok(p.client.engine.disposed && p.server.engine.disposed);
  p.dispose();
});

test('counters of a server add up: the parent is the sum of its connections, queuedBytes rises and returns to 0', async () => {
  const parent = new Counters();
  const pairs = [0, 1, 2].map(() => pumpPair({ server: { pump: { parentCounters: parent } } }));
  const sums = () => {
    const out = {} as Record<keyof CounterValues, number>;
    for (const k of Object.keys(parent.values) as Array<keyof CounterValues>) out[k] = pairs.reduce((n, p) => n + v(p.server)[k], 0);
    return out;
  };
  await until(() => pairs.every((p) => p.server.secure && p.client.secure), 'handshakes');
  await settle();
  assert.equal(parent.snapshot(), sums(), 'after the handshakes');
  assert.ok(parent.values.ops > 0 && parent.values.bytesIn > 0 && parent.values.bytesOut > 0);

  const sizes = [50000, 60000, 70000];
  pairs.forEach((p, i) => { p.server.fault.holdOutbound(1); p.server.pump.write(bytes(sizes[i]!, 50 + i)); });
  assert.is(parent.values.queuedBytes, 180000, 'every queued byte counts');
  await settle();
  // One record each went to the held transports; the rest waits in the queues.
  assert.equal(parent.snapshot(), sums(), 'while stalled');
  assert.ok(parent.values.queuedBytes > 0 && parent.values.queuedBytes < 180000, `queued ${parent.values.queuedBytes}`);

  for (const p of pairs) p.server.fault.releaseOutbound();
  await until(() => pairs.every((p, i) => p.client.received().length === sizes[i]), 'all data');
  await settle();
  assert.is(parent.values.queuedBytes, 0, 'back to 0');
  assert.equal(parent.snapshot(), sums(), 'after the data');
  assert.is(parent.values.plainOut, 180000);

  // A connection destroyed with data queued takes its share with it (more than the batch of
  // records a transport that was keeping up takes before it reports full).
  pairs[0]!.server.fault.holdOutbound(1);
  pairs[0]!.server.pump.write(bytes(100000, 9));
  await settle();
  assert.ok(parent.values.queuedBytes > 0);
  pairs[0]!.server.pump.destroy();
  assert.is(parent.values.queuedBytes, 0, 'the destroyed connection\'s queue is gone');
  assert.equal(parent.snapshot(), sums(), 'after a destroy');
  for (const p of pairs) p.dispose();
});

// ---- inbound stays bounded ---------------------------------------------------------------------

/** Waits for `cond`, sampling the largest inbound queue either engine of `p` held meanwhile. */
async function peakInbound(p: PumpPair, cond: () => boolean, what: string, rounds = 1_000_000): Promise<number> {
  let peak = 0;
  const sample = () => Math.max(p.server.engine.disposed ? 0 : p.server.engine.inboundLength, p.client.engine.disposed ? 0 : p.client.engine.inboundLength);
  await until(() => { peak = Math.max(peak, sample()); return cond(); }, what, rounds);
  return peak;
}

test('a peer that keeps sending while our write waits for drain: inbound stays bounded, reading goes on', async () => {
  // The server's response is stuck half-written (a tiny engine limit, a held transport) and the
  // client floods: the server must neither buffer the flood in the engine unread nor stop
  // reading it (see the next test for why stopping is no answer).
  const p = await heldWriter(1024);
  const response = bytes(200000, 41);
  p.server.pump.write(response);
  await settle();
  assert.ok(p.server.engine.hasPendingWrite, 'a record is part-way through');
  assert.is(p.server.pump.waiting().write, 'drain');
  const flood = bytes(4 * 1024 * 1024, 42);
  p.client.pump.write(flood);
  const held = p.server.fault.heldOutbound;
  const peak = await peakInbound(p, () => p.server.received().length === flood.length, 'the flood is read');
  assert.ok(peak < 256 * 1024, `server inbound peaked at ${peak} bytes`);
  assert.ok(equal(p.server.received(), flood), 'byte-exact');
  // Reading finished the half-written record into the full transport, and nothing more.
  assert.ok(p.server.fault.heldOutbound - held <= 16384 + 1024 + 256, `over-committed ${p.server.fault.heldOutbound - held} bytes`);
  assert.is(p.server.pump.waiting().write, 'drain', 'the rest of the response waits for the drain');
  p.server.fault.releaseOutbound();
  await until(() => p.client.received().length === response.length, 'the response arrives', 1_000_000);
  assert.ok(equal(p.client.received(), response), 'byte-exact, nothing sent twice');
  assert.equal([...p.server.errors, ...p.client.errors].map(String), []);
  p.dispose();
});

test('both peers send in bulk with tiny engine limits: no deadlock, inbound bounded on both', async () => {
  // Each side's write waits for the other to read. A pump that stopped reading while its own
  // record waits for drain would deadlock here; one that buffered instead would hold megabytes.
  const p = pumpPair({ server: { engine: { outboundLimit: 700 } }, client: { engine: { outboundLimit: 700 } } });
  await until(() => p.server.secure && p.client.secure, 'handshake');
  const up = bytes(3_000_000, 43), down = bytes(3_000_000, 44);
  p.client.pump.write(up);
  p.server.pump.write(down);
  const peak = await peakInbound(p, () => p.server.received().length === up.length && p.client.received().length === down.length, 'both directions complete', 2_000_000);
  assert.ok(peak < 256 * 1024, `inbound peaked at ${peak} bytes`);
  assert.ok(equal(p.server.received(), up) && equal(p.client.received(), down), 'byte-exact');
  assert.ok(v(p.server).wantWrite > 0 && v(p.client).wantWrite > 0, 'both sides hit their engine limit');
  assert.equal([...p.server.errors, ...p.client.errors].map(String), []);
  p.dispose();
});

test('a flood while the SNI callback runs: the transport pauses at the cap, resumes when it settles', async () => {
  let resolve!: (cfg: null) => void;
  const p = pumpPair({ server: { pump: { sniResolver: () => new Promise((r) => { resolve = r; }) } } });
  await until(() => resolve !== undefined, 'the resolver is called with the ClientHello');
  // Not TLS: 4 MiB of 0xff, written past the transport's backpressure.
  const junk = new Uint8Array(64 * 1024).fill(0xff);
  for (let i = 0; i < 64; i++) p.client.fault.write(junk);
  await settle(2000);
  assert.ok(p.server.engine.inboundLength <= INBOUND_CAP, `inbound ${p.server.engine.inboundLength}`);
  assert.ok(p.server.fault.stats.bytesDelivered < 512 * 1024, `delivered ${p.server.fault.stats.bytesDelivered}`);
  assert.is(p.server.errors.length, 0, 'nothing has looked at the junk yet');
  resolve(null);
  // The handshake goes on, reads what waited, and rejects it: the inbound flow came back.
  await until(() => p.server.errors.length > 0, 'the junk is read');
  assert.is((p.server.errors[0] as { code?: string }).code, 'ERR_TLS_INVALID_RECORD');
  p.dispose();
});

test('bytes after the peer\'s close_notify are discarded, not buffered', async () => {
  const p = pumpPair();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  // Hold the server's close_notify so that raw bytes can be queued behind it, then let both go.
  p.server.fault.holdOutbound(1 << 30);
  p.server.pump.end();
  await settle();
  p.server.fault.write(new Uint8Array(50000).fill(0x17));
  p.server.fault.releaseOutbound();
  await until(() => p.client.peerEnded, 'the client sees close_notify');
  await settle(100);
  assert.ok(p.client.engine.peerClosed);
  assert.is(p.client.engine.inboundLength, 0, 'nothing left in the engine');
  assert.is(p.client.errors.length, 0, 'ignored, not an error');
  p.dispose();
});

// ---- write coalescing ----------------------------------------------------------------------------

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`writes in one tick coalesce (${version}): two writes go out as one application-data record`, async () => {
    const p = pumpPair({ server: { config: { maxVersion: version } } });
    await until(() => p.server.secure && p.client.secure, 'handshake');
    await settle();
    const from = p.server.wire().length;
    p.server.pump.write(text('hello, '));
    p.server.pump.write(text('world'));
    await until(() => p.client.text() === 'hello, world', 'data');
    const sent = p.server.wire().subarray(from);
    const recs = records(sent);
    assert.equal(recs.map((r) => r.type), [23], 'exactly one application-data record');
    assert.is(recs[0]!.length, sent.length, 'and nothing else');
    assert.is(p.client.chunks.length, 1, 'read in one piece');
    // A write in a later tick is a record of its own.
    p.server.pump.write(text('!'));
    await until(() => p.client.text() === 'hello, world!', 'more data');
    assert.equal(records(p.server.wire().subarray(from)).map((r) => r.type), [23, 23]);
    p.dispose();
  });
}

/** Like a node Buffer (and in browsers too): slice() is a view of the same memory, not a copy. */
class ViewSlicing extends Uint8Array {
  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> { return this.subarray(start, end) as Uint8Array<ArrayBuffer>; }
}

test('the memory and fault transports keep what write() was given: a Buffer reused right after is delivered as written', async () => {
  for (const hold of [false, true]) {
    const [a, b] = memoryPair();
    const sender = hold ? new FaultTransport(a) : a;
    const got: Uint8Array[] = [];
    sender.attach({ onData: () => {}, onEnd: () => {}, onDrain: () => {}, onClose: () => {} });
    b.attach({ onData: (d) => got.push(d), onEnd: () => {}, onDrain: () => {}, onClose: () => {} });
    if (hold) (sender as FaultTransport).holdOutbound(1);
    const buf = new ViewSlicing(new TextEncoder().encode('first write'));
    sender.write(buf);
    buf.fill(0x2a);   // node's contract lets the caller reuse its buffer once write() returned
    if (hold) (sender as FaultTransport).releaseOutbound();
    await until(() => got.length > 0, 'delivery');
    assert.is(got.map((d) => new TextDecoder().decode(d)).join(''), 'first write', hold ? 'held by the fault transport' : 'memory transport');
  }
});

test.run();
