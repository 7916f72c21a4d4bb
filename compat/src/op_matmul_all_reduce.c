/* SPDX-License-Identifier: Apache-2.0 */
/* aclnnQuantMatmulAllReduceV3 (and V2, V1: the same operator with inputs absent) run by qmar.
 * The descriptors are handed to qmar unchanged (same fields, dtype and format values); qmar's
 * validator decides, and its status codes are aclnn's. compat adds only the handle checks. */
#include <stdlib.h>
#include <string.h>

#include "aclnnop/aclnn_quant_matmul_all_reduce.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v2.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"
#include "compat.h"

enum { NSLOTS = 9 };
static const char *const slot_names[NSLOTS] = {
    "x1", "x2", "bias", "x3", "dequantScale", "pertokenScale", "commQuantScale1",
    "commQuantScale2", "output"};

static qmar_tensor *to_qmar(const aclTensor *t)
{
    return qmar_tensor_create(t->view, t->view_ndim, (qmar_dtype)t->dtype,
                              t->has_strides ? t->strides : NULL, t->offset,
                              (qmar_format)t->format, t->storage, t->storage_ndim, t->data);
}

static aclnnStatus plan(const char *api, const aclTensor *const in[NSLOTS], const char *group,
                        const char *reduce_op, int64_t comm_turn, int64_t stream_mode,
                        uint64_t *workspace_size, aclOpExecutor **executor)
{
    if (workspace_size != NULL)
        *workspace_size = 0;
    if (executor != NULL)
        *executor = NULL;
    /* A handle that is not a live tensor is refused (161002), unless a required pointer is NULL:
     * then qmar's NULL rule (161001) comes first, as it does on Ascend. */
    int required_null = in[0] == NULL || in[1] == NULL || in[4] == NULL || in[8] == NULL ||
                        group == NULL || reduce_op == NULL || workspace_size == NULL ||
                        executor == NULL;
    qmar_tensor *t[NSLOTS] = {0};
    aclTensor obj[NSLOTS]; /* copies of the descriptors behind the handles */
    aclnnStatus s = ACLNN_SUCCESS;
    for (int i = 0; i < NSLOTS && s == ACLNN_SUCCESS; i++) {
        if (in[i] == NULL)
            continue;
        if (!qc_tensor_read(in[i], &obj[i])) {
            if (!required_null)
                s = qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                            "%s (%p) is not a live aclTensor (destroyed, or never created)",
                            slot_names[i], (const void *)in[i]);
            continue;
        }
        t[i] = to_qmar(&obj[i]);
        if (t[i] == NULL)
            s = qc_fail(ACLNN_ERR_INNER, api, "out of memory");
    }
    qmar_executor *q = NULL;
    if (s == ACLNN_SUCCESS) {
        s = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
            t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], group, reduce_op, comm_turn,
            stream_mode, t[8], workspace_size, &q);
        if (s != QMAR_SUCCESS)
            qc_fail_qmar(s, api);
    }
    for (int i = 0; i < NSLOTS; i++)
        qmar_tensor_destroy(t[i]); /* the plan keeps copies of the descriptors */
    if (s != ACLNN_SUCCESS)
        return s;
    qc_executor *e = qc_calloc(1, sizeof *e);
    if (e == NULL) {
        qmar_executor_destroy(q);
        *workspace_size = 0;
        return qc_fail(ACLNN_ERR_INNER, api, "out of memory");
    }
    e->kind = QC_EXEC_QMAR;
    e->workspace_size = *workspace_size;
    e->u.op.q = q;
    memcpy(e->u.op.group, group, strnlen(group, QMAR_GROUP_NAME_MAX - 1));
    /* Every tensor inside its aclrtMalloc block, if it lies in one; the blocks are pinned. */
    for (int i = 0; i < NSLOTS && s == ACLNN_SUCCESS; i++)
        if (in[i] != NULL)
            s = qc_pin_tensor(&e->pins, &obj[i], slot_names[i], api);
    int destroyed = 0;
    if (s == ACLNN_SUCCESS) {
        e->u.op.comm = qc_comm_acquire(e->u.op.group, &destroyed);
        if (destroyed)
            s = qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                        "group \"%s\": its communicator was destroyed (HcclCommDestroy)",
                        e->u.op.group);
    }
    if (s == ACLNN_SUCCESS)
        s = qc_executor_publish(e, executor, api);
    else
        qc_executor_free(e, NULL);
    if (s != ACLNN_SUCCESS)
        *workspace_size = 0;
    return s;
}

/* A rank that fails here, before or inside the collective, breaks its group at once, so that its
 * peers fail promptly instead of waiting for the timeout; the communicator stays broken
 * (README.md). Returns s. */
static aclnnStatus fail_group(aclnnStatus s, qc_comm *comm, const char *group)
{
    if (comm != NULL)
        qc_comm_revoke(comm);
    else if (group != NULL)
        qc_comm_revoke_by_name(group);
    return s;
}

