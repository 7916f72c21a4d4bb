/* SPDX-License-Identifier: Apache-2.0 */
/* The AMX-INT8 kernel: TDPBSSD multiplies signed by signed bytes, so no correction is needed.
 * Block: 32 rows x 32 columns in four 16 x 16 int32 tiles (tmm0-3), two A tiles (tmm4-5, 16 rows
 * x 64 k each) and two B tiles (tmm6-7, 16 k-groups of 4 x 16 columns) per 64 values of k.
 * Packed A is row-major with k padded to 64; packed B is the VNNI layout (group 4) in 32-column
 * panels, so a B tile is 16 rows of 64 bytes at a stride of 128.
 *
 * Built twice: for the library (real tile instructions; dispatch.c enables it only after the
 * kernel granted the tile data permission) and, with QMAR_AMX_EMULATE, for test_kernels with the
 * tile instructions emulated in C, so that the blocking and the layouts are tested on machines
 * without AMX. */
#include <string.h>

#include "kernel.h"
#include "validate.h"

#define MR 32
#define NR 32
#define KC 1024 /* k block: a 32-column B slice is 32 KiB */

typedef struct tilecfg {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

#ifdef QMAR_AMX_EMULATE
/* The eight tile registers of the emulated machine, per thread as on real hardware. */
static _Thread_local struct {
    int rows[8], colsb[8];
    uint8_t data[8][16][64];
} tmm;

static void emu_loadconfig(const tilecfg *cfg)
{
    for (int t = 0; t < 8; t++)
        tmm.rows[t] = cfg->rows[t], tmm.colsb[t] = cfg->colsb[t];
}

static void emu_zero(int t)
{
    memset(tmm.data[t], 0, sizeof tmm.data[t]);
}

static void emu_load(int t, const void *base, int64_t stride)
{
    for (int r = 0; r < tmm.rows[t]; r++)
        memcpy(tmm.data[t][r], (const uint8_t *)base + r * stride, (size_t)tmm.colsb[t]);
}

static void emu_store(int t, void *base, int64_t stride)
{
    for (int r = 0; r < tmm.rows[t]; r++)
        memcpy((uint8_t *)base + r * stride, tmm.data[t][r], (size_t)tmm.colsb[t]);
}

/* TDPBSSD: c[m][j] += sum over g, i of a[m][4g+i] * b[g][4j+i], wrapping int32. */
static void emu_dpbssd(int c, int a, int b)
{
    for (int m = 0; m < tmm.rows[c]; m++)
        for (int j = 0; j < tmm.colsb[c] / 4; j++) {
            int32_t acc;
            memcpy(&acc, &tmm.data[c][m][4 * j], 4);
            uint32_t sum = (uint32_t)acc;
            for (int g = 0; g < tmm.colsb[a] / 4; g++)
                for (int i = 0; i < 4; i++)
                    sum += (uint32_t)((int32_t)(int8_t)tmm.data[a][m][4 * g + i] *
                                      (int32_t)(int8_t)tmm.data[b][g][4 * j + i]);
            acc = (int32_t)sum;
            memcpy(&tmm.data[c][m][4 * j], &acc, 4);
        }
}

#define TILE_CONFIG(cfg) emu_loadconfig(cfg)
#define TILE_RELEASE() ((void)0)
#define TILE_ZERO(t) emu_zero(t)
#define TILE_LOAD(t, base, stride) emu_load(t, base, stride)
#define TILE_STORE(t, base, stride) emu_store(t, base, stride)
#define TILE_DPBSSD(c, a, b) emu_dpbssd(c, a, b)
#define KERNEL_NAME qmar__kernel_amx_emulated
#define EPILOGUE qmar__epilogue_block
#else
#include <immintrin.h>

#include "epilogue_simd.h"
#define TILE_CONFIG(cfg) _tile_loadconfig(cfg)
#define TILE_RELEASE() _tile_release()
#define TILE_ZERO(t) _tile_zero(t)
#define TILE_LOAD(t, base, stride) _tile_loadd(t, base, stride)
#define TILE_STORE(t, base, stride) _tile_stored(t, base, stride)
#define TILE_DPBSSD(c, a, b) _tile_dpbssd(c, a, b)
#define KERNEL_NAME qmar__kernel_amx
#define EPILOGUE qmar__epilogue_avx512
#endif

extern const qmar__kernel KERNEL_NAME;

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

static uint64_t a_bytes(int64_t rows, int64_t k)
{
    return (uint64_t)align_up(rows, MR) * (uint64_t)align_up(k, 64);
}

static void pack_a(const int8_t *a, int64_t lda, int64_t rows, int64_t k, void *dst)
{
    int64_t kp = align_up(k, 64), prows = align_up(rows, MR);
    int8_t *d = dst;
    for (int64_t r = 0; r < prows; r++) {
        if (r < rows)
            memcpy(d + r * kp, a + r * lda, (size_t)k);
        memset(d + r * kp + (r < rows ? k : 0), 0, (size_t)(r < rows ? kp - k : kp));
    }
}

/* One 32 x 32 block over k values [k0, k0 + kn). */
static void block(const int8_t *a, int64_t lda, const int8_t *b, int64_t kn, int32_t *c,
                  int64_t ldc, int first)
{
    int64_t cs = ldc * 4;
    if (first) {
        TILE_ZERO(0);
        TILE_ZERO(1);
        TILE_ZERO(2);
        TILE_ZERO(3);
    } else {
        TILE_LOAD(0, c, cs);
        TILE_LOAD(1, c + 16, cs);
        TILE_LOAD(2, c + 16 * ldc, cs);
        TILE_LOAD(3, c + 16 * ldc + 16, cs);
    }
    for (int64_t kk = 0; kk < kn; kk += 64) {
        TILE_LOAD(4, a + kk, lda);
        TILE_LOAD(5, a + 16 * lda + kk, lda);
        TILE_LOAD(6, b + kk / 4 * 128, 128);
        TILE_LOAD(7, b + kk / 4 * 128 + 64, 128);
        TILE_DPBSSD(0, 4, 6);
        TILE_DPBSSD(1, 4, 7);
        TILE_DPBSSD(2, 5, 6);
        TILE_DPBSSD(3, 5, 7);
    }
    TILE_STORE(0, c, cs);
    TILE_STORE(1, c + 16, cs);
    TILE_STORE(2, c + 16 * ldc, cs);
    TILE_STORE(3, c + 16 * ldc + 16, cs);
}

static void gemm(const void *pa, int64_t rows, const void *pb, int64_t k, int64_t n, int64_t j0,
                 int64_t j1, int32_t *c, int64_t ldc)
{
    (void)n;
    tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++)
        cfg.rows[t] = 16, cfg.colsb[t] = 64;
    TILE_CONFIG(&cfg);
    int64_t kp = align_up(k, 64), prows = align_up(rows, MR);
    for (int64_t k0 = 0; k0 < kp; k0 += KC) {
        int64_t kn = kp - k0 < KC ? kp - k0 : KC;
        for (int64_t j = j0; j < j1; j += NR) {
            const int8_t *bp = (const int8_t *)pb + (j / NR) * kp * NR + k0 / 4 * 128;
            for (int64_t r = 0; r < prows; r += MR)
                block((const int8_t *)pa + r * kp + k0, kp, bp, kn, c + r * ldc + (j - j0), ldc,
                      k0 == 0);
        }
    }
    TILE_RELEASE();
}

