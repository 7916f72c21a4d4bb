/* SPDX-License-Identifier: Apache-2.0 */
/* ACL process and thread state: aclInit/aclFinalize, devices, contexts, streams.
 *
 * A device is a number 0..count-1 (QMAR_COMPAT_DEVICE_COUNT, default 8): the rank a thread
 * speaks for. Each thread has a current device and, optionally, a current context (which carries
 * a device). Streams are synchronous, so they carry only the device they were created on. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "compat.h"

#define DEFAULT_DEVICE_COUNT 8
#define MAX_DEVICE_COUNT QMAR_COMM_MAX_RANKS

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;

static _Thread_local int32_t tl_device = -1;
static _Thread_local aclrtContext tl_context; /* a handle; NULL: the device's default context */

/* The default context of each device: what aclrtGetCurrentContext reports after aclrtSetDevice. */
static qc_context default_contexts[MAX_DEVICE_COUNT];

static pthread_once_t count_once = PTHREAD_ONCE_INIT;
static int device_count = DEFAULT_DEVICE_COUNT;

static void read_device_count(void)
{
    for (int d = 0; d < MAX_DEVICE_COUNT; d++)
        default_contexts[d].device = d;
    const char *v = getenv("QMAR_COMPAT_DEVICE_COUNT");
    if (v == NULL || *v == '\0')
        return;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno == 0 && *end == '\0' && n >= 1 && n <= MAX_DEVICE_COUNT)
        device_count = (int)n;
    else /* one line, as qmar's own variables do: a typo must not pass unnoticed */
        fprintf(stderr,
                "[qmar-compat] QMAR_COMPAT_DEVICE_COUNT=\"%.40s\" is not an integer in 1..%d: "
                "using %d devices\n",
                v, MAX_DEVICE_COUNT, DEFAULT_DEVICE_COUNT);
}

int qc_device_count(void)
{
    pthread_once(&count_once, read_device_count);
    return device_count;
}

static int valid_device(int32_t d)
{
    return d >= 0 && d < qc_device_count();
}

/* One of default_contexts exactly (compared as integers: c may be any pointer at all). */
static int is_default_context(const void *c)
{
    uintptr_t p = (uintptr_t)c, base = (uintptr_t)default_contexts;
    return p >= base && p - base < sizeof default_contexts && (p - base) % sizeof(qc_context) == 0;
}

/* The device of a live context (a default context is its own object): 1, or 0 if not live. */
static int context_device(const void *handle, int32_t *device)
{
    qc_context c;
    if (is_default_context(handle))
        c = *(const qc_context *)handle;
    else if (qc_reg_read(handle, QC_CONTEXT, &c, sizeof c) != sizeof c)
        return 0;
    *device = c.device;
    return 1;
}

/* The calling thread's device: from its live context, else from aclrtSetDevice; -1 if none. */
int32_t qc_current_device(void)
{
    if (tl_context != NULL) {
        int32_t d;
        if (context_device(tl_context, &d))
            return d;
        tl_context = NULL; /* destroyed by another thread: no current context any more */
        tl_device = -1;
    }
    return tl_device;
}

/* ---- process --------------------------------------------------------------------------------- */

aclError aclInit(const char *configPath)
{
    (void)configPath;
    pthread_mutex_lock(&state_lock);
    int again = initialized;
    initialized = 1;
    pthread_mutex_unlock(&state_lock);
    if (again)
        return qc_fail(ACL_ERROR_REPEAT_INITIALIZE, "aclInit", "already initialized");
    qc_device_count();
    return ACL_SUCCESS;
}

static void release_block(void *p)
{
    free(p);
}

aclError aclFinalize(void)
{
    pthread_mutex_lock(&state_lock);
    int was = initialized;
    initialized = 0;
    pthread_mutex_unlock(&state_lock);
    if (!was)
        return qc_fail(ACL_ERROR_REPEAT_FINALIZE, "aclFinalize", "not initialized");
    /* What the runtime owns goes with it; host-side descriptors (tensors, executors,
     * communicators) stay with the caller, as on CANN. */
    qc_reg_drain(QC_STREAM, release_block);
    qc_reg_drain(QC_CONTEXT, release_block);
    qc_reg_drain(QC_ALLOC, release_block);
    qc_reg_drain(QC_HOST_ALLOC, release_block);
    tl_context = NULL;
    tl_device = -1;
    return ACL_SUCCESS;
}

