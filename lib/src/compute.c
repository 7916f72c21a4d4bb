/* SPDX-License-Identifier: Apache-2.0 */
/* The compute driver: walks (row tile, column block) items, GEMM into an int32 block that stays
 * in cache, epilogue straight out of it; contiguous runs of items go to the rank's threads.
 * x2 reaches the kernel in one of three ways (route_of): read where it lies by the kernel's direct
 * path (gemm_direct: few rows), or by its staged path (gemm_staged: the rows packed tile by tile,
 * x2 rearranged one block at a time into a buffer that stays in cache: FRACTAL_NZ, and a single
 * row tile in any layout) — no copy of x2 is made — or packed once per Run (all of it up front,
 * or — when x1 is a single row tile and the kernel has no staged path — each column block right
 * before its one use) with the rows of x1 packed tile by tile. */
#define _DEFAULT_SOURCE /* madvise */
#include "fault.h"
#include "compute.h"

#include <pthread.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "validate.h"

#define MAX_THREADS 64
/* Below these many multiply-adds (GEMM) or bytes (packing) one thread does it all: starting a
 * thread costs tens of microseconds. */
#define MIN_PARALLEL_MACS (1LL << 23)
#define MIN_PARALLEL_PACK (1LL << 21)
/* Packed A of one row tile stays below this (L2-sized), so a long k shortens the tile. */
#define A_TILE_BYTES (1LL << 21)
/* Largest per-thread buffer for one packed column block of x2 (fused packing). */
#define FUSED_B_BYTES (1LL << 22)
/* The direct path's int32 block (m x nc) stays below this, in L2: it is read and written once
 * per k block of the kernel. */
#define DIRECT_C_BYTES (1LL << 18)

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void *alloc64(uint64_t bytes)
{
    void *p = NULL;
    if (qmar__memalign(&p, 64, (size_t)align_up((int64_t)bytes, 64) + 64) != 0)
        return NULL;
    return p;
}

/* The packed weight is read once per row tile from end to end: on 2 MiB pages (where the kernel
 * offers them on request) its reads miss the TLB far less. */
#define HUGE_PAGE (1LL << 21)
static void *alloc_weight(uint64_t bytes)
{
#if defined(MADV_HUGEPAGE) && !defined(QMAR_NO_HUGEPAGE)
    if (bytes >= 2 * HUGE_PAGE) {
        void *p = NULL;
        size_t len = (size_t)align_up((int64_t)bytes, HUGE_PAGE);
        if (qmar__memalign(&p, HUGE_PAGE, len) != 0)
            return NULL;
        (void)madvise(p, len, MADV_HUGEPAGE); /* advice only: failure changes nothing */
        return p;
    }
#endif
    return alloc64(bytes);
}

qmar_status qmar__compute_init(qmar__compute *c, const qmar__kernel *kern, int32_t threads,
                               int64_t m, int64_t k, int64_t n, int32_t layout)
{
    return qmar__compute_init_mode(c, kern, threads, m, k, n, layout, QMAR__MODE_CHOOSE);
}

enum route { ROUTE_PACK, ROUTE_DIRECT, ROUTE_STAGED };

/* Rows of the packed path's row tile: the kernel's mc, fewer when a long k would make packed A
 * larger than A_TILE_BYTES. */
static int64_t tile_rows(const qmar__kernel *kern, int64_t k)
{
    int64_t kp = align_up(k < 1 ? 1 : k, kern->bfmt.kalign);
    int64_t mc = A_TILE_BYTES / kp / kern->mr * kern->mr;
    return mc < kern->mr ? kern->mr : mc > kern->mc ? kern->mc : mc;
}

/* How x2 reaches the kernel. PACKED and FUSED (tests) pack it, STAGED (tests) takes the kernel's
 * gemm_staged where it has one, DIRECT (tests) its gemm_direct for any m in the layouts it reads
 * in place. Otherwise: the direct path (gemm_direct) for m up to the kernel's direct_rows for
 * the layout (measured there), and for any m when k fits one of its k blocks (direct_depth);
 * past them the staged path (gemm_staged), if the kernel has
 * one, for the layouts it reads in place (FRACTAL_NZ: never packed) and for any layout when all
 * rows fit one row tile (each byte of x2 is used once: packing it all first would only add a
 * round trip through memory); a kernel without one reads its in-place layouts directly; the
 * rest is packed (x2 once per Run, its bytes then met by every row tile). */
