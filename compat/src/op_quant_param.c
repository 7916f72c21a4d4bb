/* SPDX-License-Identifier: Apache-2.0 */
/* aclnnTransQuantParamV2 on qmar_trans_quant_param_v2: fp32 scales (+ offsets) to the UINT64
 * dequant words of the FP16 path without pertoken. Shapes follow CANN's rules: scale and offset
 * are (t) with t = 1 or n, or (1, n); out is 1-D of max(t) elements for a 1-D scale, and scale's
 * shape for a 2-D one. */
#include <stdlib.h>
#include <string.h>

#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "compat.h"

/* Far above any channel count (n <= 65535 for the operator), and small enough that every byte
 * count below fits 64 bits. */
#define MAX_COUNT ((uint64_t)1 << 31)

/* A live tensor handle (a copy of its descriptor in *t): contiguous ND of an allowed dtype, with
 * dims >= 1, inside its storage. */
static aclnnStatus check_operand(const aclTensor *handle, aclTensor *t, const char *name,
                                 int32_t dt1, int32_t dt2, uint64_t *count, const char *api)
{
    if (!qc_tensor_read(handle, t))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s is not a live aclTensor", name);
    if (t->data == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "%s has no data", name);
    if (t->dtype != dt1 && t->dtype != dt2)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s: dtype %d is not supported", name,
                       (int)t->dtype);
    if (t->view_ndim < 1 || t->view_ndim > 2)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s: %llu dims, 1 or 2 expected", name,
                       (unsigned long long)t->view_ndim);
    for (uint64_t i = 0; i < t->view_ndim; i++)
        if (t->view[i] < 1)
            return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s: dim %lld < 1", name,
                           (long long)t->view[i]);
    *count = qc_elem_count(t->view, t->view_ndim);
    if (*count == 0 || *count > MAX_COUNT) /* 0: the product overflowed */
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s: more than %lld elements", name,
                       (long long)MAX_COUNT);
    if (t->format != ACL_FORMAT_ND || !qc_is_contiguous(t))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s must be ND and contiguous", name);
    uint64_t storage = t->storage_ndim == 0 ? 1 : qc_elem_count(t->storage, t->storage_ndim);
    if (t->offset < 0 || storage < *count || (uint64_t)t->offset > storage - *count)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "%s: offset %lld + %llu elements leave its storage of %llu", name,
                       (long long)t->offset, (unsigned long long)*count,
                       (unsigned long long)storage);
    return ACLNN_SUCCESS;
}

static int same_view(const aclTensor *a, const aclTensor *b)
{
    if (a->view_ndim != b->view_ndim)
        return 0;
    for (uint64_t i = 0; i < a->view_ndim; i++)
        if (a->view[i] != b->view[i])
            return 0;
    return 1;
}

aclnnStatus aclnnTransQuantParamV2GetWorkspaceSize(const aclTensor *scale, const aclTensor *offset,
                                                   const aclTensor *out, uint64_t *workspaceSize,
                                                   aclOpExecutor **executor)
{
    const char *api = "aclnnTransQuantParamV2GetWorkspaceSize";
    if (workspaceSize != NULL)
        *workspaceSize = 0;
    if (executor != NULL)
        *executor = NULL;
    if (scale == NULL || out == NULL || workspaceSize == NULL || executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "%s is NULL",
                       scale == NULL         ? "scale"
                       : out == NULL         ? "out"
                       : workspaceSize == NULL ? "workspaceSize"
                                             : "executor");
    uint64_t ns = 0, no = 0, nout = 0;
    aclTensor sc, of, wd; /* copies of the descriptors */
    const aclTensor *so = &sc, *oo = offset != NULL ? &of : NULL, *wo = &wd;
    aclnnStatus s = check_operand(scale, &sc, "scale", ACL_FLOAT, ACL_FLOAT, &ns, api);
    if (s == ACLNN_SUCCESS && offset != NULL)
        s = check_operand(offset, &of, "offset", ACL_FLOAT, ACL_FLOAT, &no, api);
    if (s == ACLNN_SUCCESS)
        s = check_operand(out, &wd, "out", ACL_UINT64, ACL_INT64, &nout, api);
    if (s != ACLNN_SUCCESS)
        return s;
    if (so->view_ndim == 2 && so->view[0] != 1)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "scale: a 2-D scale must be (1, n)");
    if (oo != NULL && oo->view_ndim == 2 && oo->view[0] != 1)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "offset: a 2-D offset must be (1, n)");
    uint64_t n = ns > no ? ns : no;
    if ((ns != 1 && ns != n) || (no > 1 && no != n))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "scale has %llu and offset %llu elements: each must be 1 or the same n",
                       (unsigned long long)ns, (unsigned long long)no);
    int out_ok = so->view_ndim == 1 ? wo->view_ndim == 1 && nout == n
                                    : same_view(wo, so) && ns == n;
    if (!out_ok)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "out must be (%llu) for a 1-D scale, or scale's shape for a 2-D scale "
                       "(got %llu dims, %llu elements)",
                       (unsigned long long)n, (unsigned long long)wo->view_ndim,
                       (unsigned long long)nout);
    qc_executor *e = qc_calloc(1, sizeof *e);
    if (e == NULL)
        return qc_fail(ACLNN_ERR_INNER, api, "out of memory");
    e->kind = QC_EXEC_TRANS_QUANT;
    e->workspace_size = 0;
    e->u.tq.scale = scale;
    e->u.tq.offset = offset;
    e->u.tq.out = out;
    e->u.tq.scale_count = ns;
    e->u.tq.offset_count = no;
    e->u.tq.n = n;
    s = qc_pin_tensor(&e->pins, so, "scale", api);
    if (s == ACLNN_SUCCESS && oo != NULL)
        s = qc_pin_tensor(&e->pins, oo, "offset", api);
    if (s == ACLNN_SUCCESS)
        s = qc_pin_tensor(&e->pins, wo, "out", api);
    if (s != ACLNN_SUCCESS) {
        qc_executor_free(e, NULL);
        return s;
    }
    return qc_executor_publish(e, executor, api);
}

