/*
 * Poly1305 (RFC 8439) for MBEDTLS_POLY1305_ALT, with a two-lane wasm SIMD path.
 *
 * Why: with ChaCha20 vectorised (wasm/chacha20.c), Poly1305 was the larger half of the
 * ChaCha20-Poly1305 cost. Arithmetic mod p = 2^130 - 5 is in radix 2^26 (five limbs, 64-bit
 * products; wasm has no 64x64->128 multiply): h = (h + m) * r per 16-byte block.
 *
 * With SIMD128 (this file built with -msimd128), runs of blocks go two at a time, as two
 * interleaved streams, one per 64-bit lane: odd blocks in lane 0, even blocks in lane 1, each
 * lane keeping its own accumulator, both multiplied by r^2 per step, and the last step by
 * (r^2, r). Then lane 0 holds sum m_(2k-1) r^(n-2k+2), lane 1 sum m_(2k) r^(n-2k+1), and their
 * sum is the usual h (the incoming h rides in lane 0's first block). The lanes are carried in
 * vector form and combined once per run, so a step is 25 i64x2.extmul plus adds and shifts.
 * Without SIMD the scalar block does everything (slower than mbedTLS's radix-2^32 code by about
 * a fifth: the fallback module trades that for sharing this file's context layout).
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

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#define M26 POLY1305_M26
#define HIBIT POLY1305_HIBIT

/* For each of the n 16-byte blocks at m: h += the block (plus hibit), then h *= r. */
static void blocks(mbedtls_poly1305_context *ctx, const unsigned char *m, size_t n, uint32_t hibit)
{
    uint64_t h[5], r[5], r5[5];
    poly1305_key_limbs(ctx->r, r, r5);
    for (int i = 0; i < 5; i++) {
        h[i] = ctx->h[i];
    }
    for (size_t k = 0; k < n; k++, m += 16) {
        poly1305_absorb(h, r, r5, m, hibit);
    }
    for (int i = 0; i < 5; i++) {
        ctx->h[i] = (uint32_t) h[i];
    }
}

