/* SPDX-License-Identifier: Apache-2.0 */
/* u128 — the unsigned 128-bit integer softfp needs, as two 64-bit words.
 *
 * softfp used GCC's unsigned __int128, which Frama-C cannot parse; this header gives the same
 * modular (mod 2^128) arithmetic in standard C so the model is a proof unit (proofs/units/
 * softfp.json). Each operation computes exactly what the __int128 operator computed on every input
 * where that one was defined (tests/test_u128.c compares them), and is written so that no
 * intermediate wraps or shifts out of range: wrap-around is spelled out with comparisons, and a
 * left shift masks off the bits it would push out first. That keeps `-wp-rte
 * -warn-unsigned-overflow` free of goals that would need the value of a u128.
 * Only what softfp.c uses is here. */
#ifndef QMAR_SPEC_MODEL_U128_H
#define QMAR_SPEC_MODEL_U128_H

#include <stdint.h>

/* hi * 2^64 + lo. */
typedef struct u128 {
    uint64_t hi;
    uint64_t lo;
} u128;

/*@ ensures \result.hi == 0 && \result.lo == v;
    assigns \nothing; */
static inline u128 u128_from64(uint64_t v)
{
    u128 r = {0, v};
    return r;
}

/*@ assigns \nothing;
    ensures \result <==> (a.hi == 0 && a.lo == 0); */
static inline int u128_is_zero(u128 a) { return a.hi == 0 && a.lo == 0; }

/*@ assigns \nothing;
    ensures \result <==> (a.hi == b.hi && a.lo == b.lo); */
static inline int u128_eq(u128 a, u128 b) { return a.hi == b.hi && a.lo == b.lo; }

/*@ assigns \nothing;
    ensures \result <==> (a.hi > b.hi || (a.hi == b.hi && a.lo > b.lo)); */
static inline int u128_gt(u128 a, u128 b) { return a.hi > b.hi || (a.hi == b.hi && a.lo > b.lo); }

/*@ assigns \nothing;
    ensures \result <==> (a.hi > b.hi || (a.hi == b.hi && a.lo >= b.lo)); */
static inline int u128_ge(u128 a, u128 b) { return a.hi > b.hi || (a.hi == b.hi && a.lo >= b.lo); }

/* The low bit (x & 1). */
/*@ assigns \nothing; */
static inline uint64_t u128_low_bit(u128 a) { return a.lo & 1; }

/* The low 32 bits, (uint32_t)x. */
/*@ assigns \nothing; */
static inline uint32_t u128_low32(u128 a) { return (uint32_t)(a.lo & UINT32_MAX); }

/* a + b mod 2^64 and its carry, without a wrapping operation. */
/*@ requires \valid(carry);
    assigns *carry;
    ensures *carry == 0 || *carry == 1; */
static inline uint64_t add64(uint64_t a, uint64_t b, uint64_t *carry)
{
    if (a > UINT64_MAX - b) { /* a + b >= 2^64: the sum is a + b - 2^64 */
        *carry = 1;
        return a - (UINT64_MAX - b) - 1;
    }
    *carry = 0;
    return a + b;
}

/* a - b mod 2^64 and its borrow. */
/*@ requires \valid(borrow);
    assigns *borrow;
    ensures *borrow == 0 || *borrow == 1; */
static inline uint64_t sub64(uint64_t a, uint64_t b, uint64_t *borrow)
{
    if (a < b) { /* the difference is 2^64 + a - b */
        *borrow = 1;
        return (UINT64_MAX - b) + a + 1;
    }
    *borrow = 0;
    return a - b;
}

/* a + b mod 2^128. */
/*@ assigns \nothing; */
static inline u128 u128_add(u128 a, u128 b)
{
    uint64_t c1, c2, c3;
    u128 r;
    r.lo = add64(a.lo, b.lo, &c1);
    r.hi = add64(add64(a.hi, b.hi, &c2), c1, &c3);
    return r;
}

/* a - b mod 2^128. */
/*@ assigns \nothing; */
static inline u128 u128_sub(u128 a, u128 b)
{
    uint64_t b1, b2, b3;
    u128 r;
    r.lo = sub64(a.lo, b.lo, &b1);
    r.hi = sub64(sub64(a.hi, b.hi, &b2), b1, &b3);
    return r;
}

/* x << n mod 2^64 as shifts by 32, 16, 8, 4, 2 and 1 (n's bits), each masking off first the
 * bits it would push out: no shift wraps, and each has a constant count, which the proof needs. */
/*@ requires 0 <= n < 64;
    assigns \nothing; */
static inline uint64_t shl64(uint64_t x, int n)
{
    if (n & 32)
        x = (x & UINT64_C(0xFFFFFFFF)) << 32;
    if (n & 16)
        x = (x & UINT64_C(0xFFFFFFFFFFFF)) << 16;
    if (n & 8)
        x = (x & UINT64_C(0xFFFFFFFFFFFFFF)) << 8;
    if (n & 4)
        x = (x & UINT64_C(0xFFFFFFFFFFFFFFF)) << 4;
    if (n & 2)
        x = (x & UINT64_C(0x3FFFFFFFFFFFFFFF)) << 2;
    if (n & 1) {
        uint64_t low = x & UINT64_C(0x7FFFFFFFFFFFFFFF);
        /*@ assert low <= 0x7FFFFFFFFFFFFFFF; */
        x = low * 2; /* x << 1 */
    }
    return x;
}

