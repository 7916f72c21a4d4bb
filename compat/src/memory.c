/* "Device" memory is host memory. Every block is registered with its size, so frees of foreign
 * or freed pointers, and copies that would leave a block, are refused with a status code. */
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
    if (posix_memalign(&p, BLOCK_ALIGN, size) != 0)
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
    if (!qc_reg_take(ptr, kind, NULL))
        return qc_fail(ACL_ERROR_INVALID_PARAM, api,
                       "%p is not the start of a live block from %s (freed twice, or foreign)",
                       ptr, kind == QC_ALLOC ? "aclrtMalloc" : "aclrtMallocHost");
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
