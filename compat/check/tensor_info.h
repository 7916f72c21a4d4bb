/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only: one aclTensor's description, read through CANN's public getters. */
#ifndef QMAR_COMPAT_CHECK_TENSOR_INFO_H
#define QMAR_COMPAT_CHECK_TENSOR_INFO_H
#include <stdint.h>

#include "aclnn/acl_meta.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CC_MAX_DIMS 8

typedef struct cc_tensor {
    int32_t dtype, format;
    uint64_t ndim; /* view */
    int64_t view[CC_MAX_DIMS], strides[CC_MAX_DIMS];
    uint64_t storage_ndim;
    int64_t storage[CC_MAX_DIMS];
    int64_t offset;
    void *data;
} cc_tensor;

/* 0 and *out filled, or -1 (a getter failed, or more than CC_MAX_DIMS dims). */
int cc_tensor_info(const aclTensor *t, cc_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
