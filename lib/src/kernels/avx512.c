/* SPDX-License-Identifier: Apache-2.0 */
/* The AVX-512 VNNI kernel. VPDPBUSD multiplies unsigned by signed bytes, so B is packed as
 * x2 + 128 (uint8) and A stays signed (broadcast 4 bytes at a time): the sums carry an extra
 * 128 * rowsum(A), which the accumulators start from the negative of. Everything is exact
 * modulo 2^32 and the true sum fits in int32 (numerics.md §1), so the result is exact.
 * Micro-kernel: 6 rows x 64 columns (24 zmm accumulators), k blocked (tune, below). */
#include <immintrin.h>
#include <string.h>

#include "avx512_decode.h"
#include "avx512_width.h"
#include "epilogue_simd.h"
#include "avx512_common.h"
#include "cpu.h"
#include "kernel.h"
#include "validate.h"

#define MR 6
#define NR 64

/* Blocking, set once per process from the CPU's caches and datapath (tune, below; cpu.h); the
 * values here are what tune derives from 32 KiB L1d / 1 MiB L2 with 512-bit multiply-adds split
 * in two halves, for a caller that skips dispatch.c. Packed and staged paths: k blocks of
 * kc_groups groups of 4 (the micro-kernel's 64-column B slice, 64 kc bytes: see tune), row
 * tiles of mc rows and column blocks of nc (the tile's packed A slice and its int32 block take
 * 3/8 of L2 each). Direct path: blocks of x2 staged into an L1-sized buffer (the largest power
 * of two not above L1d). */
static int64_t kc_groups = 256, tile_mc = 384, tile_nc = 256, stage_bytes = 32768;

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

/* Packed A: corr[Align(rows, MR)] (int32, -128 * row sum) padded to 64 bytes, then micro-panels
 * of MR rows, each k group (4 bytes) of its MR rows adjacent, zero-padded in k and rows. */
static uint64_t corr_bytes(int64_t rows)
{
    return (uint64_t)align_up(align_up(rows, MR) * 4, 64);
}

static uint64_t a_bytes(int64_t rows, int64_t k)
{
    return corr_bytes(rows) + (uint64_t)align_up(rows, MR) * (uint64_t)align_up(k, 4);
}

static void pack_a(const int8_t *a, int64_t lda, int64_t rows, int64_t k, void *dst)
{
    int64_t kp = align_up(k, 4), prows = align_up(rows, MR), kfull = k / 4 * 4;
    int32_t *corr = dst;
    uint8_t *panels = (uint8_t *)dst + corr_bytes(rows);
    for (int64_t r = 0; r < prows; r++) {
        uint8_t *p = panels + (r / MR) * MR * kp + (r % MR) * 4;
        if (r >= rows) {
            for (int64_t t = 0; t < kp; t += 4)
                memset(p + t * MR, 0, 4);
            corr[r] = 0;
            continue;
        }
        const int8_t *src = a + r * lda;
        for (int64_t t = 0; t < kfull; t += 4)
            memcpy(p + t * MR, src + t, 4);
        if (kfull < k) {
            uint8_t w[4] = {0};
            memcpy(w, src + kfull, (size_t)(k - kfull));
            memcpy(p + kfull * MR, w, 4);
        }
        corr[r] = -128 * row_sum(src, k);
    }
}

static inline int32_t load32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Bytes of x2 (or of the packed B) as `runs` runs of `len` bytes, `stride` apart from base. */
typedef struct b_runs {
    const int8_t *base;
    int64_t stride, runs, len;
} b_runs;

/* Lines of a b_runs that a micro-kernel asks for (into L2) while it runs: `count` lines from the
 * one at `at`, which is `in_run` lines into its run of `run_lines` lines. The next block's bytes
 * come from memory a whole block ahead of their use; asked for in bursts between micro-kernel
 * calls they overflow the core's queue of misses and most of the burst waits or is dropped
 * (Zen 5, the staged path at 128 x 4096 x 4096 with x2 in FRACTAL_NZ and in memory: 5.7-6.3 ms
 * with bursts, 5.7-6.2 with no prefetch at all, 5.3-5.7 spread over the k groups; bench/README). */
typedef struct prefetch_plan {
    const char *at;
    int64_t in_run, run_lines, stride, count;
} prefetch_plan;

/* Lines [from, to) of r, in its order (run by run, 64 bytes a line). */
static prefetch_plan plan_lines(const b_runs *r, int64_t from, int64_t to)
{
    int64_t per_run = (r->len + 63) / 64;
    if (to <= from || per_run == 0)
        return (prefetch_plan){NULL, 0, 1, 0, 0};
    return (prefetch_plan){(const char *)(r->base + from / per_run * r->stride +
                                          from % per_run * 64),
                           from % per_run, per_run, r->stride, to - from};
}

static inline void prefetch_one(prefetch_plan *p)
{
    _mm_prefetch(p->at, _MM_HINT_T1);
    if (--p->count == 0) /* (at never points past the lines) */
        return;
    if (++p->in_run < p->run_lines)
        p->at += 64;
    else /* on to the next run's first line */
        p->at += p->stride - (p->run_lines - 1) * 64, p->in_run = 0;
}

