/**
 * The one wasm instance of this process (or worker), shared by every config and connection.
 *
 * The module is a STANDALONE_WASM reactor built by build.sh: its only imports are our own
 * (entropy, wall clock, memory-growth notice), so no emscripten JS glue is involved. Node loads
 * the bytes from the package and compiles synchronously (so the node:tls-style API can stay
 * synchronous); browsers call `ready(urlOrBytes)` first.
 *
 * Memory views are re-made whenever the memory grows (emscripten_notify_memory_growth), and
 * every accessor re-checks the view, so a stale view is never used.
 */
import { misuse, TlsError } from '../errors/tls-error.js';
import { FFI_FUNCTIONS, type BytePtr, type CStrPtr, type TlswExports, type TlswImports } from './ffi.js';

export type WasmSource = BufferSource | URL | string | Response | Promise<Response>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class WasmLib {
  readonly x: TlswExports;
  private view: Uint8Array<ArrayBuffer>;
  private scratchPtr = 0 as BytePtr;
  private scratchCap = 0;

  constructor(instance: WebAssembly.Instance) {
    const exp = instance.exports as Record<string, unknown>;
    for (const name of FFI_FUNCTIONS) {
      if (typeof exp[name] !== 'function') {
        throw misuse('ERR_TLS_WASM_NOT_READY', `wasm module lacks export ${name}: wasm/mbedtls.wasm and src/wasm/ffi.ts disagree`);
      }
    }
    this.x = exp as unknown as TlswExports;
    this.view = new Uint8Array(this.x.memory.buffer);
  }

  /** The current byte view of wasm memory (re-made after growth). */
  get u8(): Uint8Array<ArrayBuffer> {
    if (this.view.buffer !== this.x.memory.buffer) this.view = new Uint8Array(this.x.memory.buffer);
    return this.view;
  }

  onGrowth(): void {
    this.view = new Uint8Array(this.x.memory.buffer);
  }

  /** Allocates n bytes in wasm memory (counted). Throws on exhaustion. */
  alloc(n: number): BytePtr {
    const p = this.x.tlsw_mem_alloc(n);
    if (p === 0) throw new TlsError('ERR_TLS_ALLOC_FAILED', 'local', `wasm allocation of ${n} bytes failed`);
    return p;
  }

  /** Copies `data` (plus a NUL when asked) into fresh wasm memory for the duration of `fn`. */
  withBytes<T>(data: Uint8Array, fn: (ptr: BytePtr, len: number) => T, nul = false, secret = false): T {
    const len = data.length + (nul ? 1 : 0);
    const p = this.alloc(len);
    try {
      const u8 = this.u8;
      u8.set(data, p);
      if (nul) u8[p + data.length] = 0;
      return fn(p, len);
    } finally {
      if (secret) this.u8.fill(0, p, p + len);
      this.x.tlsw_mem_free(p);
    }
  }

  withCString<T>(s: string | null | undefined, fn: (ptr: CStrPtr) => T): T {
    if (s === null || s === undefined) return fn(0 as CStrPtr);
    return this.withBytes(encoder.encode(s), (p) => fn(p as unknown as CStrPtr), true);
  }

  /** A process-wide scratch buffer of at least n bytes (reused; never hold it across calls). */
  scratch(n: number): BytePtr {
    if (n > this.scratchCap) {
      if (this.scratchPtr !== 0) this.x.tlsw_mem_free(this.scratchPtr);
      this.scratchPtr = 0 as BytePtr;
      const cap = Math.max(n, 17 * 1024);
      this.scratchPtr = this.alloc(cap);
      this.scratchCap = cap;
    }
    return this.scratchPtr;
  }

  /** `len` bytes of wasm memory at `ptr`: a new buffer, or written into `into` (`into` itself
   * when it is exactly `len` long, else a view of it). */
  copyOut(ptr: number, len: number, into?: Uint8Array): Uint8Array {
    if (!into) return this.u8.slice(ptr, ptr + len);
    into.set(this.u8.subarray(ptr, ptr + len));
    return into.length === len ? into : into.subarray(0, len);
  }

  cstr(ptr: number): string | null {
    if (ptr === 0) return null;
    const u8 = this.u8;
    let end = ptr;
    while (u8[end] !== 0) end++;
    return decoder.decode(u8.subarray(ptr, end));
  }

  /** Takes (copies and frees) the shim's result buffer. */
  takeResult(): Uint8Array {
    const out = this.copyOut(this.x.tlsw_result_ptr(), this.x.tlsw_result_len());
    this.x.tlsw_result_free();
    return out;
  }

  strerror(rc: number): string {
    const p = this.scratch(256);
    this.x.tlsw_lib_strerror(rc, p, 256);
    return this.cstr(p) ?? '';
  }

  sha256(data: Uint8Array): Uint8Array {
    return this.withBytes(data, (p, len) => {
      const out = this.scratch(32);
      this.x.tlsw_hash_sha256(p, len, out);
      return this.copyOut(out, 32);
    });
  }

  sha1(data: Uint8Array): Uint8Array {
    return this.withBytes(data, (p, len) => {
      const out = this.scratch(20);
      this.x.tlsw_hash_sha1(p, len, out);
      return this.copyOut(out, 20);
    });
  }

  /** Live allocation count and bytes inside the wasm heap (mbedTLS + shim). */
  heap(): { count: number; bytes: number; peak: number; total: number } {
    return {
      count: this.x.tlsw_alloc_count(),
      bytes: this.x.tlsw_alloc_bytes(),
      peak: this.x.tlsw_alloc_peak(),
      total: this.x.tlsw_alloc_total(),
    };
  }
}

