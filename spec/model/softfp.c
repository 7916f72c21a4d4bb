/* SPDX-License-Identifier: Apache-2.0 */
/* softfp — see softfp.h. Integer arithmetic only (spec/numerics.md §8). */
#include "softfp.h"

const msf_fmt MSF_FP32 = {8, 23};
const msf_fmt MSF_FP16 = {5, 10};
const msf_fmt MSF_BF16 = {8, 7};

/* ---- format constants ------------------------------------------------------------------------ */

static uint32_t ones(int width) { return (UINT32_C(1) << width) - 1; }
static int32_t bias_of(msf_fmt f) { return (INT32_C(1) << (f.ebits - 1)) - 1; }
/* Exponent of the smallest normal number; subnormals share it with no hidden bit. */
static int32_t emin_of(msf_fmt f) { return 1 - bias_of(f); }
static uint32_t sign_of(msf_fmt f) { return UINT32_C(1) << (f.ebits + f.mbits); }
static uint32_t inf_of(msf_fmt f) { return ones(f.ebits) << f.mbits; }
/* Canonical quiet NaN: all-ones exponent, top fraction bit set (0x7FC00000, 0x7E00, 0x7FC0). */
static uint32_t nan_of(msf_fmt f) { return inf_of(f) | (UINT32_C(1) << (f.mbits - 1)); }

static int bit_length(msf_u128 v)
{
    int n = 0;
    while (v != 0) {
        v >>= 1;
        n++;
    }
    return n;
}

static int is_zero(msf_num x) { return x.kind == MSF_FINITE && x.mag == 0; }

static msf_num special(msf_kind kind, int neg)
{
    msf_num r = {kind, neg, 0, 0, 0};
    return r;
}

/* ---- decode / round -------------------------------------------------------------------------- */

msf_num msf_decode(msf_fmt f, uint32_t bits)
{
    uint32_t frac = bits & ones(f.mbits);
    uint32_t field = (bits >> f.mbits) & ones(f.ebits);
    msf_num x = special(MSF_FINITE, (bits & sign_of(f)) != 0);
    if (field == ones(f.ebits))
        return special(frac != 0 ? MSF_NAN : MSF_INF, x.neg);
    if (field == 0) { /* zero or subnormal: no hidden bit, exponent pinned at emin */
        x.mag = frac;
        x.exp = emin_of(f) - f.mbits;
    } else {
        x.mag = frac | (UINT32_C(1) << f.mbits);
        x.exp = (int32_t)field - bias_of(f) - f.mbits;
    }
    return x;
}

/* mag * 2^-shift (plus the sticky fraction) rounded to an integer, ties to even. shift >= 1. */
static msf_u128 rne_shift(msf_u128 mag, int shift, int sticky)
{
    /* mag < 2^(shift-1) = half: even with sticky the value stays below one half -> 0. */
    if (shift > bit_length(mag))
        return 0;
    msf_u128 q = mag >> shift;
    msf_u128 rem = mag - (q << shift);
    msf_u128 half = (msf_u128)1 << (shift - 1);
    if (rem > half || (rem == half && (sticky || (q & 1) != 0)))
        q++;
    return q;
}

/* Bits (without sign) of sig * 2^q, where q is the exponent of the last kept bit chosen by
 * msf_round and sig <= 2^(mbits+1) is already rounded. */
static uint32_t encode(msf_fmt f, msf_u128 sig, int32_t q)
{
    if ((sig >> (f.mbits + 1)) != 0) { /* rounding carried into a new top bit: 1.1..1 -> 10.0 */
        sig >>= 1;
        q++;
    }
    if ((sig >> f.mbits) == 0) /* zero or subnormal: q is emin - mbits, field 0 */
        return (uint32_t)sig;
    int32_t field = q + f.mbits + bias_of(f);
    if (field >= (int32_t)ones(f.ebits)) /* beyond the largest finite: overflow to inf */
        return inf_of(f);
    return ((uint32_t)field << f.mbits) | ((uint32_t)sig & ones(f.mbits));
}

uint32_t msf_round(msf_fmt f, msf_num x)
{
    uint32_t sign = x.neg ? sign_of(f) : 0;
    if (x.kind == MSF_NAN)
        return nan_of(f);
    if (x.kind == MSF_INF)
        return sign | inf_of(f);
    if (x.mag == 0) /* an exact zero keeps its sign */
        return sign;
    int32_t top = x.exp + bit_length(x.mag) - 1; /* |x| in [2^top, 2^(top+1)) */
    int32_t q = top - f.mbits;                   /* keep mbits+1 significant bits ... */
    if (q < emin_of(f) - f.mbits)                /* ... unless that is below the subnormal */
        q = emin_of(f) - f.mbits;                /* grid: gradual underflow, never flushed */
    msf_u128 sig;
    if (q <= x.exp) /* the value already sits on the grid (msf_div never gets here) */
        sig = x.mag << (x.exp - q);
    else
        sig = rne_shift(x.mag, q - x.exp, x.sticky);
    return sign | encode(f, sig, q);
}

/* ---- exact arithmetic ------------------------------------------------------------------------ */

