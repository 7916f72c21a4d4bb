/* SPDX-License-Identifier: Apache-2.0 */
/* GetWorkspaceSize: validate (N1..A3, pure), resolve the group (A4), then plan (P1). */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "error.h"
#include "plan.h"

/*@ requires bytes <= 18446744073709551615 - 63;
    assigns \nothing;
    ensures \result == align_up(bytes, 64);
*/
static uint64_t align64(uint64_t bytes)
{
    return (bytes + 63u) / 64u * 64u;
}

uint64_t qmar__workspace_size(const qmar__facts *f)
{
    /* m*n <= 2^48 (rule L1 on output), so none of this can overflow 64 bits. */
    uint64_t cells = (uint64_t)f->m * (uint64_t)f->n;
    uint64_t size = align64(cells * qmar_dtype_size((qmar_dtype)f->y));
    if (f->op_case == 3)
        size += 2 * align64(cells);
    return size;
}

/* A4: the group names a live endpoint of a 1-, 2-, 4- or 8-rank communicator. */
static qmar_status resolve_group(const char *group, qmar__verdict *v, qmar_comm **out)
{
    *out = NULL;
    memset(v, 0, sizeof *v);
    v->slot = QMAR__NO_SLOT;
    v->status = QMAR_ERR_PARAM_INVALID;
    if (strnlen(group, QMAR_GROUP_NAME_MAX) >= QMAR_GROUP_NAME_MAX) {
        v->why = QMAR__A4_GROUP_LENGTH;
        return v->status;
    }
    qmar_comm *comm = qmar__comm_acquire(group);
    if (comm == NULL) {
        v->why = QMAR__A4_GROUP_UNKNOWN;
        return v->status;
    }
    int32_t r = comm->size;
    if (r != 1 && r != 2 && r != 4 && r != 8) {
        qmar__comm_release(comm);
        v->why = QMAR__A4_GROUP_RANKS;
        v->v[0] = r;
        return v->status;
    }
    *out = comm;
    v->status = QMAR_SUCCESS;
    return QMAR_SUCCESS;
}

static qmar_executor *plan(const qmar__call *call, const qmar__facts *f, qmar_comm *comm)
{
    qmar_executor *e = qmar__calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->facts = *f;
    for (int s = 0; s < QMAR__NSLOTS; s++) {
        e->present[s] = call->t[s] != NULL;
        if (call->t[s] != NULL)
            e->t[s] = *call->t[s];
    }
    e->comm = comm;
    e->workspace_size = qmar__workspace_size(f);
    return e;
}

qmar_status qmar_quant_matmul_all_reduce_v3_get_workspace_size(
    const qmar_tensor *x1, const qmar_tensor *x2, const qmar_tensor *bias, const qmar_tensor *x3,
    const qmar_tensor *dequant_scale, const qmar_tensor *pertoken_scale,
    const qmar_tensor *comm_quant_scale1, const qmar_tensor *comm_quant_scale2, const char *group,
    const char *reduce_op, int64_t comm_turn, int64_t stream_mode, const qmar_tensor *output,
    uint64_t *workspace_size, qmar_executor **executor)
{
    const qmar__call call = {
        .t = {x1, x2, bias, x3, dequant_scale, pertoken_scale, comm_quant_scale1,
              comm_quant_scale2, output},
        .group = group, .reduce_op = reduce_op, .comm_turn = comm_turn,
        .stream_mode = stream_mode, .workspace_size_ptr = workspace_size,
        .executor_ptr = executor,
    };
    qmar__verdict verdict;
    qmar__facts facts;
    qmar_comm *comm = NULL;
    /* Out-parameters say "no plan" until a plan exists. */
    if (workspace_size != NULL)
        *workspace_size = 0;
    if (executor != NULL)
        *executor = NULL;
    if (qmar__validate(&call, &verdict, &facts) != QMAR_SUCCESS ||
        resolve_group(group, &verdict, &comm) != QMAR_SUCCESS)
        return qmar__report(&verdict);
    qmar_executor *e = plan(&call, &facts, comm);
    qmar_executor *handle = e != NULL ? qmar__executor_publish(e) : NULL;
    if (handle == NULL) {
        free(e);
        qmar__comm_release(comm);
        return qmar__fail(QMAR_ERR_INNER, "[P1] plan: out of memory");
    }
    *workspace_size = e->workspace_size;
    *executor = handle;
    return QMAR_SUCCESS;
}
