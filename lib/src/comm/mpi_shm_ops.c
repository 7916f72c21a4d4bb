/* SPDX-License-Identifier: Apache-2.0 */
/* The collectives of an MPI group on one host, through its shared segment (mpi_shm.h): a rank
 * writes into its own buffer, passes a barrier, and reads its peers' buffers directly, so data
 * are copied once each way instead of staged through MPI messages. The reductions call the very
 * functions the point-to-point path calls (collective_math.h), in rank order: the same bits. Run
 * may have its e rows computed straight into the rank's buffer (allreduce_y_produced), which
 * spares the copy in. The outcome vote is mpi_control.c's, its exchange a barrier of the segment
 * (qmar__shm_vote). */
#include <string.h>

#include "../collective_math.h"
#include "mpi_shm.h"
#include "mpi_state.h"

static qmar__shm *shm_of(const qmar_comm *c)
{
    return qmar__mpi_state(c)->shm;
}

/* In rounds of at most one buffer: every rank gives the same len, so the rounds match. */
static qmar_status shm_allgather(qmar_comm *c, const void *mine, uint64_t len, void *all)
{
    qmar__shm *m = shm_of(c);
    uint64_t off = 0;
    do {
        uint64_t part = len - off < QMAR__SHM_HALF ? len - off : QMAR__SHM_HALF;
        uint64_t k = m->seq + 1;
        memcpy(qmar__shm_buffer(m, c->rank, k), (const char *)mine + off, (size_t)part);
        qmar_status st = qmar__shm_barrier(c, "all-gather");
        if (st != QMAR_SUCCESS)
            return st;
        for (int32_t r = 0; r < c->size; r++)
            memcpy((char *)all + (uint64_t)r * len + off, qmar__shm_buffer(m, r, k), (size_t)part);
        off += part;
    } while (off < len);
    return QMAR_SUCCESS;
}

_Static_assert(QMAR__RIDE_HEADER_MAX + QMAR__RIDE_PAYLOAD_MAX <= QMAR__SHM_HALF,
               "the agreement and its payload must fit one buffer");

/* comm.h: one barrier; parts[r] points into rank r's buffer, which r writes again only before
 * the barrier after this rank's next one (mpi_shm.h), so it stays readable until then. */
static qmar_status shm_allgather_riding(qmar_comm *c, const void *mine, uint64_t hlen, void *all,
                                        const void *payload, uint64_t plen, const void **parts)
{
    qmar__shm *m = shm_of(c);
    uint64_t k = m->seq + 1;
    unsigned char *buf = qmar__shm_buffer(m, c->rank, k);
    memcpy(buf, mine, (size_t)hlen);
    if (plen > 0)
        memcpy(buf + QMAR__RIDE_HEADER_MAX, payload, (size_t)plen);
    qmar_status st = qmar__shm_barrier(c, "agreement");
    if (st != QMAR_SUCCESS)
        return st;
    for (int32_t r = 0; r < c->size; r++) {
        const unsigned char *theirs = qmar__shm_buffer(m, r, k);
        memcpy((char *)all + (uint64_t)r * hlen, theirs, (size_t)hlen);
        parts[r] = theirs + QMAR__RIDE_HEADER_MAX;
    }
    return QMAR_SUCCESS;
}

/* One round over `rows` rows (all of them fit one buffer) that this rank has written into its
 * buffer of the coming barrier: each rank reduces its chunk into its other buffer, and all copy
 * every chunk. (Every rank reducing all the rows itself, behind one barrier and without the
 * copies, was slower with two ranks too: 2-3 % a Run at m = 128 and 1024 on Zen 5, and no
 * faster at m = 4 and 16; bench/README.md.) */
static qmar_status reduce_posted(qmar_comm *c, char *dst, int64_t rows, int64_t row_bytes,
                                 qmar__chunk_reduce reduce, const void *ctx)
{
    qmar__shm *m = shm_of(c);
    uint64_t k = m->seq + 1;
    qmar_status st = qmar__shm_barrier(c, "reduce-scatter");
    if (st != QMAR_SUCCESS)
        return st;
    const char *parts[QMAR_COMM_MAX_RANKS];
    int64_t lo, hi;
    qmar__chunk(rows, c->size, c->rank, &lo, &hi);
    for (int32_t r = 0; r < c->size; r++)
        parts[r] = (const char *)qmar__shm_buffer(m, r, k) + lo * row_bytes;
    /* buffer k + 1: peers read it last before barrier k - 1, and all have passed k */
    reduce(parts, c->size, hi - lo, ctx, (char *)qmar__shm_buffer(m, c->rank, k + 1) +
           lo * row_bytes);
    if ((st = qmar__shm_barrier(c, "all-gather")) != QMAR_SUCCESS)
        return st;
    for (int32_t r = 0; r < c->size; r++) {
        qmar__chunk(rows, c->size, r, &lo, &hi);
        memcpy(dst + lo * row_bytes, qmar__shm_buffer(m, r, k + 1) + lo * row_bytes,
               (size_t)((hi - lo) * row_bytes));
    }
    return QMAR_SUCCESS;
}

