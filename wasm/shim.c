/*
 * mbedtls-wasm C shim: the only C code of the project besides mbedTLS itself.
 *
 * Every export is `tlsw_<object>_<verb>` and is mirrored, one for one, by src/wasm/ffi.ts
 * (the two tables must match). Nothing here does I/O: a connection's BIO callbacks read from an
 * inbound byte queue that JS fills and write to an outbound byte queue that JS drains. mbedTLS
 * return codes are passed back unchanged (0 / positive = success, negative = mbedTLS error).
 *
 * Objects:
 *   tlsw_cfg   one mbedtls_ssl_config plus everything it points to (CA chain, own certificates,
 *              ticket keys, ALPN list, suite list). Reference counted: its JS owner holds one
 *              reference and every connection made from it holds one, so a config outlives
 *              the connections that use it however the JS side orders its dispose() calls.
 *   tlsw_conn  one mbedtls_ssl_context plus its byte queues and per-connection facts (SNI,
 *              resumption, keylog lines). Freed exactly once by tlsw_conn_free.
 *
 * Memory: all allocation (ours and mbedTLS's) goes through counting wrappers so tests can prove
 * that the heap returns to its baseline. An idle established connection can be "parked": its
 * two 16 KiB record buffers are released and re-created on the next call that needs them
 * (see tlsw_conn_park), which is how an idle connection stays far below 40 KB.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_ticket.h"
#include "mbedtls/x509_crt.h"
#include "mbedtls/pk.h"
#include "mbedtls/ecp.h"
#include "mbedtls/error.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/psa_util.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha1.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/poly1305.h"
#include "psa/crypto.h"
#include "ssl_misc.h" /* library-internal: record buffer pointers for parking, flush */

#include <emscripten.h>

#define TLSW_API EMSCRIPTEN_KEEPALIVE

/* Imports, provided by makeImports() in src/wasm/module.ts (declared for the linker in wasm/imports.js). */
extern void tlsw_js_random(uint8_t *out, size_t len);
extern double tlsw_js_now_ms(void);

/* Shim error codes: outside every mbedTLS module's range (mbedTLS uses -0x0001..-0x7FFF). */
#define TLSW_ERR_ALLOC          (-0x10001)
#define TLSW_ERR_BAD_ARG        (-0x10002)
#define TLSW_ERR_KEY_MISMATCH   (-0x10003)
#define TLSW_ERR_NO_CERT        (-0x10004)
#define TLSW_ERR_STATE          (-0x10005)

/* ---------------------------------------------------------------------------------------------
 * Allocation accounting
 * ------------------------------------------------------------------------------------------- */

/* A 16-byte header keeps user pointers 16-byte aligned and remembers the size for accounting. */
typedef struct { size_t size; size_t pad[3]; } alloc_hdr;

static long g_alloc_count;   /* live allocations */
static long g_alloc_bytes;   /* live bytes (user sizes) */
static long g_alloc_peak;    /* high-water mark of live bytes */
static long g_alloc_total;   /* allocations ever made */

static void *tlsw_calloc(size_t n, size_t size)
{
    if (size != 0 && n > (SIZE_MAX - sizeof(alloc_hdr)) / size) return NULL;
    size_t bytes = n * size;
    alloc_hdr *h = calloc(1, sizeof(alloc_hdr) + bytes);
    if (h == NULL) return NULL;
    h->size = bytes;
    g_alloc_count++;
    g_alloc_total++;
    g_alloc_bytes += (long) bytes;
    if (g_alloc_bytes > g_alloc_peak) g_alloc_peak = g_alloc_bytes;
    return h + 1;
}

static void tlsw_free(void *p)
{
    if (p == NULL) return;
    alloc_hdr *h = (alloc_hdr *) p - 1;
    g_alloc_count--;
    g_alloc_bytes -= (long) h->size;
    free(h);
}

/* Growing a buffer: allocate, copy, free (accounting stays exact). */
static void *tlsw_realloc(void *p, size_t old_size, size_t new_size)
{
    void *q = tlsw_calloc(1, new_size);
    if (q == NULL) return NULL;
    if (p != NULL) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        tlsw_free(p);
    }
    return q;
}

TLSW_API long tlsw_alloc_count(void) { return g_alloc_count; }
TLSW_API long tlsw_alloc_bytes(void) { return g_alloc_bytes; }
TLSW_API long tlsw_alloc_peak(void) { return g_alloc_peak; }
TLSW_API long tlsw_alloc_total(void) { return g_alloc_total; }
TLSW_API void tlsw_alloc_reset_peak(void) { g_alloc_peak = g_alloc_bytes; }

/* Plain buffers for JS to pass data in (PEM, passphrases, plaintext). Counted like the rest. */
TLSW_API void *tlsw_mem_alloc(size_t n) { return tlsw_calloc(1, n ? n : 1); }
TLSW_API void tlsw_mem_free(void *p) { tlsw_free(p); }

/* ---------------------------------------------------------------------------------------------
 * Platform: time and entropy from JS
 * ------------------------------------------------------------------------------------------- */

long long tlsw_time(long long *t)
{
    long long now = (long long) (tlsw_js_now_ms() / 1000.0);
    if (t != NULL) *t = now;
    return now;
}

mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t) tlsw_js_now_ms();
}

/* Days-from-civil inverse (Howard Hinnant's algorithm), valid for any 64-bit time. */
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf)
{
    long long t = *tt;
    long long days = t / 86400, secs = t % 86400;
    if (secs < 0) { secs += 86400; days -= 1; }
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y += 1;
    memset(tm_buf, 0, sizeof(*tm_buf));
    tm_buf->tm_year = (int) (y - 1900);
    tm_buf->tm_mon = (int) (m - 1);
    tm_buf->tm_mday = (int) d;
    tm_buf->tm_hour = (int) (secs / 3600);
    tm_buf->tm_min = (int) ((secs % 3600) / 60);
    tm_buf->tm_sec = (int) (secs % 60);
    return tm_buf;
}

/* crypto.getRandomValues fills at most 65,536 bytes per call. */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void) context;
    size_t done = 0;
    while (done < output_size) {
        size_t n = output_size - done;
        if (n > 65536) n = 65536;
        tlsw_js_random(output + done, n);
        done += n;
    }
    *output_length = output_size;
    return PSA_SUCCESS;
}

static int g_ready;

/* Called once by the loader before anything else: allocator hooks and PSA. */
TLSW_API int tlsw_lib_init(void)
{
    if (g_ready) return 0;
    mbedtls_platform_set_calloc_free(tlsw_calloc, tlsw_free);
    psa_status_t st = psa_crypto_init();
    if (st != PSA_SUCCESS) return MBEDTLS_ERR_ERROR_GENERIC_ERROR;
    g_ready = 1;
    return 0;
}

TLSW_API void tlsw_lib_strerror(int code, char *buf, size_t len)
{
    mbedtls_strerror(code, buf, len);
}

TLSW_API int tlsw_lib_version(void) { return MBEDTLS_VERSION_NUMBER; }

TLSW_API void tlsw_hash_sha256(const uint8_t *in, size_t len, uint8_t *out32)
{
    mbedtls_sha256(in, len, out32, 0);
}

TLSW_API void tlsw_hash_sha1(const uint8_t *in, size_t len, uint8_t *out20)
{
    mbedtls_sha1(in, len, out20);
}

/* ---- primitives with our own implementations (wasm/curve25519.c, ecdsa-verify.c, chacha20.c),
 * exported so tests can hold them against other implementations (test/crypto.test.ts). Each
 * goes through the same mbedTLS entry points a TLS connection uses. */

/* X25519 through PSA, as TLS 1.3 key exchange does. Returns a PSA status (0: ok). */
TLSW_API int tlsw_crypto_x25519(const uint8_t *priv32, const uint8_t *pub32, uint8_t *out32)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_key_id_t key = 0;
    size_t olen = 0;
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY));
    psa_set_key_bits(&attr, 255);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_DERIVE);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDH);
    psa_status_t st = psa_import_key(&attr, priv32, 32, &key);
    if (st == PSA_SUCCESS) {
        st = psa_raw_key_agreement(PSA_ALG_ECDH, key, pub32, 32, out32, 32, &olen);
        psa_destroy_key(key);
    }
    return (int) st;
}

/* ECDSA verification of a hash (32, 48 or 64 bytes) against a SubjectPublicKeyInfo, through
 * mbedtls_pk_verify as certificate and handshake signatures are. Returns an mbedTLS code. */
