/* SPDX-License-Identifier: Apache-2.0 */
/* numerics.md §1-§3 sixteen columns at a time (AVX-512F/BW/VL/DQ). Bit-exact with
 * qmar__epilogue_block: the int32 sum is converted with one rounding (an exact int64 sum when
 * acc + bias overflows int32), fp32 products round to nearest even (MXCSR, no FTZ/DAZ),
 * VCVTPS2PH with an explicit round-to-nearest-even keeps fp16 denormals and overflows to inf,
 * VCVTPH2PS is exact, and fp32 -> bf16 is done on the bits as in fp.h (VCVTNEPS2BF16 would flush
 * denormals). */
#include <immintrin.h>

#include "convert_avx512.h"
#include "epilogue_simd.h"
#include "qmar/qmar.h"

/* rne_fp32(acc + bias), the sum taken exactly. */
static inline __m512 sum_to_f32(__m512i acc, __m512i bias)
{
    __m512i s = _mm512_add_epi32(acc, bias);
    __m512i ovf = _mm512_and_si512(_mm512_xor_si512(acc, s), _mm512_xor_si512(bias, s));
    if (_mm512_movepi32_mask(ovf) == 0)
        return _mm512_cvtepi32_ps(s);
    __m512i lo = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)),
                                  _mm512_cvtepi32_epi64(_mm512_castsi512_si256(bias)));
    __m512i hi = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1)),
                                  _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(bias, 1)));
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtepi64_ps(lo)),
                              _mm512_cvtepi64_ps(hi), 1);
}

/* Sixteen columns (those of m) from j on; the flags are constants in each instantiation below,
 * so there is no branch but the rare int32 overflow, and so is m in a row's whole vectors, which
 * the compiler then reads and writes with plain loads and stores (a masked load in every
 * iteration made the element-wise passes 1.8-2.9x slower on Zen 5; elementwise_avx512.c). */
static inline __attribute__((always_inline)) void cols16(const qmar__epilogue *p,
                                                         const int32_t *acc, int64_t i,
                                                         int64_t j, int64_t j0, __mmask16 m,
                                                         __m512 pt, uint16_t *e, int bf16,
                                                         int pertoken, int has_bias, int has_x3)
{
    __m512i av = _mm512_maskz_loadu_epi32(m, acc + (j - j0));
    __m512 a = has_bias ? sum_to_f32(av, _mm512_maskz_loadu_epi32(m, p->bias + j))
                        : _mm512_cvtepi32_ps(av);
    __m512 x = _mm512_mul_ps(a, _mm512_maskz_loadu_ps(m, p->scale_col + j));
    if (pertoken) {
        x = _mm512_add_ps(x, _mm512_setzero_ps()); /* -0 -> +0 (§2c) */
        x = _mm512_mul_ps(pt, x);
    }
    __m256i d = f32_to_y(x, bf16);
    if (has_x3) {
        __m256i x3 = _mm256_maskz_loadu_epi16(m, p->x3 + i * p->n + j);
        d = f32_to_y(_mm512_add_ps(y_to_f32(d, bf16), y_to_f32(x3, bf16)), bf16);
    }
    /* in a register first: the compiler would otherwise fuse the narrowing into a masked
     * VPMOVDW / VCVTPS2PH to memory, which Zen 4 runs many times slower */
    __asm__("" : "+v"(d));
    if (m == 0xFFFF) /* a masked store costs more on some cores */
        _mm256_storeu_si256((__m256i *)(e + (j - j0)), d);
    else
        _mm256_mask_storeu_epi16(e + (j - j0), m, d);
}

/* One row: its whole vectors, then the tail. */
static inline __attribute__((always_inline)) void row(const qmar__epilogue *p, const int32_t *acc,
                                                      int64_t i, int64_t j0, int64_t j1,
                                                      uint16_t *e, int bf16, int pertoken,
                                                      int has_bias, int has_x3)
{
    __m512 pt = pertoken ? _mm512_set1_ps(p->pertoken[i]) : _mm512_setzero_ps();
    int64_t j = j0;
    for (; j + 16 <= j1; j += 16)
        cols16(p, acc, i, j, j0, (__mmask16)0xFFFF, pt, e, bf16, pertoken, has_bias, has_x3);
    if (j < j1)
        cols16(p, acc, i, j, j0, (__mmask16)((1u << (j1 - j)) - 1u), pt, e, bf16, pertoken,
               has_bias, has_x3);
}

#define ROWS(BF16, PT, BIAS, X3)                                                                   \
    for (int64_t r = 0; r < rows; r++)                                                             \
        row(p, acc + r * ldacc, row0 + r, j0, j1, e + r * lde, BF16, PT, BIAS, X3);                \
    return

void qmar__epilogue_avx512(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc,
                           int64_t row0, int64_t rows, int64_t j0, int64_t j1, uint16_t *e,
                           int64_t lde)
{
    int flags = (p->y == QMAR_BF16) << 3 | (p->mode == QMAR__DQ_PERTOKEN) << 2 |
                (p->bias != NULL) << 1 | (p->x3 != NULL);
    switch (flags) {
    case 0: ROWS(0, 0, 0, 0);
    case 1: ROWS(0, 0, 0, 1);
    case 2: ROWS(0, 0, 1, 0);
    case 3: ROWS(0, 0, 1, 1);
    case 4: ROWS(0, 1, 0, 0);
    case 5: ROWS(0, 1, 0, 1);
    case 6: ROWS(0, 1, 1, 0);
    case 7: ROWS(0, 1, 1, 1);
    case 8: ROWS(1, 0, 0, 0);
    case 9: ROWS(1, 0, 0, 1);
    case 10: ROWS(1, 0, 1, 0);
    case 11: ROWS(1, 0, 1, 1);
    case 12: ROWS(1, 1, 0, 0);
    case 13: ROWS(1, 1, 0, 1);
    case 14: ROWS(1, 1, 1, 0);
    default: ROWS(1, 1, 1, 1);
    }
}