#if defined(__wasm_simd128__)
/* The 2 * npairs full blocks at m, as two lanes (see the top of the file). */
static void pairs_simd(mbedtls_poly1305_context *ctx, const unsigned char *m, size_t npairs)
{
    const uint32_t *r = ctx->r, *q = ctx->rr;
    v128_t R2[5], S2[5], RL[5], SL[5];   /* multipliers: (r^2, r^2) and, for the last step, (r^2, r) */
    for (int i = 0; i < 5; i++) {
        R2[i] = wasm_i32x4_make((int32_t) q[i], (int32_t) q[i], 0, 0);
        S2[i] = wasm_i32x4_make((int32_t) (q[i] * 5), (int32_t) (q[i] * 5), 0, 0);
        RL[i] = wasm_i32x4_make((int32_t) q[i], (int32_t) r[i], 0, 0);
        SL[i] = wasm_i32x4_make((int32_t) (q[i] * 5), (int32_t) (r[i] * 5), 0, 0);
    }
    /* Accumulator limbs in 32-bit lanes 0 and 1 (lanes 2, 3 unused); the incoming h in lane 0. */
    v128_t h0 = wasm_i32x4_make((int32_t) ctx->h[0], 0, 0, 0), h1 = wasm_i32x4_make((int32_t) ctx->h[1], 0, 0, 0);
    v128_t h2 = wasm_i32x4_make((int32_t) ctx->h[2], 0, 0, 0), h3 = wasm_i32x4_make((int32_t) ctx->h[3], 0, 0, 0);
    v128_t h4 = wasm_i32x4_make((int32_t) ctx->h[4], 0, 0, 0);
    const v128_t mask = wasm_i32x4_splat((int32_t) M26), hibit = wasm_i32x4_splat((int32_t) HIBIT);
    const v128_t mask64 = wasm_i64x2_splat(M26);
#define MUL(x, y) wasm_u64x2_extmul_low_u32x4(x, y)
#define ADD(x, y) wasm_i64x2_add(x, y)
    for (size_t k = 0; k < npairs; k++, m += 32) {
        v128_t a = wasm_v128_load(m), b = wasm_v128_load(m + 16);
        v128_t w01 = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5);     /* a0 b0 a1 b1 */
        v128_t w23 = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7);     /* a2 b2 a3 b3 */
        v128_t w1 = wasm_i32x4_shuffle(w01, w01, 2, 3, 0, 1);  /* a1 b1 .. */
        v128_t w3 = wasm_i32x4_shuffle(w23, w23, 2, 3, 0, 1);  /* a3 b3 .. */
        v128_t x0 = wasm_i32x4_add(h0, wasm_v128_and(w01, mask));
        v128_t x1 = wasm_i32x4_add(h1, wasm_v128_and(wasm_v128_or(wasm_u32x4_shr(w01, 26), wasm_i32x4_shl(w1, 6)), mask));
        v128_t x2 = wasm_i32x4_add(h2, wasm_v128_and(wasm_v128_or(wasm_u32x4_shr(w1, 20), wasm_i32x4_shl(w23, 12)), mask));
        v128_t x3 = wasm_i32x4_add(h3, wasm_v128_and(wasm_v128_or(wasm_u32x4_shr(w23, 14), wasm_i32x4_shl(w3, 18)), mask));
        v128_t x4 = wasm_i32x4_add(h4, wasm_v128_or(wasm_u32x4_shr(w3, 8), hibit));
        const v128_t *R = k + 1 < npairs ? R2 : RL, *S = k + 1 < npairs ? S2 : SL;
        v128_t d0 = ADD(ADD(ADD(ADD(MUL(x0, R[0]), MUL(x1, S[4])), MUL(x2, S[3])), MUL(x3, S[2])), MUL(x4, S[1]));
        v128_t d1 = ADD(ADD(ADD(ADD(MUL(x0, R[1]), MUL(x1, R[0])), MUL(x2, S[4])), MUL(x3, S[3])), MUL(x4, S[2]));
        v128_t d2 = ADD(ADD(ADD(ADD(MUL(x0, R[2]), MUL(x1, R[1])), MUL(x2, R[0])), MUL(x3, S[4])), MUL(x4, S[3]));
        v128_t d3 = ADD(ADD(ADD(ADD(MUL(x0, R[3]), MUL(x1, R[2])), MUL(x2, R[1])), MUL(x3, R[0])), MUL(x4, S[4]));
        v128_t d4 = ADD(ADD(ADD(ADD(MUL(x0, R[4]), MUL(x1, R[3])), MUL(x2, R[2])), MUL(x3, R[1])), MUL(x4, R[0]));
        /* carry each lane, as poly1305_carry() does */
        v128_t c;
        c = wasm_u64x2_shr(d0, 26); d0 = wasm_v128_and(d0, mask64); d1 = ADD(d1, c);
        c = wasm_u64x2_shr(d1, 26); d1 = wasm_v128_and(d1, mask64); d2 = ADD(d2, c);
        c = wasm_u64x2_shr(d2, 26); d2 = wasm_v128_and(d2, mask64); d3 = ADD(d3, c);
        c = wasm_u64x2_shr(d3, 26); d3 = wasm_v128_and(d3, mask64); d4 = ADD(d4, c);
        c = wasm_u64x2_shr(d4, 26); d4 = wasm_v128_and(d4, mask64); d0 = ADD(d0, ADD(c, wasm_i64x2_shl(c, 2)));
        c = wasm_u64x2_shr(d0, 26); d0 = wasm_v128_and(d0, mask64); d1 = ADD(d1, c);
        /* the low 32 bits of each 64-bit lane back into 32-bit lanes 0 and 1 */
        h0 = wasm_i32x4_shuffle(d0, d0, 0, 2, 0, 2);
        h1 = wasm_i32x4_shuffle(d1, d1, 0, 2, 0, 2);
        h2 = wasm_i32x4_shuffle(d2, d2, 0, 2, 0, 2);
        h3 = wasm_i32x4_shuffle(d3, d3, 0, 2, 0, 2);
        h4 = wasm_i32x4_shuffle(d4, d4, 0, 2, 0, 2);
    }
