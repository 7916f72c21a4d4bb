/* SPDX-License-Identifier: Apache-2.0 */
/* Modes `late` and `local` of qmar-mpi-faults: one rank arrives after its peers' timeout, or fails
 * locally; either way no rank may report SUCCESS for that Run, and a local failure reaches the
 * peers within the bound, far below their timeout. */
#include <stdio.h>
#include <string.h>

#include "fault.h"
#include "mpi_faults.h"

/* Every rank's status, gathered on every rank. */
static void gather_status(qmar_status st, int *all)
{
    int mine = (int)st;
    MPI_Allgather(&mine, 1, MPI_INT, all, 1, MPI_INT, mf_world);
}

static int unanimous(const int *all, int size)
{
    for (int r = 1; r < size; r++)
        if ((all[r] == QMAR_SUCCESS) != (all[0] == QMAR_SUCCESS))
            return 0;
    return 1;
}

/* Communication steps (fault.h) rank `who` takes in one clean Run of sc on a fresh group. */
static int64_t steps_of_run(const mf_ctx *c, const scenario *sc, int32_t who)
{
    qmar_comm *comm = mf_group(c, 60000);
    harness_world *w = comm ? harness_build(sc, -1) : NULL;
    int64_t steps = -1;
    if (w != NULL) {
        char group[QMAR_GROUP_NAME_MAX];
        double secs;
        qmar_comm_get_name(comm, group);
        qmar__fault_arm_step(INT64_MAX, QMAR__FAULT_ERROR, who); /* counts, never fires */
        if (harness_run_rank(w, c->rank, group, &secs) == QMAR_SUCCESS)
            steps = qmar__fault_steps_seen();
        qmar__fault_disarm();
    }
    harness_free(w);
    if (comm != NULL)
        qmar_comm_destroy(comm);
    MPI_Bcast(&steps, 1, MPI_INT64_T, who, mf_world);
    return steps;
}

/* The late rank (the last) has twice its peers' timeout T, so an injected delay (its timeout
 * + 50 ms) outlasts theirs by T: before step N of the Run (N = 0: before calling Run at all). */
static void late_run(const mf_ctx *c, const scenario *sc, int64_t n, int64_t steps)
{
    int32_t late = c->size - 1;
    int64_t t = c->timeout_ms;
    qmar_comm *comm = mf_group(c, c->rank == late ? 2 * t : t);
    harness_world *w = comm ? harness_build(sc, -1) : NULL;
    if (!mf_all(w != NULL)) {
        mf_check(0, "late run N=%lld: no group", (long long)n);
        goto done;
    }
    char group[QMAR_GROUP_NAME_MAX];
    double secs, t0 = mf_now_ms();
    qmar_comm_get_name(comm, group);
    if (c->rank == late && n == 0)
        mf_sleep_ms(2 * t + 50);
    if (n > 0)
        qmar__fault_arm_step(n, QMAR__FAULT_DELAY, late);
    qmar_status st = harness_run_rank(w, c->rank, group, &secs);
    double took = mf_now_ms() - t0;
    qmar__fault_disarm();
    int all[QMAR_COMM_MAX_RANKS];
    gather_status(st, all);
    /* Only a delay after this rank's vote is sent (the vote's wait, the last step) holds nobody
     * up: then every rank may succeed. */
    int must_fail = n < steps;
    double limit = (c->rank == late ? 2.0 * (double)t + 50.0 : (double)t) + (double)c->bound_ms;
    mf_check(unanimous(all, c->size) && (!must_fail || st != QMAR_SUCCESS),
             "late rank, case %d, delay before step %lld of %lld: rank %d returned %d (rank 0: "
             "%d)", (int)sc->op_case, (long long)n, (long long)steps, c->rank, (int)st, all[0]);
    mf_check(took < limit, "late rank, step %lld: rank %d took %.0f ms > %.0f", (long long)n,
             c->rank, took, limit);
    mf_check(st == QMAR_SUCCESS || strstr(qmar_last_error(), "rank") != NULL,
             "late rank: reason \"%s\"", qmar_last_error());
    if (c->rank == 0)
        printf("late rank, case %d, R=%d, delayed before step %lld/%lld: statuses", sc->op_case,
               c->size, (long long)n, (long long)steps);
    for (int r = 0; c->rank == 0 && r < c->size; r++)
        printf(" %d", all[r]);
    if (c->rank == 0)
        printf("\n");
done:
    harness_free(w);
    if (comm != NULL)
        qmar_comm_destroy(comm);
    MPI_Barrier(mf_world);
}

int mf_late(const mf_ctx *c)
{
    for (int32_t op_case = 1; op_case <= 3; op_case += 2) {
        scenario sc = mf_scenario(c->size, op_case, 40u + (uint64_t)op_case);
        int64_t steps = steps_of_run(c, &sc, c->size - 1);
        mf_check(steps > 0, "case %d: a clean run counted %lld steps", op_case, (long long)steps);
        for (int64_t n = 0; n <= steps; n++)
            late_run(c, &sc, n, steps);
    }
    mf_check(mf_clean_run(c, 1), "a clean run after the late ranks");
    return 0;
}

