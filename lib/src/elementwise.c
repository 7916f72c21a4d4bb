/* SPDX-License-Identifier: Apache-2.0 */
/* The scalar element-wise passes: the reference the vector versions are tested against. The
 * per-element formulas are elementwise_scalar.h's. */
#include "elementwise.h"

#include <string.h>

#include "elementwise_scalar.h"
#include "kernels/kernel.h"

static void reduce_y(const uint16_t *const *rows, int32_t nranks, int64_t count, int32_t y,
                     uint16_t *out)
{
    for (int64_t c = 0; c < count; c++)
        out[c] = qmar__ew_reduce_one(rows, nranks, c, y);
}

static void quantize(const uint16_t *e, const uint16_t *s1, int64_t rows, int64_t n, int32_t y,
                     int8_t *q1)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++)
            q1[i * n + j] = qmar__ew_quantize_one(e[i * n + j], s1[j], y);
}

static void sum_requant(const int8_t *const *rows, int32_t nranks, int64_t nrows, int64_t n,
                        const float *ratio, int8_t *out)
{
    for (int64_t i = 0; i < nrows; i++)
        for (int64_t j = 0; j < n; j++)
            out[i * n + j] = qmar__ew_sum_requant_one(rows, nranks, i * n + j, ratio[j]);
}

static void dequantize(const int8_t *q2, const uint16_t *s2, int64_t rows, int64_t n, int32_t y,
                       uint16_t *out)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++)
            out[i * n + j] = qmar__ew_dequantize_one(q2[i * n + j], s2[j], y);
}

const qmar__elementwise qmar__elementwise_scalar = {"scalar", reduce_y, quantize, sum_requant,
                                                    dequantize};

/* Follows the GEMM kernel, which dispatch.c chose only if this CPU and OS run its ISA: the AVX2
 * kernel needs AVX2 + F16C, the AVX-512 and AMX ones everything elementwise_avx512.c uses. */
const qmar__elementwise *qmar__elementwise_select(void)
{
    const char *isa = qmar__kernel_select()->name;
    (void)isa;
#if QMAR_HAVE_AVX512
    if (strcmp(isa, "avx512") == 0 || strcmp(isa, "amx") == 0)
        return &qmar__elementwise_avx512;
#endif
#if QMAR_HAVE_AVX2
    if (strcmp(isa, "avx2") == 0)
        return &qmar__elementwise_avx2;
#endif
    return &qmar__elementwise_scalar;
}
