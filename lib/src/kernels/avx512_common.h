/* SPDX-License-Identifier: Apache-2.0 */
/* Internal, AVX-512 files only: what the packed, staged and decode paths share. They all multiply
 * x2 XOR 0x80 (x2 + 128, VPDPBUSD's unsigned operand) by x1, so each row's int32 sums start from
 * -128 * rowsum(x1), and they all keep R rows x 64 columns of sums in R x 4 registers. */
#ifndef QMAR_SRC_KERNELS_AVX512_COMMON_H
#define QMAR_SRC_KERNELS_AVX512_COMMON_H
#include <immintrin.h>
#include <stdint.h>

/* Sum of k signed bytes: sums of (x ^ 0x80) = x + 128 as unsigned, minus 128 k. */
static inline int32_t row_sum(const int8_t *x, int64_t k)
{
    __m512i acc = _mm512_setzero_si512(), flip = _mm512_set1_epi8((char)0x80);
    int64_t t = 0;
    for (; t + 64 <= k; t += 64)
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(x + t),
                                                                      flip),
                                                     _mm512_setzero_si512()));
    if (t < k) { /* the lanes beyond k load as 0 and stay 0 */
        __mmask64 m = _cvtu64_mask64(~0ULL >> (64 - (k - t)));
        __m512i v = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + t),
                                                               flip));
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, _mm512_setzero_si512()));
    }
    return (int32_t)(_mm512_reduce_add_epi64(acc) - 128 * k);
}

/* acc (R rows x 64 columns) = first ? every row's start init[r] : the sums so far in c. Inlined
 * into each micro-kernel, so acc stays in registers. */
static inline __attribute__((always_inline)) void acc_start(__m512i acc[][4], const int R,
                                                            const int first,
                                                            const int32_t *init,
                                                            const int32_t *c, int64_t ldc)
{
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            acc[r][q] = first ? _mm512_set1_epi32(init[r])
                              : _mm512_load_si512(c + r * ldc + 16 * q);
}

static inline __attribute__((always_inline)) void acc_store(__m512i acc[][4], const int R,
                                                            int32_t *c, int64_t ldc)
{
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            _mm512_store_si512(c + r * ldc + 16 * q, acc[r][q]);
}
#endif
