/* SPDX-License-Identifier: Apache-2.0 */
/* qmar-difftest: under `mpirun -n R`, every rank rebuilds all ranks' inputs from (seed, rank,
 * row), runs the operator on the MPI communicator, and compares its own output with the
 * integer-exact model bit for bit. Reports one row per configuration, like nccl-tests. */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h> /* _exit */

#include "difftest.h"
#include "difftest_report.h"
#include "qmar/qmar_mpi.h"

typedef struct ctx {
    const difftest_options *o;
    qmar_comm *comm;
    char group[QMAR_GROUP_NAME_MAX];
    int rank, size;
} ctx;

/* Runs warm-ups and timed iterations of one row on this rank; returns the last status. */
static qmar_status run_iterations(const ctx *c, harness_world *w, double *seconds)
{
    qmar_status st = QMAR_SUCCESS;
    double total = 0, t;
    MPI_Barrier(MPI_COMM_WORLD); /* time Run, not the peers' model checks of the last row */
    for (int32_t it = 0; st == QMAR_SUCCESS && it < c->o->warmup + c->o->iters; it++) {
        harness_reset_output(w, c->rank); /* x3 may alias the output */
        st = harness_run_rank(w, c->rank, c->group, &t);
        if (it >= c->o->warmup)
            total += t;
    }
    *seconds = total / c->o->iters;
    return st;
}

static void run_row(const ctx *c, int64_t index, const scenario *sc, row_result *row)
{
    memset(row, 0, sizeof *row);
    row->index = index;
    row->sc = *sc;
    harness_world *w = harness_build(sc, -1);
    qmar_status st = w ? run_iterations(c, w, &row->seconds) : QMAR_ERR_INNER;
    int64_t wrong = 0;
    if (w && st == QMAR_SUCCESS && c->o->check) {
        harness_model(w);
        wrong = harness_wrong(w, c->rank);
    }
    if (st != QMAR_SUCCESS)
        snprintf(row->reason, sizeof row->reason, "rank %d: %s", c->rank, qmar_last_error());
    harness_free(w);
    int failed = st != QMAR_SUCCESS;
    MPI_Allreduce(&row->seconds, &row->max_seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&wrong, &row->wrong, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&failed, &row->failed_ranks, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    row->status = st;
    if (c->o->inproc && c->rank == 0) {
        harness_result res;
        row->inproc_ran = 1;
        row->inproc_bad = harness_run(sc, -1, -1, 0, &res) != 0;
        for (int32_t r = 0; r < sc->ranks; r++)
            row->inproc_bad += res.status[r] != QMAR_SUCCESS || res.wrong[r] != 0;
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Fault runs: one row, one rank misbehaving; every surviving rank must get the expected status
 * within the timeout (plus slack for an oversubscribed machine). */
static int run_fault(const ctx *c, const scenario *sc)
{
    const difftest_options *o = c->o;
    int me = c->rank == o->fault_rank;
    harness_world *w = harness_build(sc, o->fault == FAULT_DIFFER ? o->fault_rank : -1);
    if (w == NULL)
        return 1;
    if (me && o->fault == FAULT_DIE)
        raise(SIGKILL);
    if (me && o->fault == FAULT_STALL)
        nanosleep(&(struct timespec){(time_t)((o->timeout_ms + 1000) / 1000),
                                     (long)((o->timeout_ms + 1000) % 1000) * 1000000L}, NULL);
    double t0 = now_ms(), secs;
    qmar_status st = harness_run_rank(w, c->rank, c->group, &secs);
    double waited = now_ms() - t0;
    int ok = st == o->expect_status && waited < 3.0 * (double)o->timeout_ms + 5000.0;
    printf("fault %s: rank %d returned %d (expected %lld) after %.0f ms: %s%s%s\n",
           o->fault == FAULT_STALL ? "stall" : o->fault == FAULT_DIE ? "die" : "differ", c->rank,
           (int)st, (long long)o->expect_status, waited, ok ? "ok" : "FAIL",
           st ? " - " : "", st ? qmar_last_error() : "");
    fflush(stdout);
    harness_free(w);
    return ok ? 0 : 1;
}

static int sweep(const ctx *c)
{
    report rep;
    report_begin(&rep, c->o, c->rank, c->size);
    scenario sc;
    for (int64_t i = 0; difftest_row(c->o, c->size, i, &sc); i++) {
        if (c->o->only_row >= 0 && i != c->o->only_row)
            continue;
        row_result row;
        run_row(c, i, &sc, &row);
        report_row(&rep, &row);
    }
    return report_end(&rep);
}

static int setup(ctx *c, const difftest_options *o)
{
    c->o = o;
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    if (qmar_comm_init_mpi(MPI_COMM_WORLD, &c->comm) != QMAR_SUCCESS) {
        fprintf(stderr, "rank %d: qmar_comm_init_mpi: %s\n", c->rank, qmar_last_error());
        return 1;
    }
    if (o->timeout_ms > 0)
        qmar_comm_set_timeout_ms(c->comm, o->timeout_ms);
    qmar_comm_get_name(c->comm, c->group);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    difftest_options o;
    ctx c;
    int parsed = difftest_parse(argc, argv, &o);
    if (parsed != 0) {
        MPI_Finalize();
        return parsed < 0 ? 2 : 0;
    }
    if (setup(&c, &o) != 0) {
        MPI_Finalize();
        return 1;
    }
    int rc;
    if (o.fault != FAULT_NONE) {
        scenario sc;
        difftest_row(&o, c.size, o.only_row >= 0 ? o.only_row : 0, &sc);
        rc = run_fault(&c, &sc);
        if (o.fault == FAULT_DIE) /* a peer is gone: MPI_Finalize could wait for it forever */
            _exit(rc);
    } else {
        rc = sweep(&c);
    }
    qmar_comm_destroy(c.comm);
    MPI_Finalize();
    return rc;
}
