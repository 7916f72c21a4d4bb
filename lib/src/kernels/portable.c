/* SPDX-License-Identifier: Apache-2.0 */
/* The portable int8 GEMM: plain C, the reference every ISA variant is tested against. Its packed
 * B is x2 transposed (n x k) and its packed A is x1's rows, so each sum is one dot product. */
#include <string.h>

#include "kernel.h"

static int32_t dot_s8(const int8_t *x, const int8_t *y, int64_t k)
{
    int32_t sum = 0;
    for (int64_t t = 0; t < k; t++)
        sum += (int32_t)x[t] * (int32_t)y[t];
    return sum;
}

static uint64_t a_bytes(int64_t rows, int64_t k)
{
    return (uint64_t)rows * (uint64_t)k;
}

static void pack_a(const int8_t *a, int64_t lda, int64_t rows, int64_t k, void *dst)
{
    for (int64_t r = 0; r < rows; r++)
        memcpy((int8_t *)dst + r * k, a + r * lda, (size_t)k);
}

static void gemm(const void *pa, int64_t rows, const void *pb, int64_t k, int64_t n, int64_t j0,
                 int64_t j1, int32_t *c, int64_t ldc)
{
    (void)n;
    const int8_t *a = pa, *bt = pb;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = j0; j < j1; j++)
            c[r * ldc + (j - j0)] = dot_s8(a + r * k, bt + j * k, k);
}

const qmar__kernel qmar__kernel_portable = {
    .name = "scalar",
    .bfmt = {.nr = 1, .group = 1, .kalign = 1, .xor_mask = 0},
    .mr = 1,
    .mc = 32,
    .nc = 256,
    .a_bytes = a_bytes,
    .pack_a = pack_a,
    .gemm = gemm,
    .epilogue = qmar__epilogue_block,
};
