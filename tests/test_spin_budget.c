/* SPDX-License-Identifier: Apache-2.0 */
/* The in-process barrier's waits (lib/src/comm/spin_budget.h): the budget's update rule
 * converges to the measured wake-up delays and stays within its bounds; a wait of milliseconds is
 * polled through (yielding) where the ranks fit the cores, and slept where they do not; a wait
 * past the yield window sleeps, and the group's budget moves off the initial guess to what it
 * measured. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "../lib/src/comm/comm.h"
#include "../lib/src/comm/inproc.h"
#include "../lib/src/comm/spin_budget.h"
#include "../lib/src/handle.h"
#include "check.h"
#include "qmar/qmar.h"

static int64_t after_updates(int64_t budget, int64_t wake_ns, int times)
{
    for (int i = 0; i < times; i++)
        budget = qmar__spin_budget_update(budget, wake_ns);
    return budget;
}

static void test_update_rule(void)
{
    int64_t b = after_updates(QMAR__SPIN_NS_INITIAL, 5000, 100);
    CHECK(b >= 5000 && b <= 5100); /* follows the measured delay */
    CHECK(after_updates(QMAR__SPIN_NS_INITIAL, 0, 200) <= QMAR__SPIN_NS_MIN + 8);
    CHECK(after_updates(QMAR__SPIN_NS_INITIAL, 0, 200) >= QMAR__SPIN_NS_MIN);
    CHECK(after_updates(QMAR__SPIN_NS_INITIAL, INT64_C(10000000000), 200) <= QMAR__SPIN_NS_MAX);
    /* one preempted rank (a huge delay) moves the budget by at most an eighth of the bound */
    int64_t once = qmar__spin_budget_update(5000, INT64_C(10000000000));
    CHECK(once <= 5000 + (QMAR__SPIN_NS_MAX - 5000) / 8 + 1);
}

typedef struct rank_arg {
    qmar_comm *comm;
    long late_ns; /* sleeps this long before each barrier, so its peer waits */
    int rounds, failures;
} rank_arg;

static void *rank_main(void *p)
{
    rank_arg *a = p;
    int64_t mine = a->comm->rank, all[8];
    for (int i = 0; i < a->rounds; i++) {
        if (a->late_ns > 0)
            nanosleep(&(struct timespec){a->late_ns / 1000000000L, a->late_ns % 1000000000L},
                      NULL);
        if (a->comm->ops->allgather(a->comm, &mine, sizeof mine, all) != QMAR_SUCCESS)
            a->failures++;
    }
    return NULL;
}

typedef struct group_waits {
    int spin;       /* the group polls without yielding first (its ranks fit the cores) */
    int64_t budget; /* its budget afterwards */
    int64_t sleeps; /* its waits that ended asleep */
} group_waits;

/* `ranks` ranks (at most 8), the last one late by late_ns before each of `rounds` all-gathers
 * (two barriers each). */
static group_waits run_group(int ranks, long late_ns, int rounds)
{
    group_waits out = {0, -1, -1};
    qmar_comm *handles[8], *ep[8];
    if (qmar_comm_init_all(ranks, handles) != QMAR_SUCCESS) {
        CHECK(!"qmar_comm_init_all");
        return out;
    }
    qmar__handles_lock();
    for (int r = 0; r < ranks; r++)
        ep[r] = qmar__handle_find_locked(handles[r], QMAR__HANDLE_COMM);
    qmar__handles_unlock();
    qmar__inproc_group *g = ep[0]->backend;
    CHECK_EQ_I64(g->spin_ns, QMAR__SPIN_NS_INITIAL);
    rank_arg args[8];
    pthread_t th[8];
    for (int r = 0; r < ranks; r++) {
        args[r] = (rank_arg){ep[r], r == ranks - 1 ? late_ns : 0, rounds, 0};
        pthread_create(&th[r], NULL, rank_main, &args[r]);
    }
    int failures = 0;
    for (int r = 0; r < ranks; r++) {
        pthread_join(th[r], NULL);
        failures += args[r].failures;
    }
    CHECK_EQ_I64(failures, 0);
    out = (group_waits){g->spin, g->spin_ns, g->sleeps};
    for (int r = 0; r < ranks; r++)
        qmar_comm_destroy(handles[r]);
    return out;
}

/* A wait past the yield window ends asleep; where the group polls without yielding first, the
 * rank measures its wake-up and the budget moves off the initial guess. */
static void test_group_calibrates(void)
{
    enum { ROUNDS = 12 };
    group_waits w = run_group(2, QMAR__YIELD_NS + 10000000L, ROUNDS);
    fprintf(stderr, "late past the yield window: budget %lld ns, %lld sleeps\n",
            (long long)w.budget, (long long)w.sleeps);
    CHECK(w.sleeps >= ROUNDS); /* rank 0, at each round's first barrier */
    if (w.spin) {
        CHECK(w.budget != QMAR__SPIN_NS_INITIAL);
        CHECK(w.budget >= QMAR__SPIN_NS_MIN && w.budget <= QMAR__SPIN_NS_MAX);
    } else {
        CHECK_EQ_I64(w.budget, QMAR__SPIN_NS_INITIAL); /* no polling budget, nothing measured */
    }
}

/* A wait of milliseconds (a peer's longer GEMM) is polled through, yielding the CPU, not slept:
 * a sleeper costs a wake-up on both sides. So with 2 ranks and with 8 (more ranks than cores
 * here, where the yield gives the late rank the CPU it needs). The backoff this replaced slept
 * at every one of these waits with 2 ranks, and 8 ranks on fewer cores slept at once. */
static void test_short_waits_yield(void)
{
    enum { ROUNDS = 40 };
    for (int ranks = 2; ranks <= 8; ranks *= 4) {
        group_waits w = run_group(ranks, 2000000L, ROUNDS);
        fprintf(stderr, "%d ranks, one late by 2 ms: %lld sleeps in %d rounds\n", ranks,
                (long long)w.sleeps, ROUNDS);
        CHECK(w.sleeps <= ROUNDS / 4); /* a few, should the machine stall a rank for 50 ms */
    }
}

int main(void)
{
    test_update_rule();
    test_short_waits_yield();
    test_group_calibrates();
    return check_summary();
}
