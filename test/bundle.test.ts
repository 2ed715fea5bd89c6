// The package as a browser app's bundler sees it. scripts/build.mjs builds the package into a
// temp dir laid out like an install (node_modules/mbedtls-wasm: package.json copied, dist/ built
// there, wasm/ and the package's own node_modules linked), so dist/ of the checkout is never
// touched. An app there does `import { ready, TlsEngine } from 'mbedtls-wasm'`, and esbuild
// resolves it through package.json's exports with the browser condition: the bundle must come
// from dist/browser.js and reach no node built-in (node:* or bare 'fs', 'crypto', ...). One
// checker decides that: a plugin records every attempt to import a built-in, from any file, and
// the metafile and the output text are searched as well.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = fileURLToPath(new URL('..', import.meta.url));
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isBuiltin = (spec: string) => spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]!);

/** The app's directory (the temp dir) and the package inside its node_modules. */
const app = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-bundle-'));
const pkg = join(app, 'node_modules', 'mbedtls-wasm');

test.before(() => {
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'wasm'), join(pkg, 'wasm'));
  // The package's dependencies (ws), where an install would put them.
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  // About 2 s on the development machine (esbuild for four entry points, then tsc's declarations).
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--outdir', join(pkg, 'dist')], { cwd: root, stdio: 'pipe', timeout: 120000 });
});

test.after(() => {
  rmSync(app, { recursive: true, force: true });
});

interface Bundled { metafile: Metafile; attempts: string[]; text: string }

