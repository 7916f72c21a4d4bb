/* SPDX-License-Identifier: Apache-2.0 */
/* The MPI communicator's collectives: one endpoint per process. Each collective is a few
 * generation-tagged exchanges (mpi_control.c) polled against the timeout and against revoke
 * notices, so no call waits forever and one rank's failure fails its peers promptly. All MPI
 * traffic goes through staging the endpoint owns: after a failure a request may still be pending
 * inside MPI, so that staging is abandoned (never freed, never reused) instead of being handed
 * back to anyone. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../collective_math.h"
#include "../error.h"
#include "mpi_shm.h"
#include "mpi_state.h"

/* Rows per round are chosen so one round moves about this many bytes: big enough to amortise
 * latency, small enough that staging stays modest and every MPI count fits an int. */
#define ROUND_BYTES (16u << 20)

/* A failure found before any message of the step is posted: the peers are told at once. */
static qmar_status refuse(qmar_comm *c, qmar_status st)
{
    qmar__mpi_break(c, 1);
    return st;
}

static qmar_status mpi_allgather(qmar_comm *c, const void *mine, uint64_t len, void *all)
{
    uint64_t size = (uint64_t)c->size;
    if (len > INT_MAX / (size + 1))
        return refuse(c, qmar__fail(QMAR_ERR_INNER, "collective: all-gather of %llu bytes is "
                                    "too large", (unsigned long long)len));
    qmar_status st = qmar__mpi_stage(c, len * (size + 1));
    if (st != QMAR_SUCCESS)
        return st;
    char *stage = qmar__mpi_state(c)->stage;
    char *send[QMAR_COMM_MAX_RANKS], *recv[QMAR_COMM_MAX_RANKS];
    int count[QMAR_COMM_MAX_RANKS];
    memcpy(stage, mine, len);
    for (int32_t q = 0; q < c->size; q++) {
        send[q] = stage;
        recv[q] = stage + len * (uint64_t)(q + 1);
        count[q] = (int)len;
    }
    if ((st = qmar__mpi_exchange(c, "all-gather", send, count, recv, count)) != QMAR_SUCCESS)
        return st;
    memcpy(all, stage + len, len * size);
    return QMAR_SUCCESS;
}

/* One round of an all-reduce over rows [0, rows) of `src` (row_bytes each): all-to-all of row
 * chunks, `reduce` of this rank's chunk, all-gather of the reduced chunks into dst. */
typedef struct round_layout {
    int counts[QMAR_COMM_MAX_RANKS]; /* bytes of rank q's chunk */
    int64_t displs[QMAR_COMM_MAX_RANKS];
    int64_t my_rows;
} round_layout;

static void layout_round(const qmar_comm *c, int64_t rows, int64_t row_bytes, round_layout *l)
{
    int64_t lo, hi;
    for (int32_t q = 0; q < c->size; q++) {
        qmar__chunk(rows, c->size, q, &lo, &hi);
        l->counts[q] = (int)((hi - lo) * row_bytes);
        l->displs[q] = lo * row_bytes;
    }
    qmar__chunk(rows, c->size, c->rank, &lo, &hi);
    l->my_rows = hi - lo;
}

static qmar_status reduce_round(qmar_comm *c, const char *src, char *dst, int64_t rows,
                                int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    round_layout l;
    layout_round(c, rows, row_bytes, &l);
    uint64_t total = (uint64_t)(rows * row_bytes), part = (uint64_t)(l.my_rows * row_bytes);
    qmar_status st = qmar__mpi_stage(c, 2 * total + (uint64_t)c->size * part + part);
    if (st != QMAR_SUCCESS)
        return st;
    char *send = qmar__mpi_state(c)->stage, *recv = send + total;
    char *red = recv + (uint64_t)c->size * part, *gathered = red + part;
    char *sendp[QMAR_COMM_MAX_RANKS], *recvp[QMAR_COMM_MAX_RANKS];
    int sendc[QMAR_COMM_MAX_RANKS], recvc[QMAR_COMM_MAX_RANKS];
    memcpy(send, src, total);
    for (int32_t q = 0; q < c->size; q++) { /* rank q's chunk to q; my chunk from everyone */
        sendp[q] = send + l.displs[q];
        sendc[q] = l.counts[q];
        recvp[q] = recv + (uint64_t)q * part;
        recvc[q] = (int)part;
    }
    if ((st = qmar__mpi_exchange(c, "all-to-all", sendp, sendc, recvp, recvc)) != QMAR_SUCCESS)
        return st;
    reduce((const char *const *)recvp, c->size, l.my_rows, ctx, red);
    for (int32_t q = 0; q < c->size; q++) { /* my reduced chunk to everyone; theirs from them */
        sendp[q] = red;
        sendc[q] = (int)part;
        recvp[q] = gathered + l.displs[q];
        recvc[q] = l.counts[q];
    }
    if ((st = qmar__mpi_exchange(c, "all-gather", sendp, sendc, recvp, recvc)) != QMAR_SUCCESS)
        return st;
    memcpy(dst, gathered, total);
    return QMAR_SUCCESS;
}

