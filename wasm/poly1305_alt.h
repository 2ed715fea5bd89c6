/*
 * The Poly1305 context for wasm/poly1305.c (MBEDTLS_POLY1305_ALT): key and accumulator in
 * radix 2^26, the form the block functions compute in.
 */
#ifndef TLSW_POLY1305_ALT_H
#define TLSW_POLY1305_ALT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mbedtls_poly1305_context {
    uint32_t r[5];        /* r, clamped, in five 26-bit limbs */
    uint32_t rr[5];       /* r^2 mod 2^130 - 5, for two blocks at a time */
    uint32_t h[5];        /* the accumulator */
    uint32_t s[4];        /* the pad: the key's high 128 bits */
    uint8_t queue[16];    /* a partial block waiting for more input */
    size_t queue_len;
} mbedtls_poly1305_context;

#endif /* TLSW_POLY1305_ALT_H */
