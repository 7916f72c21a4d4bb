/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the integer-exact reference model (spec/model/, spec/numerics.md §8).
 *
 * Part 1 asserts fixed bit patterns derived by hand; each derivation is in the comment next to the
 * check. Notation in comments: fp32 bits are 8 hex digits, fp16/bf16 bits 4; "ulp" is the unit in
 * the last place of the destination at that magnitude; "tie" means the exact value lies exactly
 * half-way, so the neighbour with an even last fraction bit wins.
 * Part 2 compares the soft-float primitives with the host's real IEEE arithmetic on a few hundred
 * thousand random and boundary operands. This FILE may use floating point (only spec/model/ must
 * not); it needs -ffp-contract=off (set project-wide) and a host that is not in FTZ/DAZ mode, which
 * it checks before trusting the host. */
#include <float.h>
#include <math.h> /* INFINITY and NAN only: no libm function is called */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "model.h"
#include "softfp.h"

#if FLT_EVAL_METHOD != 0
#error "the property tests need float/double to evaluate in their own precision"
#endif

/* ---- helpers --------------------------------------------------------------------------------- */

static int eq_hex(uint64_t got, uint64_t want)
{
    if (got != want)
        fprintf(stderr, "  got 0x%llx, want 0x%llx\n", (unsigned long long)got,
                (unsigned long long)want);
    return got == want;
}
#define CHECK_HEX(got, want) CHECK(eq_hex((uint64_t)(got), (uint64_t)(want)))

static int nan32(uint32_t b) { return (b & 0x7F800000u) == 0x7F800000u && (b & 0x7FFFFFu) != 0; }
static int nan16(uint16_t b) { return (b & 0x7C00u) == 0x7C00u && (b & 0x3FFu) != 0; }
static int nanbf(uint16_t b) { return (b & 0x7F80u) == 0x7F80u && (b & 0x7Fu) != 0; }

static msf_num d32(uint32_t b) { return msf_decode(MSF_FP32, b); }
static msf_num d16(uint16_t b) { return msf_decode(MSF_FP16, b); }
static uint32_t mul32(uint32_t a, uint32_t b) { return msf_round(MSF_FP32, msf_mul(d32(a), d32(b))); }
static uint32_t add32(uint32_t a, uint32_t b) { return msf_round(MSF_FP32, msf_add(d32(a), d32(b))); }
static uint32_t div32(uint32_t a, uint32_t b) { return msf_round(MSF_FP32, msf_div(d32(a), d32(b))); }
static uint16_t to16(uint32_t a) { return (uint16_t)msf_round(MSF_FP16, d32(a)); }
static uint16_t tobf(uint32_t a) { return (uint16_t)msf_round(MSF_BF16, d32(a)); }
static uint32_t i2f(int64_t v) { return msf_round(MSF_FP32, msf_from_int(v)); }
static uint16_t div16(uint16_t a, uint16_t b)
{
    return (uint16_t)msf_round(MSF_FP16, msf_div(d16(a), d16(b)));
}

/* ================================================================================================
 * Part 1: hand-computed bit patterns
 * ============================================================================================== */

static void test_fp32_ties(void)
{
    /* 3F800001 = 1+2^-23; times 1.5 = 1.5 + 1.5*2^-23: 1.5 ulps above 1.5 (ulp 2^-23 in [1,2)),
     * a tie between 3FC00001 (odd) and 3FC00002 (even) -> 3FC00002. */
    CHECK_HEX(mul32(0x3F800001, 0x3FC00000), 0x3FC00002);
    /* 1+3*2^-23 times 1.5 = 1.5 + 4.5 ulps: tie between +4 (even) and +5 -> 3FC00004. */
    CHECK_HEX(mul32(0x3F800003, 0x3FC00000), 0x3FC00004);
    /* 2^24 + 1: ulp is 2 in [2^24, 2^25); tie between 2^24 (4B800000, even) and 2^24+2 (odd). */
    CHECK_HEX(add32(0x4B800000, 0x3F800000), 0x4B800000);
    /* 2^24 + 3 = (2^24+2) + 1: tie between 4B800001 (odd) and 4B800002 (even). */
    CHECK_HEX(add32(0x4B800001, 0x3F800000), 0x4B800002);
    /* 1 - 2^-25: below 1 the ulp is 2^-24, so it is a tie between 1-2^-24 (3F7FFFFF, odd) and 1. */
    CHECK_HEX(add32(0x3F800000, 0xB3000000), 0x3F800000);
    /* 1/3 = 0.0101..b: fraction 0x2AAAAA, next bits 1010.. above half -> 3EAAAAAB. */
    CHECK_HEX(div32(0x3F800000, 0x40400000), 0x3EAAAAAB);
    /* 2/3 similarly rounds up: 3F2AAAAB. -1/3 is the negation: BEAAAAAB. */
    CHECK_HEX(div32(0x40000000, 0x40400000), 0x3F2AAAAB);
    CHECK_HEX(div32(0xBF800000, 0x40400000), 0xBEAAAAAB);
    /* int64 -> fp32: 16777217 = 2^24+1 is the same tie as above. */
    CHECK_HEX(i2f(16777217), 0x4B800000);
    CHECK_HEX(i2f(16777219), 0x4B800002);
    CHECK_HEX(i2f(-16777217), 0xCB800000);
    /* INT64_MIN = -2^63 exactly: exponent 63+127 = 190 = 0xBE -> DF000000. */
    CHECK_HEX(i2f(INT64_MIN), 0xDF000000);
    /* INT64_MAX = 2^63-1 rounds up to 2^63: 5F000000. */
    CHECK_HEX(i2f(INT64_MAX), 0x5F000000);
}

static void test_fp16_bf16_ties(void)
{
    /* fp32 3F801000 = 1+2^-11: fp16 ulp in [1,2) is 2^-10, a tie between 3C00 (even) and 3C01. */
    CHECK_HEX(to16(0x3F801000), 0x3C00);
    /* 3F803000 = 1+3*2^-11 = 1 + 1.5 ulps: tie between 3C01 and 3C02 (even). */
    CHECK_HEX(to16(0x3F803000), 0x3C02);
    /* 3F801001: a hair above the tie -> up. */
    CHECK_HEX(to16(0x3F801001), 0x3C01);
    /* Negative ties mirror: BF803000 -> BC02. */
    CHECK_HEX(to16(0xBF803000), 0xBC02);
    /* bf16 keeps the top 16 bits: 3F808000 is a tie between 3F80 (even) and 3F81. */
    CHECK_HEX(tobf(0x3F808000), 0x3F80);
    CHECK_HEX(tobf(0x3F818000), 0x3F82); /* tie between 3F81 and 3F82 (even) */
    CHECK_HEX(tobf(0x3F808001), 0x3F81); /* just above the tie */
    CHECK_HEX(tobf(0x3F807FFF), 0x3F80); /* just below */
}

static void test_denormals(void)
{
    /* fp16 subnormals are multiples of 2^-24. fp32 33800000 = 2^-24 -> 0001. */
    CHECK_HEX(to16(0x33800000), 0x0001);
    /* 33000000 = 2^-25 = half of 2^-24: tie between 0 (even) and 0001 -> +0. */
    CHECK_HEX(to16(0x33000000), 0x0000);
    CHECK_HEX(to16(0xB3000000), 0x8000); /* the negative tie keeps its sign: -0 */
    /* 33C00000 = 1.5*2^-24: tie between 0001 and 0002 (even). */
    CHECK_HEX(to16(0x33C00000), 0x0002);
    /* 33400000 = 0.75*2^-24 -> nearest is 0001 (no flush to zero). */
    CHECK_HEX(to16(0x33400000), 0x0001);
    /* 33000100 = 2^-25*(1+2^-15): above the tie -> 0001. */
    CHECK_HEX(to16(0x33000100), 0x0001);
    /* 387FE000 = 2^-14 - 2^-25 = 1023.5 * 2^-24: tie between 03FF (odd) and 0400 (even, the
     * smallest normal): rounding carries out of the subnormals. */
    CHECK_HEX(to16(0x387FE000), 0x0400);
    /* bf16 subnormals are multiples of 2^-133. fp32 00010000 = 2^-133 -> 0001 exactly;
     * 00008000 = 2^-134 is a tie -> 0000; 00018000 = 1.5*2^-133 is a tie -> 0002. */
    CHECK_HEX(tobf(0x00010000), 0x0001);
    CHECK_HEX(tobf(0x00008000), 0x0000);
    CHECK_HEX(tobf(0x00018000), 0x0002);
    /* fp32 subnormals are multiples of 2^-149. 1A000000 = 2^-75: 2^-75*2^-75 = 2^-150 is half of
     * 2^-149 -> tie -> +0. 1A000001 = 2^-75(1+2^-23): above the tie -> 00000001. */
    CHECK_HEX(mul32(0x1A000000, 0x1A000000), 0x00000000);
    CHECK_HEX(mul32(0x1A000001, 0x1A000000), 0x00000001);
    /* 1A400000 = 1.5*2^-75, 1A800000 = 2^-74: product 1.5*2^-149 -> tie -> 00000002. */
    CHECK_HEX(mul32(0x1A400000, 0x1A800000), 0x00000002);
    /* Subnormal inputs are used as they are (no DAZ): 2^-149 * 2^23 = 2^-126 = 00800000;
     * 3*2^-149 * 0.5 = 1.5*2^-149 -> tie -> 00000002; 2^-149 + 2^-149 = 00000002. */
    CHECK_HEX(mul32(0x00000001, 0x4B000000), 0x00800000);
    CHECK_HEX(mul32(0x00000003, 0x3F000000), 0x00000002);
    CHECK_HEX(add32(0x00000001, 0x00000001), 0x00000002);
    /* Smallest normal minus smallest subnormal: 007FFFFF, exact. */
    CHECK_HEX(add32(0x00800000, 0x80000001), 0x007FFFFF);
    /* 2^-149 / 2 = 2^-150: tie -> +0; 3*2^-149 / 2 -> tie between 1 and 2 -> 00000002. */
    CHECK_HEX(div32(0x00000001, 0x40000000), 0x00000000);
    CHECK_HEX(div32(0x00000003, 0x40000000), 0x00000002);
    /* fp16 subnormal arithmetic: 0001/0002 ... 2^-24 / 2 = 2^-25 tie -> 0000; 0003 / 2 -> 0002. */
    CHECK_HEX(div16(0x0001, 0x4000), 0x0000);
    CHECK_HEX(div16(0x0003, 0x4000), 0x0002);
}

