/* SPDX-License-Identifier: Apache-2.0 */
/* Every kernel this machine runs against the portable one, on the same inputs (checkasm style):
 * int32 sums over many shapes (edges of the micro-kernels' rows, columns and k blocks, k up to
 * 65535), every x2 layout, extreme values and thread counts; the vectorised epilogues against the
 * reference on adversarial floats (denormals, ties, overflow, NaN, -0, int32-overflowing bias).
 * Outputs sit between guard words, rows are strided with guards in the gaps. The AMX kernel's
 * blocking and layouts also run with the tile instructions emulated. Fails if an ISA this CPU
 * supports was never run. `test_kernels exhaustive` also converts every fp32 bit pattern. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "compute.h"
#include "fp.h"
#include "kernels/cpu.h"
#include "kernels/epilogue_simd.h"
#include "kernels/kernel.h"
#include "nz.h"
#include "validate.h"

extern const qmar__kernel qmar__kernel_amx_emulated;

#define GUARD 64 /* guard elements before and after every output */

typedef struct variant {
    const char *name;
    const qmar__kernel *k;
    int64_t gemm_runs, epilogue_runs, direct_runs; /* direct: computes that took gemm_direct */
    int64_t staged_runs;                           /* computes that took gemm_staged */
} variant;

static variant variants[8];
static int nvariants;

static uint64_t rng = 0x243F6A8885A308D3u;

