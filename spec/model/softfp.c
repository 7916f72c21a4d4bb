/* SPDX-License-Identifier: Apache-2.0 */
/* softfp — see softfp.h. Integer arithmetic only (spec/numerics.md §8). The contracts of the
 * public msf_* functions are on their declarations in softfp.h (the model's proof, unit `model`,
 * calls them through those); the static helpers carry theirs here. */
#include "softfp.h"

/* ---- format constants ------------------------------------------------------------------------ */

/*@ requires width == 5 || width == 6 || width == 7 || width == 8 || width == 9 || width == 10 ||
             width == 15 || width == 22 || width == 23 || width == 31;
    assigns \nothing;
    ensures width == 5 ==> \result == 31;
    ensures width == 6 ==> \result == 63;
    ensures width == 7 ==> \result == 127;
    ensures width == 8 ==> \result == 255;
    ensures width == 9 ==> \result == 511;
    ensures width == 10 ==> \result == 1023;
    ensures width == 15 ==> \result == 32767;
    ensures width == 22 ==> \result == 4194303;
    ensures width == 23 ==> \result == 8388607;
    ensures width == 31 ==> \result == 2147483647; */
static uint32_t ones(int width) { return (UINT32_C(1) << width) - 1; }
/*@ requires msf_valid_fmt(f);
    assigns \nothing;
    ensures f.ebits == 8 ==> \result == 127;
    ensures f.ebits == 5 ==> \result == 15; */
static int32_t bias_of(msf_fmt f) { return (INT32_C(1) << (f.ebits - 1)) - 1; }
/* Exponent of the smallest normal number; subnormals share it with no hidden bit. */
/*@ requires msf_valid_fmt(f);
    assigns \nothing;
    ensures \result == msf_emin(f); */
static int32_t emin_of(msf_fmt f) { return 1 - bias_of(f); }
/*@ requires msf_valid_fmt(f);
    assigns \nothing;
    ensures f.ebits + f.mbits == 31 ==> \result == 2147483648;
    ensures f.ebits + f.mbits == 15 ==> \result == 32768; */
/* (Powers of two are written ones(w) + 1: the same value, and the proof needs no 1 << w.) */
static uint32_t sign_of(msf_fmt f) { return ones(f.ebits + f.mbits) + 1; }
/*@ requires msf_valid_fmt(f);
    assigns \nothing;
    ensures f.mbits == 23 ==> \result == 0x7F800000;
    ensures f.mbits == 10 ==> \result == 0x7C00;
    ensures f.mbits == 7 ==> \result == 0x7F80; */
static uint32_t inf_of(msf_fmt f) { return ones(f.ebits + f.mbits) - ones(f.mbits); }
/* Canonical quiet NaN: all-ones exponent, top fraction bit set (0x7FC00000, 0x7E00, 0x7FC0). */
/*@ requires msf_valid_fmt(f);
    assigns \nothing; */
static uint32_t nan_of(msf_fmt f) { return inf_of(f) | (ones(f.mbits - 1) + 1); }

/*@ assigns \nothing;
    ensures 0 <= \result <= 128; */
static int bit_length(msf_u128 v) { return u128_bit_length(v); }

/*@ assigns \nothing;
    ensures \result <==> (x.kind == MSF_FINITE && x.mag.hi == 0 && x.mag.lo == 0); */
static int is_zero(msf_num x) { return x.kind == MSF_FINITE && u128_is_zero(x.mag); }

/*@ assigns \nothing;
    ensures \result.kind == kind && \result.neg == neg && \result.exp == 0;
    ensures \result.mag.hi == 0 && \result.mag.lo == 0 && \result.sticky == 0; */
static msf_num special(msf_kind kind, int neg)
{
    msf_num r = {kind, neg, {0, 0}, 0, 0};
    return r;
}

/* ---- decode / round -------------------------------------------------------------------------- */

msf_num msf_decode(msf_fmt f, uint32_t bits)
{
    uint32_t frac = bits & ones(f.mbits);
    uint32_t field = (bits >> f.mbits) & ones(f.ebits);
    /*@ assert frac <= 8388607 && field <= 255; */
    msf_num x = special(MSF_FINITE, (bits & sign_of(f)) != 0);
    if (field == ones(f.ebits))
        return special(frac != 0 ? MSF_NAN : MSF_INF, x.neg);
    if (field == 0) { /* zero or subnormal: no hidden bit, exponent pinned at emin */
        x.mag = u128_from64(frac);
        x.exp = emin_of(f) - f.mbits;
    } else {
        x.mag = u128_from64(frac + (ones(f.mbits) + 1)); /* frac < 2^mbits: + is | here */
        x.exp = (int32_t)field - bias_of(f) - f.mbits;
    }
    return x;
}

/* mag * 2^-shift (plus the sticky fraction) rounded to an integer, ties to even. shift >= 1. */
/*@ requires shift >= 1;
    assigns \nothing; */
static msf_u128 rne_shift(msf_u128 mag, int shift, int sticky)
{
    /* mag < 2^(shift-1) = half: even with sticky the value stays below one half -> 0. */
    if (shift > bit_length(mag))
        return u128_from64(0);
    msf_u128 q = u128_shr(mag, shift);
    msf_u128 rem = u128_sub(mag, u128_shl(q, shift));
    msf_u128 half = u128_shl(u128_from64(1), shift - 1);
    if (u128_gt(rem, half) || (u128_eq(rem, half) && (sticky || u128_low_bit(q) != 0)))
        q = u128_add(q, u128_from64(1));
    return q;
}