/* ---- local failures -------------------------------------------------------------------------- */

/* A case-1 BF16 problem of fixed shape (zero data): what a failing rank plans. */
typedef struct problem {
    int8_t x1[8 * 64], x2[64 * 32];
    uint16_t dequant[32], out[8 * 32];
    qmar_tensor *t[4];
} problem;

static qmar_status plan(problem *p, const char *group, qmar_executor **ex, uint64_t *ws)
{
    static const int64_t x1d[2] = {8, 64}, x2d[2] = {64, 32}, dqd[1] = {32}, outd[2] = {8, 32};
    memset(p, 0, sizeof *p);
    for (int j = 0; j < 32; j++)
        p->dequant[j] = 0x3F80; /* 1.0 */
    p->t[0] = qmar_tensor_create(x1d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x1d, 2, p->x1);
    p->t[1] = qmar_tensor_create(x2d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x2d, 2, p->x2);
    p->t[2] = qmar_tensor_create(dqd, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, dqd, 1, p->dequant);
    p->t[3] = qmar_tensor_create(outd, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, outd, 2, p->out);
    return qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        p->t[0], p->t[1], NULL, NULL, p->t[2], NULL, NULL, NULL, group, "sum", 0, 1, p->t[3], ws,
        ex);
}

static void unplan(problem *p)
{
    for (int i = 0; i < 4; i++)
        qmar_tensor_destroy(p->t[i]);
}

enum local_kind { SHORT_WORKSPACE, NULL_WORKSPACE, REVOKE, RUN_ALLOC, LOCAL_KINDS };
static const char *const local_names[] = {"short workspace", "NULL workspace", "revoke",
                                          "allocation failure in Run"};

/* What the failing rank does instead of a proper Run; returns its status. */
static qmar_status fail_locally(int kind, qmar_comm *comm, qmar_executor *ex, uint64_t ws_size,
                                char *ws)
{
    switch (kind) {
    case SHORT_WORKSPACE:
        return qmar_quant_matmul_all_reduce_v3(ws, ws_size - 1, ex, NULL);
    case NULL_WORKSPACE:
        return qmar_quant_matmul_all_reduce_v3(NULL, ws_size, ex, NULL);
    case REVOKE:
        qmar_executor_destroy(ex);
        return qmar_comm_revoke(comm) == QMAR_SUCCESS ? QMAR_ERR_RUNTIME : QMAR_ERR_INNER;
    default:
        qmar__fault_arm_alloc(1, 0);
        qmar_status st = qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
        qmar__fault_disarm();
        return st;
    }
}

static const qmar_status local_status[] = {QMAR_ERR_PARAM_INVALID, QMAR_ERR_PARAM_INVALID,
                                           QMAR_ERR_RUNTIME, QMAR_ERR_INNER};

static void local_run(const mf_ctx *c, int kind, int32_t bad)
{
    int64_t timeout = 20000; /* far above the bound: a peer that waits for it fails the check */
    qmar_comm *comm = mf_group(c, timeout);
    problem p;
    qmar_executor *ex = NULL;
    uint64_t ws_size = 0;
    char group[QMAR_GROUP_NAME_MAX] = "";
    if (comm != NULL)
        qmar_comm_get_name(comm, group);
    qmar_status planned = plan(&p, group, &ex, &ws_size);
    char ws[8 * 32 * 2 + 64];
    if (!mf_all(planned == QMAR_SUCCESS && ws_size <= sizeof ws && ws_size > 0)) {
        mf_check(0, "local %s: planning failed: %s", local_names[kind], qmar_last_error());
        qmar_executor_destroy(ex);
        goto done;
    }
    MPI_Barrier(mf_world);
    double t0 = mf_now_ms();
    qmar_status st = c->rank == bad ? fail_locally(kind, comm, ex, ws_size, ws)
                                    : qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
    double took = mf_now_ms() - t0;
    int all[QMAR_COMM_MAX_RANKS];
    gather_status(st, all);
    qmar_status want = c->rank == bad ? local_status[kind] : QMAR_ERR_RUNTIME;
    mf_check(st == want, "local %s of rank %d: rank %d returned %d, want %d (%s)",
             local_names[kind], bad, c->rank, (int)st, (int)want, qmar_last_error());
    mf_check(took < (double)c->bound_ms, "local %s of rank %d: rank %d took %.0f ms > %lld",
             local_names[kind], bad, c->rank, took, (long long)c->bound_ms);
    if (c->rank == 0)
        printf("local %s of rank %d, R=%d: rank 0 returned %d after %.1f ms\n", local_names[kind],
               bad, c->size, (int)st, took);
done:
    unplan(&p);
    if (comm != NULL)
        qmar_comm_destroy(comm);
    MPI_Barrier(mf_world);
}

int mf_local(const mf_ctx *c)
{
    for (int kind = 0; kind < LOCAL_KINDS; kind++)
        for (int32_t bad = 0; bad < c->size; bad += c->size - 1 > 0 ? c->size - 1 : 1)
            local_run(c, kind, bad);
    mf_check(mf_clean_run(c, 1), "a clean run after the local failures");
    return 0;
}