static uint64_t next(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

/* ---- x2 in each stored layout ---- */

static int64_t stored_elems(int32_t layout, int64_t k, int64_t n)
{
    if (layout == QMAR__X2_NZ)
        return align_up(k, 16) * align_up(n, 32);
    if (layout == QMAR__X2_NZ_T)
        return align_up(n, 16) * align_up(k, 32);
    return k * n;
}

/* Stores b (k x n, row-major) in `layout`; NZ padding gets garbage, which must never matter. */
static void store_x2(const int8_t *b, int64_t k, int64_t n, int32_t layout, int8_t *x2)
{
    int64_t total = stored_elems(layout, k, n);
    for (int64_t i = 0; i < total; i++)
        x2[i] = (int8_t)next();
    for (int64_t t = 0; t < k; t++)
        for (int64_t j = 0; j < n; j++) {
            int64_t at;
            switch (layout) {
            case QMAR__X2_ND: at = t * n + j; break;
            case QMAR__X2_ND_T: at = j * k + t; break;
            case QMAR__X2_NZ: at = qmar__nz_index(t, j, k); break;
            default: at = qmar__nz_index(j, t, n); break;
            }
            x2[at] = b[t * n + j];
        }
}

/* data: 0 random, 1 only -128/127, 2 all -128 (largest sum), 3 x1 -128 and x2 127 (smallest) */
static void fill_s8(int8_t *v, int64_t len, int data, int is_b)
{
    for (int64_t i = 0; i < len; i++) {
        uint64_t r = next();
        switch (data) {
        case 0: v[i] = (int8_t)r; break;
        case 1: v[i] = r & 1 ? 127 : -128; break;
        case 2: v[i] = -128; break;
        default: v[i] = is_b ? 127 : -128; break;
        }
    }
}

static int32_t forced_mode = -2; /* a QMAR__MODE_* for every compute, or -2: random */

/* QMAR__MODE_PACKED, _FUSED, _DIRECT or _STAGED (the last two fall back where they do not
 * apply). */
static int32_t random_mode(void)
{
    static const int32_t modes[] = {QMAR__MODE_PACKED, QMAR__MODE_FUSED, QMAR__MODE_DIRECT,
                                    QMAR__MODE_STAGED};
    return forced_mode != -2 ? forced_mode : modes[next() % 4];
}

static void count_direct(const qmar__compute *c)
{
    for (int v = 0; v < nvariants; v++)
        if (variants[v].k == c->kern) {
            variants[v].direct_runs += c->direct;
            variants[v].staged_runs += c->staged;
        }
}

/* ---- guarded outputs ---- */

/* Every guard element holds the first `size` bytes of this (0x5AA5A55A little-endian). */
static const uint8_t GUARD_BYTES[4] = {0x5A, 0xA5, 0xA5, 0x5A};

/* rows x ld elements of `size` bytes with GUARD guard elements before and after. */
static void *guarded(int64_t rows, int64_t ld, size_t size)
{
    int64_t len = 2 * GUARD + rows * ld;
    uint8_t *p = malloc((size_t)len * size);
    for (int64_t i = 0; i < len; i++)
        memcpy(p + (size_t)i * size, GUARD_BYTES, size);
    return p;
}

/* 1 if every element outside the rows x cols block at element GUARD (row stride ld) is intact. */
static int guards_ok(const void *p, int64_t rows, int64_t cols, int64_t ld, size_t size)
{
    int64_t len = 2 * GUARD + rows * ld;
    for (int64_t i = 0; i < len; i++) {
        int64_t o = i - GUARD;
        int inside = o >= 0 && o < rows * ld && o % ld < cols;
        if (!inside && memcmp((const uint8_t *)p + (size_t)i * size, GUARD_BYTES, size) != 0)
            return 0;
    }
    return 1;
}

/* Y bits equal, or both NaN. */
static int same_y(uint16_t a, uint16_t b, int32_t y)
{
    if (a == b)
        return 1;
    float fa = qmar__y_to_f32(a, y), fb = qmar__y_to_f32(b, y);
    return fa != fa && fb != fb;
}

/* ---- GEMM: every variant's int32 sums == the portable kernel's == a plain triple loop ---- */

static qmar__epilogue dummy_epilogue(int64_t n, const uint16_t *ones)
{
    qmar__epilogue p = {.y = QMAR_BF16, .mode = QMAR__DQ_BF16, .n = n, .scale = ones};
    return p;
}

/* acc of kernel kern with `threads` threads, computed in two row ranges [0, split), [split, m)
 * as a row-tiled caller would; NULL on allocation failure. */
static uint32_t *run_acc(const qmar__kernel *kern, int32_t threads, const int8_t *x1,
                         const int8_t *x2, int32_t layout, int64_t m, int64_t k, int64_t n,
                         int64_t ld, int64_t split, const uint16_t *ones)
{
    qmar__compute c; /* every mode (packed, fused, direct where it applies), whatever the shape */
    if (qmar__compute_init_mode(&c, kern, threads, m, k, n, layout, random_mode()) != QMAR_SUCCESS) {
        qmar__compute_free(&c);
        return NULL;
    }
    qmar__epilogue ep = dummy_epilogue(n, ones);
    count_direct(&c);
    qmar__compute_prepare(&c, x1, x2, &ep);
    uint32_t *out = guarded(m, ld, 4);
    qmar__compute_acc(&c, 0, split, (int32_t *)out + GUARD, ld);
    qmar__compute_acc(&c, split, m - split, (int32_t *)out + GUARD + split * ld, ld);
    qmar__compute_free(&c);
    return out;
}

static void check_gemm(int64_t m, int64_t k, int64_t n, int data, int32_t layout, int32_t threads)
{
    int8_t *x1 = malloc((size_t)(m * k)), *b = malloc((size_t)(k * n));
    int8_t *x2 = malloc((size_t)stored_elems(layout, k, n));
    uint16_t *ones = malloc((size_t)n * 2);
    for (int64_t j = 0; j < n; j++)
        ones[j] = 0x3F80;
    fill_s8(x1, m * k, data, 0);
    fill_s8(b, k * n, data, 1);
    store_x2(b, k, n, layout, x2);
    int64_t ld = n + (int64_t)(next() % 5), split = (int64_t)(next() % (uint64_t)(m + 1));
    uint32_t *ref = run_acc(&qmar__kernel_portable, 1, x1, x2, layout, m, k, n, ld, split, ones);
    CHECK(ref != NULL);
    if (ref == NULL)
        goto out;
    /* the reference itself against a triple loop, on the smaller shapes */
    if (m * k * n <= (1 << 22)) {
        int64_t bad = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                int64_t s = 0;
                for (int64_t t = 0; t < k; t++)
                    s += (int64_t)x1[i * k + t] * b[t * n + j];
                bad += (int32_t)ref[GUARD + i * ld + j] != s;
            }
        CHECK_EQ_I64(bad, 0);
    }
    for (int v = 0; v < nvariants; v++) {
        if (variants[v].k == &qmar__kernel_portable)
            continue;
        if (variants[v].k == &qmar__kernel_amx_emulated && m * k * n > (1 << 24))
            continue; /* the emulation is slow */
        uint32_t *got = run_acc(variants[v].k, threads, x1, x2, layout, m, k, n, ld, split, ones);
        CHECK(got != NULL);
        if (got == NULL)
            continue;
        int64_t bad = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                bad += got[GUARD + i * ld + j] != ref[GUARD + i * ld + j];
        int guards = guards_ok(got, m, n, ld, 4);
        CHECK(bad == 0 && guards);
        if (bad != 0 || !guards)
            fprintf(stderr, "  gemm %s: m=%lld k=%lld n=%lld layout=%d data=%d threads=%d: %lld "
                            "wrong, guards %s\n",
                    variants[v].name, (long long)m, (long long)k, (long long)n, (int)layout, data,
                    (int)threads, (long long)bad, guards ? "intact" : "overwritten");
        variants[v].gemm_runs++;
        free(got);
    }
    free(ref);
out:
    free(x1);
    free(b);
    free(x2);
    free(ones);
}

