/**
 * One side of the loopback benchmark, in its own process (forked by bench/loopback.ts):
 *   loopback-peer.ts server <ours|node>     listens on 127.0.0.1:0, reports its port
 *   loopback-peer.ts client <ours|node>     runs the workloads it is sent against a port
 * Commands and results travel over the fork IPC channel.
 */
import { readFileSync } from 'node:fs';
import type { TLSSocket as Socket } from 'node:tls';
import nodeTls from 'node:tls';
import * as ours from '../src/node/index.js';

const [role, impl] = process.argv.slice(2) as ['server' | 'client', 'ours' | 'node'];
const tls = (impl === 'ours' ? ours : nodeTls) as unknown as typeof nodeTls;
const fx = (n: string) => readFileSync(new URL(`../test/fixtures/${n}`, import.meta.url), 'utf8');
const send = (m: unknown) => process.send!(m);

type Cmd = { cmd: string; [k: string]: unknown };

if (role === 'server') {
  const sockets = new Set<Socket>();
  const server = tls.createServer({ key: fx('server-ecdsa.key'), cert: fx('server-ecdsa.crt'), ciphers: undefined }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (first: Buffer) => {
      const mode = String.fromCharCode(first[0]!);
      if (mode === 'b') {
        // bulk: count bytes, acknowledge each MiB so the client can time the transfer
        let n = first.length - 1;
        const total = first.readUInt32BE(1);
        n -= 4;
        const check = () => { if (n >= total) socket.write('k'); };
        socket.on('data', (d: Buffer) => { n += d.length; check(); });
        check();
      } else if (mode === 's') {
        // stall: write until the transport pushes back, then wait for a drain that never comes
        const chunk = Buffer.alloc(16384, 1);
        const fill = () => { while (socket.write(chunk)) { /* until full */ } };
        socket.on('drain', fill);
        fill();
      }
      // 'i' (idle): nothing
    });
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1', () => send({ port: (server.address() as { port: number }).port }));
  process.on('message', (m: Cmd) => {
    if (m.cmd === 'cpu') {
      const u = process.resourceUsage();
      send({ cpu: (u.userCPUTime + u.systemCPUTime) / 1e6, faults: u.minorPageFault });
    } else if (m.cmd === 'mem') {
      (globalThis as { gc?: () => void }).gc?.();
      send({ rss: process.memoryUsage().rss, sockets: sockets.size });
    } else if (m.cmd === 'exit') {
      for (const s of sockets) s.destroy();
      server.close();
      process.exit(0);
    }
  });
} else {
  const ca = fx('ca-ecdsa.crt');
  const open = (port: number, extra: object = {}) => new Promise<Socket>((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ...extra }, () => resolve(s));
    s.once('error', reject);
  });
  const held: Socket[] = [];
  process.on('message', async (m: Cmd) => {
    const port = m.port as number;
    if (m.cmd === 'handshakes') {
      const ms = m.ms as number, parallel = 4;
      let n = 0;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: parallel }, async () => {
        while (performance.now() - t0 < ms) { const s = await open(port, m.version ? { minVersion: m.version, maxVersion: m.version } : {}); s.destroy(); n++; }
      }));
      send({ rate: n / ((performance.now() - t0) / 1000) });
    } else if (m.cmd === 'bulk') {
      const total = m.bytes as number;
      const s = await open(port, { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
      const head = Buffer.alloc(5); head.write('b'); head.writeUInt32BE(total, 1);
      const chunk = Buffer.alloc(16384, 2);
      const t0 = performance.now(), u0 = process.resourceUsage();
      const done = new Promise<void>((resolve) => s.once('data', () => resolve()));
      s.write(head);
      let sent = 0;
      await new Promise<void>((resolve) => {
        const go = () => {
          while (sent < total) { sent += chunk.length; if (!s.write(chunk)) { s.once('drain', go); return; } }
          resolve();
        };
        go();
      });
      await done;
      const u = process.resourceUsage();
      send({ mbps: total / ((performance.now() - t0) / 1000) / 1e6, cpu: (u.userCPUTime + u.systemCPUTime - u0.userCPUTime - u0.systemCPUTime) / 1e6, faults: u.minorPageFault - u0.minorPageFault, protocol: s.getProtocol(), cipher: s.getCipher()?.name });
      s.destroy();
    } else if (m.cmd === 'hold') {
      // n established connections sending `mode`, never reading
      const n = m.count as number;
      for (let i = 0; i < n; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => open(port)));
        for (const s of batch) { s.write(m.mode as string); s.pause(); held.push(s); }
      }
      send({ held: held.length });
    } else if (m.cmd === 'release') {
      for (const s of held.splice(0)) s.destroy();
      send({ released: true });
    } else if (m.cmd === 'exit') {
      process.exit(0);
    }
  });
  send({ ready: true });
}