static enum route route_of(const qmar__kernel *kern, int64_t m, int64_t k, int32_t layout,
                           int32_t mode)
{
    if (mode == QMAR__MODE_PACKED || mode == QMAR__MODE_FUSED)
        return ROUTE_PACK;
    if (mode == QMAR__MODE_STAGED && kern->gemm_staged != NULL)
        return ROUTE_STAGED;
    int inplace = kern->inplace_layouts >> layout & 1u;
    if (kern->gemm_direct != NULL &&
        (m <= kern->direct_rows[layout] || (mode == QMAR__MODE_DIRECT && inplace) ||
         (kern->direct_depth != NULL && k <= kern->direct_depth(layout, m))))
        return ROUTE_DIRECT;
    if (kern->gemm_staged != NULL && (inplace || align_up(m, kern->mr) <= tile_rows(kern, k)))
        return ROUTE_STAGED;
    return inplace && kern->gemm_direct != NULL ? ROUTE_DIRECT : ROUTE_PACK;
}

/* Row tiles of the kernel's mc (all m rows when they are few); column blocks whose int32 block
 * stays in L2, one per thread where that allows (x2 is read in long runs along a wide block);
 * per thread, the kernel's scratch and that block. */
static qmar_status init_direct(qmar__compute *c)
{
    c->direct = 1;
    int64_t m = c->m < 1 ? 1 : c->m;
    c->mc = m <= c->kern->direct_rows[c->layout] ? m : min64(m, c->kern->mc);
    int64_t nr = c->kern->bfmt.nr;
    c->nc = min64(align_up((c->n + c->threads - 1) / c->threads, nr),
                  align_up(DIRECT_C_BYTES / 4 / c->mc, nr));
    c->a_area = (uint64_t)align_up((int64_t)c->kern->direct_scratch(c->mc), 64);
    c->work_stride = c->a_area + (uint64_t)c->mc * (uint64_t)align_up(c->nc, 16) * 4u;
    c->scale_col = qmar__malloc((size_t)c->n * sizeof *c->scale_col);
    c->work = qmar__scratch_take(c->keep ? &c->keep->work : NULL,
                                 c->work_stride * (uint64_t)c->threads, alloc64, &c->work_bytes);
    if (c->scale_col == NULL || c->work == NULL)
        return qmar__fail(QMAR_ERR_INNER, "run: out of memory for %d thread buffers (%llu bytes "
                          "each)", (int)c->threads, (unsigned long long)c->work_stride);
    return QMAR_SUCCESS;
}

qmar_status qmar__compute_init_mode(qmar__compute *c, const qmar__kernel *kern, int32_t threads,
                                    int64_t m, int64_t k, int64_t n, int32_t layout, int32_t mode)
{
    return qmar__compute_init_kept(c, kern, threads, m, k, n, layout, mode, NULL);
}

