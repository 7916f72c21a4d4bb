/* A rank that fails inside Run never leaves its peers waiting, and never lets one Run end in
 * SUCCESS on one rank and an error on another (spec/api.md "One outcome"). In-process backend. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "group_runner.h"

/* "Promptly": well under the timeout the peers would otherwise wait (a correctness bound, with
 * room for a loaded sanitizer build; the timeout below is far above it). */
#define PROMPT_MS 150.0
#define LONG_TIMEOUT_MS 10000

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
                    CHECK(res.ms[r] < PROMPT_MS);
                    CHECK(res.reason[r][0] != '\0');
                    CHECK(harness_guards_intact(w, r));
                    if (res.ms[r] >= PROMPT_MS)
                        fprintf(stderr, "R=%d bad=%d kind=%d: rank %d took %.0f ms\n",
                                (int)ranks, (int)bad, kind, (int)r, res.ms[r]);
                }
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
            CHECK(res.ms[r] < (r == ranks - 1 ? 400 : 200) + PROMPT_MS);
        }
        destroy_group(ranks, comms);
        CHECK(group_fresh_run_exact(w, ranks));
        harness_free(w);
    }
}

int main(void)
{
    test_local_failure_is_prompt();
    test_late_rank();
    return check_summary();
}
