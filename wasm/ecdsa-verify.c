/*
 * ECDSA verification (MBEDTLS_ECDSA_VERIFY_ALT): a dedicated P-256 path, mbedTLS's arithmetic
 * for every other curve.
 *
 * Why: a TLS client verifies two P-256 signatures per full handshake (the leaf certificate's,
 * and CertificateVerify or ServerKeyExchange). mbedTLS's generic bignum code took ~2.3 ms per
 * verification in wasm, over half of a client handshake. Verification handles only public
 * data, so this path may be variable time.
 *
 * The P-256 path: 8 x 32-bit limbs, Montgomery multiplication (CIOS) mod p for coordinates and
 * mod n for scalars; Jacobian coordinates with a = -3; u1*G + u2*Q by interleaved width-5 NAF
 * (Strauss-Shamir) over tables of odd multiples, G's table computed once. The final check
 * compares X with r*Z^2 (and (r + n)*Z^2 when that is below p) instead of inverting Z.
 * All curve constants (p, n, b, G) are read from mbedTLS's group, none are typed in here.
 *
 * Results and error codes match mbedTLS's own mbedtls_ecdsa_verify: MBEDTLS_ERR_ECP_VERIFY_FAILED
 * for a wrong signature, MBEDTLS_ERR_ECP_INVALID_KEY for a public key off the curve,
 * MBEDTLS_ERR_ECP_BAD_INPUT_DATA for curves ECDSA cannot use.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stdint.h>
#include <string.h>
#include "mbedtls/build_info.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/bignum.h"
#include "mpi_words.h"

/* ---- 256-bit words, little-endian ---------------------------------------------------------- */

typedef uint32_t u256[8];

static int u_is_zero(const u256 a)
{
    uint32_t x = 0;
    for (int i = 0; i < 8; i++) {
        x |= a[i];
    }
    return x == 0;
}