qmar_status qmar__compute_init_kept(qmar__compute *c, const qmar__kernel *kern, int32_t threads,
                                    int64_t m, int64_t k, int64_t n, int32_t layout, int32_t mode,
                                    qmar__scratch *keep)
{
    memset(c, 0, sizeof *c);
    c->keep = keep;
    c->kern = kern;
    c->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    c->m = m, c->k = k, c->n = n;
    c->layout = layout;
    enum route route = route_of(kern, m, k, layout, mode);
    if (route == ROUTE_DIRECT)
        return init_direct(c);
    c->staged = route == ROUTE_STAGED;
    int32_t fused = mode == QMAR__MODE_PACKED || mode == QMAR__MODE_FUSED ? mode
                    : mode == QMAR__MODE_BLOCKS ? 0 : -1;
    /* Tiles no larger than the problem, so that small calls allocate little. */
    c->mc = min64(tile_rows(kern, k), align_up(m, kern->mr));
    c->nc = min64(kern->nc, align_up(n, kern->bfmt.nr));
    c->a_area = (uint64_t)align_up((int64_t)kern->a_bytes(c->mc, k), 64);
    uint64_t c_area = (uint64_t)align_up(c->mc, kern->mr) * (uint64_t)align_up(c->nc, 16) * 4u;
    /* One row tile in all: every column block of x2 is used once, so each is packed right
     * before its use into the thread's buffer (and stays in cache) instead of all of x2 into
     * memory first. */
    uint64_t b_block = qmar__packed_b_bytes(&kern->bfmt, k, c->nc);
    c->fused = c->staged ? 0
               : fused >= 0 ? fused
                            : align_up(m, kern->mr) <= c->mc && b_block <= FUSED_B_BYTES;
    c->b_area = c->staged  ? (uint64_t)align_up((int64_t)kern->staged_scratch(k), 64)
                : c->fused ? (uint64_t)align_up((int64_t)b_block, 64)
                           : 0;
    c->work_stride = c->a_area + c->b_area + c_area;
    int packs = !c->fused && !c->staged; /* all of x2 into the packed B first */
    uint64_t pb_bytes = packs ? qmar__packed_b_bytes(&kern->bfmt, k, n) : 0;
    c->pb = packs ? qmar__scratch_take(keep ? &keep->weight : NULL, pb_bytes, alloc_weight,
                                       &c->pb_bytes)
                  : NULL;
    c->scale_col = qmar__malloc((size_t)n * sizeof *c->scale_col);
    c->work = qmar__scratch_take(keep ? &keep->work : NULL, c->work_stride * (uint64_t)c->threads,
                                 alloc64, &c->work_bytes);
    if ((packs && c->pb == NULL) || c->scale_col == NULL || c->work == NULL)
        return qmar__fail(QMAR_ERR_INNER,
                          "run: out of memory for the packed weight (%llu bytes) and %d thread "
                          "buffers (%llu bytes each)",
                          (unsigned long long)pb_bytes, (int)c->threads,
                          (unsigned long long)c->work_stride);
    return QMAR_SUCCESS;
}

void qmar__compute_free(qmar__compute *c)
{
    qmar__scratch_give(c->keep ? &c->keep->weight : NULL, c->pb, c->pb_bytes);
    qmar__scratch_give(c->keep ? &c->keep->work : NULL, c->work, c->work_bytes);
    free(c->scale_col);
    c->pb = NULL, c->scale_col = NULL, c->work = NULL;
}

/* ---- one thread's share of a job ---- */

enum job_kind { JOB_PACK, JOB_ROWS, JOB_ACC };

typedef struct job {
    const qmar__compute *c;
    int32_t kind, tid, nt;
    int64_t row0, rows; /* JOB_ROWS, JOB_ACC */
    void *out;
    int64_t ld;
} job;

/* x2 as a list of rectangles (kernel.h) in its stored layout (numerics.md §7): how many, and
 * the i-th. */
static int64_t rect_count(const qmar__compute *c)
{
    switch (c->layout) {
    case QMAR__X2_NZ: return (c->n + 31) / 32;
    case QMAR__X2_NZ_T: return (c->k + 31) / 32;
    default: return 1;
    }
}

static qmar__b_rect rect_of(const qmar__compute *c, int64_t i)
{
    int64_t k = c->k, n = c->n;
    const int8_t *x2 = c->x2;
    switch (c->layout) {
    case QMAR__X2_ND: return (qmar__b_rect){x2, 0, k, 0, n, n, 1};
    case QMAR__X2_ND_T: return (qmar__b_rect){x2, 0, k, 0, n, 1, k};
    case QMAR__X2_NZ: /* strips of 32 columns, each k x 32 row-major (k padded to 16) */
        return (qmar__b_rect){x2 + i * align_up(k, 16) * 32, 0, k, 32 * i, min64(32 * i + 32, n),
                              32, 1};
    default: /* NZ of the stored (n, k): strips of 32 k values, each n x 32 row-major */
        return (qmar__b_rect){x2 + i * align_up(n, 16) * 32, 32 * i, min64(32 * i + 32, k), 0, n,
                              1, 32};
    }
}

