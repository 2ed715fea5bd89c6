/**
 * Loopback benchmarks (issue "The event loop"): client and server in separate processes, as
 * users run them; ours (our client → our server) against node:tls (node → node) in one run.
 *
 * Bulk transfer runs first, in processes that do nothing else, then memory, the stall and the
 * handshake rates in a second pair of processes per implementation. Kept apart because a process
 * that has just made thousands of handshakes can receive bulk data several times slower, from
 * glibc's allocator rather than from TLS: as the garbage collector frees buffers in bursts, glibc
 * trims the top of its heap and the next reads fault it back in (seen here after 3,000
 * handshakes: 165 MB/s with 33,000-55,000 page faults per 256 MiB; 430-480 MB/s and none with
 * glibc.malloc.trim_threshold raised; node:tls meets it too, less: 1,000-10,000 faults). A fresh
 * process no longer does: see READ_BATCH in src/engine/tls-engine.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Row } from './engine.js';

const peerPath = fileURLToPath(new URL('./loopback-peer.ts', import.meta.url));

interface Peer { child: ChildProcess; ask<T>(msg: object): Promise<T> }

const BULK_BYTES = (quick: boolean) => (quick ? 64 << 20 : 256 << 20);

function spawnPeer(role: 'server' | 'client', impl: 'ours' | 'node'): Promise<{ peer: Peer; first: Record<string, unknown> }> {
  const child = fork(peerPath, [role, impl], { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue: Array<(m: unknown) => void> = [];
  child.on('message', (m) => queue.shift()?.(m));
  const peer: Peer = {
    child,
    ask: <T>(msg: object) => new Promise<T>((resolve) => { queue.push(resolve as (m: unknown) => void); child.send(msg); }),
  };
  return new Promise((resolve) => { queue.push((m) => resolve({ peer, first: m as Record<string, unknown> })); });
}

async function spawnPair(impl: 'ours' | 'node') {
  const { peer: server, first } = await spawnPeer('server', impl);
  const port = first.port as number;
  const { peer: client } = await spawnPeer('client', impl);
  const exit = () => { client.child.send({ cmd: 'exit' }); server.child.send({ cmd: 'exit' }); };
  return { impl, server, client, port, exit };
}

async function measure(impl: 'ours' | 'node', quick: boolean) {
  const { server, client, port, exit } = await spawnPair(impl);
  const n = quick ? 300 : 1000;
  // Memory first, on a fresh server: warm up (first-use allocations), then hold n idle connections.
  await client.ask({ cmd: 'hold', port, count: 50, mode: 'i' });
  await client.ask({ cmd: 'release' });
  await new Promise((r) => setTimeout(r, 300));
  const mem0 = await server.ask<{ rss: number }>({ cmd: 'mem' });
  await client.ask({ cmd: 'hold', port, count: n, mode: 'i' });
  await new Promise((r) => setTimeout(r, 500));
  const mem1 = await server.ask<{ rss: number; sockets: number }>({ cmd: 'mem' });
  await client.ask({ cmd: 'release' });
  // CPU while n established connections stall on WANT (server blocked writing to readers that never read)
  await client.ask({ cmd: 'hold', port, count: n, mode: 's' });
  await new Promise((r) => setTimeout(r, 1000));
  // Collect the garbage of setting up n connections first (the 'mem' command runs gc()):
  // otherwise V8's memory reducer may run a full GC inside the window, now and then, in either
  // implementation (seen: 0.6 ms in most runs, 54 ms in one), which measures the setup, not the stall.
  await server.ask({ cmd: 'mem' });
  const cpu0 = (await server.ask<{ cpu: number }>({ cmd: 'cpu' })).cpu;
  await new Promise((r) => setTimeout(r, quick ? 3000 : 10000));
  const cpu1 = (await server.ask<{ cpu: number }>({ cmd: 'cpu' })).cpu;
  await client.ask({ cmd: 'release' });

  const ms = quick ? 2000 : 5000;
  const hs13 = (await client.ask<{ rate: number }>({ cmd: 'handshakes', port, ms, version: 'TLSv1.3' })).rate;
  const hs12 = (await client.ask<{ rate: number }>({ cmd: 'handshakes', port, ms, version: 'TLSv1.2' })).rate;
  exit();
  return { hs13, hs12, memPerConn: (mem1.rss - mem0.rss) / Math.max(1, mem1.sockets), stallCpu: cpu1 - cpu0, held: n };
}

interface BulkResult { mbps: number; cpuMs: number; cipher: string }

/** One bulk transfer on a new connection: throughput, and the CPU both processes spent on it. */
async function bulkOnce(p: Awaited<ReturnType<typeof spawnPair>>, bytes: number): Promise<BulkResult> {
  const s0 = await p.server.ask<{ cpu: number; faults: number }>({ cmd: 'cpu' });
  const r = await p.client.ask<{ mbps: number; cpu: number; faults: number; cipher: string }>({ cmd: 'bulk', port: p.port, bytes });
  const s1 = await p.server.ask<{ cpu: number; faults: number }>({ cmd: 'cpu' });
  if (process.env.BULK_DEBUG) console.log(`  ${p.impl} ${r.mbps.toFixed(0)} MB/s, client ${(r.cpu * 1000).toFixed(0)} ms ${r.faults} faults, server ${((s1.cpu - s0.cpu) * 1000).toFixed(0)} ms ${s1.faults - s0.faults} faults`);
  return { mbps: r.mbps, cpuMs: (r.cpu + s1.cpu - s0.cpu) * 1000, cipher: r.cipher };
}

