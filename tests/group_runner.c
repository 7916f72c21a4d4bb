/* SPDX-License-Identifier: Apache-2.0 */
/* One Run per rank on threads, with misbehaving ranks (group_runner.h). */
#include "group_runner.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct job {
    harness_world *w;
    qmar_comm *comm;
    int32_t r;
    rank_action action;
    int64_t delay_ms;
    int revoke_on_plan_failure;
    double start;
    group_result *res;
} job;

static qmar_status plan_and_run(job *j)
{
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(j->comm, group);
    if (j->action == ACT_LATE)
        clock_sleep_ms(j->delay_ms);
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    qmar_status st = harness_plan_rank(j->w, j->r, group, &ws_size, &ex);
    if (st != QMAR_SUCCESS) {
        if (j->revoke_on_plan_failure) /* spec/api.md: a rank that cannot run tells its peers */
            qmar_comm_revoke(j->comm);
        return st;
    }
    void *ws = malloc(ws_size + 1);
    if (ws == NULL) {
        qmar_executor_destroy(ex);
        return QMAR_ERR_INNER;
    }
    uint64_t size = j->action == ACT_SHORT_WORKSPACE ? ws_size - 1 : ws_size;
    st = qmar_quant_matmul_all_reduce_v3(j->action == ACT_NULL_WORKSPACE ? NULL : ws, size, ex,
                                         NULL);
    free(ws);
    return st;
}

static void *rank_main(void *arg)
{
    job *j = arg;
    qmar_status st = plan_and_run(j);
    j->res->ms[j->r] = clock_now_ms() - j->start;
    j->res->status[j->r] = st;
    snprintf(j->res->reason[j->r], sizeof j->res->reason[j->r], "%s",
             st == QMAR_SUCCESS ? "" : qmar_last_error());
    return NULL;
}

void group_run(harness_world *w, qmar_comm **comms, const rank_action *action, int64_t delay_ms,
               int revoke_on_plan_failure, group_result *res)
{
    int32_t R = 0;
    qmar_comm_size(comms[0], &R);
    memset(res, 0, sizeof *res);
    job jobs[QMAR_COMM_MAX_RANKS];
    pthread_t th[QMAR_COMM_MAX_RANKS];
    double start = clock_now_ms();
    for (int32_t r = 0; r < R; r++) {
        jobs[r] = (job){w, comms[r], r, action ? action[r] : ACT_NORMAL, delay_ms,
                        revoke_on_plan_failure, start, res};
        if (pthread_create(&th[r], NULL, rank_main, &jobs[r]) != 0) {
            fprintf(stderr, "group_run: pthread_create failed\n");
            abort();
        }
    }
    for (int32_t r = 0; r < R; r++)
        pthread_join(th[r], NULL);
}

int group_fresh_run_exact(harness_world *w, int32_t ranks)
{
    qmar_comm *comms[QMAR_COMM_MAX_RANKS];
    if (qmar_comm_init_all(ranks, comms) != QMAR_SUCCESS) {
        fprintf(stderr, "fresh group: init_all failed: %s\n", qmar_last_error());
        return 0;
    }
    for (int32_t r = 0; r < ranks; r++)
        harness_reset_output(w, r);
    group_result res;
    group_run(w, comms, NULL, 0, 0, &res);
    int ok = 1;
    for (int32_t r = 0; r < ranks; r++) {
        if (res.status[r] != QMAR_SUCCESS || harness_wrong(w, r) != 0 ||
            !harness_guards_intact(w, r)) {
            fprintf(stderr, "fresh group: rank %d status %d wrong %lld guards %d: %s\n", (int)r,
                    (int)res.status[r], (long long)harness_wrong(w, r),
                    harness_guards_intact(w, r), res.reason[r]);
            ok = 0;
        }
        qmar_comm_destroy(comms[r]);
    }
    return ok;
}
