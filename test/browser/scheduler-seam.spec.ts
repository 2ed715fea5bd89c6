// The scheduler's two guarantees, in the browser's event loop, from the public core API only
// (Pump, FaultTransport, memoryPair): a write blocked on WANT_READ goes out when bytes arrive
// (not on "writable"), and a stalled connection does no work at all until its peer acts.
// test/scheduler.test.ts covers this at length and runs here too when browser-clean; this spec
// is the floor that stays whatever that file comes to import.
import '../helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FaultTransport, memoryPair, Pump, TlsConfig, TlsEngine, type CounterValues, type FaultScript, type PumpHost } from '../../src/core.js';
import { fixture } from '../helpers/fixtures.js';

interface End { pump: Pump; fault: FaultTransport; got: Uint8Array[]; secure: boolean; errors: Error[]; bytes(): number }

function end(engine: TlsEngine, fault: FaultTransport): End {
  const e = { fault, got: [], secure: false, errors: [], bytes: () => e.got.reduce((n, c) => n + c.length, 0) } as unknown as End;
  const host: PumpHost = {
    onSecure: () => { e.secure = true; },
    onPlaintext: (d) => { e.got.push(d); return true; },
    onPeerEnd: () => {},
    onEngineEvent: () => {},
    onQueueBelowHighWater: () => {},
    onError: (err) => { e.errors.push(err); e.pump.destroy(err); },
    onClose: () => {},
  };
  e.pump = new Pump(engine, fault, host);
  return e;
}

function pair(version: 'TLSv1.2' | 'TLSv1.3', server: FaultScript = {}, client: FaultScript = {}) {
  const sc = TlsConfig.server({ key: fixture('server-ecdsa.key'), cert: fixture('server-ecdsa.crt'), maxVersion: version });
  const cc = TlsConfig.client({ ca: fixture('ca-ecdsa.crt'), minVersion: version, maxVersion: version });
  const [a, b] = memoryPair();
  const s = end(new TlsEngine(sc), new FaultTransport(b, server));
  const c = end(new TlsEngine(cc, { servername: 'localhost' }), new FaultTransport(a, client));
  return { s, c, dispose() { c.pump.destroy(); s.pump.destroy(); sc.dispose(); cc.dispose(); } };
}

function data(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100000; i++) {
    if (cond()) return;
    await Promise.resolve();
  }
  throw new Error(`never happened: ${what}`);
}

const settle = async () => { for (let i = 0; i < 50; i++) await Promise.resolve(); };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const same = (x: CounterValues, y: CounterValues) => JSON.stringify(x) === JSON.stringify(y);

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`seam (${version}): a response queued while the handshake waits for inbound bytes goes out when they arrive`, async () => {
    const p = pair(version, { holdInbound: true });
    const response = data(40000);
    p.s.pump.write(response);
    await settle();
    assert.is(p.s.pump.counters.values.plainOut, 0);
    assert.is(p.s.pump.waiting().write, 'inbound', 'the queued write waits on inbound bytes');
    const drains = p.s.fault.stats.drains;
    p.s.fault.passInbound();
    await until(() => p.c.bytes() === response.length, 'the response arrives');
    assert.is(p.s.fault.stats.drains, drains, 'released by inbound bytes: no drain was involved');
    const got = new Uint8Array(response.length);
    let off = 0;
    for (const c of p.c.got) { got.set(c, off); off += c.length; }
    assert.equal(got, response);
    assert.equal(p.s.errors, []);
    p.dispose();
  });
}

test('no spin: stalled on WANT_WRITE and WANT_READ for 500 ms, neither side does any work', async () => {
  const p = pair('TLSv1.3');
  await until(() => p.s.secure && p.c.secure, 'handshake');
  p.s.fault.holdOutbound(1);
  p.c.fault.holdInbound();
  p.s.pump.write(data(300000));
  await settle();
  assert.is(p.s.pump.awaiting(), 'write');
  assert.is(p.c.pump.waiting().read, 'inbound');
  const s0 = p.s.pump.counters.snapshot(), c0 = p.c.pump.counters.snapshot();
  await sleep(500);
  assert.ok(same(p.s.pump.counters.snapshot(), s0), 'server counters frozen');
  assert.ok(same(p.c.pump.counters.snapshot(), c0), 'client counters frozen');
  p.s.fault.releaseOutbound();
  p.c.fault.passInbound();
  await until(() => p.c.bytes() === 300000, 'the stall resolves');
  const s1 = p.s.pump.counters.snapshot();
  assert.ok(s1.ops - s0.ops <= 2 * (s1.events - s0.events) + 10, `ops ${s1.ops - s0.ops} bounded by events ${s1.events - s0.events}`);
  p.dispose();
});

test.run();
