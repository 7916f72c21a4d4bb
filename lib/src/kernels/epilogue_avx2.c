/* SPDX-License-Identifier: Apache-2.0 */
/* numerics.md §1-§3 eight columns at a time (AVX2 + F16C); bit-exact with qmar__epilogue_block
 * (convert_avx2.h and epilogue_avx512.c say why each conversion is exact). Columns that do not
 * fill a vector, and the rare vector whose acc + bias overflows int32, go through the reference. */
#include <immintrin.h>

#include "convert_avx2.h"
#include "epilogue_simd.h"
#include "qmar/qmar.h"

void qmar__epilogue_avx2(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc, int64_t row0,
                         int64_t rows, int64_t j0, int64_t j1, uint16_t *e, int64_t lde)
{
    int bf16 = p->y == QMAR_BF16, pertoken = p->mode == QMAR__DQ_PERTOKEN;
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = row0 + r;
        const int32_t *ar = acc + r * ldacc;
        uint16_t *er = e + r * lde;
        __m256 pt = pertoken ? _mm256_set1_ps(p->pertoken[i]) : _mm256_setzero_ps();
        int64_t j = j0;
        for (; j + 8 <= j1; j += 8) {
            __m256i av = _mm256_loadu_si256((const __m256i *)(ar + (j - j0)));
            __m256i bv = p->bias ? _mm256_loadu_si256((const __m256i *)(p->bias + j))
                                 : _mm256_setzero_si256();
            __m256i s = _mm256_add_epi32(av, bv);
            __m256i ovf = _mm256_and_si256(_mm256_xor_si256(av, s), _mm256_xor_si256(bv, s));
            if (_mm256_movemask_ps(_mm256_castsi256_ps(ovf)) != 0) {
                qmar__epilogue_block(p, ar + (j - j0), ldacc, i, 1, j, j + 8, er + (j - j0), lde);
                continue;
            }
            __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_loadu_ps(p->scale_col + j));
            if (pertoken) {
                x = _mm256_add_ps(x, _mm256_setzero_ps()); /* -0 -> +0 (§2c) */
                x = _mm256_mul_ps(pt, x);
            }
            __m128i d = f32_to_y(x, bf16);
            if (p->x3) {
                __m128i x3 = _mm_loadu_si128((const __m128i *)(p->x3 + i * p->n + j));
                d = f32_to_y(_mm256_add_ps(y_to_f32(d, bf16), y_to_f32(x3, bf16)), bf16);
            }
            _mm_storeu_si128((__m128i *)(er + (j - j0)), d);
        }
        if (j < j1)
            qmar__epilogue_block(p, ar + (j - j0), ldacc, i, 1, j, j1, er + (j - j0), lde);
    }
}
