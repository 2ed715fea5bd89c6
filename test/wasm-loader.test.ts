// ready(): how a runtime without a synchronous source (browsers, workers, Deno...) loads the
// wasm module: from bytes (Uint8Array, ArrayBuffer, a view at an offset), a fetch Response (or
// a promise of one), a URL object or string; a failed fetch (HTTP 404 / 500) is a typed
// ERR_TLS_WASM_NOT_READY and leaves the loader usable; and using the library before it is
// loaded is a clear ERR_TLS_WASM_NOT_READY.
//
// The module is loaded once per process, and test/helpers/setup.ts (which every other suite
// loads in the same uvu process) registers Node's synchronous source. So each case runs in a
// fresh child process: this same file, started with WASM_LOADER_CASE set, which imports only
// the browser entry (no setup, so no synchronous source) and prints one RESULT line. The
// parent serves wasm/mbedtls.wasm on 127.0.0.1 and counts the requests.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateSelfSigned, isReady, ready, TlsConfig, TlsError, wasmLibrary, type WasmSource } from '../src/browser/index.js';
import { bytes, equal, handshake, pairOn, transfer } from './helpers/pair.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WASM = readFileSync(new URL('../wasm/mbedtls.wasm', import.meta.url));
const CHILD_MS = 60000;

/** The ways to hand ready() the module, each in its own process. */
const SOURCES = ['uint8array', 'arraybuffer', 'offset-view', 'response', 'fetch-promise', 'url', 'string'] as const;
type SourceCase = (typeof SOURCES)[number];

interface ErrorInfo { name: string; code?: string; fault?: string; message: string }
interface Loaded {
  /** ready() called twice before it settled returned one promise. */
  samePending: boolean;
  /** The instance ready() resolved to is the one in use, and later ready() calls return it. */
  sameInstance: boolean;
  isReady: boolean;
  sha256: string;
  /** A TLS 1.3 handshake with a freshly generated certificate, and 64 KiB through it. */
  handshake: { client: string; server: string; protocol: string | null; authorized: boolean; transferred: boolean };
}
interface BeforeAndFailures {
  before: { isReady: boolean; wasmLibrary: ErrorInfo | null; config: ErrorInfo | null; selfSigned: ErrorInfo | null; readyWithout: ErrorInfo | null };
  failures: Array<{ source: string; error: ErrorInfo | null }>;
  afterFailures: { isReady: boolean; wasmLibrary: ErrorInfo | null };
  loaded: Loaded;
}

// ---- the child -------------------------------------------------------------------------------

function info(e: unknown): ErrorInfo {
  if (e instanceof TlsError) return { name: e.name, code: e.code, fault: e.fault, message: e.message };
  const err = e as Error;
  return { name: err?.name ?? typeof e, message: err?.message ?? String(e) };
}

function thrown(fn: () => unknown): ErrorInfo | null {
  try { fn(); return null; } catch (e) { return info(e); }
}

async function rejected(p: Promise<unknown>): Promise<ErrorInfo | null> {
  try { await p; return null; } catch (e) { return info(e); }
}

/** Loads from `source`, then shows that the instance works: hash, key generation, a handshake. */
async function load(source: () => WasmSource, again: WasmSource): Promise<Loaded> {
  const first = ready(source());
  const second = ready(source());
  const lib = await first;
  await second;
  const selfSigned = generateSelfSigned({ commonName: 'localhost' });
  const serverConfig = TlsConfig.server({ ...selfSigned, minVersion: 'TLSv1.3' });
  const clientConfig = TlsConfig.client({ ca: selfSigned.cert });
  const pair = pairOn(serverConfig, clientConfig);
  const steps = handshake(pair);
  const data = bytes(64 * 1024, 5);
  const result: Loaded = {
    samePending: first === second,
    sameInstance: lib === wasmLibrary() && lib === await ready() && lib === await ready(again),
    isReady: isReady(),
    sha256: Buffer.from(lib.sha256(new TextEncoder().encode('abc'))).toString('hex'),
    handshake: {
      client: steps.client, server: steps.server, protocol: pair.client.protocol, authorized: pair.client.authorized,
      transferred: equal(transfer(pair.client, pair.server, data), data),
    },
  };
  pair.dispose();
  serverConfig.dispose();
  clientConfig.dispose();
  return result;
}

async function child(kind: string, base: string): Promise<unknown> {
  const url = `${base}/mbedtls.wasm`;
  const missing = `${base}/missing.wasm`;
  if (kind === 'before-and-failures') {
    const before = {
      isReady: isReady(),
      wasmLibrary: thrown(() => wasmLibrary()),
      config: thrown(() => TlsConfig.client({})),
      selfSigned: thrown(() => generateSelfSigned()),
      readyWithout: await rejected(ready()),
    };
    const failures = [
      { source: 'URL → 404', error: await rejected(ready(new URL(missing))) },
      { source: 'fetch() promise → 404', error: await rejected(ready(fetch(missing))) },
      { source: 'Response with status 500', error: await rejected(ready(new Response('oops', { status: 500 }))) },
      { source: 'unreachable URL', error: await rejected(ready(new URL(`${base.replace(/:\d+$/, ':1')}/x.wasm`))) },
      { source: 'bad URL string', error: await rejected(ready('http://[bad')) },
      { source: 'bytes that are not wasm', error: await rejected(ready(new Uint8Array([0, 1, 2]))) },
    ];
    const afterFailures = { isReady: isReady(), wasmLibrary: thrown(() => wasmLibrary()) };
    const loaded = await load(() => new URL(url), url);
    return { before, failures, afterFailures, loaded } satisfies BeforeAndFailures;
  }
  const file = () => new Uint8Array(readFileSync(new URL('../wasm/mbedtls.wasm', import.meta.url)));
  const sources: Record<SourceCase, () => WasmSource> = {
    uint8array: file,
    arraybuffer: () => file().buffer,
    // A view into a larger buffer: only its own bytes are the module.
    'offset-view': () => {
      const f = file();
      const big = new Uint8Array(f.length + 24).fill(0xee);
      big.set(f, 16);
      return big.subarray(16, 16 + f.length);
    },
    response: () => new Response(file(), { headers: { 'content-type': 'application/wasm' } }),
    'fetch-promise': () => fetch(url),
    url: () => new URL(url),
    string: () => url,
  };
  const make = sources[kind as SourceCase];
  if (!make) throw new Error(`unknown case ${kind}`);
  // Once loaded, even a source that would fail must not be fetched or used.
  return load(make, new URL(missing));
}

