/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the compute part of Run (numerics.md §1-§3): x2 packed once per Run into the kernel's
 * layout (or, for a few rows or in FRACTAL_NZ, read where it lies by the kernel's direct path),
 * then any range of rows -> e values (Y bits), split over the rank's threads. A caller that overlaps communication
 * calls qmar__compute_rows once per row tile. */
#ifndef QMAR_SRC_COMPUTE_H
#define QMAR_SRC_COMPUTE_H
#include <stdint.h>

#include "epilogue.h"
#include "kernels/kernel.h"
#include "qmar/qmar.h"
#include "scratch.h"

typedef struct qmar__compute {
    const qmar__kernel *kern;
    int32_t threads;
    int64_t m, k, n;
    int64_t mc, nc;          /* row tile and column block: the kernel's, smaller for a large k
                              * or a small problem */
    const int8_t *x1;        /* m x k, row-major */
    const int8_t *x2;        /* as stored, in layout enum qmar__x2_layout */
    int32_t layout;
    int32_t fused;           /* x2 packed block by block as it is used (one row tile in all) */
    int32_t direct;          /* x2 not packed: the kernel's gemm_direct reads it as stored */
    int32_t staged;          /* x2 not packed: rows packed tile by tile, the kernel's gemm_staged
                              * reads x2 as stored, one slice at a time through its scratch */
    uint8_t *pb;             /* packed B of all of x2 (not fused) */
    float *scale_col;        /* n fp32 dequant scales by column */
    qmar__epilogue ep;
    uint8_t *work;           /* per thread: packed A, packed B block (fused), the int32 block */
    uint64_t work_stride, a_area, b_area;
    qmar__scratch *keep;     /* where pb and work come from and go back to (NULL: malloc, free) */
    uint64_t pb_bytes, work_bytes; /* their usable sizes */
} qmar__compute;

/* How x2 reaches the kernel. */
enum qmar__compute_mode {
    QMAR__MODE_CHOOSE = -1, /* by the shape, the layout and the kernel */
    QMAR__MODE_PACKED = 0,  /* all of x2 packed first */
    QMAR__MODE_FUSED = 1,   /* packed column block by column block as it is used (any m) */
    QMAR__MODE_DIRECT = 2,  /* not packed (gemm_direct); where it does not apply, as CHOOSE */
    QMAR__MODE_BLOCKS = 3,  /* rows computed block by block (Run's overlap): as CHOOSE, but x2
                             * packed all at once where it is packed */
    QMAR__MODE_STAGED = 4   /* rows packed, x2 staged slice by slice (gemm_staged); where the
                             * kernel has none, as CHOOSE */
};

/* Allocates everything for (m, k, n), x2 stored in `layout` (enum qmar__x2_layout), on
 * `threads` threads (>= 1). Reads no tensor data. On failure returns QMAR_ERR_INNER with a
 * reason and leaves nothing to free but what qmar__compute_free frees. */
qmar_status qmar__compute_init(qmar__compute *c, const qmar__kernel *kern, int32_t threads,
                               int64_t m, int64_t k, int64_t n, int32_t layout);

/* The same with the mode forced (tests; Run when it splits rows into blocks). */
qmar_status qmar__compute_init_mode(qmar__compute *c, const qmar__kernel *kern, int32_t threads,
                                    int64_t m, int64_t k, int64_t n, int32_t layout,
                                    int32_t mode);

/* The same, its large buffers taken from and given back to `keep` (scratch.h; NULL: none kept):
 * Run passes its endpoint's. */
qmar_status qmar__compute_init_kept(qmar__compute *c, const qmar__kernel *kern, int32_t threads,
                                    int64_t m, int64_t k, int64_t n, int32_t layout, int32_t mode,
                                    qmar__scratch *keep);

/* Packs x2 (k x n, in the layout given to init; fused or direct, only remembers it) and
 * remembers x1 and the epilogue (its scale_col is filled here). */
void qmar__compute_prepare(qmar__compute *c, const int8_t *x1, const int8_t *x2,
                           const qmar__epilogue *ep);

/* e[r*lde + j] = e value of row row0 + r, column j, for r < rows. */
void qmar__compute_rows(const qmar__compute *c, int64_t row0, int64_t rows, uint16_t *e,
                        int64_t lde);

/* acc[r*ldacc + j] = the int32 sum of row row0 + r, column j (tests compare kernels with it). */
void qmar__compute_acc(const qmar__compute *c, int64_t row0, int64_t rows, int32_t *acc,
                       int64_t ldacc);

/* Frees what init allocated (the large buffers go back to `keep`, where there is one). */
void qmar__compute_free(qmar__compute *c);

/* The rows of a row tile when `rows` rows are cut into tiles of at most `most`: `most` itself
 * when they fit one; else (`most` a multiple of mr, the micro-panel's rows) as many tiles as
 * `most` needs, each the same multiple of mr but the last, the smallest such. A last tile of a
 * few rows would meet every byte of x2 for little arithmetic: m = 400 at k = 4096 takes
 * 204 + 196 rows instead of 384 + 16 (Zen 5, bench_gemm 400x4096x4096: 706-740 -> 746-748 GOPS
 * with x2 in ND, 747-778 -> 776-780 in FRACTAL_NZ). */
int64_t qmar__even_tile(int64_t rows, int64_t most, int64_t mr);
#endif