static void gemm_suite(void)
{
    static const int64_t ms[] = {1, 2, 5, 6, 7, 12, 16, 17, 31, 32, 33, 63, 64, 97, 191, 192, 193, 250};
    static const int64_t ks[] = {1, 2, 3, 4, 5, 7, 8, 31, 63, 64, 65, 127, 128, 129, 255, 256,
                                 511, 512, 513, 1023, 1024, 1025, 2049};
    static const int64_t ns[] = {1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 127, 128,
                                 129, 255, 256, 257, 300, 513};
#define PICK(a) a[next() % (sizeof a / sizeof a[0])]
    for (int i = 0; i < 400; i++) {
        int64_t m = PICK(ms), k = PICK(ks), n = PICK(ns);
        while (m * k * n > (1 << 24))
            k = k / 2 + 1;
        int data = (int)(next() % 4);
        check_gemm(m, k, n, data, (int32_t)(next() % 4), 1);
    }
    /* the largest k (numerics.md §1: the sums are exact in int32 up to 65535 * 2^14) */
    static const int64_t big[][3] = {{1, 65535, 1}, {3, 65535, 5}, {7, 65535, 65}, {33, 40001, 17}};
    for (unsigned i = 0; i < sizeof big / sizeof big[0]; i++)
        for (int data = 0; data < 4; data++)
            check_gemm(big[i][0], big[i][1], big[i][2], data, (int32_t)(next() % 4), 1);
    /* threads: several row tiles and column blocks, split over 2 and 3 threads */
    static const int64_t par[][3] = {{400, 1025, 300}, {37, 2049, 700}, {500, 130, 520}};
    for (unsigned i = 0; i < sizeof par / sizeof par[0]; i++)
        for (int32_t th = 2; th <= 3; th++)
            check_gemm(par[i][0], par[i][1], par[i][2], 0, (int32_t)(next() % 4), th);
}

/* The kernels' direct paths, x2 read where it lies. Few rows (every m up to 17, ND; fewer m in
 * the other layouts), then up to one row tile (direct_rows) in any layout: k around the group of 4, the 64 k
 * values of a column line, the kernels' k blocks and stage depths, n around the 32-column NZ
 * strips, the 64-column slices and the column blocks, extreme values, 1-3 threads. Then many
 * rows in FRACTAL_NZ (plain and transposed), which is never packed: row tiles, k blocks and
 * stages crossed. */
static void direct_suite(void)
{
    static const int64_t ks[] = {1, 2, 3, 4, 5, 63, 64, 65, 255, 513, 1027, 4096};
    static const int64_t ns[] = {1, 15, 33, 63, 64, 65, 200, 256, 257, 513};
    static const int64_t few_ms[] = {1, 5, 7, 16};
    static const int64_t few_ks[] = {1, 3, 4, 5, 63, 64, 65, 513, 1027};
    static const int64_t few_ns[] = {1, 33, 63, 64, 65, 257};
    int32_t most = 0;
    for (int v = 0; v < nvariants; v++)
        for (int32_t layout = QMAR__X2_ND; layout <= QMAR__X2_NZ_T; layout++)
            if (variants[v].k->gemm_direct != NULL && variants[v].k->direct_rows[layout] > most)
                most = variants[v].k->direct_rows[layout];
    forced_mode = QMAR__MODE_DIRECT;
    for (int64_t m = 1; m <= 17; m++) /* every m of the decode shapes (avx512: up to 16) */
        for (unsigned i = 0; i < sizeof ks / sizeof ks[0]; i++)
            for (unsigned j = 0; j < sizeof ns / sizeof ns[0]; j++)
                check_gemm(m, ks[i], ns[j], (int)(next() % 4), QMAR__X2_ND,
                           (int32_t)(next() % 3) + 1);
    const int64_t tile_ms[] = {18, 61, most - 1, most, most + 1}; /* up to one row tile */
    static const int64_t tile_ks[] = {1, 5, 65, 513};
    for (unsigned mi = 0; mi < sizeof tile_ms / sizeof tile_ms[0]; mi++)
        for (unsigned i = 0; i < sizeof tile_ks / sizeof tile_ks[0]; i++)
            check_gemm(tile_ms[mi], tile_ks[i], few_ns[next() % 6], (int)(next() % 4),
                       (int32_t)(next() % 4), (int32_t)(next() % 3) + 1);
    for (int32_t layout = QMAR__X2_ND_T; layout <= QMAR__X2_NZ_T; layout++)
        for (unsigned mi = 0; mi < sizeof few_ms / sizeof few_ms[0]; mi++)
            for (unsigned i = 0; i < sizeof few_ks / sizeof few_ks[0]; i++)
                for (unsigned j = 0; j < sizeof few_ns / sizeof few_ns[0]; j++)
                    check_gemm(few_ms[mi], few_ks[i], few_ns[j], (int)(next() % 4), layout,
                               (int32_t)(next() % 3) + 1);
    for (int data = 0; data < 4; data++) { /* the largest k; several column blocks on threads */
        int32_t layout = data; /* each layout once */
        check_gemm(1 + (int64_t)(next() % (uint64_t)(most + 1)), 65535, 17, data, layout, 1);
        check_gemm(1 + (int64_t)(next() % (uint64_t)(most + 1)), 4097, 1000, data, QMAR__X2_ND,
                   2 + data % 2);
        check_gemm(1 + (int64_t)(next() % (uint64_t)(most + 1)), 4097, 1000, data, layout,
                   2 + data % 2);
    }
    /* avx512's decode path (ND m <= 4, FRACTAL_NZ m <= 16, the transposed layouts m <= 8; one
     * more row is past it): k around the groups of 4, the bands of rows swept across the columns
     * (4 to 16 rows, and beyond), the 64 k values of ND_T's dot products and NZ_T's strips of
     * 32, n around the 32-column strips, the 64-column chunks, ND_T's blocks of 2 and 4 columns
     * and NZ_T's column pairs, column blocks split over threads (the driver's j0 > 0) */
    static const int64_t dec_ks[] = {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 129,
                                     1031};
    static const int64_t dec_ns[] = {1, 2, 3, 5, 31, 32, 33, 63, 64, 65, 96, 127, 129, 200, 1000};
    for (int64_t m = 1; m <= 9; m++)
        for (int32_t layout = m <= 5 ? QMAR__X2_ND : QMAR__X2_ND_T; layout <= QMAR__X2_NZ_T;
             layout++)
            for (unsigned i = 0; i < sizeof dec_ks / sizeof dec_ks[0]; i++)
                for (unsigned j = 0; j < sizeof dec_ns / sizeof dec_ns[0]; j++)
                    check_gemm(m, dec_ks[i], dec_ns[j], (int)(next() % 4), layout,
                               (int32_t)(next() % 3) + 1);
    /* FRACTAL_NZ past 8 rows: two passes over each chunk of a strip's k (the chunk a quarter of
     * L2: k = 20001 crosses two or more chunk ends on any L2 up to 2 MiB) */
    static const int64_t nz_ms[] = {10, 16, 17};
    for (unsigned mi = 0; mi < sizeof nz_ms / sizeof nz_ms[0]; mi++)
        for (unsigned i = 0; i < sizeof dec_ks / sizeof dec_ks[0]; i++)
            check_gemm(nz_ms[mi], dec_ks[i], dec_ns[next() % 15], (int)(next() % 4), QMAR__X2_NZ,
                       (int32_t)(next() % 3) + 1);
    for (int64_t m = 9; m <= 16; m += 7)
        check_gemm(m, 20001, 65, (int)(next() % 4), QMAR__X2_NZ, 1);
    for (int64_t m = 1; m <= 8; m++) /* enough work for threads: blocks from j0 = 384, 576 */
        for (int32_t layout = QMAR__X2_ND; layout <= QMAR__X2_NZ_T; layout++)
            if (m <= 4 || layout != QMAR__X2_ND)
                check_gemm(m, 8195, 1100, (int)(next() % 4), layout, 2 + (int32_t)(m % 2));
    /* (m, k, n): past the direct rows, past a row tile (m = 390 and 800 cross the tiles of
     * 384 rows that 1 MiB of L2 gives), around the k blocks and the stage depth (512) */
    static const int64_t many[][3] = {{18, 1100, 300}, {97, 513, 200}, {390, 7, 65},
                                      {390, 513, 33},  {97, 1, 1},     {18, 511, 65},
                                      {800, 64, 70},   {40, 4097, 129}};
    for (int32_t layout = QMAR__X2_NZ; layout <= QMAR__X2_NZ_T; layout++)
        for (unsigned i = 0; i < sizeof many / sizeof many[0]; i++)
            check_gemm(many[i][0], many[i][1], many[i][2], (int)(next() % 4), layout,
                       (int32_t)(next() % 3) + 1);
    forced_mode = -2;
}

