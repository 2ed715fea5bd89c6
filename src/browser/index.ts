/**
 * mbedtls-wasm for browsers (and any runtime without node:*): everything in core (the engine,
 * the pump, transports, certificates), plus TLS over a WebSocket to a tunnel.
 *
 *   import { ready, connect } from 'mbedtls-wasm';
 *   await ready('/assets/mbedtls.wasm');
 *   const tls = connect({ url: 'wss://example.net/tunnel?target=example.com:443', servername: 'example.com', ca });
 *
 * ready() takes the module as a URL (string or URL object), a fetch Response or a promise of
 * one, or its bytes; it has to be served or bundled as a file of its own. The package ships it
 * as node_modules/mbedtls-wasm/wasm/mbedtls.wasm (exported as 'mbedtls-wasm/wasm/mbedtls.wasm').
 * Copy it next to your bundle, or to any path you serve, and then
 *   await ready(new URL('./mbedtls.wasm', import.meta.url));  // next to the module that says this
 *   await ready(fetch('/assets/mbedtls.wasm'));               // or any URL, or a Response
 *   await ready(bytes);                                        // or an ArrayBuffer / Uint8Array
 * (A relative URL is resolved against import.meta.url, the module containing the expression, so
 * a URL such as new URL('mbedtls-wasm/wasm/mbedtls.wasm', import.meta.url) names a path under
 * your own module's directory, not the package: it does not find the file.) Bundlers that turn
 * imports into asset URLs can use the export instead, e.g. Vite:
 *   import wasmUrl from 'mbedtls-wasm/wasm/mbedtls.wasm?url';  await ready(wasmUrl);
 *
 * mbedtls.wasm uses wasm SIMD (all current browsers: Chrome/Edge 91+, Firefox 89+, Safari 16.4+).
 * For older engines the package also ships mbedtls-nosimd.wasm, the same library without SIMD
 * (ChaCha20-Poly1305 about half as fast):
 *   await ready(wasmSimdSupported() ? simdUrl : noSimdUrl);
 *
 * Nothing reachable from this file imports node:* (test/bundle.test.ts checks the bundle of an
 * app that imports the built package through its browser export).
 */
export * from '../core.js';
export { WebSocketTransport, WebSocketTransportError, type WebSocketLike, type WebSocketTransportOptions } from '../transport/websocket.js';
export { connect, TLSStream, type ConnectOptions, type TLSStreamEvents } from './tls-stream.js';
