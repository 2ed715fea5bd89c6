/*
 * The ChaCha20 context for wasm/chacha20.c (MBEDTLS_CHACHA20_ALT): the same fields as mbedTLS's
 * own, so mbedTLS code that sizes or zeroes a context is unaffected.
 */
#ifndef TLSW_CHACHA20_ALT_H
#define TLSW_CHACHA20_ALT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mbedtls_chacha20_context {
    uint32_t state[16];          /* the input block: constants, key, counter, nonce */
    uint8_t keystream8[64];      /* keystream left over from a partial block */
    size_t keystream_bytes_used; /* bytes of keystream8 already used (64: none left) */
} mbedtls_chacha20_context;

#endif /* TLSW_CHACHA20_ALT_H */