TLSW_API int tlsw_crypto_ecdsa_verify(const uint8_t *spki, size_t spki_len, const uint8_t *hash,
                                      size_t hlen, const uint8_t *sig, size_t sig_len)
{
    mbedtls_md_type_t md = hlen == 32 ? MBEDTLS_MD_SHA256 : hlen == 48 ? MBEDTLS_MD_SHA384
                         : hlen == 64 ? MBEDTLS_MD_SHA512 : MBEDTLS_MD_NONE;
    if (md == MBEDTLS_MD_NONE) {
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    int ret = mbedtls_pk_parse_public_key(&pk, spki, spki_len);
    if (ret == 0) {
        ret = mbedtls_pk_can_do(&pk, MBEDTLS_PK_ECKEY) ? mbedtls_pk_verify(&pk, md, hash, hlen, sig, sig_len)
                                                      : MBEDTLS_ERR_PK_TYPE_MISMATCH;
    }
    mbedtls_pk_free(&pk);
    return ret;
}

/* ChaCha20 keystream xor from block `counter`, fed to mbedtls_chacha20_update in pieces of
 * `step` bytes (0: all at once), so tests reach the leftover-keystream paths. */
TLSW_API int tlsw_crypto_chacha20(const uint8_t *key32, const uint8_t *nonce12, uint32_t counter,
                                  const uint8_t *in, uint8_t *out, size_t len, size_t step)
{
    mbedtls_chacha20_context ctx;
    mbedtls_chacha20_init(&ctx);
    int ret = mbedtls_chacha20_setkey(&ctx, key32);
    if (ret == 0) {
        ret = mbedtls_chacha20_starts(&ctx, nonce12, counter);
    }
    for (size_t off = 0; ret == 0 && off < len;) {
        size_t n = (step == 0 || step > len - off) ? len - off : step;
        ret = mbedtls_chacha20_update(&ctx, n, in + off, out + off);
        off += n;
    }
    mbedtls_chacha20_free(&ctx);
    return ret;
}

/* Poly1305 (RFC 8439) of `len` bytes fed in pieces of `step` bytes (0: all at once), through
 * mbedtls_poly1305_update as ChaCha20-Poly1305 calls it. */
TLSW_API int tlsw_crypto_poly1305(const uint8_t *key32, const uint8_t *in, size_t len, size_t step,
                                  uint8_t *mac16)
{
    mbedtls_poly1305_context ctx;
    mbedtls_poly1305_init(&ctx);
    int ret = mbedtls_poly1305_starts(&ctx, key32);
    for (size_t off = 0; ret == 0 && off < len;) {
        size_t n = (step == 0 || step > len - off) ? len - off : step;
        ret = mbedtls_poly1305_update(&ctx, in + off, n);
        off += n;
    }
    if (ret == 0) {
        ret = mbedtls_poly1305_finish(&ctx, mac16);
    }
    mbedtls_poly1305_free(&ctx);
    return ret;
}

/* ChaCha20-Poly1305 (RFC 8439): seals (open = 0) or opens `len` bytes. With `step` 0 through the
 * one-shot functions PSA calls for every TLS record (mbedtls_chachapoly_encrypt_and_tag, which
 * writes the tag to tag16, or mbedtls_chachapoly_auth_decrypt, which checks tag16); otherwise
 * through starts/update/finish with the data fed in pieces of `step` bytes, so every partial
 * block path is reached too, and the tag computed is written to tag16. `in` may equal `out`. */
TLSW_API int tlsw_crypto_chachapoly(const uint8_t *key32, const uint8_t *nonce12, const uint8_t *aad,
                                    size_t aad_len, const uint8_t *in, uint8_t *out, size_t len,
                                    size_t step, uint8_t *tag16, int open)
{
    mbedtls_chachapoly_context ctx;
    mbedtls_chachapoly_init(&ctx);
    int ret = mbedtls_chachapoly_setkey(&ctx, key32);
    if (ret == 0 && step == 0) {
        ret = open ? mbedtls_chachapoly_auth_decrypt(&ctx, len, nonce12, aad, aad_len, tag16, in, out)
                   : mbedtls_chachapoly_encrypt_and_tag(&ctx, len, nonce12, aad, aad_len, in, out, tag16);
        mbedtls_chachapoly_free(&ctx);
        return ret;
    }
    if (ret == 0) {
        ret = mbedtls_chachapoly_starts(&ctx, nonce12, open ? MBEDTLS_CHACHAPOLY_DECRYPT : MBEDTLS_CHACHAPOLY_ENCRYPT);
    }
    if (ret == 0) {
        ret = mbedtls_chachapoly_update_aad(&ctx, aad, aad_len);
    }
    for (size_t off = 0; ret == 0 && off < len;) {
        size_t n = step > len - off ? len - off : step;
        ret = mbedtls_chachapoly_update(&ctx, n, in + off, out + off);
        off += n;
    }
    if (ret == 0) {
        ret = mbedtls_chachapoly_finish(&ctx, tag16);
    }
    mbedtls_chachapoly_free(&ctx);
    return ret;
}

/* One result buffer for functions that return variable-length data (session blobs, PEM).
 * Single-threaded module: the caller copies it out before the next call that sets it. */
static uint8_t *g_result;
static size_t g_result_len;

static void result_clear(void)
{
    if (g_result != NULL) {
        mbedtls_platform_zeroize(g_result, g_result_len);
        tlsw_free(g_result);
    }
    g_result = NULL;
    g_result_len = 0;
}

static int result_set(const uint8_t *p, size_t len)
{
    result_clear();
    g_result = tlsw_calloc(1, len ? len : 1);
    if (g_result == NULL) return TLSW_ERR_ALLOC;
    if (len) memcpy(g_result, p, len);
    g_result_len = len;
    return (int) len;
}

TLSW_API uint8_t *tlsw_result_ptr(void) { return g_result; }
TLSW_API size_t tlsw_result_len(void) { return g_result_len; }
TLSW_API void tlsw_result_free(void) { result_clear(); }

/* ---------------------------------------------------------------------------------------------
 * Byte queue
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    uint8_t *buf;
    size_t cap, start, end;
} bytequeue;

static size_t bq_len(const bytequeue *q) { return q->end - q->start; }

static void bq_release(bytequeue *q)
{
    if (q->buf != NULL) tlsw_free(q->buf);
    memset(q, 0, sizeof(*q));
}

/* Make room for n more bytes at the end; returns the write pointer or NULL. */
static uint8_t *bq_reserve(bytequeue *q, size_t n)
{
    if (q->start == q->end) q->start = q->end = 0;
    if (q->cap - q->end >= n) return q->buf + q->end;
    size_t used = bq_len(q);
    if (q->cap - used >= n && q->start > 0) {
        memmove(q->buf, q->buf + q->start, used);
    } else {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap - used < n) cap *= 2;
        uint8_t *nb = tlsw_calloc(1, cap);
        if (nb == NULL) return NULL;
        if (used) memcpy(nb, q->buf + q->start, used);
        if (q->buf) tlsw_free(q->buf);
        q->buf = nb;
        q->cap = cap;
    }
    q->end = used;
    q->start = 0;
    return q->buf + q->end;
}

