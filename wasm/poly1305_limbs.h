/*
 * Poly1305's block step, h = (h + m) * r mod p with p = 2^130 - 5, in radix 2^32 with scalar
 * 64-bit products; shared by wasm/poly1305.c and wasm/chachapoly.c (which interleaves it with
 * ChaCha20's SIMD rounds).
 *
 * Why radix 2^32: wasm has 64-bit multiplies but no 64x64->128, so a product must fit in 64 bits.
 * RFC 8439's clamping leaves each 32-bit word of r below 2^28, and words 1..3 multiples of 4.
 * A word of h times a word of r is then below 2^60 and a sum of five stays below 2^63. A product
 * that wraps past 2^128 is taken times 5/4 (2^130 = 5 mod p), exact for r's words 1..3: rs[i] =
 * r[i] + r[i] / 4. Twenty multiplies a block against twenty-five in radix 2^26, and fewer live
 * values: measured here 1.97 GB/s against 1.6 for radix 2^26 (and 1.76 for it two blocks at a
 * time in SIMD lanes), and less register spilling where it shares a loop with ChaCha20.
 *
 * The accumulator is kept partially reduced: h[0..3] full words, h[4] at most 4.
 */
#ifndef TLSW_POLY1305_LIMBS_H
#define TLSW_POLY1305_LIMBS_H

#include <stdint.h>
#include <string.h>

static inline uint32_t poly1305_le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);   /* wasm is little-endian */
    return v;
}

/* The multipliers for the words of h that wrap: rs[i] = 5/4 r[i] (rs[0] is not used). */
static inline void poly1305_key_wraps(const uint32_t r[4], uint32_t rs[4])
{
    rs[0] = 0;
    for (int i = 1; i < 4; i++) {
        rs[i] = r[i] + (r[i] >> 2);
    }
}

/* h = (h + m) * r mod p, partially reduced: m is the 16-byte block at `m` plus hibit * 2^128
 * (1 for a full block, 0 for the padded last one). */
static inline void poly1305_absorb(uint32_t h[5], const uint32_t r[4], const uint32_t rs[4],
                                   const unsigned char *m, uint32_t hibit)
{
    uint64_t d0, d1, d2, d3;
    uint32_t a0, a1, a2, a3, a4;
    d0 = (uint64_t) h[0] + poly1305_le32(m);
    d1 = (uint64_t) h[1] + poly1305_le32(m + 4) + (d0 >> 32);
    d2 = (uint64_t) h[2] + poly1305_le32(m + 8) + (d1 >> 32);
    d3 = (uint64_t) h[3] + poly1305_le32(m + 12) + (d2 >> 32);
    a0 = (uint32_t) d0;
    a1 = (uint32_t) d1;
    a2 = (uint32_t) d2;
    a3 = (uint32_t) d3;
    a4 = h[4] + (uint32_t) (d3 >> 32) + hibit;   /* at most 6 */

    d0 = (uint64_t) a0 * r[0] + (uint64_t) a1 * rs[3] + (uint64_t) a2 * rs[2] + (uint64_t) a3 * rs[1];
    d1 = (uint64_t) a0 * r[1] + (uint64_t) a1 * r[0] + (uint64_t) a2 * rs[3] + (uint64_t) a3 * rs[2]
         + (uint64_t) a4 * rs[1];
    d2 = (uint64_t) a0 * r[2] + (uint64_t) a1 * r[1] + (uint64_t) a2 * r[0] + (uint64_t) a3 * rs[3]
         + (uint64_t) a4 * rs[2];
    d3 = (uint64_t) a0 * r[3] + (uint64_t) a1 * r[2] + (uint64_t) a2 * r[1] + (uint64_t) a3 * r[0]
         + (uint64_t) a4 * rs[3];
    a4 *= r[0];                                   /* the 2^128 word: below 6 * 2^28 */

    /* Carry the words up, then fold what lies at 2^130 and above back in as times 5. */
    d1 += d0 >> 32;
    d2 += d1 >> 32;
    d3 += d2 >> 32;
    a4 += (uint32_t) (d3 >> 32);                  /* below 2^32 */
    d0 = (uint64_t) (uint32_t) d0 + (uint64_t) (a4 >> 2) * 5;
    a4 &= 3;
    h[0] = (uint32_t) d0;
    d1 = (uint64_t) (uint32_t) d1 + (d0 >> 32);
    h[1] = (uint32_t) d1;
    d2 = (uint64_t) (uint32_t) d2 + (d1 >> 32);
    h[2] = (uint32_t) d2;
    d3 = (uint64_t) (uint32_t) d3 + (d2 >> 32);
    h[3] = (uint32_t) d3;
    h[4] = a4 + (uint32_t) (d3 >> 32);            /* at most 4 */
}

#endif /* TLSW_POLY1305_LIMBS_H */
