/* SPDX-License-Identifier: Apache-2.0 */
/* aclTensor and aclIntArray: recorded as given (the operators validate), registered while alive
 * under handles that are never reused (registry.c).
 * The array-returning getters are in getters.cpp (they allocate with new[], as CANN's do). */
#include <stdlib.h>
#include <string.h>

#include "compat.h"

uint64_t qc_elem_count(const int64_t *dims, uint64_t ndim)
{
    uint64_t n = 1;
    for (uint64_t i = 0; i < ndim; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && n > UINT64_MAX / (uint64_t)dims[i]))
            return 0;
        n *= (uint64_t)dims[i];
    }
    return n;
}

aclTensor *aclCreateTensor(const int64_t *viewDims, uint64_t viewDimsNum, aclDataType dataType,
                           const int64_t *stride, int64_t offset, aclFormat format,
                           const int64_t *storageDims, uint64_t storageDimsNum, void *tensorData)
{
    if (viewDimsNum > QC_MAX_DIMS || storageDimsNum > QC_MAX_DIMS) {
        qc_fail(ACLNN_ERR_PARAM_INVALID, "aclCreateTensor",
                "%llu view / %llu storage dims: at most %d are supported",
                (unsigned long long)viewDimsNum, (unsigned long long)storageDimsNum, QC_MAX_DIMS);
        return NULL;
    }
    if ((viewDims == NULL && viewDimsNum > 0) || (storageDims == NULL && storageDimsNum > 0)) {
        qc_fail(ACLNN_ERR_PARAM_NULLPTR, "aclCreateTensor", "%s is NULL with a count > 0",
                viewDims == NULL && viewDimsNum > 0 ? "viewDims" : "storageDims");
        return NULL;
    }
    aclTensor *t = qc_calloc(1, sizeof *t);
    if (t == NULL) {
        qc_fail(ACLNN_ERR_INNER, "aclCreateTensor", "out of memory");
        return NULL;
    }
    t->view_ndim = viewDimsNum;
    if (viewDimsNum > 0)
        memcpy(t->view, viewDims, viewDimsNum * sizeof *viewDims);
    t->has_strides = stride != NULL;
    if (stride != NULL && viewDimsNum > 0) {
        memcpy(t->strides, stride, viewDimsNum * sizeof *stride);
    } else {
        /* Row-major, for the getters only; wrapping arithmetic keeps odd dims defined. */
        uint64_t s = 1;
        for (uint64_t i = viewDimsNum; i-- > 0;) {
            t->strides[i] = (int64_t)s;
            s *= (uint64_t)viewDims[i];
        }
    }
    t->offset = offset;
    t->dtype = (int32_t)dataType;
    t->format = (int32_t)format;
    t->storage_ndim = storageDimsNum;
    if (storageDimsNum > 0)
        memcpy(t->storage, storageDims, storageDimsNum * sizeof *storageDims);
    t->data = tensorData;
    const void *handle;
    if (qc_reg_add_handle(t, sizeof *t, QC_TENSOR, &handle) != 0) {
        free(t);
        qc_fail(ACLNN_ERR_INNER, "aclCreateTensor", "out of memory (registry)");
        return NULL;
    }
    return (aclTensor *)(uintptr_t)handle;
}

int qc_tensor_read(const aclTensor *handle, aclTensor *copy)
{
    return qc_reg_read(handle, QC_TENSOR, copy, sizeof *copy) == sizeof *copy;
}

aclnnStatus aclDestroyTensor(const aclTensor *tensor)
{
    if (tensor == NULL)
        return ACLNN_SUCCESS; /* like free(NULL) */
    aclTensor *t = qc_reg_take_obj(tensor, QC_TENSOR);
    if (t == NULL)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, "aclDestroyTensor",
                       "%p is not a live aclTensor (destroyed twice, or foreign)",
                       (const void *)tensor);
    free(t);
    return ACLNN_SUCCESS;
}