// ---- the parent ------------------------------------------------------------------------------

interface Served { base: string; requests: string[]; close(): Promise<void> }

async function serveWasm(): Promise<Served> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/mbedtls.wasm') res.writeHead(200, { 'content-type': 'application/wasm' }).end(WASM);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Runs one case in a fresh process; resolves with what it printed after RESULT. */
function runChild<T>(kind: string, base: string): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', SELF], {
      cwd: ROOT, timeout: CHILD_MS, env: { ...process.env, WASM_LOADER_CASE: kind, WASM_LOADER_BASE: base },
    }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (err || !line) { reject(new Error(`child ${kind} failed: ${err?.message ?? 'no RESULT line'}\n${stdout}\n${stderr}`)); return; }
      resolve(JSON.parse(line.slice('RESULT '.length)) as T);
    });
  });
}

const SHA256_ABC = createHash('sha256').update('abc').digest('hex');

function assertLoaded(r: Loaded): void {
  assert.is(r.samePending, true, 'concurrent ready() calls share one load');
  assert.is(r.sameInstance, true, 'one instance: ready() again (with or without a source) returns it');
  assert.is(r.isReady, true);
  assert.is(r.sha256, SHA256_ABC, 'the wasm instance computes SHA-256 correctly');
  assert.equal(r.handshake, { client: 'done', server: 'done', protocol: 'TLSv1.3', authorized: true, transferred: true });
}

function assertNotReady(e: ErrorInfo | null, message: RegExp): void {
  assert.ok(e, 'an error');
  assert.equal({ name: e!.name, code: e!.code, fault: e!.fault }, { name: 'TlsError', code: 'ERR_TLS_WASM_NOT_READY', fault: 'local' }, e!.message);
  assert.match(e!.message, message);
}

if (process.env.WASM_LOADER_CASE) {
  const result = await child(process.env.WASM_LOADER_CASE, process.env.WASM_LOADER_BASE ?? '');
  console.log('RESULT ' + JSON.stringify(result));
} else {
  let served: Served;
  test.before(async () => { served = await serveWasm(); });
  test.after(async () => { await served.close(); });

  test('before loading: every use is ERR_TLS_WASM_NOT_READY; failed fetches are typed and leave the loader usable', async () => {
    served.requests.length = 0;
    const r = await runChild<BeforeAndFailures>('before-and-failures', served.base);
    assert.is(r.before.isReady, false);
    assertNotReady(r.before.wasmLibrary, /not loaded yet: await ready\(urlOrBytes\) first/);
    assertNotReady(r.before.config, /await ready\(urlOrBytes\) first/);
    assertNotReady(r.before.selfSigned, /await ready\(urlOrBytes\) first/);
    assertNotReady(r.before.readyWithout, /ready\(\) needs the wasm module URL or bytes/);
    assert.equal(r.failures.map((f) => f.source), ['URL → 404', 'fetch() promise → 404', 'Response with status 500',
      'unreachable URL', 'bad URL string', 'bytes that are not wasm']);
    assertNotReady(r.failures[0]!.error, /HTTP 404/);
    assertNotReady(r.failures[1]!.error, /HTTP 404/);
    assertNotReady(r.failures[2]!.error, /HTTP 500/);
    assertNotReady(r.failures[3]!.error, /loading the wasm module failed: fetch failed/);
    assertNotReady(r.failures[4]!.error, /loading the wasm module failed: .*URL/i);
    assertNotReady(r.failures[5]!.error, /loading the wasm module failed: WebAssembly/);
    assert.equal(r.afterFailures.isReady, false);
    assertNotReady(r.afterFailures.wasmLibrary, /not loaded yet/);
    assertLoaded(r.loaded);
    assert.equal(served.requests, ['/missing.wasm', '/missing.wasm', '/mbedtls.wasm'], 'one fetch per load, none once loaded');
  });

  for (const kind of SOURCES) {
    test(`ready(${kind}) loads the module once, and it works`, async () => {
      served.requests.length = 0;
      assertLoaded(await runChild<Loaded>(kind, served.base));
      const fetched = kind === 'fetch-promise' ? ['/mbedtls.wasm', '/mbedtls.wasm'] : kind === 'url' || kind === 'string' ? ['/mbedtls.wasm'] : [];
      // fetch-promise: both concurrent calls built their fetch() before ready() saw them; the
      // second promise is ignored (ready() returns the pending load), but its request was made.
      assert.equal(served.requests, fetched);
    });
  }

  test.run();
}