/* Columns [jlo, jhi) of x2 (jlo a multiple of nr, jhi <= n) into dst, laid out as the packed B
 * of that k x (jhi - jlo) matrix — which is also where they sit in the packed B of all of x2. */
static void pack_cols(const qmar__compute *c, int64_t jlo, int64_t jhi, uint8_t *dst)
{
    const qmar__bfmt *f = &c->kern->bfmt;
    int64_t k = c->k, w = jhi - jlo;
    if (c->kern->pack_b != NULL) { /* the kernel's own packer */
        qmar__b_src src = {c->x2, c->layout, k, c->n};
        c->kern->pack_b(&src, jlo, jhi, dst);
        return;
    }
    for (int64_t i = 0, count = rect_count(c); i < count; i++) {
        qmar__b_rect r = rect_of(c, i);
        int64_t ja = r.j0 > jlo ? r.j0 : jlo, jb = min64(r.j1, jhi);
        if (ja >= jb)
            continue;
        qmar__b_rect local = {r.src + (ja - r.j0) * r.sj, r.t0, r.t1, ja - jlo, jb - jlo, r.st,
                              r.sj};
        qmar__pack_b_rect(f, k, w, &local, 0, w, dst);
    }
    qmar__pack_b_pad(f, k, w, 0, align_up(w, f->nr), dst);
}

/* This thread's share of the panels of the packed B of all of x2. */
static void pack_share(const job *jb)
{
    const qmar__compute *c = jb->c;
    const qmar__bfmt *f = &c->kern->bfmt;
    int64_t panels = (c->n + f->nr - 1) / f->nr;
    int64_t plo = panels * jb->tid / jb->nt, phi = panels * (jb->tid + 1) / jb->nt;
    if (plo < phi)
        pack_cols(c, plo * f->nr, min64(phi * f->nr, c->n),
                  c->pb + plo * align_up(c->k, f->kalign) * f->nr);
}

int64_t qmar__even_tile(int64_t rows, int64_t most, int64_t mr)
{
    if (rows <= most) /* one tile */
        return most;
    int64_t tiles = (rows + most - 1) / most;
    return align_up((rows + tiles - 1) / tiles, mr);
}

/* Items are (row tile, column block) pairs in row-major order; this thread takes a contiguous
 * run of them, so consecutive items mostly share the packed rows of x1. (Direct: one row tile,
 * so the items are the column blocks.) */
static void rows_share(const job *jb)
{
    const qmar__compute *c = jb->c;
    const qmar__kernel *kern = c->kern;
    int64_t k = c->k, n = c->n, nc = c->nc, ldc = align_up(nc, 16);
    int64_t mc = qmar__even_tile(jb->rows, c->mc, kern->mr);
    int64_t tiles = (jb->rows + mc - 1) / mc, blocks = (n + nc - 1) / nc, items = tiles * blocks;
    uint8_t *pa = c->work + c->work_stride * (uint64_t)jb->tid, *pb = pa + c->a_area;
    int32_t *cbuf = (int32_t *)(pb + c->b_area);
    int64_t packed_tile = -1;
    for (int64_t it = items * jb->tid / jb->nt; it < items * (jb->tid + 1) / jb->nt; it++) {
        int64_t tile = it / blocks, r = tile * mc, rows = min64(mc, jb->rows - r);
        int64_t j0 = it % blocks * nc, j1 = min64(j0 + nc, n);
        const int8_t *x1 = c->x1 + (jb->row0 + r) * k;
        if (c->direct) { /* x1 and x2 as they are */
            qmar__b_src src = {c->x2, c->layout, k, n};
            kern->gemm_direct(x1, k, rows, &src, j0, j1, cbuf, ldc, pa);
        } else {
            if (tile != packed_tile)
                kern->pack_a(x1, k, rows, k, pa);
            packed_tile = tile;
            if (c->staged) { /* x2 as it is, slice by slice through the scratch */
                qmar__b_src src = {c->x2, c->layout, k, n};
                kern->gemm_staged(pa, rows, &src, j0, j1, cbuf, ldc, pb);
            } else if (c->fused) { /* this block of x2 alone, packed now (k x (j1 - j0)) */
                pack_cols(c, j0, j1, pb);
                kern->gemm(pa, rows, pb, k, j1 - j0, 0, j1 - j0, cbuf, ldc);
            } else {
                kern->gemm(pa, rows, c->pb, k, n, j0, j1, cbuf, ldc);
            }
        }
        if (jb->kind == JOB_ROWS) {
            uint16_t *e = (uint16_t *)jb->out + r * jb->ld + j0;
            kern->epilogue(&c->ep, cbuf, ldc, jb->row0 + r, rows, j0, j1, e, jb->ld);
        } else {
            int32_t *acc = (int32_t *)jb->out + r * jb->ld + j0;
            for (int64_t i = 0; i < rows; i++)
                memcpy(acc + i * jb->ld, cbuf + i * ldc, (size_t)(j1 - j0) * sizeof *acc);
        }
    }
}