/* Bits (without sign) of sig * 2^q, where q is the exponent of the last kept bit chosen by
 * msf_round and sig <= 2^(mbits+1) is already rounded. */
/*@ requires msf_valid_fmt(f);
    requires msf_emin(f) - f.mbits <= q <= 2097152;
    assigns \nothing; */
static uint32_t encode(msf_fmt f, msf_u128 sig, int32_t q)
{
    if (!u128_is_zero(u128_shr(sig, f.mbits + 1))) { /* rounding carried into a new top bit */
        sig = u128_shr(sig, 1);                     /* 1.1..1 -> 10.0 */
        q++;
    }
    if (u128_is_zero(u128_shr(sig, f.mbits))) /* zero or subnormal: q is emin - mbits, field 0 */
        return u128_low32(sig);
    int32_t field = q + f.mbits + bias_of(f);
    if (field >= (int32_t)ones(f.ebits)) /* beyond the largest finite: overflow to inf */
        return inf_of(f);
    return ((uint32_t)field << f.mbits) | (u128_low32(sig) & ones(f.mbits));
}

uint32_t msf_round(msf_fmt f, msf_num x)
{
    uint32_t sign = x.neg ? sign_of(f) : 0;
    if (x.kind == MSF_NAN)
        return nan_of(f);
    if (x.kind == MSF_INF)
        return sign | inf_of(f);
    if (u128_is_zero(x.mag)) /* an exact zero keeps its sign */
        return sign;
    int32_t top = x.exp + bit_length(x.mag) - 1; /* |x| in [2^top, 2^(top+1)) */
    int32_t q = top - f.mbits;                   /* keep mbits+1 significant bits ... */
    if (q < emin_of(f) - f.mbits)                /* ... unless that is below the subnormal */
        q = emin_of(f) - f.mbits;                /* grid: gradual underflow, never flushed */
    msf_u128 sig;
    if (q <= x.exp) /* the value already sits on the grid (msf_div never gets here) */
        sig = u128_shl(x.mag, x.exp - q);
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
    r.mag = u128_mul64(a.mag.lo, b.mag.lo); /* a.mag, b.mag < 2^64 (softfp.h) */
    r.exp = a.exp + b.exp;
    return r;
}

/* Sum of two nonzero finite values. The result keeps the smaller exponent, so it is exact, except
 * when the exponents are more than 64 apart: then |b| < 2^(a.exp - 39) (mag < 2^25), which is far
 * below half a unit in the last place of the result in any format of <= 24 bits, and lies closer
 * to a than any rounding boundary. Every value of b's sign that small therefore rounds the same
 * way; 2^(a.exp - 40) stands in for b to keep the integers short. */
/*@ requires a.kind == MSF_FINITE && b.kind == MSF_FINITE && msf_small(a) && msf_small(b);
    assigns \nothing;
    ensures msf_exp_bounded(\result); */
static msf_num add_finite(msf_num a, msf_num b)
{
    if (a.exp < b.exp) {
        msf_num t = a;
        a = b;
        b = t;
    }
    if (a.exp - b.exp > 64) {
        b.mag = u128_from64(1);
        b.exp = a.exp - 40;
    }
    msf_u128 x = u128_shl(a.mag, a.exp - b.exp);
    msf_num r = special(MSF_FINITE, a.neg);
    r.exp = b.exp;
    if (a.neg == b.neg)
        r.mag = u128_add(x, b.mag);
    else if (u128_ge(x, b.mag))
        r.mag = u128_sub(x, b.mag);
    else {
        r.mag = u128_sub(b.mag, x);
        r.neg = b.neg;
    }
    if (u128_is_zero(r.mag)) /* x + (-x) is +0 when rounding to nearest */
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
    uint32_t rem;
    r.mag = u128_divmod32(u128_shl(a.mag, 64), (uint32_t)b.mag.lo, &rem); /* b.mag < 2^25 */
    r.sticky = rem != 0;
    r.exp = a.exp - b.exp - 64;
    return r;
}

msf_num msf_from_int(int64_t v)
{
    msf_num r = special(MSF_FINITE, v < 0);
    /* |v| without negating INT64_MIN: -(v + 1) fits, and adding 1 back is exact in uint64. */
    r.mag = u128_from64(v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v);
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
    if (x.kind == MSF_INF || (!u128_is_zero(x.mag) && x.exp + bit_length(x.mag) > 62))
        return x.neg ? lo : hi; /* |value| >= 2^62: beyond any allowed bound */
    msf_u128 mag = x.exp >= 0 ? u128_shl(x.mag, x.exp) : u128_shr(x.mag, -x.exp);
    /* mag < 2^62 here; reducing it mod 2^63 changes nothing and shows the cast cannot overflow. */
    uint64_t low = mag.lo % (UINT64_C(1) << 63);
    /*@ assert low <= INT64_MAX; */
    int64_t m = (int64_t)low;
    /*@ assert 0 <= m; */
    int64_t v = x.neg ? -m : m;
    return v < lo ? lo : v > hi ? hi : v;
}

int32_t msf_sat8(msf_fmt f, uint32_t bits)
{
    return (int32_t)msf_to_int_clamped(f, bits, -128, 127);
}