static void bq_consume(bytequeue *q, size_t n)
{
    if (n > bq_len(q)) n = bq_len(q);
    q->start += n;
    if (q->start == q->end) q->start = q->end = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Config
 * ------------------------------------------------------------------------------------------- */

typedef struct tlsw_own {
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    char *servername;            /* NULL: default certificate; else only for this SNI (may be "*.x") */
    struct tlsw_own *next;
} tlsw_own;

/* A shallow copy of a config that differs only in its ciphersuite list, which starts with
 * `first` (see twin_for). Every pointer in it (certificates, CA, tickets, ALPN, SNI callback)
 * still belongs to the config's own `conf`, which outlives the connection using the twin. */
struct tlsw_twin { int first; int list[66]; mbedtls_ssl_config conf; };
#define TLSW_TWINS 4 /* a server rarely needs more than ChaCha20 (1.3, 1.2) and one AES suite */

typedef struct tlsw_cfg {
    mbedtls_ssl_config conf;
    int refs;
    int endpoint;
    int has_ca;
    mbedtls_x509_crt ca;
    tlsw_own *own;
    int has_ticket;
    mbedtls_ssl_ticket_context ticket;
    char *alpn_buf;
    const char **alpn;
    int *suites;
    uint16_t *groups;
    /* Server: shallow twins of `conf` whose suite list starts with one given suite (see
     * twin_for): TLSW_TWINS of them in one block, allocated the first time one is needed. */
    struct tlsw_twin *twins;
} tlsw_cfg;

static void cfg_release(tlsw_cfg *cfg);

static int sni_callback(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len);

/* Preference order: ChaCha20-Poly1305 first (several times faster than AES-GCM in Wasm, which
 * has no AES instructions), then AES-128-GCM, then AES-256-GCM. */
static const int default_suites[] = {
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0
};

static const uint16_t default_groups[] = {
    MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
    MBEDTLS_SSL_IANA_TLS_GROUP_NONE
};

/* The client's signature_algorithms, RSA PKCS#1 v1.5 before RSA-PSS. mbedTLS 3.6.6's TLS 1.2
 * client offers rsa_pss_rsae_* but then rejects a ServerKeyExchange signed with them
 * (mbedtls_ssl_tls12_sig_alg_is_supported knows only the RSA and ECDSA signature bytes; upstream
 * issue Mbed-TLS/mbedtls#10668). TLS 1.2 servers that honour the client's order (OpenSSL,
 * GnuTLS) then pick PKCS#1 v1.5, which TLS 1.2 allows; TLS 1.3 peers skip the PKCS#1 entries for
 * handshake signatures (RFC 8446 4.2.3) and use RSA-PSS as before. */
static const uint16_t client_sig_algs[] = {
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256,
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,
    MBEDTLS_TLS_SIG_NONE
};

/* endpoint: 0 client, 1 server. Returns NULL on allocation failure. */
TLSW_API tlsw_cfg *tlsw_cfg_new(int endpoint)
{
    tlsw_cfg *cfg = tlsw_calloc(1, sizeof(*cfg));
    if (cfg == NULL) return NULL;
    cfg->refs = 1;
    cfg->endpoint = endpoint ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT;
    mbedtls_ssl_config_init(&cfg->conf);
    if (mbedtls_ssl_config_defaults(&cfg->conf, cfg->endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        cfg_release(cfg);
        return NULL;
    }
    mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, default_suites);
    mbedtls_ssl_conf_groups(&cfg->conf, default_groups);
    if (!endpoint) mbedtls_ssl_conf_sig_algs(&cfg->conf, client_sig_algs);
    mbedtls_ssl_conf_min_tls_version(&cfg->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&cfg->conf, MBEDTLS_SSL_VERSION_TLS1_3);
    /* Clients verify in "optional" mode and decide afterwards, as node:tls does: the chain
     * result and the hostname check (checkServerIdentity, in JS) are reported together, and
     * rejectUnauthorized turns a failure into a fatal error. Servers set their mode explicitly. */
    mbedtls_ssl_conf_authmode(&cfg->conf, endpoint ? MBEDTLS_SSL_VERIFY_NONE
                                                   : MBEDTLS_SSL_VERIFY_OPTIONAL);
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
    if (!endpoint) {
        mbedtls_ssl_conf_session_tickets(&cfg->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
        /* Report TLS 1.3 NewSessionTicket to the caller so a 'session' event can be emitted. */
        mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
            &cfg->conf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    } else {
        mbedtls_ssl_conf_new_session_tickets(&cfg->conf, 1);
    }
#endif
    if (endpoint) mbedtls_ssl_conf_sni(&cfg->conf, sni_callback, cfg);
    return cfg;
}

static void cfg_release(tlsw_cfg *cfg)
{
    if (cfg == NULL || --cfg->refs > 0) return;
    mbedtls_ssl_config_free(&cfg->conf);
    if (cfg->has_ca) mbedtls_x509_crt_free(&cfg->ca);
    tlsw_own *o = cfg->own;
    while (o != NULL) {
        tlsw_own *next = o->next;
        mbedtls_x509_crt_free(&o->crt);
        mbedtls_pk_free(&o->key);
        tlsw_free(o->servername);
        tlsw_free(o);
        o = next;
    }
    if (cfg->has_ticket) mbedtls_ssl_ticket_free(&cfg->ticket);
    tlsw_free(cfg->alpn_buf);
    tlsw_free(cfg->alpn);
    tlsw_free(cfg->suites);
    tlsw_free(cfg->groups);
    tlsw_free(cfg->twins);
    tlsw_free(cfg);
}

/* Drops the JS owner's reference; freed now or when its last connection is freed. */
TLSW_API void tlsw_cfg_free(tlsw_cfg *cfg) { cfg_release(cfg); }

/* min/max: 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3). */
TLSW_API int tlsw_cfg_set_versions(tlsw_cfg *cfg, int min, int max)
{
    if (min < 0x0303 || max > 0x0304 || min > max) return TLSW_ERR_BAD_ARG;
    mbedtls_ssl_conf_min_tls_version(&cfg->conf, (mbedtls_ssl_protocol_version) min);
    mbedtls_ssl_conf_max_tls_version(&cfg->conf, (mbedtls_ssl_protocol_version) max);
    return 0;
}

/* mode: 0 none, 1 optional, 2 required (MBEDTLS_SSL_VERIFY_*). */
TLSW_API int tlsw_cfg_set_authmode(tlsw_cfg *cfg, int mode)
{
    if (mode < 0 || mode > 2) return TLSW_ERR_BAD_ARG;
    mbedtls_ssl_conf_authmode(&cfg->conf, mode);
    return 0;
}

/* pem must include its trailing NUL (len counts it). Several CA certificates may be concatenated. */
TLSW_API int tlsw_cfg_set_ca(tlsw_cfg *cfg, const uint8_t *pem, size_t len)
{
    if (cfg->has_ca) mbedtls_x509_crt_free(&cfg->ca);
    mbedtls_x509_crt_init(&cfg->ca);
    cfg->has_ca = 1;
    int ret = mbedtls_x509_crt_parse(&cfg->ca, pem, len);
    if (ret != 0) {
        /* ret > 0: some certificates failed to parse; treat garbage in a CA list as an error. */
        mbedtls_x509_crt_free(&cfg->ca);
        cfg->has_ca = 0;
        return ret > 0 ? MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT : ret;
    }
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->ca, NULL);
    return 0;
}

/* A certificate chain (leaf first) with its private key. servername NULL or "" makes it a
 * default certificate; otherwise it is used when the client's SNI matches (exact, or "*.x"). */
TLSW_API int tlsw_cfg_add_cert(tlsw_cfg *cfg, const uint8_t *cert_pem, size_t cert_len,
                               const uint8_t *key_pem, size_t key_len,
                               const uint8_t *pass, size_t pass_len, const char *servername)
{
    tlsw_own *o = tlsw_calloc(1, sizeof(*o));
    if (o == NULL) return TLSW_ERR_ALLOC;
    mbedtls_x509_crt_init(&o->crt);
    mbedtls_pk_init(&o->key);
    int ret = mbedtls_x509_crt_parse(&o->crt, cert_pem, cert_len);
    if (ret > 0) ret = MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT;
    if (ret == 0) {
        ret = mbedtls_pk_parse_key(&o->key, key_pem, key_len, pass_len ? pass : NULL, pass_len,
                                   mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    }
    if (ret == 0) {
        ret = mbedtls_pk_check_pair(&o->crt.pk, &o->key, mbedtls_psa_get_random,
                                    MBEDTLS_PSA_RANDOM_STATE);
        if (ret != 0) ret = TLSW_ERR_KEY_MISMATCH;
    }
    if (ret == 0 && servername != NULL && servername[0] != '\0') {
        size_t n = strlen(servername);
        o->servername = tlsw_calloc(1, n + 1);
        if (o->servername == NULL) ret = TLSW_ERR_ALLOC;
        else memcpy(o->servername, servername, n);
    }
    if (ret == 0 && o->servername == NULL) {
        ret = mbedtls_ssl_conf_own_cert(&cfg->conf, &o->crt, &o->key);
    }
    if (ret != 0) {
        mbedtls_x509_crt_free(&o->crt);
        mbedtls_pk_free(&o->key);
        tlsw_free(o->servername);
        tlsw_free(o);
        return ret;
    }
    /* Append, keeping the caller's order (the first default certificate is preferred). */
    tlsw_own **tail = &cfg->own;
    while (*tail != NULL) tail = &(*tail)->next;
    *tail = o;
    return 0;
}

/* Protocols as one buffer of NUL-terminated names, count n (at most 16). */
TLSW_API int tlsw_cfg_set_alpn(tlsw_cfg *cfg, const char *names, size_t total_len, int n)
{
    if (n < 1 || n > 16) return TLSW_ERR_BAD_ARG;
    char *buf = tlsw_calloc(1, total_len + 1);
    const char **list = tlsw_calloc((size_t) n + 1, sizeof(char *));
    if (buf == NULL || list == NULL) { tlsw_free(buf); tlsw_free(list); return TLSW_ERR_ALLOC; }
    memcpy(buf, names, total_len);
    const char *p = buf;
    for (int i = 0; i < n; i++) {
        if ((size_t) (p - buf) >= total_len) { tlsw_free(buf); tlsw_free(list); return TLSW_ERR_BAD_ARG; }
        list[i] = p;
        p += strlen(p) + 1;
    }
    int ret = mbedtls_ssl_conf_alpn_protocols(&cfg->conf, list);
    if (ret != 0) { tlsw_free(buf); tlsw_free(list); return ret; }
    tlsw_free(cfg->alpn_buf);
    tlsw_free(cfg->alpn);
    cfg->alpn_buf = buf;
    cfg->alpn = list;
    return 0;
}

/* IANA ciphersuite ids in preference order. Unknown ids are rejected. */
TLSW_API int tlsw_cfg_set_ciphersuites(tlsw_cfg *cfg, const int *ids, int n)
{
    if (n < 1 || n > 64) return TLSW_ERR_BAD_ARG;
    for (int i = 0; i < n; i++) {
        if (mbedtls_ssl_ciphersuite_from_id(ids[i]) == NULL) return TLSW_ERR_BAD_ARG;
    }
    int *list = tlsw_calloc((size_t) n + 1, sizeof(int));
    if (list == NULL) return TLSW_ERR_ALLOC;
    memcpy(list, ids, (size_t) n * sizeof(int));
    mbedtls_ssl_conf_ciphersuites(&cfg->conf, list);
    tlsw_free(cfg->suites);
    cfg->suites = list;
    return 0;
}

/* IANA group ids (x25519 = 29, secp256r1 = 23, secp384r1 = 24) in preference order. */
TLSW_API int tlsw_cfg_set_groups(tlsw_cfg *cfg, const int *ids, int n)
{
    if (n < 1 || n > 8) return TLSW_ERR_BAD_ARG;
    uint16_t *list = tlsw_calloc((size_t) n + 1, sizeof(uint16_t));
    if (list == NULL) return TLSW_ERR_ALLOC;
    for (int i = 0; i < n; i++) {
        if (ids[i] != 29 && ids[i] != 23 && ids[i] != 24) { tlsw_free(list); return TLSW_ERR_BAD_ARG; }
        list[i] = (uint16_t) ids[i];
    }
    mbedtls_ssl_conf_groups(&cfg->conf, list);
    tlsw_free(cfg->groups);
    cfg->groups = list;
    return 0;
}

static int ticket_parse(void *p_ticket, mbedtls_ssl_session *session, unsigned char *buf, size_t len);

/* Server: issue session tickets (TLS 1.2 tickets, TLS 1.3 PSK tickets); lifetime in seconds,
 * 0 disables. Ticket keys are random per config and rotate with the lifetime. */
TLSW_API int tlsw_cfg_set_tickets(tlsw_cfg *cfg, int lifetime)
{
    if (cfg->endpoint != MBEDTLS_SSL_IS_SERVER) return TLSW_ERR_BAD_ARG;
    if (cfg->has_ticket) {
        mbedtls_ssl_ticket_free(&cfg->ticket);
        cfg->has_ticket = 0;
    }
    if (lifetime <= 0) {
        mbedtls_ssl_conf_session_tickets_cb(&cfg->conf, NULL, NULL, NULL);
        mbedtls_ssl_conf_new_session_tickets(&cfg->conf, 0);
        return 0;
    }
    mbedtls_ssl_ticket_init(&cfg->ticket);
    int ret = mbedtls_ssl_ticket_setup(&cfg->ticket, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE,
                                       MBEDTLS_CIPHER_CHACHA20_POLY1305, (uint32_t) lifetime);
    if (ret != 0) { mbedtls_ssl_ticket_free(&cfg->ticket); return ret; }
    cfg->has_ticket = 1;
    mbedtls_ssl_conf_session_tickets_cb(&cfg->conf, mbedtls_ssl_ticket_write,
                                        ticket_parse, &cfg->ticket);
    mbedtls_ssl_conf_new_session_tickets(&cfg->conf, 1);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------------------------------- */

#define PARK_PREFIX 64

typedef struct tlsw_conn {
    mbedtls_ssl_context ssl;
    tlsw_cfg *cfg;
    tlsw_cfg *cert_cfg;          /* server: certificates chosen for this SNI (SNICallback) */
    bytequeue in, out;
    size_t out_limit;            /* the BIO refuses (WANT_WRITE) beyond this many queued bytes */
    bytequeue keylog;
    int keylog_on;
    int resumed;
    int alert;                   /* description of a fatal alert received from the peer, or -1 */
    int suite_picked;            /* server: the TLS 1.3 suite decision was made (pick_tls13_suite) */
    uint16_t group;              /* IANA group of the (EC)DHE key exchange, 0 when none (see export_keys) */
    char *sni;
    /* Parked record buffers (see tlsw_conn_park). */
    int parked;
    uint8_t in_prefix[PARK_PREFIX], out_prefix[PARK_PREFIX];
    size_t in_off[5], out_off[5];
} tlsw_conn;

static int bio_send(void *p, const unsigned char *buf, size_t len)
{
    tlsw_conn *c = p;
    size_t used = bq_len(&c->out);
    if (used >= c->out_limit) return MBEDTLS_ERR_SSL_WANT_WRITE;
    size_t n = c->out_limit - used;
    if (n > len) n = len;
    uint8_t *dst = bq_reserve(&c->out, n);
    if (dst == NULL) return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    memcpy(dst, buf, n);
    c->out.end += n;
    return (int) n;
}

static int is_tls13_suite(int id) { return id >= 0x1301 && id <= 0x1305; }

/* Whether a 0-terminated suite list holds `id`. */
static int list_has(const int *list, int id)
{
    for (size_t i = 0; list[i] != 0; i++) {
        if (list[i] == id) return 1;
    }
    return 0;
}

/* The twin of cfg->conf whose list starts with `first`: for a TLS 1.3 suite, that suite and
 * every TLS 1.2 suite (so TLS 1.3 can only pick it); for a TLS 1.2 suite, that suite and then
 * the others in order. Refreshed from `conf` on every use, so it is never stale; identical but
 * for the list, so connections already using it see nothing change. NULL when `first` is not
 * in the list or every slot is taken (the caller then keeps the config as it is: the suite
 * choice falls back to mbedTLS's own, nothing fails). */
static const mbedtls_ssl_config *twin_for(tlsw_cfg *cfg, int first)
{
    const int *ours = cfg->conf.ciphersuite_list;
    if (!list_has(ours, first)) return NULL;
    if (cfg->twins == NULL) {
        cfg->twins = tlsw_calloc(TLSW_TWINS, sizeof(struct tlsw_twin));
        if (cfg->twins == NULL) return NULL;
    }
    struct tlsw_twin *t = NULL;
    for (size_t k = 0; k < TLSW_TWINS && t == NULL; k++) {
        if (cfg->twins[k].first == 0) cfg->twins[k].first = first;
        if (cfg->twins[k].first == first) t = &cfg->twins[k];
    }
    if (t == NULL) return NULL;
    size_t n = 0;
    t->list[n++] = first;
    for (size_t i = 0; ours[i] != 0 && n < 65; i++) {
        if (ours[i] == first || (is_tls13_suite(first) && is_tls13_suite(ours[i]))) continue;
        t->list[n++] = ours[i];
    }
    t->list[n] = 0;
    memcpy(&t->conf, &cfg->conf, sizeof(cfg->conf));
    t->conf.ciphersuite_list = t->list;
    return &t->conf;
}

/* The connection mbedTLS is working on right now (set at every entry into the handshake; one
 * thread): the ticket callback is not told which connection it parses for. */
static struct tlsw_conn *g_active;

/* A resumption must keep its session's suite: RFC 5246 7.4.1.3 (TLS 1.2) and RFC 8446 4.2.11
 * (TLS 1.3, where the PSK's suite must be offered by our list). mbedTLS 3.6's TLS 1.2 server
 * instead picks its own preferred suite while resuming a ticket, and the handshake fails when the
 * two differ; and a TLS 1.3 list narrowed by pick_tls13_suite would refuse the PSK. So once a
 * ticket decrypts, the connection's list starts with the session's suite (a twin), before
 * mbedTLS picks a suite. */
static int ticket_parse(void *p_ticket, mbedtls_ssl_session *session, unsigned char *buf, size_t len);

static int suite_offered(const uint8_t *suites, size_t len, int id)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        if (((suites[i] << 8) | suites[i + 1]) == id) return 1;
    }
    return 0;
}

/* Server preference for TLS 1.3 suites.
 *
 * mbedTLS 3.6's TLS 1.2 server picks the first suite of ITS list that the client offers, but its
 * TLS 1.3 server picks the first suite of the CLIENT's list (ssl_tls13_select_ciphersuite), so
 * browsers and OpenSSL, which list AES-GCM first, would get the suite that is several times
 * slower in Wasm. Before mbedTLS sees the first ClientHello, the shim reads its cipher_suites
 * and, when the client offers a TLS 1.3 suite that comes earlier in the config's list than the
 * client's own first choice, points the connection at a twin of the config whose list has that
 * one TLS 1.3 suite (and every TLS 1.2 suite, unchanged). So TLS 1.3 follows the server's order
 * exactly as TLS 1.2 does, for the default order (ChaCha20 first) and for a `ciphers` option.
 *
 * Bytes are withheld from mbedTLS only while they are a plausible ClientHello whose suite list
 * has not fully arrived; mbedTLS would wait for that whole record anyway. Anything else (not a
 * handshake record, an oversized or fragmented ClientHello) is decided at once without a twin
 * and left to mbedTLS to accept or reject as usual. Returns 0 while more bytes are needed. */
static int pick_tls13_suite(tlsw_conn *c)
{
    const uint8_t *p = c->in.buf + c->in.start;
    size_t n = bq_len(&c->in);
    tlsw_cfg *cfg = c->cfg;
    if (cfg->endpoint != MBEDTLS_SSL_IS_SERVER ||
        cfg->conf.max_tls_version < MBEDTLS_SSL_VERSION_TLS1_3) goto decided;
    if (n < 1) return 0;
    if (p[0] != MBEDTLS_SSL_MSG_HANDSHAKE) goto decided;
    if (n < 5) return 0;
    size_t rec_end = 5 + (((size_t) p[3] << 8) | p[4]);
    if (p[1] != 3 || rec_end > 5 + MBEDTLS_SSL_IN_CONTENT_LEN) goto decided;
    if (n < 6) return 0;
    if (p[5] != MBEDTLS_SSL_HS_CLIENT_HELLO) goto decided;
    /* record header 5, handshake header 4, legacy_version 2, random 32, session id length 1 */
    if (rec_end < 44) goto decided;
    if (n < 44) return 0;
    size_t off = 44 + p[43];
    if (p[43] > 32 || off + 2 > rec_end) goto decided;
    if (n < off + 2) return 0;
    size_t cs_len = ((size_t) p[off] << 8) | p[off + 1];
    off += 2;
    if (off + cs_len > rec_end) goto decided;
    if (n < off + cs_len) return 0;
    const uint8_t *cs = p + off;

    const int *ours = cfg->conf.ciphersuite_list;
    int chosen = 0, clients_first = 0;
    for (size_t i = 0; ours[i] != 0 && chosen == 0; i++) {
        if (is_tls13_suite(ours[i]) && suite_offered(cs, cs_len, ours[i])) chosen = ours[i];
    }
    for (size_t i = 0; i + 1 < cs_len && clients_first == 0; i += 2) {
        int id = (cs[i] << 8) | cs[i + 1];
        if (is_tls13_suite(id) && list_has(ours, id)) clients_first = id;
    }
    if (chosen == 0 || chosen == clients_first) goto decided;
    const mbedtls_ssl_config *twin = twin_for(cfg, chosen);
    if (twin != NULL) c->ssl.conf = twin;
decided:
    c->suite_picked = 1;
    return 1;
}

static int ticket_parse(void *p_ticket, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
    int ret = mbedtls_ssl_ticket_parse(p_ticket, session, buf, len);
    tlsw_conn *c = g_active;
    if (ret == 0 && c != NULL && c->cfg->endpoint == MBEDTLS_SSL_IS_SERVER) {
        const mbedtls_ssl_config *twin = twin_for(c->cfg, session->ciphersuite);
        if (twin != NULL) c->ssl.conf = twin;
    }
    return ret;
}

static int bio_recv(void *p, unsigned char *buf, size_t len)
{
    tlsw_conn *c = p;
    if (!c->suite_picked && pick_tls13_suite(c) == 0) return MBEDTLS_ERR_SSL_WANT_READ;
    size_t avail = bq_len(&c->in);
    if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = avail < len ? avail : len;
    memcpy(buf, c->in.buf + c->in.start, n);
    bq_consume(&c->in, n);
    return (int) n;
}

static void hex_append(bytequeue *q, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t *dst = bq_reserve(q, n * 2);
    if (dst == NULL) return;
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = (uint8_t) hex[p[i] >> 4];
        dst[2 * i + 1] = (uint8_t) hex[p[i] & 15];
    }
    q->end += n * 2;
}

