/*
 * The Poly1305 context for wasm/poly1305.c (MBEDTLS_POLY1305_ALT): key and accumulator in 32-bit
 * words, the form the block step (wasm/poly1305_limbs.h) computes in.
 */
#ifndef TLSW_POLY1305_ALT_H
#define TLSW_POLY1305_ALT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mbedtls_poly1305_context {
    uint32_t r[4];        /* r, clamped */
    uint32_t s[4];        /* the pad: the key's high 128 bits */
    uint32_t h[5];        /* the accumulator, partially reduced */
    uint8_t queue[16];    /* a partial block waiting for more input */
    size_t queue_len;
} mbedtls_poly1305_context;

#endif /* TLSW_POLY1305_ALT_H */
