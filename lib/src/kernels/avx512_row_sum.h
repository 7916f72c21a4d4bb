/* SPDX-License-Identifier: Apache-2.0 */
/* Internal, AVX-512 files only: the row sums of x1 both AVX-512 paths start their int32 sums from
 * (VPDPBUSD multiplies x2 XOR 0x80, i.e. x2 + 128, so each row's sum carries 128 * rowsum(x1),
 * taken back by starting from -128 * rowsum). */
#ifndef QMAR_SRC_KERNELS_AVX512_ROW_SUM_H
#define QMAR_SRC_KERNELS_AVX512_ROW_SUM_H
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
#endif