#undef MUL
#undef ADD
#define LANES(v) ((uint64_t) (uint32_t) wasm_i32x4_extract_lane(v, 0) + (uint32_t) wasm_i32x4_extract_lane(v, 1))
    uint64_t d[5] = { LANES(h0), LANES(h1), LANES(h2), LANES(h3), LANES(h4) };
#undef LANES
    poly1305_carry(d);
    for (int i = 0; i < 5; i++) {
        ctx->h[i] = (uint32_t) d[i];
    }
}
#endif

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
    uint32_t t0 = poly1305_le32(key), t1 = poly1305_le32(key + 4), t2 = poly1305_le32(key + 8), t3 = poly1305_le32(key + 12);
    /* r with RFC 8439's clamping (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff), split into limbs. */
    ctx->r[0] = t0 & 0x3ffffff;
    ctx->r[1] = ((t0 >> 26) | (t1 << 6)) & 0x3ffff03;
    ctx->r[2] = ((t1 >> 20) | (t2 << 12)) & 0x3ffc0ff;
    ctx->r[3] = ((t2 >> 14) | (t3 << 18)) & 0x3f03fff;
    ctx->r[4] = (t3 >> 8) & 0x00fffff;
    /* r^2: absorbing a zero block (no 2^128 bit) into h = r computes r * r. */
    static const unsigned char zero[16] = { 0 };
    uint64_t rr[5], r[5], r5[5];
    poly1305_key_limbs(ctx->r, r, r5);
    memcpy(rr, r, sizeof(rr));
    poly1305_absorb(rr, r, r5, zero, 0);
    for (int i = 0; i < 5; i++) {
        ctx->rr[i] = (uint32_t) rr[i];
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
        blocks(ctx, ctx->queue, 1, HIBIT);
        ctx->queue_len = 0;
    }
#if defined(__wasm_simd128__)
    if (ilen >= 32) {
        size_t npairs = ilen / 32;
        pairs_simd(ctx, input, npairs);
        input += 32 * npairs;
        ilen -= 32 * npairs;
    }
#endif
    if (ilen >= 16) {
        blocks(ctx, input, ilen / 16, HIBIT);
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
    /* Carry fully, then take h - p when h >= p (h + 5 reaches 2^130), without branches. */
    uint32_t c;
    c = h[1] >> 26; h[1] &= M26; h[2] += c;
    c = h[2] >> 26; h[2] &= M26; h[3] += c;
    c = h[3] >> 26; h[3] &= M26; h[4] += c;
    c = h[4] >> 26; h[4] &= M26; h[0] += c * 5;
    c = h[0] >> 26; h[0] &= M26; h[1] += c;
    uint32_t g[5];
    g[0] = h[0] + 5; c = g[0] >> 26; g[0] &= M26;
    g[1] = h[1] + c; c = g[1] >> 26; g[1] &= M26;
    g[2] = h[2] + c; c = g[2] >> 26; g[2] &= M26;
    g[3] = h[3] + c; c = g[3] >> 26; g[3] &= M26;
    g[4] = h[4] + c - (1u << 26);
    uint32_t use_g = (g[4] >> 31) - 1;     /* all ones when g[4] did not go negative: h >= p */
    for (int i = 0; i < 5; i++) {
        h[i] = (h[i] & ~use_g) | (g[i] & use_g);
    }
    /* h mod 2^128 as four words (packed by adding, so a limb at 2^26 still lands right), plus s */
    uint64_t acc = (uint64_t) h[0] + ((uint64_t) h[1] << 26);
    uint32_t w[4];
    w[0] = (uint32_t) acc;
    acc = (acc >> 32) + ((uint64_t) h[2] << 20);
    w[1] = (uint32_t) acc;
    acc = (acc >> 32) + ((uint64_t) h[3] << 14);
    w[2] = (uint32_t) acc;
    acc = (acc >> 32) + ((uint64_t) h[4] << 8);
    w[3] = (uint32_t) acc;
    uint64_t f = 0;
    for (int i = 0; i < 4; i++) {
        f += (uint64_t) w[i] + ctx->s[i];
        w[i] = (uint32_t) f;
        f >>= 32;
    }
    memcpy(mac, w, 16);
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