msf_num msf_mul(msf_num a, msf_num b)
{
    int neg = a.neg != b.neg; /* the sign rule also covers zeros and infinities: 0 * -2 = -0 */
    if (a.kind == MSF_NAN || b.kind == MSF_NAN)
        return special(MSF_NAN, 0);
    if (a.kind == MSF_INF || b.kind == MSF_INF) /* 0 * inf is invalid */
        return special(is_zero(a) || is_zero(b) ? MSF_NAN : MSF_INF, neg);
    msf_num r = special(MSF_FINITE, neg);
    r.mag = a.mag * b.mag;
    r.exp = a.exp + b.exp;
    return r;
}

/* Sum of two nonzero finite values. The result keeps the smaller exponent, so it is exact, except
 * when the exponents are more than 64 apart: then |b| < 2^(a.exp - 39) (mag < 2^25), which is far
 * below half a unit in the last place of the result in any format of <= 24 bits, and lies closer
 * to a than any rounding boundary. Every value of b's sign that small therefore rounds the same
 * way; 2^(a.exp - 40) stands in for b to keep the integers short. */
static msf_num add_finite(msf_num a, msf_num b)
{
    if (a.exp < b.exp) {
        msf_num t = a;
        a = b;
        b = t;
    }
    if (a.exp - b.exp > 64) {
        b.mag = 1;
        b.exp = a.exp - 40;
    }
    msf_u128 x = a.mag << (a.exp - b.exp);
    msf_num r = special(MSF_FINITE, a.neg);
    r.exp = b.exp;
    if (a.neg == b.neg)
        r.mag = x + b.mag;
    else if (x >= b.mag)
        r.mag = x - b.mag;
    else {
        r.mag = b.mag - x;
        r.neg = b.neg;
    }
    if (r.mag == 0) /* x + (-x) is +0 when rounding to nearest */
        r.neg = 0;
    return r;
}

msf_num msf_add(msf_num a, msf_num b)
{
    if (a.kind == MSF_NAN || b.kind == MSF_NAN)
        return special(MSF_NAN, 0);
    if (a.kind == MSF_INF && b.kind == MSF_INF) /* inf - inf is invalid */
        return special(a.neg == b.neg ? MSF_INF : MSF_NAN, a.neg);
    if (a.kind == MSF_INF)
        return a;
    if (b.kind == MSF_INF)
        return b;
    if (is_zero(a) && is_zero(b)) /* -0 + -0 = -0; any other pair of zeros gives +0 */
        return special(MSF_FINITE, a.neg && b.neg);
    if (is_zero(a))
        return b;
    if (is_zero(b))
        return a;
    return add_finite(a, b);
}

/* a / b. The quotient of the significands is taken to 64 extra bits: with mag < 2^25 it has at
 * least 40 bits, so the rounding position of any format (<= 24 bits) lies inside it, and the
 * remainder only has to say "exact or not" (sticky). */
msf_num msf_div(msf_num a, msf_num b)
{
    int neg = a.neg != b.neg; /* sign rule, also for e / -0 = -inf and x / inf = ±0 */
    if (a.kind == MSF_NAN || b.kind == MSF_NAN)
        return special(MSF_NAN, 0);
    if (a.kind == MSF_INF)
        return special(b.kind == MSF_INF ? MSF_NAN : MSF_INF, neg); /* inf / inf is invalid */
    if (b.kind == MSF_INF)
        return special(MSF_FINITE, neg);
    if (is_zero(b))
        return special(is_zero(a) ? MSF_NAN : MSF_INF, neg); /* 0 / 0 is invalid */
    msf_num r = special(MSF_FINITE, neg);
    if (is_zero(a))
        return r;
    msf_u128 num = a.mag << 64;
    r.mag = num / b.mag;
    r.sticky = num % b.mag != 0;
    r.exp = a.exp - b.exp - 64;
    return r;
}

msf_num msf_from_int(int64_t v)
{
    msf_num r = special(MSF_FINITE, v < 0);
    /* Unsigned negation is exact even for INT64_MIN. */
    r.mag = v < 0 ? (msf_u128)0 - (msf_u128)v : (msf_u128)v;
    return r;
}

/* ---- integers out of formats ----------------------------------------------------------------- */

uint32_t msf_rint(msf_fmt f, uint32_t bits)
{
    msf_num x = msf_decode(f, bits);
    if (x.kind == MSF_FINITE && x.exp < 0) { /* exp >= 0 means already integral */
        x.mag = rne_shift(x.mag, -x.exp, 0);
        x.exp = 0;
    }
    /* The integer is at most 2^mbits, so re-encoding it is exact; zeros keep their sign. */
    return msf_round(f, x);
}

int64_t msf_to_int_clamped(msf_fmt f, uint32_t bits, int64_t lo, int64_t hi)
{
    msf_num x = msf_decode(f, bits);
    if (x.kind == MSF_NAN)
        return 0;
    if (x.kind == MSF_INF || (x.mag != 0 && x.exp + bit_length(x.mag) > 62))
        return x.neg ? lo : hi; /* |value| >= 2^62: beyond any allowed bound */
    msf_u128 mag = x.exp >= 0 ? x.mag << x.exp : x.exp > -128 ? x.mag >> -x.exp : 0;
    int64_t v = x.neg ? -(int64_t)mag : (int64_t)mag;
    return v < lo ? lo : v > hi ? hi : v;
}

int32_t msf_sat8(msf_fmt f, uint32_t bits)
{
    return (int32_t)msf_to_int_clamped(f, bits, -128, 127);
}
