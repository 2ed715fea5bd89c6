/*
 * ChaCha20 (RFC 8439) for MBEDTLS_CHACHA20_ALT, with a four-block wasm SIMD path.
 *
 * Why: ChaCha20-Poly1305 is the suite we prefer (wasm has no AES instructions), and mbedTLS's
 * portable ChaCha20 made the keystream ~70% of that suite's cost here. With SIMD128 (when this
 * file is built with -msimd128) four consecutive blocks are computed at once (the kernel in
 * wasm/chacha20_simd.h, which wasm/chachapoly.c shares). Without SIMD the scalar block function
 * below does everything.
 *
 * The API contract is mbedTLS's (include/mbedtls/chacha20.h): update() continues the
 * keystream across calls, using leftover bytes of a partial block first, and the 32-bit
 * block counter advances (and wraps) exactly as in mbedTLS's implementation.
 */
#include <stdint.h>
#include <string.h>
#include "mbedtls/build_info.h"
#include "mbedtls/chacha20.h"
#include "mbedtls/platform_util.h"

#if defined(__wasm_simd128__)
#include "chacha20_simd.h"
#endif

#define BLOCK 64u
#define CTR 12

static uint32_t load32_le(const unsigned char *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

/* r = a ^ b over n bytes, a word at a time (memcpy compiles to unaligned wasm loads/stores). */
static void xor_bytes(unsigned char *r, const unsigned char *a, const unsigned char *b, size_t n)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t x, y;
        memcpy(&x, a + i, 4);
        memcpy(&y, b + i, 4);
        x ^= y;
        memcpy(r + i, &x, 4);
    }
    for (; i < n; i++) {
        r[i] = a[i] ^ b[i];
    }
}

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d)                          \
    a += b; d ^= a; d = ROTL(d, 16);            \
    c += d; b ^= c; b = ROTL(b, 12);            \
    a += b; d ^= a; d = ROTL(d, 8);             \
    c += d; b ^= c; b = ROTL(b, 7);

/* One block of keystream for the state's current counter. */
static void block_scalar(const uint32_t s[16], unsigned char out[64])
{
    uint32_t x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3], x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
    uint32_t x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11], x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
    for (int i = 0; i < 10; i++) {
        QR(x0, x4, x8, x12) QR(x1, x5, x9, x13) QR(x2, x6, x10, x14) QR(x3, x7, x11, x15)
        QR(x0, x5, x10, x15) QR(x1, x6, x11, x12) QR(x2, x7, x8, x13) QR(x3, x4, x9, x14)
    }
    uint32_t w[16] = { x0 + s[0], x1 + s[1], x2 + s[2], x3 + s[3], x4 + s[4], x5 + s[5],
                       x6 + s[6], x7 + s[7], x8 + s[8], x9 + s[9], x10 + s[10], x11 + s[11],
                       x12 + s[12], x13 + s[13], x14 + s[14], x15 + s[15] };
    /* wasm is little-endian, as the keystream's byte order is. */
    memcpy(out, w, 64);
}

#if defined(__wasm_simd128__)
/* out = in ^ keystream for four blocks (256 bytes) from the state's counter on. */
static void blocks4_simd(const uint32_t s[16], const unsigned char *in, unsigned char *out)
{
    CHACHA4_MASKS
    v128_t x[16];
    chacha4_load(x, s);
    for (int i = 0; i < 10; i++) {
        CHACHA4_COLUMNS_A(x) CHACHA4_COLUMNS_B(x)
        CHACHA4_DIAGONALS_A(x) CHACHA4_DIAGONALS_B(x)
    }
    chacha4_finish(x, s, in, out);
}
#endif

void mbedtls_chacha20_init(mbedtls_chacha20_context *ctx)
{
    mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    ctx->keystream_bytes_used = BLOCK;
}

void mbedtls_chacha20_free(mbedtls_chacha20_context *ctx)
{
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

int mbedtls_chacha20_setkey(mbedtls_chacha20_context *ctx, const unsigned char key[32])
{
    ctx->state[0] = 0x61707865;   /* "expand 32-byte k" */
    ctx->state[1] = 0x3320646e;
    ctx->state[2] = 0x79622d32;
    ctx->state[3] = 0x6b206574;
    for (int i = 0; i < 8; i++) {
        ctx->state[4 + i] = load32_le(key + 4 * i);
    }
    return 0;
}

int mbedtls_chacha20_starts(mbedtls_chacha20_context *ctx, const unsigned char nonce[12], uint32_t counter)
{
    ctx->state[CTR] = counter;
    ctx->state[13] = load32_le(nonce);
    ctx->state[14] = load32_le(nonce + 4);
    ctx->state[15] = load32_le(nonce + 8);
    mbedtls_platform_zeroize(ctx->keystream8, sizeof(ctx->keystream8));
    ctx->keystream_bytes_used = BLOCK;
    return 0;
}

int mbedtls_chacha20_update(mbedtls_chacha20_context *ctx, size_t size,
                            const unsigned char *input, unsigned char *output)
{
    /* Leftover keystream from a previous partial block first. */
    while (size > 0 && ctx->keystream_bytes_used < BLOCK) {
        *output++ = *input++ ^ ctx->keystream8[ctx->keystream_bytes_used++];
        size--;
    }
#if defined(__wasm_simd128__)
    while (size >= 4 * BLOCK) {
        blocks4_simd(ctx->state, input, output);
        ctx->state[CTR] += 4;
        input += 4 * BLOCK;
        output += 4 * BLOCK;
        size -= 4 * BLOCK;
    }
#endif
    unsigned char ks[BLOCK];
    while (size >= BLOCK) {
        block_scalar(ctx->state, ks);
        ctx->state[CTR]++;
        xor_bytes(output, input, ks, BLOCK);
        input += BLOCK;
        output += BLOCK;
        size -= BLOCK;
    }
    if (size > 0) {
        block_scalar(ctx->state, ctx->keystream8);
        ctx->state[CTR]++;
        xor_bytes(output, input, ctx->keystream8, size);
        ctx->keystream_bytes_used = size;
    }
    mbedtls_platform_zeroize(ks, sizeof(ks));
    return 0;
}

int mbedtls_chacha20_crypt(const unsigned char key[32], const unsigned char nonce[12], uint32_t counter,
                           size_t data_len, const unsigned char *input, unsigned char *output)
{
    mbedtls_chacha20_context ctx;
    mbedtls_chacha20_init(&ctx);
    mbedtls_chacha20_setkey(&ctx, key);
    mbedtls_chacha20_starts(&ctx, nonce, counter);
    mbedtls_chacha20_update(&ctx, data_len, input, output);
    mbedtls_chacha20_free(&ctx);
    return 0;
}