aclIntArray *aclCreateIntArray(const int64_t *value, uint64_t size)
{
    if (value == NULL && size > 0) {
        qc_fail(ACLNN_ERR_PARAM_NULLPTR, "aclCreateIntArray", "value is NULL with size %llu",
                (unsigned long long)size);
        return NULL;
    }
    if (size > (uint64_t)(SIZE_MAX / sizeof(int64_t))) {
        qc_fail(ACLNN_ERR_PARAM_INVALID, "aclCreateIntArray", "size %llu is too large",
                (unsigned long long)size);
        return NULL;
    }
    size_t bytes = sizeof(aclIntArray) + (size_t)size * sizeof(int64_t);
    aclIntArray *a = qc_malloc(bytes);
    const void *handle = NULL;
    if (a != NULL) {
        a->size = size;
        if (size > 0)
            memcpy(a->values, value, (size_t)size * sizeof *value);
    }
    if (a == NULL || qc_reg_add_handle(a, bytes, QC_INT_ARRAY, &handle) != 0) {
        free(a);
        qc_fail(ACLNN_ERR_INNER, "aclCreateIntArray", "out of memory");
        return NULL;
    }
    return (aclIntArray *)(uintptr_t)handle;
}

aclnnStatus aclDestroyIntArray(const aclIntArray *array)
{
    if (array == NULL)
        return ACLNN_SUCCESS;
    aclIntArray *a = qc_reg_take_obj(array, QC_INT_ARRAY);
    if (a == NULL)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, "aclDestroyIntArray",
                       "%p is not a live aclIntArray", (const void *)array);
    free(a);
    return ACLNN_SUCCESS;
}

/* A copy of the tensor behind a handle in *t: 0, or 161001 (NULL) or 161002 (not a live
 * tensor). */
static aclnnStatus live_tensor(const aclTensor *tensor, const void *out, aclTensor *t,
                               const char *api)
{
    if (tensor == NULL || out == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "%s is NULL",
                       tensor == NULL ? "tensor" : "output");
    if (!qc_tensor_read(tensor, t))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%p is not a live aclTensor",
                       (const void *)tensor);
    return ACLNN_SUCCESS;
}

aclnnStatus aclGetViewOffset(const aclTensor *tensor, int64_t *offset)
{
    aclTensor t;
    aclnnStatus s = live_tensor(tensor, offset, &t, "aclGetViewOffset");
    if (s == ACLNN_SUCCESS)
        *offset = t.offset;
    return s;
}

aclnnStatus aclGetFormat(const aclTensor *tensor, aclFormat *format)
{
    aclTensor t;
    aclnnStatus s = live_tensor(tensor, format, &t, "aclGetFormat");
    if (s == ACLNN_SUCCESS)
        *format = (aclFormat)t.format;
    return s;
}

aclnnStatus aclGetDataType(const aclTensor *tensor, aclDataType *dataType)
{
    aclTensor t;
    aclnnStatus s = live_tensor(tensor, dataType, &t, "aclGetDataType");
    if (s == ACLNN_SUCCESS)
        *dataType = (aclDataType)t.dtype;
    return s;
}

aclnnStatus aclGetRawTensorAddr(const aclTensor *tensor, void **addr)
{
    aclTensor t;
    aclnnStatus s = live_tensor(tensor, addr, &t, "aclGetRawTensorAddr");
    if (s == ACLNN_SUCCESS)
        *addr = t.data;
    return s;
}

aclnnStatus aclGetIntArraySize(const aclIntArray *array, uint64_t *size)
{
    if (array == NULL || size == NULL)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, "aclGetIntArraySize", "%s is NULL",
                       array == NULL ? "array" : "size");
    aclIntArray a;
    if (qc_reg_read(array, QC_INT_ARRAY, &a, sizeof a) != sizeof a)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, "aclGetIntArraySize",
                       "%p is not a live aclIntArray", (const void *)array);
    *size = a.size;
    return ACLNN_SUCCESS;
}

/* ---- layout predicates, as qmar's validator defines them (spec/validation.md) --------------- */

int qc_is_contiguous(const aclTensor *t)
{
    if (!t->has_strides)
        return 1;
    uint64_t rs = 1;
    for (uint64_t i = t->view_ndim; i-- > 0;) {
        if (t->view[i] != 1 && (uint64_t)t->strides[i] != rs)
            return 0;
        rs *= (uint64_t)t->view[i];
    }
    return 1;
}

int qc_is_transposed(const aclTensor *t)
{
    if (t->view_ndim != 2 || qc_is_contiguous(t))
        return 0;
    int64_t k = t->view[0], n = t->view[1];
    return (k == 1 || t->strides[0] == 1) && (n == 1 || t->strides[1] == k);
}