qmar_status qmar__mpi_in_rounds(qmar_comm *c, qmar__mpi_round_fn round, int64_t per_round,
                                const char *src, char *dst, int64_t m, int64_t row_bytes,
                                qmar__chunk_reduce reduce, const void *ctx)
{
    for (int64_t r0 = 0; r0 < m; r0 += per_round) {
        int64_t rows = m - r0 < per_round ? m - r0 : per_round;
        qmar_status st =
            round(c, src + r0 * row_bytes, dst + r0 * row_bytes, rows, row_bytes, reduce, ctx);
        if (st != QMAR_SUCCESS)
            return st;
    }
    return QMAR_SUCCESS;
}

/* Splits m rows into rounds of about ROUND_BYTES and runs reduce_round on each. */
qmar_status qmar__mpi_reduce_rows(qmar_comm *c, const char *src, char *dst, int64_t m,
                                  int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    if (row_bytes > INT_MAX / 4)
        return refuse(c, qmar__fail(QMAR_ERR_INNER, "collective: rows of %lld bytes are too "
                                    "long for MPI", (long long)row_bytes));
    int64_t per_round = (int64_t)ROUND_BYTES / row_bytes;
    if (per_round < c->size)
        per_round = c->size;
    if (per_round * row_bytes > INT_MAX / 2)
        per_round = (INT_MAX / 2) / row_bytes;
    return qmar__mpi_in_rounds(c, reduce_round, per_round, src, dst, m, row_bytes, reduce, ctx);
}

static qmar_status mpi_allreduce_y(qmar_comm *c, const uint16_t *e, uint16_t *out, int64_t m,
                                   int64_t n, int32_t y)
{
    qmar__y_reduce_ctx ctx = {n, y};
    return qmar__mpi_reduce_rows(c, (const char *)e, (char *)out, m, n * 2,
                                 qmar__reduce_y_chunk, &ctx);
}

static qmar_status mpi_lowbit_allreduce(qmar_comm *c, const int8_t *q1, int8_t *q2, int64_t m,
                                        int64_t n, const float *ratio)
{
    qmar__lowbit_ctx ctx = {n, ratio};
    return qmar__mpi_reduce_rows(c, (const char *)q1, (char *)q2, m, n,
                                 qmar__sum_requant_chunk, &ctx);
}

void qmar__mpi_release(qmar_comm *c)
{
    mpi_state *s = qmar__mpi_state(c);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
        qmar__mpi_control_stop(s);
        /* A broken endpoint may have requests pending on its communicators: leave them alone. */
        if (!s->broken) {
            MPI_Comm_free(&s->data);
            MPI_Comm_free(&s->ctl);
        }
    }
    if (s->shm != NULL)
        qmar__shm_unmap(s->shm); /* local: a peer still in a broken collective keeps its own */
    free(s->stage);
    free(s);
}

const qmar__backend_ops qmar__mpi_ops = {
    .release = qmar__mpi_release,
    .allgather = mpi_allgather,
    .allreduce_y = mpi_allreduce_y,
    .lowbit_allreduce = mpi_lowbit_allreduce,
    .revoke = qmar__mpi_revoke,
    .agree_outcome = qmar__mpi_agree_outcome,
};
