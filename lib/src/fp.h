/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the rounding steps of numerics.md on real IEEE hardware arithmetic.
 * fp32 arithmetic is done by the CPU (SSE, round-to-nearest-even, no FTZ/DAZ, no contraction);
 * narrowing to fp16/bf16 and rounding to integers are done on bits, so no instruction that
 * flushes denormals or depends on the rounding mode is involved (numerics.md §9). */
#ifndef QMAR_SRC_FP_H
#define QMAR_SRC_FP_H
#include <stdint.h>
#include <string.h>

/* rne_T, f32, rint and sat8 on the integers of bit patterns, as ACSL logic. */
#include "../../spec/acsl/numerics.acsl"

/* Trusted: the bits of a float and back (memcpy; WP has no view of a float's representation). */
/*@ assigns \nothing; */
static inline uint32_t qmar__f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/*@ assigns \nothing; */
static inline float qmar__f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- Proven (proofs/units/fp): integer code on bit patterns, against spec/acsl/numerics.acsl ----
 * Written with / % * + on unsigned values, which is what WP's arithmetic models (its provers know
 * nothing of & | >> on integers); for unsigned operands and powers of two a compiler emits the
 * very shifts and masks. Field names: sign bit, biased exponent, fraction. */

/*@ assigns \nothing;
    ensures \result == (integer)h * 65536;
*/
static inline uint32_t qmar__bf16_bits_to_f32(uint16_t h)
{
    return (uint32_t)h * 65536u; /* h << 16 */
}

/* f32 of an fp16: exact. Subnormals are normalised (shifted until the hidden bit appears). */
/*@ assigns \nothing;
    ensures f16_widened(h, \result);
*/
static inline uint32_t qmar__f16_bits_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h / 32768u) * 0x80000000u;
    uint32_t exp = h / 1024u % 32u, man = h % 1024u;
    if (exp == 31) /* inf or NaN: payload kept */
        return sign + 0x7F800000u + man * 8192u;
    if (exp != 0) /* normal: rebias 15 -> 127 */
        return sign + (exp + 112u) * 8388608u + man * 8192u;
    if (man == 0)
        return sign;
    /* subnormal m * 2^-24: with m's top bit at position 10 it is (m / 2^10) * 2^-14, exponent
     * 127 - 14 = 113; each shift left takes one from the exponent. */
    uint32_t e = 113;
    /*@ loop invariant 1 <= man < 2048 && 103 <= e <= 113;
        loop invariant man == (h % 1024) * pow2(113 - e);
        loop assigns man, e;
        loop variant 2048 - man;
    */
    while (man < 1024u) {
        man *= 2u;
        e--;
    }
    /* The fields of the result, one step each (the ensures then only matches them up). */
    //@ assert pow2(126 - e) == pow2(113 - e) * 8192;
    //@ assert man * 8192 == (h % 1024) * pow2(126 - e);
    /*@ assert \let mag = e * 8388608 + (man - 1024) * 8192;
            f32_sign(sign + mag) == h / 32768 && f32_mag(sign + mag) == mag; */
    /*@ assert subnormal_fields: \let mag = e * 8388608 + (man - 1024) * 8192;
            f32_exp(mag) == e && f32_frac(mag) == (man - 1024) * 8192; */
    return sign + e * 8388608u + (man - 1024u) * 8192u;
}

/* Round-half-to-even of v / 2^shift (1 <= shift <= 24). */
/*@ requires 1 <= shift <= 24;
    assigns \nothing;
    ensures \result == rne_shift(v, shift);
*/
static inline uint32_t qmar__round_shift(uint32_t v, int shift)
{
    /* WP's theory of << knows 1 << 0 == 1, x << 1 == 2x and (x << a) << b == x << (a + b), not
     * 1 << s == 2^s (an axiom saying so contradicted it, proofs/README.md): this ghost loop (no
     * code) climbs from 1 << 0 to 1 << shift one step of those facts at a time. */
    /*@ ghost
        int i = 0;
        /@ loop invariant 0 <= i <= shift && (1 << i) == pow2(i);
           loop assigns i;
           loop variant shift - i; @/
        while (i < shift) {
            /@ assert (1 << (i + 1)) == ((1 << i) << 1) == 2 * (1 << i); @/
            /@ assert pow2(i + 1) == 2 * pow2(i); @/
            i++;
        }
    */
    //@ assert (1 << shift) == pow2(shift);
    uint32_t p = 1u << shift, q = v / p, rem = v % p, half = p / 2u;
    return q + (rem > half || (rem == half && q % 2u == 1u));
}

