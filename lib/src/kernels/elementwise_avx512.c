/* SPDX-License-Identifier: Apache-2.0 */
/* The element-wise passes of the collectives sixteen lanes at a time (AVX-512F/BW/VL/DQ),
 * bit-exact with elementwise.c: fp32 arithmetic rounds to nearest even (MXCSR, no FTZ/DAZ), the
 * conversions are those of convert_avx512.h, and rint is VRNDSCALEPS to nearest even, clamped
 * after rounding with NaN sent to 0 as sat8 says. */
#include <immintrin.h>

#include "../elementwise.h"
#include "convert_avx512.h"
#include "qmar/qmar.h"

static inline __mmask16 lanes(int64_t left)
{
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

/* sat8(rint(v)) on sixteen lanes. */
static inline __m128i rint_sat8(__m512 v)
{
    __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    __m512 r = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm512_min_ps(_mm512_max_ps(r, _mm512_set1_ps(-128.0f)), _mm512_set1_ps(127.0f));
    r = _mm512_mask_mov_ps(r, nan, _mm512_setzero_ps());
    return _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(r)); /* integral and in range: exact */
}

/* rne_fp16 and back: the fp16 rounding step of §5. */
static inline __m512 via_fp16(__m512 v)
{
    return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

static inline void store_y(uint16_t *at, __mmask16 m, __m256i v)
{
    __asm__("" : "+v"(v)); /* keep the narrowing in a register (see epilogue_avx512.c) */
    if (m == 0xFFFF)
        _mm256_storeu_si256((__m256i *)at, v);
    else
        _mm256_mask_storeu_epi16(at, m, v);
}

static inline __m512 load_y(const uint16_t *at, __mmask16 m, int bf16)
{
    return y_to_f32(_mm256_maskz_loadu_epi16(m, at), bf16);
}

/* Each pass below runs its whole vectors with the constant mask FULL, which the compiler folds
 * into plain loads and stores, and only a tail with a computed one: masked loads in every
 * iteration made reduce_y 1.8-2.9x slower (1 MiB of BF16 rows from two ranks, Zen 5). */
#define FULL ((__mmask16)0xFFFF)

static inline void reduce_lanes(const uint16_t *const *rows, int32_t nranks, int64_t c,
                                __mmask16 m, int bf16, uint16_t *out)
{
    __m512 s = load_y(rows[0] + c, m, bf16);
    for (int32_t r = 1; r < nranks; r++) /* rank order, fp32 */
        s = _mm512_add_ps(s, load_y(rows[r] + c, m, bf16));
    store_y(out + c, m, f32_to_y(s, bf16));
}

static void reduce_y(const uint16_t *const *rows, int32_t nranks, int64_t count, int32_t y,
                     uint16_t *out)
{
    int bf16 = y == QMAR_BF16;
    int64_t c = 0;
    for (; c + 16 <= count; c += 16)
        reduce_lanes(rows, nranks, c, FULL, bf16, out);
    if (c < count)
        reduce_lanes(rows, nranks, c, lanes(count - c), bf16, out);
}

static inline void quantize_lanes(const uint16_t *e, const uint16_t *s1, int64_t j, __mmask16 m,
                                  int bf16, int8_t *q1)
{
    __m512 q = _mm512_maskz_div_ps(m, load_y(e + j, m, bf16), load_y(s1 + j, m, bf16));
    _mm_mask_storeu_epi8(q1 + j, m, rint_sat8(via_fp16(q)));
}

static void quantize(const uint16_t *e, const uint16_t *s1, int64_t rows, int64_t n, int32_t y,
                     int8_t *q1)
{
    int bf16 = y == QMAR_BF16;
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = 0;
        for (; j + 16 <= n; j += 16)
            quantize_lanes(e + i * n, s1, j, FULL, bf16, q1 + i * n);
        if (j < n)
            quantize_lanes(e + i * n, s1, j, lanes(n - j), bf16, q1 + i * n);
    }
}

static inline void requant_lanes(const int8_t *const *rows, int32_t nranks, int64_t c,
                                 const float *ratio, __mmask16 m, int8_t *out)
{
    __m512i s = _mm512_setzero_si512();
    for (int32_t r = 0; r < nranks; r++)
        s = _mm512_add_epi32(s, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, rows[r] + c)));
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_maskz_loadu_ps(m, ratio));
    _mm_mask_storeu_epi8(out + c, m, rint_sat8(via_fp16(v)));
}

static void sum_requant(const int8_t *const *rows, int32_t nranks, int64_t nrows, int64_t n,
                        const float *ratio, int8_t *out)
{
    for (int64_t i = 0; i < nrows; i++) {
        int64_t j = 0;
        for (; j + 16 <= n; j += 16)
            requant_lanes(rows, nranks, i * n + j, ratio + j, FULL, out);
        if (j < n)
            requant_lanes(rows, nranks, i * n + j, ratio + j, lanes(n - j), out);
    }
}

static inline void dequantize_lanes(const int8_t *q2, const uint16_t *s2, int64_t j, __mmask16 m,
                                    int bf16, uint16_t *out)
{
    __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, q2 + j)));
    store_y(out + j, m, f32_to_y(_mm512_mul_ps(q, load_y(s2 + j, m, bf16)), bf16));
}

static void dequantize(const int8_t *q2, const uint16_t *s2, int64_t rows, int64_t n, int32_t y,
                       uint16_t *out)
{
    int bf16 = y == QMAR_BF16;
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = 0;
        for (; j + 16 <= n; j += 16)
            dequantize_lanes(q2 + i * n, s2, j, FULL, bf16, out + i * n);
        if (j < n)
            dequantize_lanes(q2 + i * n, s2, j, lanes(n - j), bf16, out + i * n);
    }
}

const qmar__elementwise qmar__elementwise_avx512 = {"avx512", reduce_y, quantize, sum_requant,
                                                    dequantize};