/* The kernels' staged paths (packed rows times x2 staged slice by slice), forced: every layout,
 * m around the micro-panel (the last panel's rows from 1 to mr) and past a row tile, k around the
 * group of 4, the 64 k values of a column line and the k blocks (1024 on 1 MiB of L2), n around
 * the 32-column NZ strips and the 64-column slices, 1-3 threads. */
static void staged_suite(void)
{
    static const int64_t ms[] = {1, 5, 6, 7, 11, 12, 13, 64, 128, 383, 385, 800};
    static const int64_t ks[] = {1, 3, 4, 5, 63, 64, 65, 1023, 1024, 1025, 2049, 4100};
    static const int64_t ns[] = {1, 31, 32, 33, 63, 64, 65, 129, 300};
    forced_mode = QMAR__MODE_STAGED;
    for (int32_t layout = QMAR__X2_ND; layout <= QMAR__X2_NZ_T; layout++)
        for (unsigned i = 0; i < sizeof ms / sizeof ms[0]; i++)
            for (int rep = 0; rep < 3; rep++) {
                int64_t m = ms[i], k = PICK(ks), n = PICK(ns);
                while (m * k * n > (1 << 24))
                    k = k / 2 + 1;
                check_gemm(m, k, n, (int)(next() % 4), layout, (int32_t)(next() % 3) + 1);
            }
    check_gemm(7, 65535, 65, 1, QMAR__X2_NZ, 1); /* the largest k */
    forced_mode = -2;
}

/* ---- epilogue: every variant's vector epilogue == qmar__epilogue_block ---- */

