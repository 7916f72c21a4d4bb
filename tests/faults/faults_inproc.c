/* SPDX-License-Identifier: Apache-2.0 */
/* The faults suite, in-process backend (CONTRIBUTING.md "Fault injection"): for one case and
 * every R in {1, 2, 4}, every allocation the library makes (comm init, planning, Run) fails in
 * turn, once and then persistently from there on, and every communication step fails in turn
 * with an error, a delay past the timeout, or a rank that stops. For every injection point:
 *   - one outcome: every rank returns an error (361001 on every rank for a collective failure;
 *     a rank's own status for its own failure), or, when the fault was survivable, every rank
 *     returns SUCCESS with a bit-exact output;
 *   - promptly: within PROMPT_MS of each other, beyond what the fault itself holds a rank (a
 *     bound, not a speed claim; see returned_promptly);
 *   - with a reason (qmar_last_error) on every failing rank;
 *   - nothing written outside the outputs (guard words);
 *   - a fresh group then works and is bit-exact against the model;
 *   - no leak: LeakSanitizer in the sanitizer build.
 * Usage: faults_inproc CASE (1, 2 or 3). Prints the injection points reached per configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fault.h"
#include "group_runner.h"

#define TIMEOUT_MS 150
#define PROMPT_MS 150.0

/* Case 1 is small enough for its rows to ride on the agreement (one barrier, execute.c); case 2
 * has more columns (8 rows x 544 x 2 bytes > the 8 KiB a ride carries), so its sweep walks the
 * agreement + reduce-scatter + all-gather path. */
static scenario config(int32_t op_case, int32_t ranks)
{
    scenario sc = {.ranks = ranks, .op_case = op_case, .y = op_case == 2 ? QMAR_FLOAT16 : QMAR_BF16,
                   .s = 8, .k = 32, .n = op_case == 2 ? 544 : 32, .x2_layout = MODEL_X2_ND, .bias = 1,
                   .x3 = X3_SEPARATE, .scale_shape = SCALE_N, .seed = 11 + (uint64_t)op_case};
    return sc;
}

static int make_group(int32_t ranks, qmar_comm **comms)
{
    if (qmar_comm_init_all(ranks, comms) != QMAR_SUCCESS)
        return 0;
    for (int32_t r = 0; r < ranks; r++)
        qmar_comm_set_timeout_ms(comms[r], TIMEOUT_MS);
    return 1;
}

static void destroy_group(int32_t ranks, qmar_comm **comms)
{
    for (int32_t r = 0; r < ranks; r++)
        CHECK_EQ_I64(qmar_comm_destroy(comms[r]), QMAR_SUCCESS);
}

/* How long the fault itself holds the rank it hits (fault.h). */
static double held_ms(qmar__fault_kind kind)
{
    return kind == QMAR__FAULT_DELAY  ? TIMEOUT_MS + 50
           : kind == QMAR__FAULT_STOP ? 3 * TIMEOUT_MS
                                      : 0;
}

/* Whether every failing rank returned promptly. Times count from a common start, so they include
 * each rank's own start-up; what is compared is when the ranks return relative to each other:
 *   error or allocation: all within PROMPT_MS of each other (nobody waits for a timeout);
 *   delay: all within the delay (the delayed rank last) plus PROMPT_MS;
 *   stop: every rank but the stopped one returns at least a timeout before it (they gave up at
 *         their own timeout instead of waiting for the stopped rank).
 * And nobody takes longer than the fault, a timeout and a second of start-up. */
static int returned_promptly(const group_result *res, int32_t ranks, qmar__fault_kind kind)
{
    double lo = res->ms[0], hi = res->ms[0];
    int32_t last = 0;
    for (int32_t r = 1; r < ranks; r++) {
        lo = res->ms[r] < lo ? res->ms[r] : lo;
        if (res->ms[r] > hi) {
            hi = res->ms[r];
            last = r;
        }
    }
    if (hi > held_ms(kind) + TIMEOUT_MS + 1000)
        return 0;
    if (kind == QMAR__FAULT_STOP) {
        for (int32_t r = 0; r < ranks; r++)
            if (r != last && res->ms[r] > hi - TIMEOUT_MS)
                return 0;
        return 1;
    }
    return hi - lo <= (kind == QMAR__FAULT_DELAY ? held_ms(kind) : 0) + PROMPT_MS;
}

/* What one injected run must show; returns whether the ranks failed (all of them). */
static int check_outcome(harness_world *w, int32_t ranks, const group_result *res, int collective,
                         qmar__fault_kind kind, const char *what, int64_t n)
{
    int failed = 0, ok = 1;
    for (int32_t r = 0; r < ranks; r++)
        failed += res->status[r] != QMAR_SUCCESS;
    if (failed != 0 && failed != ranks) {
        fprintf(stderr, "%s N=%lld: %d of %d ranks failed (one outcome broken)\n", what,
                (long long)n, failed, (int)ranks);
        ok = 0;
    }
    if (failed != 0 && !returned_promptly(res, ranks, kind)) {
        fprintf(stderr, "%s N=%lld kind %d: not prompt:", what, (long long)n, (int)kind);
        for (int32_t r = 0; r < ranks; r++)
            fprintf(stderr, " %.0f", res->ms[r]);
        fprintf(stderr, " ms\n");
        ok = 0;
    }
    for (int32_t r = 0; r < ranks; r++) {
        if (!harness_guards_intact(w, r)) {
            fprintf(stderr, "%s N=%lld: rank %d wrote outside its output\n", what, (long long)n,
                    (int)r);
            ok = 0;
        }
        if (failed == 0 && harness_wrong(w, r) != 0) {
            fprintf(stderr, "%s N=%lld: rank %d succeeded with a wrong output\n", what,
                    (long long)n, (int)r);
            ok = 0;
        }
        if (failed != 0 && (res->reason[r][0] == '\0' ||
                            (collective && res->status[r] != QMAR_ERR_RUNTIME))) {
            fprintf(stderr, "%s N=%lld: rank %d status %d reason '%s'\n", what, (long long)n,
                    (int)r, (int)res->status[r], res->reason[r]);
            ok = 0;
        }
    }
    CHECK(ok);
    return failed == ranks;
}