static int u_cmp(const u256 a, const u256 b)
{
    for (int i = 7; i >= 0; i--) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

/* r = a + b, returns the carry out. */
static uint32_t u_add(u256 r, const u256 a, const u256 b)
{
    uint64_t c = 0;
    for (int i = 0; i < 8; i++) {
        c += (uint64_t) a[i] + b[i];
        r[i] = (uint32_t) c;
        c >>= 32;
    }
    return (uint32_t) c;
}

/* r = a - b, returns the borrow out. */
static uint32_t u_sub(u256 r, const u256 a, const u256 b)
{
    int64_t c = 0;
    for (int i = 0; i < 8; i++) {
        c += (int64_t) a[i] - b[i];
        r[i] = (uint32_t) c;
        c >>= 32;
    }
    return (uint32_t) (c & 1);
}

/* ---- Montgomery arithmetic mod an odd m < 2^256 -------------------------------------------- */

typedef struct {
    u256 m;      /* the modulus */
    u256 r2;     /* R^2 mod m, R = 2^256 */
    u256 one;    /* R mod m: 1 in Montgomery form */
    uint32_t minv; /* -m^-1 mod 2^32 */
} mod_ctx;

/* r = a * b / R mod m, for a, b < m; r < m. CIOS: each of the 8 rounds adds a*b[i], then
 * cancels the low word with a multiple of m and shifts; every sum fits in 64 bits. */
static void mont_mul(u256 r, const u256 a, const u256 b, const mod_ctx *M)
{
    uint32_t t[10] = { 0 };
    for (int i = 0; i < 8; i++) {
        uint64_t c = 0;
        uint64_t bi = b[i];
        for (int j = 0; j < 8; j++) {
            c += (uint64_t) t[j] + a[j] * bi;
            t[j] = (uint32_t) c;
            c >>= 32;
        }
        c += t[8];
        t[8] = (uint32_t) c;
        t[9] = (uint32_t) (c >> 32);
        uint64_t q = (uint32_t) (t[0] * M->minv);
        c = ((uint64_t) t[0] + q * M->m[0]) >> 32;
        for (int j = 1; j < 8; j++) {
            c += (uint64_t) t[j] + q * M->m[j];
            t[j - 1] = (uint32_t) c;
            c >>= 32;
        }
        c += t[8];
        t[7] = (uint32_t) c;
        t[8] = t[9] + (uint32_t) (c >> 32);
    }
    /* t < 2m: subtract m once if needed. */
    u256 d;
    uint32_t borrow = u_sub(d, t, M->m);
    if (t[8] != 0 || borrow == 0) {
        memcpy(r, d, sizeof(u256));
    } else {
        memcpy(r, t, sizeof(u256));
    }
}

static void mod_add(u256 r, const u256 a, const u256 b, const mod_ctx *M)
{
    u256 d;
    uint32_t carry = u_add(r, a, b);
    uint32_t borrow = u_sub(d, r, M->m);
    if (carry || !borrow) {
        memcpy(r, d, sizeof(u256));
    }
}

static void mod_sub(u256 r, const u256 a, const u256 b, const mod_ctx *M)
{
    if (u_sub(r, a, b)) {
        u_add(r, r, M->m);
    }
}

static void to_mont(u256 r, const u256 a, const mod_ctx *M)
{
    mont_mul(r, a, M->r2, M);
}

/* While u is even: u /= 2 and x = x / 2 mod m (adding m first when x is odd). */
static void halve_while_even(u256 u, u256 x, const mod_ctx *M)
{
    while ((u[0] & 1) == 0) {
        for (int i = 0; i < 8; i++) {
            u[i] = (u[i] >> 1) | (i < 7 ? u[i + 1] << 31 : 0);
        }
        uint32_t top = 0;
        if (x[0] & 1) {
            top = u_add(x, x, M->m);
        }
        for (int i = 0; i < 8; i++) {
            x[i] = (x[i] >> 1) | (i < 7 ? x[i + 1] << 31 : top << 31);
        }
    }
}

/* a^-1 mod m for 0 < a < m, plain (not Montgomery) form: binary extended Euclid, keeping
 * x1 * a = u and x2 * a = v (mod m). Variable time; used only on public values. */
static void mod_inv(u256 r, const u256 a, const mod_ctx *M)
{
    u256 u, v, x1 = { 1 }, x2 = { 0 };
    static const u256 one = { 1 };
    memcpy(u, a, sizeof(u256));
    memcpy(v, M->m, sizeof(u256));
    while (u_cmp(u, one) != 0 && u_cmp(v, one) != 0) {
        halve_while_even(u, x1, M);
        halve_while_even(v, x2, M);
        if (u_cmp(u, v) >= 0) {
            u_sub(u, u, v);
            mod_sub(x1, x1, x2, M);
        } else {
            u_sub(v, v, u);
            mod_sub(x2, x2, x1, M);
        }
    }
    memcpy(r, u_cmp(u, one) == 0 ? x1 : x2, sizeof(u256));
}

static int mod_ctx_init(mod_ctx *M, const mbedtls_mpi *m)
{
    int ret;
    mbedtls_mpi t;
    mbedtls_mpi_init(&t);
    if (tlsw_mpi_words(M->m, m) != 0 || (M->m[0] & 1) == 0) {
        return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    }
    /* -m^-1 mod 2^32 by Newton's iteration: each step doubles the correct low bits. */
    uint32_t inv = 1;
    for (int i = 0; i < 5; i++) {
        inv *= 2 - M->m[0] * inv;
    }
    M->minv = 0u - inv;
    MBEDTLS_MPI_CHK(mbedtls_mpi_lset(&t, 1));
    MBEDTLS_MPI_CHK(mbedtls_mpi_shift_l(&t, 256));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&t, &t, m));
    if (tlsw_mpi_words(M->one, &t) != 0) {
        ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
        goto cleanup;
    }
    MBEDTLS_MPI_CHK(mbedtls_mpi_lset(&t, 1));
    MBEDTLS_MPI_CHK(mbedtls_mpi_shift_l(&t, 512));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&t, &t, m));
    if (tlsw_mpi_words(M->r2, &t) != 0) {
        ret = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    }
