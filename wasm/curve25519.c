/*
 * Curve25519 field arithmetic for mbedTLS's Montgomery ladder (MBEDTLS_ECP_INTERNAL_ALT).
 *
 * Why: mbedTLS's generic bignum code runs one X25519 scalar multiplication in ~2.1 ms in wasm,
 * which made X25519 ~80% of a handshake's CPU. mbedTLS keeps the ladder (bit loop, constant-time
 * swaps, coordinate randomisation, key checks) and offers two hooks we fill here:
 *   - mbedtls_internal_ecp_double_add_mxz: one ladder step, R = 2P, S = P + Q;
 *   - mbedtls_internal_ecp_normalize_mxz:  X = X / Z, Z = 1 at the end.
 * Each hook loads its mpi operands into a dedicated representation, computes, and stores
 * canonical values (< p) back, so mbedTLS's code between hooks sees ordinary mpis.
 *
 * Representation: an element of GF(2^255 - 19) is ten signed 64-bit limbs in radix 2^25.5
 * (limb i holds 26 bits when i is even, 25 when odd, at bit offset ceil(25.5 * i)). Limb
 * products stay far below 2^63 even with the x19 fold of the high half and the x2 of
 * odd-times-odd positions, so no 128-bit arithmetic is needed (wasm has none).
 *
 * Everything here is constant time: no branch or index depends on field values.
 * mbedTLS's own ladder calls these only when mbedtls_internal_ecp_grp_capable() says so, that
 * is for Curve25519; other curves use mbedTLS's code unchanged.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stdint.h>
#include <string.h>
#include "mbedtls/build_info.h"
#include "mbedtls/ecp.h"
#include "mbedtls/bignum.h"
#include "ecp_internal_alt.h"
#include "mpi_words.h"

typedef int64_t fe[10];

static const int fe_bits[10] = { 26, 25, 26, 25, 26, 25, 26, 25, 26, 25 };
static const int fe_pos[10] = { 0, 26, 51, 77, 102, 128, 153, 179, 204, 230 };

/* One carry pass, limb i into limb i+1, and the top carry folded into limb 0 times 19
 * (2^255 = 19 mod p). Leaves every limb within its width except limb 1, which may exceed it
 * by the small fold carry. Arithmetic shifts floor, so negative limbs are handled too. */
static void fe_carry(fe h)
{
    for (int i = 0; i < 9; i++) {
        int64_t c = h[i] >> fe_bits[i];
        h[i] -= c * ((int64_t) 1 << fe_bits[i]);
        h[i + 1] += c;
    }
    int64_t c = h[9] >> 25;
    h[9] -= c * ((int64_t) 1 << 25);
    h[0] += 19 * c;
    c = h[0] >> 26;
    h[0] -= c * ((int64_t) 1 << 26);
    h[1] += c;
}

static void fe_add(fe h, const fe f, const fe g)
{
    for (int i = 0; i < 10; i++) {
        h[i] = f[i] + g[i];
    }
    fe_carry(h);
}

/* f - g + 4p keeps every limb positive for carried inputs (4p's limbs are 2^28-76, 2^27-4, ...). */
static void fe_sub(fe h, const fe f, const fe g)
{
    h[0] = f[0] - g[0] + ((int64_t) 0x3ffffed << 2);
    for (int i = 1; i < 10; i++) {
        int64_t pl = (fe_bits[i] == 26) ? 0x3ffffff : 0x1ffffff;
        h[i] = f[i] - g[i] + (pl << 2);
    }
    fe_carry(h);
}

/* h = f * g, written out: product limb k collects f[i]*g[j] with i + j = k, or k + 10 folded
 * in times 19 (the g*_19 terms); when i and j are both odd their offsets sum to one bit past
 * limb k's, hence the doubled f*_2 terms. One carry pass leaves the result fit for any
 * further operation here. */
