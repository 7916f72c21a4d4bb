/* SPDX-License-Identifier: Apache-2.0 */
// The aclTensor getters that return arrays. CANN documents that the caller releases them with
// delete[], so they are allocated with new[] here (the one C++ file of the compat library).
#include <cstring>
#include <new>

#include "compat.h"

namespace {

enum class Field { view, storage, strides };

aclnnStatus copy_out(const aclTensor *t, Field field, int64_t **out, uint64_t *count,
                     const char *api)
{
    if (t == nullptr || out == nullptr || count == nullptr)
        return qc_fail(ACLNN_ERR_PARAM_NULLPTR, api, "%s is NULL",
                       t == nullptr     ? "tensor"
                       : out == nullptr ? "the array pointer"
                                        : "the count pointer");
    aclTensor copy; // read under the registry's lock: a concurrent destroy cannot free it
    if (!qc_tensor_read(t, &copy))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%p is not a live aclTensor",
                       static_cast<const void *>(t));
    t = &copy;
    const int64_t *src = field == Field::view      ? t->view
                         : field == Field::storage ? t->storage
                                                   : t->strides;
    uint64_t n = field == Field::storage ? t->storage_ndim : t->view_ndim;
    int64_t *a = qc_fault_alloc_fails() ? nullptr
                                        : new (std::nothrow) int64_t[n > 0 ? n : 1];
    if (a == nullptr)
        return qc_fail(ACLNN_ERR_INNER, api, "out of memory");
    if (n > 0)
        std::memcpy(a, src, n * sizeof *a);
    *out = a;
    *count = n;
    return ACLNN_SUCCESS;
}

} // namespace

extern "C" {

aclnnStatus aclGetViewShape(const aclTensor *tensor, int64_t **viewDims, uint64_t *viewDimsNum)
{
    return copy_out(tensor, Field::view, viewDims, viewDimsNum, "aclGetViewShape");
}

aclnnStatus aclGetStorageShape(const aclTensor *tensor, int64_t **storageDims,
                               uint64_t *storageDimsNum)
{
    return copy_out(tensor, Field::storage, storageDims, storageDimsNum, "aclGetStorageShape");
}

aclnnStatus aclGetViewStrides(const aclTensor *tensor, int64_t **stridesValue,
                              uint64_t *stridesNum)
{
    return copy_out(tensor, Field::strides, stridesValue, stridesNum, "aclGetViewStrides");
}

} // extern "C"