/* Allocation N of comm init fails (once / from N on): a clean error, nothing half-made. */
static int64_t faults_in_init(int32_t ranks, int persistent)
{
    int64_t n = 1;
    for (;; n++) {
        qmar_comm *comms[QMAR_COMM_MAX_RANKS] = {0};
        qmar__fault_arm_alloc(n, persistent);
        qmar_status st = qmar_comm_init_all(ranks, comms);
        int fired = qmar__fault_fired();
        qmar__fault_disarm();
        if (st == QMAR_SUCCESS) {
            destroy_group(ranks, comms);
            CHECK(!fired); /* init tolerates none of its allocations failing */
            return n - 1;
        }
        CHECK(fired);
        CHECK_EQ_I64(st, QMAR_ERR_INNER);
        CHECK(qmar_last_error()[0] != '\0');
        for (int32_t r = 0; r < ranks; r++)
            CHECK(comms[r] == NULL);
        if (n > 1000) {
            CHECK(!"comm init never succeeded");
            return n;
        }
    }
}

/* What one sweep fails: allocations (once, or from N on) or steps (with `kind`). */
typedef struct fault_plan {
    int steps;          /* 0: allocation N of planning + Run; 1: step N of any rank */
    int persistent;     /* allocations: every one from N on */
    qmar__fault_kind kind; /* steps: what step N does */
} fault_plan;

/* Fails injection point N of the plan for N = 1, 2, ... until a Run reaches no armed point;
 * returns how many points it reached. A rank whose planning fails revokes its endpoint
 * (spec/api.md: it will not run). */
static int64_t sweep(harness_world *w, int32_t ranks, fault_plan plan, const char *what)
{
    for (int64_t n = 1; n < 1000; n++) {
        qmar_comm *comms[QMAR_COMM_MAX_RANKS];
        if (!make_group(ranks, comms)) {
            CHECK(!"make_group");
            return n;
        }
        for (int32_t r = 0; r < ranks; r++)
            harness_reset_output(w, r);
        if (plan.steps)
            qmar__fault_arm_step(n, plan.kind, -1);
        else
            qmar__fault_arm_alloc(n, plan.persistent);
        group_result res;
        group_run(w, comms, NULL, 0, 1, &res);
        int fired = qmar__fault_fired();
        qmar__fault_disarm();
        destroy_group(ranks, comms);
        qmar__fault_kind kind = plan.steps ? plan.kind : QMAR__FAULT_NONE;
        int failed = check_outcome(w, ranks, &res, plan.steps, kind, what, n);
        if (!fired) {
            CHECK(!failed);
            return n - 1;
        }
        /* An error or a stop fails the Run (an allocation may have a fallback, e.g. huge pages,
         * and check_outcome has checked whatever came). A delay may not: in a group of one nobody
         * waits, and a peer that arrived later than the delayed rank by more than the
         * excess of the delay over the timeout is still waiting when it comes (check_outcome
         * then saw every rank succeed, bit-exact). */
        CHECK(failed || !plan.steps || kind == QMAR__FAULT_DELAY);
        CHECK(group_fresh_run_exact(w, ranks));
    }
    CHECK(!"injection points never ran out");
    return 1000;
}

int main(int argc, char **argv)
{
    int32_t op_case = argc > 1 ? atoi(argv[1]) : 1;
    if (op_case < 1 || op_case > 3) {
        fprintf(stderr, "usage: faults_inproc CASE (1, 2 or 3)\n");
        return 2;
    }
    qmar__fault_disarm();
    for (int32_t ranks = 1; ranks <= 4; ranks *= 2) {
        scenario sc = config(op_case, ranks);
        harness_world *w = harness_build(&sc, -1);
        CHECK(w != NULL);
        if (w == NULL)
            break;
        harness_model(w);
        char what[64];
        snprintf(what, sizeof what, "case %d R=%d", (int)op_case, (int)ranks);
        int64_t init1 = faults_in_init(ranks, 0), initp = faults_in_init(ranks, 1);
        int64_t alloc1 = sweep(w, ranks, (fault_plan){.persistent = 0}, what);
        int64_t allocp = sweep(w, ranks, (fault_plan){.persistent = 1}, what);
        int64_t err = sweep(w, ranks, (fault_plan){.steps = 1, .kind = QMAR__FAULT_ERROR}, what);
        int64_t delay = sweep(w, ranks, (fault_plan){.steps = 1, .kind = QMAR__FAULT_DELAY}, what);
        int64_t stop = sweep(w, ranks, (fault_plan){.steps = 1, .kind = QMAR__FAULT_STOP}, what);
        /* (init's counts differ: the handle table grows once, on the first group) */
        CHECK(alloc1 == allocp && err == delay && err == stop);
        CHECK(init1 > 0 && alloc1 > 0 && err > 0);
        printf("%s: injection points reached: comm init allocations %lld (once) %lld "
               "(persistent); plan+Run allocations %lld (once) %lld (persistent); steps %lld "
               "(error) %lld (delay) %lld (stop)\n",
               what, (long long)init1, (long long)initp, (long long)alloc1, (long long)allocp,
               (long long)err, (long long)delay, (long long)stop);
        harness_free(w);
    }
    return check_summary();
}
