/* SPDX-License-Identifier: Apache-2.0 */
/* spec/model/u128.h against GCC's unsigned __int128, which it replaced in the model: every
 * operation on random operands of random bit lengths (plus the edge values 0, 1, 2^k - 1, 2^k and
 * 2^128 - 1) must give the bits __int128 gives. Seeded, so a failure reproduces. */
#include <stdio.h>

#include "check.h"
#include "u128.h"

__extension__ typedef unsigned __int128 wide;

#define ROUNDS 2000000

static uint64_t state = 0x9E3779B97F4A7C15u;

static uint64_t next64(void) /* splitmix64 */
{
    uint64_t z = (state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static wide to_wide(u128 a) { return ((wide)a.hi << 64) | a.lo; }
static u128 of_wide(wide w)
{
    u128 r = {(uint64_t)(w >> 64), (uint64_t)w};
    return r;
}

/* A value of random bit length 0..128, sometimes an edge value of that length. */
static wide operand(void)
{
    int len = (int)(next64() % 129);
    wide v = ((wide)next64() << 64) | next64();
    wide mask = len == 128 ? ~(wide)0 : (((wide)1 << len) - 1);
    switch (next64() % 8) {
    case 0:
        return mask; /* 2^len - 1 */
    case 1:
        return len == 128 ? 0 : (wide)1 << len;
    default:
        return v & mask;
    }
}

static int bit_length_wide(wide v)
{
    int n = 0;
    while (v != 0) {
        v >>= 1;
        n++;
    }
    return n;
}

int main(void)
{
    long bad[12] = {0};
    for (long i = 0; i < ROUNDS; i++) {
        wide a = operand(), b = operand();
        u128 ua = of_wide(a), ub = of_wide(b);
        int n = (int)(next64() % 128);
        bad[0] += to_wide(u128_add(ua, ub)) != a + b;
        bad[1] += to_wide(u128_sub(ua, ub)) != a - b;
        bad[2] += to_wide(u128_shl(ua, n)) != a << n;
        bad[3] += to_wide(u128_shr(ua, n)) != a >> n;
        bad[4] += u128_gt(ua, ub) != (a > b) || u128_ge(ua, ub) != (a >= b) ||
                  u128_eq(ua, ub) != (a == b) || u128_eq(ua, ua) != 1;
        bad[5] += u128_is_zero(ua) != (a == 0);
        bad[6] += u128_bit_length(ua) != bit_length_wide(a);
        bad[7] += u128_low_bit(ua) != (uint64_t)(a & 1) || u128_low32(ua) != (uint32_t)a;
        bad[8] += to_wide(u128_mul64(ua.lo, ub.hi)) != (wide)ua.lo * ub.hi;
        uint32_t d = (uint32_t)(b >> (next64() % 96)); /* divisors of every length up to 32 bits */
        if (d == 0)
            d = 1;
        uint32_t rem;
        wide q = to_wide(u128_divmod32(ua, d, &rem));
        bad[9] += q != a / d || rem != (uint32_t)(a % d);
        bad[10] += to_wide(u128_from64(ua.lo)) != (wide)ua.lo;
    }
    /* shifts by 128 and more are 0 (undefined for __int128; softfp never shifts that far) */
    u128 ones = {UINT64_MAX, UINT64_MAX};
    bad[11] += !u128_is_zero(u128_shl(ones, 128)) || !u128_is_zero(u128_shr(ones, 200));
    for (int k = 0; k < 12; k++) {
        if (bad[k] != 0)
            fprintf(stderr, "operation %d: %ld mismatches in %d rounds\n", k, bad[k], ROUNDS);
        CHECK(bad[k] == 0);
    }
    /* the checks above can fail: a wrong operation is caught */
    CHECK(to_wide(u128_add(of_wide(~(wide)0), of_wide(1))) == 0);
    CHECK(to_wide(u128_sub(of_wide(0), of_wide(1))) == ~(wide)0);
    CHECK(to_wide(u128_mul64(UINT64_MAX, UINT64_MAX)) == (wide)UINT64_MAX * UINT64_MAX);
    return check_summary();
}