/* c (R x 64, row stride ldc) = (first ? the rows' corrections (init) : c) plus `groups` k groups
 * of a (a micro-panel of packed A: MR rows per group, of which the first R count) and b (64
 * columns, 256 bytes per group), asking for the lines of *plan one every few groups. R and first
 * are constants in each instance below, so that GCC keeps the R x 4 accumulators in registers
 * with nothing but the loop between their loads and stores. R < MR serves the last micro-panel
 * of a tile, whose padding rows need no work. */
static inline __attribute__((always_inline)) void ukernel(const int R, const int first,
                                                          const uint8_t *a, const uint8_t *b,
                                                          int64_t groups, int32_t *c, int64_t ldc,
                                                          const int32_t *init,
                                                          const prefetch_plan *plan)
{
    __m512i acc[MR][4];
    acc_start(acc, R, first, init, c, ldc);
    prefetch_plan pf = *plan;
    int64_t every = pf.count > 0 && groups / pf.count > 1 ? groups / pf.count : 1, due = every;
    for (int64_t g = 0; g < groups; g++) {
        if (--due == 0) {
            due = every;
            if (pf.count > 0)
                prefetch_one(&pf);
        }
        __m512i b0 = _mm512_load_si512(b + 256 * g), b1 = _mm512_load_si512(b + 256 * g + 64);
        __m512i b2 = _mm512_load_si512(b + 256 * g + 128);
        __m512i b3 = _mm512_load_si512(b + 256 * g + 192);
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            __m512i av = _mm512_set1_epi32(load32(a + 4 * MR * g + 4 * r));
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, av);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, av);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], b2, av);
            acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], b3, av);
        }
    }
    while (pf.count > 0) /* more lines than groups */
        prefetch_one(&pf);
    acc_store(acc, R, c, ldc);
}

typedef void ukernel_fn(const uint8_t *, const uint8_t *, int64_t, int32_t *, int64_t,
                        const int32_t *, const prefetch_plan *);
#define UKERNEL(R)                                                                                 \
    __attribute__((noinline)) static void ukernel_first##R(                                       \
        const uint8_t *a, const uint8_t *b, int64_t groups, int32_t *c, int64_t ldc,               \
        const int32_t *init, const prefetch_plan *plan)                                            \
    {                                                                                              \
        ukernel(R, 1, a, b, groups, c, ldc, init, plan);                                           \
    }                                                                                              \
    __attribute__((noinline)) static void ukernel_next##R(                                        \
        const uint8_t *a, const uint8_t *b, int64_t groups, int32_t *c, int64_t ldc,               \
        const int32_t *init, const prefetch_plan *plan)                                            \
    {                                                                                              \
        ukernel(R, 0, a, b, groups, c, ldc, init, plan);                                           \
    }
UKERNEL(1)
UKERNEL(2)
UKERNEL(3)
UKERNEL(4)
UKERNEL(5)
UKERNEL(6)
/* [first][rows in the micro-panel] */
static ukernel_fn *const ukernels[2][MR + 1] = {
    {NULL, ukernel_next1, ukernel_next2, ukernel_next3, ukernel_next4, ukernel_next5,
     ukernel_next6},
    {NULL, ukernel_first1, ukernel_first2, ukernel_first3, ukernel_first4, ukernel_first5,
     ukernel_first6}};

/* The micro-panels of rows [0, rows) of packed A (from k group g0, gn groups) times one 64-column
 * slice of B (bp: gn groups of 256 bytes) into c, asking for the lines of `next` meanwhile. */
static inline void panels_times_slice(const int32_t *corr, const uint8_t *panels, int64_t kp,
                                      int64_t rows, int64_t g0, int64_t gn, const uint8_t *bp,
                                      int32_t *c, int64_t ldc, const b_runs *next)
{
    int64_t npanels = (rows + MR - 1) / MR, lines = next->runs * ((next->len + 63) / 64);
    for (int64_t p = 0; p < npanels; p++) {
        int64_t r = p * MR;
        prefetch_plan pf = plan_lines(next, lines * p / npanels, lines * (p + 1) / npanels);
        ukernels[g0 == 0][rows - r < MR ? rows - r : MR](panels + r * kp + g0 * MR * 4, bp, gn,
                                                          c + r * ldc, ldc, corr + r, &pf);
    }
}

static void gemm(const void *pa, int64_t rows, const void *pb, int64_t k, int64_t n, int64_t j0,
                 int64_t j1, int32_t *c, int64_t ldc)
{
    (void)n;
    int64_t kp = align_up(k, 4), groups = kp / 4;
    const int32_t *corr = pa;
    const uint8_t *panels = (const uint8_t *)pa + corr_bytes(rows);
    for (int64_t g0 = 0; g0 < groups; g0 += kc_groups) {
        int64_t gn = groups - g0 < kc_groups ? groups - g0 : kc_groups;
        for (int64_t j = j0; j < j1; j += NR) {
            /* the slice after this one: the next 64 columns, or the first ones of the next k
             * block (each slice of packed B is contiguous) */
            int64_t ng0 = j + NR < j1 ? g0 : g0 + kc_groups, nj = j + NR < j1 ? j + NR : j0;
            int64_t ngn = groups - ng0 < kc_groups ? groups - ng0 : kc_groups;
            b_runs next = {ng0 < groups ? (const int8_t *)pb + (nj / NR) * kp * NR + ng0 * NR * 4
                                        : (const int8_t *)pb,
                           0, ng0 < groups, ngn * 256};
            panels_times_slice(corr, panels, kp, rows, g0, gn,
                               (const uint8_t *)pb + (j / NR) * kp * NR + g0 * NR * 4,
                               c + (j - j0), ldc, &next);
        }
    }
}