static uint32_t random_f32_bits(int exponent_lo, int exponent_hi)
{
    uint64_t r = next();
    switch (r % 16) {
    case 0: { /* specials */
        static const uint32_t v[] = {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u,
                                     0x7FC00000u, 0xFFC00001u, 0x7F800001u, 0x00000001u,
                                     0x807FFFFFu, 0x7F7FFFFFu, 0x3F800000u, 0x33000000u,
                                     0x477FF000u, 0x477FEFFFu, 0x38800000u, 0x387FFFFFu};
        return v[(r >> 8) % 16];
    }
    case 1: /* a power of two: products with small sums then carry exact ties */
        return (uint32_t)((r >> 8) & 1) << 31 |
               (uint32_t)(exponent_lo + (int)((r >> 9) % (uint64_t)(exponent_hi - exponent_lo)))
                   << 23;
    case 2: return (uint32_t)(r >> 16); /* anything at all, NaN payloads included */
    default: { /* sign, exponent in range, random significand */
        uint32_t e = (uint32_t)(exponent_lo + (int)((r >> 9) % (uint64_t)(exponent_hi - exponent_lo)));
        return (uint32_t)((r >> 8) & 1) << 31 | e << 23 | (uint32_t)(r >> 32) >> 9;
    }
    }
}

static uint16_t random_y_bits(int32_t y)
{
    uint64_t r = next();
    if (r % 8 == 0) {
        static const uint16_t f16[] = {0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0x0001,
                                       0x83FF, 0x7BFF, 0x0400};
        static const uint16_t bf16[] = {0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x0001,
                                        0x807F, 0x7F7F, 0x0080};
        return (y == QMAR_BF16 ? bf16 : f16)[(r >> 8) % 10];
    }
    return qmar__f32_to_y(qmar__f32_from_bits(random_f32_bits(100, 150)), y);
}

static int32_t random_acc(void)
{
    uint64_t r = next();
    switch (r % 4) {
    case 0: return (int32_t)(r >> 32); /* anything */
    case 1: return (int32_t)((r >> 32) % 4097) - 2048; /* small: exact ties */
    case 2: return r & 0x100 ? INT32_MAX - (int32_t)((r >> 40) % 3) : INT32_MIN + (int32_t)((r >> 40) % 3);
    default: return (int32_t)((r >> 32) % 2000001) - 1000000;
    }
}

typedef struct epi_case {
    qmar__epilogue p;
    int32_t *acc;
    void *scale;
    float *pertoken, *scale_col;
    int32_t *bias;
    uint16_t *x3;
    int64_t rows, ldacc;
} epi_case;

/* A random epilogue over `rows` x n with row numbers starting at row0 (x3 has row0 + rows rows). */
static epi_case make_epi(int32_t y, int32_t mode, int per_tensor, int has_bias, int has_x3,
                         int64_t row0, int64_t rows, int64_t n)
{
    epi_case c = {0};
    c.rows = rows, c.ldacc = n + (int64_t)(next() % 4);
    c.acc = malloc((size_t)(rows * c.ldacc) * 4);
    for (int64_t i = 0; i < rows * c.ldacc; i++)
        c.acc[i] = random_acc();
    int64_t ns = per_tensor ? 1 : n;
    if (mode == QMAR__DQ_WORDS) {
        uint64_t *w = malloc((size_t)ns * 8);
        for (int64_t j = 0; j < ns; j++)
            w[j] = (uint64_t)next() << 32 | random_f32_bits(90, 140);
        c.scale = w;
    } else if (y == QMAR_BF16) {
        uint16_t *s = malloc((size_t)ns * 2);
        for (int64_t j = 0; j < ns; j++)
            s[j] = qmar__f32_to_bf16(qmar__f32_from_bits(random_f32_bits(90, 140)));
        c.scale = s;
    } else {
        float *s = malloc((size_t)ns * 4);
        for (int64_t j = 0; j < ns; j++)
            s[j] = qmar__f32_from_bits(random_f32_bits(90, 140));
        c.scale = s;
    }
    if (mode == QMAR__DQ_PERTOKEN) {
        c.pertoken = malloc((size_t)(row0 + rows) * 4);
        for (int64_t i = 0; i < row0 + rows; i++)
            c.pertoken[i] = qmar__f32_from_bits(random_f32_bits(100, 150));
    }
    if (has_bias) {
        c.bias = malloc((size_t)n * 4);
        for (int64_t j = 0; j < n; j++)
            c.bias[j] = random_acc();
    }
    if (has_x3) {
        c.x3 = malloc((size_t)((row0 + rows) * n) * 2);
        for (int64_t i = 0; i < (row0 + rows) * n; i++)
            c.x3[i] = random_y_bits(y);
    }
    c.p = (qmar__epilogue){.y = y, .mode = mode, .n = n, .scale = c.scale,
                           .scale_step = per_tensor ? 0 : 1, .pertoken = c.pertoken,
                           .bias = c.bias, .x3 = c.x3};
    c.scale_col = malloc((size_t)n * 4);
    qmar__epilogue_scales(&c.p, c.scale_col);
    c.p.scale_col = c.scale_col;
    return c;
}

static void free_epi(epi_case *c)
{
    free(c->acc);
    free(c->scale);
    free(c->pertoken);
    free(c->scale_col);
    free(c->bias);
    free(c->x3);
}

