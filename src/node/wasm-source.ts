/**
 * Node: the wasm module's bytes come from the package's own file, read and compiled
 * synchronously on first use so that the node:tls-style API can stay synchronous.
 * (emscripten's glue would fetch() it, which Node 20 cannot do for file URLs.)
 *
 * mbedtls.wasm uses wasm SIMD; mbedtls-nosimd.wasm is the same library without it, for a
 * runtime that lacks SIMD, or when MBEDTLS_WASM_SIMD=0 asks for it (tests run both).
 */
import { existsSync, readFileSync } from 'node:fs';
import { setSyncSource, wasmSimdSupported } from '../wasm/module.js';

function locate(file: string): URL {
  // src/node/*.ts (development) and dist/*.js (package) sit at different depths.
  for (const dir of ['../../wasm/', '../wasm/', './wasm/']) {
    const url = new URL(dir + file, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error(`mbedtls-wasm: wasm/${file} not found next to the package`);
}

/** The module file this process loads. */
export const wasmFile = wasmSimdSupported() && process.env.MBEDTLS_WASM_SIMD !== '0' ? 'mbedtls.wasm' : 'mbedtls-nosimd.wasm';
setSyncSource(() => readFileSync(locate(wasmFile)));