cleanup:
    mbedtls_mpi_free(&t);
    return ret;
}

/* ---- P-256 points: Jacobian (X / Z^2, Y / Z^3), coordinates in Montgomery form -------------- */

typedef struct {
    u256 x, y, z;   /* z = 0: the point at infinity */
} jpoint;

#define WNAF_W 5
#define TABLE_SIZE (1 << (WNAF_W - 2))   /* odd multiples 1P, 3P, ..., 15P */

static struct {
    int ready;
    mod_ctx p, n;
    u256 b;                    /* Montgomery form */
    jpoint g_table[TABLE_SIZE];
} P256;

/* 2P, a = -3 ("dbl-2001-b": 3M + 5S). */
static void pt_double(jpoint *r, const jpoint *a)
{
    const mod_ctx *M = &P256.p;
    u256 delta, gamma, beta, alpha, t1, t2;
    if (u_is_zero(a->z)) {
        *r = *a;
        return;
    }
    mont_mul(delta, a->z, a->z, M);
    mont_mul(gamma, a->y, a->y, M);
    mont_mul(beta, a->x, gamma, M);
    mod_sub(t1, a->x, delta, M);
    mod_add(t2, a->x, delta, M);
    mont_mul(alpha, t1, t2, M);
    mod_add(t1, alpha, alpha, M);
    mod_add(alpha, t1, alpha, M);                 /* alpha = 3 (X - delta)(X + delta) */
    mod_add(t1, a->y, a->z, M);
    mont_mul(t1, t1, t1, M);
    mod_sub(t1, t1, gamma, M);
    mod_sub(r->z, t1, delta, M);                  /* Z3 = (Y + Z)^2 - gamma - delta */
    mod_add(beta, beta, beta, M);
    mod_add(beta, beta, beta, M);                 /* 4 beta */
    mont_mul(t1, alpha, alpha, M);
    mod_add(t2, beta, beta, M);
    mod_sub(r->x, t1, t2, M);                     /* X3 = alpha^2 - 8 beta */
    mod_sub(t1, beta, r->x, M);
    mont_mul(t1, alpha, t1, M);
    mont_mul(gamma, gamma, gamma, M);
    mod_add(gamma, gamma, gamma, M);
    mod_add(gamma, gamma, gamma, M);
    mod_add(gamma, gamma, gamma, M);              /* 8 gamma^2 */
    mod_sub(r->y, t1, gamma, M);                  /* Y3 = alpha (4 beta - X3) - 8 gamma^2 */
}

/* P + Q ("add-2007-bl": 11M + 5S), with the equal and opposite cases handled. */
static void pt_add(jpoint *r, const jpoint *a, const jpoint *b)
{
    const mod_ctx *M = &P256.p;
    u256 z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, t;
    if (u_is_zero(a->z)) {
        *r = *b;
        return;
    }
    if (u_is_zero(b->z)) {
        *r = *a;
        return;
    }
    mont_mul(z1z1, a->z, a->z, M);
    mont_mul(z2z2, b->z, b->z, M);
    mont_mul(u1, a->x, z2z2, M);
    mont_mul(u2, b->x, z1z1, M);
    mont_mul(t, b->z, z2z2, M);
    mont_mul(s1, a->y, t, M);
    mont_mul(t, a->z, z1z1, M);
    mont_mul(s2, b->y, t, M);
    mod_sub(h, u2, u1, M);
    mod_sub(rr, s2, s1, M);
    if (u_is_zero(h)) {
        if (u_is_zero(rr)) {
            pt_double(r, a);
        } else {
            memset(r, 0, sizeof(*r));             /* P + (-P) */
        }
        return;
    }
    mod_add(rr, rr, rr, M);                       /* r = 2 (S2 - S1) */
    mod_add(i, h, h, M);
    mont_mul(i, i, i, M);                         /* I = (2H)^2 */
    mont_mul(j, h, i, M);                         /* J = H I */
    mont_mul(v, u1, i, M);                        /* V = U1 I */
    mod_add(t, a->z, b->z, M);
    mont_mul(t, t, t, M);
    mod_sub(t, t, z1z1, M);
    mod_sub(t, t, z2z2, M);
    mont_mul(r->z, t, h, M);                      /* Z3 = ((Z1 + Z2)^2 - Z1Z1 - Z2Z2) H */
    mont_mul(t, rr, rr, M);
    mod_sub(t, t, j, M);
    mod_sub(t, t, v, M);
    mod_sub(r->x, t, v, M);                       /* X3 = r^2 - J - 2V */
    mod_sub(t, v, r->x, M);
    mont_mul(t, rr, t, M);
    mont_mul(s1, s1, j, M);
    mod_add(s1, s1, s1, M);
    mod_sub(r->y, t, s1, M);                      /* Y3 = r (V - X3) - 2 S1 J */
}

