/* SPDX-License-Identifier: Apache-2.0 */
/* FRACTAL_NZ weights: aclnnCalculateMatmulWeightSizeV2 and aclnnTransMatmulWeight, on qmar's
 * helpers. The conversion is in place in the tensor's own buffer (which the caller allocated with
 * the NZ size) and rewrites the descriptor into the FRACTAL_NZ form qmar's rule L5 accepts. */
#include <stdlib.h>
#include <string.h>

#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "compat.h"

aclnnStatus aclnnCalculateMatmulWeightSizeV2(const aclIntArray *tensorShape, aclDataType dataType,
                                             uint64_t *weightTensorSize)
{
    const char *api = "aclnnCalculateMatmulWeightSizeV2";
    if (tensorShape == NULL || weightTensorSize == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "%s is NULL",
                       tensorShape == NULL ? "tensorShape" : "weightTensorSize");
    struct {
        aclIntArray a;
        int64_t values[QC_MAX_DIMS];
    } shape; /* a copy, read under the registry's lock */
    size_t got = qc_reg_read(tensorShape, QC_INT_ARRAY, &shape, sizeof shape);
    if (got == 0)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "tensorShape is not a live aclIntArray");
    if (shape.a.size > QC_MAX_DIMS) /* the weight must be 2-D: more dims are never copied */
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "tensorShape has %llu dims; 2 expected",
                       (unsigned long long)shape.a.size);
    qmar_status s = qmar_calculate_matmul_weight_size_v2(shape.a.values, shape.a.size,
                                                         (qmar_dtype)dataType, weightTensorSize);
    return s == QMAR_SUCCESS ? ACLNN_SUCCESS : qc_fail_qmar(s, api);
}

/* The ND weight the conversion will read: 2-D int8, contiguous (k,n) or transposed (memory holds
 * (n,k)), offset 0, inside its declared storage and inside a buffer that can hold the NZ form. */
static aclnnStatus check_weight(const aclTensor *t, int64_t *rows, int64_t *cols,
                                uint64_t *nz_elems, const char *api)
{
    if (t->data == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "mmWeightRef has no data");
    if (t->dtype != ACL_INT8)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "dtype %d: only INT8 (2) weights are supported", (int)t->dtype);
    if (t->format != ACL_FORMAT_ND)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "format %d: the weight must be ND (2)",
                       (int)t->format);
    if (t->view_ndim != 2 || t->view[0] < 1 || t->view[1] < 1)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "the weight must be 2-D with dims >= 1 (got %llu dims)",
                       (unsigned long long)t->view_ndim);
    if (t->offset != 0)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "offset %lld: the NZ form occupies the whole buffer, so it must be 0",
                       (long long)t->offset);
    int transposed = qc_is_transposed(t);
    if (!transposed && !qc_is_contiguous(t))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "strides (%lld, %lld) are neither contiguous nor transposed",
                       (long long)t->strides[0], (long long)t->strides[1]);
    *rows = transposed ? t->view[1] : t->view[0];
    *cols = transposed ? t->view[0] : t->view[1];
    int64_t dims[2] = {*rows, *cols};
    qmar_status s = qmar_calculate_matmul_weight_size_v2(dims, 2, QMAR_INT8, nz_elems);
    if (s != QMAR_SUCCESS) /* it bounds the NZ size, and so rows * cols, by 2^48 */
        return qc_fail_qmar(s, api);
    uint64_t nd = (uint64_t)*rows * (uint64_t)*cols;
    uint64_t storage = t->storage_ndim == 0 ? 1 : qc_elem_count(t->storage, t->storage_ndim);
    if (storage < nd) /* qc_elem_count is 0 for odd storage dims */
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "storage dims hold %llu elements, the weight needs %llu",
                       (unsigned long long)storage, (unsigned long long)nd);
    /* The buffer must hold the NZ form. Known when it came from aclrtMalloc; otherwise only a
     * weight whose NZ form is no larger than its ND form can be converted safely. */
    const void *base;
    uint64_t block;
    int in_block = qc_reg_block(t->data, *nz_elems, &base, &block);
    if (in_block < 0)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "the weight's buffer is %llu bytes from its start; the NZ form needs %llu "
                       "(allocate aclnnCalculateMatmulWeightSizeV2 elements)",
                       (unsigned long long)(block - (uint64_t)((const char *)t->data -
                                                               (const char *)base)),
                       (unsigned long long)*nz_elems);
    if (in_block == 0 && *nz_elems > nd)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "the NZ form needs %llu bytes, more than the %llu of the ND weight, and "
                       "the buffer is not from aclrtMalloc, so its size cannot be checked",
                       (unsigned long long)*nz_elems, (unsigned long long)nd);
    return ACLNN_SUCCESS;
}

