/* SPDX-License-Identifier: Apache-2.0 */
/* The AVX2 kernel. There is no exact 8-bit multiply-add in AVX2 (VPMADDUBSW saturates at
 * int16), so both operands are widened to int16 and VPMADDWD sums pairs exactly into int32:
 * x2 is packed in pairs of k (group 2) and sign-extended on load, x1 is packed as int16 pairs.
 * Micro-kernel: 6 rows x 16 columns (12 ymm accumulators), k blocked by KC. */
#include <immintrin.h>
#include <string.h>

#include "cpu.h"
#include "epilogue_simd.h"
#include "kernel.h"
#include "validate.h"

#define MR 6
#define NR 16
#define KC_GROUPS 256 /* k block: 512 values; a 16-column B slice is then 8 KiB */

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

/* Packed A: micro-panels of MR rows; for each pair of k values, MR int16 pairs (one int32 each),
 * zero-padded in k and rows. */
static uint64_t a_bytes(int64_t rows, int64_t k)
{
    return (uint64_t)align_up(rows, MR) * (uint64_t)align_up(k, 2) * 2u;
}

static void pack_a(const int8_t *a, int64_t lda, int64_t rows, int64_t k, void *dst)
{
    int64_t kp = align_up(k, 2), prows = align_up(rows, MR);
    for (int64_t r = 0; r < prows; r++) {
        int16_t *p = (int16_t *)dst + (r / MR) * MR * kp + (r % MR) * 2;
        for (int64_t t = 0; t < kp; t += 2) {
            p[t * MR] = r < rows && t < k ? a[r * lda + t] : 0;
            p[t * MR + 1] = r < rows && t + 1 < k ? a[r * lda + t + 1] : 0;
        }
    }
}

static inline int32_t load32(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

#define ROW(X) __m256i c##X##0, c##X##1
#define ZERO(X) c##X##0 = c##X##1 = _mm256_setzero_si256()
#define LOAD(X)                                                                                    \
    c##X##0 = _mm256_load_si256((const __m256i *)(c + X * ldc)),                                   \
    c##X##1 = _mm256_load_si256((const __m256i *)(c + X * ldc + 8))
#define STEP(X)                                                                                    \
    do {                                                                                           \
        __m256i av = _mm256_set1_epi32(load32(a + 12 * g + 2 * X));                                \
        c##X##0 = _mm256_add_epi32(c##X##0, _mm256_madd_epi16(av, b0));                           \
        c##X##1 = _mm256_add_epi32(c##X##1, _mm256_madd_epi16(av, b1));                           \
    } while (0)
#define STORE(X)                                                                                   \
    _mm256_store_si256((__m256i *)(c + X * ldc), c##X##0),                                         \
    _mm256_store_si256((__m256i *)(c + X * ldc + 8), c##X##1)

/* Two functions, not one with a branch: GCC keeps the accumulators in registers only when
 * nothing but the loop sits between their loads and stores. */
#define UKERNEL(NAME, START)                                                                       \
    __attribute__((noinline)) static void NAME(const int16_t *a, const int8_t *b, int64_t groups,  \
                                               int32_t *c, int64_t ldc)                            \
    {                                                                                              \
        ROW(0);                                                                                    \
        ROW(1);                                                                                    \
        ROW(2);                                                                                    \
        ROW(3);                                                                                    \
        ROW(4);                                                                                    \
        ROW(5);                                                                                    \
        START(0), START(1), START(2), START(3), START(4), START(5);                                 \
        for (int64_t g = 0; g < groups; g++) {                                                     \
            __m256i b0 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(b + 32 * g)));      \
            __m256i b1 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(b + 32 * g + 16))); \
            STEP(0);                                                                               \
            STEP(1);                                                                               \
            STEP(2);                                                                               \
            STEP(3);                                                                               \
            STEP(4);                                                                               \
            STEP(5);                                                                               \
        }                                                                                          \
        STORE(0), STORE(1), STORE(2), STORE(3), STORE(4), STORE(5);                                \
    }
UKERNEL(ukernel_first, ZERO)
UKERNEL(ukernel_next, LOAD)

