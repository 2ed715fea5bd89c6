// Test set-up shared by engine-level tests: makes the wasm module available in the runtime the
// tests run in. Node registers the package file; the browser harness replaces this module with
// one that awaits ready(url) (see test/browser/).
import '../../src/node/wasm-source.js';