static void test_overflow(void)
{
    /* 7F7FFFFF (fp32 max) * 2 -> +inf; 2^64 * 2^64 = 2^128 -> inf; the sign follows the operands. */
    CHECK_HEX(mul32(0x7F7FFFFF, 0x40000000), 0x7F800000);
    CHECK_HEX(mul32(0x5F800000, 0x5F800000), 0x7F800000);
    CHECK_HEX(mul32(0xDF800000, 0x5F800000), 0xFF800000);
    /* max + max = 2*max > max + half ulp -> inf. */
    CHECK_HEX(add32(0x7F7FFFFF, 0x7F7FFFFF), 0x7F800000);
    /* fp16: 477FF000 = 65520 = 65504 + half ulp (ulp 32): a tie between 7BFF (odd) and 2^16
     * (even, which does not exist) -> 7C00. 477FEFFF is just below -> 7BFF. */
    CHECK_HEX(to16(0x477FF000), 0x7C00);
    CHECK_HEX(to16(0x477FEFFF), 0x7BFF);
    CHECK_HEX(to16(0xC77FF000), 0xFC00);
    /* bf16: 7F7F8000 is the tie above bf16 max 7F7F -> 7F80; 7F7F7FFF -> 7F7F. */
    CHECK_HEX(tobf(0x7F7F8000), 0x7F80);
    CHECK_HEX(tobf(0x7F7F7FFF), 0x7F7F);
    /* fp16 division overflow: 65504 / 2^-14 -> inf. */
    CHECK_HEX(div16(0x7BFF, 0x0400), 0x7C00);
}

static void test_special_values(void)
{
    const uint32_t inf = 0x7F800000, ninf = 0xFF800000, nan = 0x7FC00000;
    CHECK(nan32(mul32(0x00000000, inf))); /* 0 * inf is invalid */
    CHECK(nan32(mul32(inf, 0x80000000)));
    CHECK_HEX(mul32(inf, 0xC0000000), ninf);        /* inf * -2 = -inf */
    CHECK_HEX(mul32(0x00000000, 0xC0000000), 0x80000000); /* 0 * -2 = -0 */
    CHECK(nan32(mul32(nan, 0x00000000)));
    CHECK(nan32(add32(inf, ninf))); /* inf - inf is invalid */
    CHECK_HEX(add32(inf, inf), inf);
    CHECK_HEX(add32(ninf, 0x7F7FFFFF), ninf);
    CHECK(nan32(div32(inf, inf)));
    CHECK(nan32(div32(0x00000000, 0x80000000))); /* 0 / -0 */
    CHECK_HEX(div32(0x3F800000, 0x80000000), ninf); /* 1 / -0 = -inf */
    CHECK_HEX(div32(0xBF800000, 0x80000000), inf);  /* -1 / -0 = +inf */
    CHECK_HEX(div32(0x3F800000, inf), 0x00000000);  /* 1 / inf = +0 */
    CHECK_HEX(div32(0xBF800000, inf), 0x80000000);  /* -1 / inf = -0 */
    CHECK_HEX(div32(inf, 0x80000000), ninf);        /* inf / -0 = -inf */
    CHECK(nan32(div32(0x7F800001, 0x3F800000)));    /* a signalling NaN stays NaN */
    /* NaN survives narrowing (it must not become inf when its payload is shifted out). */
    CHECK(nan16(to16(0x7F800001)));
    CHECK(nanbf(tobf(0x7F800001)));
    CHECK_HEX(to16(0xFF800000), 0xFC00);
}

static void test_negative_zero(void)
{
    CHECK_HEX(add32(0x80000000, 0x80000000), 0x80000000); /* -0 + -0 = -0 */
    CHECK_HEX(add32(0x80000000, 0x00000000), 0x00000000); /* -0 + +0 = +0 */
    CHECK_HEX(add32(0x3F800000, 0xBF800000), 0x00000000); /* 1 + -1 = +0 */
    CHECK_HEX(add32(0x80000000, 0xBF800000), 0xBF800000); /* -0 + -1 = -1 */
    CHECK_HEX(to16(0x80000000), 0x8000);
    CHECK_HEX(tobf(0x80000000), 0x8000);
    /* §2c: a = 0 (00000000), scale -2 (C0000000): t = -0; "t + 0.0" makes it +0; pertoken -1
     * (BF800000): u = -1 * +0 = -0 -> fp16 8000. Without the +0 step u would be +0. */
    CHECK_HEX(model_dequant_pertoken(QMAR_FLOAT16, 0x00000000, 0xC0000000, 0xBF800000), 0x8000);
    /* pertoken +1: u = +0 (without the +0 step it would be -0). */
    CHECK_HEX(model_dequant_pertoken(QMAR_FLOAT16, 0x00000000, 0xC0000000, 0x3F800000), 0x0000);
    /* Same for BF16 with a bf16 scale -2 (C000). */
    CHECK_HEX(model_dequant_pertoken(QMAR_BF16, 0x00000000, 0xC000, 0xBF800000), 0x8000);
    CHECK_HEX(model_dequant_pertoken(QMAR_BF16, 0x00000000, 0xC000, 0x3F800000), 0x0000);
    /* §2a/§2b have no such step: 0 * -2 = -0 reaches the output. */
    CHECK_HEX(model_dequant_w64(0x00000000, model_tqp_word(0xC0000000, NULL)), 0x8000);
    CHECK_HEX(model_dequant_bf16(0x00000000, 0xC000), 0x8000);
}

static void test_integer_stage(void)
{
    /* §1 acc of a 2x3 by 3x2 product: row 1 of x1 = (3,-4,5), column 0 of x2 = (1,2,-3):
     * 3 - 8 - 15 = -20. */
    const int8_t x1[6] = {1, 2, 3, 3, -4, 5};
    const int8_t x2[6] = {1, 0, 2, 0, -3, 1};
    CHECK_EQ_I64(model_acc(x1, x2, 3, 2, 1, 0), -20);
    /* Extremes: -128 * -128 summed 65535 times = 1073725440 < 2^31. */
    static int8_t big1[65535], big2[65535];
    memset(big1, -128, sizeof big1);
    memset(big2, -128, sizeof big2);
    CHECK_EQ_I64(model_acc(big1, big2, 65535, 1, 0, 0), 1073725440);
    /* acc + bias near ±2^31 is exact in int64. 1 + INT32_MAX = 2^31 -> 4F000000 (int32 wrap would
     * give -2^31, CF000000). */
    CHECK_HEX(model_a(1, INT32_MAX), 0x4F000000);
    /* 1073725440 + 2147483647 = 3221209087 = 12582848*256 - 1; ulp in [2^31, 2^32) is 256, so it
     * rounds to 12582848*256: exponent 31 (9E), fraction (3221209088 - 2^31)/256 = 0x3FFFC0. */
    CHECK_HEX(model_a(1073725440, INT32_MAX), 0x4F3FFFC0);
    /* -1073725440 + INT32_MIN = -3221209088 exactly representable. */
    CHECK_HEX(model_a(-1073725440, INT32_MIN), 0xCF3FFFC0);
    /* 385 + INT32_MAX = 2^31 + 384 = 2^31 + 1.5 ulps: tie between fraction 1 and 2 -> 4F000002. */
    CHECK_HEX(model_a(385, INT32_MAX), 0x4F000002);
    /* 129 + INT32_MAX = 2^31 + 128: half an ulp -> tie -> 2^31 (4F000000). */
    CHECK_HEX(model_a(129, INT32_MAX), 0x4F000000);
    /* 384 + INT32_MAX = 2^31 + 383: 127 above 2^31+256, below the tie -> 4F000001. */
    CHECK_HEX(model_a(384, INT32_MAX), 0x4F000001);
    /* 2^24 + 1 with a zero bias: the fp32 tie again. */
    CHECK_HEX(model_a(16777217, 0), 0x4B800000);
    CHECK_HEX(model_a(0, 0), 0x00000000); /* +0, never -0 */
}

