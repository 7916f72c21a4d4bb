/* SPDX-License-Identifier: Apache-2.0 */
/* The element-wise passes of the collectives eight lanes at a time (AVX2 + F16C), bit-exact with
 * elementwise.c: fp32 arithmetic rounds to nearest even (MXCSR, no FTZ/DAZ, no FMA), the
 * conversions are those of convert_avx2.h, and rint is VROUNDPS to nearest even, clamped after
 * rounding with NaN sent to 0 as sat8 says. AVX2 has no masked 16-bit loads or stores: the
 * columns after the last full vector go through elementwise_scalar.h's per-element formulas. */
#include <immintrin.h>

#include "../elementwise.h"
#include "../elementwise_scalar.h"
#include "convert_avx2.h"
#include "qmar/qmar.h"

/* sat8(rint(v)) on eight lanes, in the low eight bytes. */
static inline __m128i rint_sat8(__m256 v)
{
    __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    __m256 r = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_min_ps(_mm256_max_ps(r, _mm256_set1_ps(-128.0f)), _mm256_set1_ps(127.0f));
    r = _mm256_andnot_ps(nan, r);     /* NaN -> +0 */
    __m256i i = _mm256_cvtps_epi32(r); /* integral and in range: exact */
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
    return _mm_packs_epi16(w, w);
}

/* rne_fp16 and back: the fp16 rounding step of §5. */
static inline __m256 via_fp16(__m256 v)
{
    return y_to_f32(f32_to_y(v, 0), 0);
}

static inline __m256 load_y(const uint16_t *at, int bf16)
{
    return y_to_f32(_mm_loadu_si128((const __m128i *)at), bf16);
}

static inline __m256i load_i8(const int8_t *at)
{
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)at));
}

static void reduce_y(const uint16_t *const *rows, int32_t nranks, int64_t count, int32_t y,
                     uint16_t *out)
{
    int bf16 = y == QMAR_BF16;
    int64_t c = 0;
    for (; c + 8 <= count; c += 8) {
        __m256 s = load_y(rows[0] + c, bf16);
        for (int32_t r = 1; r < nranks; r++) /* rank order, fp32 */
            s = _mm256_add_ps(s, load_y(rows[r] + c, bf16));
        _mm_storeu_si128((__m128i *)(out + c), f32_to_y(s, bf16));
    }
    for (; c < count; c++)
        out[c] = qmar__ew_reduce_one(rows, nranks, c, y);
}

static void quantize(const uint16_t *e, const uint16_t *s1, int64_t rows, int64_t n, int32_t y,
                     int8_t *q1)
{
    int bf16 = y == QMAR_BF16;
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = 0;
        for (; j + 8 <= n; j += 8) {
            __m256 q = _mm256_div_ps(load_y(e + i * n + j, bf16), load_y(s1 + j, bf16));
            _mm_storel_epi64((__m128i *)(q1 + i * n + j), rint_sat8(via_fp16(q)));
        }
        for (; j < n; j++)
            q1[i * n + j] = qmar__ew_quantize_one(e[i * n + j], s1[j], y);
    }
}

static void sum_requant(const int8_t *const *rows, int32_t nranks, int64_t nrows, int64_t n,
                        const float *ratio, int8_t *out)
{
    for (int64_t i = 0; i < nrows; i++) {
        int64_t j = 0;
        for (; j + 8 <= n; j += 8) {
            int64_t c = i * n + j;
            __m256i s = _mm256_setzero_si256();
            for (int32_t r = 0; r < nranks; r++)
                s = _mm256_add_epi32(s, load_i8(rows[r] + c));
            __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_loadu_ps(ratio + j));
            _mm_storel_epi64((__m128i *)(out + c), rint_sat8(via_fp16(v)));
        }
        for (; j < n; j++)
            out[i * n + j] = qmar__ew_sum_requant_one(rows, nranks, i * n + j, ratio[j]);
    }
}

static void dequantize(const int8_t *q2, const uint16_t *s2, int64_t rows, int64_t n, int32_t y,
                       uint16_t *out)
{
    int bf16 = y == QMAR_BF16;
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = 0;
        for (; j + 8 <= n; j += 8) {
            __m256 q = _mm256_cvtepi32_ps(load_i8(q2 + i * n + j));
            __m256 v = _mm256_mul_ps(q, load_y(s2 + j, bf16));
            _mm_storeu_si128((__m128i *)(out + i * n + j), f32_to_y(v, bf16));
        }
        for (; j < n; j++)
            out[i * n + j] = qmar__ew_dequantize_one(q2[i * n + j], s2[j], y);
    }
}

const qmar__elementwise qmar__elementwise_avx2 = {"avx2", reduce_y, quantize, sum_requant,
                                                  dequantize};