/* rne_fp16 of the fp32 with bits x: gradual underflow, overflow to inf, NaN stays NaN (quiet). */
/*@ assigns \nothing;
    ensures f32_is_nan(x) ==> f16_is_nan(\result);
    ensures !f32_is_nan(x) ==> \result == f32_sign(x) * 32768 + rne_f16_mag(f32_mag(x));
*/
static inline uint16_t qmar__f32_bits_to_f16(uint32_t x)
{
    uint32_t sign = x / 0x80000000u * 0x8000u, ax = x % 0x80000000u;
    //@ assert sign == f32_sign(x) * 32768 && ax == f32_mag(x);
    if (ax > 0x7F800000u) /* NaN: quiet, the top 9 payload bits kept */
        return (uint16_t)(sign + 0x7E00u + ax / 8192u % 512u);
    /* Each path below first states the case of rne_f16_mag it is in, then its value. */
    if (ax >= 0x477FF000u) { /* >= 65520: rounds past 65504 */
        //@ assert f32_exp(ax) >= 142 && (f32_exp(ax) == 142 ==> f32_sig(ax) >= 0xFFF000);
        //@ assert rne_shift(f32_sig(ax), 13) >= 1024;
        //@ assert f32_exp(ax) == 142 ==> rne_shift(f32_sig(ax), 13) == 2048;
        //@ assert overflow: rne_f16_mag(ax) == 0x7C00;
        return (uint16_t)(sign + 0x7C00u);
    }
    if (ax >= 0x38800000u) { /* fp16 normal range: rebias 127 -> 15, round 13 bits away */
        /* k * 2^23 + S rounded at bit 13 is k * 2^10 plus S rounded: k * 2^10 is even, so the
         * tie rule sees the same parity. */
        //@ assert 113 <= f32_exp(ax) <= 142 && (f32_exp(ax) == 142 ==> f32_sig(ax) < 0xFFF000);
        //@ assert ax - 112 * 8388608 == (f32_exp(ax) - 113) * 1024 * 8192 + f32_sig(ax);
        /*@ assert (ax - 112 * 8388608) / 8192 == (f32_exp(ax) - 113) * 1024 + f32_sig(ax) / 8192
                   && (ax - 112 * 8388608) % 8192 == f32_sig(ax) % 8192; */
        /*@ assert rne_shift(ax - 112 * 8388608, 13) ==
                   (f32_exp(ax) - 113) * 1024 + rne_shift(f32_sig(ax), 13); */
        /*@ assert rne_shift(f32_sig(ax), 13) <= 2048 &&
                   (f32_exp(ax) == 142 ==> rne_shift(f32_sig(ax), 13) <= 2047); */
        //@ assert normal: rne_f16_mag(ax) == rne_shift(ax - 112 * 8388608, 13);
        return (uint16_t)(sign + qmar__round_shift(ax - 112u * 8388608u, 13));
    }
    if (ax < 0x33000000u) { /* <= 2^-25 (a tie at 2^-25 goes to even, i.e. 0) */
        //@ assert tiny: f32_exp(ax) <= 101 && rne_f16_mag(ax) == 0;
        return (uint16_t)sign;
    }
    /* subnormal result: value = m * 2^(e-150), in units of 2^-24 that is m / 2^(126 - e) */
    uint32_t e = ax / 8388608u, m = ax % 8388608u + 8388608u;
    //@ assert e == f32_exp(ax) && m == f32_sig(ax) && 102 <= e <= 112;
    /* m < 2^24 and 2^(126 - e) >= 2^14: at most 1023 quanta before rounding, 1024 after. */
    //@ assert 16384 <= pow2(126 - e) <= 16777216;
    //@ assert m < 1024 * pow2(126 - e);
    //@ assert m / pow2(126 - e) <= 1023;
    //@ assert rne_shift(m, 126 - e) <= 1024;
    //@ assert subnormal: rne_f16_mag(ax) == rne_shift(m, 126 - e);
    return (uint16_t)(sign + qmar__round_shift(m, (int)(126u - e)));
}

/* rne_bf16 of the fp32 with bits x: same exponent range, so subnormals just lose low bits. */
/*@ assigns \nothing;
    ensures f32_is_nan(x) ==> bf16_is_nan(\result);
    ensures !f32_is_nan(x) ==> \result == f32_sign(x) * 32768 + rne_bf16_mag(f32_mag(x));
*/
static inline uint16_t qmar__f32_bits_to_bf16(uint32_t x)
{
    uint32_t top = x / 65536u;
    if (x % 0x80000000u > 0x7F800000u) /* NaN: quiet (bit 6 set, the rest kept) */
        return (uint16_t)(top % 128u >= 64u ? top : top + 64u);
    return (uint16_t)((x + 0x7FFFu + top % 2u) / 65536u); /* ties: + 0x8000 only when odd */
}