static void test_dequant(void)
{
    /* §2a with words from §6. a = 20 (41A00000) times S = 0.5 -> 10 -> fp16 4900. */
    CHECK_HEX(model_dequant_w64(0x41A00000, model_tqp_word(0x3F000000, NULL)), 0x4900);
    /* Decoding keeps only bits 13..31 of the word: FFFFFFFF3F801FFF decodes as S = 1.0. */
    CHECK_HEX(model_dequant_w64(0x41A00000, 0xFFFFFFFF3F801FFFull), 0x4D00); /* 20 = 4D00 */
    /* The double rounding is real. a = 1508415 (49B821F8), S = 2^-10(1+2^-10) (3A802000):
     * a*S = 1546125375/2^20 = 1474.5 + 63/2^20. fp32 (ulp 2^-13 = 128/2^20 in [1024,2048)) rounds
     * it to 1474.5, a tie for fp16 (ulp 1) -> 1474 = 65C2. One rounding would give 1475 (65C3). */
    CHECK_HEX(model_a(0, 1508415), 0x49B821F8);
    CHECK_HEX(model_dequant_w64(0x49B821F8, 0x3A802000), 0x65C2);
    /* A NaN scale: NaN; an inf scale: inf; inf * 0 = NaN. */
    CHECK(nan16(model_dequant_w64(0x41A00000, 0x7FC00000)));
    CHECK_HEX(model_dequant_w64(0x41A00000, 0x7F800000), 0x7C00);
    CHECK(nan16(model_dequant_w64(0x00000000, 0x7F800000)));
    /* The mask applies to NaNs too: 7F801FFF has its payload only in bits 0..12, so S is +inf. */
    CHECK_HEX(model_dequant_w64(0x41A00000, 0x7F801FFF), 0x7C00);
    /* Large products overflow fp16 (not fp32): 2^31 * 1 -> 7C00. */
    CHECK_HEX(model_dequant_w64(0x4F000000, 0x3F800000), 0x7C00);
    /* An fp16 subnormal result: 64 * 2^-30 = 2^-24 -> 0001. */
    CHECK_HEX(model_dequant_w64(0x42800000, 0x30800000), 0x0001);

    /* §2b. a = 20, scale bf16 0.25 (3E80) -> 5 = 40A0. */
    CHECK_HEX(model_dequant_bf16(0x41A00000, 0x3E80), 0x40A0);
    /* Double rounding: a = 3161985 (4A40FE04), scale 129/128 (3F81): exact product
     * 3186688 + 1/128. fp32 ulp is 0.25 in [2^21, 2^22), so fp32 gives 3186688 = 2^21 + 66.5*2^14,
     * a bf16 tie (ulp 2^14) -> fraction 66 (even) = 4A42. One rounding would give 4A43. */
    CHECK_HEX(model_a(0, 3161985), 0x4A40FE04);
    CHECK_HEX(model_dequant_bf16(0x4A40FE04, 0x3F81), 0x4A42);
    /* Subnormal bf16 scale 0001 = 2^-133 times 2 = 2^-132 = bf16 0002 (kept, not flushed). */
    CHECK_HEX(model_dequant_bf16(0x40000000, 0x0001), 0x0002);
    CHECK(nanbf(model_dequant_bf16(0x00000000, 0x7F80)));

    /* §2c, FP16. a = 3 (40400000), scale 1/3 (3EAAAAAB): 3*0xAAAAAB*2^-25 = 1 + 2^-25 -> fp32
     * 1.0; pertoken 0.5 -> 0.5 = 3800. */
    CHECK_HEX(model_dequant_pertoken(QMAR_FLOAT16, 0x40400000, 0x3EAAAAAB, 0x3F000000), 0x3800);
    /* §2c, BF16: a = 7 (40E00000), scale 1.0 (3F80), pertoken 1/3 (3EAAAAAB): 7*0xAAAAAB*2^-25 =
     * 78293677*2^-25 -> 24 bits: 78293677/8 = 9786709.625 -> 9786710*2^-22 = 40155556; bf16:
     * low half 5556 < 8000 -> 4015. */
    CHECK_HEX(model_dequant_pertoken(QMAR_BF16, 0x40E00000, 0x3F80, 0x3EAAAAAB), 0x4015);
    /* A subnormal pertoken is used as is: 2^32 * 2^-149 = 2^-117, a normal bf16: exponent 10
     * -> 0500. DAZ would give 0. */
    CHECK_HEX(model_dequant_pertoken(QMAR_BF16, 0x4F800000, 0x3F80, 0x00000001), 0x0500);
    /* fp16 subnormal output through pertoken: 1 * 1 * 2^-24 (33800000) -> 0001. */
    CHECK_HEX(model_dequant_pertoken(QMAR_FLOAT16, 0x3F800000, 0x3F800000, 0x33800000), 0x0001);
    /* inf pertoken times +0 (made +0 from -0 by the rule) is NaN. */
    CHECK(nan16(model_dequant_pertoken(QMAR_FLOAT16, 0x00000000, 0xC0000000, 0x7F800000)));
}

static void test_x3_add(void)
{
    /* FP16: 1 + 2^-11 (1000): tie -> 3C00; 1 + 3*2^-11 (1600 = 1.5*2^-10): tie -> 3C02. */
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x3C00, 0x1000), 0x3C00);
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x3C00, 0x1600), 0x3C02);
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x3C00, 0xBC00), 0x0000); /* x + -x = +0 */
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x8000, 0x8000), 0x8000); /* -0 + -0 = -0 */
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x0001, 0x0001), 0x0002); /* subnormals add exactly */
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x7BFF, 0x7BFF), 0x7C00); /* overflow */
    CHECK(nan16(model_add_x3(QMAR_FLOAT16, 0x7C00, 0xFC00)));
    /* FP16 with operands 2^40 apart: 2^15 + 2^-24 -> 2^15 (7800). */
    CHECK_HEX(model_add_x3(QMAR_FLOAT16, 0x7800, 0x0001), 0x7800);
    /* BF16: 1 + 2^-8 (3B80): tie -> 3F80; 1 + 3*2^-8 (3C40): tie -> 3F82. */
    CHECK_HEX(model_add_x3(QMAR_BF16, 0x3F80, 0x3B80), 0x3F80);
    CHECK_HEX(model_add_x3(QMAR_BF16, 0x3F80, 0x3C40), 0x3F82);
    CHECK_HEX(model_add_x3(QMAR_BF16, 0x0001, 0x0001), 0x0002); /* bf16 subnormals */
    CHECK_HEX(model_add_x3(QMAR_BF16, 0x8000, 0x8000), 0x8000);
    CHECK_HEX(model_add_x3(QMAR_BF16, 0x7F7F, 0x7F7F), 0x7F80);
}

static void test_all_reduce(void)
{
    /* R = 1: e passes through untouched, even a NaN payload. */
    const uint16_t one_nan[1] = {0x7C01};
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, one_nan, 1), 0x7C01);
    /* R = 2, BF16: 1 + 2^-8 is exact in fp32; bf16 tie -> 3F80. */
    const uint16_t r2[2] = {0x3F80, 0x3B80};
    CHECK_HEX(model_all_reduce(QMAR_BF16, r2, 2), 0x3F80);
    /* R = 4, BF16, rank order matters: 2^24 (4B80) + 1 = tie -> 2^24; + 1 -> 2^24 again;
     * - 2^24 -> +0. */
    const uint16_t big_first[4] = {0x4B80, 0x3F80, 0x3F80, 0xCB80};
    CHECK_HEX(model_all_reduce(QMAR_BF16, big_first, 4), 0x0000);
    /* The same values in another rank order: 1 + 1 = 2; + 2^24 exact (2^24+2); - 2^24 -> 2. */
    const uint16_t small_first[4] = {0x3F80, 0x3F80, 0x4B80, 0xCB80};
    CHECK_HEX(model_all_reduce(QMAR_BF16, small_first, 4), 0x4000);
    /* R = 4, FP16: 2048 (6800) + 2^-13 (0800): fp32 ulp at 2048 is 2^-12 -> tie -> 2048, twice;
     * - 2048 -> +0. */
    const uint16_t h_big_first[4] = {0x6800, 0x0800, 0x0800, 0xE800};
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, h_big_first, 4), 0x0000);
    /* 2^-13 + 2^-13 = 2^-12; + 2048 exact; - 2048 = 2^-12 = 0C00. */
    const uint16_t h_small_first[4] = {0x0800, 0x0800, 0x6800, 0xE800};
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, h_small_first, 4), 0x0C00);
    /* R = 2, FP16: the fp32 sum 65504 + 65504 = 131008 fits fp32; only the final rounding
     * overflows. And 65504 + 65504 - 65504 with R = 3 stays finite in fp32: 65504 = 7BFF. */
    const uint16_t h_max[3] = {0x7BFF, 0x7BFF, 0xFBFF};
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, h_max, 2), 0x7C00);
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, h_max, 3), 0x7BFF);
    /* BF16 max + max overflows fp32 itself: inf stays inf after - max. */
    const uint16_t b_max[3] = {0x7F7F, 0x7F7F, 0xFF7F};
    CHECK_HEX(model_all_reduce(QMAR_BF16, b_max, 3), 0x7F80);
    /* Zeros: -0 + -0 = -0, -0 + +0 = +0; inf + -inf = NaN. */
    const uint16_t nz2[2] = {0x8000, 0x8000}, mz2[2] = {0x8000, 0x0000}, inf2[2] = {0x7C00, 0xFC00};
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, nz2, 2), 0x8000);
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, mz2, 2), 0x0000);
    CHECK(nan16(model_all_reduce(QMAR_FLOAT16, inf2, 2)));
    /* R = 8: eight times 2^-24 (0001) = 2^-21 = 0008. */
    const uint16_t tiny8[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_HEX(model_all_reduce(QMAR_FLOAT16, tiny8, 8), 0x0008);
}

