/* SPDX-License-Identifier: Apache-2.0 */
/* Tensor descriptors: recorded as given, rejected only by the operator's validator. */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "tensor.h"

uint64_t qmar_dtype_size(qmar_dtype dtype)
{
    switch (dtype) {
    case QMAR_INT8: case QMAR_UINT8: case QMAR_BOOL: return 1;
    case QMAR_FLOAT16: case QMAR_BF16: case QMAR_INT16: case QMAR_UINT16: return 2;
    case QMAR_FLOAT: case QMAR_INT32: case QMAR_UINT32: return 4;
    case QMAR_INT64: case QMAR_UINT64: case QMAR_DOUBLE: return 8;
    default: return 0;
    }
}

qmar_tensor *qmar_tensor_create(const int64_t *view_dims, uint64_t view_ndim, qmar_dtype dtype,
                                const int64_t *strides, int64_t offset, qmar_format format,
                                const int64_t *storage_dims, uint64_t storage_ndim, void *data)
{
    /* Only what cannot be stored is refused here; everything odd is kept for the validator. */
    if (view_ndim > QMAR_MAX_DIMS || storage_ndim > QMAR_MAX_DIMS)
        return NULL;
    if ((view_dims == NULL && view_ndim > 0) || (storage_dims == NULL && storage_ndim > 0))
        return NULL;
    qmar_tensor *t = qmar__calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->view_ndim = view_ndim;
    if (view_ndim > 0)
        memcpy(t->view_dims, view_dims, view_ndim * sizeof *view_dims);
    t->has_strides = strides != NULL;
    if (strides != NULL && view_ndim > 0)
        memcpy(t->strides, strides, view_ndim * sizeof *strides);
    t->offset = offset;
    t->dtype = (int32_t)dtype;
    t->format = (int32_t)format;
    t->storage_ndim = storage_ndim;
    if (storage_ndim > 0)
        memcpy(t->storage_dims, storage_dims, storage_ndim * sizeof *storage_dims);
    t->data = data;
    return t;
}

void qmar_tensor_destroy(qmar_tensor *t)
{
    free(t);
}