aclError aclrtGetVersion(int32_t *majorVersion, int32_t *minorVersion, int32_t *patchVersion)
{
    if (majorVersion == NULL || minorVersion == NULL || patchVersion == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtGetVersion", "an output pointer is NULL");
    *majorVersion = ACL_MAJOR_VERSION;
    *minorVersion = ACL_MINOR_VERSION;
    *patchVersion = ACL_PATCH_VERSION;
    return ACL_SUCCESS;
}

aclnnStatus aclnnInit(const char *configPath)
{
    (void)configPath;
    qc_device_count();
    return ACLNN_SUCCESS;
}

aclnnStatus aclnnFinalize(void)
{
    return ACLNN_SUCCESS;
}

/* ---- devices --------------------------------------------------------------------------------- */

aclError aclrtSetDevice(int32_t deviceId)
{
    if (!valid_device(deviceId))
        return qc_fail(ACL_ERROR_RT_INVALID_DEVICEID, "aclrtSetDevice",
                       "device %d is not in 0..%d (QMAR_COMPAT_DEVICE_COUNT)", (int)deviceId,
                       qc_device_count() - 1);
    tl_device = deviceId;
    tl_context = NULL;
    return ACL_SUCCESS;
}

aclError aclrtResetDevice(int32_t deviceId)
{
    if (!valid_device(deviceId))
        return qc_fail(ACL_ERROR_RT_INVALID_DEVICEID, "aclrtResetDevice",
                       "device %d is not in 0..%d", (int)deviceId, qc_device_count() - 1);
    if (qc_current_device() == deviceId) {
        tl_device = -1;
        tl_context = NULL;
    }
    return ACL_SUCCESS;
}

aclError aclrtGetDevice(int32_t *deviceId)
{
    if (deviceId == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtGetDevice", "deviceId is NULL");
    int32_t d = qc_current_device();
    if (d < 0)
        return qc_fail(ACL_ERROR_RT_CONTEXT_NULL, "aclrtGetDevice",
                       "no current device on this thread (aclrtSetDevice or a context first)");
    *deviceId = d;
    return ACL_SUCCESS;
}

aclError aclrtGetDeviceCount(uint32_t *count)
{
    if (count == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtGetDeviceCount", "count is NULL");
    *count = (uint32_t)qc_device_count();
    return ACL_SUCCESS;
}

aclError aclrtGetRunMode(aclrtRunMode *runMode)
{
    if (runMode == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtGetRunMode", "runMode is NULL");
    *runMode = ACL_HOST;
    return ACL_SUCCESS;
}

aclError aclrtSynchronizeDevice(void)
{
    return ACL_SUCCESS; /* nothing is ever pending */
}

/* ---- contexts -------------------------------------------------------------------------------- */

aclError aclrtCreateContext(aclrtContext *context, int32_t deviceId)
{
    if (context == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtCreateContext", "context is NULL");
    if (!valid_device(deviceId))
        return qc_fail(ACL_ERROR_RT_INVALID_DEVICEID, "aclrtCreateContext",
                       "device %d is not in 0..%d", (int)deviceId, qc_device_count() - 1);
    qc_context *c = qc_malloc(sizeof *c);
    const void *handle = NULL;
    if (c != NULL)
        c->device = deviceId;
    if (c == NULL || qc_reg_add_handle(c, sizeof *c, QC_CONTEXT, &handle) != 0) {
        free(c);
        return qc_fail(ACL_ERROR_RT_MEMORY_ALLOCATION, "aclrtCreateContext", "out of memory");
    }
    tl_context = (aclrtContext)(uintptr_t)handle;
    tl_device = deviceId;
    *context = tl_context;
    return ACL_SUCCESS;
}

aclError aclrtDestroyContext(aclrtContext context)
{
    if (context == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtDestroyContext", "context is NULL");
    qc_context *c = qc_reg_take_obj(context, QC_CONTEXT);
    if (c == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtDestroyContext",
                       "%p is not a live context (a default context, destroyed, or foreign)",
                       context);
    if (tl_context == context) { /* the thread is left without a current context */
        tl_context = NULL;
        tl_device = -1;
    }
    free(c);
    return ACL_SUCCESS;
}

aclError aclrtSetCurrentContext(aclrtContext context)
{
    if (context == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtSetCurrentContext", "context is NULL");
    qc_device_count();
    int32_t d;
    if (!context_device(context, &d))
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtSetCurrentContext",
                       "%p is not a live context", context);
    tl_context = context;
    tl_device = d;
    return ACL_SUCCESS;
}

aclError aclrtGetCurrentContext(aclrtContext *context)
{
    if (context == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtGetCurrentContext", "context is NULL");
    int32_t d = qc_current_device();
    if (d < 0)
        return qc_fail(ACL_ERROR_RT_CONTEXT_NULL, "aclrtGetCurrentContext",
                       "no current context on this thread");
    *context = tl_context != NULL ? tl_context : (aclrtContext)&default_contexts[d];
    return ACL_SUCCESS;
}

/* ---- streams --------------------------------------------------------------------------------- */

int qc_stream_ok(aclrtStream stream)
{
    return stream == NULL || qc_reg_has(stream, QC_STREAM);
}

static aclError create_stream(aclrtStream *stream, const char *api)
{
    if (stream == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, api, "stream is NULL");
    int32_t d = qc_current_device();
    if (d < 0)
        return qc_fail(ACL_ERROR_RT_CONTEXT_NULL, api,
                       "no current device or context on this thread (aclrtSetDevice first)");
    qc_stream *s = qc_malloc(sizeof *s);
    const void *handle = NULL;
    if (s != NULL)
        s->device = d;
    if (s == NULL || qc_reg_add_handle(s, sizeof *s, QC_STREAM, &handle) != 0) {
        free(s);
        return qc_fail(ACL_ERROR_RT_MEMORY_ALLOCATION, api, "out of memory");
    }
    *stream = (aclrtStream)(uintptr_t)handle;
    return ACL_SUCCESS;
}

aclError aclrtCreateStream(aclrtStream *stream)
{
    return create_stream(stream, "aclrtCreateStream");
}

aclError aclrtCreateStreamWithConfig(aclrtStream *stream, uint32_t priority, uint32_t flag)
{
    (void)priority; /* one synchronous stream is as good as any other */
    (void)flag;
    return create_stream(stream, "aclrtCreateStreamWithConfig");
}

aclError aclrtDestroyStream(aclrtStream stream)
{
    if (stream == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtDestroyStream", "stream is NULL");
    qc_stream *s = qc_reg_take_obj(stream, QC_STREAM);
    if (s == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtDestroyStream",
                       "%p is not a live stream", stream);
    free(s);
    return ACL_SUCCESS;
}

static aclError check_stream(aclrtStream stream, const char *api)
{
    if (!qc_stream_ok(stream))
        return qc_fail(ACL_ERROR_INVALID_PARAM, api, "%p is not a live stream", stream);
    return ACL_SUCCESS;
}

aclError aclrtSynchronizeStream(aclrtStream stream)
{
    return check_stream(stream, "aclrtSynchronizeStream");
}

aclError aclrtSynchronizeStreamWithTimeout(aclrtStream stream, int32_t timeout)
{
    if (timeout < -1)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtSynchronizeStreamWithTimeout",
                       "timeout %d < -1", (int)timeout);
    return check_stream(stream, "aclrtSynchronizeStreamWithTimeout");
}

aclError aclrtStreamQuery(aclrtStream stream, aclrtStreamStatus *status)
{
    if (status == NULL)
        return qc_fail(ACL_ERROR_INVALID_PARAM, "aclrtStreamQuery", "status is NULL");
    aclError e = check_stream(stream, "aclrtStreamQuery");
    if (e == ACL_SUCCESS)
        *status = ACL_STREAM_STATUS_COMPLETE;
    return e;
}
