// Browser stand-in for test/helpers/setup.ts (swapped in by build.ts): the page fetches the
// wasm module from the harness server before any test module runs (top-level await).
import { ready } from '../../src/wasm/module.js';

await ready(new URL('/wasm/mbedtls.wasm', location.href));
