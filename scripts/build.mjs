// npm run build: bundles the Node and browser entry points with esbuild and emits type
// declarations with tsc. The wasm module stays a separate file (wasm/mbedtls.wasm): Node reads
// it from the package, browsers fetch it (or get its bytes) through ready().
//
//   node scripts/build.mjs                  → dist/ (what package.json's exports point at)
//   node scripts/build.mjs --outdir DIR     → DIR instead (test/bundle.test.ts builds a copy of
//                                             the package in a temp dir this way, leaving dist/ alone)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const i = process.argv.indexOf('--outdir');
if (i >= 0 && !process.argv[i + 1]) {
  console.error('build: --outdir expects a directory');
  process.exit(2);
}
const out = i >= 0 ? resolve(process.argv[i + 1]) : join(root, 'dist');

rmSync(out, { recursive: true, force: true });
const common = { absWorkingDir: root, bundle: true, format: 'esm', sourcemap: true, target: 'es2022', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/node/index.ts'], outfile: join(out, 'node.js'), platform: 'node', packages: 'external' });
await build({ ...common, entryPoints: ['src/browser/index.ts'], outfile: join(out, 'browser.js'), platform: 'browser' });
await build({ ...common, entryPoints: ['src/webui/dashboard/main.ts'], outfile: join(out, 'dashboard.js'), platform: 'browser', format: 'iife' });
await build({ ...common, entryPoints: ['src/cli.ts'], outfile: join(out, 'cli.js'), platform: 'node', packages: 'external', banner: { js: '#!/usr/bin/env node' } });
// The project's own tsc (no npx lookup: one process less, and never a different version).
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(out, 'types')],
  { cwd: root, stdio: 'inherit' });
const rel = relative(process.cwd(), out);
const shown = rel === '' ? '.' : rel.startsWith('..') ? out : rel;
console.log(`built ${shown}/node.js, browser.js, dashboard.js, cli.js and types/`);
