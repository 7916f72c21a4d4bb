/* The AVX-512 VNNI kernel. VPDPBUSD multiplies unsigned by signed bytes, so B is packed as
 * x2 + 128 (uint8) and A stays signed (broadcast 4 bytes at a time): the sums carry an extra
 * 128 * rowsum(A), which the accumulators start from the negative of. Everything is exact
 * modulo 2^32 and the true sum fits in int32 (numerics.md §1), so the result is exact.
 * Micro-kernel: 6 rows x 64 columns (24 zmm accumulators), k blocked by KC. */
#include <immintrin.h>
#include <string.h>

#include "epilogue_simd.h"
#include "kernel.h"

#define MR 6
#define NR 64
/* Blocking, measured on Zen 4 (1 MiB L2): k blocks of 1024 values (a 64-column B slice is 64 KiB
 * and streams from L2), row tiles of 384 and column blocks of 256 (the tile's packed A slice and
 * its int32 block, 384 KiB each, stay in L2). Overridable for tuning experiments. */
#ifndef KC_GROUPS
#define KC_GROUPS 256
#endif
#ifndef MC
#define MC 384
#endif
#ifndef NC
#define NC 256
#endif

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

/* Sum of k signed bytes: sums of (x ^ 0x80) = x + 128 as unsigned, minus 128 k. */
static int32_t row_sum(const int8_t *x, int64_t k)
{
    __m512i acc = _mm512_setzero_si512(), flip = _mm512_set1_epi8((char)0x80);
    int64_t t = 0;
    for (; t + 64 <= k; t += 64)
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(x + t),
                                                                      flip),
                                                     _mm512_setzero_si512()));
    if (t < k) { /* the lanes beyond k load as 0 and stay 0 */
        __mmask64 m = _cvtu64_mask64(~0ULL >> (64 - (k - t)));
        __m512i v = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x + t),
                                                               flip));
        acc = _mm512_add_epi64(acc, _mm512_sad_epu8(v, _mm512_setzero_si512()));
    }
    return (int32_t)(_mm512_reduce_add_epi64(acc) - 128 * k);
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

#define ROW(X) __m512i c##X##0, c##X##1, c##X##2, c##X##3
#define INIT(X)                                                                                    \
    c##X##0 = c##X##1 = c##X##2 = c##X##3 = _mm512_set1_epi32(init[X])
#define LOAD(X)                                                                                    \
    c##X##0 = _mm512_load_si512(c + X * ldc), c##X##1 = _mm512_load_si512(c + X * ldc + 16),     \
    c##X##2 = _mm512_load_si512(c + X * ldc + 32), c##X##3 = _mm512_load_si512(c + X * ldc + 48)
#define STEP(X)                                                                                    \
    do {                                                                                           \
        __m512i av = _mm512_set1_epi32(load32(a + 24 * g + 4 * X));                               \
        c##X##0 = _mm512_dpbusd_epi32(c##X##0, b0, av);                                           \
        c##X##1 = _mm512_dpbusd_epi32(c##X##1, b1, av);                                           \
        c##X##2 = _mm512_dpbusd_epi32(c##X##2, b2, av);                                           \
        c##X##3 = _mm512_dpbusd_epi32(c##X##3, b3, av);                                           \
    } while (0)
