/* SPDX-License-Identifier: Apache-2.0 */
/* Mode `sweep` of qmar-mpi-faults, the MPI part of the `faults` suite: for each case, the N-th
 * allocation of one rank fails (once, and from N on), N = 1, 2, ... until the call sequence
 * (qmar_comm_init_mpi, plan, Run) succeeds; likewise its N-th communication step fails with an
 * error, a delay past the timeout, or a stop. For every N: the ranks agree (all fail, or all
 * succeed bit-exact), each failure has a reason, every rank returns within the bound, and the
 * next attempt is a new group that works. Out-of-bounds writes are ASan's part (build-san). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "mpi_faults.h"

typedef struct fault_plan {
    int alloc;               /* 1: allocations, 0: steps */
    int64_t n;
    int persistent;          /* allocations: N and every one after it */
    qmar__fault_kind kind;   /* steps */
    int32_t target;          /* the rank that faults */
} fault_plan;

typedef struct attempt {
    qmar_status st;
    double took;
    int fired; /* on the target */
    int window; /* the target failed at the vote's wait, after its own SUCCESS vote was sent */
    int wrong; /* succeeded but differs from the model */
    char reason[160];
} attempt;

static void arm(const mf_ctx *c, const fault_plan *f)
{
    if (f->alloc && c->rank == f->target)
        qmar__fault_arm_alloc(f->n, f->persistent);
    else if (!f->alloc)
        qmar__fault_arm_step(f->n, f->kind, f->target);
}

/* Init, plan and Run under the plan. A rank whose plan fails (no Run to fail its peers) revokes,
 * as a careful caller does. */
static attempt attempt_run(const mf_ctx *c, const scenario *sc, const fault_plan *f,
                           int64_t timeout_ms, int64_t *allocs, int64_t *steps)
{
    attempt a = {0};
    char env[32];
    snprintf(env, sizeof env, "%lld", (long long)timeout_ms);
    setenv("QMAR_COMM_TIMEOUT_MS", env, 1); /* read by qmar_comm_init_mpi */
    harness_world *w = harness_build(sc, -1);
    MPI_Barrier(mf_world);
    arm(c, f);
    double t0 = mf_now_ms();
    qmar_comm *comm = NULL;
    a.st = w == NULL ? QMAR_ERR_INNER : qmar_comm_init_mpi(MPI_COMM_WORLD, &comm);
    if (a.st == QMAR_SUCCESS) {
        char group[QMAR_GROUP_NAME_MAX];
        double secs;
        qmar_comm_get_name(comm, group);
        a.st = harness_run_rank(w, c->rank, group, &secs);
    }
    if (a.st != QMAR_SUCCESS)
        snprintf(a.reason, sizeof a.reason, "%s", qmar_last_error());
    if (a.st != QMAR_SUCCESS && comm != NULL)
        qmar_comm_revoke(comm);
    a.took = mf_now_ms() - t0;
    a.fired = qmar__fault_fired();
    *allocs = qmar__fault_allocs_seen();
    *steps = qmar__fault_steps_seen();
    qmar__fault_disarm();
    if (a.st == QMAR_SUCCESS) {
        harness_model(w);
        a.wrong = harness_wrong(w, c->rank) != 0;
    }
    harness_free(w);
    if (comm != NULL)
        qmar_comm_destroy(comm);
    a.window = a.st != QMAR_SUCCESS && strstr(a.reason, "had already voted SUCCESS") != NULL;
    int flags[2] = {a.fired, a.window};
    MPI_Bcast(flags, 2, MPI_INT, f->target, mf_world);
    a.fired = flags[0];
    a.window = flags[1];
    MPI_Barrier(mf_world);
    return a;
}

static const char *const kind_names[] = {"-", "error", "delay", "stop"};

