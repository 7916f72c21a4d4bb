/* SPDX-License-Identifier: Apache-2.0 */
/* How many collective steps (barriers) a Run takes on the in-process backend, counted by the
 * fault hooks (lib/src/fault.h). A Run that computes all its rows before it communicates (no
 * overlap thread: QMAR_OVERLAP=0) must communicate them in one collective: the agreement, then
 * the reduce-scatter, the all-gather and the end of the reads, four barriers per rank, whatever
 * the row blocks of the overlapped path would have been (case 3: two more, the all-gather of its
 * comm scales). Communicating those blocks one by one took three barriers each (m = 128: 8
 * blocks, 25 per rank), each a wait on the peers. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "fault.h"
#include "operator_harness.h"

static void check_steps(int32_t op_case, int32_t ranks)
{
    /* m * k * n above execute.c's threshold for row blocks (16 rows each); e too large to ride
     * on the agreement */
    scenario sc = {.ranks = ranks, .op_case = op_case, .y = QMAR_BF16, .s = 128, .k = 64,
                   .n = 1024, .x2_layout = MODEL_X2_ND, .bias = 1, .scale_shape = SCALE_N,
                   .seed = 5 + (uint64_t)op_case};
    harness_result res;
    qmar__fault_disarm(); /* counts from zero */
    CHECK_EQ_I64(harness_run(&sc, -1, -1, 0, &res), 0);
    int64_t steps = qmar__fault_steps_seen();
    for (int32_t r = 0; r < ranks; r++) {
        CHECK_EQ_I64(res.status[r], QMAR_SUCCESS);
        CHECK_EQ_I64(res.wrong[r], 0);
    }
    printf("case %d, R = %d, m = 128: %lld steps (all ranks)\n", (int)op_case, (int)ranks,
           (long long)steps);
    /* case 3 checks its comm scales first, an all-gather: two barriers more */
    CHECK(steps <= (op_case == 3 ? 6 : 4) * ranks);
}

int main(void)
{
    setenv("QMAR_OVERLAP", "0", 1);
    for (int32_t op_case = 1; op_case <= 3; op_case += 2)
        for (int32_t ranks = 2; ranks <= 4; ranks *= 2)
            check_steps(op_case, ranks);
    return check_summary();
}