aclnnStatus aclnnTransMatmulWeightGetWorkspaceSize(aclTensor *mmWeightRef, uint64_t *workspaceSize,
                                                   aclOpExecutor **executor)
{
    const char *api = "aclnnTransMatmulWeightGetWorkspaceSize";
    if (workspaceSize != NULL)
        *workspaceSize = 0;
    if (executor != NULL)
        *executor = NULL;
    if (mmWeightRef == NULL || workspaceSize == NULL || executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "%s is NULL",
                       mmWeightRef == NULL     ? "mmWeightRef"
                       : workspaceSize == NULL ? "workspaceSize"
                                               : "executor");
    aclTensor copy;
    const aclTensor *w = &copy;
    if (!qc_tensor_read(mmWeightRef, &copy))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "mmWeightRef is not a live aclTensor");
    int64_t rows, cols;
    uint64_t nz;
    aclnnStatus s = check_weight(w, &rows, &cols, &nz, api);
    if (s != ACLNN_SUCCESS)
        return s;
    qc_executor *e = qc_calloc(1, sizeof *e);
    if (e == NULL)
        return qc_fail(ACLNN_ERR_INNER, api, "out of memory");
    e->kind = QC_EXEC_TRANS_WEIGHT;
    e->workspace_size = (uint64_t)rows * (uint64_t)cols; /* the ND copy the conversion reads */
    e->u.tw.t = mmWeightRef;
    e->u.tw.data = w->data;
    e->u.tw.rows = rows;
    e->u.tw.cols = cols;
    e->u.tw.nz_elems = nz;
    s = qc_pin_range(&e->pins, w->data, nz, "mmWeightRef", api);
    if (s != ACLNN_SUCCESS) {
        qc_executor_free(e, NULL);
        return s;
    }
    s = qc_executor_publish(e, executor, api);
    if (s == ACLNN_SUCCESS)
        *workspaceSize = (uint64_t)rows * (uint64_t)cols;
    return s;
}

aclnnStatus aclnnTransMatmulWeight(void *workspace, uint64_t workspaceSize,
                                   aclOpExecutor *executor, aclrtStream stream)
{
    const char *api = "aclnnTransMatmulWeight";
    if (executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "executor is NULL");
    qc_executor *e = qc_reg_take_executor(executor, QC_EXEC_TRANS_WEIGHT);
    if (e == NULL)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "executor %p is not a live TransMatmulWeight executor", (void *)executor);
    qc_executor job = *e;
    qc_executor_free(e, executor); /* consumed whatever the outcome */
    if (!qc_stream_ok(stream))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "stream %p is not a live stream", stream);
    if (workspace == NULL || workspaceSize < job.workspace_size)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "workspace %p of %llu bytes; the plan needs %llu", workspace,
                       (unsigned long long)workspaceSize,
                       (unsigned long long)job.workspace_size);
    aclTensor copy, *t = &copy;
    if (!qc_tensor_read(job.u.tw.t, &copy) || t->data != job.u.tw.data)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "the weight tensor was destroyed");
    aclnnStatus s = qc_pin_range(&job.pins, workspace, job.workspace_size, "workspace", api);
    if (s != ACLNN_SUCCESS)
        return s;
    s = qc_pins_hold(&job.pins, api); /* until the conversion ends */
    if (s != ACLNN_SUCCESS)
        return s;
    int64_t rows, cols;
    uint64_t nz;
    s = check_weight(t, &rows, &cols, &nz, api);
    uintptr_t w = (uintptr_t)workspace, d = (uintptr_t)t->data;
    if (s == ACLNN_SUCCESS && w != d && w < d + nz && d < w + (uint64_t)(rows * cols))
        s = qc_fail(ACLNN_ERR_PARAM_INVALID, api, "the workspace overlaps the weight");
    if (s == ACLNN_SUCCESS) {
        /* The workspace holds the ND matrix while the NZ form overwrites the buffer. */
        memmove(workspace, t->data, (size_t)(rows * cols));
        qmar_status q = qmar_trans_matmul_weight(workspace, rows, cols, t->data, nz);
        if (q != QMAR_SUCCESS)
            s = qc_fail_qmar(q, api);
    }
    qc_pins_drop(&job.pins);
    if (s != ACLNN_SUCCESS)
        return s;
    int64_t nz_dims[4] = {(cols + 31) / 32, (rows + 15) / 16, 16, 32};
    t->format = ACL_FORMAT_FRACTAL_NZ;
    t->storage_ndim = 4;
    memcpy(t->storage, nz_dims, sizeof nz_dims);
    t->offset = 0;
    if (!qc_reg_write(job.u.tw.t, QC_TENSOR, t, sizeof *t))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "the weight tensor was destroyed during the conversion");
    return ACLNN_SUCCESS;
}
