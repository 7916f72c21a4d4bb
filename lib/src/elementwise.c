/* The scalar element-wise passes: the reference the vector versions are tested against. */
#include "elementwise.h"

#include <string.h>

#include "fp.h"
#include "kernels/kernel.h"

static void reduce_y(const uint16_t *const *rows, int32_t nranks, int64_t count, int32_t y,
                     uint16_t *out)
{
    for (int64_t c = 0; c < count; c++) {
        float s = qmar__y_to_f32(rows[0][c], y);
        for (int32_t r = 1; r < nranks; r++)
            s = s + qmar__y_to_f32(rows[r][c], y);
        out[c] = qmar__f32_to_y(s, y);
    }
}

/* The FP16 quotient is taken in fp32 and rounded again: innocuous double rounding, since fp32
 * has more than 2*11+2 bits; for BF16 it is what the spec prescribes. */
static void quantize(const uint16_t *e, const uint16_t *s1, int64_t rows, int64_t n, int32_t y,
                     int8_t *q1)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++) {
            float q = qmar__y_to_f32(e[i * n + j], y) / qmar__y_to_f32(s1[j], y);
            q1[i * n + j] = qmar__rint_sat8(qmar__f16_to_f32(qmar__f32_to_f16(q)));
        }
}

static void sum_requant(const int8_t *const *rows, int32_t nranks, int64_t nrows, int64_t n,
                        const float *ratio, int8_t *out)
{
    for (int64_t i = 0; i < nrows; i++)
        for (int64_t j = 0; j < n; j++) {
            int64_t c = i * n + j;
            int32_t s = 0;
            for (int32_t r = 0; r < nranks; r++)
                s += rows[r][c];
            float v = (float)s * ratio[j]; /* |S| <= 1024: exact in fp32 before the product */
            out[c] = qmar__rint_sat8(qmar__f16_to_f32(qmar__f32_to_f16(v)));
        }
}

/* The product of an int8 and a Y value is exact in fp32, so one rounding to Y remains. */
static void dequantize(const int8_t *q2, const uint16_t *s2, int64_t rows, int64_t n, int32_t y,
                       uint16_t *out)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < n; j++)
            out[i * n + j] = qmar__f32_to_y((float)q2[i * n + j] * qmar__y_to_f32(s2[j], y), y);
}

const qmar__elementwise qmar__elementwise_scalar = {"scalar", reduce_y, quantize, sum_requant,
                                                    dequantize};

const qmar__elementwise *qmar__elementwise_select(void)
{
#if QMAR_HAVE_AVX512
    const char *isa = qmar__kernel_select()->name;
    if (strcmp(isa, "avx512") == 0 || strcmp(isa, "amx") == 0)
        return &qmar__elementwise_avx512;
#endif
    return &qmar__elementwise_scalar;
}