/** Bundles `source` as <app>/app.ts for `platform`, recording every import of a node built-in. */
async function bundle(source: string, platform: 'browser' | 'node' = 'browser'): Promise<Bundled> {
  writeFileSync(join(app, 'app.ts'), source);
  const attempts: string[] = [];
  const spy: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        attempts.push(`${relative(app, args.importer)} imports ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    entryPoints: ['app.ts'], absWorkingDir: app,
    bundle: true, platform, format: 'esm', target: 'es2022', write: false, metafile: true,
    logLevel: 'silent', plugins: [spy],
  });
  assert.equal(result.errors, []);
  return { metafile: result.metafile!, attempts, text: result.outputFiles!.map((f) => f.text).join('\n') };
}

/** Every node built-in the bundle reaches, by any of the three views of it. */
function builtinImports({ metafile, attempts, text }: Bundled): string[] {
  const fromMeta = Object.values(metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
  const fromOutputs = Object.values(metafile.outputs).flatMap((o) => o.imports.map((x) => x.path));
  const fromText = [...text.matchAll(/(?:\brequire\(|\bimport\(|\bfrom)\s*["']([^"']+)["']/g)].map((m) => m[1]!);
  return [...attempts, ...[...fromMeta, ...fromOutputs, ...fromText].filter(isBuiltin)];
}

const BROWSER_APP = `
import { ready, TlsEngine, TlsConfig, connect, TLSStream, WebSocketTransport } from 'mbedtls-wasm';
export async function main(wasm: URL, url: string) {
  await ready(wasm);
  const engine = new TlsEngine(TlsConfig.client({}), { servername: 'example.test' });
  console.log(engine, TLSStream, WebSocketTransport);
  return connect({ url, servername: 'example.test' });
}
`;

test("a browser app's import of 'mbedtls-wasm' resolves through exports to dist/browser.js, with no node built-ins", async () => {
  const bundled = await bundle(BROWSER_APP);
  assert.equal(builtinImports(bundled), [], 'no node built-in reachable from the app');
  assert.equal(Object.keys(bundled.metafile.inputs).sort(), ['app.ts', 'node_modules/mbedtls-wasm/dist/browser.js']);
  // What dist/browser.js was built from (its source map): the browser entry, and nothing of src/node.
  const map = JSON.parse(readFileSync(join(pkg, 'dist', 'browser.js.map'), 'utf8')) as { sources: string[] };
  const sources = map.sources.map((s) => relative(root, resolve(pkg, 'dist', s)));
  // (index.ts itself only re-exports, so it has no code of its own in the map.)
  for (const f of ['src/browser/tls-stream.ts', 'src/transport/websocket.ts', 'src/scheduler/pump.ts', 'src/wasm/module.ts']) {
    assert.ok(sources.includes(f), `dist/browser.js contains ${f}`);
  }
  assert.equal(sources.filter((s) => s.startsWith('src/node/')), [], 'nothing from src/node/');
});

test('every file package.json names exists in the built package', () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
  const paths: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') paths.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  walk([manifest.main, manifest.types, manifest.exports, manifest.bin, manifest.browser]);
  assert.ok(paths.includes('./dist/browser.js') && paths.includes('./dist/types/browser/index.d.ts'), paths.join(' '));
  for (const p of paths) assert.ok(existsSync(join(pkg, p)), `${p} exists`);
  // The browser field maps the Node entry to the browser one (for bundlers that read it).
  for (const [from, to] of Object.entries(manifest.browser as Record<string, string>)) {
    assert.ok(existsSync(join(pkg, from)) && existsSync(join(pkg, to)), `${from} → ${to}`);
  }
});

test('the check itself works: a bare fs import is caught, and the node condition gets dist/node.js with its built-ins', async () => {
  const withFs = await bundle(`import { readFileSync } from 'fs';\nimport { ready } from 'mbedtls-wasm';\nconsole.log(readFileSync, ready);\n`);
  assert.equal(withFs.attempts, ['app.ts imports fs']);
  assert.ok(builtinImports(withFs).includes('app.ts imports fs'));
  assert.ok(Object.keys(withFs.metafile.inputs).includes('node_modules/mbedtls-wasm/dist/browser.js'));
  // Same package, same app shape, Node's conditions: the other export, which does import node:*.
  const forNode = await bundle(`import { ready, TlsEngine } from 'mbedtls-wasm';\nconsole.log(ready, TlsEngine);\n`, 'node');
  assert.ok(Object.keys(forNode.metafile.inputs).includes('node_modules/mbedtls-wasm/dist/node.js'));
  assert.not.ok(Object.keys(forNode.metafile.inputs).includes('node_modules/mbedtls-wasm/dist/browser.js'));
  const fromDist = builtinImports(forNode).filter((a) => a.startsWith('node_modules/mbedtls-wasm/dist/node.js imports '));
  assert.ok(fromDist.includes('node_modules/mbedtls-wasm/dist/node.js imports node:fs'), fromDist.join('\n'));
});

test('the built Node entry and CLI work from the installed layout: a TLS handshake through dist/node.js, cli.js --version', async () => {
  // An app in the temp dir imports the package by name (Node's resolution, "node" condition).
  writeFileSync(join(app, 'node-app.mjs'), `
    import { createServer, connect, generateSelfSigned } from 'mbedtls-wasm';
    const { key, cert } = generateSelfSigned({ commonName: 'localhost', altNames: ['localhost'] });
    const server = createServer({ key, cert }, (s) => s.end('hello from dist'));
    server.listen(0, '127.0.0.1', () => {
      const c = connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: cert }, () => {
        let got = '';
        c.on('data', (d) => { got += d; });
        c.on('end', () => { console.log(JSON.stringify({ got, protocol: c.getProtocol(), authorized: c.authorized })); c.end(); server.close(); });
      });
    });
  `);
  const out = execFileSync(process.execPath, [join(app, 'node-app.mjs')], { cwd: app, encoding: 'utf8', timeout: 60000 });
  assert.equal(JSON.parse(out.trim().split('\n').pop()!), { got: 'hello from dist', protocol: 'TLSv1.3', authorized: true });
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
  const cli = execFileSync(process.execPath, [join(pkg, 'dist', 'cli.js'), '--version'], { cwd: app, encoding: 'utf8', timeout: 60000 });
  assert.match(cli.trim(), new RegExp(`^(mbedtls-wasm )?${version.replace(/\./g, '\\.')}$`));
  assert.match(readFileSync(join(pkg, 'dist', 'cli.js'), 'utf8'), /^#!\/usr\/bin\/env node/, 'the bin has a shebang');
});

test.run();
