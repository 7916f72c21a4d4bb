/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the element-wise passes around the collectives (numerics.md §4 and §5), in a scalar
 * version (elementwise.c, the reference) and vector versions (kernels/elementwise_*.c) that must
 * give the same bits. Which one runs follows the GEMM kernel's ISA (QMAR_ISA). */
#ifndef QMAR_SRC_ELEMENTWISE_H
#define QMAR_SRC_ELEMENTWISE_H
#include <stdint.h>

typedef struct qmar__elementwise {
    const char *name;
    /* §4: out[c] = rne_Y(fp32 sum over r in rank order of rows[r][c]), c < count (nranks >= 2). */
    void (*reduce_y)(const uint16_t *const *rows, int32_t nranks, int64_t count, int32_t y,
                     uint16_t *out);
    /* §5.1: q1[i][j] = sat8(rint(rne_fp16(e[i][j] / s1[j]))), the quotient in fp32. */
    void (*quantize)(const uint16_t *e, const uint16_t *s1, int64_t rows, int64_t n, int32_t y,
                     int8_t *q1);
    /* §5.2-5.3: out[i][j] = sat8(rint(rne_fp16(rne_fp32(S * ratio[j])))), S = exact sum over r
     * of rows[r][i][j]. */
    void (*sum_requant)(const int8_t *const *rows, int32_t nranks, int64_t nrows, int64_t n,
                        const float *ratio, int8_t *out);
    /* §5.4: out[i][j] = rne_Y(q2[i][j] * s2[j]). */
    void (*dequantize)(const int8_t *q2, const uint16_t *s2, int64_t rows, int64_t n, int32_t y,
                       uint16_t *out);
} qmar__elementwise;

extern const qmar__elementwise qmar__elementwise_scalar;
#if QMAR_HAVE_AVX2
extern const qmar__elementwise qmar__elementwise_avx2;
#endif
#if QMAR_HAVE_AVX512
extern const qmar__elementwise qmar__elementwise_avx512;
#endif

/* The passes for this process: the vector ones when the selected GEMM kernel's ISA has them. */
const qmar__elementwise *qmar__elementwise_select(void);
#endif
