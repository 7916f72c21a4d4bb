/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the AVX-512 VNNI kernel's decode path (avx512_decode.c), which its gemm_direct hands
 * the fewest rows to. */
#ifndef QMAR_SRC_KERNELS_AVX512_DECODE_H
#define QMAR_SRC_KERNELS_AVX512_DECODE_H
#include <stdint.h>

#include "kernel.h"

/* Rows of x1 the decode path serves with x2 transposed (ND_T, NZ_T). */
#define QMAR__AVX512_COLS_ROWS 8

/* gemm_direct's contract (kernel.h) for x2 in ND (rows <= 4), FRACTAL_NZ (rows <= 16) or
 * transposed (ND_T, NZ_T: rows <= QMAR__AVX512_COLS_ROWS): computes c and returns 1; for any
 * other rows or layout does nothing and returns 0. NZ_T uses scratch_bytes (at least 1 KiB, a
 * multiple of 64) of 64-byte aligned scratch. */
int qmar__avx512_decode(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                        int64_t j0, int64_t j1, int32_t *c, int64_t ldc, void *scratch,
                        int64_t scratch_bytes);

/* Its transposed part (avx512_decode_cols.c): the same for x2 in ND_T or NZ_T, the rows'
 * corrections (-128 * rowsum) given. */
void qmar__avx512_decode_cols(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                              int64_t j0, int64_t j1, const int32_t *corr, int32_t *c,
                              int64_t ldc, void *scratch, int64_t scratch_bytes);
#endif
