/* SPDX-License-Identifier: Apache-2.0 */
/* The computing path of Run: agree with the peers, then GEMM + fused epilogue (compute.c) into the
 * workspace and the collective of the case (numerics.md §1-§5), block by block so that
 * communication overlaps the computation of the next block. A small Run computes first and sends
 * its rows with the agreement (one round in all, where the backend can). Where the backend
 * exchanges through memory its peers map (MPI ranks on one host), the epilogue writes the e rows
 * straight into the exchange buffer, round by round, instead of into the workspace first. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "agree.h"
#include "collective_math.h"
#include "elementwise.h"
#include "compute.h"
#include "epilogue.h"
#include "error.h"
#include "fp.h"
#include "kernels/cpu.h"
#include "layout.h"
#include "plan.h"
#include "worker.h"

/* Per-Run buffers that are not part of the documented workspace. */
typedef struct scratch {
    qmar__compute compute; /* packed x2 and the threads' buffers */
    float *ratio;          /* case 3: s1/s2 per column */
    int split;             /* blocks computed on a worker while this thread communicates */
    int64_t produced;      /* > 0: e rows computed straight into the backend's exchange buffer,
                            * this many per round (allreduce_y_produced) */
} scratch;

static const void *elem0(const qmar_tensor *t)
{
    return (const char *)t->data + t->offset * (int64_t)qmar_dtype_size((qmar_dtype)t->dtype);
}

static qmar__epilogue epilogue_of(const qmar_executor *e)
{
    const qmar__facts *f = &e->facts;
    const qmar_tensor *dq = &e->t[QMAR__DEQUANT];
    qmar__epilogue p = {
        .y = f->y,
        .mode = f->has_pertoken ? QMAR__DQ_PERTOKEN
                : f->y == QMAR_BF16 ? QMAR__DQ_BF16 : QMAR__DQ_WORDS,
        .n = f->n,
        .scale = elem0(dq),
        .scale_step = dq->view_dims[dq->view_ndim - 1] == 1 ? 0 : 1,
        .pertoken = f->has_pertoken ? elem0(&e->t[QMAR__PERTOKEN]) : NULL,
        .bias = e->present[QMAR__BIAS] ? elem0(&e->t[QMAR__BIAS]) : NULL,
        .x3 = e->present[QMAR__X3] ? elem0(&e->t[QMAR__X3]) : NULL,
    };
    return p;
}

/* ---- overlap: a worker computes row blocks while this thread communicates finished ones ---- */

/* Whether a worker thread computes while this thread communicates. A one-rank group has nothing
 * to communicate. Otherwise it pays only when each rank of this host has a core for each (else
 * the two share one core and the polling for MPI progress slows the computation down):
 * QMAR_OVERLAP=1 forces it, 0 disables it. */
static int overlap_wanted(const qmar_comm *comm)
{
    if (comm->size == 1)
        return 0;
    const char *env = getenv("QMAR_OVERLAP");
    if (env != NULL && (strcmp(env, "0") == 0 || strcmp(env, "1") == 0))
        return env[0] == '1';
    return qmar__cpu_facts()->online_cpus >= 2L * comm->local_ranks;
}

/* Blocks of rows, the same on every rank (they depend on m, k, n and R only, which the ranks
 * agreed on): about 8 per Run, none under 16 rows, and a single block when the Run is too small
 * for a second thread to pay off. How rows are grouped never changes a bit (numerics.md §5). */
static int64_t rows_per_block(const qmar__facts *f)
{
    const double min_macs = 4e6; /* below this, thread start-up costs more than it hides */
    if ((double)f->m * (double)f->k * (double)f->n < 2 * min_macs)
        return f->m;
    int64_t rows = (f->m + 7) / 8;
    return rows < 16 ? 16 : rows;
}

typedef struct pipeline {
    const qmar__compute *compute;
    uint16_t *e_rows;
    int64_t m, n, block;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    int64_t rows_done; /* rows of e_rows computed so far (whole blocks) */
} pipeline;

static void compute_blocks(void *arg)
{
    pipeline *p = arg;
    for (int64_t row0 = 0; row0 < p->m; row0 += p->block) {
        int64_t rows = qmar__block_rows(p->m, row0, p->block);
        qmar__compute_rows(p->compute, row0, rows, p->e_rows + row0 * p->n, p->n);
        pthread_mutex_lock(&p->lock);
        p->rows_done = row0 + rows;
        pthread_cond_signal(&p->ready);
        pthread_mutex_unlock(&p->lock);
    }
}

