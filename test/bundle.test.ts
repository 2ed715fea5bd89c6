// The browser entry bundles for platform 'browser' without a single node built-in: esbuild
// builds a tiny app against src/browser/index.ts and the metafile is searched for node:* and
// bare built-in imports (a plugin also records every attempt to import one, from any file).
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('..', import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (spec: string) => spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]!);

const APP = `
import { ready, connect, TLSStream, WebSocketTransport, TlsConfig, TlsEngine, Pump, memoryPair,
  FaultTransport, StreamTransport, generateSelfSigned, getCiphers, TlsError } from './src/browser/index.ts';
const wasm = new URL('./wasm/mbedtls.wasm', import.meta.url);
export async function main(url: string) {
  await ready(wasm);
  console.log(getCiphers().length, TlsConfig, TlsEngine, Pump, memoryPair, FaultTransport, StreamTransport, generateSelfSigned, TlsError, WebSocketTransport, TLSStream);
  return connect({ url, servername: 'example.test' });
}
`;

async function bundle(): Promise<{ metafile: Metafile; attempts: string[]; text: string }> {
  const attempts: string[] = [];
  const spy: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        attempts.push(`${args.importer} imports ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    stdin: { contents: APP, loader: 'ts', resolveDir: root, sourcefile: 'app.ts' },
    bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, metafile: true,
    logLevel: 'silent', plugins: [spy],
  });
  assert.equal(result.errors, []);
  return { metafile: result.metafile!, attempts, text: result.outputFiles!.map((f) => f.text).join('\n') };
}

test('the browser entry bundles for the browser with no node built-ins', async () => {
  const { metafile, attempts, text } = await bundle();
  assert.equal(attempts, [], 'no file reachable from src/browser/index.ts imports a node built-in');
  const inputs = Object.keys(metafile.inputs);
  assert.ok(inputs.includes('src/browser/index.ts'));
  assert.ok(inputs.includes('src/browser/tls-stream.ts'));
  assert.ok(inputs.includes('src/transport/websocket.ts'));
  assert.ok(inputs.includes('src/scheduler/pump.ts'));
  assert.not.ok(inputs.some((p) => p.startsWith('src/node/')), 'nothing from src/node/');
  const imports = Object.values(metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
  assert.equal(imports.filter(isBuiltin), []);
  for (const out of Object.values(metafile.outputs)) assert.equal(out.imports.filter((x) => isBuiltin(x.path)), []);
  assert.not.match(text, /\brequire\(\s*["'](?:node:)?(?:fs|path|crypto|net|tls|stream|buffer|url|os)["']\s*\)/);
});

test('the check itself works: a node import in the app is caught', async () => {
  const attempts: string[] = [];
  await build({
    stdin: { contents: `import { readFileSync } from 'node:fs'; import './src/browser/index.ts'; console.log(readFileSync);`, loader: 'ts', resolveDir: root },
    bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent',
    plugins: [{ name: 'spy', setup(b) { b.onResolve({ filter: /^node:/ }, (a) => { attempts.push(a.path); return { path: a.path, external: true }; }); } }],
  });
  assert.equal(attempts, ['node:fs']);
});

test.run();
