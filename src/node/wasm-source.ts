/**
 * Node: the wasm module's bytes come from the package's own file, read and compiled
 * synchronously on first use so that the node:tls-style API can stay synchronous.
 * (emscripten's glue would fetch() it, which Node 20 cannot do for file URLs.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { setSyncSource } from '../wasm/module.js';

function locate(): URL {
  // src/node/*.ts (development) and dist/*.js (package) sit at different depths.
  for (const rel of ['../../wasm/mbedtls.wasm', '../wasm/mbedtls.wasm', './wasm/mbedtls.wasm']) {
    const url = new URL(rel, import.meta.url);
    if (existsSync(url)) return url;
  }
  throw new Error('mbedtls-wasm: wasm/mbedtls.wasm not found next to the package');
}

setSyncSource(() => readFileSync(locate()));