static const void *elem0(const aclTensor *t, size_t size)
{
    return (const char *)t->data + (size_t)t->offset * size;
}

aclnnStatus aclnnTransQuantParamV2(void *workspace, uint64_t workspaceSize, aclOpExecutor *executor,
                                   const aclrtStream stream)
{
    const char *api = "aclnnTransQuantParamV2";
    (void)workspace; /* no workspace is needed */
    (void)workspaceSize;
    if (executor == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "executor is NULL");
    qc_executor *e = qc_reg_take_executor(executor, QC_EXEC_TRANS_QUANT);
    if (e == NULL)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "executor %p is not a live TransQuantParamV2 executor", (void *)executor);
    qc_executor job = *e;
    qc_executor_free(e, executor);
    if (!qc_stream_ok(stream))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "stream %p is not a live stream", stream);
    aclTensor scale_d, offset_d, out_d; /* copies of the descriptors */
    const aclTensor *scale = &scale_d, *out = &out_d;
    const aclTensor *offset = job.u.tq.offset != NULL ? &offset_d : NULL;
    if (!qc_tensor_read(job.u.tq.scale, &scale_d) || !qc_tensor_read(job.u.tq.out, &out_d) ||
        (offset != NULL && !qc_tensor_read(job.u.tq.offset, &offset_d)))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "a tensor was destroyed before the run");
    aclnnStatus pinned = qc_pins_hold(&job.pins, api);
    if (pinned != ACLNN_SUCCESS)
        return pinned;
    uint64_t ns = job.u.tq.scale_count, no = job.u.tq.offset_count, n = job.u.tq.n;
    /* Copies in and out, so out may share memory with scale or offset. */
    float *sc = qc_malloc((size_t)ns * sizeof *sc);
    float *of = no > 0 ? qc_malloc((size_t)no * sizeof *of) : NULL;
    uint64_t *words = qc_malloc((size_t)n * sizeof *words);
    aclnnStatus s = ACLNN_SUCCESS;
    if (sc == NULL || (no > 0 && of == NULL) || words == NULL) {
        s = qc_fail(ACLNN_ERR_INNER, api, "out of memory");
    } else {
        memcpy(sc, elem0(scale, sizeof *sc), (size_t)ns * sizeof *sc);
        if (no > 0)
            memcpy(of, elem0(offset, sizeof *of), (size_t)no * sizeof *of);
        qmar_status q = qmar_trans_quant_param_v2(sc, ns, of, no, words, n);
        if (q != QMAR_SUCCESS)
            s = qc_fail_qmar(q, api);
        else
            memcpy((char *)out->data + (size_t)out->offset * sizeof *words, words,
                   (size_t)n * sizeof *words);
    }
    free(sc);
    free(of);
    qc_pins_drop(&job.pins);
    free(words);
    return s;
}
