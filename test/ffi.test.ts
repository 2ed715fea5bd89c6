// The FFI table (src/wasm/ffi.ts) must match the module's exports and the shim's C table, and
// the module may import nothing but our own functions.
import './helpers/setup.js';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FFI_FUNCTIONS } from '../src/wasm/ffi.js';
import { lib } from '../src/wasm/module.js';

const wasm = readFileSync(new URL('../wasm/mbedtls.wasm', import.meta.url));
const shim = readFileSync(new URL('../wasm/shim.c', import.meta.url), 'utf8');
const ffiSource = readFileSync(new URL('../src/wasm/ffi.ts', import.meta.url), 'utf8');
const module = new WebAssembly.Module(wasm);

test('every tlsw_ export of the module is in the FFI table and vice versa', () => {
  const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function' && e.name.startsWith('tlsw_')).map((e) => e.name).sort();
  const table = FFI_FUNCTIONS.filter((n) => n.startsWith('tlsw_')).slice().sort();
  assert.equal(exported, table);
});

test('the C shim declares exactly the exported functions (TLSW_API)', () => {
  const declared = [...shim.matchAll(/TLSW_API\s+[^(]*?\b(tlsw_\w+)\s*\(/g)].map((m) => m[1]!).sort();
  assert.equal(declared, FFI_FUNCTIONS.filter((n) => n.startsWith('tlsw_')).slice().sort());
});

test('the TypeScript interface declares every function in the table', () => {
  for (const name of FFI_FUNCTIONS) assert.ok(new RegExp(`\\b${name}\\(`).test(ffiSource), name);
});

test('the module imports only our functions (no WASI, no emscripten glue)', () => {
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`).sort();
  assert.equal(imports, ['env.emscripten_notify_memory_growth', 'env.tlsw_js_now_ms', 'env.tlsw_js_random']);
});

for (const file of ['mbedtls.wasm', 'mbedtls-nosimd.wasm']) {
  test(`the committed ${file} matches the sha256 recorded for it in BUILD-INFO`, async () => {
    const info = readFileSync(new URL('../wasm/BUILD-INFO', import.meta.url), 'utf8');
    const want = new RegExp(`^file: wasm/${file.replace('.', '\\.')}\\nsha256: ([0-9a-f]{64})$`, 'm').exec(info)?.[1];
    const bytes = readFileSync(new URL(`../wasm/${file}`, import.meta.url));
    const got = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');
    assert.ok(want, `BUILD-INFO names ${file}`);
    assert.is(got, want);
  });
}

test('mbedtls-nosimd.wasm has the same exports and imports as mbedtls.wasm', () => {
  const other = new WebAssembly.Module(readFileSync(new URL('../wasm/mbedtls-nosimd.wasm', import.meta.url)));
  const names = (m: WebAssembly.Module) => [WebAssembly.Module.exports(m).map((e) => `${e.kind} ${e.name}`).sort(), WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}`).sort()];
  assert.equal(names(other), names(module));
});

test('the library reports mbedTLS 3.6.6 and is initialised once', () => {
  assert.is(lib().x.tlsw_lib_version(), 0x03060600);
  assert.is(lib().x.tlsw_lib_init(), 0);
});

test('allocation accounting: mem_alloc/mem_free balance, free(NULL) is safe', () => {
  const L = lib();
  const before = L.heap();
  const p = L.x.tlsw_mem_alloc(1000);
  assert.is(L.heap().count, before.count + 1);
  assert.is(L.heap().bytes, before.bytes + 1000);
  L.x.tlsw_mem_free(p);
  L.x.tlsw_mem_free(0 as never);
  L.x.tlsw_conn_free(0 as never);
  L.x.tlsw_cfg_free(0 as never);
  assert.equal(L.heap().count, before.count);
});

test.run();
