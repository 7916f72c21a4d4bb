/* SPDX-License-Identifier: Apache-2.0 */
/* The AVX-512 VNNI kernel's decode path for x2 stored transposed, up to 8 rows of x1, x2 read
 * once in its stored order: ND_T (the n x k matrix row-major, each column of x2 k contiguous
 * bytes; PyTorch's Linear weight as it is stored) column after column, and NZ_T (FRACTAL_NZ of
 * that n x k matrix) strip after strip.
 *
 * ND_T:
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

/* ---- ND_T ---- */

/* 64 bytes at p: all of them (full), or those of mask m, the rest 0 and not read. */
static inline __attribute__((always_inline)) __m512i bytes64(const int8_t *p, int full,
                                                             __mmask64 m)
{
    return full ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8(m, p);
}

/* acc[r][j] += x1 row r's 64 bytes from t times column j's (XOR 0x80), for R rows and the J
 * columns at w (column stride k); `full` or the bytes of m (the last k values). */
static inline __attribute__((always_inline)) void dot_step(const int R, const int J,
                                                           const int8_t *a, int64_t lda,
                                                           const int8_t *w, int64_t k,
                                                           int64_t t, int full, __mmask64 m,
                                                           __m512i acc[][4])
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i x[COLS_ROWS];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        x[r] = bytes64(a + r * lda + t, full, m);
        /* in a register: GCC would otherwise load it again for each of the J columns (as
         * VPDPBUSD's memory operand), from L2 once the rows pass L1's size (8 rows, k = 16384:
         * 21 -> 18 ms) */
        __asm__("" : "+v"(x[r]));
    }
#pragma GCC unroll 4
    for (int j = 0; j < J; j++) {
        __m512i v = _mm512_xor_si512(bytes64(w + j * k + t, full, m), flip);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], v, x[r]);
    }
}

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
    __m512i acc[COLS_ROWS][4];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            acc[r][j] = _mm512_setzero_si512();
    int64_t t = 0;
    for (; t + 64 <= k; t += 64) {
#pragma GCC unroll 4
        for (int j = 0; j < J; j++)
            _mm_prefetch((const char *)ahead + j * k + t, _MM_HINT_T1);
        dot_step(R, J, a, lda, w, k, t, 1, 0, acc);
    }
    if (t < k) /* the last k values (bytes past k are not read) */
        dot_step(R, J, a, lda, w, k, t, 0, _cvtu64_mask64(~0ULL >> (64 - (k - t))), acc);
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

/* ---- NZ_T ----
 * Strip s holds k values 32 s .. 32 s + 31 of every column: column j's 32 bytes at
 * s * strip + 32 j (strip = Align(n, 16) * 32 bytes), so W columns of a strip are 32 W contiguous
 * bytes. A block of W columns is swept strip after strip, a run of 32 W bytes each (what memory
 * wants: long runs), 64 bytes (2 columns x 32 k values) at a time times each row's 32 k values
 * (in both 256-bit halves) into a 16-lane partial sum per row and column pair, kept in the
 * scratch (W as large as lets R rows of them fill it); once the block's strips are done, each
 * half of a partial sum is added up into its column. */

/* The 32 bytes of x1's row from t (those at or past k as 0) in both halves. */
static inline __m512i x1_twice(const int8_t *row, int64_t t, int64_t k)
{
    __mmask32 m = _cvtu32_mask32(k - t >= 32 ? ~0u : ~0u >> (32 - (k - t)));
    return _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi8(m, row + t));
}

