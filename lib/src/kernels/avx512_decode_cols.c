/* SPDX-License-Identifier: Apache-2.0 */
/* The AVX-512 VNNI kernel's decode path for x2 stored transposed (ND_T: the n x k matrix
 * row-major, each column of x2 k contiguous bytes; PyTorch's Linear weight as it is stored):
 * up to 8 rows of x1, x2 read once, column after column.
 *
 * Each output is a dot product of a row of x1 with a column of x2, both contiguous in k, so no
 * rearrangement is needed at all: 64 bytes of a column (XOR 0x80) times 64 bytes of a row of x1
 * in one VPDPBUSD, 16 partial sums a vector, added up across the vector once the column is done.
 * J columns go side by side (J streams, each read end to end: what the hardware prefetchers
 * follow) against R rows of x1 (in L1/L2, reused by the J columns): R x J accumulators, 16 at
 * most. The staged path instead rearranges every 64 k values of 16 columns through a 16 x 16
 * transpose of words and an L1 buffer (measured in avx512_decode.h's caller, avx512.c).
 *
 * The arithmetic is the other paths': (x2 + 128) times x1, each row's sum corrected by
 * -128 * rowsum(x1) (corr); exact modulo 2^32 and the true sum fits in int32 (numerics.md §1),
 * so the sums equal the portable kernel's bit for bit. Past k both operands load as 0, except
 * that x2's 0 becomes 0x80 by the XOR, which meets x1's 0. */
#include "avx512_decode.h"

#include <immintrin.h>

#include "validate.h"

#define COLS_ROWS QMAR__AVX512_COLS_ROWS

/* R rows of x1 (a, row stride lda) times J columns of x2 (w, column stride k) into c
 * (c[r * ldc + j] for j < J): corr[r] plus the dot products. The J columns at `ahead` (the next
 * block's) are asked for into L2 meanwhile, each line as the same line of this block is read:
 * the hardware prefetchers, which also see the rows of x1 go by, fall behind as the rows grow
 * (k = n = 16384, ms without -> with: 1 row 8.7 -> 8.5, 4 rows 13.1 -> 11.2, 8 rows 25.8 ->
 * 21.0; into L1 instead, 1 row 10.3). */
static inline __attribute__((always_inline)) void dot_block(const int R, const int J,
                                                            const int8_t *a, int64_t lda,
                                                            const int8_t *w, int64_t k,
                                                            const int8_t *ahead,
                                                            const int32_t *corr, int32_t *c,
                                                            int64_t ldc)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[COLS_ROWS][4], x[COLS_ROWS];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            acc[r][j] = _mm512_setzero_si512();
    int64_t t = 0;
    for (; t + 64 <= k; t += 64) {
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            x[r] = _mm512_loadu_si512(a + r * lda + t);
            /* in a register: GCC would otherwise load it again for each of the J columns (as
             * VPDPBUSD's memory operand), from L2 once the rows pass L1's size (8 rows, k = 16384:
             * 21 -> 18 ms) */
            __asm__("" : "+v"(x[r]));
        }
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            _mm_prefetch((const char *)ahead + j * k + t, _MM_HINT_T1);
            __m512i v = _mm512_xor_si512(_mm512_loadu_si512(w + j * k + t), flip);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++)
                acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], v, x[r]);
        }
    }
    if (t < k) { /* the last k values: masked loads (bytes past k are not read) */
        __mmask64 m = _cvtu64_mask64(~0ULL >> (64 - (k - t)));
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            x[r] = _mm512_maskz_loadu_epi8(m, a + r * lda + t);
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) {
            __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w + j * k + t), flip);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++)
                acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], v, x[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++) /* modulo 2^32, as the sums are */
            c[r * ldc + j] = (int32_t)((uint32_t)corr[r] +
                                       (uint32_t)_mm512_reduce_add_epi32(acc[r][j]));
}

/* Columns [j0, j1) for R rows: J at a time (as many as keep R x J <= 16 accumulators), then one
 * at a time. */
static inline __attribute__((always_inline)) void dot_columns(const int R, const int8_t *a,
                                                              int64_t lda, const int8_t *x2,
                                                              int64_t k, int64_t j0, int64_t j1,
                                                              const int32_t *corr, int32_t *c,
                                                              int64_t ldc)
{
    const int J = R <= 4 ? 4 : 2;
    int64_t j = j0;
    for (; j + J <= j1; j += J) /* the last block asks for its own lines again */
        dot_block(R, J, a, lda, x2 + j * k, k, x2 + (j + 2 * J <= j1 ? j + J : j) * k, corr,
                  c + (j - j0), ldc);
    for (; j < j1; j++)
        dot_block(R, 1, a, lda, x2 + j * k, k, x2 + (j + 1 < j1 ? j + 1 : j) * k, corr,
                  c + (j - j0), ldc);
}

#define DOT_COLUMNS(R)                                                                             \
    __attribute__((noinline)) static void dot_columns##R(                                         \
        const int8_t *a, int64_t lda, const int8_t *x2, int64_t k, int64_t j0, int64_t j1,         \
        const int32_t *corr, int32_t *c, int64_t ldc)                                              \
    {                                                                                              \
        dot_columns(R, a, lda, x2, k, j0, j1, corr, c, ldc);                                       \
    }
DOT_COLUMNS(1)
DOT_COLUMNS(2)
DOT_COLUMNS(3)
DOT_COLUMNS(4)
DOT_COLUMNS(5)
DOT_COLUMNS(6)
DOT_COLUMNS(7)
DOT_COLUMNS(8)
typedef void dot_columns_fn(const int8_t *, int64_t, const int8_t *, int64_t, int64_t, int64_t,
                            const int32_t *, int32_t *, int64_t);
static dot_columns_fn *const dot_columns_of[COLS_ROWS + 1] = {
    NULL,          dot_columns1, dot_columns2, dot_columns3, dot_columns4,
    dot_columns5, dot_columns6, dot_columns7, dot_columns8};

void qmar__avx512_decode_cols(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                              int64_t j0, int64_t j1, const int32_t *corr, int32_t *c,
                              int64_t ldc)
{
    dot_columns_of[rows](a, lda, b->x2, b->k, j0, j1, corr, c, ldc);
}