/* The staged path: x2 read where it lies (FRACTAL_NZ is never packed whole), one slice of KC k
 * values x 32 columns (32 KiB) at a time rearranged by qmar__stage_b into the packed-B layout of
 * that slice, which is what gemm reads from a packed B; then every 32-row block of the tile. */
#define BFMT {.nr = NR, .group = 4, .kalign = 64, .xor_mask = 0}
static const qmar__bfmt bfmt = BFMT;

static uint64_t staged_scratch(int64_t k)
{
    return (uint64_t)(align_up(k, 64) < KC ? align_up(k, 64) : KC) * NR;
}

static void gemm_staged(const void *pa, int64_t rows, const qmar__b_src *b, int64_t j0,
                        int64_t j1, int32_t *c, int64_t ldc, void *scratch)
{
    tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++)
        cfg.rows[t] = 16, cfg.colsb[t] = 64;
    int64_t k = b->k, kp = align_up(k, 64), prows = align_up(rows, MR);
    for (int64_t k0 = 0; k0 < kp; k0 += KC) {
        int64_t kn = kp - k0 < KC ? kp - k0 : KC, t1 = k0 + KC < k ? k0 + KC : k;
        for (int64_t j = j0; j < j1; j += NR) {
            /* staged before the tiles are configured: nothing between the configuration and
             * the release but tile work */
            qmar__stage_b(&bfmt, b, k0, t1, j, j + NR < j1 ? j + NR : j1, scratch);
            TILE_CONFIG(&cfg);
            for (int64_t r = 0; r < prows; r += MR)
                block((const int8_t *)pa + r * kp + k0, kp, scratch, kn, c + r * ldc + (j - j0),
                      ldc, k0 == 0);
            TILE_RELEASE();
        }
    }
}

const qmar__kernel KERNEL_NAME = {
#ifdef QMAR_AMX_EMULATE
    .name = "amx-emulated",
#else
    .name = "amx",
#endif
    .bfmt = BFMT,
    .mr = MR,
    .mc = 192,
    .nc = 256,
    .a_bytes = a_bytes,
    .pack_a = pack_a,
    .gemm = gemm,
    .gemm_staged = gemm_staged,
    .staged_scratch = staged_scratch,
    .inplace_layouts = 1u << QMAR__X2_NZ | 1u << QMAR__X2_NZ_T,
    .epilogue = EPILOGUE,
};
