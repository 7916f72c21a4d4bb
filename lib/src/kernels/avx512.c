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

const qmar__kernel qmar__kernel_avx512 = {
    .name = "avx512",
    .bfmt = {.nr = NR, .group = 4, .kalign = 4, .xor_mask = 0x80},
    .mr = MR,
    .mc = MC,
    .nc = NC,
    .a_bytes = a_bytes,
    .pack_a = pack_a,
    .gemm = gemm,
    .epilogue = qmar__epilogue_avx512,
};