/* Checks one attempt on every rank; returns whether the fault fired (the loop goes on). */
static int check_attempt(const mf_ctx *c, const scenario *sc, const fault_plan *f,
                         const attempt *a, int64_t timeout_ms, double *slowest, int *windows)
{
    int mine = (int)a->st, all[QMAR_COMM_MAX_RANKS];
    MPI_Allgather(&mine, 1, MPI_INT, all, 1, MPI_INT, mf_world);
    int failures = 0;
    for (int r = 0; r < c->size; r++)
        failures += all[r] != QMAR_SUCCESS;
    char what[96];
    snprintf(what, sizeof what, "case %d R=%d %s %lld%s of rank %d", (int)sc->op_case, c->size,
             f->alloc ? "allocation" : kind_names[f->kind], (long long)f->n,
             f->alloc ? (f->persistent ? "+" : "") : "", (int)f->target);
    /* spec/api.md "One outcome over MPI": a rank that fails after its SUCCESS vote left may
     * fail alone; that is the one window no protocol closes. */
    mf_check(failures == 0 || failures == c->size || a->window, "%s: %d of %d ranks failed",
             what, failures, c->size);
    /* An injected error or stop always fails its rank; an allocation failure may be recovered
     * from (then the result must be exact); a delay may hold nobody up. */
    int must_fail = a->fired && !f->alloc && f->kind != QMAR__FAULT_DELAY;
    mf_check(!must_fail || a->st != QMAR_SUCCESS || (a->window && c->rank != f->target),
             "%s: rank %d succeeded", what, c->rank);
    mf_check(a->st == QMAR_SUCCESS || a->reason[0] != '\0', "%s: rank %d gave no reason", what,
             c->rank);
    /* A collective failure is 361001 on every rank but the one that failed locally. */
    mf_check(a->st == QMAR_SUCCESS || c->rank == f->target || a->st == QMAR_ERR_RUNTIME,
             "%s: rank %d returned %d (%s)", what, c->rank, (int)a->st, a->reason);
    mf_check(!a->wrong, "%s: rank %d succeeded with a wrong output", what, c->rank);
    double limit = (double)c->bound_ms;
    if (!f->alloc && f->kind != QMAR__FAULT_ERROR)
        limit += 4.0 * (double)timeout_ms; /* the fault itself sleeps; peers wait their timeout */
    mf_check(a->took < limit, "%s: rank %d took %.0f ms > %.0f (%s)", what, c->rank, a->took,
             limit, a->reason);
    if (a->took > *slowest)
        *slowest = a->took;
    *windows += a->window && failures < c->size;
    return a->fired;
}

/* Runs N = 1, 2, ... until the fault no longer fires; prints one line. */
static void sweep_plan(const mf_ctx *c, const scenario *sc, fault_plan f, int64_t timeout_ms)
{
    double slowest = 0;
    int windows = 0, retries = 0;
    int64_t allocs = 0, steps = 0, points_a = 0, points_s = 0;
    for (f.n = 1; f.n <= 1000; f.n++) {
        attempt a = attempt_run(c, sc, &f, timeout_ms, &allocs, &steps);
        if (allocs > points_a)
            points_a = allocs;
        if (steps > points_s)
            points_s = steps;
        int failed = !mf_all(a.st == QMAR_SUCCESS);
        if (!a.fired && failed && retries++ < 3) { /* nothing injected, yet it failed: load? */
            if (c->rank == 0)
                printf("faults: N=%lld failed with no fault fired (%s); again\n",
                       (long long)f.n, a.reason);
            f.n--;
            continue;
        }
        if (!check_attempt(c, sc, &f, &a, timeout_ms, &slowest, &windows))
            break;
    }
    if (c->rank == f.target)
        printf("faults: case %d R=%d %s%s of rank %d: N = 1..%lld, injection points reached "
               "(allocations %lld, steps %lld), slowest rank %.0f ms; failed alone after its "
               "vote: %d\n", (int)sc->op_case, c->size, f.alloc ? "allocation" : kind_names[f.kind],
               f.alloc && f.persistent ? " (persistent)" : "", (int)f.target, (long long)f.n,
               (long long)points_a, (long long)points_s, slowest, windows);
    fflush(stdout);
    MPI_Barrier(mf_world);
}

int mf_sweep(const mf_ctx *c)
{
    int32_t last = c->size - 1;
    const char *only = getenv("MF_ONLY_CASE"); /* for debugging one case */
    for (int32_t op_case = 1; op_case <= 3; op_case++) {
        if (only != NULL && atoi(only) != op_case)
            continue;
        scenario sc = mf_scenario(c->size, op_case, 70u + (uint64_t)op_case);
        /* Allocations: a long timeout, so only a prompt failure passes the bound. */
        for (int persistent = 0; persistent <= 1; persistent++)
            for (int32_t t = 0; t < c->size; t += last > 0 ? last : 1)
                sweep_plan(c, &sc, (fault_plan){.alloc = 1, .persistent = persistent,
                                                .target = t}, 20000);
        sweep_plan(c, &sc, (fault_plan){.kind = QMAR__FAULT_ERROR, .target = last}, 20000);
        sweep_plan(c, &sc, (fault_plan){.kind = QMAR__FAULT_ERROR, .target = 0}, 20000);
        /* Delays and stops cost timeouts: a short one; delays on cases 1 and 3 (2's steps are
         * 1's), stops (the same paths as a delay, then an error) on case 1. */
        if (op_case != 2)
            sweep_plan(c, &sc, (fault_plan){.kind = QMAR__FAULT_DELAY, .target = last},
                       c->timeout_ms);
        if (op_case == 1)
            sweep_plan(c, &sc, (fault_plan){.kind = QMAR__FAULT_STOP, .target = last},
                       c->timeout_ms);
    }
    mf_check(mf_clean_run(c, 3), "a clean run after the sweep");
    return 0;
}