static void fe_mul(fe h, const fe f, const fe g)
{
    int64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4], f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
    int64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4], g5 = g[5], g6 = g[6], g7 = g[7], g8 = g[8], g9 = g[9];
    int64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4, g5_19 = 19 * g5, g6_19 = 19 * g6, g7_19 = 19 * g7, g8_19 = 19 * g8, g9_19 = 19 * g9;
    int64_t f1_2 = 2 * f1, f3_2 = 2 * f3, f5_2 = 2 * f5, f7_2 = 2 * f7, f9_2 = 2 * f9;
    h[0] = f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19 + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19;
    h[1] = f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19 + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19;
    h[2] = f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19 + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19;
    h[3] = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19 + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19;
    h[4] = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19;
    h[5] = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19;
    h[6] = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19;
    h[7] = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
    h[8] = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19;
    h[9] = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
    fe_carry(h);
}

/* h = f^2: fe_mul's terms with each cross product f[i]*f[j] (i != j) counted once, doubled. */
static void fe_sq(fe h, const fe f)
{
    int64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4], f5 = f[5], f6 = f[6], f7 = f[7], f8 = f[8], f9 = f[9];
    int64_t f5_19 = 19 * f5, f6_19 = 19 * f6, f7_19 = 19 * f7, f8_19 = 19 * f8, f9_19 = 19 * f9;
    h[0] = f0 * f0 + 4 * f1 * f9_19 + 2 * f2 * f8_19 + 4 * f3 * f7_19 + 2 * f4 * f6_19 + 2 * f5 * f5_19;
    h[1] = 2 * f0 * f1 + 2 * f2 * f9_19 + 2 * f3 * f8_19 + 2 * f4 * f7_19 + 2 * f5 * f6_19;
    h[2] = 2 * f0 * f2 + 2 * f1 * f1 + 4 * f3 * f9_19 + 2 * f4 * f8_19 + 4 * f5 * f7_19 + f6 * f6_19;
    h[3] = 2 * f0 * f3 + 2 * f1 * f2 + 2 * f4 * f9_19 + 2 * f5 * f8_19 + 2 * f6 * f7_19;
    h[4] = 2 * f0 * f4 + 4 * f1 * f3 + f2 * f2 + 4 * f5 * f9_19 + 2 * f6 * f8_19 + 2 * f7 * f7_19;
    h[5] = 2 * f0 * f5 + 2 * f1 * f4 + 2 * f2 * f3 + 2 * f6 * f9_19 + 2 * f7 * f8_19;
    h[6] = 2 * f0 * f6 + 4 * f1 * f5 + 2 * f2 * f4 + 2 * f3 * f3 + 4 * f7 * f9_19 + f8 * f8_19;
    h[7] = 2 * f0 * f7 + 2 * f1 * f6 + 2 * f2 * f5 + 2 * f3 * f4 + 2 * f8 * f9_19;
    h[8] = 2 * f0 * f8 + 4 * f1 * f7 + 2 * f2 * f6 + 4 * f3 * f5 + f4 * f4 + 2 * f9 * f9_19;
    h[9] = 2 * f0 * f9 + 2 * f1 * f8 + 2 * f2 * f7 + 2 * f3 * f6 + 2 * f4 * f5;
    fe_carry(h);
}

static void fe_mul_small(fe h, const fe f, int64_t n)
{
    for (int i = 0; i < 10; i++) {
        h[i] = f[i] * n;
    }
    fe_carry(h);
}

static void fe_sq_times(fe h, const fe f, int n)
{
    fe_sq(h, f);
    while (--n > 0) {
        fe_sq(h, h);
    }
}

