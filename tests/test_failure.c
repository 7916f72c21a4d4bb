/* SPDX-License-Identifier: Apache-2.0 */
/* A rank that fails inside Run never leaves its peers waiting, and never lets one Run end in
 * SUCCESS on one rank and an error on another (spec/api.md "One outcome"). In-process backend. */
#define _GNU_SOURCE /* pthread_timedjoin_np */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "group_runner.h"

/* "Promptly": well under the timeout the peers would otherwise wait (a correctness bound, with
 * room for a loaded sanitizer build; the timeout below is far above it). */
#define PROMPT_MS 150.0
#define LONG_TIMEOUT_MS 10000
#define START_MS 500.0 /* room for the threads' start and planning on a loaded machine */

static scenario small_case(int32_t op_case, int32_t ranks)
{
    scenario sc = {.ranks = ranks, .op_case = op_case, .y = QMAR_BF16, .s = 8, .k = 32, .n = 32,
                   .x2_layout = MODEL_X2_ND, .bias = 1, .x3 = X3_SEPARATE,
                   .scale_shape = SCALE_N, .seed = 7};
    return sc;
}

static int make_group(int32_t ranks, int64_t timeout_ms, qmar_comm **comms)
{
    if (qmar_comm_init_all(ranks, comms) != QMAR_SUCCESS)
        return 0;
    for (int32_t r = 0; r < ranks; r++)
        qmar_comm_set_timeout_ms(comms[r], timeout_ms);
    return 1;
}

static void destroy_group(int32_t ranks, qmar_comm **comms)
{
    for (int32_t r = 0; r < ranks; r++)
        qmar_comm_destroy(comms[r]);
}

/* One rank passes a short or NULL workspace: it returns 161002 at once and every peer 361001
 * at once (it takes part in the agreement with its error); the group still works afterwards. */
static void test_local_failure_is_prompt(void)
{
    for (int32_t ranks = 2; ranks <= 4; ranks *= 2) {
        for (int32_t bad = 0; bad < ranks; bad++) {
            for (int kind = 0; kind < 2; kind++) {
                scenario sc = small_case(1 + bad % 3, ranks);
                harness_world *w = harness_build(&sc, -1);
                qmar_comm *comms[QMAR_COMM_MAX_RANKS];
                CHECK(w != NULL && make_group(ranks, LONG_TIMEOUT_MS, comms));
                if (w == NULL)
                    return;
                harness_model(w);
                rank_action act[QMAR_COMM_MAX_RANKS] = {0};
                act[bad] = kind == 0 ? ACT_SHORT_WORKSPACE : ACT_NULL_WORKSPACE;
                group_result res;
                group_run(w, comms, act, 0, 0, &res);
                for (int32_t r = 0; r < ranks; r++) {
                    CHECK_EQ_I64(res.status[r],
                                 r == bad ? QMAR_ERR_PARAM_INVALID : QMAR_ERR_RUNTIME);
                    /* from a common start: start-up included, the 10 s timeout far away */
                    CHECK(res.ms[r] < START_MS + PROMPT_MS);
                    CHECK(res.reason[r][0] != '\0');
                    CHECK(harness_guards_intact(w, r));
                    if (res.ms[r] >= START_MS + PROMPT_MS)
                        fprintf(stderr, "R=%d bad=%d kind=%d: rank %d took %.0f ms\n",
                                (int)ranks, (int)bad, kind, (int)r, res.ms[r]);
                }
                double lo = res.ms[0], hi = res.ms[0];
                for (int32_t r = 1; r < ranks; r++) {
                    lo = res.ms[r] < lo ? res.ms[r] : lo;
                    hi = res.ms[r] > hi ? res.ms[r] : hi;
                }
                CHECK(hi - lo < PROMPT_MS); /* nobody waited for anybody's timeout */
                /* a refused workspace does not break the group: the next Run succeeds */
                for (int32_t r = 0; r < ranks; r++)
                    harness_reset_output(w, r);
                group_run(w, comms, NULL, 0, 0, &res);
                for (int32_t r = 0; r < ranks; r++) {
                    CHECK_EQ_I64(res.status[r], QMAR_SUCCESS);
                    CHECK_EQ_I64(harness_wrong(w, r), 0);
                }
                destroy_group(ranks, comms);
                harness_free(w);
            }
        }
    }
}

/* A rank that arrives after its peers' timeout gets an error too, never SUCCESS, and the peers
 * return at their timeout; a fresh group then works. */
static void test_late_rank(void)
{
    for (int32_t ranks = 2; ranks <= 4; ranks *= 2) {
        scenario sc = small_case(3, ranks);
        harness_world *w = harness_build(&sc, -1);
        qmar_comm *comms[QMAR_COMM_MAX_RANKS];
        CHECK(w != NULL && make_group(ranks, 200, comms));
        if (w == NULL)
            return;
        harness_model(w);
        rank_action act[QMAR_COMM_MAX_RANKS] = {0};
        act[ranks - 1] = ACT_LATE;
        group_result res;
        group_run(w, comms, act, 400, 0, &res);
        for (int32_t r = 0; r < ranks; r++) {
            CHECK_EQ_I64(res.status[r], QMAR_ERR_RUNTIME);
            CHECK(res.reason[r][0] != '\0');
            CHECK(res.ms[r] < (r == ranks - 1 ? 400 : 200) + START_MS + PROMPT_MS);
        }
        destroy_group(ranks, comms);
        CHECK(group_fresh_run_exact(w, ranks));
        harness_free(w);
    }
}

