/* SPDX-License-Identifier: Apache-2.0 */
/* softfp — IEEE-754 binary32 / binary16 / bfloat16 arithmetic on raw bits, integers only.
 *
 * Part of the integer-exact reference model (spec/numerics.md §8). Every rounding the contract
 * names is done here on integer significands and exponents, so the model cannot inherit a host
 * FPU's quirks (FTZ/DAZ, contraction, excess precision). The idea:
 *   decode bits -> an exact value (msf_num) -> exact product / sum / quotient -> round once.
 * Rounding is always round-to-nearest, ties to even, with gradual underflow and overflow to ±inf
 * (numerics.md "Notation"). NaN results are the format's canonical quiet NaN; the contract only
 * asks that NaN meet NaN, never for a payload. */
#ifndef QMAR_SPEC_MODEL_SOFTFP_H
#define QMAR_SPEC_MODEL_SOFTFP_H

#include <stdint.h>

#include "u128.h"

/* Exact intermediates need more than 64 bits (a 24x24-bit product shifted for alignment, a
 * 64-bit-scaled quotient): a two-word integer in standard C (u128.h), which Frama-C can prove. */
typedef u128 msf_u128;

/* A binary interchange format: exponent field width and stored fraction width. */
typedef struct msf_fmt {
    int ebits;
    int mbits;
} msf_fmt;

/* Defined here, not in softfp.c, so that every translation unit (and WP proving the model, unit
 * `model`) sees their values: each is one of msf_valid_fmt's formats. */
static const msf_fmt MSF_FP32 = {8, 23};
static const msf_fmt MSF_FP16 = {5, 10};
static const msf_fmt MSF_BF16 = {8, 7};

typedef enum msf_kind { MSF_FINITE, MSF_INF, MSF_NAN } msf_kind;

/* An exact (unrounded) value. FINITE: |value| = mag * 2^exp, mag == 0 being a zero whose sign is
 * neg. sticky != 0 says the true magnitude lies strictly between mag*2^exp and (mag+1)*2^exp; only
 * msf_div produces it, and only msf_round consumes it. */
typedef struct msf_num {
    msf_kind kind;
    int neg;
    msf_u128 mag;
    int32_t exp;
    int sticky;
} msf_num;

/* What the proof (proofs/units/softfp.json) assumes of the arguments: the three formats only,
 * and exponents far from int32's limits (decoded values have -149 <= exp <= 104). */
/*@ predicate msf_valid_fmt(msf_fmt f) =
      (f.ebits == 8 && f.mbits == 23) || (f.ebits == 5 && f.mbits == 10) ||
      (f.ebits == 8 && f.mbits == 7);
    // Exponent of the smallest normal number (emin_of in softfp.c).
    logic integer msf_emin(msf_fmt f) = f.ebits == 8 ? -126 : -14;
    predicate msf_kind_ok(msf_num x) =
      x.kind == MSF_FINITE || x.kind == MSF_INF || x.kind == MSF_NAN;
    // A decoded value (or any operand of msf_add and msf_div).
    predicate msf_small(msf_num x) = msf_kind_ok(x) &&
      (x.kind == MSF_FINITE ==> (x.mag.hi == 0 && x.mag.lo < 33554432 && -1000 <= x.exp <= 1000 &&
                                 x.sticky == 0));
    // An operand of msf_mul: a decoded value or an msf_from_int result.
    predicate msf_mul_operand(msf_num x) = msf_kind_ok(x) &&
      (x.kind == MSF_FINITE ==> (x.mag.hi == 0 && -1000 <= x.exp <= 1000 && x.sticky == 0));
    // What msf_round accepts: every result of msf_mul, msf_add and msf_div.
    predicate msf_exp_bounded(msf_num x) = msf_kind_ok(x) &&
      (x.kind == MSF_FINITE ==> -1048576 <= x.exp <= 1048576);
*/

/* Bits -> exact value. Subnormals decode to their true value (no DAZ). */
/*@ requires msf_valid_fmt(f);
    assigns \nothing;
    ensures msf_small(\result); */
msf_num msf_decode(msf_fmt f, uint32_t bits);
/* Exact value -> bits of format f: RNE, subnormals kept, overflow to ±inf, canonical NaN. */
/*@ requires msf_valid_fmt(f);
    requires msf_exp_bounded(x);
    assigns \nothing; */
uint32_t msf_round(msf_fmt f, msf_num x);

/* Exact arithmetic with IEEE special-value rules. Operands must have sticky == 0 (decoded values
 * or msf_from_int results). msf_mul needs each mag below 2^64; msf_add and msf_div
 * need each mag below 2^25 (every decoded value of the three formats qualifies). */
/*@ requires msf_mul_operand(a) && msf_mul_operand(b);
    assigns \nothing;
    ensures msf_exp_bounded(\result); */
msf_num msf_mul(msf_num a, msf_num b);
/*@ requires msf_small(a) && msf_small(b);
    assigns \nothing;
    ensures msf_exp_bounded(\result); */
msf_num msf_add(msf_num a, msf_num b); /* exact up to rounding to <= 24 bits, see softfp.c */
/*@ requires msf_small(a) && msf_small(b);
    assigns \nothing;
    ensures msf_exp_bounded(\result); */
msf_num msf_div(msf_num a, msf_num b); /* quotient to >= 40 bits plus sticky: rounds exactly */
/*@ assigns \nothing;
    ensures \result.kind == MSF_FINITE && msf_mul_operand(\result); */
msf_num msf_from_int(int64_t v);

/* Round to an integral value of the same format, ties to even (rint). NaN -> NaN, ±inf and ±0
 * unchanged, -0.4 -> -0. */
/*@ requires msf_valid_fmt(f);
    assigns \nothing; */
uint32_t msf_rint(msf_fmt f, uint32_t bits);
/* Integral value of bits clamped to [lo, hi]; NaN -> 0, +inf -> hi, -inf -> lo. A non-integral
 * value is truncated toward zero (callers pass msf_rint results). Needs lo <= 0 <= hi (so that
 * NaN's 0 lies in the range too) and -2^62 <= lo, hi <= 2^62. */
/*@ requires msf_valid_fmt(f);
    requires lo <= 0 <= hi;
    assigns \nothing;
    ensures lo <= \result <= hi; */
int64_t msf_to_int_clamped(msf_fmt f, uint32_t bits, int64_t lo, int64_t hi);
/* sat8 of numerics.md: clamp to [-128, 127], NaN -> 0, ±inf -> 127 / -128. */
/*@ requires msf_valid_fmt(f);
    assigns \nothing;
    ensures -128 <= \result <= 127; */
int32_t msf_sat8(msf_fmt f, uint32_t bits);

#endif
