/* SPDX-License-Identifier: Apache-2.0 */
/* Runs one Run of a harness scenario on every rank of an in-process group, one thread per rank,
 * with a per-rank misbehaviour, and records each rank's status, reason and time. Shared by the
 * failure tests (tests/test_failure.c) and the faults suite (tests/faults/). */
#ifndef QMAR_TESTS_GROUP_RUNNER_H
#define QMAR_TESTS_GROUP_RUNNER_H
#include <stdint.h>

#include "clock_ms.h"
#include "operator_harness.h"

typedef enum rank_action {
    ACT_NORMAL,
    ACT_SHORT_WORKSPACE, /* passes workspace_size - 1 */
    ACT_NULL_WORKSPACE,  /* passes NULL */
    ACT_LATE,            /* sleeps delay_ms before planning */
    ACT_REVOKE_ON_PLAN_FAILURE, /* ACT_NORMAL, and revokes its endpoint when planning fails */
} rank_action;

typedef struct group_result {
    qmar_status status[QMAR_COMM_MAX_RANKS];
    char reason[QMAR_COMM_MAX_RANKS][256];
    double ms[QMAR_COMM_MAX_RANKS]; /* from the common start to the rank's return */
} group_result;

/* Plans and runs every rank of w on comms (its group), rank r doing action[r] (NULL: all
 * normal); a rank whose planning fails revokes its endpoint when revoke_on_plan_failure. */
void group_run(harness_world *w, qmar_comm **comms, const rank_action *action, int64_t delay_ms,
               int revoke_on_plan_failure, group_result *res);

/* A fresh group of `ranks` runs w and every output is bit-exact against the model (harness_model
 * ran once before), its guards intact (w's outputs are reset first). Returns 1 if so. */
int group_fresh_run_exact(harness_world *w, int32_t ranks);
#endif
