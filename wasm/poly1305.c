/*
 * Poly1305 (RFC 8439) for MBEDTLS_POLY1305_ALT.
 *
 * Why: ChaCha20-Poly1305 is the suite we prefer (wasm has no AES instructions), and once
 * ChaCha20 was vectorised (wasm/chacha20.c) Poly1305 was the larger half of its cost. The block
 * step is in wasm/poly1305_limbs.h (radix 2^32, scalar 64-bit products), shared with
 * wasm/chachapoly.c, which runs it inside ChaCha20's SIMD rounds. The same code serves both
 * modules: scalar, it is faster here than a two-lane SIMD version in radix 2^26 was.
 *
 * The API contract is mbedTLS's (include/mbedtls/poly1305.h): update() takes any lengths, a
 * partial block waits in the context for the next call, finish() pads it.
 */
#include <stdint.h>
#include <string.h>
#include "mbedtls/build_info.h"
#include "mbedtls/poly1305.h"
#include "mbedtls/platform_util.h"
#include "poly1305_limbs.h"

/* For each of the n 16-byte blocks at m: h = (h + block + hibit * 2^128) * r. */
static void blocks(mbedtls_poly1305_context *ctx, const unsigned char *m, size_t n, uint32_t hibit)
{
    uint32_t h[5], rs[4];
    poly1305_key_wraps(ctx->r, rs);
    memcpy(h, ctx->h, sizeof(h));
    for (size_t k = 0; k < n; k++, m += 16) {
        poly1305_absorb(h, ctx->r, rs, m, hibit);
    }
    memcpy(ctx->h, h, sizeof(h));
}

void mbedtls_poly1305_init(mbedtls_poly1305_context *ctx)
{
    mbedtls_platform_zeroize(ctx, sizeof(*ctx));
}

void mbedtls_poly1305_free(mbedtls_poly1305_context *ctx)
{
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

int mbedtls_poly1305_starts(mbedtls_poly1305_context *ctx, const unsigned char key[32])
{
    /* r with RFC 8439's clamping: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff. */
    ctx->r[0] = poly1305_le32(key) & 0x0fffffffu;
    for (int i = 1; i < 4; i++) {
        ctx->r[i] = poly1305_le32(key + 4 * i) & 0x0ffffffcu;
    }
    for (int i = 0; i < 4; i++) {
        ctx->s[i] = poly1305_le32(key + 16 + 4 * i);
    }
    memset(ctx->h, 0, sizeof(ctx->h));
    ctx->queue_len = 0;
    return 0;
}

int mbedtls_poly1305_update(mbedtls_poly1305_context *ctx, const unsigned char *input, size_t ilen)
{
    if (ctx->queue_len > 0) {
        size_t n = 16 - ctx->queue_len;
        if (n > ilen) {
            n = ilen;
        }
        memcpy(ctx->queue + ctx->queue_len, input, n);
        ctx->queue_len += n;
        input += n;
        ilen -= n;
        if (ctx->queue_len < 16) {
            return 0;
        }
        blocks(ctx, ctx->queue, 1, 1);
        ctx->queue_len = 0;
    }
    if (ilen >= 16) {
        blocks(ctx, input, ilen / 16, 1);
        input += ilen & ~(size_t) 15;
        ilen &= 15;
    }
    if (ilen > 0) {
        memcpy(ctx->queue, input, ilen);
        ctx->queue_len = ilen;
    }
    return 0;
}

int mbedtls_poly1305_finish(mbedtls_poly1305_context *ctx, unsigned char mac[16])
{
    if (ctx->queue_len > 0) {
        /* The last partial block: its bytes, a 1, then zeros (no 2^128 bit). */
        ctx->queue[ctx->queue_len] = 1;
        memset(ctx->queue + ctx->queue_len + 1, 0, 16 - ctx->queue_len - 1);
        blocks(ctx, ctx->queue, 1, 0);
        ctx->queue_len = 0;
    }
    uint32_t *h = ctx->h;
    /* h < 5 * 2^128 here; fold h[4]'s bits from 2^130 on in as times 5, so h < 2^130 + 2^32 ... */
    uint64_t c = (uint64_t) (h[4] >> 2) * 5;
    h[4] &= 3;
    for (int i = 0; i < 4; i++) {
        c += h[i];
        h[i] = (uint32_t) c;
        c >>= 32;
    }
    h[4] += (uint32_t) c;
    /* ... then h mod p is h, or h - p when h + 5 reaches 2^130 (taken without branches). */
    uint32_t g[4];
    c = 5;
    for (int i = 0; i < 4; i++) {
        c += h[i];
        g[i] = (uint32_t) c;
        c >>= 32;
    }
    uint32_t use_g = 0u - ((h[4] + (uint32_t) c) >> 2);   /* all ones when h + 5 >= 2^130 */
    /* The tag: (h mod p) + s, mod 2^128. */
    c = 0;
    for (int i = 0; i < 4; i++) {
        c += (uint64_t) ((h[i] & ~use_g) | (g[i] & use_g)) + ctx->s[i];
        uint32_t w = (uint32_t) c;
        memcpy(mac + 4 * i, &w, 4);
        c >>= 32;
    }
    mbedtls_platform_zeroize(ctx->h, sizeof(ctx->h));
    return 0;
}

int mbedtls_poly1305_mac(const unsigned char key[32], const unsigned char *input, size_t ilen,
                         unsigned char mac[16])
{
    mbedtls_poly1305_context ctx;
    mbedtls_poly1305_init(&ctx);
    mbedtls_poly1305_starts(&ctx, key);
    mbedtls_poly1305_update(&ctx, input, ilen);
    mbedtls_poly1305_finish(&ctx, mac);
    mbedtls_poly1305_free(&ctx);
    return 0;
}