static void pt_neg(jpoint *r, const jpoint *a)
{
    static const u256 zero = { 0 };
    *r = *a;
    if (!u_is_zero(a->y)) {
        mod_sub(r->y, zero, a->y, &P256.p);
    }
}

static void make_table(jpoint t[TABLE_SIZE], const jpoint *p)
{
    jpoint p2;
    pt_double(&p2, p);
    t[0] = *p;
    for (int i = 1; i < TABLE_SIZE; i++) {
        pt_add(&t[i], &t[i - 1], &p2);
    }
}

/* Width-5 NAF of k < 2^256: digits in {0, +-1, +-3, ..., +-15}, at most 257 of them, with any
 * two non-zero digits at least 5 apart. Returns the digit count. */
static int wnaf(int8_t d[257], const u256 k_in)
{
    uint32_t k[9];
    int len = 0;
    memcpy(k, k_in, sizeof(u256));
    k[8] = 0;
    for (;;) {
        int nz = 0;
        for (int i = 0; i < 9; i++) {
            nz |= k[i] != 0;
        }
        if (!nz) {
            break;
        }
        int digit = 0;
        if (k[0] & 1) {
            digit = (int) (k[0] & ((1u << WNAF_W) - 1));
            if (digit >= (1 << (WNAF_W - 1))) {
                digit -= 1 << WNAF_W;
            }
            /* k -= digit */
            int64_t c = (int64_t) k[0] - digit;
            k[0] = (uint32_t) c;
            c >>= 32;
            for (int i = 1; i < 9 && c != 0; i++) {
                c += k[i];
                k[i] = (uint32_t) c;
                c >>= 32;
            }
        }
        d[len++] = (int8_t) digit;
        for (int i = 0; i < 9; i++) {
            k[i] = (k[i] >> 1) | (i < 8 ? k[i + 1] << 31 : 0);
        }
    }
    return len;
}

static int p256_setup(const mbedtls_ecp_group *grp)
{
    int ret;
    u256 gx, gy, b;
    if (P256.ready) {
        return 0;
    }
    if ((ret = mod_ctx_init(&P256.p, &grp->P)) != 0 || (ret = mod_ctx_init(&P256.n, &grp->N)) != 0) {
        return ret;
    }
    if (tlsw_mpi_words(gx, &grp->G.X) != 0 || tlsw_mpi_words(gy, &grp->G.Y) != 0 || tlsw_mpi_words(b, &grp->B) != 0) {
        return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    }
    jpoint g;
    to_mont(g.x, gx, &P256.p);
    to_mont(g.y, gy, &P256.p);
    memcpy(g.z, P256.p.one, sizeof(u256));
    to_mont(P256.b, b, &P256.p);
    make_table(P256.g_table, &g);
    P256.ready = 1;
    return 0;
}

/* mbedTLS's derive_mpi: the leftmost nbits of the hash, reduced below n. */
static void derive_e(u256 e, const unsigned char *buf, size_t blen)
{
    size_t use = blen > 32 ? 32 : blen;
    memset(e, 0, sizeof(u256));
    for (size_t i = 0; i < use; i++) {
        size_t bit = (use - 1 - i) * 8;
        e[bit / 32] |= (uint32_t) buf[i] << (bit % 32);
    }
    if (u_cmp(e, P256.n.m) >= 0) {
        u_sub(e, e, P256.n.m);
    }
}