static void wait_rows(pipeline *p, int64_t rows)
{
    pthread_mutex_lock(&p->lock);
    while (p->rows_done < rows)
        pthread_cond_wait(&p->ready, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

/* The collective of the case on rows [row0, row0 + rows), whose e values are computed. */
typedef struct block_io {
    const qmar_executor *e;
    const float *ratio;
    uint16_t *e_rows, *out;
    int8_t *q1, *q2;
} block_io;

static qmar_status communicate_block(const block_io *io, int64_t row0, int64_t rows)
{
    const qmar__facts *f = &io->e->facts;
    qmar_comm *comm = io->e->comm;
    int64_t at = row0 * f->n;
    if (f->op_case != 3)
        return comm->ops->allreduce_y(comm, io->e_rows + at, io->out + at, rows, f->n, f->y);
    const uint16_t *s1 = elem0(&io->e->t[QMAR__CS1]), *s2 = elem0(&io->e->t[QMAR__CS2]);
    const qmar__elementwise *ew = qmar__elementwise_select();
    ew->quantize(io->e_rows + at, s1, rows, f->n, f->y, io->q1 + at);
    qmar_status st = comm->ops->lowbit_allreduce(comm, io->q1 + at, io->q2 + at, rows, f->n,
                                                 io->ratio);
    if (st == QMAR_SUCCESS)
        ew->dequantize(io->q2 + at, s2, rows, f->n, f->y, io->out + at);
    return st;
}

/* Computes and communicates block by block; with more than one block, the endpoint's worker thread
 * (worker.h, kept across Runs) computes block b+1 while this thread (the one MPI may require)
 * communicates block b. */
static qmar_status compute_and_communicate(const scratch *s, const block_io *io)
{
    const qmar__facts *f = &io->e->facts;
    pipeline p = {.compute = &s->compute, .e_rows = io->e_rows, .m = f->m, .n = f->n,
                  .block = rows_per_block(f)};
    qmar_comm *comm = io->e->comm;
    int threaded = s->split && pthread_mutex_init(&p.lock, NULL) == 0;
    if (threaded && pthread_cond_init(&p.ready, NULL) != 0) {
        pthread_mutex_destroy(&p.lock);
        threaded = 0;
    }
    if (threaded && qmar__worker_start(&comm->worker, compute_blocks, &p) != 0) {
        pthread_cond_destroy(&p.ready);
        pthread_mutex_destroy(&p.lock);
        threaded = 0;
    }
    /* No second thread: compute everything, then communicate it in one collective. Blocks would
     * only add barriers: every collective call waits for the peers two or three times (in-process,
     * m = 128: 8 blocks, 24 barriers). */
    int64_t block = threaded ? p.block : f->m;
    if (!threaded)
        qmar__compute_rows(&s->compute, 0, f->m, io->e_rows, f->n);
    qmar_status st = QMAR_SUCCESS;
    for (int64_t row0 = 0; row0 < f->m && st == QMAR_SUCCESS; row0 += block) {
        int64_t rows = qmar__block_rows(f->m, row0, block);
        if (threaded)
            wait_rows(&p, row0 + rows);
        st = communicate_block(io, row0, rows);
    }
    if (threaded) { /* on failure the worker still finishes its (local) blocks */
        qmar__worker_wait(comm->worker);
        pthread_cond_destroy(&p.ready);
        pthread_mutex_destroy(&p.lock);
    }
    return st;
}

/* ---- produced in place: e rows computed into the backend's exchange buffer ---------------- */

/* Rows per round of allreduce_y_produced for this Run, or 0 where it does not apply: case 3
 * (its exchange is int8 q1, not e), a Run that overlaps on a worker thread, a backend without
 * it. Every rank decides alike: the backend and (m, n, case) are the group's. */
static int64_t produced_rows(const qmar_executor *e, int split)
{
    const qmar__backend_ops *ops = e->comm->ops;
    if (e->facts.op_case == 3 || split || ops->allreduce_y_produced == NULL)
        return 0;
    return ops->produced_round_rows(e->comm, e->facts.n * 2);
}

static void produce_rows(void *arg, int64_t row0, int64_t rows, uint16_t *dst)
{
    const qmar__compute *c = arg;
    qmar__compute_rows(c, row0, rows, dst, c->n);
}

static qmar_status scratch_alloc(const qmar_executor *e, scratch *s, qmar__scratch *keep)
{
    const qmar__facts *f = &e->facts;
    s->split = rows_per_block(f) < f->m && overlap_wanted(e->comm);
    s->produced = produced_rows(e, s->split);
    int blocks = s->split || (s->produced > 0 && s->produced < f->m);
    /* Split into blocks (or rounds), x2 is packed once up front (where it is packed at all):
     * packing it column block by column block right before use would pack all of it again per
     * block. */
    qmar_status st = qmar__compute_init_kept(&s->compute, qmar__kernel_select(),
                                             qmar__num_threads(e->comm->local_ranks), f->m, f->k,
                                             f->n, f->x2_layout,
                                             blocks ? QMAR__MODE_BLOCKS : QMAR__MODE_CHOOSE, keep);
    if (st != QMAR_SUCCESS)
        return st;
    s->ratio = f->op_case == 3 ? qmar__malloc((size_t)f->n * sizeof *s->ratio) : NULL;
    if (f->op_case == 3 && s->ratio == NULL)
        return qmar__fail(QMAR_ERR_INNER, "run: out of memory for the case 3 ratios");
    return QMAR_SUCCESS;
}

/* A small case 1-2 Run: its e rows ride on the agreement, and each rank sums every row itself from
 * the rows its peers posted (numerics.md §4: each element in fp32 in rank order, rounded once,
 * the very function allreduce_y applies), so one round serves agreement and data. */
static qmar_status ride_and_reduce(const qmar_executor *e, scratch *s, void *workspace,
                                   qmar_status local)
{
    const qmar__facts *f = &e->facts;
    if (local == QMAR_SUCCESS) {
        qmar__epilogue p = epilogue_of(e);
        qmar__compute_prepare(&s->compute, elem0(&e->t[QMAR__X1]), elem0(&e->t[QMAR__X2]), &p);
        qmar__compute_rows(&s->compute, 0, f->m, workspace, f->n);
    }
    const void *parts[QMAR_COMM_MAX_RANKS];
    qmar_status st = qmar__agree(e, local, local == QMAR_SUCCESS ? workspace : NULL,
                                 qmar__workspace_layout(f).e_bytes, parts);
    if (st == QMAR_SUCCESS) {
        qmar__y_reduce_ctx ctx = {f->n, f->y};
        qmar__reduce_y_chunk((const char *const *)parts, e->comm->size, f->m, &ctx,
                             (char *)elem0(&e->t[QMAR__OUT]));
    }
    return st;
}

/* The endpoint's kept buffers (scratch.h) for this Run; NULL when another Run holds them, which
 * only two Runs at once on one endpoint (a misuse, spec/api.md) can do: that one allocates its
 * own. */
static qmar__scratch *take_kept(qmar_comm *comm)
{
    return atomic_exchange(&comm->scratch_taken, 1) == 0 ? &comm->scratch : NULL;
}

static void give_kept(qmar_comm *comm, const qmar__scratch *keep)
{
    if (keep != NULL)
        atomic_store(&comm->scratch_taken, 0);
}

qmar_status qmar__execute(qmar_executor *e, void *workspace, qmar_status local)
{
    const qmar__facts *f = &e->facts;
    scratch s = {0};
    qmar__scratch *keep = take_kept(e->comm);
    if (local == QMAR_SUCCESS)
        local = scratch_alloc(e, &s, keep);
    qmar_status st;
    if (f->op_case != 3 && qmar__agree_can_ride(e, qmar__workspace_layout(f).e_bytes))
        st = ride_and_reduce(e, &s, workspace, local);
    else if ((st = qmar__agree(e, local, NULL, 0, NULL)) == QMAR_SUCCESS) {
        qmar__layout l = qmar__workspace_layout(f); /* layout of qmar.h */
        block_io io = {.e = e, .ratio = s.ratio, .e_rows = workspace,
                       .out = (uint16_t *)elem0(&e->t[QMAR__OUT]),
                       .q1 = (int8_t *)workspace + l.q1, .q2 = (int8_t *)workspace + l.q2};
        qmar__epilogue p = epilogue_of(e);
        qmar__compute_prepare(&s.compute, elem0(&e->t[QMAR__X1]), elem0(&e->t[QMAR__X2]), &p);
        if (f->op_case == 3) {
            const uint16_t *s1 = elem0(&e->t[QMAR__CS1]), *s2 = elem0(&e->t[QMAR__CS2]);
            for (int64_t j = 0; j < f->n; j++) /* §5.3: ratio = rne_fp32(s1 / s2) */
                s.ratio[j] = qmar__y_to_f32(s1[j], f->y) / qmar__y_to_f32(s2[j], f->y);
        }
        if (s.produced > 0)
            st = e->comm->ops->allreduce_y_produced(e->comm, produce_rows, &s.compute, io.out,
                                                    f->m, f->n, f->y);
        else
            st = compute_and_communicate(&s, &io);
        if (st != QMAR_SUCCESS) /* a collective failed: its peers must not wait (api.md) */
            e->comm->ops->revoke(e->comm);
    }
    qmar__compute_free(&s.compute);
    give_kept(e->comm, keep);
    free(s.ratio);
    return st;
}
