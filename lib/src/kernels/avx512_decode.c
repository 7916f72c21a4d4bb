/* SPDX-License-Identifier: Apache-2.0 */
/* The AVX-512 VNNI kernel's decode path: a few rows of x1 (LLM decode: up to 4 with x2 stored in
 * ND, row-major k x n, up to 16 in FRACTAL_NZ; transposed x2: avx512_decode_cols.c), x2 read
 * once, in its stored order, by few streams.
 *
 * With so few rows each byte of x2 meets at most 16 multiply-adds, so the time is that of reading
 * x2 from memory: the loop must keep the memory busy, i.e. read x2 the way a plain copy would, in
 * long sequential runs the hardware prefetchers follow. The staged path (avx512.c) rearranges
 * 64 rows x 512 columns through an L1 buffer: 64 streams a row apart, a store and a reload of
 * every byte. Here x2 goes from its load straight to the multiply-adds, rearranged in registers:
 *
 *   FRACTAL_NZ: each strip of 32 columns (k x 32 bytes, contiguous) is walked down k, one
 *     128-byte piece (4 k values x 32 columns) at a time: one stream, read end to end. Two
 *     VPERMT2D and two VPSHUFB make of a piece the two VNNI vectors of columns 0-15 and 16-31
 *     (4 consecutive k values of a column in each 32-bit lane).
 *   ND: bands of `band` rows of x2 are swept across the columns, 64 columns at a time, the
 *     accumulators of those columns in registers while the band's rows go by (one stream per row
 *     of the band). 4 rows of 64 bytes become 4 VNNI vectors by 8 byte/word unpacks; unpacks
 *     work within 128-bit lanes, so the accumulators hold the 64 columns in the order
 *     16 L + 4 q + i (vector q, lane L, element i); c is kept in that order until every band is
 *     in, then put back in column order once.
 *
 * The arithmetic is the staged path's: x2 XOR 0x80 (uint8) times x1 (int8, 4 bytes broadcast),
 * the sums starting from -128 * rowsum(x1); exact in int32 (numerics.md §1), so the sums equal
 * the portable kernel's bit for bit. x1's bytes past k count as 0, so whatever x2 holds there
 * (NZ padding rows) adds nothing. */
#include "avx512_decode.h"

#include <immintrin.h>
#include <string.h>

#include "avx512_common.h"
#include "cpu.h"
#include "validate.h"

/* Rows per pass: as many as keep 16 accumulators in registers (ND: 4 rows x 64 columns; NZ: 8 rows
 * x 32 columns), beside the vectors of x2 and their rearrangement. NZ takes two passes. */
#define ND_ROWS 4
#define NZ_ROWS 8

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

/* x1[t .. t+3] of one row as a 32-bit word, the bytes at or past k as 0 (never read). */
static inline int32_t x1_word(const int8_t *row, int64_t t, int64_t k)
{
    uint32_t w = 0;
    if (t + 4 <= k)
        memcpy(&w, row + t, 4);
    else
        for (int64_t i = 0; t + i < k; i++)
            w |= (uint32_t)(uint8_t)row[t + i] << (8 * i);
    return (int32_t)w;
}

/* ---- FRACTAL_NZ ---- */

/* The 128 bytes at p (k values t .. t+3 of a strip's 32 columns, 32 bytes each) as the VNNI
 * vectors of columns 0-15 (*b0) and 16-31 (*b1), XOR 0x80. */
static inline void nz_piece(const int8_t *p, __m512i *b0, __m512i *b1)
{
    /* lane L of b0 gathers the 32-bit words of columns 4L..4L+3 of the 4 k values (word L of each
     * 32-byte row: k value i at word 8 i + L of the two sources), then VPSHUFB transposes each
     * lane's 4 x 4 bytes so that a word holds one column's 4 k values */
    const __m512i lo = _mm512_setr_epi32(0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(4));
    const __m512i tr = _mm512_broadcast_i32x4(
        _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 64);
    *b0 = _mm512_xor_si512(_mm512_shuffle_epi8(_mm512_permutex2var_epi32(v0, lo, v1), tr), flip);
    *b1 = _mm512_xor_si512(_mm512_shuffle_epi8(_mm512_permutex2var_epi32(v0, hi, v1), tr), flip);
}