/* sat8(rint(v)) of the fp32 with bits x: half to even, NaN -> 0, clamp to [-128, 127]. */
/*@ assigns \nothing;
    ensures \result == sat8_rint(x);
*/
static inline int8_t qmar__rint_sat8_bits(uint32_t x)
{
    uint32_t ax = x % 0x80000000u;
    if (ax > 0x7F800000u) /* NaN */
        return 0;
    int negative = x >= 0x80000000u;
    //@ assert ax == f32_mag(x) && negative == f32_sign(x);
    if (ax >= 0x43000000u) { /* |v| >= 128, inf included */
        //@ assert f32_exp(ax) >= 134 && rint_mag(ax) == 128;
        return negative ? -128 : 127;
    }
    if (ax < 0x3F000000u) { /* |v| < 0.5 */
        //@ assert f32_exp(ax) <= 125 && rint_mag(ax) == 0;
        return 0;
    }
    /* |v| = m * 2^(e-150) with 126 <= e <= 133: the nearest integer is m rounded 150 - e bits */
    uint32_t e = ax / 8388608u, m = ax % 8388608u + 8388608u;
    //@ assert e == f32_exp(ax) && m == f32_sig(ax) && 126 <= e <= 133;
    /* m < 2^24 and 2^(150 - e) >= 2^17: at most 127 units before rounding, 128 after. */
    //@ assert 131072 <= pow2(150 - e) <= 16777216;
    //@ assert m < 128 * pow2(150 - e);
    //@ assert m / pow2(150 - e) <= 127;
    //@ assert rne_shift(m, 150 - e) <= 128 && rint_mag(ax) == rne_shift(m, 150 - e);
    int32_t u = (int32_t)qmar__round_shift(m, (int)(150u - e)); /* 0 .. 128 */
    if (negative)
        return (int8_t)-u;
    return (int8_t)(u > 127 ? 127 : u);
}

/* ---- Float wrappers (trusted: the memcpy between a float and its bits, proofs/README.md) ------ */

/*@ assigns \nothing; */
static inline float qmar__bf16_to_f32(uint16_t h)
{
    return qmar__f32_from_bits(qmar__bf16_bits_to_f32(h));
}

/*@ assigns \nothing; */
static inline float qmar__f16_to_f32(uint16_t h)
{
    return qmar__f32_from_bits(qmar__f16_bits_to_f32(h));
}

/*@ assigns \nothing; */
static inline uint16_t qmar__f32_to_f16(float f)
{
    return qmar__f32_bits_to_f16(qmar__f32_bits(f));
}

/*@ assigns \nothing; */
static inline uint16_t qmar__f32_to_bf16(float f)
{
    return qmar__f32_bits_to_bf16(qmar__f32_bits(f));
}

/* rint (half to even) of an fp32 v with |v| < 2^30, without the FPU's rounding mode (the offset
 * code of TransQuantParamV2, which clamps to [-256, 255] first). Tested, not proven. */
static inline int32_t qmar__rint_small(float v)
{
    int32_t t = (int32_t)v;    /* truncation toward zero */
    float frac = v - (float)t; /* exact: t and v share v's binade or t is smaller */
    if (frac > 0.5f || (frac == 0.5f && (t & 1)))
        t++;
    else if (frac < -0.5f || (frac == -0.5f && (t & 1)))
        t--;
    return t;
}

/*@ assigns \nothing; */
static inline int8_t qmar__rint_sat8(float v)
{
    return qmar__rint_sat8_bits(qmar__f32_bits(v));
}

/* Value of a Y-typed element (QMAR_FLOAT16 or QMAR_BF16) widened exactly to fp32. */
/*@ assigns \nothing; */
static inline float qmar__y_to_f32(uint16_t h, int32_t y)
{
    return y == 27 /* QMAR_BF16 */ ? qmar__bf16_to_f32(h) : qmar__f16_to_f32(h);
}

/*@ assigns \nothing; */
static inline uint16_t qmar__f32_to_y(float f, int32_t y)
{
    return y == 27 /* QMAR_BF16 */ ? qmar__f32_to_bf16(f) : qmar__f32_to_f16(f);
}
#endif
