/*
 * mbedTLS configuration for mbedtls-wasm (wasm32, emscripten STANDALONE_WASM reactor).
 *
 * Written for this target rather than trimmed from the default config: everything here is a
 * deliberate choice, and anything absent is absent on purpose (no filesystem, threads, sockets,
 * timing module, renegotiation, CBC suites, DHE, static RSA key exchange).
 *
 * Platform glue lives in wasm/shim.c: time, entropy and the allocator are supplied by the shim
 * (and, through it, by imported JS functions), never by libc.
 */
#ifndef TLSW_MBEDTLS_CONFIG_H
#define TLSW_MBEDTLS_CONFIG_H

/* ---- platform ------------------------------------------------------------------------------ */

/* emscripten 3.1.6 has a 32-bit time_t, which wraps in 2038 and cannot express certificate
 * validity far in the future. mbedtls_time_t is 64-bit here and both clocks come from JS. */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_TIME_TYPE_MACRO long long
#define MBEDTLS_PLATFORM_TIME_MACRO tlsw_time
#define MBEDTLS_PLATFORM_MS_TIME_ALT     /* mbedtls_ms_time(): wall clock, drives TLS 1.3 ticket age */
#define MBEDTLS_PLATFORM_GMTIME_R_ALT    /* 64-bit civil-from-days conversion in the shim */
/* Allocation goes through counting wrappers installed at start-up with
 * mbedtls_platform_set_calloc_free(), so tests can prove the heap returns to its baseline. */
#define MBEDTLS_PLATFORM_MEMORY

/* No /dev/urandom in a standalone module: PSA draws from an imported crypto.getRandomValues. */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG

/* Wasm loads and stores may be unaligned, and on the engines' hosts (x86-64, arm64) they cost
 * the same as aligned ones; mbedTLS only assumes this for the CPUs it recognises. With it,
 * mbedtls_xor and the GHASH/ChaCha20 byte handling work a word at a time: AES-GCM runs ~2.4x
 * and ChaCha20-Poly1305 ~1.15x faster here (measured with the raw bench loop). */
#define MBEDTLS_EFFICIENT_UNALIGNED_ACCESS

/* ---- crypto primitives --------------------------------------------------------------------- */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES           /* static tables: no start-up generation, data segment */
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
/* Our ChaCha20 (wasm/chacha20.c): four blocks at a time with wasm SIMD, ~3x mbedTLS's portable
 * code here. Its context is in wasm/chacha20_alt.h. */
#define MBEDTLS_CHACHA20_ALT
#define MBEDTLS_POLY1305_C
/* Our Poly1305 (wasm/poly1305.c): radix 2^32 with the products kept in 64 bits, scalar in both
 * modules (~1.4x mbedTLS's code here; its context is in wasm/poly1305_alt.h). */
#define MBEDTLS_POLY1305_ALT
#define MBEDTLS_CHACHAPOLY_C
/* Our ChaCha20-Poly1305 (wasm/chachapoly.c): with wasm SIMD, Poly1305 runs on the scalar units
 * inside ChaCha20's vector rounds, so the AEAD costs about what ChaCha20 alone does (~1.6x
 * calling the two one after the other). Its context is in wasm/chachapoly_alt.h. */
#define MBEDTLS_CHACHAPOLY_ALT
#define MBEDTLS_CIPHER_C
#define MBEDTLS_CIPHER_MODE_CBC          /* encrypted PEM / PKCS#8 keys only; no CBC suites */
#define MBEDTLS_CIPHER_PADDING_PKCS7
#define MBEDTLS_MD_C
#define MBEDTLS_MD5_C                    /* legacy "Proc-Type: 4,ENCRYPTED" PEM key derivation */
#define MBEDTLS_SHA1_C                   /* PBKDF2-HMAC-SHA1 keys, key identifiers */
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#define MBEDTLS_HKDF_C                   /* the switch that enables PSA HKDF for TLS 1.3 */

#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE 6          /* faster scalar multiplication for a little memory */
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
/* Our own field arithmetic for mbedTLS's X25519 ladder (wasm/curve25519.c): mbedTLS's generic
 * bignums made one X25519 operation ~2.1 ms here, ~80% of a handshake. Only Curve25519 takes
 * these hooks (mbedtls_internal_ecp_grp_capable); other curves run mbedTLS's code. */
#define MBEDTLS_ECP_INTERNAL_ALT
#define MBEDTLS_ECP_DOUBLE_ADD_MXZ_ALT
#define MBEDTLS_ECP_NORMALIZE_MXZ_ALT
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
/* Our own P-256 ECDSA verification (wasm/ecdsa-verify.c; other curves keep mbedTLS's
 * arithmetic): mbedTLS's generic bignums took ~2.3 ms per verification here, and a TLS client
 * verifies two per handshake. */
#define MBEDTLS_ECDSA_VERIFY_ALT
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21                /* RSA-PSS: required for RSA certificates in TLS 1.3 */

#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_PKCS5_C                  /* PBES2 encrypted PKCS#8 keys */

/* PSA: TLS 1.3 runs on it. A dynamic key store: a fixed one has 32 slots and fails from the
 * 4th live TLS 1.3 connection with misleading errors. */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_KEY_STORE_DYNAMIC
/* One thread, and no shared memory: nobody else can touch a buffer during a PSA call, so PSA
 * need not copy every input and output (a 16 KiB record was copied twice per AEAD call). */
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS

/* ---- X.509 --------------------------------------------------------------------------------- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C         /* generateSelfSigned() */

/* ---- TLS ----------------------------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_ALPN
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* getPeerCertificate(); TLS 1.3 requires it */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
/* Renegotiation is compiled out: a peer's HelloRequest / renegotiation ClientHello is refused
 * with a no_renegotiation alert by mbedTLS. */

/* Error strings for TlsError.message (mbedtls_strerror). */
#define MBEDTLS_ERROR_C

/* ---- prototypes for the platform macros above (implemented in wasm/shim.c) ------------------- */
#if !defined(__ASSEMBLER__)
long long tlsw_time(long long *t);
#endif

#endif /* TLSW_MBEDTLS_CONFIG_H */