/* R rows of x1 times k values [t0, t1) of one strip (s: its k x 32 bytes, rows padded to 16;
 * t0 a multiple of 4) into c's 32 columns: c starts from the rows' corrections (first) or from
 * its own value. */
static inline __attribute__((always_inline)) void nz_strip(const int R, const int8_t *a,
                                                           int64_t lda, const int8_t *s,
                                                           int64_t t0, int64_t t1, int64_t k,
                                                           int first, const int32_t *corr,
                                                           int32_t *c, int64_t ldc)
{
    __m512i acc[NZ_ROWS][2];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        acc[r][0] = first ? _mm512_set1_epi32(corr[r]) : _mm512_load_si512(c + r * ldc);
        acc[r][1] = first ? _mm512_set1_epi32(corr[r]) : _mm512_load_si512(c + r * ldc + 16);
    }
    int64_t kfull = k / 4 * 4, tend = t1 < kfull ? t1 : kfull;
    for (int64_t t = t0; t < tend; t += 4) { /* one stream: the hardware prefetchers follow it */
        __m512i b0, b1;
        nz_piece(s + 32 * t, &b0, &b1);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            int32_t w;
            memcpy(&w, a + r * lda + t, 4);
            __m512i av = _mm512_set1_epi32(w);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, av);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, av);
        }
    }
    if (t1 >= k && kfull < k) { /* the strip's rows reach Align(k, 16): this piece is in them */
        __m512i b0, b1;
        nz_piece(s + 32 * kfull, &b0, &b1);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512i av = _mm512_set1_epi32(x1_word(a + r * lda, kfull, k));
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, av);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, av);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        _mm512_store_si512(c + r * ldc, acc[r][0]);
        _mm512_store_si512(c + r * ldc + 16, acc[r][1]);
    }
}

#define NZ_STRIP(R)                                                                                \
    __attribute__((noinline)) static void nz_strip##R(                                            \
        const int8_t *a, int64_t lda, const int8_t *s, int64_t t0, int64_t t1, int64_t k,          \
        int first, const int32_t *corr, int32_t *c, int64_t ldc)                                   \
    {                                                                                              \
        nz_strip(R, a, lda, s, t0, t1, k, first, corr, c, ldc);                                    \
    }
NZ_STRIP(1)
NZ_STRIP(2)
NZ_STRIP(3)
NZ_STRIP(4)
NZ_STRIP(5)
NZ_STRIP(6)
NZ_STRIP(7)
NZ_STRIP(8)

typedef void nz_strip_fn(const int8_t *, int64_t, const int8_t *, int64_t, int64_t, int64_t, int,
                         const int32_t *, int32_t *, int64_t);
static nz_strip_fn *const nz_strips[NZ_ROWS + 1] = {NULL,      nz_strip1, nz_strip2,
                                                    nz_strip3, nz_strip4, nz_strip5,
                                                    nz_strip6, nz_strip7, nz_strip8};

/* The strips holding columns [j0, j1) (j0 a multiple of 64), in storage order: one stream. Past
 * NZ_ROWS rows (which keep their accumulators in registers) a strip is taken in chunks of k
 * that stay in L2, each met by every pass of up to NZ_ROWS rows, so x2 still comes from memory
 * once (Zen 5, k = n = 16384, ms against the staged path: m = 12 15.1 / 18.9, 16 17.7 / 20.5). */
static void nz_decode(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                      int64_t j0, int64_t j1, const int32_t *corr, int32_t *c, int64_t ldc)
{
    const qmar__cpu *cpu = qmar__cpu_facts();
    int64_t k = b->k, strip = align_up(k, 16) * 32, chunk = k;
    if (rows > NZ_ROWS) { /* a quarter of L2: the chunk (32 bytes per k value) and c stay */
        int64_t l2 = cpu->l2 / (cpu->l2_sharing > 1 ? cpu->l2_sharing : 1);
        chunk = l2 / 4 / 32 / 64 * 64;
        chunk = chunk < 64 ? 64 : chunk;
    }
    for (int64_t j = j0; j < j1; j += 32)
        for (int64_t t0 = 0; t0 < k; t0 += chunk)
            for (int64_t r = 0; r < rows; r += NZ_ROWS)
                nz_strips[rows - r < NZ_ROWS ? rows - r : NZ_ROWS](
                    a + r * lda, lda, b->x2 + j / 32 * strip, t0, t0 + chunk < k ? t0 + chunk : k,
                    k, t0 == 0, corr + r, c + r * ldc + (j - j0), ldc);
}

