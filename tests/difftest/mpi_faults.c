/* SPDX-License-Identifier: Apache-2.0 */
/* qmar-mpi-faults (mpi_faults.h): common helpers and main. */
#include "mpi_faults.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long passed, failed;
MPI_Comm mf_world = MPI_COMM_NULL;

double mf_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

void mf_sleep_ms(int64_t ms)
{
    struct timespec t = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

void mf_check(int ok, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    int rank = -1, up = 0, down = 0;
    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "rank %d: CHECK failed: %s\n", rank, msg);
}

int mf_all(int cond)
{
    int mine = cond != 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, mf_world);
    return all;
}

scenario mf_scenario(int32_t ranks, int32_t op_case, uint64_t seed)
{
    return (scenario){.ranks = ranks, .op_case = op_case, .case3_pertoken = 0, .y = QMAR_BF16,
                      .s = 8, .k = 64, .n = 32, .x2_layout = MODEL_X2_ND, .bias = 1,
                      .scale_shape = SCALE_N, .seed = seed};
}

qmar_comm *mf_group(const mf_ctx *c, int64_t timeout_ms)
{
    qmar_comm *comm = NULL;
    char env[32];
    snprintf(env, sizeof env, "%lld", (long long)timeout_ms);
    setenv("QMAR_COMM_TIMEOUT_MS", env, 1); /* init's own timeout */
    qmar_status st = qmar_comm_init_mpi(MPI_COMM_WORLD, &comm);
    if (st != QMAR_SUCCESS) {
        fprintf(stderr, "rank %d: qmar_comm_init_mpi: %d %s\n", c->rank, (int)st,
                qmar_last_error());
        return NULL;
    }
    qmar_comm_set_timeout_ms(comm, timeout_ms);
    return comm;
}

int mf_clean_run(const mf_ctx *c, int32_t op_case)
{
    /* A long timeout: an oversubscribed machine must not turn a clean run into a failure. */
    qmar_comm *comm = mf_group(c, 60000);
    scenario sc = mf_scenario(c->size, op_case, 1000u + (uint64_t)op_case);
    harness_world *w = comm ? harness_build(&sc, -1) : NULL;
    int ok = 0;
    if (w != NULL) {
        char group[QMAR_GROUP_NAME_MAX];
        double secs;
        qmar_comm_get_name(comm, group);
        qmar_status st = harness_run_rank(w, c->rank, group, &secs);
        harness_model(w);
        ok = st == QMAR_SUCCESS && harness_wrong(w, c->rank) == 0;
        if (!ok)
            fprintf(stderr, "rank %d: clean run: status %d, %lld wrong: %s\n", c->rank, (int)st,
                    (long long)harness_wrong(w, c->rank), st ? qmar_last_error() : "");
    }
    harness_free(w);
    if (comm != NULL)
        qmar_comm_destroy(comm);
    return mf_all(ok);
}

static int usage(void)
{
    fputs("usage: mpirun -n R qmar-mpi-faults refuse|late|local|sweep [timeout_ms [bound_ms]]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *mode = argv[1];
    int refuse = strcmp(mode, "refuse") == 0;
    qmar_comm *early = NULL;
    qmar_status before_init = refuse ? qmar_comm_init_mpi(MPI_COMM_WORLD, &early) : 0;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    mf_ctx c = {.timeout_ms = argc > 2 ? atoll(argv[2]) : 400,
                .bound_ms = argc > 3 ? atoll(argv[3]) : 500};
    MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c.size);
    MPI_Comm_dup(MPI_COMM_WORLD, &mf_world);
    int rc = 0;
    if (refuse) {
        mf_check(before_init == QMAR_ERR_PARAM_INVALID && early == NULL &&
                     strstr(qmar_last_error(), "not initialised") != NULL,
                 "init before MPI_Init: %d", (int)before_init);
        rc = mf_refuse(&c);
    } else if (strcmp(mode, "late") == 0) {
        rc = mf_late(&c);
    } else if (strcmp(mode, "local") == 0) {
        rc = mf_local(&c);
    } else if (strcmp(mode, "sweep") == 0) {
        rc = mf_sweep(&c);
    } else {
        rc = usage();
    }
    long counts[2] = {passed, failed}, total[2] = {0, 0};
    MPI_Reduce(counts, total, 2, MPI_LONG, MPI_SUM, 0, mf_world);
    MPI_Comm_free(&mf_world);
    MPI_Finalize();
    if (refuse) { /* after MPI_Finalize: refused too (this rank's own check) */
        qmar_status st = qmar_comm_init_mpi(MPI_COMM_WORLD, &early);
        int ok = st == QMAR_ERR_PARAM_INVALID && strstr(qmar_last_error(), "finalised") != NULL;
        mf_check(ok, "init after MPI_Finalize: %d", (int)st);
        total[0] += ok; /* rank 0's; the others' show in their exit code */
        total[1] += !ok;
        rc |= !ok;
    }
    if (c.rank == 0)
        printf("%ld passed, %ld failed\n", total[0], total[1]);
    return rc != 0 || failed != 0 || (c.rank == 0 && total[1] != 0);
}
