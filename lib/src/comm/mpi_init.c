/* SPDX-License-Identifier: Apache-2.0 */
/* qmar_comm_init_mpi: refuses what the MPI backend cannot serve, duplicates the user's
 * communicator twice (data and revoke notices), learns how many ranks share this host (if all do,
 * they map a shared segment: mpi_shm_init.c), and ends with the same vote as a Run, so that it
 * succeeds on every rank or on none. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "../fault.h"
#include "mpi_state.h"
#include "qmar/qmar_mpi.h"

static atomic_uint_fast64_t next_endpoint_id;

/* Everything checked here is the same on every rank of mpi_comm (the thread rule aside), so a
 * refusal needs no message to be the same everywhere. */
static qmar_status check_mpi_comm(MPI_Comm mpi_comm, int *rank, int *size)
{
    int initialized = 0, finalized = 0, inter = 0, provided = 0, main_thread = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: MPI is not initialised (call "
                          "MPI_Init or MPI_Init_thread first)");
    if (finalized)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: MPI is already finalised");
    if (mpi_comm == MPI_COMM_NULL)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: mpi_comm is MPI_COMM_NULL");
    if (MPI_Comm_test_inter(mpi_comm, &inter) != MPI_SUCCESS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: mpi_comm is not a valid "
                          "communicator");
    if (inter)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: mpi_comm is an "
                          "inter-communicator; qmar needs an intra-communicator (e.g. "
                          "MPI_Intercomm_merge it)");
    if (MPI_Comm_rank(mpi_comm, rank) != MPI_SUCCESS ||
        MPI_Comm_size(mpi_comm, size) != MPI_SUCCESS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: mpi_comm is not a valid "
                          "communicator");
    if (*size > QMAR_COMM_MAX_RANKS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: %d processes > %d", *size,
                          QMAR_COMM_MAX_RANKS);
    MPI_Query_thread(&provided);
    MPI_Is_thread_main(&main_thread);
    if (provided < MPI_THREAD_SERIALIZED && !main_thread)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_mpi: called from a thread other "
                          "than MPI's main thread, and MPI was initialised below "
                          "MPI_THREAD_SERIALIZED (level %d)", provided);
    return QMAR_SUCCESS;
}

/* Polls one MPI_Comm_idup until it completes or the timeout passes. */
static qmar_status wait_dup(MPI_Request *req, int32_t rank, int64_t timeout_ms)
{
    double start = qmar__mpi_now_ms();
    long pause_ns = 10000;
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return qmar__fail(QMAR_ERR_RUNTIME, "comm_init_mpi: duplicating failed on rank %d",
                              (int)rank);
        if (done)
            return QMAR_SUCCESS;
        double t = qmar__mpi_now_ms();
        if (t - start > (double)timeout_ms)
            return qmar__fail(QMAR_ERR_RUNTIME, "comm_init_mpi: rank %d waited %lld ms for its "
                              "peers to join", (int)rank, (long long)timeout_ms);
        qmar__mpi_pause(t - start, &pause_ns);
    }
}

/* The data duplicate (MPI_Comm_idup of the user's communicator) and the control duplicate (of
 * the data one), one after the other and polled against the timeout, so a peer that never joins
 * cannot hang us. Only one idup is ever in flight on the user's communicator: Open MPI can
 * deadlock when several are, or when other collectives run beside one (its issue #2025). A rank
 * whose step fails still takes part in the duplication: a revoke notice on the new duplicate is
 * its only way to tell its peers at once. */
static qmar_status duplicate(MPI_Comm mpi_comm, int32_t rank, int32_t size, int64_t timeout_ms,
                             MPI_Comm dup[2])
{
    static const char *const steps[2][2] = {{"comm_init_mpi: duplicate", "comm_init_mpi: wait"},
                                            {"comm_init_mpi: duplicate control",
                                             "comm_init_mpi: wait control"}};
    qmar_status st = QMAR_SUCCESS;
    for (int i = 0; i < 2; i++) {
        MPI_Request req = MPI_REQUEST_NULL;
        qmar_status injected = qmar__fault_step(rank, timeout_ms, steps[i][0]);
        if (MPI_Comm_idup(i == 0 ? mpi_comm : dup[0], &dup[i], &req) != MPI_SUCCESS)
            return qmar__fail(QMAR_ERR_RUNTIME, "comm_init_mpi: MPI_Comm_idup failed on rank "
                              "%d", (int)rank);
        if (injected == QMAR_SUCCESS)
            injected = qmar__fault_step(rank, timeout_ms, steps[i][1]);
        qmar_status waited = wait_dup(&req, rank, timeout_ms);
        if (waited != QMAR_SUCCESS)
            return waited; /* the duplicate may have requests pending: left alone */
        MPI_Comm_set_errhandler(dup[i], MPI_ERRORS_RETURN);
        if (st == QMAR_SUCCESS)
            st = injected;
    }
    if (st != QMAR_SUCCESS)
        qmar__mpi_notify(dup[1], rank, size, timeout_ms);
    return st;
}

/* How many ranks run on this host: an all-gather of host names. */
static qmar_status count_local_ranks(qmar_comm *c)
{
    char mine[MPI_MAX_PROCESSOR_NAME] = {0};
    int len = 0;
    MPI_Get_processor_name(mine, &len);
    char *all = qmar__malloc((size_t)c->size * MPI_MAX_PROCESSOR_NAME);
    if (all == NULL)
        return qmar__fail(QMAR_ERR_INNER, "comm_init_mpi: out of memory");
    qmar_status st = qmar__mpi_ops.allgather(c, mine, MPI_MAX_PROCESSOR_NAME, all);
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
    int64_t timeout_ms = qmar__comm_default_timeout_ms();
    MPI_Comm dup[2] = {MPI_COMM_NULL, MPI_COMM_NULL};
    st = duplicate(mpi_comm, rank, size, timeout_ms, dup);
    if (st != QMAR_SUCCESS)
        return st; /* the duplicates may have requests pending: left alone */
    qmar_comm *c = qmar__calloc(1, sizeof *c);
    mpi_state *s = qmar__calloc(1, sizeof *s);
    if (c == NULL || s == NULL) {
        qmar__mpi_notify(dup[1], rank, size, timeout_ms);
        free(c);
        free(s);
        return qmar__fail(QMAR_ERR_INNER, "comm_init_mpi: out of memory");
    }
    *c = (qmar_comm){.rank = rank, .size = size, .timeout_ms = timeout_ms, .ops = &qmar__mpi_ops,
                     .backend = s};
    s->data = dup[0];
    s->ctl = dup[1];
    snprintf(c->name, sizeof c->name, "qmar-mpi-e%llu-r%d",
             (unsigned long long)atomic_fetch_add(&next_endpoint_id, 1), rank);
    qmar__mpi_control_start(c);
    st = count_local_ranks(c);
    if (st == QMAR_SUCCESS)
        st = qmar__mpi_shm_setup(c); /* a rank that failed above told its peers: theirs fail */
    int registered = st == QMAR_SUCCESS && (st = qmar__comm_register(c)) == QMAR_SUCCESS;
    st = qmar__mpi_agree_outcome(c, st);
    if (st == QMAR_SUCCESS) {
        *comm = qmar__comm_handle(c); /* the checked handle (handle.h), not the address */
        return QMAR_SUCCESS;
    }
    if (registered) {
        qmar__comm_release(c); /* the last reference: unregisters and frees */
    } else {
        qmar__mpi_release(c);
        free(c);
    }
    return st;
}