/* Runs on the calling thread; every rank of the group runs its own executor. The executor is
 * consumed whatever the outcome, as qmar's is. */
static aclnnStatus run(const char *api, void *workspace, uint64_t workspace_size,
                       aclOpExecutor *executor, aclrtStream stream)
{
    if (executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "executor is NULL");
    qc_executor *e = qc_reg_take_executor(executor, QC_EXEC_QMAR);
    if (e == NULL) {
        char group[QMAR_GROUP_NAME_MAX];
        int stale = qc_executor_stale_group(executor, group);
        aclnnStatus s = qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                                "executor %p is not a live executor of this operator (already "
                                "run, destroyed, or planned by another operator)%s",
                                (void *)executor, stale ? "; its group is broken" : "");
        return stale ? fail_group(s, NULL, group) : s;
    }
    aclnnStatus s = ACLNN_SUCCESS;
    if (!qc_stream_ok(stream))
        s = qc_fail(ACLNN_ERR_PARAM_INVALID, api, "stream %p is not a live stream", stream);
    if (s == ACLNN_SUCCESS && e->workspace_size > 0 &&
        (workspace == NULL || workspace_size < e->workspace_size))
        s = qc_fail(ACLNN_ERR_PARAM_INVALID, api, "workspace %p of %llu bytes; the plan needs %llu",
                    workspace, (unsigned long long)workspace_size,
                    (unsigned long long)e->workspace_size);
    qc_pins pins = e->pins;
    if (s == ACLNN_SUCCESS && e->workspace_size > 0)
        s = qc_pin_range(&pins, workspace, e->workspace_size, "workspace", api);
    if (s == ACLNN_SUCCESS)
        s = qc_pins_hold(&pins, api);
    if (s == ACLNN_SUCCESS) {
        qmar_status q = qmar_quant_matmul_all_reduce_v3(workspace, workspace_size, e->u.op.q,
                                                        stream);
        e->u.op.q = NULL; /* consumed */
        qc_pins_drop(&pins);
        if (q != QMAR_SUCCESS)
            s = qc_fail_qmar(q, api);
    }
    if (s != ACLNN_SUCCESS)
        fail_group(s, e->u.op.comm, e->u.op.group);
    qc_executor_free(e, executor);
    return s;
}

aclnnStatus aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *biasOptional,
    const aclTensor *x3Optional, const aclTensor *dequantScale,
    const aclTensor *pertokenScaleOptional, const aclTensor *commQuantScale1Optional,
    const aclTensor *commQuantScale2Optional, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor)
{
    const aclTensor *in[NSLOTS] = {x1, x2, biasOptional, x3Optional, dequantScale,
                                   pertokenScaleOptional, commQuantScale1Optional,
                                   commQuantScale2Optional, output};
    return plan("aclnnQuantMatmulAllReduceV3GetWorkspaceSize", in, group, reduceOp, commTurn,
                streamMode, workspaceSize, executor);
}

aclnnStatus aclnnQuantMatmulAllReduceV3(void *workspace, uint64_t workspaceSize,
                                        aclOpExecutor *executor, const aclrtStream stream)
{
    return run("aclnnQuantMatmulAllReduceV3", workspace, workspaceSize, executor, stream);
}

aclnnStatus aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequantScale, const aclTensor *pertokenScale, const char *group,
    const char *reduceOp, int64_t commTurn, int64_t streamMode, const aclTensor *output,
    uint64_t *workspaceSize, aclOpExecutor **executor)
{
    const aclTensor *in[NSLOTS] = {x1, x2, bias, x3, dequantScale, pertokenScale, NULL, NULL,
                                   output};
    return plan("aclnnQuantMatmulAllReduceV2GetWorkspaceSize", in, group, reduceOp, commTurn,
                streamMode, workspaceSize, executor);
}

aclnnStatus aclnnQuantMatmulAllReduceV2(void *workspace, uint64_t workspaceSize,
                                        aclOpExecutor *executor, const aclrtStream stream)
{
    return run("aclnnQuantMatmulAllReduceV2", workspace, workspaceSize, executor, stream);
}

aclnnStatus aclnnQuantMatmulAllReduceGetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequantScale, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor)
{
    const aclTensor *in[NSLOTS] = {x1, x2, bias, x3, dequantScale, NULL, NULL, NULL, output};
    return plan("aclnnQuantMatmulAllReduceGetWorkspaceSize", in, group, reduceOp, commTurn,
                streamMode, workspaceSize, executor);
}

aclnnStatus aclnnQuantMatmulAllReduce(void *workspace, uint64_t workspaceSize,
                                      aclOpExecutor *executor, const aclrtStream stream)
{
    return run("aclnnQuantMatmulAllReduce", workspace, workspaceSize, executor, stream);
}
