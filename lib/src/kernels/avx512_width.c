/* SPDX-License-Identifier: Apache-2.0 */
/* Is the 512-bit datapath full width? CPUID does not say: AMD Zen 4 executes a 512-bit
 * VPDPBUSD as two 256-bit halves, Zen 5's desktop and server parts and Intel's server cores in
 * one go, Zen 5's mobile parts in two again, so not even the family tells. So it is timed: the
 * same number of 512-bit and 256-bit VPDPBUSD, twelve independent sums each (enough to cover
 * the instruction's latency at two per cycle), the best of five alternating trials of each
 * (about 50 us in all). A full-width core takes about the same time for both (Zen 5, 2 vCPUs:
 * 1.14 times, 1.02-1.13 with both cores busy); a split one twice as long for the 512-bit ones.
 * The verdict only chooses a blocking (avx512.c): a wrong one costs speed, never a bit of the
 * result. */
#include "avx512_width.h"

#include <immintrin.h>
#include <stdint.h>
#include <time.h>

#define SUMS 12
#define ROUNDS 2048
#define TRIALS 5

static volatile int32_t sink; /* the sums' fate, so that the loops are not optimised away */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double time_512(void)
{
    __m512i acc[SUMS], b = _mm512_set1_epi32(0x01010101), a = _mm512_set1_epi32(0x02020202);
    for (int i = 0; i < SUMS; i++)
        acc[i] = _mm512_set1_epi32(i);
    double t0 = now();
    for (int r = 0; r < ROUNDS; r++)
#pragma GCC unroll 12
        for (int i = 0; i < SUMS; i++)
            acc[i] = _mm512_dpbusd_epi32(acc[i], b, a);
    double t = now() - t0;
    for (int i = 1; i < SUMS; i++)
        acc[0] = _mm512_add_epi32(acc[0], acc[i]);
    sink = _mm512_reduce_add_epi32(acc[0]);
    return t;
}

static double time_256(void)
{
    __m256i acc[SUMS], b = _mm256_set1_epi32(0x01010101), a = _mm256_set1_epi32(0x02020202);
    for (int i = 0; i < SUMS; i++)
        acc[i] = _mm256_set1_epi32(i);
    double t0 = now();
    for (int r = 0; r < ROUNDS; r++)
#pragma GCC unroll 12
        for (int i = 0; i < SUMS; i++)
            acc[i] = _mm256_dpbusd_epi32(acc[i], b, a);
    double t = now() - t0;
    for (int i = 1; i < SUMS; i++)
        acc[0] = _mm256_add_epi32(acc[0], acc[i]);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc[0]),
                              _mm256_extracti128_si256(acc[0], 1));
    sink = _mm_cvtsi128_si32(s) + _mm_extract_epi32(s, 1) + _mm_extract_epi32(s, 2) +
           _mm_extract_epi32(s, 3);
    return t;
}

int qmar__avx512_full_width(void)
{
    double best512 = 1e9, best256 = 1e9;
    for (int i = 0; i < TRIALS; i++) {
        double t = time_256();
        best256 = t < best256 ? t : best256;
        t = time_512();
        best512 = t < best512 ? t : best512;
    }
    /* halfway between the same time (full width) and twice it (two halves) */
    return best512 < 1.5 * best256;
}
