/* SPDX-License-Identifier: Apache-2.0 */
/* Mode `refuse`: qmar_comm_init_mpi refuses a communicator it cannot serve, with a reason, and
 * still serves the next one. (Before MPI_Init and after MPI_Finalize: main.) */
#include <pthread.h>
#include <string.h>

#include "mpi_faults.h"

static void expect_refused(MPI_Comm comm, const char *reason, const char *what)
{
    qmar_comm *out = (qmar_comm *)&out; /* must come back NULL */
    qmar_status st = qmar_comm_init_mpi(comm, &out);
    mf_check(st == QMAR_ERR_PARAM_INVALID && out == NULL &&
                 strstr(qmar_last_error(), reason) != NULL,
             "%s: status %d, reason \"%s\" (want \"%s\")", what, (int)st, qmar_last_error(),
             reason);
}

static void *init_on_thread(void *arg)
{
    qmar_comm *comm = NULL;
    qmar_status st = qmar_comm_init_mpi(MPI_COMM_WORLD, &comm);
    *(int *)arg = st == QMAR_ERR_PARAM_INVALID && comm == NULL &&
                  strstr(qmar_last_error(), "main thread") != NULL;
    return NULL;
}

int mf_refuse(const mf_ctx *c)
{
    expect_refused(MPI_COMM_NULL, "MPI_COMM_NULL", "MPI_COMM_NULL");

    /* An inter-communicator between the even and the odd ranks. */
    if (c->size >= 2) {
        MPI_Comm half, inter;
        MPI_Comm_split(mf_world, c->rank % 2, c->rank, &half);
        MPI_Intercomm_create(half, 0, mf_world, c->rank % 2 ? 0 : 1, 77, &inter);
        expect_refused(inter, "inter-communicator", "inter-communicator");
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }

    /* MPI below MPI_THREAD_SERIALIZED (main asks for FUNNELED): not from another thread. */
    int provided = 0, ok = 0;
    MPI_Query_thread(&provided);
    pthread_t th;
    if (provided < MPI_THREAD_SERIALIZED && pthread_create(&th, NULL, init_on_thread, &ok) == 0) {
        pthread_join(th, NULL);
        mf_check(ok, "init from a second thread under MPI_THREAD_FUNNELED is not refused");
    }

    /* What it can serve still works: a group of one (MPI_COMM_SELF), then the whole world. */
    qmar_comm *self = NULL;
    int32_t size = 0;
    qmar_status st = qmar_comm_init_mpi(MPI_COMM_SELF, &self);
    mf_check(st == QMAR_SUCCESS && qmar_comm_size(self, &size) == QMAR_SUCCESS && size == 1,
             "MPI_COMM_SELF: status %d, size %d", (int)st, (int)size);
    if (self != NULL)
        qmar_comm_destroy(self);
    for (int32_t op_case = 1; op_case <= 3; op_case++)
        mf_check(mf_clean_run(c, op_case), "case %d after the refusals", (int)op_case);
    return 0;
}
