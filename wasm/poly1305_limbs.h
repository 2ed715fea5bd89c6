/*
 * Poly1305 arithmetic mod p = 2^130 - 5 in radix 2^26 with scalar 64-bit products, shared by
 * wasm/poly1305.c and wasm/chachapoly.c (which interleaves it with ChaCha20's SIMD rounds).
 *
 * Numbers are five limbs of 26 bits held in uint64_t. The key r has its limbs in r[] and five
 * times them in r5[] (2^130 = 5 mod p, so a product that wraps past limb 4 is taken times 5).
 * An accumulator limb below 2^27 times a key limb times 5 stays below 2^55, so a sum of five
 * products fits in 64 bits.
 */
#ifndef TLSW_POLY1305_LIMBS_H
#define TLSW_POLY1305_LIMBS_H

#include <stdint.h>
#include <string.h>

#define POLY1305_M26 0x3ffffffu
#define POLY1305_HIBIT (1u << 24)   /* 2^128 in limb 4: the 1 appended to every full block */

static inline uint32_t poly1305_le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);   /* wasm is little-endian */
    return v;
}

/* Carries d to 26 bits a limb (limb 1 may hold a few bits more), reducing the top mod p. */
static inline void poly1305_carry(uint64_t d[5])
{
    uint64_t c;
    c = d[0] >> 26; d[0] &= POLY1305_M26; d[1] += c;
    c = d[1] >> 26; d[1] &= POLY1305_M26; d[2] += c;
    c = d[2] >> 26; d[2] &= POLY1305_M26; d[3] += c;
    c = d[3] >> 26; d[3] &= POLY1305_M26; d[4] += c;
    c = d[4] >> 26; d[4] &= POLY1305_M26; d[0] += c * 5;
    c = d[0] >> 26; d[0] &= POLY1305_M26; d[1] += c;
}

/* h = (h + m) * r mod p, partially reduced: m is the 16-byte block at `m` plus `hibit` (2^128
 * for a full block, 0 for the padded last one). */
static inline void poly1305_absorb(uint64_t h[5], const uint64_t r[5], const uint64_t r5[5],
                                   const unsigned char *m, uint32_t hibit)
{
    uint32_t t0 = poly1305_le32(m), t1 = poly1305_le32(m + 4);
    uint32_t t2 = poly1305_le32(m + 8), t3 = poly1305_le32(m + 12);
    uint64_t a0 = h[0] + (t0 & POLY1305_M26);
    uint64_t a1 = h[1] + (((t0 >> 26) | (t1 << 6)) & POLY1305_M26);
    uint64_t a2 = h[2] + (((t1 >> 20) | (t2 << 12)) & POLY1305_M26);
    uint64_t a3 = h[3] + (((t2 >> 14) | (t3 << 18)) & POLY1305_M26);
    uint64_t a4 = h[4] + ((t3 >> 8) | hibit);
    h[0] = a0 * r[0] + a1 * r5[4] + a2 * r5[3] + a3 * r5[2] + a4 * r5[1];
    h[1] = a0 * r[1] + a1 * r[0] + a2 * r5[4] + a3 * r5[3] + a4 * r5[2];
    h[2] = a0 * r[2] + a1 * r[1] + a2 * r[0] + a3 * r5[4] + a4 * r5[3];
    h[3] = a0 * r[3] + a1 * r[2] + a2 * r[1] + a3 * r[0] + a4 * r5[4];
    h[4] = a0 * r[4] + a1 * r[3] + a2 * r[2] + a3 * r[1] + a4 * r[0];
    poly1305_carry(h);
}

/* The key limbs of a context's r (uint32_t limbs) in the form poly1305_absorb takes. */
static inline void poly1305_key_limbs(const uint32_t r32[5], uint64_t r[5], uint64_t r5[5])
{
    for (int i = 0; i < 5; i++) {
        r[i] = r32[i];
        r5[i] = (uint64_t) r32[i] * 5;
    }
}

#endif /* TLSW_POLY1305_LIMBS_H */