/* p256_verify's answer for a key not in affine form: not an mbedTLS code, never returned. */
#define P256_NOT_AFFINE 1

static int p256_verify(const mbedtls_ecp_group *grp, const unsigned char *buf, size_t blen,
                       const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    int ret;
    u256 ur, us, e, w, u1, u2, qx, qy, qz, t, lhs, rhs;
    if ((ret = p256_setup(grp)) != 0) {
        return ret;
    }
    const mod_ctx *Mp = &P256.p, *Mn = &P256.n;

    /* r, s in [1, n - 1] */
    if (tlsw_mpi_words(ur, r) != 0 || tlsw_mpi_words(us, s) != 0 || u_is_zero(ur) || u_is_zero(us) ||
        u_cmp(ur, Mn->m) >= 0 || u_cmp(us, Mn->m) >= 0) {
        return MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }

    /* The public key: coordinates below p, on the curve (y^2 = x^3 - 3x + b). Keys mbedTLS parses
     * are affine (Z = 1); anything else is left to mbedTLS's own checks (generic_verify). */
    static const u256 one_plain = { 1 };
    if (tlsw_mpi_words(qz, &Q->Z) != 0 || u_cmp(qz, one_plain) != 0) {
        return P256_NOT_AFFINE;
    }
    if (tlsw_mpi_words(qx, &Q->X) != 0 || tlsw_mpi_words(qy, &Q->Y) != 0 ||
        u_cmp(qx, Mp->m) >= 0 || u_cmp(qy, Mp->m) >= 0) {
        return MBEDTLS_ERR_ECP_INVALID_KEY;
    }
    jpoint q;
    to_mont(q.x, qx, Mp);
    to_mont(q.y, qy, Mp);
    memcpy(q.z, Mp->one, sizeof(u256));
    mont_mul(lhs, q.y, q.y, Mp);
    mont_mul(t, q.x, q.x, Mp);
    mont_mul(rhs, t, q.x, Mp);
    mod_sub(rhs, rhs, q.x, Mp);
    mod_sub(rhs, rhs, q.x, Mp);
    mod_sub(rhs, rhs, q.x, Mp);
    mod_add(rhs, rhs, P256.b, Mp);
    if (u_cmp(lhs, rhs) != 0) {
        return MBEDTLS_ERR_ECP_INVALID_KEY;
    }

    /* w = s^-1, u1 = e w, u2 = r w (mod n). mont_mul(x, y) = x y / R, so a second product with
     * R^2 turns it back into x y. */
    derive_e(e, buf, blen);
    mod_inv(w, us, Mn);
    mont_mul(t, e, w, Mn);
    mont_mul(u1, t, Mn->r2, Mn);
    mont_mul(t, ur, w, Mn);
    mont_mul(u2, t, Mn->r2, Mn);

    /* R = u1 G + u2 Q */
    jpoint q_table[TABLE_SIZE], acc, tmp;
    int8_t d1[257], d2[257];
    make_table(q_table, &q);
    int n1 = wnaf(d1, u1), n2 = wnaf(d2, u2);
    memset(&acc, 0, sizeof(acc));
    for (int i = (n1 > n2 ? n1 : n2) - 1; i >= 0; i--) {
        pt_double(&acc, &acc);
        int a = i < n1 ? d1[i] : 0, b = i < n2 ? d2[i] : 0;
        if (a > 0) {
            pt_add(&acc, &acc, &P256.g_table[a / 2]);
        } else if (a < 0) {
            pt_neg(&tmp, &P256.g_table[-a / 2]);
            pt_add(&acc, &acc, &tmp);
        }
        if (b > 0) {
            pt_add(&acc, &acc, &q_table[b / 2]);
        } else if (b < 0) {
            pt_neg(&tmp, &q_table[-b / 2]);
            pt_add(&acc, &acc, &tmp);
        }
    }
    if (u_is_zero(acc.z)) {
        return MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }

    /* x(R) mod n == r  <=>  X == r' Z^2 (mod p) for r' = r or r + n (the latter when below p). */
    u256 z2, rm, rn;
    mont_mul(z2, acc.z, acc.z, Mp);
    to_mont(rm, ur, Mp);
    mont_mul(t, rm, z2, Mp);
    if (u_cmp(t, acc.x) == 0) {
        return 0;
    }
    if (u_add(rn, ur, Mn->m) == 0 && u_cmp(rn, Mp->m) < 0) {
        to_mont(rm, rn, Mp);
        mont_mul(t, rm, z2, Mp);
        if (u_cmp(t, acc.x) == 0) {
            return 0;
        }
    }
    return MBEDTLS_ERR_ECP_VERIFY_FAILED;
}