static void test_comm_quant(void)
{
    /* §5.1 BF16, the spec's example: 16384 (4680) / 163 (4323) = 100.515...; fp32 42C907DA; fp16
     * ulp in [64,128) is 2^-4, 100.515/0.0625 = 1608.2 -> 1608 -> 100.5 (5648); rint half-even
     * -> 100. Rounding the quotient straight to an integer would give 101. */
    CHECK_EQ_I64(model_comm_quant(QMAR_BF16, 0x4680, 0x4323), 100);
    /* FP16: 16384 (7400) / 163 (5918), one rounding to fp16 -> 100.5 -> 100. */
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x7400, 0x5918), 100);
    /* Ties of rint: 41 / 2 = 20.5 -> 20; 2.5 -> 2; 3.5 -> 4; -0.5 -> -0 -> 0; 126.5 -> 126. */
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x5120, 0x4000), 20);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x4100, 0x3C00), 2);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x4300, 0x3C00), 4);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0xB800, 0x3C00), 0);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x57E8, 0x3C00), 126);
    /* sat8: 127.5 (57F8) -> rint 128 -> 127; -128.5 (D804) -> -128 (even); -300 (DCB0) -> -128;
     * 65504 (7BFF) -> 127. */
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x57F8, 0x3C00), 127);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0xD804, 0x3C00), -128);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0xDCB0, 0x3C00), -128);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x7BFF, 0x3C00), 127);
    /* Division by zero: 1 / +0 = +inf -> 127; 1 / -0 = -inf -> -128; 0 / 0 = NaN -> 0. */
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x3C00, 0x0000), 127);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x3C00, 0x8000), -128);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x0000, 0x0000), 0);
    CHECK_EQ_I64(model_comm_quant(QMAR_BF16, 0xBF80, 0x0000), -128);
    /* NaN e -> 0; e / inf = 0; a quotient beyond fp16 range (BF16: 1e4 / 1e-4 style) -> inf -> 127:
     * bf16 4680 (16384) / 3880 (2^-14) = 2^28 -> fp16 inf -> 127. */
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x7E00, 0x3C00), 0);
    CHECK_EQ_I64(model_comm_quant(QMAR_FLOAT16, 0x3C00, 0x7C00), 0);
    CHECK_EQ_I64(model_comm_quant(QMAR_BF16, 0x4680, 0x3880), 127);
    /* sat8 directly: NaN (7E00, and signalling 7C01) -> 0, +inf 127, -inf -128, 200 (5A40) -> 127. */
    CHECK_EQ_I64(msf_sat8(MSF_FP16, 0x7E00), 0);
    CHECK_EQ_I64(msf_sat8(MSF_FP16, 0x7C01), 0);
    CHECK_EQ_I64(msf_sat8(MSF_FP16, 0x7C00), 127);
    CHECK_EQ_I64(msf_sat8(MSF_FP16, 0xFC00), -128);
    CHECK_EQ_I64(msf_sat8(MSF_FP16, 0x5A40), 127);
    CHECK_EQ_I64(msf_sat8(MSF_FP16, 0xD8F0), -128); /* -158 */
    /* rint keeps the sign of zero: rint(-0.5) = -0 (8000); rint(1.5) = 2 (4000). */
    CHECK_HEX(msf_rint(MSF_FP16, 0xB800), 0x8000);
    CHECK_HEX(msf_rint(MSF_FP16, 0x3E00), 0x4000);
}

static void test_comm_requant(void)
{
    /* §5.3 ratio = 413 (fp16 5E74) / 32 (5000) = 12.90625 = 414E8000 (exact). */
    CHECK_HEX(model_comm_ratio(QMAR_FLOAT16, 0x5E74, 0x5000), 0x414E8000);
    /* The spec's example: 5 * 12.90625 = 64.53125 (exact in fp32); fp16 ulp in [64,128) is 2^-4,
     * 64.53125 = 64.5 + 0.5 ulp -> tie between 64.5 (even fraction 8) and 64.5625 -> 64.5; rint
     * -> 64. Direct rounding would give 65. */
    CHECK_EQ_I64(model_comm_requant(5, 0x414E8000), 64);
    /* -1 * 12.90625 is exact in fp16 (ulp 2^-7): rint -> -13. */
    CHECK_EQ_I64(model_comm_requant(-1, 0x414E8000), -13);
    /* ties: 1 * 2.5 -> 2; 3 * 0.5 = 1.5 -> 2; saturation: 1024 * 1 -> 127, -1024 -> -128. */
    CHECK_EQ_I64(model_comm_requant(1, 0x40200000), 2);
    CHECK_EQ_I64(model_comm_requant(3, 0x3F000000), 2);
    CHECK_EQ_I64(model_comm_requant(1024, 0x3F800000), 127);
    CHECK_EQ_I64(model_comm_requant(-1024, 0x3F800000), -128);
    /* 0 * inf = NaN -> 0; 0 * -2 = -0 -> 0; a NaN ratio -> 0. */
    CHECK_EQ_I64(model_comm_requant(0, 0x7F800000), 0);
    CHECK_EQ_I64(model_comm_requant(0, 0xC0000000), 0);
    CHECK_EQ_I64(model_comm_requant(7, 0x7FC00000), 0);
    /* ratio: s1 / s2 with s2 = 0 -> inf; both 0 -> NaN. BF16 326 (43A3) / 163... 163/326 = 0.5. */
    CHECK_HEX(model_comm_ratio(QMAR_FLOAT16, 0x3C00, 0x0000), 0x7F800000);
    CHECK(nan32(model_comm_ratio(QMAR_FLOAT16, 0x0000, 0x0000)));
    CHECK_HEX(model_comm_ratio(QMAR_BF16, 0x4323, 0x43A3), 0x3F000000);
    /* fp32 division of widened fp16 values: 1 / 3 -> 3EAAAAAB. */
    CHECK_HEX(model_comm_ratio(QMAR_FLOAT16, 0x3C00, 0x4200), 0x3EAAAAAB);

    /* §5.4: 64 * 32 = 2048 (6800); 0 * -2 = -0 (8000); 0 * inf = NaN; 127 * 65504 -> inf. */
    CHECK_HEX(model_comm_dequant(QMAR_FLOAT16, 64, 0x5000), 0x6800);
    CHECK_HEX(model_comm_dequant(QMAR_FLOAT16, 0, 0xC000), 0x8000);
    CHECK(nan16(model_comm_dequant(QMAR_FLOAT16, 0, 0x7C00)));
    CHECK_HEX(model_comm_dequant(QMAR_FLOAT16, 127, 0x7BFF), 0x7C00);
    /* BF16: -3 * 1.5 (3FC0) = -4.5 (C090). 3 * (1+2^-7) (3F81) = 3 + 1.5*2^-6: bf16 ulp in [2,4)
     * is 2^-6 -> tie between fractions 65 and 66 (even) -> 3.03125 = 4042. */
    CHECK_HEX(model_comm_dequant(QMAR_BF16, -3, 0x3FC0), 0xC090);
    CHECK_HEX(model_comm_dequant(QMAR_BF16, 3, 0x3F81), 0x4042);
    /* fp16 subnormal s2: 3 * 2^-24 = 0003. */
    CHECK_HEX(model_comm_dequant(QMAR_FLOAT16, 3, 0x0001), 0x0003);

    /* §5 whole, BF16, R = 2: both ranks 16384 with s1 = 163 -> q1 = 100 each, S = 200; s2 = 326
     * -> ratio 0.5 -> 100; out = 100 * 326 = 32600; bf16 ulp 128 in [2^14, 2^15):
     * 32600/128 = 254.69 -> 255*128 = 32640 = 46FF. */
    const uint16_t e2[2] = {0x4680, 0x4680};
    CHECK_HEX(model_comm_all_reduce(QMAR_BF16, e2, 2, 0x4323, 0x43A3), 0x46FF);
    /* R = 1 still quantizes: 10.25 (4920) / 0.5 = 20.5 -> 20; ratio 1; out 20 * 0.5 = 10 (4900). */
    const uint16_t e1[1] = {0x4920};
    CHECK_HEX(model_comm_all_reduce(QMAR_FLOAT16, e1, 1, 0x3800, 0x3800), 0x4900);
    /* Saturation after the exact sum: 4 ranks of q1 = 127 -> S = 508, ratio 1 -> 127. */
    const uint16_t e4[4] = {0x57F0, 0x57F0, 0x57F0, 0x57F0}; /* 127 */
    CHECK_HEX(model_comm_all_reduce(QMAR_FLOAT16, e4, 4, 0x3C00, 0x3C00), 0x57F0);
}