/* Few rows (LLM decode) with x2 row-major: k blocks of 64 rows, read along the rows in runs of
 * stage_bytes / 64 columns. Measured on Zen 4 (1 thread, k = n = 4096, x2 warm in L3), GOPS of
 * GEMM + epilogue with x2 packed block by block -> staged here: m = 1: 17 -> 42, 4: 73 -> 109,
 * 8: 95 -> 118, 16: 179 -> 189. More rows take deeper blocks (fewer round trips of the int32
 * block), still 2 KiB or more of each row at a time (rows one page apart each cost a TLB entry). */
#define DECODE_ROWS 16
#define NZ_DECODE_ROWS 16 /* avx512_decode.c's rows for FRACTAL_NZ: past them, the staged path */

/* ---- the direct path: x2 read where it lies, never packed ----
 * A block of x2 (kc rows x nc columns) is rearranged into the packed-B order in an L1-sized
 * buffer (the driver's scratch), in registers, from whichever layout x2 is stored in; the rows of
 * x1 are then multiplied with it 64 columns at a time (up to MR rows, accumulators in registers,
 * A broadcast straight from x1), the sums carried in c from one k block to the next. The block's
 * shape follows the layout, so that x2 is read in long runs (64-byte pieces one 4 KiB row apart
 * read at a quarter of the speed, as no prefetcher follows them across pages):
 *   ND (rows contiguous in n): 64 rows x stage_bytes/64 columns, read along the rows;
 *   NZ (strips of 32 columns, each k x 32 contiguous), ND_T and NZ_T (columns contiguous in k):
 *     stage_bytes/64 rows x 64 columns, read down the strips or along the columns.
 * Every byte of x2 is read and rearranged once per call, whatever the rows; the sums are the
 * same as gemm's. For a few rows (LLM decode) this streams x2 once; for many rows the staging
 * is a small part of the multiply-adds each staged byte meets. */

static int64_t nz_rows(int64_t rows)
{
    return align_up(rows, 16);
}

/* 64 bytes of a line of x2: lo and hi are its two 32-byte halves; bytes outside `valid` load as
 * 0 and are not read (masked loads do not fault). */
static inline __m512i line64(const int8_t *lo, const int8_t *hi, int64_t valid)
{
    if (valid <= 0)
        return _mm512_setzero_si512();
    __mmask32 mlo = _cvtu32_mask32(valid >= 32 ? ~0u : ~0u >> (32 - valid));
    __m256i a = _mm256_maskz_loadu_epi8(mlo, lo);
    __m256i b = _mm256_setzero_si256();
    if (valid > 32)
        b = _mm256_maskz_loadu_epi8(_cvtu32_mask32(valid >= 64 ? ~0u : ~0u >> (64 - valid)), hi);
    return _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
}

/* A 4 x 4 transpose of the 128-bit lanes of w, x, y, v (output q = lane q of w, x, y, v),
 * XOR 0x80, stored at d, d + step, d + 2 step, d + 3 step. */
static inline void store_lanes_t(__m512i w, __m512i x, __m512i y, __m512i v, uint8_t *d,
                                 int64_t step, int64_t count)
{
    __m512i wx_lo = _mm512_shuffle_i64x2(w, x, 0x44), wx_hi = _mm512_shuffle_i64x2(w, x, 0xEE);
    __m512i yv_lo = _mm512_shuffle_i64x2(y, v, 0x44), yv_hi = _mm512_shuffle_i64x2(y, v, 0xEE);
    __m512i flip = _mm512_set1_epi8((char)0x80);
    _mm512_store_si512(d, _mm512_xor_si512(_mm512_shuffle_i64x2(wx_lo, yv_lo, 0x88), flip));
    if (count > 1)
        _mm512_store_si512(d + step,
                           _mm512_xor_si512(_mm512_shuffle_i64x2(wx_lo, yv_lo, 0xDD), flip));
    if (count > 2)
        _mm512_store_si512(d + 2 * step,
                           _mm512_xor_si512(_mm512_shuffle_i64x2(wx_hi, yv_hi, 0x88), flip));
    if (count > 3)
        _mm512_store_si512(d + 3 * step,
                           _mm512_xor_si512(_mm512_shuffle_i64x2(wx_hi, yv_hi, 0xDD), flip));
}

/* Rows t..t+3 of a 64-column slice (r0..r3, 64 columns each) as one group of the packed-B order:
 * 256 bytes at d, 16 bytes per 4 columns, the 4 bytes of each column adjacent, XOR 0x80. */
static inline void group_of_rows(__m512i r0, __m512i r1, __m512i r2, __m512i r3, uint8_t *d)
{
    __m512i lo01 = _mm512_unpacklo_epi8(r0, r1), hi01 = _mm512_unpackhi_epi8(r0, r1);
    __m512i lo23 = _mm512_unpacklo_epi8(r2, r3), hi23 = _mm512_unpackhi_epi8(r2, r3);
    /* in 128-bit lane L: w = columns 16L+0..3, x = 16L+4..7, y = 16L+8..11, v = 16L+12..15 */
    store_lanes_t(_mm512_unpacklo_epi16(lo01, lo23), _mm512_unpackhi_epi16(lo01, lo23),
                  _mm512_unpacklo_epi16(hi01, hi23), _mm512_unpackhi_epi16(hi01, hi23), d, 64, 4);
}

