/* The portable int8 GEMM: plain C, the reference every ISA variant is tested against. */
#include "kernel.h"

static int32_t dot_s8(const int8_t *x, const int8_t *y, int64_t k)
{
    int32_t sum = 0;
    for (int64_t t = 0; t < k; t++)
        sum += (int32_t)x[t] * (int32_t)y[t];
    return sum;
}

static void gemm_portable(const int8_t *a, const int8_t *bt, int32_t *acc, int64_t rows,
                          int64_t n, int64_t k)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++)
            acc[r * n + j] = dot_s8(a + r * k, bt + j * k, k);
}

const qmar__kernel qmar__kernel_portable = {"scalar", gemm_portable};
