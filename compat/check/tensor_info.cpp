/* SPDX-License-Identifier: Apache-2.0 */
// Test-only: reads an aclTensor through CANN's public getters (the arrays they return are
// released with delete[], as CANN documents), so the check library needs no compat internals.
#include <cstring>

#include "tensor_info.h"

namespace {

int take(int64_t *arr, uint64_t n, int64_t *dst, uint64_t *count)
{
    int ok = n <= CC_MAX_DIMS;
    if (ok) {
        std::memcpy(dst, arr, n * sizeof *arr);
        *count = n;
    }
    delete[] arr;
    return ok ? 0 : -1;
}

} // namespace

extern "C" int cc_tensor_info(const aclTensor *t, cc_tensor *out)
{
    std::memset(out, 0, sizeof *out);
    aclDataType dt;
    aclFormat fmt;
    int64_t *arr = nullptr;
    uint64_t n = 0, strides_n = 0;
    if (aclGetDataType(t, &dt) != 0 || aclGetFormat(t, &fmt) != 0 ||
        aclGetViewOffset(t, &out->offset) != 0 || aclGetRawTensorAddr(t, &out->data) != 0)
        return -1;
    out->dtype = dt;
    out->format = fmt;
    if (aclGetViewShape(t, &arr, &n) != 0 || take(arr, n, out->view, &out->ndim) != 0)
        return -1;
    if (aclGetViewStrides(t, &arr, &n) != 0 || take(arr, n, out->strides, &strides_n) != 0)
        return -1;
    if (aclGetStorageShape(t, &arr, &n) != 0 || take(arr, n, out->storage, &out->storage_ndim) != 0)
        return -1;
    return strides_n == out->ndim ? 0 : -1;
}