/* 16 columns x 64 k values (l[c]: column c's k values t..t+63) as 16 groups of the packed-B
 * order: group g's 4 bytes of the 16 columns are the 64 bytes at d + g * 256; only the first
 * `groups` groups are stored. A 16 x 16 transpose of 32-bit words. */
static inline void groups_of_columns(const __m512i l[16], uint8_t *d, int64_t groups)
{
    __m512i e[4][4]; /* e[q][i], lane L: group 4L + i of columns 4q..4q+3 */
    for (int q = 0; q < 4; q++) {
        __m512i a = _mm512_unpacklo_epi32(l[4 * q], l[4 * q + 1]);
        __m512i b = _mm512_unpackhi_epi32(l[4 * q], l[4 * q + 1]);
        __m512i c = _mm512_unpacklo_epi32(l[4 * q + 2], l[4 * q + 3]);
        __m512i h = _mm512_unpackhi_epi32(l[4 * q + 2], l[4 * q + 3]);
        e[q][0] = _mm512_unpacklo_epi64(a, c), e[q][1] = _mm512_unpackhi_epi64(a, c);
        e[q][2] = _mm512_unpacklo_epi64(b, h), e[q][3] = _mm512_unpackhi_epi64(b, h);
    }
    /* group 4L + i = lane L of e[0][i], e[1][i], e[2][i], e[3][i] */
    for (int i = 0; i < 4 && i < groups; i++) {
        int64_t count = (groups - i + 3) / 4; /* groups i, 4 + i, ... below `groups` */
        store_lanes_t(e[0][i], e[1][i], e[2][i], e[3][i], d + i * 256, 4 * 256,
                      count < 4 ? count : 4);
    }
}

/* The bytes of x2 for rows [t, t + 64) of column j, j < n, from a column-contiguous layout
 * (ND_T, NZ_T): halves and how many of the 64 lie below t1. */
static inline __m512i column_line(const qmar__b_src *b, int64_t t, int64_t t1, int64_t j)
{
    if (b->layout == QMAR__X2_ND_T) {
        const int8_t *p = b->x2 + j * b->k + t;
        return line64(p, p + 32, t1 - t);
    }
    int64_t strip = nz_rows(b->n) * 32; /* NZ_T: chunks of 32 k values, each n x 32 */
    const int8_t *p = b->x2 + (t / 32) * strip + j * 32;
    return line64(p, p + strip, t1 - t);
}

/* 4 rows (t..t+3, `valid` of them below k) of a 64-column slice (`w` columns below n) whose
 * halves of 32 columns start at lo and hi, rows `ld` bytes apart, as one group at d. Full groups
 * (the common case) take plain loads in registers; the edges masked ones. */
#ifndef PF_AHEAD
#define PF_AHEAD 1024
#endif
#ifndef PF_ROWS
#define PF_ROWS 8
#endif
static inline void group_at(const int8_t *lo, const int8_t *hi, int64_t ld, int64_t valid,
                            int64_t w, uint8_t *d)
{
    if (valid >= 4 && w >= 64) {
        __m512i r0, r1, r2, r3;
        if (hi == lo + 32) { /* one 64-byte piece per row */
            r0 = _mm512_loadu_si512(lo), r1 = _mm512_loadu_si512(lo + ld);
            r2 = _mm512_loadu_si512(lo + 2 * ld), r3 = _mm512_loadu_si512(lo + 3 * ld);
        } else {
#define HALVES(i)                                                                                  \
    _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(lo + i * ld))), \
                       _mm256_loadu_si256((const __m256i *)(hi + i * ld)), 1)
            r0 = HALVES(0), r1 = HALVES(1), r2 = HALVES(2), r3 = HALVES(3);
#undef HALVES
        }
        group_of_rows(r0, r1, r2, r3, d);
        return;
    }
    __m512i z = _mm512_setzero_si512();
    group_of_rows(line64(lo, hi, w), valid > 1 ? line64(lo + ld, hi + ld, w) : z,
                  valid > 2 ? line64(lo + 2 * ld, hi + 2 * ld, w) : z,
                  valid > 3 ? line64(lo + 3 * ld, hi + 3 * ld, w) : z, d);
}

/* Rows [t0, t1) x columns [j, j1) of x2 into buf: slices of 64 columns, each
 * groups = Align(t1 - t0, 4) / 4 groups of 256 bytes (the packed-B layout of that small
 * matrix). t0 a multiple of 64 (of 4 for ND), j a multiple of 64. */
