/*
 * The ChaCha20-Poly1305 context for wasm/chachapoly.c (MBEDTLS_CHACHAPOLY_ALT): the same
 * fields as mbedTLS's own, over our ChaCha20 and Poly1305 contexts.
 */
#ifndef TLSW_CHACHAPOLY_ALT_H
#define TLSW_CHACHAPOLY_ALT_H

#include <stdint.h>
#include "mbedtls/chacha20.h"
#include "mbedtls/poly1305.h"

typedef struct mbedtls_chachapoly_context {
    mbedtls_chacha20_context chacha20_ctx;
    mbedtls_poly1305_context poly1305_ctx;
    uint64_t aad_len;                 /* bytes of additional data so far */
    uint64_t ciphertext_len;          /* bytes encrypted or decrypted so far */
    int state;                        /* where in init, aad, ciphertext, finished the context is */
    mbedtls_chachapoly_mode_t mode;
} mbedtls_chachapoly_context;

#endif /* TLSW_CHACHAPOLY_ALT_H */
