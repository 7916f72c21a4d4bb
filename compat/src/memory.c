/* SPDX-License-Identifier: Apache-2.0 */
/* "Device" memory is host memory. Every block is registered with its size, so frees of foreign
 * or freed pointers, and copies that would leave a block, are refused with a status code.
 * Executors pin the blocks their tensors lie in (qc_pin_*): a plan whose view leaves its block is
 * refused, and a run whose blocks were freed since (aclrtFree, aclFinalize) fails untouched. */
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#define BLOCK_ALIGN 64 /* cache line; enough for every element type and SIMD load */

static int valid_policy(uint32_t policy)
{
    const uint32_t flags = ACL_MEM_TYPE_LOW_BAND_WIDTH | ACL_MEM_TYPE_HIGH_BAND_WIDTH |
                           ACL_MEM_ACCESS_USER_SPACE_READONLY;
    return (policy & ~flags & ~0xFFu) == 0 && (policy & 0xFFu) <= ACL_MEM_MALLOC_HUGE1G_ONLY_P2P;
}

static aclError alloc_block(void **ptr, size_t size, qc_kind kind, const char *api)
{
    if (ptr == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, api, "the output pointer is NULL");
    if (size == 0)
        return qc_fail(ACL_ERROR_INVALID_PARAM, api, "size is 0");
    void *p = NULL;
    if (qc_memalign(&p, BLOCK_ALIGN, size) != 0)
        return qc_fail(ACL_ERROR_RT_MEMORY_ALLOCATION, api, "out of memory (%zu bytes)", size);
    if (qc_reg_add(p, kind, size) != 0) {
        free(p);
        return qc_fail(ACL_ERROR_RT_MEMORY_ALLOCATION, api, "out of memory (registry)");
    }
    *ptr = p;
    return ACL_SUCCESS;
}

static aclError free_block(void *ptr, qc_kind kind, const char *api)
{
    if (ptr == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, api, "the pointer is NULL");
    int free_now = 0;
    if (!qc_reg_free_block(ptr, kind, &free_now))
        return qc_fail(ACL_ERROR_INVALID_PARAM, api,
                       "%p is not the start of a live block from %s (freed twice, or foreign)",
                       ptr, kind == QC_ALLOC ? "aclrtMalloc" : "aclrtMallocHost");
    if (free_now) /* else a run on another thread uses it: the run frees it when it ends */
        free(ptr);
    return ACL_SUCCESS;
}

aclError aclrtMalloc(void **devPtr, size_t size, aclrtMemMallocPolicy policy)
{
    if (!valid_policy((uint32_t)policy))
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMalloc", "unknown policy 0x%x",
                       (unsigned)policy);
    return alloc_block(devPtr, size, QC_ALLOC, "aclrtMalloc");
}

aclError aclrtFree(void *devPtr)
{
    return free_block(devPtr, QC_ALLOC, "aclrtFree");
}

aclError aclrtMallocHost(void **hostPtr, size_t size)
{
    return alloc_block(hostPtr, size, QC_HOST_ALLOC, "aclrtMallocHost");
}

aclError aclrtFreeHost(void *hostPtr)
{
    return free_block(hostPtr, QC_HOST_ALLOC, "aclrtFreeHost");
}

/* A range that starts inside a registered block must end inside it. Ranges outside every block
 * (the caller's own host memory) cannot be checked and are trusted. */
static int range_ok(const void *p, size_t len)
{
    const void *base;
    uint64_t size;
    return qc_reg_block(p, len, &base, &size) >= 0;
}

aclError aclrtMemcpy(void *dst, size_t destMax, const void *src, size_t count,
                     aclrtMemcpyKind kind)
{
    if (dst == NULL || src == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemcpy", "%s is NULL",
                       dst == NULL ? "dst" : "src");
    if ((unsigned)kind > ACL_MEMCPY_INTER_DEVICE_TO_DEVICE)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemcpy", "unknown kind %d", (int)kind);
    if (count > destMax)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemcpy", "count %zu > destMax %zu", count,
                       destMax);
    if (count == 0)
        return ACL_SUCCESS;
    if (!range_ok(dst, count) || !range_ok(src, count))
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemcpy",
                       "%zu bytes at %s leave its aclrtMalloc block", count,
                       range_ok(dst, count) ? "src" : "dst");
    memmove(dst, src, count);
    return ACL_SUCCESS;
}

