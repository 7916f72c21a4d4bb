/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the executor (a validated, planned call) that GetWorkspaceSize returns and Run uses. */
#ifndef QMAR_SRC_PLAN_H
#define QMAR_SRC_PLAN_H
#include "comm/comm.h"
#include "validate.h"

struct qmar_executor {
    qmar__facts facts;
    /* Copies of the descriptors (data pointers included), so the caller may destroy its
     * descriptors between planning and running; present[s] is 0 for an absent optional slot. */
    qmar_tensor t[QMAR__NSLOTS];
    int32_t present[QMAR__NSLOTS];
    qmar_comm *comm; /* holds a reference (qmar__comm_acquire) */
    uint64_t workspace_size;
};

/* The workspace formula of spec/api.md as ACSL logic. */
#include "../../spec/acsl/workspace.acsl"

/* The workspace formula documented in qmar.h (spec/api.md "Workspace"). Proven
 * (proofs/units/plan): what qmar__validate guarantees of an accepted call's facts is enough for
 * the formula to be computed exactly in 64 bits. */
/*@ requires \valid_read(f) && facts_in_range(*f);
    assigns \nothing;
    ensures \result == workspace_bytes(f->m, f->n, f->y, f->op_case);
*/
uint64_t qmar__workspace_size(const qmar__facts *f);

/* The handle the caller gets for a new executor (handle.h), or NULL when out of memory. */
qmar_executor *qmar__executor_publish(qmar_executor *e);

/* Computes the planned call into its output; workspace has at least e->workspace_size bytes
 * unless local (this rank's status so far) is an error: the rank then still takes part in the
 * agreement, so that its peers fail at once (spec/api.md "One outcome"), and computes nothing. */
qmar_status qmar__execute(qmar_executor *e, void *workspace, qmar_status local);
#endif