static void str_append(bytequeue *q, const char *s)
{
    size_t n = strlen(s);
    uint8_t *dst = bq_reserve(q, n);
    if (dst == NULL) return;
    memcpy(dst, s, n);
    q->end += n;
}

/* NSS key log format, one line per secret: LABEL <client_random hex> <secret hex>. */
static void export_keys(void *p, mbedtls_ssl_key_export_type type, const unsigned char *secret,
                        size_t secret_len, const unsigned char client_random[32],
                        const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
    (void) server_random;
    (void) prf;
    tlsw_conn *c = p;
    /* Keys are derived with the handshake still alive: the moment to note the key exchange
     * group (mbedTLS has no getter, and frees the handshake state when it completes). A
     * resumption without (EC)DHE leaves 0. */
    const mbedtls_ssl_handshake_params *hs = c->ssl.handshake;
    if (hs != NULL) {
        if (c->ssl.tls_version == MBEDTLS_SSL_VERSION_TLS1_3) {
            if (mbedtls_ssl_tls13_key_exchange_mode_with_ephemeral(&c->ssl)) c->group = hs->offered_group_id;
        } else if (type == MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET && !hs->resume) {
#if defined(MBEDTLS_ECDH_LEGACY_CONTEXT)
            c->group = mbedtls_ssl_get_tls_id_from_ecp_group_id(hs->ecdh_ctx.grp.id);
#else
            c->group = mbedtls_ssl_get_tls_id_from_ecp_group_id(hs->ecdh_ctx.grp_id);
#endif
        }
    }
    if (!c->keylog_on) return;
    const char *label = NULL;
    switch (type) {
        case MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET: label = "CLIENT_RANDOM"; break;
        case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_EARLY_SECRET: label = "CLIENT_EARLY_TRAFFIC_SECRET"; break;
        case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_EARLY_EXPORTER_SECRET: label = "EARLY_EXPORTER_SECRET"; break;
        case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_HANDSHAKE_TRAFFIC_SECRET: label = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"; break;
        case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_HANDSHAKE_TRAFFIC_SECRET: label = "SERVER_HANDSHAKE_TRAFFIC_SECRET"; break;
        case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_CLIENT_APPLICATION_TRAFFIC_SECRET: label = "CLIENT_TRAFFIC_SECRET_0"; break;
        case MBEDTLS_SSL_KEY_EXPORT_TLS1_3_SERVER_APPLICATION_TRAFFIC_SECRET: label = "SERVER_TRAFFIC_SECRET_0"; break;
        default: return;
    }
    str_append(&c->keylog, label);
    str_append(&c->keylog, " ");
    hex_append(&c->keylog, client_random, 32);
    str_append(&c->keylog, " ");
    hex_append(&c->keylog, secret, secret_len);
    str_append(&c->keylog, "\n");
}

