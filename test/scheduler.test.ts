// The scheduler (pump) under scripted readiness: FaultTransport decides when bytes move, so every
// WANT_READ / WANT_WRITE happens where the test puts it. Assertions are on counters and bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bytes, equal } from './helpers/pair.js';
import { pumpPair, settle, text, until, type Side } from './helpers/pumps.js';

const v = (s: Side) => s.pump.counters.snapshot();

function timers(): { Timeout: number; Immediate: number } {
  const all = process.getActiveResourcesInfo();
  return { Timeout: all.filter((r) => r === 'Timeout').length, Immediate: all.filter((r) => r === 'Immediate').length };
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
  const p = pumpPair({ server: { engine: { outboundLimit: 2048 } } });
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  p.server.fault.holdOutbound(1);
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
  await settle(200);
  assert.is(p.server.chunks.length, 1, 'delivery paused');
  assert.is(p.server.pump.waiting().read, 'paused');
  p.server.accept = true;
  p.server.pump.resumeReading();
  await until(() => p.server.received().length === data.length, 'the rest arrives');
  assert.ok(equal(p.server.received(), data));
  p.dispose();
});

test('no spin: 1-byte delivery both ways, >10,000 WANT_READ, ops bounded by events', async () => {
  const p = pumpPair({ server: { script: { inboundChunk: 1 } }, client: { script: { inboundChunk: 1 } } });
  const up = bytes(12000, 21), down = bytes(9000, 22);
  p.client.pump.write(up);
  p.server.pump.write(down);
  await until(() => p.server.received().length === up.length && p.client.received().length === down.length, 'all data', 1_000_000);
  assert.ok(equal(p.server.received(), up));
  assert.ok(equal(p.client.received(), down));
  const s = v(p.server), c = v(p.client);
  assert.ok(s.wantRead + c.wantRead >= 10000, `consecutive WANT_READs: ${s.wantRead + c.wantRead}`);
  // One engine operation per readiness event, plus a constant (start-up, handshake completion).
  assert.ok(s.ops <= s.events + 10, `server ops ${s.ops} vs events ${s.events}`);
  assert.ok(c.ops <= c.events + 10, `client ops ${c.ops} vs events ${c.events}`);
  assert.ok(s.ops <= s.readiness + 10 && c.ops <= c.readiness + 10, 'ops bounded by readiness advances');
  assert.ok(s.retries <= s.events && c.retries <= c.events);
  p.dispose();
});

test('no spin: 2,000 one-step releases of a held transport → WANT_WRITE each time, ops bounded', async () => {
  const p = pumpPair({ server: { engine: { outboundLimit: 512 } } });
  await until(() => p.server.secure && p.client.secure, 'handshake');
  await settle();
  const data = bytes(2000 * 512, 23);
  p.server.fault.holdOutbound(1);
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

test('destroy releases the engine; counters of a server add up', async () => {
  const p = pumpPair();
  await until(() => p.server.secure && p.client.secure, 'handshake');
  p.client.pump.destroy();
  await until(() => p.client.closed && p.server.closed, 'both closed');
  assert.ok(p.client.engine.disposed && p.server.engine.disposed);
  p.dispose();
});

test.run();
