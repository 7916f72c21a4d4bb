/* Internal: the rounding steps of numerics.md on real IEEE hardware arithmetic.
 * fp32 arithmetic is done by the CPU (SSE, round-to-nearest-even, no FTZ/DAZ, no contraction);
 * narrowing to fp16/bf16 and rounding to integers are done on bits, so no instruction that
 * flushes denormals or depends on the rounding mode is involved (numerics.md §9). */
#ifndef QMAR_SRC_FP_H
#define QMAR_SRC_FP_H
#include <stdint.h>
#include <string.h>

static inline uint32_t qmar__f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float qmar__f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float qmar__bf16_to_f32(uint16_t h)
{
    return qmar__f32_from_bits((uint32_t)h << 16);
}

static inline float qmar__f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    if (exp == 0x1F) /* inf or NaN: payload kept */
        return qmar__f32_from_bits(sign | 0x7F800000u | (man << 13));
    if (exp != 0) /* normal: rebias 15 -> 127 */
        return qmar__f32_from_bits(sign | ((exp + 112u) << 23) | (man << 13));
    /* zero or denormal: man * 2^-24 is exact in fp32 */
    float v = (float)man * qmar__f32_from_bits(0x33800000u); /* 2^-24 */
    return sign ? -v : v;
}

/* Round-half-to-even of the low `shift` bits away from q (1 <= shift <= 31). */
static inline uint32_t qmar__round_shift(uint32_t v, int shift)
{
    uint32_t q = v >> shift, rem = v & ((1u << shift) - 1u), half = 1u << (shift - 1);
    return q + (rem > half || (rem == half && (q & 1u)));
}

/* rne_fp16 of an fp32 value: gradual underflow, overflow to inf, NaN stays NaN (quiet). */
static inline uint16_t qmar__f32_to_f16(float f)
{
    uint32_t x = qmar__f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u)
        return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x3FFu));
    if (ax >= 0x477FF000u) /* >= 65520: rounds past 65504 */
        return (uint16_t)(sign | 0x7C00u);
    if (ax >= 0x38800000u) /* fp16 normal range: rebias 127 -> 15, round 13 bits away */
        return (uint16_t)(sign | qmar__round_shift(ax - (112u << 23), 13));
    if (ax < 0x33000000u) /* <= 2^-25 (a tie at 2^-25 goes to even, i.e. 0) */
        return sign;
    /* denormal result: value = m * 2^(e-150), in units of 2^-24 that is m >> (126 - e) */
    uint32_t e = ax >> 23, m = (ax & 0x7FFFFFu) | 0x800000u;
    return (uint16_t)(sign | qmar__round_shift(m, (int)(126u - e)));
}

/* rne_bf16 of an fp32 value: same exponent range, so denormals just lose low bits. */
static inline uint16_t qmar__f32_to_bf16(float f)
{
    uint32_t x = qmar__f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

/* rint (half to even) of an fp32 v with |v| < 2^30, without the FPU's rounding mode. */
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

/* sat8(rint(v)) for any fp32 v: half to even, NaN -> 0, clamp to [-128, 127]. */
static inline int8_t qmar__rint_sat8(float v)
{
    if (v != v)
        return 0;
    if (v >= 127.0f)
        return 127;
    if (v <= -128.0f)
        return -128;
    return (int8_t)qmar__rint_small(v); /* within [-128, 127] once |v| < 127.5 is rounded */
}

/* Value of a Y-typed element (QMAR_FLOAT16 or QMAR_BF16) widened exactly to fp32. */
static inline float qmar__y_to_f32(uint16_t h, int32_t y)
{
    return y == 27 /* QMAR_BF16 */ ? qmar__bf16_to_f32(h) : qmar__f16_to_f32(h);
}

static inline uint16_t qmar__f32_to_y(float f, int32_t y)
{
    return y == 27 /* QMAR_BF16 */ ? qmar__f32_to_bf16(f) : qmar__f32_to_f16(f);
}
#endif
