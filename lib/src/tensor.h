/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the tensor descriptor, exactly as the caller gave it. */
#ifndef QMAR_SRC_TENSOR_H
#define QMAR_SRC_TENSOR_H
#include <stdint.h>

#include "qmar/qmar.h"

struct qmar_tensor {
    uint64_t view_ndim;              /* <= QMAR_MAX_DIMS */
    int64_t view_dims[QMAR_MAX_DIMS];
    int32_t has_strides;             /* 0: the caller passed NULL (row-major) */
    int64_t strides[QMAR_MAX_DIMS];  /* meaningful only when has_strides */
    int64_t offset;                  /* in elements */
    int32_t dtype;                   /* any int32: qmar_dtype values are not enforced here */
    int32_t format;                  /* any int32: qmar_format values are not enforced here */
    uint64_t storage_ndim;           /* <= QMAR_MAX_DIMS */
    int64_t storage_dims[QMAR_MAX_DIMS];
    void *data;
};

/* The words of spec/validation.md (element size, contiguous, footprint, ...) as ACSL logic. */
#include "../../spec/acsl/tensor.acsl"

/* Contract of the public qmar_dtype_size (qmar.h), proven in tensor.c (proofs/units/tensor). */
/*@ assigns \nothing;
    ensures \result == elem_size(dtype);
*/
uint64_t qmar_dtype_size(qmar_dtype dtype);
#endif
