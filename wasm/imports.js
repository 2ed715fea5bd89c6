// Declares the shim's imported functions to the emscripten 3.1.6 linker (without a declaration
// linking fails). Their implementations are supplied at instantiation by makeImports() in src/wasm/module.ts.
mergeInto(LibraryManager.library, {
  tlsw_js_random: function (ptr, len) {},
  tlsw_js_now_ms: function () {},
});