/* Runs every variant's epilogue on columns [j0, j1) and compares with the reference. */
static void compare_epilogues(const epi_case *c, int64_t row0, int64_t j0, int64_t j1)
{
    int64_t cols = j1 - j0, lde = cols + (int64_t)(next() % 4);
    uint16_t *ref = guarded(c->rows, lde, 2);
    qmar__epilogue_block(&c->p, c->acc + j0, c->ldacc, row0, c->rows, j0, j1, ref + GUARD, lde);
    for (int v = 0; v < nvariants; v++) {
        if (variants[v].k->epilogue == qmar__epilogue_block)
            continue;
        uint16_t *got = guarded(c->rows, lde, 2);
        variants[v].k->epilogue(&c->p, c->acc + j0, c->ldacc, row0, c->rows, j0, j1, got + GUARD,
                                lde);
        int64_t bad = 0, first = -1;
        for (int64_t r = 0; r < c->rows; r++)
            for (int64_t j = 0; j < cols; j++)
                if (!same_y(got[GUARD + r * lde + j], ref[GUARD + r * lde + j], c->p.y)) {
                    if (first < 0)
                        first = r * lde + j;
                    bad++;
                }
        int guards = guards_ok(got, c->rows, cols, lde, 2);
        CHECK(bad == 0 && guards);
        if (bad != 0 || !guards)
            fprintf(stderr, "  epilogue %s: y=%d mode=%d bias=%d x3=%d cols [%lld, %lld): %lld "
                            "wrong (first: got %04x want %04x), guards %s\n",
                    variants[v].name, (int)c->p.y, (int)c->p.mode, c->p.bias != NULL,
                    c->p.x3 != NULL, (long long)j0, (long long)j1, (long long)bad,
                    first < 0 ? 0 : got[GUARD + first], first < 0 ? 0 : ref[GUARD + first],
                    guards ? "intact" : "overwritten");
        variants[v].epilogue_runs++;
        free(got);
    }
    free(ref);
}

static void epilogue_suite(void)
{
    static const int64_t ns[] = {1, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257};
    for (int32_t yi = 0; yi < 2; yi++)
        for (int32_t mode = 0; mode < 3; mode++)
            for (int flags = 0; flags < 8; flags++)
                for (int rep = 0; rep < 12; rep++) {
                    int32_t y = yi ? QMAR_BF16 : QMAR_FLOAT16;
                    if (mode == QMAR__DQ_WORDS && y == QMAR_BF16)
                        continue; /* words are FP16-only */
                    if (mode == QMAR__DQ_BF16 && y != QMAR_BF16)
                        continue;
                    int64_t n = ns[next() % (sizeof ns / sizeof ns[0])], rows = 1 + next() % 9;
                    int64_t row0 = (int64_t)(next() % 5);
                    epi_case c = make_epi(y, mode, flags & 1, flags >> 1 & 1, flags >> 2 & 1,
                                          row0, rows, n);
                    compare_epilogues(&c, row0, 0, n);
                    int64_t j0 = (int64_t)(next() % (uint64_t)n);
                    compare_epilogues(&c, row0, j0, j0 + (int64_t)(next() % (uint64_t)(n - j0)) + 1);
                    free_epi(&c);
                }
}

/* fp32 values through the Y conversions of every epilogue: acc = 1, column j's scale 2^(j-8)
 * and row i's pertoken v_i make the value rne_Y(v_i * 2^(j-8)); v_i runs over every sign,
 * significand and exponent 16q + 8, so the 16 columns reach every exponent. stride 1 is all
 * 2^32 patterns (normal range; `exhaustive`), a larger stride a sample. */
static void conversion_sweep(uint64_t stride)
{
    enum { ROWS = 4096, COLS = 16 };
    static float pts[ROWS];
    static uint16_t ref[ROWS * COLS], got[ROWS * COLS];
    for (int32_t yi = 0; yi < 2; yi++) {
        int32_t y = yi ? QMAR_BF16 : QMAR_FLOAT16;
        epi_case c = make_epi(y, QMAR__DQ_PERTOKEN, 0, 0, 0, 0, 1, COLS);
        for (int64_t j = 0; j < COLS; j++) {
            c.acc[j] = 1;
            uint32_t e = (uint32_t)(127 + j - 8);
            if (y == QMAR_BF16)
                ((uint16_t *)c.scale)[j] = (uint16_t)(e << 7);
            else
                ((float *)c.scale)[j] = qmar__f32_from_bits(e << 23);
        }
        qmar__epilogue_scales(&c.p, c.scale_col);
        qmar__epilogue p = c.p;
        p.pertoken = pts;
        for (uint64_t base = 0; base < (1ULL << 28); base += (uint64_t)ROWS * stride) {
            for (int64_t i = 0; i < ROWS; i++) {
                uint64_t x = (base + (uint64_t)i * stride + (stride > 1 ? next() % stride : 0)) &
                             ((1ULL << 28) - 1);
                uint32_t exp = (uint32_t)(x >> 23 & 15) * 16 + 8;
                pts[i] = qmar__f32_from_bits((uint32_t)(x >> 27) << 31 | exp << 23 |
                                             (uint32_t)(x & 0x7FFFFF));
            }
            qmar__epilogue_block(&p, c.acc, 0, 0, ROWS, 0, COLS, ref, COLS);
            for (int v = 0; v < nvariants; v++) {
                if (variants[v].k->epilogue == qmar__epilogue_block)
                    continue;
                variants[v].k->epilogue(&p, c.acc, 0, 0, ROWS, 0, COLS, got, COLS);
                int64_t bad = 0;
                for (int64_t i = 0; i < ROWS * COLS; i++)
                    bad += !same_y(got[i], ref[i], y);
                CHECK_EQ_I64(bad, 0);
                variants[v].epilogue_runs++;
            }
        }
        free_epi(&c);
    }
}