static qmar_status reduce_round(qmar_comm *c, const char *src, char *dst, int64_t rows,
                                int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    qmar__shm *m = shm_of(c);
    memcpy(qmar__shm_buffer(m, c->rank, m->seq + 1), src, (size_t)(rows * row_bytes));
    return reduce_posted(c, dst, rows, row_bytes, reduce, ctx);
}

/* Rows of row_bytes bytes one buffer holds (0: a row is longer than a buffer). */
static int64_t rows_per_buffer(int64_t row_bytes)
{
    return row_bytes > 0 ? (int64_t)QMAR__SHM_HALF / row_bytes : 0;
}

/* Rounds of as many rows as one buffer holds; rows longer than a buffer go point to point
 * (every rank has the same m and n, so every rank takes the same path). */
static qmar_status reduce_rows(qmar_comm *c, const char *src, char *dst, int64_t m,
                               int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    int64_t per_round = rows_per_buffer(row_bytes);
    if (per_round < 1)
        return qmar__mpi_reduce_rows(c, src, dst, m, row_bytes, reduce, ctx);
    return qmar__mpi_in_rounds(c, reduce_round, per_round, src, dst, m, row_bytes, reduce, ctx);
}

static qmar_status shm_allreduce_y(qmar_comm *c, const uint16_t *e, uint16_t *out, int64_t m,
                                   int64_t n, int32_t y)
{
    qmar__y_reduce_ctx ctx = {n, y};
    return reduce_rows(c, (const char *)e, (char *)out, m, n * 2, qmar__reduce_y_chunk, &ctx);
}

static int64_t shm_produced_round_rows(const qmar_comm *c, int64_t row_bytes)
{
    (void)c;
    return rows_per_buffer(row_bytes);
}

/* comm.h: each round's rows are produced into this rank's buffer of the coming barrier, then
 * reduced as reduce_round's copy would have been. */
static qmar_status shm_allreduce_y_produced(qmar_comm *c, qmar__produce_rows produce, void *arg,
                                            uint16_t *out, int64_t m, int64_t n, int32_t y)
{
    qmar__shm *sh = shm_of(c);
    qmar__y_reduce_ctx ctx = {n, y};
    int64_t per_round = rows_per_buffer(n * 2);
    for (int64_t r0 = 0; r0 < m; r0 += per_round) {
        int64_t rows = m - r0 < per_round ? m - r0 : per_round;
        produce(arg, r0, rows, (uint16_t *)qmar__shm_buffer(sh, c->rank, sh->seq + 1));
        qmar_status st = reduce_posted(c, (char *)(out + r0 * n), rows, n * 2,
                                       qmar__reduce_y_chunk, &ctx);
        if (st != QMAR_SUCCESS)
            return st;
    }
    return QMAR_SUCCESS;
}

static qmar_status shm_lowbit_allreduce(qmar_comm *c, const int8_t *q1, int8_t *q2, int64_t m,
                                        int64_t n, const float *ratio)
{
    qmar__lowbit_ctx ctx = {n, ratio};
    return reduce_rows(c, (const char *)q1, (char *)q2, m, n, qmar__sum_requant_chunk, &ctx);
}

const qmar__backend_ops qmar__mpi_shm_ops = {
    .release = qmar__mpi_release,
    .allgather = shm_allgather,
    .allgather_riding = shm_allgather_riding,
    .allreduce_y = shm_allreduce_y,
    .allreduce_y_produced = shm_allreduce_y_produced,
    .produced_round_rows = shm_produced_round_rows,
    .lowbit_allreduce = shm_lowbit_allreduce,
    .revoke = qmar__mpi_revoke,
    .agree_outcome = qmar__mpi_agree_outcome,
};