/**
 * Bulk rounds alternate between the two implementations, so a noisy moment on this shared
 * machine hits both alike (node:tls's single runs varied by 30-40%), and each keeps its best
 * round. Two things decide a process's round more than its code does, and are fixed when it
 * starts, so each implementation runs in `sets` fresh pairs of processes, one after the other:
 *  - which vCPU it lands on: here one of the two runs compute-heavy code about a third slower
 *    than the other (a busy hyperthread sibling on the host, presumably: ChaCha20-Poly1305 at
 *    0.66-0.71 GB/s against 1.0-1.05 pinned to one or the other);
 *  - whether glibc's heap top keeps being trimmed and faulted back in (see the top of the file).
 * The first `warm` rounds of each set are warm-up, reported apart: a fresh process pays for
 * growing its heaps for its first few hundred MB, ours longer than node:tls (seen: ~3 rounds of
 * 256 MiB against 1), which is start-up cost, not throughput. BULK_DEBUG=1 prints every round
 * with each side's CPU time and page faults.
 */
export async function bulkRounds(warm: number, rounds: number, bytes: number, sets = 1) {
  const all = { ours: [] as BulkResult[], node: [] as BulkResult[] };
  const first = { ours: 0, node: 0 };
  for (let set = 0; set < sets; set++) {
    const o = await spawnPair('ours'), n = await spawnPair('node');
    for (let i = 0; i < warm + rounds; i++) {
      const a = await bulkOnce(o, bytes), b = await bulkOnce(n, bytes);
      if (set === 0 && i === 0) { first.ours = a.mbps; first.node = b.mbps; }
      if (i < warm) continue;
      all.ours.push(a);
      all.node.push(b);
    }
    o.exit();
    n.exit();
  }
  const best = (rs: BulkResult[]) => rs.reduce((b, r) => (r.mbps > b.mbps ? r : b));
  const median = (rs: BulkResult[]) => [...rs].sort((x, y) => x.mbps - y.mbps)[(rs.length - 1) >> 1]!.mbps;
  return {
    ours: best(all.ours), node: best(all.node),
    median: { ours: median(all.ours), node: median(all.node) },
    first,
  };
}

export async function runLoopbackBench(quick: boolean): Promise<Row[]> {
  const warm = quick ? 1 : 3, rounds = quick ? 1 : 3, sets = quick ? 1 : 2;
  const bulk = await bulkRounds(warm, rounds, BULK_BYTES(quick), sets);
  const o = await measure('ours', quick);
  const n = await measure('node', quick);
  const stallSecs = quick ? 3 : 10;
  return [
    { label: 'loopback full handshakes/s TLSv1.3 (4 in parallel, separate processes)', unit: 'hs/s', ours: o.hs13, node: n.hs13 },
    { label: 'loopback full handshakes/s TLSv1.2', unit: 'hs/s', ours: o.hs12, node: n.hs12 },
    { label: `loopback single-connection bulk MB/s, best of ${sets} x ${rounds} alternating rounds, each set in fresh processes after ${warm} warm-up rounds (${bulk.ours.cipher} / node ${bulk.node.cipher})`, unit: 'MB/s', ours: bulk.ours.mbps, node: bulk.node.mbps },
    { label: 'loopback bulk MB/s, median of those rounds', unit: 'MB/s', ours: bulk.median.ours, node: bulk.median.node },
    { label: 'loopback bulk: CPU ms (client + server) per 256 MiB in the best round', unit: 'ms', ours: bulk.ours.cpuMs * (256 << 20) / BULK_BYTES(quick), node: bulk.node.cpuMs * (256 << 20) / BULK_BYTES(quick) },
    { label: 'loopback bulk MB/s, first round in fresh processes (warm-up included)', unit: 'MB/s', ours: bulk.first.ours, node: bulk.first.node },
    { label: `server CPU ms while ${o.held} connections stall on WANT for ${stallSecs} s`, unit: 'ms', ours: o.stallCpu * 1000, node: n.stallCpu * 1000 },
    { label: 'server memory per idle connection (RSS delta / connections)', unit: 'bytes', ours: o.memPerConn, node: n.memPerConn },
  ];
}