static void test_trans_quant_param(void)
{
    const uint64_t base = 0x000040003F800000ull; /* scale 1.0 with bit 46 */
    uint32_t o;
    CHECK_HEX(model_tqp_word(0x3F800000, NULL), base);
    CHECK_HEX(model_tqp_word(0x3F801FFF, NULL), base);                 /* low 13 bits dropped */
    CHECK_HEX(model_tqp_word(0xBF800000, NULL), 0x00004000BF800000ull); /* sign kept */
    CHECK_HEX(model_tqp_word(0x7FC00001, NULL), 0x000040007FC00000ull); /* NaN scale: bits */
    CHECK_HEX(model_tqp_word(0x00001FFF, NULL), 0x0000400000000000ull); /* tiny subnormal -> 0 */
    /* offsets: o' & 0x1FF goes to bits 37..45. 1 -> 0x20_0000_0000. */
    o = 0x3F800000;
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000040203F800000ull);
    o = 0xBF800000; /* -1 -> 0x1FF */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x00007FE03F800000ull);
    o = 0x7FC00000; /* NaN counts as 0 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), base);
    o = 0x7F800000; /* +inf -> 255 = 0xFF */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x00005FE03F800000ull);
    o = 0xFF800000; /* -inf -> -256 = 0x100 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000060003F800000ull);
    o = 0x7F7FFFFF; /* +huge -> 255 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x00005FE03F800000ull);
    o = 0xFF7FFFFF; /* -huge -> -256 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000060003F800000ull);
    o = 0x40200000; /* 2.5 -> 2 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000040403F800000ull);
    o = 0x40600000; /* 3.5 -> 4 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000040803F800000ull);
    o = 0xC0200000; /* -2.5 -> -2 = 0x1FE */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x00007FC03F800000ull);
    o = 0x437F8000; /* 255.5 -> 256 -> clamp 255 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x00005FE03F800000ull);
    o = 0x437E8000; /* 254.5 -> 254 = 0xFE */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x00005FC03F800000ull);
    o = 0xC3804000; /* -256.5 -> -256 (even), no clamp needed */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000060003F800000ull);
    o = 0xC380C000; /* -257.5 -> -258 -> clamp -256 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), 0x000060003F800000ull);
    o = 0x3F000000; /* 0.5 -> 0 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), base);
    o = 0xBF000000; /* -0.5 -> -0 -> 0 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), base);
    o = 0x00000001; /* subnormal -> 0 */
    CHECK_HEX(model_tqp_word(0x3F800000, &o), base);

    /* Array form and its counting rules. */
    const uint32_t sc[3] = {0x3F800000, 0x40000000, 0x40400000};
    const uint32_t of[3] = {0x3F800000, 0xBF800000, 0x7FC00000};
    uint64_t w[3] = {0, 0, 0};
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 3, of, 1, w, 3), MODEL_OK); /* offset broadcast */
    CHECK_HEX(w[0], 0x000040203F800000ull);
    CHECK_HEX(w[1], 0x0000402040000000ull);
    CHECK_HEX(w[2], 0x0000402040400000ull);
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 1, of, 3, w, 3), MODEL_OK); /* scale broadcast */
    CHECK_HEX(w[0], 0x000040203F800000ull);
    CHECK_HEX(w[1], 0x00007FE03F800000ull);
    CHECK_HEX(w[2], 0x000040003F800000ull);
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 2, NULL, 0, w, 2), MODEL_OK);
    CHECK_HEX(w[1], 0x0000400040000000ull);
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 2, of, 3, w, 3), MODEL_EINVAL); /* 2 vs 3 */
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 3, NULL, 0, w, 2), MODEL_EINVAL); /* too few words */
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 3, NULL, 1, w, 3), MODEL_EINVAL);
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 3, of, 0, w, 3), MODEL_EINVAL);
    CHECK_EQ_I64(model_trans_quant_param_v2(sc, 0, NULL, 0, w, 3), MODEL_EINVAL);
    CHECK_EQ_I64(model_trans_quant_param_v2(NULL, 1, NULL, 0, w, 3), MODEL_EINVAL);
}

/* An NZ writer phrased differently from model_nz_index: walk the storage dims
 * (ceil(W/32), ceil(H/16), 16, 32) in order and pull the matching element, zero when padding. */
static void nz_by_blocks(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz)
{
    int64_t pos = 0;
    for (int64_t b = 0; b < (cols + 31) / 32; b++)
        for (int64_t hb = 0; hb < (rows + 15) / 16; hb++)
            for (int64_t hi = 0; hi < 16; hi++)
                for (int64_t wi = 0; wi < 32; wi++) {
                    int64_t h = hb * 16 + hi, w = b * 32 + wi;
                    nz[pos++] = h < rows && w < cols ? nd[h * cols + w] : 0;
                }
}

static void test_nz(void)
{
    CHECK_EQ_I64(model_nz_size(510, 270), 147456); /* 512 * 288 */
    CHECK_EQ_I64(model_nz_size(1, 1), 512);
    CHECK_EQ_I64(model_nz_size(16, 32), 512);
    CHECK_EQ_I64(model_nz_size(17, 33), 2048); /* 32 * 64 */
    /* H = 20 (aligned 32): (17, 33) -> block 1 * (32*32) + 17*32 + 1 = 1569. */
    CHECK_EQ_I64(model_nz_index(20, 17, 33), 1569);
    CHECK_EQ_I64(model_nz_index(20, 0, 0), 0);
    CHECK_EQ_I64(model_nz_index(20, 19, 31), 639);
    CHECK_EQ_I64(model_nz_index(20, 0, 32), 1024);

    enum { K = 20, N = 40 };
    static int8_t logical[K * N], trans[N * K], nz[2048], nz_t[2048], ref[2048], out[K * N];
    for (int kk = 0; kk < K; kk++)
        for (int j = 0; j < N; j++) {
            logical[kk * N + j] = (int8_t)((kk * 7 + j * 13) % 255 - 127);
            trans[j * K + kk] = logical[kk * N + j];
        }
    model_nz_from_nd(logical, K, N, nz);
    nz_by_blocks(logical, K, N, ref);
    CHECK(memcmp(nz, ref, sizeof ref) == 0);
    CHECK_EQ_I64(model_nz_size(N, K), 1536); /* (40,20): Align(40,16) * Align(20,32) = 48 * 32 */
    model_nz_from_nd(trans, N, K, nz_t);
    nz_by_blocks(trans, N, K, ref);
    CHECK(memcmp(nz_t, ref, (size_t)model_nz_size(N, K)) == 0);

    const int8_t *stored[4] = {logical, trans, nz, nz_t};
    for (int layout = MODEL_X2_ND; layout <= MODEL_X2_NZ_T; layout++) {
        memset(out, 0x55, sizeof out);
        CHECK_EQ_I64(model_x2_from_stored((model_x2_layout)layout, stored[layout], K, N, out),
                     MODEL_OK);
        CHECK(memcmp(out, logical, sizeof out) == 0);
    }
    CHECK_EQ_I64(model_x2_from_stored((model_x2_layout)7, nz, K, N, out), MODEL_EINVAL);
    CHECK_EQ_I64(model_x2_from_stored(MODEL_X2_ND, NULL, K, N, out), MODEL_EINVAL);
    CHECK_EQ_I64(model_x2_from_stored(MODEL_X2_ND, nz, 0, N, out), MODEL_EINVAL);
}

/* ---- the operator, end to end ---------------------------------------------------------------- */

/* Runs op into two fresh output buffers per rank (up to 4 ranks, 4 elements) and checks that
 * every rank got want[]. */
static void check_op(const model_op *op, const uint16_t *want, int count)
{
    uint16_t bufs[4][4];
    uint16_t *out[4] = {bufs[0], bufs[1], bufs[2], bufs[3]};
    memset(bufs, 0xEE, sizeof bufs);
    CHECK_EQ_I64(model_quant_matmul_all_reduce_v3(op, out), MODEL_OK);
    for (int r = 0; r < op->ranks; r++)
        for (int i = 0; i < count; i++)
            CHECK_HEX(out[r][i], want[i]);
}

/* Case 1, FP16, R = 2, m = k = n = 2, per-channel dequant words.
 * rank 0: acc = [1 2; 3 -4] x [5 6; 7 -8] = [19 -10; -13 50]; bias (1, 2) -> a = [20 -8; -12 52];
 *         S = (0.5, 0.25) -> d0 = [10 -2; -6 13] (all exact).
 * rank 1: acc = [1 1; 0 2] x [1 -1; 2 3] = [3 2; 4 6]; no bias; S = (1, 3) (the second word
 *         carries junk in bits 0..12 and 32..63, which decoding drops) -> d1 = [3 6; 4 18];
 *         x3 = [2036 0.5; -4 1+2^-10] -> e1 = [2039 6.5; +0 19] (19 + 2^-10 is far below half of
 *         the fp16 ulp 2^-6 there).
 * out = e0 + e1: 2049 is a tie at fp16 ulp 2 -> 2048 (6800); 4.5 (4480); -6 (C600); 32 (5000). */