static void stage(const qmar__b_src *b, int64_t t0, int64_t t1, int64_t j, int64_t j1,
                  uint8_t *buf)
{
    int64_t groups = (t1 - t0 + 3) / 4;
    if (b->layout == QMAR__X2_ND) { /* along the rows: contiguous reads */
        for (int64_t g = 0; g < groups; g++)
            for (int64_t c = 0; c < j1 - j; c += NR) {
                const int8_t *s = b->x2 + (t0 + 4 * g) * b->n + j + c;
                if (4 * g + PF_ROWS < t1 - t0) /* the same columns PF_ROWS rows on */
                    for (int i = 0; i < 4; i++)
                        _mm_prefetch((const char *)s + (PF_ROWS + i) * b->n, _MM_HINT_T0);
                group_at(s, s + 32, b->n, t1 - t0 - 4 * g, j1 - j - c,
                         buf + (c / NR) * groups * 256 + g * 256);
            }
    } else if (b->layout == QMAR__X2_NZ) { /* down two strips of 32 columns at a time */
        int64_t strip = nz_rows(b->k) * 32;
        for (int64_t c = 0; c < j1 - j; c += NR) {
            const int8_t *lo = b->x2 + (j + c) / 32 * strip + t0 * 32, *hi = lo + strip;
            for (int64_t g = 0; g < groups; g++) {
                _mm_prefetch((const char *)lo + 128 * g + PF_AHEAD, _MM_HINT_T0);
                _mm_prefetch((const char *)lo + 128 * g + PF_AHEAD + 64, _MM_HINT_T0);
                _mm_prefetch((const char *)hi + 128 * g + PF_AHEAD, _MM_HINT_T0);
                _mm_prefetch((const char *)hi + 128 * g + PF_AHEAD + 64, _MM_HINT_T0);
                group_at(lo + 128 * g, hi + 128 * g, 32, t1 - t0 - 4 * g, j1 - j - c,
                         buf + (c / NR) * groups * 256 + g * 256);
            }
        }
    } else { /* columns contiguous in k: 16 columns x 64 k values at a time */
        for (int64_t c = 0; c < j1 - j; c += 16) {
            uint8_t *slice = buf + (c / NR) * groups * 256 + (c % NR) * 4;
            for (int64_t t = t0; t < t1; t += 64) {
                __m512i l[16];
                for (int i = 0; i < 16; i++)
                    l[i] = c + i < j1 - j ? column_line(b, t, t1, j + c + i)
                                          : _mm512_setzero_si512();
                int64_t g = (t - t0) / 4;
                groups_of_columns(l, slice + g * 256, groups - g < 16 ? groups - g : 16);
            }
        }
    }
}

/* The bytes of x2 that stage reads for rows [t0, t1) x columns [j, j1). */
static b_runs runs_of(const qmar__b_src *b, int64_t t0, int64_t t1, int64_t j, int64_t j1)
{
    switch (b->layout) {
    case QMAR__X2_ND: return (b_runs){b->x2 + t0 * b->n + j, b->n, t1 - t0, j1 - j};
    case QMAR__X2_ND_T: return (b_runs){b->x2 + j * b->k + t0, b->k, j1 - j, t1 - t0};
    case QMAR__X2_NZ: {
        int64_t strip = nz_rows(b->k) * 32;
        return (b_runs){b->x2 + j / 32 * strip + t0 * 32, strip, (j1 - j + 31) / 32,
                        (t1 - t0) * 32};
    }
    default: {
        int64_t strip = nz_rows(b->n) * 32;
        return (b_runs){b->x2 + t0 / 32 * strip + j * 32, strip, (t1 - t0 + 31) / 32,
                        (j1 - j) * 32};
    }
    }
}

/* Asks for the next block's bytes (into L2) while this one is staged and multiplied: x2 is read
 * from many places a few KiB long each (rows, strips or columns), which no hardware prefetcher
 * follows far enough ahead to keep memory busy when each byte meets only a few rows. */
static void prefetch_block(const qmar__b_src *b, int64_t t0, int64_t t1, int64_t j, int64_t j1)
{
    b_runs r = runs_of(b, t0, t1, j, j1);
    for (int64_t i = 0; i < r.runs; i++) {
        const char *p = (const char *)(r.base + i * r.stride);
        for (int64_t o = 0; o < r.len; o += 64)
            _mm_prefetch(p + o, _MM_HINT_T1);
    }
}

/* R rows of x1 (a, stride lda, from column t0) x one staged 64-column slice of `groups` groups
 * into c (64 columns per row): c starts from the rows' corrections (first) or from its own
 * value. The x1 bytes beyond k (< 4 * groups) count as 0, so the padding adds nothing. */
static inline __attribute__((always_inline)) void direct_slice(
    const int R, const int8_t *a, int64_t lda, int64_t t0, int64_t k, const uint8_t *bs,
    int64_t groups, int first, const int32_t *corr, int32_t *c, int64_t ldc)
{
    __m512i acc[MR][4];
    acc_start(acc, R, first, corr, c, ldc);
    int64_t full = (k - t0) / 4 < groups ? (k - t0) / 4 : groups;
    for (int64_t g = 0; g < groups; g++) {
        __m512i b0 = _mm512_load_si512(bs + 256 * g), b1 = _mm512_load_si512(bs + 256 * g + 64);
        __m512i b2 = _mm512_load_si512(bs + 256 * g + 128);
        __m512i b3 = _mm512_load_si512(bs + 256 * g + 192);
        const int8_t *at = a + t0 + 4 * g;
        int64_t have = g < full ? 4 : k - t0 - 4 * g; /* the last group may pass k */
#pragma GCC unroll 6
        for (int r = 0; r < R; r++) {
            uint32_t w = 0;
            if (have == 4)
                w = (uint32_t)load32((const uint8_t *)at + r * lda);
            else
                for (int64_t i = 0; i < have; i++)
                    w |= (uint32_t)(uint8_t)at[r * lda + i] << (8 * i);
            __m512i av = _mm512_set1_epi32((int)w);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], b0, av);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], b1, av);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], b2, av);
            acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], b3, av);
        }
    }
    acc_store(acc, R, c, ldc);
}

