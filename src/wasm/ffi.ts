/**
 * The FFI table: TypeScript declarations of every export of wasm/shim.c.
 *
 * MUST MATCH wasm/shim.c (names, argument order, return types). A test
 * (test/ffi.test.ts) checks that the module exports exactly these functions.
 *
 * Pointers are branded numbers so that a config pointer cannot be passed where a connection
 * pointer is expected; `0` is the null pointer of every brand.
 */

declare const brand: unique symbol;
export type Ptr<B extends string> = number & { readonly [brand]: B };
export type CfgPtr = Ptr<'tlsw_cfg'>;
export type ConnPtr = Ptr<'tlsw_conn'>;
/** Memory allocated with tlsw_mem_alloc (or inside the module) holding bytes. */
export type BytePtr = Ptr<'bytes'>;
export type CStrPtr = Ptr<'cstring'>;

export interface TlswExports {
  readonly memory: WebAssembly.Memory;
  _initialize(): void;

  // allocation accounting
  tlsw_alloc_count(): number;
  tlsw_alloc_bytes(): number;
  tlsw_alloc_peak(): number;
  tlsw_alloc_total(): number;
  tlsw_alloc_reset_peak(): void;
  tlsw_mem_alloc(n: number): BytePtr;
  tlsw_mem_free(p: BytePtr): void;

  // library
  tlsw_lib_init(): number;
  tlsw_lib_strerror(code: number, buf: BytePtr, len: number): void;
  tlsw_lib_version(): number;
  tlsw_hash_sha256(input: BytePtr, len: number, out32: BytePtr): void;
  tlsw_hash_sha1(input: BytePtr, len: number, out20: BytePtr): void;
  // our own primitives, exported for cross-checks (test/crypto.test.ts)
  tlsw_crypto_x25519(priv32: BytePtr, pub32: BytePtr, out32: BytePtr): number;
  tlsw_crypto_ecdsa_verify(spki: BytePtr, spkiLen: number, hash: BytePtr, hashLen: number, sig: BytePtr, sigLen: number): number;
  tlsw_crypto_chacha20(key32: BytePtr, nonce12: BytePtr, counter: number, input: BytePtr, output: BytePtr, len: number, step: number): number;
  tlsw_crypto_poly1305(key32: BytePtr, input: BytePtr, len: number, step: number, mac16: BytePtr): number;
  tlsw_crypto_chachapoly(key32: BytePtr, nonce12: BytePtr, aad: BytePtr, aadLen: number, input: BytePtr, output: BytePtr, len: number, step: number, tag16: BytePtr, open: number): number;
  tlsw_result_ptr(): BytePtr;
  tlsw_result_len(): number;
  tlsw_result_free(): void;

  // config
  tlsw_cfg_new(endpoint: 0 | 1): CfgPtr;
  tlsw_cfg_free(cfg: CfgPtr): void;
  tlsw_cfg_set_versions(cfg: CfgPtr, min: number, max: number): number;
  tlsw_cfg_set_authmode(cfg: CfgPtr, mode: 0 | 1 | 2): number;
  tlsw_cfg_set_ca(cfg: CfgPtr, pem: BytePtr, len: number): number;
  tlsw_cfg_add_cert(cfg: CfgPtr, cert: BytePtr, certLen: number, key: BytePtr, keyLen: number,
    pass: BytePtr, passLen: number, servername: CStrPtr): number;
  tlsw_cfg_set_alpn(cfg: CfgPtr, names: BytePtr, totalLen: number, n: number): number;
  tlsw_cfg_set_ciphersuites(cfg: CfgPtr, ids: BytePtr, n: number): number;
  tlsw_cfg_set_groups(cfg: CfgPtr, ids: BytePtr, n: number): number;
  tlsw_cfg_set_tickets(cfg: CfgPtr, lifetimeSeconds: number): number;

  // connection
  tlsw_conn_new(cfg: CfgPtr): ConnPtr;
  tlsw_conn_free(conn: ConnPtr): void;
  tlsw_conn_set_hostname(conn: ConnPtr, name: CStrPtr): number;
  tlsw_conn_set_cert_cfg(conn: ConnPtr, cfg: CfgPtr): number;
  tlsw_conn_set_keylog(conn: ConnPtr, on: 0 | 1): void;
  tlsw_conn_set_out_limit(conn: ConnPtr, limit: number): void;
  tlsw_conn_park(conn: ConnPtr): number;
  tlsw_conn_parked(conn: ConnPtr): number;
  tlsw_conn_in_reserve(conn: ConnPtr, n: number): BytePtr;
  tlsw_conn_in_commit(conn: ConnPtr, n: number): void;
  tlsw_conn_in_len(conn: ConnPtr): number;
  tlsw_conn_out_ptr(conn: ConnPtr): BytePtr;
  tlsw_conn_out_len(conn: ConnPtr): number;
  tlsw_conn_out_consume(conn: ConnPtr, n: number): void;
  tlsw_conn_keylog_ptr(conn: ConnPtr): BytePtr;
  tlsw_conn_keylog_len(conn: ConnPtr): number;
  tlsw_conn_keylog_clear(conn: ConnPtr): void;
  tlsw_conn_handshake(conn: ConnPtr): number;
  tlsw_conn_read(conn: ConnPtr, buf: BytePtr, len: number): number;
  tlsw_conn_write(conn: ConnPtr, buf: BytePtr, len: number): number;
  tlsw_conn_flush(conn: ConnPtr): number;
  tlsw_conn_close_notify(conn: ConnPtr): number;
  tlsw_conn_send_alert(conn: ConnPtr, description: number): number;
  tlsw_conn_alert_received(conn: ConnPtr): number;
  tlsw_conn_handshake_done(conn: ConnPtr): number;
  tlsw_conn_bytes_avail(conn: ConnPtr): number;
  tlsw_conn_check_pending(conn: ConnPtr): number;
  tlsw_conn_out_left(conn: ConnPtr): number;
  tlsw_conn_version(conn: ConnPtr): number;
  tlsw_conn_ciphersuite(conn: ConnPtr): number;
  tlsw_conn_group(conn: ConnPtr): number;
  tlsw_conn_resumed(conn: ConnPtr): number;
  tlsw_conn_max_payload(conn: ConnPtr): number;
  tlsw_conn_alpn(conn: ConnPtr): CStrPtr;
  tlsw_conn_sni(conn: ConnPtr): CStrPtr;
  tlsw_conn_verify_result(conn: ConnPtr): number;
  tlsw_conn_peer_cert_count(conn: ConnPtr): number;
  tlsw_conn_peer_cert_ptr(conn: ConnPtr, i: number): BytePtr;
  tlsw_conn_peer_cert_len(conn: ConnPtr, i: number): number;
  tlsw_conn_session_save(conn: ConnPtr): number;
  tlsw_conn_session_load(conn: ConnPtr, buf: BytePtr, len: number): number;