static int name_matches(const char *pattern, const unsigned char *name, size_t len)
{
    size_t plen = strlen(pattern);
    if (plen == len && strncasecmp(pattern, (const char *) name, len) == 0) return 1;
    /* "*.example.com" matches exactly one extra leftmost label. */
    if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
        const unsigned char *dot = memchr(name, '.', len);
        if (dot == NULL || dot == name) return 0;
        size_t rest = len - (size_t) (dot - name);
        return rest == plen - 1 && strncasecmp(pattern + 1, (const char *) dot, rest) == 0;
    }
    return 0;
}

static int use_certs(mbedtls_ssl_context *ssl, tlsw_cfg *cfg, const unsigned char *name,
                     size_t len, int want_named)
{
    int found = 0;
    for (tlsw_own *o = cfg->own; o != NULL; o = o->next) {
        int match = want_named ? (o->servername != NULL && name_matches(o->servername, name, len))
                               : (o->servername == NULL);
        if (!match) continue;
        int ret = mbedtls_ssl_set_hs_own_cert(ssl, &o->crt, &o->key);
        if (ret != 0) return ret;
        found = 1;
    }
    return found;
}

static int sni_callback(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    tlsw_cfg *cfg = p;
    tlsw_conn *c = (tlsw_conn *) ssl; /* ssl is the first member of tlsw_conn */
    tlsw_free(c->sni);
    c->sni = tlsw_calloc(1, len + 1);
    if (c->sni != NULL) memcpy(c->sni, name, len);
    int ret;
    if (c->cert_cfg != NULL) {
        /* Certificates picked by the application's SNICallback for this connection. */
        ret = use_certs(ssl, c->cert_cfg, name, len, 0);
        if (ret == 0) return TLSW_ERR_NO_CERT;
        if (ret < 0) return ret;
        if (c->cert_cfg->has_ca) mbedtls_ssl_set_hs_ca_chain(ssl, &c->cert_cfg->ca, NULL);
        return 0;
    }
    ret = use_certs(ssl, cfg, name, len, 1);
    return ret < 0 ? ret : 0; /* no named match: the default certificates stay in force */
}

