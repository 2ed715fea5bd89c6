// The TLS servers the browser talks to through the tunnel: `openssl s_server -www` (answers a
// GET with a status page) for TLS 1.2 and 1.3, and our own Node server (src/node/server.ts)
// for TLS 1.2 and 1.3, answering a fixed HTTP response. All on 127.0.0.1 with the ECDSA test
// certificate (test/fixtures/server-ecdsa.*, issued by ca-ecdsa.crt). Without openssl on PATH
// its two peers are listed in `missing` (not started); run.ts fails on that unless
// MBEDTLS_WASM_SKIP_INTEROP=1.
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '../../src/node/server.js';
import type { TLSSocket } from '../../src/node/tls-socket.js';
import { freePort, hasBinary } from '../helpers/peers.js';
import type { HarnessPeer } from './config.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const HOST = '127.0.0.1';

export interface Peers {
  list: HarnessPeer[];
  missing: string[];
  close(): Promise<void>;
}

/** Starts `openssl s_server -www`; resolves once it prints ACCEPT (it is listening). */
async function opensslServer(version: 'TLSv1.2' | 'TLSv1.3'): Promise<{ proc: ChildProcess; port: number }> {
  const port = await freePort();
  const flag = version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3';
  const proc = spawn('openssl', ['s_server', '-accept', `${HOST}:${port}`, '-cert', FIXTURES + 'server-ecdsa.crt',
    '-key', FIXTURES + 'server-ecdsa.key', '-www', '-alpn', 'http/1.1', flag], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openssl s_server ${flag} did not start: ${output}`)), 10000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('ACCEPT')) { clearTimeout(timer); resolve(); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`openssl s_server ${flag} exited (${code}): ${output}`)); });
  });
  proc.removeAllListeners('exit');
  // Keep draining its output so it never blocks on a full pipe.
  proc.stdout!.resume();
  proc.stderr!.resume();
  return { proc, port };
}

/** Our server: reads a request head, answers 200 with the protocol and cipher, closes. */
async function nodeServer(version: 'TLSv1.2' | 'TLSv1.3'): Promise<{ server: Server; port: number }> {
  const key = FIXTURES + 'server-ecdsa.key';
  const cert = FIXTURES + 'server-ecdsa.crt';
  const { readFileSync } = await import('node:fs');
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert), minVersion: version, maxVersion: version, ALPNProtocols: ['http/1.1'] },
    (socket: TLSSocket) => {
      let head = '';
      socket.on('error', () => {});
      socket.on('data', (d: Buffer) => {
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const body = `hello from mbedtls-wasm ${socket.getProtocol()} ${socket.getCipher()?.name ?? ''}\n`;
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      });
    });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

export async function startPeers(): Promise<Peers> {
  const list: HarnessPeer[] = [];
  const missing: string[] = [];
  const procs: ChildProcess[] = [];
  const servers: Server[] = [];
  // If this process dies without closing, take the openssl children with it.
  const killAll = () => { for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); };
  process.once('exit', killAll);
  const close = async () => {
    process.off('exit', killAll);
    killAll();
    for (const s of servers) {
      for (const sock of s.sockets) sock.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  };
  try {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const { server, port } = await nodeServer(version);
      servers.push(server);
      list.push({ name: `node createServer ${version}`, kind: 'node', version, target: `${HOST}:${port}` });
    }
    if (hasBinary('openssl')) {
      for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
        const { proc, port } = await opensslServer(version);
        procs.push(proc);
        list.push({ name: `openssl s_server -www ${version === 'TLSv1.2' ? '-tls1_2' : '-tls1_3'}`, kind: 'openssl', version, target: `${HOST}:${port}` });
      }
    } else {
      missing.push('openssl s_server: `openssl` not found on PATH (Debian package openssl)');
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { list, missing, close };
}
