/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: Y <-> fp32 on sixteen lanes (AVX-512), bit-exact with fp.h: VCVTPS2PH with an
 * explicit round-to-nearest-even keeps fp16 denormals and overflows to inf, VCVTPH2PS is exact,
 * and fp32 -> bf16 is done on the bits (VCVTNEPS2BF16 would flush denormals). */
#ifndef QMAR_SRC_KERNELS_CONVERT_AVX512_H
#define QMAR_SRC_KERNELS_CONVERT_AVX512_H
#include <immintrin.h>

/* fp.h's qmar__f32_to_bf16 on sixteen lanes. */
static inline __m256i f32_to_bf16(__m512 x)
{
    __m512i b = _mm512_castps_si512(x), hi = _mm512_srli_epi32(b, 16);
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(b, _mm512_set1_epi32(0x7FFFFFFF)),
                                            _mm512_set1_epi32(0x7F800000));
    __m512i bias = _mm512_add_epi32(_mm512_set1_epi32(0x7FFF),
                                    _mm512_and_si512(hi, _mm512_set1_epi32(1)));
    __m512i r = _mm512_srli_epi32(_mm512_add_epi32(b, bias), 16);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(hi, _mm512_set1_epi32(0x40)));
    return _mm512_cvtepi32_epi16(r);
}

static inline __m256i f32_to_y(__m512 x, int bf16)
{
    return bf16 ? f32_to_bf16(x) : _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

static inline __m512 y_to_f32(__m256i h, int bf16)
{
    if (bf16)
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

#endif