TLSW_API tlsw_conn *tlsw_conn_new(tlsw_cfg *cfg)
{
    tlsw_conn *c = tlsw_calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &cfg->conf) != 0) {
        mbedtls_ssl_free(&c->ssl);
        tlsw_free(c);
        return NULL;
    }
    cfg->refs++;
    c->cfg = cfg;
    c->out_limit = 64 * 1024;
    c->alert = -1;
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_export_keys_cb(&c->ssl, export_keys, c);
    return c;
}

TLSW_API void tlsw_conn_free(tlsw_conn *c)
{
    if (c == NULL) return;
    if (g_active == c) g_active = NULL;
    /* A parked connection has no record buffers; mbedtls_ssl_free skips NULL buffers. */
    mbedtls_ssl_free(&c->ssl);
    bq_release(&c->in);
    bq_release(&c->out);
    bq_release(&c->keylog);
    tlsw_free(c->sni);
    cfg_release(c->cert_cfg);
    cfg_release(c->cfg);
    mbedtls_platform_zeroize(c, sizeof(*c));
    tlsw_free(c);
}

/* Client: the name to send as SNI and to check in the certificate. NULL (or "") means no SNI
 * and no name check by mbedTLS (the caller checks identity itself, as node:tls does). */
TLSW_API int tlsw_conn_set_hostname(tlsw_conn *c, const char *name)
{
    return mbedtls_ssl_set_hostname(&c->ssl, (name != NULL && name[0]) ? name : NULL);
}

/* Server: use this config's default certificates (and CA) for this connection, whatever the
 * SNI says. Set before the ClientHello is processed (after an asynchronous SNICallback). */
TLSW_API int tlsw_conn_set_cert_cfg(tlsw_conn *c, tlsw_cfg *cert_cfg)
{
    if (cert_cfg != NULL) cert_cfg->refs++;
    cfg_release(c->cert_cfg);
    c->cert_cfg = cert_cfg;
    return 0;
}

TLSW_API void tlsw_conn_set_keylog(tlsw_conn *c, int on) { c->keylog_on = on; }
TLSW_API void tlsw_conn_set_out_limit(tlsw_conn *c, size_t limit) { c->out_limit = limit ? limit : 1; }

/* ---- parking: release the record buffers of an idle established connection -------------- */

/* mbedTLS keeps two ~16.7 KB record buffers per connection for its whole life. When nothing is
 * in flight (no buffered input, no partial record, no pending output) the only state they hold
 * is a prefix: the 8-byte record sequence numbers and the header/IV offsets. Parking saves that
 * prefix and the pointer offsets and frees the buffers; unparking re-creates them exactly as
 * mbedTLS's own buffer-resizing code does (ssl_tls.c, handle_buffer_resizing). */
static int conn_can_park(const tlsw_conn *c)
{
    const mbedtls_ssl_context *s = &c->ssl;
    return !c->parked && s->in_buf != NULL && s->out_buf != NULL &&
           /* our own byte queues are empty too (parking releases them) */
           bq_len(&c->in) == 0 && bq_len(&c->out) == 0 &&
           mbedtls_ssl_is_handshake_over((mbedtls_ssl_context *) s) &&
           /* no raw input buffered, no unread application data */
           s->in_left == 0 && s->in_offt == NULL && s->keep_current_message == 0 &&
           /* the current message, if any, is a whole record about to be discarded: the next
            * read only resets the lengths and does not look at the content */
           (s->in_msglen == 0 || s->in_msglen == s->in_hslen) &&
           /* no encrypted output waiting (out_msglen is not reset after sending; out_left is
            * what mbedTLS uses to know a record is still pending) */
           s->out_left == 0 &&
           (size_t) (s->in_msg - s->in_buf) <= PARK_PREFIX &&
           (size_t) (s->out_msg - s->out_buf) <= PARK_PREFIX;
}

TLSW_API int tlsw_conn_park(tlsw_conn *c)
{
    if (!conn_can_park(c)) return 0;
    mbedtls_ssl_context *s = &c->ssl;
    c->in_off[0] = s->in_ctr - s->in_buf;
    c->in_off[1] = s->in_hdr - s->in_buf;
    c->in_off[2] = s->in_len - s->in_buf;
    c->in_off[3] = s->in_iv - s->in_buf;
    c->in_off[4] = s->in_msg - s->in_buf;
    c->out_off[0] = s->out_ctr - s->out_buf;
    c->out_off[1] = s->out_hdr - s->out_buf;
    c->out_off[2] = s->out_len - s->out_buf;
    c->out_off[3] = s->out_iv - s->out_buf;
    c->out_off[4] = s->out_msg - s->out_buf;
    memcpy(c->in_prefix, s->in_buf, PARK_PREFIX);
    memcpy(c->out_prefix, s->out_buf, PARK_PREFIX);
    mbedtls_zeroize_and_free(s->in_buf, MBEDTLS_SSL_IN_BUFFER_LEN);
    mbedtls_zeroize_and_free(s->out_buf, MBEDTLS_SSL_OUT_BUFFER_LEN);
    s->in_buf = s->out_buf = NULL;
    s->in_ctr = s->in_hdr = s->in_len = s->in_iv = s->in_msg = NULL;
    s->out_ctr = s->out_hdr = s->out_len = s->out_iv = s->out_msg = NULL;
    bq_release(&c->in);
    bq_release(&c->out);
    c->parked = 1;
    return 1;
}

static int conn_unpark(tlsw_conn *c)
{
    if (!c->parked) return 0;
    mbedtls_ssl_context *s = &c->ssl;
    uint8_t *in = mbedtls_calloc(1, MBEDTLS_SSL_IN_BUFFER_LEN);
    uint8_t *out = mbedtls_calloc(1, MBEDTLS_SSL_OUT_BUFFER_LEN);
    if (in == NULL || out == NULL) {
        mbedtls_free(in);
        mbedtls_free(out);
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    memcpy(in, c->in_prefix, PARK_PREFIX);
    memcpy(out, c->out_prefix, PARK_PREFIX);
    s->in_buf = in;
    s->out_buf = out;
    s->in_ctr = in + c->in_off[0];
    s->in_hdr = in + c->in_off[1];
    s->in_len = in + c->in_off[2];
    s->in_iv = in + c->in_off[3];
    s->in_msg = in + c->in_off[4];
    s->out_ctr = out + c->out_off[0];
    s->out_hdr = out + c->out_off[1];
    s->out_len = out + c->out_off[2];
    s->out_iv = out + c->out_off[3];
    s->out_msg = out + c->out_off[4];
    mbedtls_platform_zeroize(c->in_prefix, PARK_PREFIX);
    mbedtls_platform_zeroize(c->out_prefix, PARK_PREFIX);
    c->parked = 0;
    return 0;
}

TLSW_API int tlsw_conn_parked(tlsw_conn *c) { return c->parked; }

/* ---- byte queues -------------------------------------------------------------------------- */

/* Inbound: JS reserves space, writes bytes there, then commits them. */
TLSW_API uint8_t *tlsw_conn_in_reserve(tlsw_conn *c, size_t n) { return bq_reserve(&c->in, n); }

TLSW_API void tlsw_conn_in_commit(tlsw_conn *c, size_t n)
{
    if (c->in.end + n <= c->in.cap) c->in.end += n;
}

TLSW_API size_t tlsw_conn_in_len(tlsw_conn *c) { return bq_len(&c->in); }

/* Outbound: JS copies out_len bytes from out_ptr, then consumes them. */
TLSW_API uint8_t *tlsw_conn_out_ptr(tlsw_conn *c) { return c->out.buf ? c->out.buf + c->out.start : NULL; }
TLSW_API size_t tlsw_conn_out_len(tlsw_conn *c) { return bq_len(&c->out); }
TLSW_API void tlsw_conn_out_consume(tlsw_conn *c, size_t n) { bq_consume(&c->out, n); }

TLSW_API uint8_t *tlsw_conn_keylog_ptr(tlsw_conn *c) { return c->keylog.buf ? c->keylog.buf + c->keylog.start : NULL; }
TLSW_API size_t tlsw_conn_keylog_len(tlsw_conn *c) { return bq_len(&c->keylog); }
TLSW_API void tlsw_conn_keylog_clear(tlsw_conn *c) { bq_release(&c->keylog); }

/* ---- TLS operations ------------------------------------------------------------------------ */

static void note_resumption(tlsw_conn *c)
{
    mbedtls_ssl_handshake_params *h = c->ssl.handshake;
    if (h == NULL) return;
    if (h->resume) c->resumed = 1;
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
    if (c->ssl.tls_version == MBEDTLS_SSL_VERSION_TLS1_3 &&
        (h->key_exchange_mode & MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ALL) != 0) {
        c->resumed = 1;
    }
#endif
}

/* Remembers the description of a fatal alert the peer sent (mbedTLS reports only that one came). */
static int note_alert(tlsw_conn *c, int ret)
{
    if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && c->ssl.in_msg != NULL &&
        c->ssl.in_msgtype == MBEDTLS_SSL_MSG_ALERT) {
        c->alert = c->ssl.in_msg[1];
    }
    return ret;
}