static void test_case1(void)
{
    const int8_t x1_0[4] = {1, 2, 3, -4}, x2_0[4] = {5, 6, 7, -8};
    const int8_t x1_1[4] = {1, 1, 0, 2}, x2_1[4] = {1, -1, 2, 3};
    const int32_t bias0[2] = {1, 2};
    const uint64_t w0[2] = {model_tqp_word(0x3F000000, NULL), model_tqp_word(0x3E800000, NULL)};
    const uint64_t w1[2] = {model_tqp_word(0x3F800000, NULL), 0xABCD000040401FFFull};
    uint16_t x3_1[4] = {0x67F4, 0x3800, 0xC400, 0x3C01};
    model_rank_in in[2] = {{x1_0, x2_0, bias0, w0, NULL, NULL, NULL, NULL},
                           {x1_1, x2_1, NULL, w1, NULL, NULL, NULL, x3_1}};
    model_op op = {2, 2, 2, 2, QMAR_FLOAT16, 2, NULL, NULL, in};
    const uint16_t want[4] = {0x6800, 0x4480, 0xC600, 0x5000};
    CHECK_EQ_I64(model_op_check(&op), MODEL_OK);
    CHECK_HEX(model_rank_value(&op, 0, 0, 0), 0x4900); /* 10 */
    CHECK_HEX(model_rank_value(&op, 1, 0, 0), 0x67F7); /* 2039 */
    CHECK_HEX(model_rank_value(&op, 1, 1, 0), 0x0000); /* 4 + -4 = +0 */
    check_op(&op, want, 4);

    /* In place: rank 1's x3 is its output buffer; the result is the same. */
    uint16_t out0[4];
    uint16_t *out[2] = {out0, x3_1};
    CHECK_EQ_I64(model_quant_matmul_all_reduce_v3(&op, out), MODEL_OK);
    for (int i = 0; i < 4; i++) {
        CHECK_HEX(out0[i], want[i]);
        CHECK_HEX(x3_1[i], want[i]);
    }
}

/* Case 2, BF16, R = 2, m = 2, k = 3, n = 2, per-tensor bf16 scale, pertoken.
 * rank 0: acc = [1 -1 2; 0 0 0] x [1 2; 3 4; 5 6] = [8 10; 0 0]; scale -0.5 (BF00) ->
 *         t = [-4 -5; -0 -0], and "+ 0.0" makes the zeros +0; pertoken (3, -1) ->
 *         u = [-12 -15; -1*(+0) = -0, -0] -> d0 = [C140 C170; 8000 8000].
 * rank 1: acc = [2 0 0; 0 0 0] x [1 3; 0 0; 0 0] = [2 6; 0 0]; bias (0, 1) -> a = [2 7; 0 1];
 *         scale 1 (3F80); pertoken (1/3 = 3EAAAAAB, -2):
 *         2/3 -> 3F2AAAAB -> bf16 3F2B (0.66796875); 7/3 -> 40155556 -> bf16 4015 (2.328125);
 *         -2 * +0 = -0 (8000); -2 * 1 = -2 (C000).
 * out: -12 + 0.66796875 = -11.33203125: bf16 ulp 2^-4 in [8,16): 181.3 ulps -> 181 -> -11.3125
 *      (C135); -15 + 2.328125 = -12.671875: 202.75 ulps -> 203 -> -12.6875 (C14B);
 *      -0 + -0 = -0 (8000); -0 + -2 = -2 (C000). */
static void test_case2(void)
{
    const int8_t x1_0[6] = {1, -1, 2, 0, 0, 0}, x2_0[6] = {1, 2, 3, 4, 5, 6};
    const int8_t x1_1[6] = {2, 0, 0, 0, 0, 0}, x2_1[6] = {1, 3, 0, 0, 0, 0};
    const int32_t bias1[2] = {0, 1};
    const uint16_t sc0[1] = {0xBF00}, sc1[1] = {0x3F80};
    const uint32_t pt0[2] = {0x40400000, 0xBF800000}, pt1[2] = {0x3EAAAAAB, 0xC0000000};
    model_rank_in in[2] = {{x1_0, x2_0, NULL, NULL, NULL, sc0, pt0, NULL},
                           {x1_1, x2_1, bias1, NULL, NULL, sc1, pt1, NULL}};
    model_op op = {2, 2, 3, 2, QMAR_BF16, 1, NULL, NULL, in};
    const uint16_t want[4] = {0xC135, 0xC14B, 0x8000, 0xC000};
    CHECK_HEX(model_rank_value(&op, 0, 1, 0), 0x8000);
    CHECK_HEX(model_rank_value(&op, 1, 0, 0), 0x3F2B);
    CHECK_HEX(model_rank_value(&op, 1, 0, 1), 0x4015);
    check_op(&op, want, 4);
}

/* Case 3, FP16, R = 2, m = k = 1, n = 2, per-tensor dequant word 1.0.
 * rank 0: acc = 2 x (5, 7) = (10, 14); bias (0, 1225) -> (10, 1239); x3 (0.25, 0) ->
 *         e0 = (10.25, 1239).
 * rank 1: acc = -1 x (3, 2) = (-3, -2); bias (0, 828) -> (-3, 826); x3 (-0.25, -0) ->
 *         e1 = (-3.25, 826).
 * column 0: s1 = 0.5, s2 = 0.25: q1 = rint(20.5) = 20 and rint(-6.5) = -6, S = 14,
 *           ratio = 2 -> q2 = 28 -> out = 28 * 0.25 = 7 (4700).
 * column 1: s1 = 413, s2 = 32: q1 = 3 and 2, S = 5, ratio = 12.90625 -> 64.53125 -> fp16 64.5
 *           -> 64 -> out = 64 * 32 = 2048 (6800). */
static void test_case3(void)
{
    const int8_t x1_0[1] = {2}, x2_0[2] = {5, 7}, x1_1[1] = {-1}, x2_1[2] = {3, 2};
    const int32_t bias0[2] = {0, 1225}, bias1[2] = {0, 828};
    const uint64_t w[1] = {model_tqp_word(0x3F800000, NULL)};
    const uint16_t x3_0[2] = {0x3400, 0x0000}, x3_1[2] = {0xB400, 0x8000};
    const uint16_t s1[2] = {0x3800, 0x5E74}, s2[2] = {0x3400, 0x5000};
    model_rank_in in[2] = {{x1_0, x2_0, bias0, w, NULL, NULL, NULL, x3_0},
                           {x1_1, x2_1, bias1, w, NULL, NULL, NULL, x3_1}};
    model_op op = {2, 1, 1, 2, QMAR_FLOAT16, 1, s1, s2, in};
    const uint16_t want[2] = {0x4700, 0x6800};
    CHECK_HEX(model_rank_value(&op, 0, 0, 0), 0x4920); /* 10.25 */
    CHECK_HEX(model_rank_value(&op, 0, 0, 1), 0x64D7); /* 1239 */
    CHECK_HEX(model_rank_value(&op, 1, 0, 0), 0xC280); /* -3.25 */
    CHECK_HEX(model_rank_value(&op, 1, 0, 1), 0x6274); /* 826 */
    check_op(&op, want, 2);

    /* Case 3 with pertoken, BF16: every rank's e is 16384 (a = 16384, scale 1, pertoken 1);
     * s1 = 163, s2 = 326 -> 46FF as in test_comm_requant. */
    const int8_t zero[1] = {0};
    const int32_t b16k[1] = {16384};
    const uint16_t one_bf[1] = {0x3F80}, s1b[1] = {0x4323}, s2b[1] = {0x43A3};
    const uint32_t pt_one[1] = {0x3F800000};
    model_rank_in inb[2] = {{zero, zero, b16k, NULL, NULL, one_bf, pt_one, NULL},
                            {zero, zero, b16k, NULL, NULL, one_bf, pt_one, NULL}};
    model_op opb = {2, 1, 1, 1, QMAR_BF16, 1, s1b, s2b, inb};
    const uint16_t wantb[1] = {0x46FF};
    check_op(&opb, wantb, 1);
}

/* R = 4 through the operator: the bias alone sets each rank's value (x1 = x2 = 0, scale 1), so
 * the rank order of test_all_reduce shows up in the output. */
static void test_rank_order_op(void)
{
    const int8_t zero[1] = {0};
    const uint16_t one_bf[1] = {0x3F80};
    const int32_t big = 16777216, one = 1, nbig = -16777216;
    const int32_t *order_a[4] = {&big, &one, &one, &nbig}, *order_b[4] = {&one, &one, &big, &nbig};
    model_rank_in in[4];
    model_op op = {4, 1, 1, 1, QMAR_BF16, 1, NULL, NULL, in};
    for (int r = 0; r < 4; r++) {
        model_rank_in t = {zero, zero, order_a[r], NULL, NULL, one_bf, NULL, NULL};
        in[r] = t;
    }
    const uint16_t want_a[1] = {0x0000}, want_b[1] = {0x4000};
    check_op(&op, want_a, 1);
    for (int r = 0; r < 4; r++)
        in[r].bias = order_b[r];
    check_op(&op, want_b, 1);
}