/* ---- the whole compute path: packing, row tiles, column blocks, threads, epilogue ---- */

static uint16_t *run_rows(const qmar__kernel *kern, int32_t threads, const int8_t *x1,
                          const int8_t *x2, int32_t layout, int64_t m, int64_t k, int64_t n,
                          const qmar__epilogue *ep, int64_t lde, int64_t split)
{
    qmar__compute c;
    if (qmar__compute_init_mode(&c, kern, threads, m, k, n, layout, random_mode()) != QMAR_SUCCESS) {
        qmar__compute_free(&c);
        return NULL;
    }
    count_direct(&c);
    qmar__compute_prepare(&c, x1, x2, ep);
    uint16_t *e = guarded(m, lde, 2);
    qmar__compute_rows(&c, 0, split, e + GUARD, lde);
    qmar__compute_rows(&c, split, m - split, e + GUARD + split * lde, lde);
    qmar__compute_free(&c);
    return e;
}

static void check_rows(int64_t m, int64_t k, int64_t n, int32_t threads)
{
    int32_t y = next() & 1 ? QMAR_BF16 : QMAR_FLOAT16;
    int32_t mode = next() % 2 ? QMAR__DQ_PERTOKEN : y == QMAR_BF16 ? QMAR__DQ_BF16 : QMAR__DQ_WORDS;
    int per_tensor = (int)(next() % 3 == 0), has_bias = (int)(next() & 1);
    int has_x3 = (int)(next() & 1);
    epi_case ec = make_epi(y, mode, per_tensor, has_bias, has_x3, 0, m, n);
    int32_t layout = (int32_t)(next() % 4);
    int8_t *x1 = malloc((size_t)(m * k)), *b = malloc((size_t)(k * n));
    int8_t *x2 = malloc((size_t)stored_elems(layout, k, n));
    fill_s8(x1, m * k, 0, 0);
    fill_s8(b, k * n, 0, 1);
    store_x2(b, k, n, layout, x2);
    int64_t lde = n + (int64_t)(next() % 3), split = (int64_t)(next() % (uint64_t)(m + 1));
    uint16_t *ref = run_rows(&qmar__kernel_portable, 1, x1, x2, layout, m, k, n, &ec.p, lde, split);
    CHECK(ref != NULL);
    for (int v = 0; ref != NULL && v < nvariants; v++) {
        if (variants[v].k == &qmar__kernel_portable ||
            (variants[v].k == &qmar__kernel_amx_emulated && m * k * n > (1 << 24)))
            continue;
        uint16_t *got = run_rows(variants[v].k, threads, x1, x2, layout, m, k, n, &ec.p, lde, split);
        CHECK(got != NULL);
        if (got == NULL)
            continue;
        int64_t bad = 0;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                bad += !same_y(got[GUARD + i * lde + j], ref[GUARD + i * lde + j], y);
        int guards = guards_ok(got, m, n, lde, 2);
        CHECK(bad == 0 && guards);
        if (bad != 0 || !guards)
            fprintf(stderr, "  rows %s: m=%lld k=%lld n=%lld y=%d mode=%d threads=%d: %lld wrong, "
                            "guards %s\n",
                    variants[v].name, (long long)m, (long long)k, (long long)n, (int)y, (int)mode,
                    (int)threads, (long long)bad, guards ? "intact" : "overwritten");
        variants[v].gemm_runs++;
        free(got);
    }
    free(ref);
    free(x1);
    free(b);
    free(x2);
    free_epi(&ec);
}

/* Row tiles as even as micro-panels allow: the fewest tiles of at most `most` rows, and the
 * smallest multiple of mr that keeps that count (a tile one micro-panel shorter would need
 * another tile). */
static void tile_suite(void)
{
    static const int64_t mosts[] = {6, 12, 96, 384, 510};
    for (unsigned i = 0; i < sizeof mosts / sizeof mosts[0]; i++)
        for (int64_t rows = 1; rows <= 2100; rows++) {
            int64_t most = mosts[i], t = qmar__even_tile(rows, most, 6);
            int64_t tiles = (rows + t - 1) / t;
            if (rows <= most) {
                CHECK_EQ_I64(t, most);
                continue;
            }
            CHECK(t <= most && t % 6 == 0);
            CHECK_EQ_I64(tiles, (rows + most - 1) / most);
            CHECK(t == 6 || (rows + t - 7) / (t - 6) > tiles);
        }
    CHECK_EQ_I64(qmar__even_tile(400, 384, 6), 204); /* 204 + 196, not 384 + 16 */
}