let current: WasmLib | undefined;
let pending: Promise<WasmLib> | undefined;
let syncSource: (() => BufferSource) | undefined;

function makeImports(getLib: () => WasmLib | undefined): { env: TlswImports } {
  const crypto = globalThis.crypto;
  if (!crypto || typeof crypto.getRandomValues !== 'function') {
    throw misuse('ERR_TLS_WASM_NOT_READY', 'crypto.getRandomValues is not available in this runtime');
  }
  return {
    env: {
      tlsw_js_random(ptr: number, len: number): void {
        const lib = getLib();
        if (!lib) throw new Error('entropy requested before the module was ready');
        crypto.getRandomValues(lib.u8.subarray(ptr, ptr + len) as Uint8Array<ArrayBuffer>);
      },
      tlsw_js_now_ms(): number {
        return Date.now();
      },
      emscripten_notify_memory_growth(): void {
        getLib()?.onGrowth();
      },
    },
  };
}

function start(instance: WebAssembly.Instance, holder: { lib?: WasmLib }): WasmLib {
  const lib = new WasmLib(instance);
  holder.lib = lib;
  lib.x._initialize();
  const rc = lib.x.tlsw_lib_init();
  if (rc !== 0) throw new TlsError('ERR_TLS_WASM_NOT_READY', 'local', `mbedTLS initialisation failed (${rc})`);
  return lib;
}

/** Instantiates synchronously from bytes (Node; workers). Idempotent: returns the existing instance. */
export function initSync(bytes: BufferSource): WasmLib {
  if (current) return current;
  const holder: { lib?: WasmLib } = {};
  let instance: WebAssembly.Instance;
  try {
    const module = new WebAssembly.Module(bytes);
    instance = new WebAssembly.Instance(module, makeImports(() => holder.lib) as unknown as WebAssembly.Imports);
  } catch (e) {
    throw loadFailure(e);
  }
  current = start(instance, holder);
  return current;
}

/** Whatever went wrong while getting or compiling the module, as one typed error. */
function loadFailure(e: unknown): TlsError {
  if (e instanceof TlsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const hint = e instanceof WebAssembly.CompileError && !wasmSimdSupported()
    ? ' (this runtime has no wasm SIMD: load mbedtls-nosimd.wasm instead of mbedtls.wasm)' : '';
  return new TlsError('ERR_TLS_WASM_NOT_READY', 'local', `loading the wasm module failed: ${message}${hint}`, { cause: e });
}

// The smallest module that uses a SIMD instruction: () -> v128 { i8x16.splat(i32.const 0) }.
const SIMD_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 0x0a, 8, 1, 6, 0, 0x41, 0, 0xfd, 0x0f, 0x0b]);
let simd: boolean | undefined;

/**
 * Whether this runtime runs wasm SIMD, which mbedtls.wasm uses (ChaCha20, Poly1305). Every current
 * engine does; where this is false (older Safari, Node < 16.4), load mbedtls-nosimd.wasm.
 */
export function wasmSimdSupported(): boolean {
  simd ??= WebAssembly.validate(SIMD_PROBE);
  return simd;
}

async function toBytesOrInstance(source: WasmSource, imports: WebAssembly.Imports): Promise<WebAssembly.Instance> {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return (await WebAssembly.instantiate(source, imports)).instance;
  }
  const res = typeof source === 'string' || source instanceof URL ? fetch(source) : source;
  const response = await res;
  if (!response.ok) throw new TlsError('ERR_TLS_WASM_NOT_READY', 'local', `fetching the wasm module failed: HTTP ${response.status}`);
  const buf = await response.arrayBuffer();
  return (await WebAssembly.instantiate(buf, imports)).instance;
}

/**
 * Loads the module asynchronously (browsers). `source` is a URL, bytes or a fetch Response;
 * without one, the synchronous source registered by the Node entry is used.
 */
export function ready(source?: WasmSource): Promise<WasmLib> {
  if (current) return Promise.resolve(current);
  if (pending) return pending;
  if (source === undefined) {
    if (!syncSource) return Promise.reject(misuse('ERR_TLS_WASM_NOT_READY', 'ready() needs the wasm module URL or bytes in this runtime'));
    try { return Promise.resolve(initSync(syncSource())); } catch (e) { return Promise.reject(e); }
  }
  const holder: { lib?: WasmLib } = {};
  pending = toBytesOrInstance(source, makeImports(() => holder.lib) as unknown as WebAssembly.Imports)
    .catch((e: unknown) => { throw loadFailure(e); })
    .then((instance) => { current = start(instance, holder); return current; })
    .finally(() => { pending = undefined; });
  return pending;
}

/** Registers how to get the module's bytes synchronously (the Node entry reads the package file). */
export function setSyncSource(fn: () => BufferSource): void {
  syncSource = fn;
}

/** The loaded library; loads synchronously when a sync source is registered. */
export function lib(): WasmLib {
  if (current) return current;
  if (syncSource) return initSync(syncSource());
  throw misuse('ERR_TLS_WASM_NOT_READY', 'the wasm module is not loaded yet: await ready(urlOrBytes) first');
}

export function isReady(): boolean {
  return current !== undefined;
}