static void test_op_errors(void)
{
    const int8_t x[4] = {1, 1, 1, 1};
    const uint64_t w[2] = {model_tqp_word(0x3F800000, NULL), model_tqp_word(0x3F800000, NULL)};
    const uint16_t sbf[2] = {0x3F80, 0x3F80}, s[2] = {0x3C00, 0x3C00};
    const uint32_t pt[2] = {0x3F800000, 0x3F800000};
    model_rank_in in[2] = {{x, x, NULL, w, NULL, NULL, NULL, NULL},
                           {x, x, NULL, w, NULL, NULL, NULL, NULL}};
    model_op good = {2, 2, 2, 2, QMAR_FLOAT16, 2, NULL, NULL, in};
    model_op op;
    CHECK_EQ_I64(model_op_check(&good), MODEL_OK);
    CHECK_EQ_I64(model_op_check(NULL), MODEL_EINVAL);
    op = good, op.ranks = 0;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.ranks = QMAR_COMM_MAX_RANKS + 1;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.m = 0;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.k = -1;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.y = QMAR_FLOAT;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.scale_count = 3;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.s1 = s; /* s2 missing */
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.s1 = s, op.s2 = s;
    CHECK_EQ_I64(model_op_check(&op), MODEL_OK);
    op = good, op.rank = NULL;
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    op = good, op.y = QMAR_BF16; /* BF16 needs scale_bf16 */
    CHECK_EQ_I64(model_op_check(&op), MODEL_EINVAL);
    in[0].scale_bf16 = in[1].scale_bf16 = sbf;
    CHECK_EQ_I64(model_op_check(&op), MODEL_OK);
    in[1].pertoken = pt; /* pertoken on one rank only: the case disagrees */
    CHECK_EQ_I64(model_op_check(&good), MODEL_EINVAL);
    in[0].pertoken = pt; /* FP16 with pertoken needs scale_f32 */
    CHECK_EQ_I64(model_op_check(&good), MODEL_EINVAL);
    CHECK_EQ_I64(model_op_check(&op), MODEL_OK); /* BF16 with pertoken reads scale_bf16 */
    in[0].pertoken = in[1].pertoken = NULL;
    in[1].x1 = NULL;
    CHECK_EQ_I64(model_op_check(&good), MODEL_EINVAL);
    in[1].x1 = x;

    /* Missing output buffers: nothing is written anywhere. */
    uint16_t o0[4] = {7, 7, 7, 7};
    uint16_t *out_bad[2] = {o0, NULL};
    CHECK_EQ_I64(model_quant_matmul_all_reduce_v3(&good, out_bad), MODEL_EINVAL);
    CHECK_EQ_I64(model_quant_matmul_all_reduce_v3(&good, NULL), MODEL_EINVAL);
    CHECK(o0[0] == 7 && o0[3] == 7);
}

/* ================================================================================================
 * Part 2: the soft-float primitives against the host's IEEE arithmetic
 * ============================================================================================== */

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int sign_bit(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (int)(u >> 63);
}

static double pow2(int e)
{
    double p = 1.0;
    for (; e > 0; e--)
        p *= 2.0;
    for (; e < 0; e++)
        p *= 0.5;
    return p;
}

/* floor(log2 |x|) of a finite nonzero double, by exact halving and doubling. */
static int exponent_of(double x)
{
    double a = x < 0 ? -x : x;
    int e = 0;
    for (; a >= 2.0; a *= 0.5)
        e++;
    for (; a < 1.0; a *= 2.0)
        e--;
    return e;
}

static const double inf_d = (double)INFINITY;

/* The value of a binary-format bit pattern, exactly, in double. */
static double host_value(int ebits, int mbits, uint32_t bits)
{
    uint32_t frac = bits & ((UINT32_C(1) << mbits) - 1);
    uint32_t field = (bits >> mbits) & ((UINT32_C(1) << ebits) - 1);
    int bias = (1 << (ebits - 1)) - 1;
    double sign = (bits >> (ebits + mbits)) & 1 ? -1.0 : 1.0;
    if (field == (UINT32_C(1) << ebits) - 1)
        return frac != 0 ? (double)NAN : sign * inf_d;
    if (field == 0)
        return sign * (double)frac * pow2(1 - bias - mbits);
    return sign * ((double)frac + pow2(mbits)) * pow2((int)field - bias - mbits);
}

/* Round a double to a binary format with round-to-nearest-even done by the FPU itself: adding
 * c = 1.5 * 2^(q+52), whose ulp is 2^q, keeps exactly the bits of weight >= 2^q (q = weight of
 * the format's last bit at x's magnitude, floored at the subnormal grid), and subtracting c back
 * is exact. Overflow: anything that rounds to 2^(emax+1) is infinite. */
static double host_round(double x, int ebits, int mbits)
{
    if (x != x || x == 0 || x - x != 0) /* NaN, zero, inf */
        return x;
    int emax = (1 << (ebits - 1)) - 1, emin = 1 - emax;
    int e = exponent_of(x);
    int q = (e < emin ? emin : e) - mbits;
    double c = 1.5 * pow2(q + 52);
    volatile double t = x + c;
    double y = t - c;
    if (y >= pow2(emax + 1) || y <= -pow2(emax + 1))
        return y > 0 ? inf_d : -inf_d;
    if (y == 0)
        return x < 0 ? -0.0 : 0.0;
    return y;
}

/* rint in double (ties to even) for any finite value of our formats. */
static double host_rint(double x)
{
    double big = pow2(52);
    if (x != x || x - x != 0 || x >= big || x <= -big)
        return x;
    volatile double t = (x < 0 ? -x : x) + big;
    double r = t - big;
    return x < 0 || (x == 0 && sign_bit(x)) ? -r : r;
}

static int same_value(double want, double got)
{
    if (want != want)
        return got != got;
    return want == got && sign_bit(want) == sign_bit(got);
}

/* The host must honour subnormals both as results (no FTZ) and as inputs (no DAZ). */
static int host_is_ieee(void)
{
    volatile float tiny = FLT_MIN, half = 0.5f, two = 2.0f;
    volatile float sub = tiny * half;
    volatile float back = sub * two;
    int ok = sub != 0.0f && back == tiny;
    if (!ok)
        fprintf(stderr, "host flushes subnormals (FTZ/DAZ): property tests skipped\n");
    return ok;
}

/* xorshift64*: reproducible, and good enough to spray operands. */
static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static const uint32_t f32_edges[] = {
    0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000002, 0x00000003, 0x007FFFFF,
    0x00800000, 0x00800001, 0x00FFFFFF, 0x3F800000, 0xBF800000, 0x3F800001, 0x3F7FFFFF,
    0x3FFFFFFF, 0x40000000, 0x7F7FFFFF, 0xFF7FFFFF, 0x7F7FFFFE, 0x7F000000, 0x7F800000,
    0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FFFFFFF, 0x33000000, 0x33800000,
    0x33C00000, 0x38800000, 0x387FE000, 0x477FE000, 0x477FF000, 0x477FEFFF, 0x477FF001,
    0x7F7F8000, 0x7F7F7FFF, 0x00008000, 0x00018000, 0x3F808000, 0x3F801000, 0x4B800000,
    0x4B000000, 0x3EAAAAAB, 0x40400000};
#define N_EDGES (sizeof f32_edges / sizeof f32_edges[0])

static uint32_t field_of(uint32_t b) { return (b >> 23) & 0xFF; }
static uint32_t with_field(uint32_t b, int64_t field)
{
    if (field < 0 || field > 255)
        return b;
    return (b & 0x807FFFFFu) | ((uint32_t)field << 23);
}

/* Clear a random number of low significand bits half of the time: short significands make exact
 * results and exact ties common. */
static uint32_t maybe_short(uint32_t b)
{
    if (rnd() % 2 == 0)
        return b;
    uint32_t drop = rnd() % 24;
    return b & ~((UINT32_C(1) << drop) - 1);
}

static uint32_t rnd_f32(void)
{
    switch (rnd() % 4) {
    case 0:
        return rnd();
    case 1:
        return f32_edges[rnd() % N_EDGES];
    case 2: /* an exponent at either end of the range or near 1 */
        return maybe_short(with_field(rnd(), (int64_t[]){0, 1, 2, 126, 127, 128, 253, 254,
                                                         255}[rnd() % 9]));
    default:
        return maybe_short(with_field(rnd(), 64 + rnd() % 128));
    }
}

/* Second operand for a product or quotient: a third of the time its exponent puts the result
 * near the subnormal range, a sixth near overflow. */
static uint32_t partner(uint32_t a, int quotient)
{
    int64_t fa = field_of(a), d = (int64_t)(rnd() % 44) - 12;
    uint32_t b = maybe_short(rnd_f32());
    switch (rnd() % 6) {
    case 0:
    case 1: /* result exponent about -126 - d */
        return with_field(b, quotient ? fa + 126 + d : 128 - d - fa);
    case 2: /* result exponent about 127 */
        return with_field(b, quotient ? fa - 127 + d % 3 : 254 + d % 3 - fa + 127);
    default:
        return b;
    }
}

/* Second operand for a sum: often of nearby magnitude, to exercise cancellation and ties. */
static uint32_t addend(uint32_t a)
{
    uint32_t b = maybe_short(rnd_f32());
    if (rnd() % 2 == 0)
        b = with_field(b, (int64_t)field_of(a) + (int64_t)(rnd() % 53) - 26);
    if (rnd() % 4 == 0)
        b ^= 0x80000000u;
    return b;
}

static long report_mismatch(long bad, const char *what, uint32_t a, uint32_t b, uint32_t got,
                            double want)
{
    if (bad < 5)
        fprintf(stderr, "  %s(0x%08x, 0x%08x): model 0x%08x, host %a\n", what, a, b, got, want);
    return bad + 1;
}

enum { N_BIN = 150000, N_CONV = 150000, N_F16 = 100000, N_INT = 50000 };