/* ---- cancellation: a rank cancelled while it waits in Run cannot wedge its peers ---- */

typedef struct cancel_job {
    harness_world *w;
    qmar_comm *comm;
    int32_t r;
    int64_t delay_ms;
    qmar_status status;
    volatile int returned, after_cancel_point;
} cancel_job;

static void *cancel_rank(void *arg)
{
    cancel_job *j = arg;
    clock_sleep_ms(j->delay_ms);
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(j->comm, group);
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    j->status = harness_plan_rank(j->w, j->r, group, &ws_size, &ex);
    void *ws = malloc(ws_size + 1);
    if (j->status == QMAR_SUCCESS)
        j->status = qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
    free(ws);
    j->returned = 1;
    pthread_testcancel(); /* the pending cancel takes effect here, after Run */
    j->after_cancel_point = 1;
    return NULL;
}

/* Joins th within ms; 0 if it did not end (a wedged rank: the test fails instead of hanging). */
static int join_within(pthread_t th, int64_t ms, void **ret)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(th, ret, &t) == 0;
}

static void test_cancelled_rank(void)
{
    const int32_t ranks = 2;
    scenario sc = small_case(2, ranks);
    harness_world *w = harness_build(&sc, -1);
    qmar_comm *comms[QMAR_COMM_MAX_RANKS];
    CHECK(w != NULL && make_group(ranks, 2000, comms));
    if (w == NULL)
        return;
    harness_model(w);
    cancel_job jobs[2] = {{w, comms[0], 0, 0, 0, 0, 0}, {w, comms[1], 1, 150, 0, 0, 0}};
    pthread_t th[2];
    for (int r = 0; r < ranks; r++)
        pthread_create(&th[r], NULL, cancel_rank, &jobs[r]);
    clock_sleep_ms(60); /* rank 0 now waits in Run for rank 1 */
    CHECK(!jobs[0].returned);
    pthread_cancel(th[0]);
    void *ret0 = NULL, *ret1 = NULL;
    int joined1 = join_within(th[1], 1500, &ret1); /* well before the 2000 ms timeout */
    int joined0 = join_within(th[0], 1500, &ret0);
    CHECK(joined1 && joined0);
    if (!joined0 || !joined1) {
        fprintf(stderr, "cancelled rank wedged its group\n");
        return; /* threads still blocked: nothing else is safe to touch */
    }
    CHECK(ret0 == PTHREAD_CANCELED);
    CHECK(jobs[0].returned && !jobs[0].after_cancel_point);
    CHECK_EQ_I64(jobs[0].status, QMAR_SUCCESS); /* Run finished its collective */
    CHECK_EQ_I64(jobs[1].status, QMAR_SUCCESS);
    for (int32_t r = 0; r < ranks; r++) {
        CHECK_EQ_I64(harness_wrong(w, r), 0);
        CHECK(harness_guards_intact(w, r));
    }
    destroy_group(ranks, comms);
    CHECK(group_fresh_run_exact(w, ranks));
    harness_free(w);
}

/* Threads of this process (Linux: /proc/self/task). */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (d == NULL)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The overlap worker is the endpoint's and lives across Runs: two Runs in a row on one group
 * take the threaded path and are both bit-exact; an executor planned on a destroyed endpoint
 * still runs, and the worker goes with the endpoint's last reference (LeakSanitizer). */
static void test_worker_kept_across_runs(void)
{
    setenv("QMAR_OVERLAP", "1", 1);
    const int32_t ranks = 2;
    scenario sc = {.ranks = ranks, .op_case = 1, .y = QMAR_BF16, .b = 2, .s = 150, .k = 256,
                   .n = 136, .x2_layout = MODEL_X2_ND, .bias = 1, .x3 = X3_SEPARATE,
                   .scale_shape = SCALE_N, .seed = 5};
    harness_world *w = harness_build(&sc, -1);
    qmar_comm *comms[QMAR_COMM_MAX_RANKS];
    CHECK(w != NULL && make_group(ranks, LONG_TIMEOUT_MS, comms));
    if (w == NULL)
        return;
    harness_model(w);
    for (int round = 0; round < 3; round++) {
        for (int32_t r = 0; r < ranks; r++)
            harness_reset_output(w, r);
        group_result res;
        group_run(w, comms, NULL, 0, 0, &res);
        for (int32_t r = 0; r < ranks; r++) {
            CHECK_EQ_I64(res.status[r], QMAR_SUCCESS);
            CHECK_EQ_I64(harness_wrong(w, r), 0);
            CHECK(harness_guards_intact(w, r));
        }
        /* the rank threads have ended; each endpoint's worker waits for the next Run */
        CHECK_EQ_I64(thread_count(), 1 + ranks);
    }
    destroy_group(ranks, comms);
    CHECK_EQ_I64(thread_count(), 1); /* the workers went with their endpoints */
    harness_free(w);
    unsetenv("QMAR_OVERLAP");
}

int main(void)
{
    test_local_failure_is_prompt();
    test_late_rank();
    test_cancelled_rank();
    test_worker_kept_across_runs();
    return check_summary();
}