static void *run_share(void *arg)
{
    const job *jb = arg;
    if (jb->kind == JOB_PACK)
        pack_share(jb);
    else
        rows_share(jb);
    return NULL;
}

/* Runs proto on nt threads (the caller is thread 0); a thread that cannot be started has its
 * share done by the caller, so the result never depends on it. */
static void parallel(const job *proto, int32_t nt)
{
    job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    nt = nt < 1 ? 1 : nt > MAX_THREADS ? MAX_THREADS : nt;
    for (int32_t t = 0; t < nt; t++) {
        jobs[t] = *proto;
        jobs[t].tid = t, jobs[t].nt = nt;
    }
    for (int32_t t = 1; t < nt; t++)
        started[t] = pthread_create(&tids[t], NULL, run_share, &jobs[t]) == 0;
    run_share(&jobs[0]);
    for (int32_t t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            run_share(&jobs[t]);
    }
}

static int32_t threads_for(const qmar__compute *c, int64_t work, int64_t min_work, int64_t items)
{
    if (c->threads == 1 || work < min_work)
        return 1;
    return (int32_t)min64(c->threads, items);
}

void qmar__compute_prepare(qmar__compute *c, const int8_t *x1, const int8_t *x2,
                           const qmar__epilogue *ep)
{
    c->x1 = x1, c->x2 = x2;
    c->ep = *ep;
    qmar__epilogue_scales(ep, c->scale_col);
    c->ep.scale_col = c->scale_col;
    if (c->fused || c->direct || c->staged)
        return;
    job jb = {.c = c, .kind = JOB_PACK};
    int64_t panels = (c->n + c->kern->bfmt.nr - 1) / c->kern->bfmt.nr;
    parallel(&jb, threads_for(c, c->k * c->n, MIN_PARALLEL_PACK, panels));
}

static void rows_job(const qmar__compute *c, int32_t kind, int64_t row0, int64_t rows, void *out,
                     int64_t ld)
{
    if (rows <= 0)
        return;
    job jb = {.c = c, .kind = kind, .row0 = row0, .rows = rows, .out = out, .ld = ld};
    int64_t items = (rows + c->mc - 1) / c->mc * ((c->n + c->nc - 1) / c->nc);
    parallel(&jb, threads_for(c, rows * c->k * c->n, MIN_PARALLEL_MACS, items));
}

void qmar__compute_rows(const qmar__compute *c, int64_t row0, int64_t rows, uint16_t *e,
                        int64_t lde)
{
    rows_job(c, JOB_ROWS, row0, rows, e, lde);
}

void qmar__compute_acc(const qmar__compute *c, int64_t row0, int64_t rows, int32_t *acc,
                       int64_t ldacc)
{
    rows_job(c, JOB_ACC, row0, rows, acc, ldacc);
}
