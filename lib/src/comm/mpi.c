/* The MPI communicator: one endpoint per process. Every collective is non-blocking (MPI_I*) and
 * polled against a deadline, so no call waits forever. All MPI traffic goes through buffers the
 * endpoint owns: after a timeout a request may still be pending inside MPI, so those buffers are
 * abandoned (never freed, never reused) instead of being handed back to anyone. */
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fault.h"
#include "qmar/qmar_mpi.h"

#include "../collective_math.h"
#include "../error.h"
#include "comm.h"

/* Rows per round are chosen so one round moves about this many bytes: big enough to amortise
 * latency, small enough that staging stays modest and every MPI count fits an int. */
#define ROUND_BYTES (16u << 20)

typedef struct mpi_state {
    MPI_Comm comm;   /* qmar's own duplicate */
    char *stage;     /* staging memory, owned by the endpoint */
    uint64_t stage_cap;
    int broken;      /* a collective timed out or failed: the endpoint is unusable */
} mpi_state;

static atomic_uint_fast64_t next_endpoint_id;

static mpi_state *state_of(const qmar_comm *c)
{
    return c->backend;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static qmar_status broken_error(const qmar_comm *c)
{
    return qmar__fail(QMAR_ERR_RUNTIME,
                      "collective: MPI endpoint of rank %d is broken by an earlier failure; "
                      "destroy it and create a new one", (int)c->rank);
}

/* Marks the endpoint broken; a request may still be pending, so its staging is abandoned. */
static void break_endpoint(mpi_state *s)
{
    s->broken = 1;
    s->stage = NULL;
    s->stage_cap = 0;
}

/* Polls req until it completes or the endpoint's timeout passes. OpenMPI moves the data of a
 * non-blocking collective only inside MPI calls, so the first 50 ms poll without sleeping
 * (yielding the core to other ranks or to the compute worker); a wait longer than that is a late
 * peer, not a transfer, and is polled with growing sleeps up to 1 ms. */
static qmar_status wait_request(qmar_comm *c, MPI_Request *req, const char *what)
{
    mpi_state *s = state_of(c);
    double start = now_ms(), deadline = start + (double)c->timeout_ms;
    long pause_ns = 10000;
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            break_endpoint(s);
            return qmar__fail(QMAR_ERR_RUNTIME, "collective: %s failed on rank %d (MPI error %d)",
                              what, (int)c->rank, rc);
        }
        if (done)
            return QMAR_SUCCESS;
        double t = now_ms();
        if (t > deadline) {
            break_endpoint(s);
            return qmar__fail(QMAR_ERR_RUNTIME,
                              "collective: rank %d waited %lld ms for its peers in %s (the "
                              "endpoint is now broken)", (int)c->rank, (long long)c->timeout_ms,
                              what);
        }
        if (t - start < 50.0) {
            sched_yield();
        } else {
            nanosleep(&(struct timespec){0, pause_ns}, NULL);
            pause_ns = pause_ns < 1000000 ? pause_ns * 2 : pause_ns;
        }
    }
}

static qmar_status ensure_stage(qmar_comm *c, uint64_t bytes)
{
    mpi_state *s = state_of(c);
    if (s->broken)
        return broken_error(c);
    if (bytes <= s->stage_cap)
        return QMAR_SUCCESS;
    char *grown = qmar__realloc(s->stage, bytes);
    if (grown == NULL)
        return qmar__fail(QMAR_ERR_INNER, "collective: out of memory for %llu bytes of staging",
                          (unsigned long long)bytes);
    s->stage = grown;
    s->stage_cap = bytes;
    return QMAR_SUCCESS;
}

static qmar_status mpi_allgather(qmar_comm *c, const void *mine, uint64_t len, void *all)
{
    uint64_t size = (uint64_t)c->size;
    if (len > INT_MAX / size)
        return qmar__fail(QMAR_ERR_INNER, "collective: all-gather of %llu bytes is too large",
                          (unsigned long long)len);
    qmar_status st = ensure_stage(c, len * (size + 1));
    if (st != QMAR_SUCCESS)
        return st;
    mpi_state *s = state_of(c);
    memcpy(s->stage, mine, len);
    MPI_Request req;
    if (MPI_Iallgather(s->stage, (int)len, MPI_BYTE, s->stage + len, (int)len, MPI_BYTE, s->comm,
                       &req) != MPI_SUCCESS) {
        break_endpoint(s);
        return qmar__fail(QMAR_ERR_RUNTIME, "collective: MPI_Iallgather failed");
    }
    if ((st = wait_request(c, &req, "all-gather")) != QMAR_SUCCESS)
        return st;
    memcpy(all, s->stage + len, len * size);
    return QMAR_SUCCESS;
}