/* a << n mod 2^128. n >= 128 gives 0 (where __int128 is undefined: softfp never asks). */
/*@ requires n >= 0;
    assigns \nothing;
    ensures n == 0 ==> \result == a; */
static inline u128 u128_shl(u128 a, int n)
{
    u128 r = {0, 0};
    if (n == 0)
        return a;
    if (n >= 128)
        return r;
    if (n >= 64) { /* lo moves wholly into hi; its top n-64 bits leave */
        r.hi = shl64(a.lo, n - 64);
        return r;
    }
    r.hi = shl64(a.hi, n) | (a.lo >> (64 - n));
    r.lo = shl64(a.lo, n);
    return r;
}

/* a >> n. n >= 128 gives 0. */
/*@ requires n >= 0;
    assigns \nothing;
    ensures n == 0 ==> \result == a; */
static inline u128 u128_shr(u128 a, int n)
{
    u128 r = {0, 0};
    if (n == 0)
        return a;
    if (n >= 128)
        return r;
    if (n >= 64) {
        r.lo = a.hi >> (n - 64);
        return r;
    }
    r.lo = (a.lo >> n) | shl64(a.hi, 64 - n);
    r.hi = a.hi >> n;
    return r;
}

/* Monotony of the product, one factor at a time (a ghost lemma: no code). */
/*@ ghost
  /@ requires 0 <= x <= y && 0 <= z;
     assigns \nothing;
     ensures x * z <= y * z;
  @/
  static void u128_lemma_mul_mono(uint64_t x, uint64_t y, uint64_t z)
  {
  }
*/

/* The exact product of two 64-bit numbers, from four 32 x 32-bit partial products. */
/*@ assigns \nothing; */
static inline u128 u128_mul64(uint64_t a, uint64_t b)
{
    uint64_t a0 = a % (UINT64_C(1) << 32), a1 = a >> 32, b0 = b % (UINT64_C(1) << 32), b1 = b >> 32;
    /*@ assert a0 <= UINT32_MAX && a1 <= UINT32_MAX && b0 <= UINT32_MAX && b1 <= UINT32_MAX; */
    /* Each product is below 2^64: x * y <= (2^32 - 1) * y <= (2^32 - 1)^2, by monotony. */
    /*@ ghost u128_lemma_mul_mono(a0, UINT32_MAX, b0); u128_lemma_mul_mono(b0, UINT32_MAX, UINT32_MAX);
              u128_lemma_mul_mono(a0, UINT32_MAX, b1); u128_lemma_mul_mono(b1, UINT32_MAX, UINT32_MAX);
              u128_lemma_mul_mono(a1, UINT32_MAX, b0); u128_lemma_mul_mono(a1, UINT32_MAX, b1); */
    u128 r = {a1 * b1, a0 * b0};
    u128 m0 = u128_shl(u128_from64(a0 * b1), 32); /* the cross products, at bit 32 */
    u128 m1 = u128_shl(u128_from64(a1 * b0), 32);
    return u128_add(u128_add(r, m0), m1);
}

/* Number of significant bits of a 64-bit word: 0 for 0, else 1 + the index of the top set bit. */
/*@ assigns \nothing;
    ensures 0 <= \result <= 64; */
static inline int bit_length64(uint64_t v)
{
    /*@ loop invariant 0 <= n <= 64;
        loop assigns n;
        loop variant n; */
    for (int n = 64; n > 0; n--)
        if (((v >> (n - 1)) & 1) != 0)
            return n;
    return 0;
}

/*@ assigns \nothing;
    ensures 0 <= \result <= 128; */
static inline int u128_bit_length(u128 a)
{
    return a.hi != 0 ? 64 + bit_length64(a.hi) : bit_length64(a.lo);
}

/* a / d and a % d (in *rem) for a divisor below 2^32: long division in 32-bit digits, each
 * partial dividend (remainder < d, then the next digit) below 2^64. */
/*@ requires 0 < d;
    requires \valid(rem);
    assigns *rem;
    ensures *rem < d; */
static inline u128 u128_divmod32(u128 a, uint32_t d, uint32_t *rem)
{
    uint32_t digit[4] = {(uint32_t)(a.hi >> 32), (uint32_t)(a.hi & UINT32_MAX),
                         (uint32_t)(a.lo >> 32), (uint32_t)(a.lo & UINT32_MAX)};
    uint64_t q[4];
    uint64_t r = 0;
    /*@ loop invariant 0 <= i <= 4;
        loop invariant r < d;
        loop assigns i, r, q[0 .. 3];
        loop variant 4 - i; */
    for (int i = 0; i < 4; i++) {
        uint64_t part = (r << 32) + digit[i]; /* r < d < 2^32: r << 32 does not wrap */
        q[i] = part / d;
        r = part % d;
    }
    *rem = (uint32_t)r;
    /* Each digit q[i] < 2^32 (part < d * 2^32); the masks say so to the proof, changing nothing. */
    u128 quot = {((q[0] & UINT32_MAX) << 32) | q[1], ((q[2] & UINT32_MAX) << 32) | q[3]};
    return quot;
}

#endif