#define DIRECT_SLICE(R)                                                                            \
    __attribute__((noinline)) static void direct_slice##R(                                        \
        const int8_t *a, int64_t lda, int64_t t0, int64_t k, const uint8_t *bs, int64_t groups,    \
        int first, const int32_t *corr, int32_t *c, int64_t ldc)                                   \
    {                                                                                              \
        direct_slice(R, a, lda, t0, k, bs, groups, first, corr, c, ldc);                           \
    }
DIRECT_SLICE(1)
DIRECT_SLICE(2)
DIRECT_SLICE(3)
DIRECT_SLICE(4)
DIRECT_SLICE(5)
DIRECT_SLICE(6)

typedef void direct_slice_fn(const int8_t *, int64_t, int64_t, int64_t, const uint8_t *, int64_t,
                             int, const int32_t *, int32_t *, int64_t);
static direct_slice_fn *const direct_slices[MR + 1] = {
    NULL, direct_slice1, direct_slice2, direct_slice3, direct_slice4, direct_slice5, direct_slice6};

/* The staging buffer, then the rows' corrections. */
static uint64_t direct_scratch(int64_t rows)
{
    return (uint64_t)stage_bytes + (uint64_t)align_up(rows, 16) * 4u;
}

/* The blocks of [0, k) x [j0, j1), kc x nc each, in the order they are read: along the columns
 * first (t0 outer), or, down_k, down each column block first (j outer: for few rows in
 * FRACTAL_NZ, whose strips of 32 columns run down all of k contiguously, so that x2 is read in
 * runs of 32 k bytes instead of 16 KiB pieces 32 k bytes apart: m = 1, k = n = 16384 on Zen 5,
 * 15 -> 21 GB/s). block i -> (t0, j). */
typedef struct block_order {
    int64_t k, kc, j0, j1, nc, kblocks, jblocks;
    int down_k;
} block_order;

static void block_at(const block_order *o, int64_t i, int64_t *t0, int64_t *j)
{
    int64_t kb = o->down_k ? i % o->kblocks : i / o->jblocks;
    int64_t jb = o->down_k ? i / o->kblocks : i % o->jblocks;
    *t0 = kb * o->kc, *j = o->j0 + jb * o->nc;
}

/* The direct path's k block (see above): a multiple of 64, kc x nc = stage_bytes. */
static int64_t direct_depth(int32_t layout, int64_t rows)
{
    return layout != QMAR__X2_ND ? stage_bytes / NR : rows <= DECODE_ROWS ? 64 : 128;
}

static void gemm_direct(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                        int64_t j0, int64_t j1, int32_t *c, int64_t ldc, void *scratch)
{
    if (qmar__avx512_decode(a, lda, rows, b, j0, j1, c, ldc, scratch, stage_bytes))
        return; /* ND 1-4 rows, NZ, ND_T and NZ_T 1-8 */
    uint8_t *buf = scratch;
    int32_t *corr = (int32_t *)(buf + stage_bytes);
    int64_t k = b->k;
    /* the block's shape (see above): kc a multiple of 64, kc x nc = stage_bytes */
    int64_t kc = direct_depth(b->layout, rows);
    int64_t nc = stage_bytes / kc;
    block_order o = {k, kc, j0, j1, nc, k > 0 ? (k + kc - 1) / kc : 1, (j1 - j0 + nc - 1) / nc,
                     b->layout == QMAR__X2_NZ && rows <= DECODE_ROWS};
    for (int64_t r = 0; r < rows; r++)
        corr[r] = -128 * row_sum(a + r * lda, k);
    for (int64_t i = 0, count = o.kblocks * o.jblocks; i < count; i++) {
        int64_t t0, j, nt0, nj;
        block_at(&o, i, &t0, &j);
        int64_t t1 = t0 + kc < k ? t0 + kc : k, jn = j + nc < j1 ? j + nc : j1;
        int64_t groups = (t1 - t0 + 3) / 4;
        if (i + 1 < count) { /* ask for the next block's bytes while this one is worked on */
            block_at(&o, i + 1, &nt0, &nj);
            prefetch_block(b, nt0, nt0 + kc < k ? nt0 + kc : k, nj, nj + nc < j1 ? nj + nc : j1);
        }
        stage(b, t0, t1, j, jn, buf);
        for (int64_t s = j; s < jn; s += NR)
            for (int64_t r = 0; r < rows; r += MR)
                direct_slices[rows - r < MR ? rows - r : MR](
                    a + r * lda, lda, t0, k, buf + (s - j) / NR * groups * 256, groups, t0 == 0,
                    corr + r, c + r * ldc + (s - j0), ldc);
    }
}