aclError aclrtMemcpyAsync(void *dst, size_t destMax, const void *src, size_t count,
                          aclrtMemcpyKind kind, aclrtStream stream)
{
    if (!qc_stream_ok(stream))
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemcpyAsync", "%p is not a live stream",
                       stream);
    return aclrtMemcpy(dst, destMax, src, count, kind);
}

aclError aclrtMemset(void *devPtr, size_t maxCount, int32_t value, size_t count)
{
    if (devPtr == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemset", "devPtr is NULL");
    if (count > maxCount)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemset", "count %zu > maxCount %zu", count,
                       maxCount);
    if (count == 0)
        return ACL_SUCCESS;
    if (!range_ok(devPtr, count))
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemset",
                       "%zu bytes leave the aclrtMalloc block", count);
    memset(devPtr, value, count);
    return ACL_SUCCESS;
}

aclError aclrtMemsetAsync(void *devPtr, size_t maxCount, int32_t value, size_t count,
                          aclrtStream stream)
{
    if (!qc_stream_ok(stream))
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtMemsetAsync", "%p is not a live stream",
                       stream);
    return aclrtMemset(devPtr, maxCount, value, count);
}

/* ---- pins ------------------------------------------------------------------------------------ */

int32_t qc_pin_range(qc_pins *pins, const void *p, uint64_t len, const char *what,
                     const char *api)
{
    const void *base;
    uint64_t size, gen;
    int in = qc_reg_block_gen(p, len, &base, &size, &gen);
    if (in == 0)
        return ACLNN_SUCCESS; /* the caller's own memory: its size is unknown, it is trusted */
    uint64_t at = (uint64_t)((const char *)p - (const char *)base);
    if (in < 0)
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "%s: %llu bytes at offset %llu of its aclrtMalloc block of %llu bytes "
                       "leave the block",
                       what, (unsigned long long)len, (unsigned long long)at,
                       (unsigned long long)size);
    for (uint32_t i = 0; i < pins->n; i++)
        if (pins->pin[i].base == base)
            return ACLNN_SUCCESS; /* pinned already (one generation per live address) */
    if (pins->n == QC_MAX_PINS)
        return qc_fail(ACLNN_ERR_INNER, api, "more than %d memory blocks", QC_MAX_PINS);
    pins->pin[pins->n].base = base;
    pins->pin[pins->n].gen = gen;
    pins->pin[pins->n].what = what;
    pins->n++;
    return ACLNN_SUCCESS;
}

/* The bytes the operator addresses, as spec/validation.md defines a footprint: from element
 * offset, view-count elements (contiguous and transposed views alike); a FRACTAL_NZ tensor
 * covers its whole storage from element 0. Called on tensors the validator accepted. */
int32_t qc_pin_tensor(qc_pins *pins, const aclTensor *t, const char *what, const char *api)
{
    uint64_t es = qmar_dtype_size((qmar_dtype)t->dtype);
    int nz = t->format == ACL_FORMAT_FRACTAL_NZ;
    uint64_t first = nz ? 0 : (uint64_t)t->offset;
    uint64_t count = nz ? (t->storage_ndim == 0 ? 1 : qc_elem_count(t->storage, t->storage_ndim))
                        : qc_elem_count(t->view, t->view_ndim);
    /* Valid tensors hold at most 2^48 elements of at most 8 bytes: no product below wraps. */
    if (t->data == NULL || count == 0 || es == 0 || first > (UINT64_C(1) << 48) ||
        count > (UINT64_C(1) << 48))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api, "%s: no footprint to check", what);
    return qc_pin_range(pins, (const void *)((uintptr_t)t->data + first * es), count * es, what,
                        api);
}

int32_t qc_pins_hold(const qc_pins *pins, const char *api)
{
    uint32_t i = 0;
    if (!qc_reg_hold_blocks(pins, &i))
        return qc_fail(ACLNN_ERR_PARAM_INVALID, api,
                       "%s: its aclrtMalloc block %p was freed (aclrtFree or aclFinalize) "
                       "after the plan; the executor does not touch it",
                       pins->pin[i].what, pins->pin[i].base);
    return ACLNN_SUCCESS;
}

void qc_pins_drop(const qc_pins *pins)
{
    qc_reg_drop_blocks(pins);
}
