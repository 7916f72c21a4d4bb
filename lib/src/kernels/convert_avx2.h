/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: Y <-> fp32 on eight lanes (AVX2 + F16C), bit-exact with fp.h: VCVTPS2PH with an
 * explicit round-to-nearest-even keeps fp16 denormals and overflows to inf, VCVTPH2PS is exact,
 * and fp32 -> bf16 is done on the bits (as in convert_avx512.h). */
#ifndef QMAR_SRC_KERNELS_CONVERT_AVX2_H
#define QMAR_SRC_KERNELS_CONVERT_AVX2_H
#include <immintrin.h>

/* fp.h's qmar__f32_to_bf16 on eight lanes. */
static inline __m128i f32_to_bf16(__m256 x)
{
    __m256i b = _mm256_castps_si256(x), hi = _mm256_srli_epi32(b, 16);
    __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x7FFFFFFF)),
                                     _mm256_set1_epi32(0x7F800000));
    __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7FFF),
                                    _mm256_and_si256(hi, _mm256_set1_epi32(1)));
    __m256i r = _mm256_srli_epi32(_mm256_add_epi32(b, bias), 16);
    r = _mm256_blendv_epi8(r, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)), nan);
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

static inline __m128i f32_to_y(__m256 x, int bf16)
{
    return bf16 ? f32_to_bf16(x) : _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT);
}

static inline __m256 y_to_f32(__m128i h, int bf16)
{
    if (bf16)
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

#endif