/* ---- every other curve: mbedTLS's steps, on its public API ----------------------------------- */

static int generic_verify(mbedtls_ecp_group *grp, const unsigned char *buf, size_t blen,
                          const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    int ret;
    mbedtls_mpi e, s_inv, u1, u2;
    mbedtls_ecp_point R;
    mbedtls_ecp_point_init(&R);
    mbedtls_mpi_init(&e); mbedtls_mpi_init(&s_inv); mbedtls_mpi_init(&u1); mbedtls_mpi_init(&u2);

    if (mbedtls_mpi_cmp_int(r, 1) < 0 || mbedtls_mpi_cmp_mpi(r, &grp->N) >= 0 ||
        mbedtls_mpi_cmp_int(s, 1) < 0 || mbedtls_mpi_cmp_mpi(s, &grp->N) >= 0) {
        ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;
        goto cleanup;
    }
    /* e: the leftmost nbits of the hash, below n */
    size_t n_size = (grp->nbits + 7) / 8, use = blen > n_size ? n_size : blen;
    MBEDTLS_MPI_CHK(mbedtls_mpi_read_binary(&e, buf, use));
    if (use * 8 > grp->nbits) {
        MBEDTLS_MPI_CHK(mbedtls_mpi_shift_r(&e, use * 8 - grp->nbits));
    }
    if (mbedtls_mpi_cmp_mpi(&e, &grp->N) >= 0) {
        MBEDTLS_MPI_CHK(mbedtls_mpi_sub_mpi(&e, &e, &grp->N));
    }
    MBEDTLS_MPI_CHK(mbedtls_mpi_inv_mod(&s_inv, s, &grp->N));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&u1, &e, &s_inv));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&u1, &u1, &grp->N));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mul_mpi(&u2, r, &s_inv));
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&u2, &u2, &grp->N));
    MBEDTLS_MPI_CHK(mbedtls_ecp_muladd(grp, &R, &u1, &grp->G, &u2, Q));
    if (mbedtls_ecp_is_zero(&R)) {
        ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;
        goto cleanup;
    }
    MBEDTLS_MPI_CHK(mbedtls_mpi_mod_mpi(&R.X, &R.X, &grp->N));
    if (mbedtls_mpi_cmp_mpi(&R.X, r) != 0) {
        ret = MBEDTLS_ERR_ECP_VERIFY_FAILED;
    }
cleanup:
    mbedtls_ecp_point_free(&R);
    mbedtls_mpi_free(&e); mbedtls_mpi_free(&s_inv); mbedtls_mpi_free(&u1); mbedtls_mpi_free(&u2);
    return ret;
}

int mbedtls_ecdsa_verify(mbedtls_ecp_group *grp, const unsigned char *buf, size_t blen,
                         const mbedtls_ecp_point *Q, const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    /* Curves such as Curve25519 cannot do ECDSA: fail cleanly, as mbedTLS does. */
    if (!mbedtls_ecdsa_can_do(grp->id) || grp->N.p == NULL) {
        return MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    }
    if (grp->id == MBEDTLS_ECP_DP_SECP256R1) {
        int ret = p256_verify(grp, buf, blen, Q, r, s);
        if (ret != P256_NOT_AFFINE) {
            return ret;
        }
    }
    return generic_verify(grp, buf, blen, Q, r, s);
}
