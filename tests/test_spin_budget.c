/* SPDX-License-Identifier: Apache-2.0 */
/* The in-process barrier's polling budget (lib/src/comm/spin_budget.h) is calibrated from the
 * wake-up delays the group measures: the update rule converges to the delays and stays within its
 * bounds, polls in vain back off only when they come in a row, and a real group whose ranks sleep
 * at barriers moves its budget off the initial guess to what it measured. */
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

static void test_backoff_rule(void)
{
    CHECK_EQ_I64(qmar__spin_backoff(1), 0); /* one poll in vain: poll again at the next wait */
    CHECK_EQ_I64(qmar__spin_backoff(2), 1);
    CHECK_EQ_I64(qmar__spin_backoff(3), 3);
    CHECK_EQ_I64(qmar__spin_backoff(QMAR__SPIN_FAILS_MAX), 63); /* a busy machine: mostly sleep */
    CHECK_EQ_I64(qmar__spin_backoff(QMAR__SPIN_FAILS_MAX + 5), 63);
    for (int32_t f = 1; f < QMAR__SPIN_FAILS_MAX; f++)
        CHECK(qmar__spin_backoff(f + 1) > qmar__spin_backoff(f));
}

typedef struct rank_arg {
    qmar_comm *comm;
    int late; /* sleeps before each barrier, so its peer sleeps and is woken */
    int failures;
} rank_arg;

enum { ROUNDS = 40 };

static void *rank_main(void *p)
{
    rank_arg *a = p;
    int64_t mine = a->comm->rank, all[2];
    for (int i = 0; i < ROUNDS; i++) {
        if (a->late)
            nanosleep(&(struct timespec){0, 2000000}, NULL); /* 2 ms: past any polling */
        if (a->comm->ops->allgather(a->comm, &mine, sizeof mine, all) != QMAR_SUCCESS)
            a->failures++;
    }
    return NULL;
}

static void test_group_calibrates(void)
{
    qmar_comm *handles[2], *ep[2];
    if (qmar_comm_init_all(2, handles) != QMAR_SUCCESS) {
        CHECK(!"qmar_comm_init_all(2)");
        return;
    }
    qmar__handles_lock();
    for (int r = 0; r < 2; r++)
        ep[r] = qmar__handle_find_locked(handles[r], QMAR__HANDLE_COMM);
    qmar__handles_unlock();
    qmar__inproc_group *g = ep[0]->backend;
    CHECK_EQ_I64(g->spin_ns, QMAR__SPIN_NS_INITIAL);
    rank_arg args[2] = {{ep[0], 0, 0}, {ep[1], 1, 0}};
    pthread_t th[2];
    for (int r = 0; r < 2; r++)
        pthread_create(&th[r], NULL, rank_main, &args[r]);
    for (int r = 0; r < 2; r++)
        pthread_join(th[r], NULL);
    CHECK_EQ_I64(args[0].failures + args[1].failures, 0);
    fprintf(stderr, "calibrated budget %lld ns\n", (long long)g->spin_ns);
    if (g->spin) { /* ranks fit the cores: rank 0 slept at every barrier and measured its wake-ups */
        CHECK(g->spin_ns != QMAR__SPIN_NS_INITIAL);
        CHECK(g->spin_ns >= QMAR__SPIN_NS_MIN && g->spin_ns <= QMAR__SPIN_NS_MAX);
    } else {
        CHECK_EQ_I64(g->spin_ns, QMAR__SPIN_NS_INITIAL); /* no polling, nothing to calibrate */
    }
    for (int r = 0; r < 2; r++)
        qmar_comm_destroy(handles[r]);
}

int main(void)
{
    test_update_rule();
    test_backoff_rule();
    test_group_calibrates();
    return check_summary();
}