/* ---- the staged path: packed A times x2 staged block by block ----
 * For more rows than the decode shapes, in a layout that must not be copied (FRACTAL_NZ) or when
 * all rows fit one row tile (each byte of x2 is then used once: packing all of x2 into memory
 * first only adds a round trip): the rows of a tile are packed (pack_a) as for gemm, and x2 is
 * read where it lies, one k block (kc, as gemm's) at a time, rearranged by stage into the
 * packed-B order in the scratch (kc x 64 bytes, or kc x the column block for row-major x2, whose
 * rows are then read (j1 - j0) bytes at a time instead of 64: L2, where gemm would find its
 * slice of the packed B), which all the tile's micro-panels then read with gemm's micro-kernel.
 * Each byte of x2 is staged once per row tile and meets every row of the tile. The sums are
 * gemm's. Against the direct path (A broadcast from x1's rows, B in an L1-sized stage, the int32
 * block read and written every 128-512 k values), measured on Zen 4 (family 25 model 17, 1
 * thread, k = n = 4096, GEMM + epilogue, thread CPU time, best of 12-25 interleaved calls, load
 * 6-7), GOPS direct -> staged: ND m = 20: 194 -> 237, 64: 299 -> 327, 128: 335 -> 382,
 * 384: 349 -> 390; NZ m = 20: 234 -> 254, 128: 391 -> 399, 384: 402 -> 415, 1024: 397 -> 408.
 * ND past one tile stays packed (1024: packed 393, staged 378: x2 would be staged once per
 * tile). */
static uint64_t staged_scratch(int64_t k)
{
    int64_t kc = 4 * kc_groups;
    return (uint64_t)(k < kc ? align_up(k, 4) : kc) * tile_nc;
}

static void gemm_staged(const void *pa, int64_t rows, const qmar__b_src *b, int64_t j0,
                        int64_t j1, int32_t *c, int64_t ldc, void *scratch)
{
    int64_t k = b->k, kp = align_up(k, 4), groups = kp / 4, kc = 4 * kc_groups;
    const int32_t *corr = pa;
    const uint8_t *panels = (const uint8_t *)pa + corr_bytes(rows);
    uint8_t *buf = scratch;
    int64_t npanels = (rows + MR - 1) / MR, nslices = (j1 - j0 + NR - 1) / NR;
    /* row-major x2: the whole block at once, rows read (j1 - j0) bytes at a time */
    int wide = b->layout == QMAR__X2_ND;
    for (int64_t g0 = 0; g0 < groups; g0 += kc_groups) {
        int64_t gn = groups - g0 < kc_groups ? groups - g0 : kc_groups;
        int64_t t0 = 4 * g0, t1 = t0 + 4 * gn < k ? t0 + 4 * gn : k;
        int64_t nt1 = t1 + kc < k ? t1 + kc : k; /* the next k block: [t1, nt1) */
        if (wide)
            stage(b, t0, t1, j0, j1, buf);
        b_runs next = {NULL, 0, 0, 0};
        if (wide && t1 < k)
            next = runs_of(b, t1, nt1, j0, j1);
        int64_t lines = next.runs * ((next.len + 63) / 64);
        for (int64_t sl = 0; sl < nslices; sl++) {
            int64_t j = j0 + sl * NR, jn = j + NR < j1 ? j + NR : j1;
            const uint8_t *bs = buf + sl * gn * 256;
            if (!wide) { /* one slice at a time, the next one's bytes asked for meanwhile */
                stage(b, t0, t1, j, jn, buf);
                bs = buf;
                if (jn < j1)
                    next = runs_of(b, t0, t1, jn, jn + NR < j1 ? jn + NR : j1);
                else
                    next = t1 < k ? runs_of(b, t1, nt1, j0, j0 + NR < j1 ? j0 + NR : j1)
                                  : (b_runs){NULL, 0, 0, 0};
                lines = next.runs * ((next.len + 63) / 64);
            }
            /* spread over the micro-panels, so that the requests to memory are spread too */
            int64_t parts = wide ? nslices * npanels : npanels, part0 = wide ? sl * npanels : 0;
            for (int64_t p = 0; p < npanels; p++) {
                int64_t r = p * MR;
                prefetch_plan pf = plan_lines(&next, lines * (part0 + p) / parts,
                                              lines * (part0 + p + 1) / parts);
                ukernels[g0 == 0][rows - r < MR ? rows - r : MR](
                    panels + r * kp + g0 * MR * 4, bs, gn, c + r * ldc + (j - j0), ldc, corr + r,
                    &pf);
            }
        }
    }
}

/* All of x2 packed once (the packed path) by the staging code: 64 columns per instruction where
 * pack.c's portable code takes 16. Chunks of 4 panels, so that the rows of row-major x2 are read
 * 256 bytes at a time while the panels being written stay few. */
static void pack_b(const qmar__b_src *b, int64_t jlo, int64_t jhi, uint8_t *dst)
{
    int64_t kp = align_up(b->k, 4);
    for (int64_t j = jlo; j < jhi; j += 4 * NR)
        stage(b, 0, b->k, j, j + 4 * NR < jhi ? j + 4 * NR : jhi, dst + (j - jlo) * kp);
}

/* ---- blocking from the CPU's caches ---- */

static int64_t pow2_floor(int64_t v)
{
    int64_t p = 1;
    while (p * 2 <= v)
        p *= 2;
    return p;
}

