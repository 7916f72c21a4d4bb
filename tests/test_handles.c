/* SPDX-License-Identifier: Apache-2.0 */
/* Handle misuse is an error code, never undefined behaviour (spec/api.md "Handles"): stale,
 * double and foreign endpoints and executors return 161001/161002 with a reason and never touch
 * another live object, even when the old object's memory has been reused. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "group_runner.h"

static scenario one_rank(void)
{
    scenario sc = {.ranks = 1, .op_case = 1, .y = QMAR_BF16, .s = 4, .k = 32, .n = 16,
                   .x2_layout = MODEL_X2_ND, .scale_shape = SCALE_N, .seed = 3};
    return sc;
}

static qmar_status run_planned(qmar_executor *ex, uint64_t ws_size)
{
    void *ws = malloc(ws_size + 1);
    qmar_status st = qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
    free(ws);
    return st;
}

static int reason_says(const char *what)
{
    return strstr(qmar_last_error(), what) != NULL;
}

/* Every endpoint function refuses a destroyed or foreign endpoint with 161002. */
static void check_dead_endpoint(qmar_comm *dead)
{
    char name[QMAR_GROUP_NAME_MAX];
    int32_t v;
    CHECK_EQ_I64(qmar_comm_get_name(dead, name), QMAR_ERR_PARAM_INVALID);
    CHECK(reason_says("not a live endpoint"));
    CHECK_EQ_I64(qmar_comm_rank(dead, &v), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_size(dead, &v), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_set_timeout_ms(dead, 100), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_revoke(dead), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(qmar_comm_destroy(dead), QMAR_ERR_PARAM_INVALID);
    CHECK(reason_says("not a live endpoint"));
}

static void test_endpoint_misuse(void)
{
    scenario sc = one_rank();
    harness_world *w = harness_build(&sc, -1);
    CHECK(w != NULL);
    if (w == NULL)
        return;
    harness_model(w);
    qmar_comm *a[2], *b[1];
    CHECK_EQ_I64(qmar_comm_init_all(2, a), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_comm_destroy(a[0]), QMAR_SUCCESS);
    check_dead_endpoint(a[0]); /* double destroy */
    CHECK_EQ_I64(qmar_comm_destroy(a[1]), QMAR_SUCCESS);
    /* New groups reuse the freed memory; the stale handles must never reach them: the new
     * endpoint keeps its rank, its name, and its name still resolves for planning. */
    for (int round = 0; round < 50; round++) {
        CHECK_EQ_I64(qmar_comm_init_all(1, b), QMAR_SUCCESS);
        check_dead_endpoint(a[0]);
        check_dead_endpoint(a[1]);
        int32_t rank = -1;
        CHECK_EQ_I64(qmar_comm_rank(b[0], &rank), QMAR_SUCCESS);
        CHECK_EQ_I64(rank, 0);
        char name[QMAR_GROUP_NAME_MAX];
        CHECK_EQ_I64(qmar_comm_get_name(b[0], name), QMAR_SUCCESS);
        uint64_t ws = 0;
        qmar_executor *e = NULL;
        CHECK_EQ_I64(harness_plan_rank(w, 0, name, &ws, &e), QMAR_SUCCESS);
        harness_reset_output(w, 0);
        CHECK_EQ_I64(run_planned(e, ws), QMAR_SUCCESS);
        CHECK_EQ_I64(harness_wrong(w, 0), 0);
        CHECK_EQ_I64(qmar_comm_destroy(b[0]), QMAR_SUCCESS);
    }
    /* Foreign values: an address the library never handed out, an odd integer, the wrong kind. */
    long local = 0;
    check_dead_endpoint((qmar_comm *)&local);
    check_dead_endpoint((qmar_comm *)(uintptr_t)0x12345);
    CHECK_EQ_I64(qmar_comm_destroy(NULL), QMAR_ERR_PARAM_NULLPTR);
    harness_free(w);
}

static void test_executor_misuse(void)
{
    scenario sc = one_rank();
    harness_world *w = harness_build(&sc, -1);
    CHECK(w != NULL);
    if (w == NULL)
        return;
    harness_model(w);
    qmar_comm *c[1];
    CHECK_EQ_I64(qmar_comm_init_all(1, c), QMAR_SUCCESS);
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(c[0], group);
    uint64_t ws = 0;
    qmar_executor *e1 = NULL, *e2 = NULL;

    /* Run consumes: a second Run, or a destroy after Run, is refused. */
    CHECK_EQ_I64(harness_plan_rank(w, 0, group, &ws, &e1), QMAR_SUCCESS);
    CHECK_EQ_I64(run_planned(e1, ws), QMAR_SUCCESS);
    CHECK_EQ_I64(run_planned(e1, ws), QMAR_ERR_PARAM_INVALID);
    CHECK(reason_says("not a live executor"));
    qmar_last_error(); /* destroy returns nothing: its refusal shows in the reason */
    qmar_executor_destroy(e1);
    CHECK(reason_says("executor_destroy") && reason_says("not a live executor"));

    /* Double destroy; then a new executor (likely at the old address) survives stale calls. */
    CHECK_EQ_I64(harness_plan_rank(w, 0, group, &ws, &e1), QMAR_SUCCESS);
    qmar_executor_destroy(e1);
    qmar_executor_destroy(e1);
    CHECK(reason_says("not a live executor"));
    for (int round = 0; round < 20; round++) {
        CHECK_EQ_I64(harness_plan_rank(w, 0, group, &ws, &e2), QMAR_SUCCESS);
        CHECK_EQ_I64(qmar_comm_destroy((qmar_comm *)e2), QMAR_ERR_PARAM_INVALID); /* wrong kind */
        qmar_executor_destroy(e1);
        CHECK_EQ_I64(run_planned(e1, ws), QMAR_ERR_PARAM_INVALID);
        harness_reset_output(w, 0);
        CHECK_EQ_I64(run_planned(e2, ws), QMAR_SUCCESS);
        CHECK_EQ_I64(harness_wrong(w, 0), 0);
        e1 = e2;
    }

    /* Foreign: an endpoint passed as an executor, a stack address, an odd integer. */
    CHECK_EQ_I64(run_planned((qmar_executor *)c[0], ws), QMAR_ERR_PARAM_INVALID);
    long local = 0;
    CHECK_EQ_I64(run_planned((qmar_executor *)&local, ws), QMAR_ERR_PARAM_INVALID);
    CHECK_EQ_I64(run_planned((qmar_executor *)(uintptr_t)0x777, ws), QMAR_ERR_PARAM_INVALID);
    qmar_executor_destroy((qmar_executor *)c[0]);
    CHECK(reason_says("not a live executor"));
    int32_t size = 0; /* the endpoint passed as an executor is untouched */
    CHECK_EQ_I64(qmar_comm_size(c[0], &size), QMAR_SUCCESS);
    CHECK_EQ_I64(size, 1);

    /* An executor keeps its destroyed endpoint alive; after Run both are gone. */
    CHECK_EQ_I64(harness_plan_rank(w, 0, group, &ws, &e1), QMAR_SUCCESS);
    CHECK_EQ_I64(qmar_comm_destroy(c[0]), QMAR_SUCCESS);
    check_dead_endpoint(c[0]);
    harness_reset_output(w, 0);
    CHECK_EQ_I64(run_planned(e1, ws), QMAR_SUCCESS);
    CHECK_EQ_I64(harness_wrong(w, 0), 0);
    check_dead_endpoint(c[0]);
    harness_free(w);
}

int main(void)
{
    test_endpoint_misuse();
    test_executor_misuse();
    return check_summary();
}
