/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the AVX-512 VNNI kernel's decode path (avx512_decode.c), which its gemm_direct hands
 * the fewest rows to. */
#ifndef QMAR_SRC_KERNELS_AVX512_DECODE_H
#define QMAR_SRC_KERNELS_AVX512_DECODE_H
#include <stdint.h>

#include "kernel.h"

/* gemm_direct's contract (kernel.h) for x2 in ND (rows <= 4) or FRACTAL_NZ (rows <= 8): computes
 * c and returns 1; for any other rows or layout does nothing and returns 0. Needs no scratch. */
int qmar__avx512_decode(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                        int64_t j0, int64_t j1, int32_t *c, int64_t ldc);
#endif