static void gemm(const void *pa, int64_t rows, const void *pb, int64_t k, int64_t n, int64_t j0,
                 int64_t j1, int32_t *c, int64_t ldc)
{
    (void)n;
    int64_t kp = align_up(k, 2), groups = kp / 2, prows = align_up(rows, MR);
    for (int64_t g0 = 0; g0 < groups; g0 += KC_GROUPS) {
        int64_t gn = groups - g0 < KC_GROUPS ? groups - g0 : KC_GROUPS;
        for (int64_t j = j0; j < j1; j += NR) {
            const int8_t *bp = (const int8_t *)pb + (j / NR) * kp * NR + g0 * NR * 2;
            for (int64_t r = 0; r < prows; r += MR)
                (g0 == 0 ? ukernel_first : ukernel_next)((const int16_t *)pa + r * kp + g0 * MR * 2,
                                                         bp, gn, c + r * ldc + (j - j0), ldc);
        }
    }
}

#define BFMT {.nr = NR, .group = 2, .kalign = 2, .xor_mask = 0}
static const qmar__bfmt bfmt = BFMT;

/* ---- the staged path: x2 read where it lies, never packed whole ----
 * For FRACTAL_NZ (which Run must not copy) and any other layout: one slice of KC_GROUPS pairs of
 * k x 16 columns at a time is packed by qmar__stage_b (stage_b.c) into a buffer of 8 KiB (the
 * packed-B layout of that small matrix, which is the slice gemm reads from a packed B) and
 * multiplied by every micro-panel of the tile. */

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static uint64_t staged_scratch(int64_t k)
{
    return (uint64_t)min64(align_up(k, 2), 2 * KC_GROUPS) * NR;
}

static void gemm_staged(const void *pa, int64_t rows, const qmar__b_src *b, int64_t j0,
                        int64_t j1, int32_t *c, int64_t ldc, void *scratch)
{
    int64_t k = b->k, kp = align_up(k, 2), groups = kp / 2, prows = align_up(rows, MR);
    for (int64_t g0 = 0; g0 < groups; g0 += KC_GROUPS) {
        int64_t gn = groups - g0 < KC_GROUPS ? groups - g0 : KC_GROUPS;
        int64_t t0 = 2 * g0, t1 = min64(t0 + 2 * gn, k);
        for (int64_t j = j0; j < j1; j += NR) {
            qmar__stage_b(&bfmt, b, t0, t1, j, min64(j + NR, j1), scratch);
            for (int64_t r = 0; r < prows; r += MR)
                (g0 == 0 ? ukernel_first : ukernel_next)((const int16_t *)pa + r * kp + g0 * MR * 2,
                                                         scratch, gn, c + r * ldc + (j - j0), ldc);
        }
    }
}

/* Row tiles from the CPU's L2 (per core): the tile's packed A for one k block (int16, 2 * KC_GROUPS
 * pairs a row) takes 3/8 of it, as avx512.c's rule; 384 rows on 1 MiB. Tall tiles matter to the
 * staged path, which stages each byte of x2 once per tile. */
static void tune(qmar__kernel *self)
{
    const qmar__cpu *cpu = qmar__cpu_facts();
    int64_t l2 = cpu->l2 / (cpu->l2_sharing > 1 ? cpu->l2_sharing : 1);
    int64_t mc = l2 * 3 / 8 / (KC_GROUPS * 2 * 2) / MR * MR;
    self->mc = (int32_t)(mc < 2 * MR ? 2 * MR : mc > 1536 ? 1536 : mc);
}

const qmar__kernel qmar__kernel_avx2 = {
    .name = "avx2",
    .bfmt = BFMT,
    .mr = MR,
    .mc = 96,
    .nc = 256,
    .tune = tune,
    .a_bytes = a_bytes,
    .pack_a = pack_a,
    .gemm = gemm,
    .gemm_staged = gemm_staged,
    .staged_scratch = staged_scratch,
    .inplace_layouts = 1u << QMAR__X2_NZ | 1u << QMAR__X2_NZ_T,
    .epilogue = qmar__epilogue_avx2,
};
