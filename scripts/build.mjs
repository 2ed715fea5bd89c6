// npm run build: bundles the Node and browser entry points with esbuild and emits type
// declarations with tsc. The wasm module stays a separate file (wasm/mbedtls.wasm): Node reads
// it from the package, browsers fetch it (or get its bytes) through ready().
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const common = { bundle: true, format: 'esm', sourcemap: true, target: 'es2022', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/node/index.ts'], outfile: 'dist/node.js', platform: 'node', packages: 'external' });
await build({ ...common, entryPoints: ['src/browser/index.ts'], outfile: 'dist/browser.js', platform: 'browser' });
await build({ ...common, entryPoints: ['src/webui/dashboard/main.ts'], outfile: 'dist/dashboard.js', platform: 'browser', format: 'iife' });
await build({ ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', platform: 'node', packages: 'external', banner: { js: '#!/usr/bin/env node' } });
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('built dist/node.js, dist/browser.js, dist/cli.js and dist/types/');
