// The harness server (Node side): a static server on 127.0.0.1 for the page, its bundle and
// wasm/mbedtls.wasm (application/wasm), /config.json for the specs, and — on the same server —
// the WebSocket-to-TCP tunnel (src/node/tunnel.ts) allowing exactly the peers started here.
// MBEDTLS_WASM_SKIP_INTEROP=1 is passed on in the config (skipInterop): run.ts then accepts a
// missing openssl.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTunnel, type Tunnel } from '../../src/node/tunnel.js';
import { ROOT, type BrowserBuild } from './build.js';
import type { HarnessConfig } from './config.js';
import { startPeers, type Peers } from './peers.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export interface Harness {
  url: string;
  config: HarnessConfig;
  tunnel: Tunnel;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The bundle, or a function producing it (called again on every page load with `rebuild`). */
  build: () => Promise<BrowserBuild>;
  /** Rebuild on every load of the page (for a person editing tests). */
  rebuild?: boolean;
  port?: number;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  let current = await options.build();
  const wasm = readFileSync(join(ROOT, 'wasm', 'mbedtls.wasm'));
  let peers: Peers | undefined;
  let tunnel: Tunnel | undefined;
  const config: HarnessConfig = {
    tunnelPath: '/tunnel', peers: [], missing: [], forbiddenTarget: '',
    skipInterop: process.env.MBEDTLS_WASM_SKIP_INTEROP === '1',
  };

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://harness.invalid').pathname;
    const send = (status: number, body: Uint8Array | string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    void (async () => {
      if (path === '/' || path === '/index.html') {
        if (options.rebuild) {
          try { current = await options.build(); } catch (e) { send(500, `build failed:\n${(e as Error).message}`); return; }
        }
        send(200, current.files.get('/index.html')!, TYPES['.html']);
      } else if (path === '/config.json') {
        send(200, JSON.stringify(config), TYPES['.json']);
      } else if (path === '/wasm/mbedtls.wasm') {
        send(200, wasm, TYPES['.wasm']);
      } else if (current.files.has(path)) {
        send(200, current.files.get(path)!, TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream');
      } else if (path === '/favicon.ico') {
        send(204, '');
      } else {
        send(404, `not found: ${path}\n`);
      }
    })();
  });

  try {
    peers = await startPeers();
    config.peers = peers.list;
    config.missing = peers.missing;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    const port = (server.address() as AddressInfo).port;
    // A target that is never allowed: the harness server's own port.
    config.forbiddenTarget = `127.0.0.1:${port}`;
    tunnel = await createTunnel({ server, path: config.tunnelPath, allow: peers.list.map((p) => p.target) });
  } catch (e) {
    await peers?.close();
    server.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const t = tunnel;
  const p = peers;
  return {
    url: `http://127.0.0.1:${port}/`,
    config,
    tunnel: t,
    async close() {
      await t.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await p.close();
    },
  };
}