TLSW_API int tlsw_conn_alert_received(tlsw_conn *c) { return c->alert; }

/* Runs the handshake as far as the queued input allows. 0 when complete. */
TLSW_API int tlsw_conn_handshake(tlsw_conn *c)
{
    g_active = c;
    int ret = conn_unpark(c);
    if (ret != 0) return ret;
    while (!mbedtls_ssl_is_handshake_over(&c->ssl)) {
        note_resumption(c);
        ret = mbedtls_ssl_handshake_step(&c->ssl);
        if (ret != 0) return note_alert(c, ret);
    }
    return 0;
}

TLSW_API int tlsw_conn_read(tlsw_conn *c, uint8_t *buf, size_t len)
{
    g_active = c;
    int ret = conn_unpark(c);
    if (ret != 0) return ret;
    return note_alert(c, mbedtls_ssl_read(&c->ssl, buf, len));
}

TLSW_API int tlsw_conn_write(tlsw_conn *c, const uint8_t *buf, size_t len)
{
    g_active = c;
    int ret = conn_unpark(c);
    if (ret != 0) return ret;
    return note_alert(c, mbedtls_ssl_write(&c->ssl, buf, len));
}

/* Pushes already-encrypted bytes (ssl->out_left) into the outbound queue. */
TLSW_API int tlsw_conn_flush(tlsw_conn *c)
{
    if (c->parked) return 0;
    return mbedtls_ssl_flush_output(&c->ssl);
}

TLSW_API int tlsw_conn_close_notify(tlsw_conn *c)
{
    int ret = conn_unpark(c);
    if (ret != 0) return ret;
    return mbedtls_ssl_close_notify(&c->ssl);
}

/* A fatal alert (e.g. bad_certificate after a failed identity check done in JS). */
TLSW_API int tlsw_conn_send_alert(tlsw_conn *c, int description)
{
    int ret = conn_unpark(c);
    if (ret != 0) return ret;
    return mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                          (unsigned char) description);
}

/* ---- state and negotiated parameters ----------------------------------------------------- */

TLSW_API int tlsw_conn_handshake_done(tlsw_conn *c) { return mbedtls_ssl_is_handshake_over(&c->ssl); }
TLSW_API size_t tlsw_conn_bytes_avail(tlsw_conn *c) { return c->parked ? 0 : mbedtls_ssl_get_bytes_avail(&c->ssl); }
TLSW_API int tlsw_conn_check_pending(tlsw_conn *c) { return c->parked ? 0 : mbedtls_ssl_check_pending(&c->ssl); }
TLSW_API size_t tlsw_conn_out_left(tlsw_conn *c) { return c->parked ? 0 : c->ssl.out_left; }
TLSW_API int tlsw_conn_version(tlsw_conn *c) { return (int) mbedtls_ssl_get_version_number(&c->ssl); }
TLSW_API int tlsw_conn_ciphersuite(tlsw_conn *c) { return mbedtls_ssl_get_ciphersuite_id_from_ssl(&c->ssl); }
/* IANA id of the group the (EC)DHE key exchange used (29 x25519, 23 secp256r1, 24 secp384r1),
 * 0 when there was none (a resumption without it) or the handshake has not derived keys yet. */
TLSW_API int tlsw_conn_group(tlsw_conn *c) { return c->group; }
TLSW_API int tlsw_conn_resumed(tlsw_conn *c) { return c->resumed; }
TLSW_API int tlsw_conn_max_payload(tlsw_conn *c) { return mbedtls_ssl_get_max_out_record_payload(&c->ssl); }
TLSW_API const char *tlsw_conn_alpn(tlsw_conn *c) { return mbedtls_ssl_get_alpn_protocol(&c->ssl); }
TLSW_API const char *tlsw_conn_sni(tlsw_conn *c) { return c->sni; }
TLSW_API uint32_t tlsw_conn_verify_result(tlsw_conn *c) { return mbedtls_ssl_get_verify_result(&c->ssl); }

static const mbedtls_x509_crt *peer_cert_at(tlsw_conn *c, int i)
{
    const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&c->ssl);
    while (crt != NULL && i-- > 0) crt = crt->next;
    return (crt != NULL && crt->raw.p != NULL) ? crt : NULL;
}

TLSW_API int tlsw_conn_peer_cert_count(tlsw_conn *c)
{
    int n = 0;
    while (peer_cert_at(c, n) != NULL) n++;
    return n;
}

TLSW_API const uint8_t *tlsw_conn_peer_cert_ptr(tlsw_conn *c, int i)
{
    const mbedtls_x509_crt *crt = peer_cert_at(c, i);
    return crt ? crt->raw.p : NULL;
}

TLSW_API size_t tlsw_conn_peer_cert_len(tlsw_conn *c, int i)
{
    const mbedtls_x509_crt *crt = peer_cert_at(c, i);
    return crt ? crt->raw.len : 0;
}

/* Client: serialises the current session into the result buffer; returns its length. */
TLSW_API int tlsw_conn_session_save(tlsw_conn *c)
{
    mbedtls_ssl_session s;
    mbedtls_ssl_session_init(&s);
    int ret = mbedtls_ssl_get_session(&c->ssl, &s);
    if (ret == 0) {
        size_t need = 0;
        ret = mbedtls_ssl_session_save(&s, NULL, 0, &need);
        if (ret == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL) {
            uint8_t *buf = tlsw_calloc(1, need);
            if (buf == NULL) ret = TLSW_ERR_ALLOC;
            else {
                ret = mbedtls_ssl_session_save(&s, buf, need, &need);
                if (ret == 0) ret = result_set(buf, need);
                mbedtls_platform_zeroize(buf, need);
                tlsw_free(buf);
            }
        }
    }
    mbedtls_ssl_session_free(&s);
    return ret;
}

/* Client, before the handshake: offer a saved session for resumption. */
TLSW_API int tlsw_conn_session_load(tlsw_conn *c, const uint8_t *buf, size_t len)
{
    mbedtls_ssl_session s;
    mbedtls_ssl_session_init(&s);
    int ret = mbedtls_ssl_session_load(&s, buf, len);
    if (ret == 0) ret = mbedtls_ssl_set_session(&c->ssl, &s);
    mbedtls_ssl_session_free(&s);
    return ret;
}

/* ---------------------------------------------------------------------------------------------
 * Self-signed certificates (ECDSA P-256)
 * ------------------------------------------------------------------------------------------- */