/* z^(p-2) = z^(2^255 - 21): the inverse for z != 0, and 0 for z = 0. */
static void fe_invert(fe out, const fe z)
{
    fe z2, z9, z11, a, b, c, t;
    fe_sq(z2, z);                 /* z^2 */
    fe_sq_times(t, z2, 2);        /* z^8 */
    fe_mul(z9, t, z);             /* z^9 */
    fe_mul(z11, z9, z2);          /* z^11 */
    fe_sq(t, z11);                /* z^22 */
    fe_mul(a, t, z9);             /* z^(2^5 - 1) */
    fe_sq_times(t, a, 5);
    fe_mul(b, t, a);              /* z^(2^10 - 1) */
    fe_sq_times(t, b, 10);
    fe_mul(c, t, b);              /* z^(2^20 - 1) */
    fe_sq_times(t, c, 20);
    fe_mul(t, t, c);              /* z^(2^40 - 1) */
    fe_sq_times(t, t, 10);
    fe_mul(a, t, b);              /* z^(2^50 - 1) */
    fe_sq_times(t, a, 50);
    fe_mul(b, t, a);              /* z^(2^100 - 1) */
    fe_sq_times(t, b, 100);
    fe_mul(t, t, b);              /* z^(2^200 - 1) */
    fe_sq_times(t, t, 50);
    fe_mul(t, t, a);              /* z^(2^250 - 1) */
    fe_sq_times(t, t, 5);         /* z^(2^255 - 32) */
    fe_mul(out, t, z11);          /* z^(2^255 - 21) */
}

/* Canonical little-endian words (value mod p, in [0, p)). */
static void fe_to_words(uint32_t w[8], const fe f)
{
    fe h;
    memcpy(h, f, sizeof(fe));
    fe_carry(h);
    fe_carry(h);
    /* Now every limb is non-negative and within its width, except that limb 1 may exceed it
     * by a little: packing adds rather than ORs, so such a carry lands where it belongs. */
    uint64_t acc = 0;
    int accbits = 0, wi = 0;
    memset(w, 0, 8 * sizeof(uint32_t));
    for (int i = 0; i < 10; i++) {
        acc += (uint64_t) h[i] << accbits;
        accbits += fe_bits[i];
        while (accbits >= 32) {
            w[wi++] = (uint32_t) acc;
            acc >>= 32;
            accbits -= 32;
        }
    }
    if (wi < 8) {
        w[wi] = (uint32_t) acc;
    }
    /* Subtract p once if value >= p, i.e. if value + 19 >= 2^255: computed without branches. */
    uint32_t t[8];
    uint64_t carry = 19;
    for (int i = 0; i < 8; i++) {
        carry += w[i];
        t[i] = (uint32_t) carry;
        carry >>= 32;
    }
    uint32_t ge = 0u - (t[7] >> 31);      /* all ones when value + 19 has bit 255 set */
    t[7] &= 0x7fffffff;
    for (int i = 0; i < 8; i++) {
        w[i] = (t[i] & ge) | (w[i] & ~ge);
    }
}

/* Loads any value < 2^256 (bit 255 folds in as 19). */
static void fe_from_words(fe h, const uint32_t w[8])
{
    uint32_t x[9];
    memcpy(x, w, 8 * sizeof(uint32_t));
    x[8] = 0;
    int64_t top = x[7] >> 31;
    x[7] &= 0x7fffffff;
    for (int i = 0; i < 10; i++) {
        int p = fe_pos[i];
        uint64_t win = (uint64_t) x[p / 32] | ((uint64_t) x[p / 32 + 1] << 32);
        h[i] = (int64_t) ((win >> (p % 32)) & (((uint64_t) 1 << fe_bits[i]) - 1));
    }
    h[0] += 19 * top;
}

/* mpi -> fe. The ladder's mpis are non-negative and below 2^256 (mbedTLS reduces its inputs
 * and we store canonical values); anything else is refused rather than misread. */
static int fe_from_mpi(fe h, const mbedtls_mpi *X)
{
    uint32_t w[8];
    if (tlsw_mpi_words(w, X) != 0) {
        return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    }
    fe_from_words(h, w);
    return 0;
}

static int fe_to_mpi(mbedtls_mpi *X, const fe f)
{
    uint32_t w[8];
    int ret = mbedtls_mpi_grow(X, 8);
    if (ret != 0) {
        return ret;
    }
    fe_to_words(w, f);
    memset(X->p, 0, X->n * sizeof(mbedtls_mpi_uint));
    memcpy(X->p, w, sizeof(w));
    X->s = 1;
    return 0;
}