/* ---- ND ---- */

/* Rows t .. t+3 of 64 columns (r0..r3) as 4 VNNI vectors, XOR 0x80: vector q, lane L holds
 * columns 16 L + 4 q .. 16 L + 4 q + 3. */
static inline void nd_group(__m512i r0, __m512i r1, __m512i r2, __m512i r3, __m512i b[4])
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    r0 = _mm512_xor_si512(r0, flip), r1 = _mm512_xor_si512(r1, flip);
    r2 = _mm512_xor_si512(r2, flip), r3 = _mm512_xor_si512(r3, flip);
    __m512i lo01 = _mm512_unpacklo_epi8(r0, r1), hi01 = _mm512_unpackhi_epi8(r0, r1);
    __m512i lo23 = _mm512_unpacklo_epi8(r2, r3), hi23 = _mm512_unpackhi_epi8(r2, r3);
    b[0] = _mm512_unpacklo_epi16(lo01, lo23), b[1] = _mm512_unpackhi_epi16(lo01, lo23);
    b[2] = _mm512_unpacklo_epi16(hi01, hi23), b[3] = _mm512_unpackhi_epi16(hi01, hi23);
}

/* Row p of x2 at 64 columns, `w` of them real (the rest load as 0 and are not read). */
static inline __m512i nd_line(const int8_t *p, int64_t w)
{
    if (w >= 64)
        return _mm512_loadu_si512(p);
    return _mm512_maskz_loadu_epi8(_cvtu64_mask64(~0ULL >> (64 - w)), p);
}

/* Where the next band's lines are asked for into L2, in memory order (along its rows of the
 * sweep's columns, then down): `at`, up to the end of its row `row_end` (the sweep's last column),
 * `rows` rows still to come; `span` the sweep's columns, `n` x2's row length. Kept in registers
 * by the band's loop. */
typedef struct nd_ahead {
    uintptr_t at, row_end;
    int64_t rows, span, n;
} nd_ahead;

/* The next 4 lines of the next band: one call per group of the sweep, whose groups are as many
 * as the band's runs of 4 lines (the band's rows are a multiple of 4 but for the last, which has
 * no next). A run may reach up to 3 lines past a row's last column (bytes of the next row when
 * the sweep spans all of n); the next row's run starts at its first column. Addresses as
 * integers: they may lie past x2's end (a prefetch never faults). */
static inline __attribute__((always_inline)) void nd_ask(nd_ahead *f)
{
    if (f->rows <= 0)
        return;
    _mm_prefetch((const char *)f->at, _MM_HINT_T1);
    _mm_prefetch((const char *)(f->at + 64), _MM_HINT_T1);
    _mm_prefetch((const char *)(f->at + 128), _MM_HINT_T1);
    _mm_prefetch((const char *)(f->at + 192), _MM_HINT_T1);
    f->at += 256;
    if (f->at >= f->row_end) {
        f->row_end += (uintptr_t)f->n;
        f->at = f->row_end - (uintptr_t)f->span;
        f->rows--;
    }
}

/* R rows of x1 times one band, rows [t0, t1) of x2, swept across the columns [j0, j1) 64 at a
 * time (p: x2's row t0 at column j0, rows n bytes apart), the accumulators of each 64 columns in
 * registers while the band's rows go by: c (permuted order) starts from the rows' corrections
 * (first) or its own value. One call per band, so that each 64 columns cost only their
 * accumulators' load and store: per 64 columns the band's groups are few (4 for 16 rows), and
 * a call and prefetch loop per 64 columns cost as much as their arithmetic (Zen 4, x2 in L2:
 * 20-24 GB/s at m = 4, for 55 with long bands). */