static int parse_ip(const char *s, uint8_t out[16], size_t *len)
{
    /* IPv4 dotted quad */
    unsigned a[4];
    int parts = 0;
    const char *p = s;
    while (parts < 4) {
        if (*p < '0' || *p > '9') break;
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) { v = v * 10 + (unsigned) (*p++ - '0'); digits++; }
        if (v > 255) return 0;
        a[parts++] = v;
        if (parts < 4) { if (*p != '.') break; p++; }
    }
    if (parts == 4 && *p == '\0') {
        for (int i = 0; i < 4; i++) out[i] = (uint8_t) a[i];
        *len = 4;
        return 1;
    }
    /* IPv6 with optional "::" */
    if (strchr(s, ':') == NULL) return 0;
    uint16_t head[8], tail[8];
    int nh = 0, nt = 0, seen_gap = 0;
    p = s;
    if (p[0] == ':' && p[1] == ':') { seen_gap = 1; p += 2; }
    while (*p) {
        unsigned v = 0;
        int digits = 0;
        while (digits < 5) {
            char ch = *p;
            int d = (ch >= '0' && ch <= '9') ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                  : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
            if (d < 0) break;
            v = v * 16 + (unsigned) d;
            digits++;
            p++;
        }
        if (digits == 0 || digits > 4) return 0;
        if (seen_gap) { if (nt >= 8) return 0; tail[nt++] = (uint16_t) v; }
        else { if (nh >= 8) return 0; head[nh++] = (uint16_t) v; }
        if (*p == '\0') break;
        if (*p != ':') return 0;
        p++;
        if (*p == ':') { if (seen_gap) return 0; seen_gap = 1; p++; if (*p == '\0') break; }
    }
    if (nh + nt > 8 || (!seen_gap && nh != 8)) return 0;
    memset(out, 0, 16);
    for (int i = 0; i < nh; i++) { out[2 * i] = (uint8_t) (head[i] >> 8); out[2 * i + 1] = (uint8_t) head[i]; }
    for (int i = 0; i < nt; i++) {
        int j = 8 - nt + i;
        out[2 * j] = (uint8_t) (tail[i] >> 8);
        out[2 * j + 1] = (uint8_t) tail[i];
    }
    *len = 16;
    return 1;
}

/* subject: an X.509 name string ("CN=localhost,O=x"); names: NUL-separated DNS names and IP
 * addresses, count n; validity as "YYYYMMDDhhmmss" UTC. The result buffer receives the key PEM
 * (PKCS#8 is not offered by mbedTLS: SEC1 "EC PRIVATE KEY") followed by the certificate PEM. */
TLSW_API int tlsw_x509_selfsigned(const char *subject, const char *names, int n,
                                  const char *not_before, const char *not_after)
{
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_x509_san_list *sans = NULL;
    uint8_t *ips = NULL;
    uint8_t *pem = NULL;
    const size_t pem_cap = 8192;
    int ret;

    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    if (n < 0 || n > 64) return TLSW_ERR_BAD_ARG;
    if (n > 0) {
        sans = tlsw_calloc((size_t) n, sizeof(*sans));
        ips = tlsw_calloc((size_t) n, 16);
        if (sans == NULL || ips == NULL) { ret = TLSW_ERR_ALLOC; goto out; }
    }
    const char *p = names;
    for (int i = 0; i < n; i++) {
        size_t iplen = 0;
        if (parse_ip(p, ips + 16 * i, &iplen)) {
            sans[i].node.type = MBEDTLS_X509_SAN_IP_ADDRESS;
            sans[i].node.san.unstructured_name.p = ips + 16 * i;
            sans[i].node.san.unstructured_name.len = iplen;
        } else {
            sans[i].node.type = MBEDTLS_X509_SAN_DNS_NAME;
            sans[i].node.san.unstructured_name.p = (unsigned char *) p;
            sans[i].node.san.unstructured_name.len = strlen(p);
        }
        /* mbedTLS writes the list back to front: link it in reverse to keep the caller's order */
        sans[i].next = (i > 0) ? &sans[i - 1] : NULL;
        p += strlen(p) + 1;
    }

    ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0) ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                            mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    if (ret != 0) goto out;

    uint8_t serial[16];
    mbedtls_psa_get_random(MBEDTLS_PSA_RANDOM_STATE, serial, sizeof(serial));
    serial[0] &= 0x7f; /* positive */
    serial[0] |= 0x01; /* no leading zero byte */

    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    if ((ret = mbedtls_x509write_crt_set_subject_name(&crt, subject)) != 0) goto out;
    if ((ret = mbedtls_x509write_crt_set_issuer_name(&crt, subject)) != 0) goto out;
    if ((ret = mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof(serial))) != 0) goto out;
    if ((ret = mbedtls_x509write_crt_set_validity(&crt, not_before, not_after)) != 0) goto out;
    if ((ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0) goto out;
    if ((ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) != 0) goto out;
    if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0) goto out;
    if (sans != NULL &&
        (ret = mbedtls_x509write_crt_set_subject_alternative_name(&crt, &sans[n - 1])) != 0) goto out;
    {
        /* extendedKeyUsage = serverAuth, clientAuth */
        mbedtls_asn1_sequence eku[2];
        memset(eku, 0, sizeof(eku));
        eku[0].buf.tag = MBEDTLS_ASN1_OID;
        eku[0].buf.p = (unsigned char *) MBEDTLS_OID_SERVER_AUTH;
        eku[0].buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
        eku[0].next = &eku[1];
        eku[1].buf.tag = MBEDTLS_ASN1_OID;
        eku[1].buf.p = (unsigned char *) MBEDTLS_OID_CLIENT_AUTH;
        eku[1].buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH);
        if ((ret = mbedtls_x509write_crt_set_ext_key_usage(&crt, eku)) != 0) goto out;
    }

    pem = tlsw_calloc(1, pem_cap * 2);
    if (pem == NULL) { ret = TLSW_ERR_ALLOC; goto out; }
    if ((ret = mbedtls_pk_write_key_pem(&key, pem, pem_cap)) != 0) goto out;
    size_t klen = strlen((char *) pem);
    if ((ret = mbedtls_x509write_crt_pem(&crt, pem + klen, pem_cap * 2 - klen,
                                         mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE)) != 0) goto out;
    ret = result_set(pem, strlen((char *) pem));

out:
    if (pem != NULL) { mbedtls_platform_zeroize(pem, pem_cap * 2); tlsw_free(pem); }
    tlsw_free(sans);
    tlsw_free(ips);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    return ret;
}

/* ---------------------------------------------------------------------------------------------
 * Benchmark support: the engine's work with no engine around it (bench/ compares the two).
 * Records move between two connections' queues inside wasm; no JS runs per record.
 * ------------------------------------------------------------------------------------------- */

static int bench_move(tlsw_conn *from, tlsw_conn *to)
{
    size_t n = bq_len(&from->out);
    if (n == 0) return 0;
    uint8_t *dst = bq_reserve(&to->in, n);
    if (dst == NULL) return TLSW_ERR_ALLOC;
    memcpy(dst, from->out.buf + from->out.start, n);
    to->in.end += n;
    bq_consume(&from->out, n);
    return (int) n;
}

/* Runs a client/server handshake to completion. 0 on success. */
TLSW_API int tlsw_bench_handshake(tlsw_conn *c, tlsw_conn *s)
{
    for (int i = 0; i < 64; i++) {
        int rc = tlsw_conn_handshake(c);
        if (rc != 0 && rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) return rc;
        int a = bench_move(c, s);
        int rs = tlsw_conn_handshake(s);
        if (rs != 0 && rs != MBEDTLS_ERR_SSL_WANT_READ && rs != MBEDTLS_ERR_SSL_WANT_WRITE) return rs;
        int b = bench_move(s, c);
        if (a < 0 || b < 0) return TLSW_ERR_ALLOC;
        if (rc == 0 && rs == 0 && a == 0 && b == 0) return 0;
    }
    return TLSW_ERR_STATE;
}

/* Sends `total` bytes from `from` to `to` in writes of `chunk` bytes from `buf`, reading them
 * into `rbuf` (rlen bytes); returns the number of plaintext bytes received, or an error. */
TLSW_API long tlsw_bench_transfer(tlsw_conn *from, tlsw_conn *to, const uint8_t *buf, size_t chunk,
                                  long total, uint8_t *rbuf, size_t rlen)
{
    long sent = 0, got = 0;
    size_t off = 0; /* finish each chunk before the next, as TlsEngine.write does */
    while (sent < total) {
        size_t n = chunk - off;
        if ((long) n > total - sent) n = (size_t) (total - sent);
        int w = tlsw_conn_write(from, buf + off, n);
        if (w < 0 && w != MBEDTLS_ERR_SSL_WANT_WRITE) return w;
        if (w > 0) { sent += w; off = (off + (size_t) w) % chunk; }
        if (bench_move(from, to) < 0) return TLSW_ERR_ALLOC;
        for (;;) {
            int r = tlsw_conn_read(to, rbuf, rlen);
            if (r > 0) { got += r; continue; }
            if (r == MBEDTLS_ERR_SSL_WANT_READ) break;
            return r;
        }
    }
    return got;
}
