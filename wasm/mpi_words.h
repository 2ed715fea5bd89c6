/*
 * Reading an mbedtls_mpi as eight 32-bit little-endian words, for our own field arithmetic
 * (wasm/curve25519.c, wasm/ecdsa-verify.c). Include after defining MBEDTLS_ALLOW_PRIVATE_ACCESS.
 */
#ifndef TLSW_MPI_WORDS_H
#define TLSW_MPI_WORDS_H

#include <stdint.h>
#include <string.h>
#include "mbedtls/bignum.h"

_Static_assert(sizeof(mbedtls_mpi_uint) == 4, "our field arithmetic expects 32-bit mpi limbs (wasm32)");

/* w = X for 0 <= X < 2^256; -1 (w zeroed) for a negative value or one of 2^256 or more, which
 * is refused rather than misread. */
static inline int tlsw_mpi_words(uint32_t w[8], const mbedtls_mpi *X)
{
    memset(w, 0, 8 * sizeof(uint32_t));
    if (X->s < 0 && mbedtls_mpi_cmp_int(X, 0) != 0) {
        return -1;
    }
    for (size_t i = 0; i < X->n; i++) {
        if (i < 8) {
            w[i] = X->p[i];
        } else if (X->p[i] != 0) {
            memset(w, 0, 8 * sizeof(uint32_t));
            return -1;
        }
    }
    return 0;
}

#endif /* TLSW_MPI_WORDS_H */