static inline __attribute__((always_inline)) void
nd_band(const int R, const int8_t *a, int64_t lda, const int8_t *p, int64_t n, int64_t t0,
        int64_t t1, int64_t k, int64_t j0, int64_t j1, int first, const int32_t *corr,
        int32_t *c, int64_t ldc, const nd_ahead *next)
{
    nd_ahead ahead = *next;
    int64_t tfull = t0 + (t1 - t0) / 4 * 4;
    for (int64_t s = j0; s < j1; s += 64, p += 64) {
        int64_t w = j1 - s, t = t0;
        const int8_t *q = p;
        int32_t *cs = c + (s - j0);
        __m512i acc[ND_ROWS][4];
        acc_start(acc, R, first, corr, cs, ldc);
        if (w >= 64) {
            for (; t < tfull; t += 4, q += 4 * n) {
                __m512i bv[4];
                nd_ask(&ahead);
                nd_group(_mm512_loadu_si512(q), _mm512_loadu_si512(q + n),
                         _mm512_loadu_si512(q + 2 * n), _mm512_loadu_si512(q + 3 * n), bv);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    int32_t wd;
                    memcpy(&wd, a + r * lda + t, 4);
                    __m512i av = _mm512_set1_epi32(wd);
#pragma GCC unroll 4
                    for (int e = 0; e < 4; e++)
                        acc[r][e] = _mm512_dpbusd_epi32(acc[r][e], bv[e], av);
                }
            }
        }
        for (; t < t1; t += 4, q += 4 * n) { /* the last columns, or the last rows (past k: 0) */
            __m512i z = _mm512_setzero_si512(), bv[4];
            nd_group(nd_line(q, w), t + 1 < k ? nd_line(q + n, w) : z,
                     t + 2 < k ? nd_line(q + 2 * n, w) : z, t + 3 < k ? nd_line(q + 3 * n, w) : z,
                     bv);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                __m512i av = _mm512_set1_epi32(x1_word(a + r * lda, t, k));
#pragma GCC unroll 4
                for (int e = 0; e < 4; e++)
                    acc[r][e] = _mm512_dpbusd_epi32(acc[r][e], bv[e], av);
            }
        }
        acc_store(acc, R, cs, ldc);
    }
}

#define ND_BAND(R)                                                                                 \
    __attribute__((noinline)) static void nd_band##R(                                             \
        const int8_t *a, int64_t lda, const int8_t *p, int64_t n, int64_t t0, int64_t t1,          \
        int64_t k, int64_t j0, int64_t j1, int first, const int32_t *corr, int32_t *c,             \
        int64_t ldc, const nd_ahead *next)                                                         \
    {                                                                                              \
        nd_band(R, a, lda, p, n, t0, t1, k, j0, j1, first, corr, c, ldc, next);                    \
    }
ND_BAND(1)
ND_BAND(2)
ND_BAND(3)
ND_BAND(4)

typedef void nd_band_fn(const int8_t *, int64_t, const int8_t *, int64_t, int64_t, int64_t,
                        int64_t, int64_t, int64_t, int, const int32_t *, int32_t *, int64_t,
                        const nd_ahead *);
static nd_band_fn *const nd_bands[ND_ROWS + 1] = {NULL, nd_band1, nd_band2, nd_band3, nd_band4};

/* 64 columns of one row of c from the order 16 L + 4 q + i (vector q, lane L) to column order:
 * a 4 x 4 transpose of 128-bit lanes. */
static void nd_unpermute(int32_t *c)
{
    __m512i q0 = _mm512_load_si512(c), q1 = _mm512_load_si512(c + 16);
    __m512i q2 = _mm512_load_si512(c + 32), q3 = _mm512_load_si512(c + 48);
    __m512i lo01 = _mm512_shuffle_i64x2(q0, q1, 0x44), hi01 = _mm512_shuffle_i64x2(q0, q1, 0xEE);
    __m512i lo23 = _mm512_shuffle_i64x2(q2, q3, 0x44), hi23 = _mm512_shuffle_i64x2(q2, q3, 0xEE);
    _mm512_store_si512(c, _mm512_shuffle_i64x2(lo01, lo23, 0x88));
    _mm512_store_si512(c + 16, _mm512_shuffle_i64x2(lo01, lo23, 0xDD));
    _mm512_store_si512(c + 32, _mm512_shuffle_i64x2(hi01, hi23, 0x88));
    _mm512_store_si512(c + 48, _mm512_shuffle_i64x2(hi01, hi23, 0xDD));
}

/* Rows of x2 per band: each is a stream of its own, and while one band is swept the next is
 * asked for (into L2, a band's worth ahead), so L2 holds two bands and the int32 block
 * (`c_bytes`): the largest power of two that lets it, from 4 (one group) to 16. Pure reads of
 * 64 bytes per row, band by band across 16 KiB rows, measured on Zen 4 (loaded machine, GB/s):
 * 8 rows 24, 16 rows 22, 32 rows 13, 64 rows 10 (the staged path's 64): the prefetchers follow a
 * few streams, not dozens; that is the cap. */