/* The rules of the comment at the top, applied to this CPU's L1d and L2 (per core: a cache
 * shared by several logical CPUs counts as its share) and to the width of its datapath
 * (avx512_width.c). The micro-kernel reads its B slice, 256 bytes per group of 24 VPDPBUSD:
 *  - split 512-bit datapath (Zen 4: one VPDPBUSD per cycle): 21 bytes per cycle, which L2
 *    delivers, so the slice streams from L2 at 1/16 of it, and deep k blocks make the int32
 *    block's round trips rare. On 32 KiB / 1 MiB (Zen 4, where this was measured) that gives
 *    k blocks of 1024, tiles of 384 x 256 and a 32 KiB stage.
 *  - full width (Zen 5: two per cycle): 43 bytes per cycle, more than L2 keeps up with, so the
 *    slice stays in L1 (the largest power of two within 3/4 of it, the rest for A and c); the
 *    tiles stay those of the L2 rule. Zen 5 (48 KiB / 1 MiB: 512 instead of 1024), bench_gemm
 *    at k = n = 4096, three alternating rounds, GOPS: ND m = 128 667-707 -> 695-728, FRACTAL_NZ
 *    721-755 -> 733-764; m = 256 and 512 the same (720-740, NZ 752-769); m = 768-4096 690-786
 *    -> 729-801 (NZ 699-787 -> 752-809), a noisy run. Tiles sized for the 512-deep blocks
 *    instead (768 x 128: the A tile 3/8 of L2 again) were slower at m = 512 (ND 708-719
 *    against 725-776 for the old blocking in the same runs: a narrower column block re-reads
 *    A more often, and 4096 / 510 rows leave a last tile of 2 rows). */
static void tune(qmar__kernel *self)
{
    const qmar__cpu *cpu = qmar__cpu_facts();
    int64_t l1 = cpu->l1d, l2 = cpu->l2 / (cpu->l2_sharing > 1 ? cpu->l2_sharing : 1);
    int64_t kc_l2 = pow2_floor(l2 / 16 / NR), kc_l1 = pow2_floor(l1 * 3 / 4 / NR);
    kc_l2 = kc_l2 < 256 ? 256 : kc_l2 > 4096 ? 4096 : kc_l2;
    kc_l1 = kc_l1 < 256 ? 256 : kc_l1 > kc_l2 ? kc_l2 : kc_l1;
    int full = qmar__avx512_full_width();
    int64_t kc = full ? kc_l1 : kc_l2;
    kc_groups = kc / 4;
    int64_t mc = l2 * 3 / 8 / kc_l2 / MR * MR; /* the tiles of the L2 rule's k block either way */
    tile_mc = mc < 2 * MR ? 2 * MR : mc > 1536 ? 1536 : mc;
    int64_t nc = l2 * 3 / 8 / (tile_mc * 4) / NR * NR;
    tile_nc = nc < NR ? NR : nc > 2048 ? 2048 : nc;
    int64_t st = pow2_floor(l1);
    stage_bytes = st < 8192 ? 8192 : st > 65536 ? 65536 : st;
    self->kc = (int32_t)kc;
    self->stage_bytes = (int32_t)stage_bytes;
    self->full_width = full;
    self->mc = (int32_t)tile_mc;
    self->nc = (int32_t)tile_nc;
}


/* The direct path serves the decode shapes: row-major x2 up to DECODE_ROWS rows (the decode
 * kernel up to 4), FRACTAL_NZ up to the decode kernel's 16, the transposed layouts up to its 8
 * (avx512_decode.c, avx512_decode_cols.c); the staged path (above) more rows in FRACTAL_NZ, and
 * one row tile of them in the other layouts; past one tile those are packed once per Run
 * (compute.c). Past the decode kernel the staged path beats the direct one's staging except in
 * ND. Measured on Zen 5 (family 26 model 2, 1 thread, k = n = 16384, x2 in memory, the two
 * paths alone), ms direct -> staged: FRACTAL_NZ m = 12: 20.9 -> 19.2, 16: 23.6 -> 20.4; ND_T
 * m = 8: 49 -> 28, 16: 56 -> 29; NZ_T m = 9: 58 -> 29, 16: 39 -> 38; ND m = 8: 20 -> 37, 16: 27
 * -> 37. */
const qmar__kernel qmar__kernel_avx512 = {
    .name = "avx512",
    .bfmt = {.nr = NR, .group = 4, .kalign = 4, .xor_mask = 0x80},
    .mr = MR,
    .mc = 384,
    .nc = 256,
    .tune = tune,
    .kc = 1024,
    .stage_bytes = 32768,
    .a_bytes = a_bytes,
    .pack_a = pack_a,
    .gemm = gemm,
    .gemm_direct = gemm_direct,
    .direct_scratch = direct_scratch,
    .direct_depth = direct_depth,
    .gemm_staged = gemm_staged,
    .staged_scratch = staged_scratch,
    .pack_b = pack_b,
    .direct_rows = {[QMAR__X2_ND] = DECODE_ROWS, [QMAR__X2_NZ] = NZ_DECODE_ROWS,
                    [QMAR__X2_ND_T] = QMAR__AVX512_COLS_ROWS,
                    [QMAR__X2_NZ_T] = QMAR__AVX512_COLS_ROWS},
    .inplace_layouts = 1u << QMAR__X2_NZ | 1u << QMAR__X2_NZ_T,
    .epilogue = qmar__epilogue_avx512,
};