/* One round of an all-reduce over rows [0, rows) of `src` (row_bytes each): all-to-all of row
 * chunks, `reduce` of this rank's chunk, all-gather of the reduced chunks into dst. */
typedef struct round_layout {
    int counts[QMAR_COMM_MAX_RANKS], displs[QMAR_COMM_MAX_RANKS];
    int mine_counts[QMAR_COMM_MAX_RANKS], mine_displs[QMAR_COMM_MAX_RANKS];
    int64_t my_lo, my_rows;
} round_layout;

static void layout_round(const qmar_comm *c, int64_t rows, int64_t row_bytes, round_layout *l)
{
    int64_t hi;
    qmar__chunk(rows, c->size, c->rank, &l->my_lo, &hi);
    l->my_rows = hi - l->my_lo;
    for (int32_t q = 0; q < c->size; q++) {
        int64_t lo, qhi;
        qmar__chunk(rows, c->size, q, &lo, &qhi);
        l->counts[q] = (int)((qhi - lo) * row_bytes);   /* rank q's chunk */
        l->displs[q] = (int)(lo * row_bytes);
        l->mine_counts[q] = (int)(l->my_rows * row_bytes); /* my chunk, from rank q */
        l->mine_displs[q] = (int)(q * l->my_rows * row_bytes);
    }
}

static qmar_status reduce_round(qmar_comm *c, const char *src, char *dst, int64_t rows,
                                int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    mpi_state *s = state_of(c);
    round_layout l;
    layout_round(c, rows, row_bytes, &l);
    uint64_t total = (uint64_t)(rows * row_bytes), part = (uint64_t)(l.my_rows * row_bytes);
    qmar_status st = ensure_stage(c, 2 * total + (uint64_t)c->size * part + part);
    if (st != QMAR_SUCCESS)
        return st;
    char *send = s->stage, *recv = send + total, *red = recv + (uint64_t)c->size * part;
    char *gathered = red + part;
    memcpy(send, src, total);
    MPI_Request req;
    if (MPI_Ialltoallv(send, l.counts, l.displs, MPI_BYTE, recv, l.mine_counts, l.mine_displs,
                       MPI_BYTE, s->comm, &req) != MPI_SUCCESS ||
        (st = wait_request(c, &req, "all-to-all")) != QMAR_SUCCESS)
        return st != QMAR_SUCCESS ? st : qmar__fail(QMAR_ERR_RUNTIME, "MPI_Ialltoallv failed");
    const char *parts[QMAR_COMM_MAX_RANKS];
    for (int32_t q = 0; q < c->size; q++)
        parts[q] = recv + (uint64_t)q * part;
    reduce(parts, c->size, l.my_rows, ctx, red);
    if (MPI_Iallgatherv(red, (int)part, MPI_BYTE, gathered, l.counts, l.displs, MPI_BYTE, s->comm,
                        &req) != MPI_SUCCESS ||
        (st = wait_request(c, &req, "all-gather")) != QMAR_SUCCESS)
        return st != QMAR_SUCCESS ? st : qmar__fail(QMAR_ERR_RUNTIME, "MPI_Iallgatherv failed");
    memcpy(dst, gathered, total);
    return QMAR_SUCCESS;
}

/* Splits m rows into rounds of about ROUND_BYTES and runs reduce_round on each. */
static qmar_status reduce_rows(qmar_comm *c, const char *src, char *dst, int64_t m,
                               int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    if (row_bytes > INT_MAX / 4)
        return qmar__fail(QMAR_ERR_INNER, "collective: rows of %lld bytes are too long for MPI",
                          (long long)row_bytes);
    int64_t per_round = (int64_t)ROUND_BYTES / row_bytes;
    if (per_round < c->size)
        per_round = c->size;
    if (per_round * row_bytes > INT_MAX / 2)
        per_round = (INT_MAX / 2) / row_bytes;
    for (int64_t r0 = 0; r0 < m; r0 += per_round) {
        int64_t rows = m - r0 < per_round ? m - r0 : per_round;
        qmar_status st = reduce_round(c, src + r0 * row_bytes, dst + r0 * row_bytes, rows,
                                      row_bytes, reduce, ctx);
        if (st != QMAR_SUCCESS)
            return st;
    }
    return QMAR_SUCCESS;
}

static qmar_status mpi_allreduce_y(qmar_comm *c, const uint16_t *e, uint16_t *out, int64_t m,
                                   int64_t n, int32_t y)
{
    qmar__y_reduce_ctx ctx = {n, y};
    return reduce_rows(c, (const char *)e, (char *)out, m, n * 2, qmar__reduce_y_chunk, &ctx);
}