static int64_t nd_band_rows(int64_t width, int64_t c_bytes)
{
    const qmar__cpu *cpu = qmar__cpu_facts();
    int64_t l2 = cpu->l2 / (cpu->l2_sharing > 1 ? cpu->l2_sharing : 1);
    int64_t band = 4;
    while (band < 16 && c_bytes + 2 * (2 * band) * width <= l2)
        band *= 2;
    return band;
}

/* Bands of rows swept across all the columns [j0, j1), 64 at a time; the next band's lines are
 * prefetched into L2 as this band is swept (4 lines per group, in memory order: along the
 * band's rows of [j0, j1), which for j0 = 0, j1 = n is one region of band * n bytes read end to
 * end). What was measured on Zen 4 (m = 4, thread CPU time, loaded machine):
 *  - where the time went: with x2 in L2 the old loop (a call per 64 columns, each with its own
 *    setup and a burst of `band` prefetches) ran at 20-24 GB/s whether or not c stayed in L1,
 *    against 55 GB/s for bands of 1024 rows: per 64 columns a band of 16 rows has 4 groups, and
 *    the call and prefetch loop cost about as much; one call per band and the prefetches spread
 *    over the groups took k = n = 16384 from 14-18 to 15-21 GB/s, faster in every round
 *    (bench_gemm: ND / NZ from 0.68-0.74 to 0.84-0.86).
 *  - narrower sweeps with deeper bands (c for fewer columns, rows read in runs of 2-8 KiB):
 *    8 KiB x 32 rows the same within noise, 4 KiB x 64 and 2 KiB x 64 rows 10-30 % slower, and
 *    a prefetch of the same columns of the next band (a line per row) slower still: memory
 *    wants the long runs.
 *  - n a multiple of 4096 puts a band's lines of the same columns in one L1 set: n = 16448
 *    reads about 7 % faster than 16384. Not worked around. */
static void nd_decode(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                      int64_t j0, int64_t j1, const int32_t *corr, int32_t *c, int64_t ldc)
{
    int64_t k = b->k, n = b->n, width = align_up(j1 - j0, 64);
    int64_t band = nd_band_rows(width, rows * width * 4);
    for (int64_t t0 = 0; t0 < k || t0 == 0; t0 += band) {
        int64_t t1 = t0 + band < k ? t0 + band : k;
        int64_t nt1 = t1 + band < k ? t1 + band : k;
        uintptr_t next_row = (uintptr_t)b->x2 + (uintptr_t)(t1 * n + j0);
        nd_ahead ahead = {next_row, next_row + (uintptr_t)(j1 - j0), nt1 - t1, j1 - j0, n};
        nd_bands[rows](a, lda, b->x2 + t0 * n + j0, n, t0, t1, k, j0, j1, t0 == 0, corr, c, ldc,
                       &ahead);
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t s = j0; s < j1; s += 64)
            nd_unpermute(c + r * ldc + (s - j0));
}

int qmar__avx512_decode(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                        int64_t j0, int64_t j1, int32_t *c, int64_t ldc, void *scratch,
                        int64_t scratch_bytes)
{
    int64_t most = b->layout == QMAR__X2_ND     ? ND_ROWS
                   : b->layout == QMAR__X2_NZ   ? 2 * NZ_ROWS
                   : b->layout == QMAR__X2_ND_T || b->layout == QMAR__X2_NZ_T
                       ? QMAR__AVX512_COLS_ROWS
                       : 0;
    if (rows < 1 || rows > most)
        return 0;
    int32_t corr[2 * NZ_ROWS > QMAR__AVX512_COLS_ROWS ? 2 * NZ_ROWS : QMAR__AVX512_COLS_ROWS];
    for (int64_t r = 0; r < rows; r++)
        corr[r] = -128 * row_sum(a + r * lda, b->k);
    if (b->layout == QMAR__X2_ND_T || b->layout == QMAR__X2_NZ_T)
        qmar__avx512_decode_cols(a, lda, rows, b, j0, j1, corr, c, ldc, scratch, scratch_bytes);
    else if (b->layout == QMAR__X2_NZ)
        nz_decode(a, lda, rows, b, j0, j1, corr, c, ldc);
    else
        nd_decode(a, lda, rows, b, j0, j1, corr, c, ldc);
    return 1;
}