#define STORE(X)                                                                                   \
    _mm512_store_si512(c + X * ldc, c##X##0), _mm512_store_si512(c + X * ldc + 16, c##X##1),     \
    _mm512_store_si512(c + X * ldc + 32, c##X##2), _mm512_store_si512(c + X * ldc + 48, c##X##3)

/* c (6 x 64, row stride ldc) = START(c or the rows' corrections) plus `groups` k groups of a
 * and b. Two functions, not one with a branch: GCC keeps the 24 accumulators in registers only
 * when nothing but the loop sits between their loads and stores. */
#define UKERNEL(NAME, START)                                                                       \
    __attribute__((noinline)) static void NAME(const uint8_t *a, const uint8_t *b,                 \
                                               int64_t groups, int32_t *c, int64_t ldc,            \
                                               const int32_t *init)                                \
    {                                                                                              \
        (void)init;                                                                                \
        ROW(0);                                                                                    \
        ROW(1);                                                                                    \
        ROW(2);                                                                                    \
        ROW(3);                                                                                    \
        ROW(4);                                                                                    \
        ROW(5);                                                                                    \
        START(0), START(1), START(2), START(3), START(4), START(5);                                 \
        for (int64_t g = 0; g < groups; g++) {                                                     \
            __m512i b0 = _mm512_load_si512(b + 256 * g);                                           \
            __m512i b1 = _mm512_load_si512(b + 256 * g + 64);                                      \
            __m512i b2 = _mm512_load_si512(b + 256 * g + 128);                                     \
            __m512i b3 = _mm512_load_si512(b + 256 * g + 192);                                     \
            STEP(0);                                                                               \
            STEP(1);                                                                               \
            STEP(2);                                                                               \
            STEP(3);                                                                               \
            STEP(4);                                                                               \
            STEP(5);                                                                               \
        }                                                                                          \
        STORE(0), STORE(1), STORE(2), STORE(3), STORE(4), STORE(5);                                \
    }
UKERNEL(ukernel_first, INIT)
UKERNEL(ukernel_next, LOAD)

static void gemm(const void *pa, int64_t rows, const void *pb, int64_t k, int64_t n, int64_t j0,
                 int64_t j1, int32_t *c, int64_t ldc)
{
    (void)n;
    int64_t kp = align_up(k, 4), groups = kp / 4, prows = align_up(rows, MR);
    const int32_t *corr = pa;
    const uint8_t *panels = (const uint8_t *)pa + corr_bytes(rows);
    for (int64_t g0 = 0; g0 < groups; g0 += KC_GROUPS) {
        int64_t gn = groups - g0 < KC_GROUPS ? groups - g0 : KC_GROUPS;
        for (int64_t j = j0; j < j1; j += NR) {
            const uint8_t *bp = (const uint8_t *)pb + (j / NR) * kp * NR + g0 * NR * 4;
            for (int64_t r = 0; r < prows; r += MR)
                (g0 == 0 ? ukernel_first : ukernel_next)(panels + r * kp + g0 * MR * 4, bp, gn,
                                                         c + r * ldc + (j - j0), ldc, corr + r);
        }
    }
}

/* ---- the direct path for few rows: x2 read as stored (row-major k x n), never packed ----
 * A block of DIRECT_KC rows x DIRECT_NC columns of x2 is rearranged into the packed-B order in a
 * 32 KiB buffer (the driver's scratch; it stays in L1), reading 4 rows at a time along their
 * columns; the rows of x1 are then multiplied with it 64 columns at a time (up to MR rows,
 * accumulators in registers, A broadcast straight from x1), the sums carried in c from one k
 * block to the next. k blocks are the outer loop, so x2 is read along whole rows, in long runs:
 * 64-byte pieces one row (4 KiB page) apart read at a quarter of the speed, as no prefetcher
 * follows them across pages. Every byte of x2 is read from memory and rearranged once, whatever
 * m is; the sums are the same as gemm's. */
#define DIRECT_KC 64
#define DIRECT_NC 512
/* The largest m the driver sends here. Measured on Zen 4 (1 thread, k = n = 4096, best of 200
 * calls, x2 warm in L3), GOPS of GEMM + epilogue with x2 packed block by block (fused) -> direct:
 * m = 1: 17 -> 42, 4: 73 -> 109, 8: 95 -> 118, 12: 164 -> 162, 16: 179 -> 189, 20: 190 -> 221,
 * 24: 242 -> 223, 32: 233 -> 231. Past 16 rows the packed micro-kernel (6 rows from packed A)
 * wins or ties and the direct path's int32 block (m x nc) outgrows L2. */
#define DIRECT_ROWS 16

/* Rows t..t+3 of a 64-column slice of x2 (row stride ld; columns outside cm load as 0, rows from
 * `valid` on are not read and are 0) in the packed-B order, stored as 256 bytes at d: 16 bytes
 * per column, the 4 bytes of each column adjacent, XOR 0x80. */
static inline void stage_group(const int8_t *s, int64_t ld, int64_t valid, __mmask64 cm,
                               uint8_t *d)
{
    __m512i z = _mm512_setzero_si512();
    __m512i r0 = _mm512_maskz_loadu_epi8(cm, s);
    __m512i r1 = valid > 1 ? _mm512_maskz_loadu_epi8(cm, s + ld) : z;
    __m512i r2 = valid > 2 ? _mm512_maskz_loadu_epi8(cm, s + 2 * ld) : z;
    __m512i r3 = valid > 3 ? _mm512_maskz_loadu_epi8(cm, s + 3 * ld) : z;
    __m512i lo01 = _mm512_unpacklo_epi8(r0, r1), hi01 = _mm512_unpackhi_epi8(r0, r1);
    __m512i lo23 = _mm512_unpacklo_epi8(r2, r3), hi23 = _mm512_unpackhi_epi8(r2, r3);
    /* in 128-bit lane L: w = columns 16L+0..3, x = 16L+4..7, y = 16L+8..11, v = 16L+12..15 */
    __m512i w = _mm512_unpacklo_epi16(lo01, lo23), x = _mm512_unpackhi_epi16(lo01, lo23);
    __m512i y = _mm512_unpacklo_epi16(hi01, hi23), v = _mm512_unpackhi_epi16(hi01, hi23);
    /* a 4 x 4 transpose of 128-bit lanes: output q = lane q of w, x, y, v */
    __m512i wx_lo = _mm512_shuffle_i64x2(w, x, 0x44), wx_hi = _mm512_shuffle_i64x2(w, x, 0xEE);
    __m512i yv_lo = _mm512_shuffle_i64x2(y, v, 0x44), yv_hi = _mm512_shuffle_i64x2(y, v, 0xEE);
    __m512i flip = _mm512_set1_epi8((char)0x80);
    _mm512_store_si512(d, _mm512_xor_si512(_mm512_shuffle_i64x2(wx_lo, yv_lo, 0x88), flip));
    _mm512_store_si512(d + 64, _mm512_xor_si512(_mm512_shuffle_i64x2(wx_lo, yv_lo, 0xDD), flip));
    _mm512_store_si512(d + 128, _mm512_xor_si512(_mm512_shuffle_i64x2(wx_hi, yv_hi, 0x88), flip));
    _mm512_store_si512(d + 192, _mm512_xor_si512(_mm512_shuffle_i64x2(wx_hi, yv_hi, 0xDD), flip));
}

/* Rows [t0, t1) x columns [j, j1) (j1 - j <= DIRECT_NC) of x2 into buf: slices of 64 columns, each
 * Align(t1 - t0, 4) / 4 groups of 256 bytes (the packed-B layout of that small matrix). */
static void stage(const int8_t *b, int64_t ldb, int64_t t0, int64_t t1, int64_t j, int64_t j1,
                  uint8_t *buf)
{
    int64_t groups = (t1 - t0 + 3) / 4;
    for (int64_t g = 0; g < groups; g++) {
        const int8_t *s = b + (t0 + 4 * g) * ldb + j;
        int64_t valid = t1 - t0 - 4 * g;
        for (int64_t c = 0; c < j1 - j; c += NR) { /* along the rows: contiguous reads */
            __mmask64 cm = _cvtu64_mask64(j1 - j - c >= NR ? ~0ULL : ~0ULL >> (NR - (j1 - j - c)));
            stage_group(s + c, ldb, valid, cm, buf + (c / NR) * groups * 256 + g * 256);
        }
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
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            acc[r][q] = first ? _mm512_set1_epi32(corr[r])
                              : _mm512_load_si512(c + r * ldc + 16 * q);
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
#pragma GCC unroll 6
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++)
            _mm512_store_si512(c + r * ldc + 16 * q, acc[r][q]);
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

static void gemm_direct(const int8_t *a, int64_t lda, int64_t rows, const int8_t *b, int64_t ldb,
                        int64_t k, int64_t j0, int64_t j1, int32_t *c, int64_t ldc,
                        void *scratch)
{
    uint8_t *buf = scratch; /* DIRECT_KC * DIRECT_NC bytes */
    int32_t corr[DIRECT_ROWS]; /* rows <= direct_rows (kernel.h) */
    for (int64_t r = 0; r < rows; r++)
        corr[r] = -128 * row_sum(a + r * lda, k);
    for (int64_t t0 = 0; t0 < k || t0 == 0; t0 += DIRECT_KC) { /* once even for k == 0 */
        int64_t t1 = t0 + DIRECT_KC < k ? t0 + DIRECT_KC : k, groups = (t1 - t0 + 3) / 4;
        for (int64_t j = j0; j < j1; j += DIRECT_NC) {
            int64_t jn = j + DIRECT_NC < j1 ? j + DIRECT_NC : j1;
            stage(b, ldb, t0, t1, j, jn, buf);
            for (int64_t s = j; s < jn; s += NR)
                for (int64_t r = 0; r < rows; r += MR)
                    direct_slices[rows - r < MR ? rows - r : MR](
                        a + r * lda, lda, t0, k, buf + (s - j) / NR * groups * 256, groups,
                        t0 == 0, corr + r, c + r * ldc + (s - j0), ldc);
        }
    }
}

const qmar__kernel qmar__kernel_avx512 = {
    .name = "avx512",
    .bfmt = {.nr = NR, .group = 4, .kalign = 4, .xor_mask = 0x80},
    .mr = MR,
    .mc = MC,
    .nc = NC,
    .a_bytes = a_bytes,
    .pack_a = pack_a,
    .gemm = gemm,
    .gemm_direct = gemm_direct,
    .direct_rows = DIRECT_ROWS,
    .direct_scratch = DIRECT_KC * DIRECT_NC,
    .epilogue = qmar__epilogue_avx512,
};