static qmar_status mpi_lowbit_allreduce(qmar_comm *c, const int8_t *q1, int8_t *q2, int64_t m,
                                        int64_t n, const float *ratio)
{
    qmar__lowbit_ctx ctx = {n, ratio};
    return reduce_rows(c, (const char *)q1, (char *)q2, m, n, qmar__sum_requant_chunk, &ctx);
}

static void mpi_release(qmar_comm *c)
{
    mpi_state *s = state_of(c);
    int finalized = 0;
    MPI_Finalized(&finalized);
    /* A broken endpoint may have requests pending on its communicator: leave both alone. */
    if (!s->broken && !finalized)
        MPI_Comm_free(&s->comm);
    free(s->stage);
    free(s);
}

/* Local for now: this rank's later collectives fail at once. (Telling the peers is to come.) */
static void mpi_revoke(qmar_comm *c)
{
    state_of(c)->broken = 1;
}

static const qmar__backend_ops mpi_ops = {
    .release = mpi_release,
    .allgather = mpi_allgather,
    .allreduce_y = mpi_allreduce_y,
    .lowbit_allreduce = mpi_lowbit_allreduce,
    .revoke = mpi_revoke,
};

/* MPI_Comm_idup, polled against the default timeout (a peer that never joins cannot hang us). */
static qmar_status duplicate(MPI_Comm mpi_comm, qmar_comm *c, mpi_state *s)
{
    MPI_Request req;
    if (MPI_Comm_idup(mpi_comm, &s->comm, &req) != MPI_SUCCESS)
        return qmar__fail(QMAR_ERR_RUNTIME, "comm_init_mpi: MPI_Comm_idup failed");
    qmar_status st = wait_request(c, &req, "comm_init_mpi");
    if (st == QMAR_SUCCESS)
        MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    return st;
}

static qmar_status check_mpi_comm(MPI_Comm mpi_comm, int *rank, int *size)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized || finalized)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: MPI is not initialised");
    if (mpi_comm == MPI_COMM_NULL)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: mpi_comm is MPI_COMM_NULL");
    if (MPI_Comm_rank(mpi_comm, rank) != MPI_SUCCESS ||
        MPI_Comm_size(mpi_comm, size) != MPI_SUCCESS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: not a valid communicator");
    if (*size > QMAR_COMM_MAX_RANKS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: %d processes > %d", *size,
                          QMAR_COMM_MAX_RANKS);
    return QMAR_SUCCESS;
}

/* How many ranks run on this host: an all-gather of host names over the new endpoint. */
static qmar_status count_local_ranks(qmar_comm *c)
{
    char mine[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    MPI_Get_processor_name(mine, &len);
    char *all = qmar__malloc((size_t)c->size * MPI_MAX_PROCESSOR_NAME);
    if (all == NULL)
        return qmar__fail(QMAR_ERR_INNER, "comm_init_mpi: out of memory");
    qmar_status st = mpi_allgather(c, mine, MPI_MAX_PROCESSOR_NAME, all);
    c->local_ranks = 0;
    for (int32_t r = 0; st == QMAR_SUCCESS && r < c->size; r++)
        c->local_ranks += strcmp(all + (size_t)r * MPI_MAX_PROCESSOR_NAME, mine) == 0;
    free(all);
    return st;
}

qmar_status qmar_comm_init_mpi(MPI_Comm mpi_comm, qmar_comm **comm)
{
    int rank = 0, size = 0;
    if (comm == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_init_mpi: comm is NULL");
    *comm = NULL;
    qmar_status st = check_mpi_comm(mpi_comm, &rank, &size);
    if (st != QMAR_SUCCESS)
        return st;
    qmar_comm *c = qmar__calloc(1, sizeof *c);
    mpi_state *s = qmar__calloc(1, sizeof *s);
    if (c == NULL || s == NULL) {
        free(c);
        free(s);
        return qmar__fail(QMAR_ERR_INNER, "comm_init_mpi: out of memory");
    }
    c->rank = rank;
    c->size = size;
    c->timeout_ms = qmar__comm_default_timeout_ms();
    c->ops = &mpi_ops;
    c->backend = s;
    snprintf(c->name, sizeof c->name, "qmar-mpi-e%llu-r%d",
             (unsigned long long)atomic_fetch_add(&next_endpoint_id, 1), rank);
    if ((st = duplicate(mpi_comm, c, s)) != QMAR_SUCCESS ||
        (st = count_local_ranks(c)) != QMAR_SUCCESS ||
        (st = qmar__comm_register(c)) != QMAR_SUCCESS) {
        if (!s->broken && s->comm != MPI_COMM_NULL && st != QMAR_ERR_RUNTIME)
            MPI_Comm_free(&s->comm);
        free(s->stage);
        free(s);
        free(c);
        return st;
    }
    *comm = c;
    return QMAR_SUCCESS;
}