static void rows_suite(void)
{
    static const int64_t shapes[][3] = {{1, 1, 1}, {7, 33, 17}, {13, 100, 65}, {64, 64, 64},
                                        {200, 300, 130}, {400, 1025, 300}, {37, 2049, 700},
                                        {1, 4096, 1000}, {3, 513, 257}, {6, 1027, 900},
                                        {16, 700, 520}};
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int32_t th = 1; th <= 3; th++)
            check_rows(shapes[i][0], shapes[i][1], shapes[i][2], th);
}

/* The CPU's facts and what follows from them: cache sizes known (read or defaulted), every
 * kernel's blocking a whole number of its micro-tiles, and the default thread count the CPUs of
 * this process's affinity mask shared by the ranks (QMAR_NUM_THREADS unset here). */
static void cpu_suite(void)
{
    const qmar__cpu *cpu = qmar__cpu_facts();
    printf("CPU %s family %u model %u: L1d %lld, L2 %lld, L3 %lld bytes (%s)\n", cpu->vendor,
           cpu->family, cpu->model, (long long)cpu->l1d, (long long)cpu->l2, (long long)cpu->l3,
           cpu->cache_source);
    CHECK(cpu->l1d >= 1024 && cpu->l2 >= cpu->l1d);
    CHECK_EQ_I64(cpu->online_cpus, sysconf(_SC_NPROCESSORS_ONLN)); /* read once, then kept */
    for (int v = 0; v < nvariants; v++) {
        const qmar__kernel *k = variants[v].k;
        CHECK(k->mc >= k->mr && k->mc % k->mr == 0);
        CHECK(k->nc >= k->bfmt.nr && k->nc % k->bfmt.nr == 0);
        if (k->gemm_direct != NULL)
            CHECK(k->stage_bytes >= 8192 && k->kc % 4 == 0);
        /* the AVX-512 micro-kernel's B slice (k block x 64 bytes): in L1 where its 512-bit
         * multiply-adds were timed at full width, streamed from L2 (1/16 of it) where not */
        if (strcmp(k->name, "avx512") == 0) {
            int64_t slice = (int64_t)k->kc * 64, l2 = cpu->l2 / cpu->l2_sharing;
            printf("avx512: 512-bit VPDPBUSD timed %s, k block %d\n",
                   k->full_width ? "at full width" : "split", (int)k->kc);
            CHECK(k->full_width ? slice <= cpu->l1d * 3 / 4 || k->kc == 256
                                : slice <= l2 / 16 || k->kc == 256);
        }
    }
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    int32_t cpus = CPU_COUNT(&set), most = cpus < 64 ? cpus : 64;
    CHECK(qmar__default_threads(1) == most);
    CHECK(qmar__default_threads(cpus) == 1);
    CHECK(qmar__default_threads(cpus + 1) == 1);
    CHECK(qmar__default_threads(0) == most);
    if (cpus >= 4)
        CHECK(qmar__default_threads(2) == (cpus / 2 < 64 ? cpus / 2 : 64));
    if (getenv("QMAR_NUM_THREADS") == NULL)
        CHECK(qmar__num_threads(1) == most && qmar__num_threads(cpus) == 1);
}

int main(int argc, char **argv)
{
    int exhaustive = argc > 1 && strcmp(argv[1], "exhaustive") == 0;
    static const char *const isa_names[QMAR__NISA] = {"scalar", "avx2", "avx512", "amx"};
    printf("ISAs:");
    for (int32_t isa = 0; isa < QMAR__NISA; isa++) {
        const qmar__kernel *k = qmar__kernel_for(isa);
        printf(" %s=%s", isa_names[isa], k ? "supported" : "not supported here");
        if (k != NULL)
            variants[nvariants++] = (variant){isa_names[isa], k, 0, 0, 0, 0};
    }
    printf("; selected: %s\n", qmar__kernel_select()->name);
    variants[nvariants++] = (variant){"amx-emulated", &qmar__kernel_amx_emulated, 0, 0, 0, 0};

    cpu_suite();
    gemm_suite();
    direct_suite();
    staged_suite();
    rows_suite();
    tile_suite();
    epilogue_suite();
    conversion_sweep(exhaustive ? 1 : 257);

    for (int v = 0; v < nvariants; v++) {
        printf("%-13s gemm shapes %5lld, epilogue runs %6lld, direct path %5lld, staged %5lld\n",
               variants[v].name, (long long)variants[v].gemm_runs,
               (long long)variants[v].epilogue_runs, (long long)variants[v].direct_runs,
               (long long)variants[v].staged_runs);
        /* every supported ISA must really have been compared (the reference compares itself
         * with the triple loop; the emulated AMX has the reference epilogue) */
        if (variants[v].k != &qmar__kernel_portable) {
            CHECK(variants[v].gemm_runs > 0);
            if (variants[v].k->epilogue != qmar__epilogue_block)
                CHECK(variants[v].epilogue_runs > 0);
            if (variants[v].k->gemm_direct != NULL)
                CHECK(variants[v].direct_runs > 0);
            if (variants[v].k->gemm_staged != NULL)
                CHECK(variants[v].staged_runs > 0);
        }
    }
    return check_summary();
}