unsigned char mbedtls_internal_ecp_grp_capable(const mbedtls_ecp_group *grp)
{
    return grp->id == MBEDTLS_ECP_DP_CURVE25519;
}

int mbedtls_internal_ecp_init(const mbedtls_ecp_group *grp)
{
    (void) grp;
    return 0;
}

void mbedtls_internal_ecp_free(const mbedtls_ecp_group *grp)
{
    (void) grp;
}

/* One ladder step (the same formulas as mbedTLS's ecp_double_add_mxz):
 * R = 2P and S = P + Q, given d = X(P - Q). R, S may alias P, Q: all inputs are read first. */
int mbedtls_internal_ecp_double_add_mxz(const mbedtls_ecp_group *grp,
                                        mbedtls_ecp_point *R, mbedtls_ecp_point *S,
                                        const mbedtls_ecp_point *P, const mbedtls_ecp_point *Q,
                                        const mbedtls_mpi *d)
{
    fe x1, x2, z2, x3, z3, a, b, c, dd, da, cb, aa, bb, e, t;
    int ret;
    (void) grp;
    if ((ret = fe_from_mpi(x2, &P->X)) != 0 || (ret = fe_from_mpi(z2, &P->Z)) != 0 ||
        (ret = fe_from_mpi(x3, &Q->X)) != 0 || (ret = fe_from_mpi(z3, &Q->Z)) != 0 ||
        (ret = fe_from_mpi(x1, d)) != 0) {
        return ret;
    }
    fe_add(a, x2, z2);
    fe_sub(b, x2, z2);
    fe_add(c, x3, z3);
    fe_sub(dd, x3, z3);
    fe_mul(da, dd, a);
    fe_mul(cb, c, b);
    fe_sq(aa, a);
    fe_sq(bb, b);
    fe_mul(x2, aa, bb);            /* R.X = AA * BB */
    fe_sub(e, aa, bb);
    fe_mul_small(t, e, 121666);    /* (A + 2) / 4, the constant mbedTLS keeps in grp->A */
    fe_add(t, t, bb);
    fe_mul(z2, e, t);              /* R.Z = E * (BB + a24 * E) */
    fe_add(t, da, cb);
    fe_sq(x3, t);                  /* S.X = (DA + CB)^2 */
    fe_sub(t, da, cb);
    fe_sq(t, t);
    fe_mul(z3, x1, t);             /* S.Z = d * (DA - CB)^2 */
    if ((ret = fe_to_mpi(&R->X, x2)) != 0 || (ret = fe_to_mpi(&R->Z, z2)) != 0 ||
        (ret = fe_to_mpi(&S->X, x3)) != 0 || (ret = fe_to_mpi(&S->Z, z3)) != 0) {
        return ret;
    }
    return 0;
}

/* X = X / Z, Z = 1. Z = 0 (the ladder reached the point at infinity: a low-order peer key) is
 * refused as mbedTLS's own inversion refuses it, so ECDH fails instead of yielding zeros. */
int mbedtls_internal_ecp_normalize_mxz(const mbedtls_ecp_group *grp, mbedtls_ecp_point *P)
{
    fe x, z, zi;
    uint32_t w[8], nz = 0;
    int ret;
    (void) grp;
    if ((ret = fe_from_mpi(x, &P->X)) != 0 || (ret = fe_from_mpi(z, &P->Z)) != 0) {
        return ret;
    }
    fe_to_words(w, z);
    for (int i = 0; i < 8; i++) {
        nz |= w[i];
    }
    if (nz == 0) {
        return MBEDTLS_ERR_MPI_NOT_ACCEPTABLE;
    }
    fe_invert(zi, z);
    fe_mul(x, x, zi);
    if ((ret = fe_to_mpi(&P->X, x)) != 0) {
        return ret;
    }
    return mbedtls_mpi_lset(&P->Z, 1);
}