  // benchmark support (bench/): the same work with no engine around it
  tlsw_bench_handshake(client: ConnPtr, server: ConnPtr): number;
  tlsw_bench_transfer(from: ConnPtr, to: ConnPtr, buf: BytePtr, chunk: number, total: number,
    rbuf: BytePtr, rlen: number): number;

  // x509
  tlsw_x509_selfsigned(subject: CStrPtr, names: BytePtr, n: number, notBefore: CStrPtr,
    notAfter: CStrPtr): number;
}

/** Every function export of the module, for the completeness check. */
export const FFI_FUNCTIONS = [
  '_initialize',
  'tlsw_alloc_count', 'tlsw_alloc_bytes', 'tlsw_alloc_peak', 'tlsw_alloc_total',
  'tlsw_alloc_reset_peak', 'tlsw_mem_alloc', 'tlsw_mem_free',
  'tlsw_lib_init', 'tlsw_lib_strerror', 'tlsw_lib_version', 'tlsw_hash_sha256', 'tlsw_hash_sha1',
  'tlsw_crypto_x25519', 'tlsw_crypto_ecdsa_verify', 'tlsw_crypto_chacha20', 'tlsw_crypto_poly1305', 'tlsw_crypto_chachapoly',
  'tlsw_result_ptr', 'tlsw_result_len', 'tlsw_result_free',
  'tlsw_cfg_new', 'tlsw_cfg_free', 'tlsw_cfg_set_versions', 'tlsw_cfg_set_authmode',
  'tlsw_cfg_set_ca', 'tlsw_cfg_add_cert', 'tlsw_cfg_set_alpn', 'tlsw_cfg_set_ciphersuites',
  'tlsw_cfg_set_groups', 'tlsw_cfg_set_tickets',
  'tlsw_conn_new', 'tlsw_conn_free', 'tlsw_conn_set_hostname', 'tlsw_conn_set_cert_cfg',
  'tlsw_conn_set_keylog', 'tlsw_conn_set_out_limit', 'tlsw_conn_park', 'tlsw_conn_parked',
  'tlsw_conn_in_reserve', 'tlsw_conn_in_commit', 'tlsw_conn_in_len', 'tlsw_conn_out_ptr',
  'tlsw_conn_out_len', 'tlsw_conn_out_consume', 'tlsw_conn_keylog_ptr', 'tlsw_conn_keylog_len',
  'tlsw_conn_keylog_clear', 'tlsw_conn_handshake', 'tlsw_conn_read', 'tlsw_conn_write',
  'tlsw_conn_flush', 'tlsw_conn_close_notify', 'tlsw_conn_send_alert', 'tlsw_conn_alert_received',
  'tlsw_conn_handshake_done', 'tlsw_conn_bytes_avail', 'tlsw_conn_check_pending',
  'tlsw_conn_out_left', 'tlsw_conn_version', 'tlsw_conn_ciphersuite', 'tlsw_conn_group', 'tlsw_conn_resumed',
  'tlsw_conn_max_payload', 'tlsw_conn_alpn', 'tlsw_conn_sni', 'tlsw_conn_verify_result',
  'tlsw_conn_peer_cert_count', 'tlsw_conn_peer_cert_ptr', 'tlsw_conn_peer_cert_len',
  'tlsw_conn_session_save', 'tlsw_conn_session_load',
  'tlsw_bench_handshake', 'tlsw_bench_transfer',
  'tlsw_x509_selfsigned',
] as const;

/** Imports the module expects (module "env"); see wasm/imports.js. */
export interface TlswImports {
  tlsw_js_random(ptr: number, len: number): void;
  tlsw_js_now_ms(): number;
  emscripten_notify_memory_growth(index: number): void;
}

/** mbedTLS / shim return codes the TypeScript side branches on. */
export const RC = {
  WANT_READ: -0x6900,
  WANT_WRITE: -0x6880,
  PEER_CLOSE_NOTIFY: -0x7880,
  FATAL_ALERT_MESSAGE: -0x7780,
  RECEIVED_NEW_SESSION_TICKET: -0x7B00,
  X509_CERT_VERIFY_FAILED: -0x2700,
  BUFFER_TOO_SMALL: -0x6A00,
  SHIM_ALLOC: -0x10001,
  SHIM_BAD_ARG: -0x10002,
  SHIM_KEY_MISMATCH: -0x10003,
  SHIM_NO_CERT: -0x10004,
} as const;