static inline int32_t sum8(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* Columns [jb, je) for R rows into c (c[r * ldc + (j - j0)]); part holds R x the block's
 * column pairs of partial sums. */
static inline __attribute__((always_inline)) void strips_block(const int R, const int8_t *a,
                                                               int64_t lda, const qmar__b_src *b,
                                                               int64_t jb, int64_t je, int64_t j0,
                                                               const int32_t *corr, int32_t *c,
                                                               int64_t ldc, __m512i *part)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    int64_t k = b->k, strip = (b->n + 15) / 16 * 16 * 32, pairs = (je - jb + 1) / 2;
    for (int64_t i = 0; i < R * pairs; i++)
        part[i] = _mm512_setzero_si512();
    for (int64_t t = 0; t < k; t += 32) {
        /* this strip's 32 (je - jb) bytes; an odd last column's neighbour is the strip's padding
         * (its rows reach Align(n, 16)) or the next column, read but not stored */
        const int8_t *run = b->x2 + t / 32 * strip + 32 * jb;
        __m512i x[COLS_ROWS];
#pragma GCC unroll 8
        for (int r = 0; r < R; r++)
            x[r] = x1_twice(a + r * lda, t, k);
        for (int64_t p = 0; p < pairs; p++) {
            if (t + 32 < k) /* the same columns of the next strip, into L2 */
                _mm_prefetch((const char *)run + strip + 64 * p, _MM_HINT_T1);
            __m512i v = _mm512_xor_si512(_mm512_loadu_si512(run + 64 * p), flip);
#pragma GCC unroll 8
            for (int r = 0; r < R; r++)
                part[r * pairs + p] = _mm512_dpbusd_epi32(part[r * pairs + p], v, x[r]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int64_t p = 0; p < pairs; p++) { /* modulo 2^32, as the sums are */
            __m512i v = part[r * pairs + p];
            int32_t *at = c + r * ldc + (jb + 2 * p - j0);
            at[0] = (int32_t)((uint32_t)corr[r] + (uint32_t)sum8(_mm512_castsi512_si256(v)));
            if (jb + 2 * p + 1 < je)
                at[1] = (int32_t)((uint32_t)corr[r] +
                                  (uint32_t)sum8(_mm512_extracti64x4_epi64(v, 1)));
        }
}

/* Columns [j0, j1) for R rows, in blocks of as many column pairs as R rows of partial sums fill
 * `bytes` of scratch with. */
static inline __attribute__((always_inline)) void strips(const int R, const int8_t *a,
                                                         int64_t lda, const qmar__b_src *b,
                                                         int64_t j0, int64_t j1,
                                                         const int32_t *corr, int32_t *c,
                                                         int64_t ldc, void *scratch,
                                                         int64_t bytes)
{
    int64_t width = bytes / 64 / R * 2; /* columns per block */
    for (int64_t jb = j0; jb < j1; jb += width)
        strips_block(R, a, lda, b, jb, jb + width < j1 ? jb + width : j1, j0, corr, c, ldc,
                     scratch);
}

#define STRIPS(R)                                                                                  \
    __attribute__((noinline)) static void strips##R(                                              \
        const int8_t *a, int64_t lda, const qmar__b_src *b, int64_t j0, int64_t j1,                \
        const int32_t *corr, int32_t *c, int64_t ldc, void *scratch, int64_t bytes)                \
    {                                                                                              \
        strips(R, a, lda, b, j0, j1, corr, c, ldc, scratch, bytes);                                \
    }
STRIPS(1)
STRIPS(2)
STRIPS(3)
STRIPS(4)
STRIPS(5)
STRIPS(6)
STRIPS(7)
STRIPS(8)
typedef void strips_fn(const int8_t *, int64_t, const qmar__b_src *, int64_t, int64_t,
                       const int32_t *, int32_t *, int64_t, void *, int64_t);
static strips_fn *const strips_of[COLS_ROWS + 1] = {NULL,    strips1, strips2, strips3, strips4,
                                                    strips5, strips6, strips7, strips8};

void qmar__avx512_decode_cols(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                              int64_t j0, int64_t j1, const int32_t *corr, int32_t *c,
                              int64_t ldc, void *scratch, int64_t scratch_bytes)
{
    if (b->layout == QMAR__X2_NZ_T)
        strips_of[rows](a, lda, b, j0, j1, corr, c, ldc, scratch, scratch_bytes);
    else
        dot_columns_of[rows](a, lda, b->x2, b->k, j0, j1, corr, c, ldc);
}