static void prop_fp32_binary(void)
{
    long bad_mul = 0, bad_add = 0, bad_div = 0;
    for (int i = 0; i < N_BIN; i++) {
        uint32_t a = rnd_f32(), b = partner(a, 0), c = addend(a), d = partner(a, 1);
        float fa = float_of(a);
        uint32_t got = mul32(a, b);
        float want = fa * float_of(b);
        if (!same_value(want, float_of(got)) || (want == want && got != bits_of(want)))
            bad_mul = report_mismatch(bad_mul, "mul32", a, b, got, want);
        got = add32(a, c);
        want = fa + float_of(c);
        if (!same_value(want, float_of(got)) || (want == want && got != bits_of(want)))
            bad_add = report_mismatch(bad_add, "add32", a, c, got, want);
        got = div32(a, d);
        want = fa / float_of(d);
        if (!same_value(want, float_of(got)) || (want == want && got != bits_of(want)))
            bad_div = report_mismatch(bad_div, "div32", a, d, got, want);
    }
    CHECK_EQ_I64(bad_mul, 0);
    CHECK_EQ_I64(bad_add, 0);
    CHECK_EQ_I64(bad_div, 0);
}

/* fp32 operands aimed at fp16 / bf16 rounding: the exponent in or around the target's range and
 * the bits below the target's last place often set to an exact tie or one off it. */
static uint32_t conv_operand(int target_mbits, int64_t lo_field, int64_t span)
{
    uint32_t b = with_field(rnd(), lo_field + (int64_t)(rnd() % (uint32_t)span));
    uint32_t below = UINT32_C(1) << (23 - target_mbits); /* weight of the target's last bit */
    switch (rnd() % 4) {
    case 0:
        return (b & ~(below - 1)) | (below >> 1); /* exact tie */
    case 1:
        return ((b & ~(below - 1)) | (below >> 1)) + (rnd() % 2 ? 1 : -1u); /* next to a tie */
    case 2:
        return rnd_f32();
    default:
        return b;
    }
}

static void prop_conversions(void)
{
    long bad16 = 0, badbf = 0;
    for (int i = 0; i < N_CONV; i++) {
        /* fp16: fp32 fields 127-40 .. 127+17 cover fp16 underflow, subnormals, normals, overflow */
        uint32_t a = conv_operand(10, 87, 58);
        double want = host_round((double)float_of(a), 5, 10);
        uint16_t got = to16(a);
        if (!same_value(want, host_value(5, 10, got)))
            bad16 = report_mismatch(bad16, "to16", a, 0, got, want);
        /* bf16: the whole fp32 range, weighted to both ends */
        uint32_t b = conv_operand(7, i % 3 == 0 ? 0 : i % 3 == 1 ? 230 : 0, i % 3 == 2 ? 256 : 26);
        want = host_round((double)float_of(b), 8, 7);
        got = tobf(b);
        if (!same_value(want, host_value(8, 7, got)))
            badbf = report_mismatch(badbf, "tobf", b, 0, got, want);
    }
    CHECK_EQ_I64(bad16, 0);
    CHECK_EQ_I64(badbf, 0);
}

/* fp16 products and sums are exact in double, and a double quotient of fp16 values rounds to
 * fp16 like the exact quotient (53 bits >= 2*11 + 2, and no fp16 midpoint lies within 2^-53
 * relative of a quotient that is not on it), so host_round gives the reference. */
static void prop_fp16(void)
{
    long bad_mul = 0, bad_add = 0, bad_div = 0;
    for (int i = 0; i < N_F16; i++) {
        uint16_t a = (uint16_t)rnd(), b = (uint16_t)rnd();
        if (rnd() % 2)
            b = (uint16_t)(b & ~((1u << (rnd() % 11)) - 1));
        double va = host_value(5, 10, a), vb = host_value(5, 10, b);
        uint16_t got = (uint16_t)msf_round(MSF_FP16, msf_mul(d16(a), d16(b)));
        double want = host_round(va * vb, 5, 10);
        if (!same_value(want, host_value(5, 10, got)))
            bad_mul = report_mismatch(bad_mul, "mul16", a, b, got, want);
        got = (uint16_t)msf_round(MSF_FP16, msf_add(d16(a), d16(b)));
        want = host_round(va + vb, 5, 10);
        if (!same_value(want, host_value(5, 10, got)))
            bad_add = report_mismatch(bad_add, "add16", a, b, got, want);
        got = div16(a, b);
        want = host_round(va / vb, 5, 10);
        if (!same_value(want, host_value(5, 10, got)))
            bad_div = report_mismatch(bad_div, "div16", a, b, got, want);
    }
    CHECK_EQ_I64(bad_mul, 0);
    CHECK_EQ_I64(bad_add, 0);
    CHECK_EQ_I64(bad_div, 0);
}

static void prop_int64(void)
{
    long bad = 0;
    const int64_t edges[] = {0, 1, -1, 16777216, 16777217, 16777219, -16777217, INT64_MAX,
                             INT64_MIN, INT64_MIN + 1, 4294967295LL, -4294967296LL};
    for (int i = 0; i < N_INT; i++) {
        uint64_t u = ((uint64_t)rnd() << 32) | rnd();
        int64_t v = i < (int)(sizeof edges / sizeof edges[0]) ? edges[i]
                                                              : (int64_t)(u >> (rnd() % 64));
        if (rnd() % 2)
            v = (int64_t)(0 - (uint64_t)v);
        float want = (float)v;
        uint32_t got = i2f(v);
        if (got != bits_of(want))
            bad = report_mismatch(bad, "i2f", (uint32_t)v, (uint32_t)(v >> 32), got, want);
    }
    CHECK_EQ_I64(bad, 0);
}

/* Every fp16 value: widening to fp32 and back, rint, sat8(rint(.)); bf16 widening. */
static void prop_exhaustive16(void)
{
    long bad_widen = 0, bad_rint = 0, bad_sat = 0, bad_bf = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        double v = host_value(5, 10, h);
        uint32_t w = msf_round(MSF_FP32, d16((uint16_t)h));
        if (!same_value(v, (double)float_of(w)) || (v == v && to16(w) != h))
            bad_widen = report_mismatch(bad_widen, "widen16", h, 0, w, v);
        double r = host_rint(v);
        uint32_t got_r = msf_rint(MSF_FP16, h);
        if (!same_value(r, host_value(5, 10, got_r)))
            bad_rint = report_mismatch(bad_rint, "rint16", h, 0, got_r, r);
        int32_t want_s = r != r ? 0 : r > 127 ? 127 : r < -128 ? -128 : (int32_t)r;
        if (msf_sat8(MSF_FP16, got_r) != want_s)
            bad_sat = report_mismatch(bad_sat, "sat8", h, 0, (uint32_t)msf_sat8(MSF_FP16, got_r), r);
        double vb = host_value(8, 7, h);
        uint32_t wb = msf_round(MSF_FP32, msf_decode(MSF_BF16, h));
        if (!same_value(vb, (double)float_of(wb)) || (vb == vb && wb != h << 16))
            bad_bf = report_mismatch(bad_bf, "widenbf", h, 0, wb, vb);
    }
    CHECK_EQ_I64(bad_widen, 0);
    CHECK_EQ_I64(bad_rint, 0);
    CHECK_EQ_I64(bad_sat, 0);
    CHECK_EQ_I64(bad_bf, 0);
}

/* rint on fp32 and the clamp used by §6. */
static void prop_rint32(void)
{
    long bad = 0, bad_clamp = 0;
    for (int i = 0; i < N_INT; i++) {
        uint32_t a = i % 2 ? rnd_f32() : with_field(maybe_short(rnd()), 120 + rnd() % 40);
        double r = host_rint((double)float_of(a));
        uint32_t got = msf_rint(MSF_FP32, a);
        if (!same_value(r, (double)float_of(got)))
            bad = report_mismatch(bad, "rint32", a, 0, got, r);
        int64_t want_c = r != r ? 0 : r > 255 ? 255 : r < -256 ? -256 : (int64_t)r;
        if (msf_to_int_clamped(MSF_FP32, got, -256, 255) != want_c)
            bad_clamp = report_mismatch(bad_clamp, "clamp", a, 0, got, r);
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(bad_clamp, 0);
}

static void property_tests(void)
{
    CHECK(host_is_ieee());
    if (!host_is_ieee())
        return;
    /* The reference helpers themselves, on known values. */
    CHECK(host_round(1.0 + pow2(-11), 5, 10) == 1.0);
    CHECK(host_round(65520.0, 5, 10) == inf_d);
    CHECK(host_round(pow2(-25), 5, 10) == 0.0);
    CHECK(host_rint(2.5) == 2.0 && host_rint(-3.5) == -4.0 && sign_bit(host_rint(-0.25)));
    prop_fp32_binary();
    prop_conversions();
    prop_fp16();
    prop_int64();
    prop_exhaustive16();
    prop_rint32();
}

int main(void)
{
    test_fp32_ties();
    test_fp16_bf16_ties();
    test_denormals();
    test_overflow();
    test_special_values();
    test_negative_zero();
    test_integer_stage();
    test_dequant();
    test_x3_add();
    test_all_reduce();
    test_comm_quant();
    test_comm_requant();
    test_trans_quant_param();
    test_nz();
    test_case1();
    test_case2();
    test_case3();
    test_rank_order_op();
    test_op_errors();
    property_tests();
    return check_summary();
}
