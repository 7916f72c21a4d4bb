/* SPDX-License-Identifier: Apache-2.0 */
/* The compat layer's contract, call by call: CANN's status codes on every error path the layer
 * checks, the meaning it gives devices, contexts, streams and memory, the weight and quant-param
 * helpers against the model, HCCL communicators, and the operator (V3, V2, V1) against the model
 * on 1 and 2 ranks. The host programs under compat/samples cover the 8-rank runs. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aclnnop/aclnn_quant_matmul_all_reduce.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v2.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "check.h"
#include "model.h"
#include "tensor_info.h"

static aclTensor *nd(const int64_t *dims, uint64_t ndim, aclDataType dt, void *data)
{
    return aclCreateTensor(dims, ndim, dt, NULL, 0, ACL_FORMAT_ND, dims, ndim, data);
}

static void *run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *ret = NULL;
    pthread_create(&t, NULL, fn, arg);
    pthread_join(t, &ret);
    return ret;
}

/* ---- process, devices, contexts, streams ----------------------------------------------------- */

static void test_init(void)
{
    CHECK_EQ_I64(aclInit(NULL), ACL_SUCCESS);
    CHECK_EQ_I64(aclInit(NULL), ACL_ERROR_REPEAT_INITIALIZE);
    CHECK_EQ_I64(aclFinalize(), ACL_SUCCESS);
    CHECK_EQ_I64(aclFinalize(), ACL_ERROR_REPEAT_FINALIZE);
    CHECK_EQ_I64(aclInit("/nonexistent/acl.json"), ACL_SUCCESS); /* the path is not read */
    CHECK_EQ_I64(aclnnInit(NULL), ACLNN_SUCCESS);
    int32_t major = 0, minor = 0, patch = -1;
    CHECK_EQ_I64(aclrtGetVersion(&major, &minor, &patch), ACL_SUCCESS);
    CHECK(major == ACL_MAJOR_VERSION && minor == ACL_MINOR_VERSION && patch == ACL_PATCH_VERSION);
    CHECK_EQ_I64(aclrtGetVersion(NULL, &minor, &patch), ACL_ERROR_INVALID_PARAM);
}

static void *fresh_thread_device(void *arg)
{
    (void)arg;
    static int32_t results[2];
    int32_t d = -5;
    aclrtStream s = NULL;
    results[0] = aclrtGetDevice(&d);
    results[1] = aclrtCreateStream(&s);
    return results;
}

static void test_devices(void)
{
    uint32_t count = 0;
    CHECK_EQ_I64(aclrtGetDeviceCount(&count), ACL_SUCCESS);
    CHECK_EQ_I64(count, 8);
    CHECK_EQ_I64(aclrtGetDeviceCount(NULL), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSetDevice(-1), ACL_ERROR_RT_INVALID_DEVICEID);
    CHECK_EQ_I64(aclrtSetDevice(8), ACL_ERROR_RT_INVALID_DEVICEID);
    CHECK_EQ_I64(aclrtResetDevice(99), ACL_ERROR_RT_INVALID_DEVICEID);
    int32_t *fresh = run_thread(fresh_thread_device, NULL);
    CHECK_EQ_I64(fresh[0], ACL_ERROR_RT_CONTEXT_NULL); /* a new thread has no device */
    CHECK_EQ_I64(fresh[1], ACL_ERROR_RT_CONTEXT_NULL);
    int32_t d = -1;
    CHECK_EQ_I64(aclrtSetDevice(3), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtGetDevice(&d), ACL_SUCCESS);
    CHECK_EQ_I64(d, 3);
    CHECK_EQ_I64(aclrtGetDevice(NULL), ACL_ERROR_INVALID_PARAM);
    aclrtRunMode mode = ACL_DEVICE;
    CHECK_EQ_I64(aclrtGetRunMode(&mode), ACL_SUCCESS);
    CHECK_EQ_I64(mode, ACL_HOST);
    aclrtContext def = NULL;
    CHECK_EQ_I64(aclrtGetCurrentContext(&def), ACL_SUCCESS); /* the device's default context */
    CHECK(def != NULL);
    CHECK_EQ_I64(aclrtSetCurrentContext(def), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyContext(def), ACL_ERROR_INVALID_PARAM); /* not destroyable */
    CHECK_EQ_I64(aclrtSynchronizeDevice(), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtResetDevice(3), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtGetDevice(&d), ACL_ERROR_RT_CONTEXT_NULL);
}

static void test_contexts(void)
{
    aclrtContext c = NULL, c2 = NULL, cur = NULL;
    int32_t d = -1;
    CHECK_EQ_I64(aclrtCreateContext(NULL, 0), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtCreateContext(&c, 64), ACL_ERROR_RT_INVALID_DEVICEID);
    CHECK_EQ_I64(aclrtCreateContext(&c, 5), ACL_SUCCESS); /* and it becomes current */
    CHECK_EQ_I64(aclrtGetDevice(&d), ACL_SUCCESS);
    CHECK_EQ_I64(d, 5);
    CHECK_EQ_I64(aclrtGetCurrentContext(&cur), ACL_SUCCESS);
    CHECK(cur == c);
    CHECK_EQ_I64(aclrtCreateContext(&c2, 2), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtGetDevice(&d), ACL_SUCCESS);
    CHECK_EQ_I64(d, 2);
    CHECK_EQ_I64(aclrtSetCurrentContext(c), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtGetDevice(&d), ACL_SUCCESS);
    CHECK_EQ_I64(d, 5);
    CHECK_EQ_I64(aclrtSetCurrentContext(NULL), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSetCurrentContext(&d), ACL_ERROR_INVALID_PARAM); /* foreign pointer */
    CHECK_EQ_I64(aclrtDestroyContext(c2), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyContext(c), ACL_SUCCESS); /* the current one: none is left */
    CHECK_EQ_I64(aclrtGetDevice(&d), ACL_ERROR_RT_CONTEXT_NULL);
    CHECK_EQ_I64(aclrtDestroyContext(c), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSetCurrentContext(c), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtDestroyContext(NULL), ACL_ERROR_INVALID_PARAM);
}

static void test_streams(void)
{
    aclrtStream s = NULL, s2 = NULL;
    aclrtStreamStatus st = ACL_STREAM_STATUS_NOT_READY;
    CHECK_EQ_I64(aclrtSetDevice(0), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtCreateStream(NULL), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtCreateStream(&s), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtCreateStreamWithConfig(&s2, 0, 0), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtSynchronizeStream(s), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtSynchronizeStream(NULL), ACL_SUCCESS); /* the default stream */
    CHECK_EQ_I64(aclrtSynchronizeStreamWithTimeout(s, -1), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtSynchronizeStreamWithTimeout(s, 0), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtSynchronizeStreamWithTimeout(s, -2), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtStreamQuery(s, &st), ACL_SUCCESS);
    CHECK_EQ_I64(st, ACL_STREAM_STATUS_COMPLETE);
    CHECK_EQ_I64(aclrtStreamQuery(s, NULL), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtDestroyStream(s), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyStream(s), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSynchronizeStream(s), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtDestroyStream(NULL), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtDestroyStream(s2), ACL_SUCCESS);
}

/* ---- memory ----------------------------------------------------------------------------------- */

static void test_memory(void)
{
    void *p = NULL, *h = NULL;
    unsigned char src[128], local[8];
    for (int i = 0; i < 128; i++)
        src[i] = (unsigned char)i;
    CHECK_EQ_I64(aclrtMalloc(&p, 0, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMalloc(NULL, 8, ACL_MEM_MALLOC_HUGE_FIRST), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMalloc(&p, 8, (aclrtMemMallocPolicy)0x7777), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMalloc(&p, 100, (aclrtMemMallocPolicy)(ACL_MEM_MALLOC_NORMAL_ONLY |
                                                            ACL_MEM_TYPE_HIGH_BAND_WIDTH)),
                 ACL_SUCCESS);
    CHECK(p != NULL && (uintptr_t)p % 64 == 0);
    CHECK_EQ_I64(aclrtMemcpy(p, 100, src, 101, ACL_MEMCPY_HOST_TO_DEVICE), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMemcpy((char *)p + 50, 100, src, 60, ACL_MEMCPY_HOST_TO_DEVICE),
                 ACL_ERROR_INVALID_PARAM); /* destMax lies: the block ends after 50 bytes */
    CHECK_EQ_I64(aclrtMemcpy(p, 100, src, 10, (aclrtMemcpyKind)99), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMemcpy(NULL, 100, src, 10, ACL_MEMCPY_HOST_TO_DEVICE),
                 ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMemcpy(p, 100, src, 100, ACL_MEMCPY_HOST_TO_DEVICE), ACL_SUCCESS);
    CHECK(memcmp(p, src, 100) == 0);
    CHECK_EQ_I64(aclrtMemcpy(local, 8, (char *)p + 96, 8, ACL_MEMCPY_DEVICE_TO_HOST),
                 ACL_ERROR_INVALID_PARAM); /* reads past the block */
    CHECK_EQ_I64(aclrtMemcpy(local, 8, (char *)p + 92, 8, ACL_MEMCPY_DEVICE_TO_HOST), ACL_SUCCESS);
    CHECK(local[0] == 92 && local[7] == 99);
    CHECK_EQ_I64(aclrtMemcpyAsync(local, 8, p, 8, ACL_MEMCPY_DEVICE_TO_HOST, NULL), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtMemset(p, 100, 0xAB, 100), ACL_SUCCESS);
    CHECK(((unsigned char *)p)[99] == 0xAB);
    CHECK_EQ_I64(aclrtMemset(p, 200, 0, 101), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMemset(p, 10, 0, 11), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMemsetAsync(p, 100, 0, 100, NULL), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(local), ACL_ERROR_INVALID_PARAM);     /* foreign */
    CHECK_EQ_I64(aclrtFree((char *)p + 1), ACL_ERROR_INVALID_PARAM); /* not the start */
    CHECK_EQ_I64(aclrtFree(p), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(p), ACL_ERROR_INVALID_PARAM); /* twice */
    CHECK_EQ_I64(aclrtFree(NULL), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtMallocHost(&h, 16), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(h), ACL_ERROR_INVALID_PARAM); /* host memory goes to aclrtFreeHost */
    CHECK_EQ_I64(aclrtFreeHost(h), ACL_SUCCESS);
    const char *msg = aclGetRecentErrMsg();
    CHECK(msg != NULL && strstr(msg, "aclrtFree") != NULL);
    /* aclFinalize releases what the runtime still holds. */
    CHECK_EQ_I64(aclrtMalloc(&p, 32, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    CHECK_EQ_I64(aclFinalize(), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(p), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclInit(NULL), ACL_SUCCESS);
}

/* ---- fp16 and element sizes ------------------------------------------------------------------- */

static uint32_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void test_fp16(void)
{
    CHECK(aclFloat16ToFloat(0x3C00) == 1.0f);
    CHECK(f32_bits(aclFloat16ToFloat(0x0001)) == 0x33800000u); /* 2^-24 */
    CHECK(f32_bits(aclFloat16ToFloat(0x8000)) == 0x80000000u);
    CHECK(f32_bits(aclFloat16ToFloat(0x7C00)) == 0x7F800000u);
    CHECK(f32_bits(aclFloat16ToFloat(0xFC00)) == 0xFF800000u);
    float nan = aclFloat16ToFloat(0x7E00);
    CHECK(nan != nan);
    CHECK_EQ_I64(aclFloatToFloat16(1.0f), 0x3C00);
    CHECK_EQ_I64(aclFloatToFloat16(65504.0f), 0x7BFF);
    CHECK_EQ_I64(aclFloatToFloat16(65519.0f), 0x7BFF);
    CHECK_EQ_I64(aclFloatToFloat16(65520.0f), 0x7C00); /* halfway to 2^16 rounds to inf */
    CHECK_EQ_I64(aclFloatToFloat16(from_bits(0x33800000u)), 0x0001); /* 2^-24 */
    CHECK_EQ_I64(aclFloatToFloat16(from_bits(0x33000000u)), 0x0000); /* 2^-25: tie to even */
    CHECK_EQ_I64(aclFloatToFloat16(from_bits(0x33400000u)), 0x0001); /* 1.5 * 2^-25 */
    CHECK_EQ_I64(aclFloatToFloat16(from_bits(0x80000000u)), 0x8000);
    CHECK_EQ_I64(aclFloatToFloat16(from_bits(0x00000001u)), 0x0000);
    CHECK_EQ_I64(aclFloatToFloat16(from_bits(0x7FC00000u)) & 0x7E00, 0x7E00);
    CHECK_EQ_I64(aclFloatToFloat16(1.0f + 1.0f / 2048.0f), 0x3C00); /* tie to even */
    CHECK_EQ_I64(aclFloatToFloat16(1.0f + 3.0f / 2048.0f), 0x3C02);
    long bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0)
            continue; /* NaN */
        bad += aclFloatToFloat16(aclFloat16ToFloat((aclFloat16)h)) != h;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(aclDataTypeSize(ACL_BF16), 2);
    CHECK_EQ_I64(aclDataTypeSize(ACL_INT64), 8);
    CHECK_EQ_I64(aclDataTypeSize(ACL_INT8), 1);
    CHECK_EQ_I64(aclDataTypeSize(ACL_COMPLEX64), 8);
    CHECK_EQ_I64(aclDataTypeSize(ACL_STRING), 0);
}

/* ---- tensors and int arrays ------------------------------------------------------------------ */

static void test_tensors(void)
{
    float data[6] = {0};
    int64_t dims[2] = {2, 3}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, odd[2] = {7, 2};
    aclTensor *t = nd(dims, 2, ACL_FLOAT, data);
    CHECK(t != NULL);
    cc_tensor info;
    CHECK(cc_tensor_info(t, &info) == 0);
    CHECK(info.ndim == 2 && info.view[0] == 2 && info.view[1] == 3);
    CHECK(info.strides[0] == 3 && info.strides[1] == 1); /* row-major when none are given */
    CHECK(info.storage_ndim == 2 && info.offset == 0 && info.data == data);
    CHECK(info.dtype == ACL_FLOAT && info.format == ACL_FORMAT_ND);
    aclTensor *s = aclCreateTensor(dims, 2, ACL_INT8, odd, 5, ACL_FORMAT_FRACTAL_NZ, NULL, 0, NULL);
    CHECK(s != NULL && cc_tensor_info(s, &info) == 0); /* recorded as given */
    CHECK(info.strides[0] == 7 && info.offset == 5 && info.storage_ndim == 0 && info.data == NULL);
    CHECK_EQ_I64(aclDestroyTensor(s), ACLNN_SUCCESS);
    CHECK(aclCreateTensor(nine, 9, ACL_FLOAT, NULL, 0, ACL_FORMAT_ND, nine, 1, data) == NULL);
    CHECK(aclCreateTensor(nine, 1, ACL_FLOAT, NULL, 0, ACL_FORMAT_ND, nine, 9, data) == NULL);
    CHECK(aclCreateTensor(NULL, 2, ACL_FLOAT, NULL, 0, ACL_FORMAT_ND, dims, 2, data) == NULL);
    aclDataType dt;
    aclFormat fmt;
    int64_t off;
    void *addr;
    CHECK_EQ_I64(aclGetDataType(NULL, &dt), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclGetFormat(t, NULL), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclGetViewOffset(t, &off), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclGetRawTensorAddr(t, &addr), ACLNN_SUCCESS);
    CHECK(addr == data);
    CHECK_EQ_I64(aclDestroyTensor(t), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyTensor(t), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclGetDataType(t, &dt), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclGetFormat(t, &fmt), ACLNN_ERR_PARAM_INVALID);
    CHECK(cc_tensor_info(t, &info) != 0);
    CHECK_EQ_I64(aclDestroyTensor(NULL), ACLNN_SUCCESS);

    int64_t shape[2] = {510, 270};
    uint64_t size = 0;
    aclIntArray *a = aclCreateIntArray(shape, 2);
    CHECK(a != NULL);
    CHECK_EQ_I64(aclGetIntArraySize(a, &size), ACLNN_SUCCESS);
    CHECK_EQ_I64(size, 2);
    CHECK_EQ_I64(aclGetIntArraySize(NULL, &size), ACLNN_ERR_PARAM_NULLPTR);
    CHECK(aclCreateIntArray(NULL, 2) == NULL);
    aclIntArray *empty = aclCreateIntArray(NULL, 0);
    CHECK(empty != NULL);
    CHECK_EQ_I64(aclDestroyIntArray(empty), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyIntArray(a), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyIntArray(a), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclGetIntArraySize(a, &size), ACLNN_ERR_PARAM_INVALID);
}

/* ---- CalculateMatmulWeightSizeV2, TransMatmulWeight ------------------------------------------ */

static void test_weight_size(void)
{
    int64_t shape[2] = {510, 270}, three[3] = {2, 3, 4}, zero[2] = {0, 5};
    aclIntArray *a = aclCreateIntArray(shape, 2), *b = aclCreateIntArray(three, 3),
                *z = aclCreateIntArray(zero, 2);
    uint64_t n = 0;
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(a, ACL_INT8, &n), ACLNN_SUCCESS);
    CHECK_EQ_I64(n, 147456); /* 512 * 288 */
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(a, ACL_FLOAT16, &n), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(b, ACL_INT8, &n), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(z, ACL_INT8, &n), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(NULL, ACL_INT8, &n), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(a, ACL_INT8, NULL), ACLNN_ERR_PARAM_NULLPTR);
    aclDestroyIntArray(a);
    aclDestroyIntArray(b);
    aclDestroyIntArray(z);
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(a, ACL_INT8, &n), ACLNN_ERR_PARAM_INVALID);
}

/* Converts a (k, n) weight (transposed: memory holds (n, k)) and checks bytes and descriptor. */
static void check_conversion(int64_t k, int64_t n, int transposed)
{
    int64_t rows = transposed ? n : k, cols = transposed ? k : n;
    uint64_t nz = model_nz_size(rows, cols);
    void *buf = NULL, *ws = NULL;
    CHECK_EQ_I64(aclrtMalloc(&buf, nz, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    int8_t *stored = malloc((size_t)(rows * cols)), *want = malloc(nz);
    for (int64_t i = 0; i < rows * cols; i++)
        stored[i] = (int8_t)(i * 37 + 11);
    memcpy(buf, stored, (size_t)(rows * cols));
    int64_t view[2] = {k, n}, tstrides[2] = {1, k}, sdims[2] = {rows, cols};
    aclTensor *w = aclCreateTensor(view, 2, ACL_INT8, transposed ? tstrides : NULL, 0,
                                   ACL_FORMAT_ND, sdims, 2, buf);
    uint64_t wss = 0;
    aclOpExecutor *ex = NULL;
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(wss, rows * cols);
    CHECK_EQ_I64(aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss, ex, NULL), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID); /* consumed */
    model_nz_from_nd(stored, rows, cols, want);
    CHECK(memcmp(buf, want, nz) == 0);
    cc_tensor info;
    CHECK(cc_tensor_info(w, &info) == 0);
    CHECK(info.format == ACL_FORMAT_FRACTAL_NZ && info.storage_ndim == 4);
    CHECK(info.storage[0] == (cols + 31) / 32 && info.storage[1] == (rows + 15) / 16 &&
          info.storage[2] == 16 && info.storage[3] == 32);
    CHECK(info.view[0] == k && info.view[1] == n && info.offset == 0);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    aclDestroyTensor(w);
    aclrtFree(buf);
    aclrtFree(ws);
    free(stored);
    free(want);
}

static void test_trans_matmul_weight(void)
{
    check_conversion(40, 50, 0);
    check_conversion(40, 50, 1);
    check_conversion(64, 128, 0);
    check_conversion(1, 33, 0);

    int64_t v[2] = {40, 50}, v3[3] = {2, 40, 50}, odd[2] = {100, 1};
    void *small = NULL, *ws = NULL;
    uint64_t wss = 0;
    aclOpExecutor *ex = NULL;
    CHECK_EQ_I64(aclrtMalloc(&small, 2000, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    aclTensor *w = nd(v, 2, ACL_INT8, small); /* the buffer cannot hold the 3072-byte NZ form */
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK(ex == NULL && wss == 0);
    aclDestroyTensor(w);
    int8_t *foreign = malloc(4096);
    w = nd(v, 2, ACL_INT8, foreign); /* not from aclrtMalloc and NZ larger than ND: refused */
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    aclDestroyTensor(w);
    int64_t aligned[2] = {32, 64};
    w = nd(aligned, 2, ACL_INT8, foreign); /* NZ form no larger than ND: fine anywhere */
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnTransMatmulWeight(NULL, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(ex), ACLNN_ERR_PARAM_INVALID);
    aclDestroyTensor(w);

    void *big = NULL;
    CHECK_EQ_I64(aclrtMalloc(&big, 8192, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    aclTensor *f16 = nd(v, 2, ACL_FLOAT16, big), *w3 = nd(v3, 3, ACL_INT8, big);
    aclTensor *nz = aclCreateTensor(v, 2, ACL_INT8, NULL, 0, ACL_FORMAT_FRACTAL_NZ, v, 2, big);
    aclTensor *off = aclCreateTensor(v, 2, ACL_INT8, NULL, 1, ACL_FORMAT_ND, v, 2, big);
    aclTensor *strided = aclCreateTensor(v, 2, ACL_INT8, odd, 0, ACL_FORMAT_ND, v, 2, big);
    aclTensor *nodata = nd(v, 2, ACL_INT8, NULL);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(f16, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w3, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(nz, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(off, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(strided, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(nodata, &wss, &ex),
                 ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(NULL, &wss, &ex), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(f16, NULL, &ex), ACLNN_ERR_PARAM_NULLPTR);
    aclTensor *dead = nd(v, 2, ACL_INT8, big);
    aclDestroyTensor(dead);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(dead, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    /* An executor of another operator is refused and not consumed. */
    aclTensor *good = nd(v, 2, ACL_INT8, big);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(good, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss - 1, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss, NULL, NULL), ACLNN_ERR_PARAM_NULLPTR);
    aclTensor *list[] = {f16, w3, nz, off, strided, nodata, good};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        aclDestroyTensor(list[i]);
    aclrtFree(small);
    aclrtFree(big);
    aclrtFree(ws);
    free(foreign);
}

/* ---- TransQuantParamV2 ------------------------------------------------------------------------ */

/* Runs TransQuantParamV2 and compares the words with the model. */
static void check_quant_param(const int64_t *sdims, uint64_t sn, const int64_t *odims, uint64_t on,
                              const int64_t *wdims, uint64_t wn, aclDataType wdt)
{
    float scale[8], offset[8];
    uint64_t words[8] = {0}, want[8] = {0};
    for (int i = 0; i < 8; i++) {
        scale[i] = (float)(i + 1) * 0.37f - 1.1f;
        offset[i] = (float)i * 90.5f - 260.0f; /* crosses both clamps and a tie */
    }
    aclTensor *s = nd(sdims, sn, ACL_FLOAT, scale);
    aclTensor *o = odims != NULL ? nd(odims, on, ACL_FLOAT, offset) : NULL;
    aclTensor *w = nd(wdims, wn, wdt, words);
    uint64_t wss = 99, ns = 1, no = 0, nw = 1;
    for (uint64_t i = 0; i < sn; i++)
        ns *= (uint64_t)sdims[i];
    for (uint64_t i = 0; o != NULL && i < on; i++)
        no = (no == 0 ? 1 : no) * (uint64_t)odims[i];
    for (uint64_t i = 0; i < wn; i++)
        nw *= (uint64_t)wdims[i];
    aclOpExecutor *ex = NULL;
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s, o, w, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(wss, 0);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, ex, NULL), ACLNN_SUCCESS);
    uint32_t sbits[8], obits[8];
    memcpy(sbits, scale, sizeof sbits);
    memcpy(obits, offset, sizeof obits);
    CHECK_EQ_I64(model_trans_quant_param_v2(sbits, ns, o != NULL ? obits : NULL, no, want, nw),
                 MODEL_OK);
    CHECK(memcmp(words, want, (size_t)nw * 8) == 0);
    aclDestroyTensor(s);
    aclDestroyTensor(o);
    aclDestroyTensor(w);
}

static void test_trans_quant_param(void)
{
    int64_t three[1] = {3}, one[1] = {1}, four[1] = {4}, row4[2] = {1, 4}, two[1] = {2},
            bad2d[2] = {2, 3}, row3[2] = {1, 3};
    check_quant_param(three, 1, three, 1, three, 1, ACL_UINT64);
    check_quant_param(row4, 2, NULL, 0, row4, 2, ACL_INT64);
    check_quant_param(one, 1, four, 1, four, 1, ACL_UINT64); /* the scale is broadcast */
    check_quant_param(four, 1, one, 1, four, 1, ACL_UINT64);
    check_quant_param(row4, 2, one, 1, row4, 2, ACL_UINT64);

    float f[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t w[8];
    uint16_t h[8];
    aclTensor *s3 = nd(three, 1, ACL_FLOAT, f), *s2 = nd(two, 1, ACL_FLOAT, f),
              *s23 = nd(bad2d, 2, ACL_FLOAT, f), *sr3 = nd(row3, 2, ACL_FLOAT, f),
              *h3 = nd(three, 1, ACL_FLOAT16, h), *w3 = nd(three, 1, ACL_UINT64, w),
              *w2 = nd(two, 1, ACL_UINT64, w), *f3 = nd(three, 1, ACL_FLOAT, f),
              *wr3 = nd(row3, 2, ACL_UINT64, w);
    uint64_t wss;
    aclOpExecutor *ex;
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(NULL, NULL, w3, &wss, &ex),
                 ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s3, NULL, NULL, &wss, &ex),
                 ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s3, NULL, w3, NULL, &ex),
                 ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(h3, NULL, w3, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* scale must be FLOAT */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s3, NULL, f3, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* out must be UINT64 / INT64 */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s3, NULL, w2, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* out too short */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s23, NULL, w3, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* 2-D must be (1, n) */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s3, s2, w3, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* 3 and 2 elements */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(sr3, NULL, w3, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* a 2-D scale needs out of its shape */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(sr3, NULL, wr3, &wss, &ex),
                 ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(ex), ACLNN_SUCCESS);
    aclDestroyTensor(s2);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s3, s2, w3, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* destroyed offset */
    aclTensor *list[] = {s3, s23, sr3, h3, w3, w2, f3, wr3};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        aclDestroyTensor(list[i]);
}

/* ---- HCCL -------------------------------------------------------------------------------------- */

typedef struct root_job {
    const HcclRootInfo *root;
    uint32_t nranks, rank;
    HcclComm comm;
    HcclResult result;
} root_job;

static void *join_root(void *arg)
{
    root_job *j = arg;
    j->result = HcclCommInitRootInfo(j->nranks, j->root, j->rank, &j->comm);
    return NULL;
}

static void test_hccl(void)
{
    int32_t devs[3] = {3, 5, 3}, far[1] = {8};
    HcclComm comms[3] = {0};
    char name0[COMM_NAME_MAX_LENGTH], name1[COMM_NAME_MAX_LENGTH];
    uint32_t v = 99;
    CHECK_EQ_I64(HcclCommInitAll(0, devs, comms), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommInitAll(65, devs, comms), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommInitAll(2, NULL, comms), HCCL_E_PTR);
    CHECK_EQ_I64(HcclCommInitAll(2, devs, NULL), HCCL_E_PTR);
    CHECK_EQ_I64(HcclCommInitAll(3, devs, comms), HCCL_E_PARA); /* device 3 twice */
    CHECK_EQ_I64(HcclCommInitAll(1, far, comms), HCCL_E_PARA);  /* no device 8 */
    CHECK_EQ_I64(HcclCommInitAll(2, devs, comms), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclGetCommName(comms[0], name0), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclGetCommName(comms[1], name1), HCCL_SUCCESS);
    CHECK(strcmp(name0, name1) != 0 && strlen(name0) < COMM_NAME_MAX_LENGTH);
    CHECK_EQ_I64(HcclGetRankSize(comms[1], &v), HCCL_SUCCESS);
    CHECK_EQ_I64(v, 2);
    CHECK_EQ_I64(HcclGetRankId(comms[1], &v), HCCL_SUCCESS);
    CHECK_EQ_I64(v, 1);
    CHECK_EQ_I64(HcclGetCommName(comms[0], NULL), HCCL_E_PTR);
    CHECK_EQ_I64(HcclGetRankSize(NULL, &v), HCCL_E_PTR);
    CHECK_EQ_I64(HcclCommDestroy(comms[0]), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommDestroy(comms[0]), HCCL_E_PARA);
    CHECK_EQ_I64(HcclGetCommName(comms[0], name0), HCCL_E_PARA);
    CHECK_EQ_I64(HcclGetRankId(comms[0], &v), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommDestroy(comms[1]), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommDestroy(NULL), HCCL_E_PTR);
    CHECK(strcmp(HcclGetErrorString(HCCL_E_PARA), "parameter error") == 0);
    CHECK(strcmp(HcclGetErrorString((HcclResult)1000), "unknown HcclResult") == 0);

    HcclRootInfo root, bogus;
    memset(&bogus, 0, sizeof bogus);
    CHECK_EQ_I64(HcclGetRootInfo(NULL), HCCL_E_PTR);
    CHECK_EQ_I64(HcclGetRootInfo(&root), HCCL_SUCCESS);
    HcclComm c = NULL;
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &bogus, 0, &c), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &root, 2, &c), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommInitRootInfo(2, NULL, 0, &c), HCCL_E_PTR);
    root_job jobs[2] = {{&root, 2, 0, NULL, HCCL_E_RESERVED}, {&root, 2, 1, NULL, HCCL_E_RESERVED}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, join_root, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK(jobs[0].result == HCCL_SUCCESS && jobs[1].result == HCCL_SUCCESS);
    CHECK_EQ_I64(HcclGetRankId(jobs[1].comm, &v), HCCL_SUCCESS);
    CHECK_EQ_I64(v, 1);
    CHECK_EQ_I64(HcclGetCommName(jobs[0].comm, name0), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclGetCommName(jobs[1].comm, name1), HCCL_SUCCESS);
    CHECK(strcmp(name0, name1) != 0);
    CHECK_EQ_I64(HcclCommDestroy(jobs[0].comm), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommDestroy(jobs[1].comm), HCCL_SUCCESS);
    /* A rank that joins twice, and ranks that disagree on the size. */
    HcclRootInfo r2;
    HcclComm a = NULL, b = NULL;
    CHECK_EQ_I64(HcclGetRootInfo(&r2), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &r2, 0, &a), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &r2, 0, &b), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommInitRootInfo(4, &r2, 1, &b), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommDestroy(a), HCCL_SUCCESS);
    /* A root info from another process: not emulated. */
    HcclRootInfo other = root;
    other.internal[16] ^= 0x5A; /* the creator's pid */
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &other, 0, &c), HCCL_E_NOT_SUPPORT);
}

/* ---- the operator ------------------------------------------------------------------------------ */

#define M 6
#define K 40
#define N 24

/* One rank's inputs of a small case-2 call (FP16 output, FLOAT dequant, pertoken, bias, x3). */
typedef struct rank_io {
    int8_t x1[M * K], x2[K * N];
    int32_t bias[N];
    uint32_t dequant[N], pertoken[M];
    uint64_t words[N];
    uint16_t x3[M * N], out[M * N], want[M * N];
    HcclComm comm;
    int variant; /* 3: V3, 2: V2, 1: V1 (UINT64 words, no pertoken) */
    aclnnStatus plan_status, run_status;
} rank_io;

static void fill(rank_io *io, int r)
{
    for (int i = 0; i < M * K; i++)
        io->x1[i] = (int8_t)((i * 7 + r * 13) % 251);
    for (int i = 0; i < K * N; i++)
        io->x2[i] = (int8_t)((i * 11 + r * 3) % 241);
    for (int j = 0; j < N; j++) {
        io->bias[j] = j * 1000 - 12000 + r;
        io->dequant[j] = 0x38800000u + (uint32_t)j * 0x1234u; /* ~2^-14 */
        io->words[j] = ((uint64_t)(0x38800000u + (uint32_t)j * 0x4000u)) | (UINT64_C(1) << 46);
    }
    for (int i = 0; i < M; i++)
        io->pertoken[i] = 0x3F800000u + (uint32_t)i * 0x20000u;
    for (int i = 0; i < M * N; i++)
        io->x3[i] = (uint16_t)(0x3000 + (i * 5 + r) % 0x800);
}

static void *run_rank(void *arg)
{
    rank_io *io = arg;
    char group[COMM_NAME_MAX_LENGTH];
    HcclGetCommName(io->comm, group);
    int64_t x1d[2] = {M, K}, x2d[2] = {K, N}, nd1[1] = {N}, md[1] = {M}, outd[2] = {M, N};
    aclTensor *x1 = nd(x1d, 2, ACL_INT8, io->x1), *x2 = nd(x2d, 2, ACL_INT8, io->x2),
              *bias = nd(nd1, 1, ACL_INT32, io->bias), *x3 = nd(outd, 2, ACL_FLOAT16, io->x3),
              *out = nd(outd, 2, ACL_FLOAT16, io->out);
    aclTensor *dq = io->variant == 1 ? nd(nd1, 1, ACL_UINT64, io->words)
                                     : nd(nd1, 1, ACL_FLOAT, io->dequant);
    aclTensor *pt = io->variant == 1 ? NULL : nd(md, 1, ACL_FLOAT, io->pertoken);
    uint64_t wss = 0;
    aclOpExecutor *ex = NULL;
    if (io->variant == 3)
        io->plan_status = aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
            x1, x2, bias, x3, dq, pt, NULL, NULL, group, "sum", 0, 1, out, &wss, &ex);
    else if (io->variant == 2)
        io->plan_status = aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
            x1, x2, bias, x3, dq, pt, group, "sum", 0, 1, out, &wss, &ex);
    else
        io->plan_status = aclnnQuantMatmulAllReduceGetWorkspaceSize(x1, x2, bias, x3, dq, group,
                                                                    "sum", 0, 1, out, &wss, &ex);
    void *ws = NULL;
    if (io->plan_status == ACLNN_SUCCESS && wss > 0)
        aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    if (io->plan_status == ACLNN_SUCCESS)
        io->run_status = io->variant == 3   ? aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL)
                         : io->variant == 2 ? aclnnQuantMatmulAllReduceV2(ws, wss, ex, NULL)
                                            : aclnnQuantMatmulAllReduce(ws, wss, ex, NULL);
    if (ws != NULL)
        aclrtFree(ws);
    aclTensor *list[] = {x1, x2, bias, x3, out, dq, pt};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        aclDestroyTensor(list[i]);
    return NULL;
}

/* Runs `ranks` ranks of one variant through compat and compares every output with the model. */
static void check_operator(int ranks, int variant)
{
    int32_t devs[2] = {0, 1};
    HcclComm comms[2];
    rank_io *io = calloc((size_t)ranks, sizeof *io);
    CHECK_EQ_I64(HcclCommInitAll((uint32_t)ranks, devs, comms), HCCL_SUCCESS);
    pthread_t t[2];
    for (int r = 0; r < ranks; r++) {
        fill(&io[r], r);
        io[r].comm = comms[r];
        io[r].variant = variant;
        pthread_create(&t[r], NULL, run_rank, &io[r]);
    }
    for (int r = 0; r < ranks; r++)
        pthread_join(t[r], NULL);
    model_rank_in in[2];
    uint16_t *want[2];
    for (int r = 0; r < ranks; r++) {
        CHECK_EQ_I64(io[r].plan_status, ACLNN_SUCCESS);
        CHECK_EQ_I64(io[r].run_status, ACLNN_SUCCESS);
        in[r] = (model_rank_in){.x1 = io[r].x1, .x2 = io[r].x2, .bias = io[r].bias,
                                .scale_w64 = variant == 1 ? io[r].words : NULL,
                                .scale_f32 = variant == 1 ? NULL : io[r].dequant,
                                .pertoken = variant == 1 ? NULL : io[r].pertoken,
                                .x3 = io[r].x3};
        want[r] = io[r].want;
    }
    model_op op = {.ranks = ranks, .m = M, .k = K, .n = N, .y = QMAR_FLOAT16, .scale_count = N,
                   .rank = in};
    CHECK_EQ_I64(model_quant_matmul_all_reduce_v3(&op, want), MODEL_OK);
    for (int r = 0; r < ranks; r++)
        CHECK(memcmp(io[r].out, io[r].want, sizeof io[r].out) == 0);
    for (int r = 0; r < ranks; r++)
        CHECK_EQ_I64(HcclCommDestroy(comms[r]), HCCL_SUCCESS);
    free(io);
}

static void test_operator_errors(void)
{
    int32_t dev = 0;
    HcclComm comm;
    char group[COMM_NAME_MAX_LENGTH];
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    HcclGetCommName(comm, group);
    static rank_io io;
    fill(&io, 0);
    int64_t x1d[2] = {M, K}, x2d[2] = {K, N}, nd1[1] = {N}, outd[2] = {M, N};
    aclTensor *x1 = nd(x1d, 2, ACL_INT8, io.x1), *x2 = nd(x2d, 2, ACL_INT8, io.x2),
              *dq = nd(nd1, 1, ACL_UINT64, io.words), *out = nd(outd, 2, ACL_FLOAT16, io.out);
    aclTensor *dead = nd(x2d, 2, ACL_INT8, io.x2);
    aclDestroyTensor(dead);
    uint64_t wss = 7;
    aclOpExecutor *ex = (aclOpExecutor *)&wss;
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(NULL, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_ERR_PARAM_NULLPTR);
    CHECK(ex == NULL && wss == 0);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, dead, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(NULL, dead, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_ERR_PARAM_NULLPTR); /* the NULL rule comes first */
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, dead, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_ERR_PARAM_INVALID); /* a destroyed optional is not "absent" */
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, "no-such-group", "sum", 0, 1,
                                                             out, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "max", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 2, out, &wss,
                                                             &ex),
                 ACLNN_ERR_PARAM_INVALID);
    const char *msg = aclGetRecentErrMsg();
    CHECK(msg != NULL && strstr(msg, "aclnnQuantMatmulAllReduceV3GetWorkspaceSize") != NULL);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(NULL, 0, NULL, NULL), ACLNN_ERR_PARAM_NULLPTR);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(NULL, 0, (aclOpExecutor *)&wss, NULL),
                 ACLNN_ERR_PARAM_INVALID);
    /* A planned executor: destroyed once; a second plan runs once. */
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(NULL, 0, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    void *ws = NULL;
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_SUCCESS);
    CHECK(wss > 0);
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss - 1, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, (aclrtStream)&wss),
                 ACLNN_ERR_PARAM_INVALID); /* not a stream; the executor is consumed */
    CHECK_EQ_I64(aclDestroyAclOpExecutor(ex), ACLNN_ERR_PARAM_INVALID);
    /* Those failed runs broke the group (README: a failed run leaves its communicator broken). */
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_ERR_RUNTIME_ERROR);
    CHECK_EQ_I64(HcclCommDestroy(comm), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    HcclGetCommName(comm, group);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, NULL, NULL, dq, NULL, NULL,
                                                             NULL, group, "sum", 0, 1, out, &wss,
                                                             &ex),
                 ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV2(ws, wss, ex, NULL), ACLNN_SUCCESS); /* any version */
    aclrtFree(ws);
    aclTensor *list[] = {x1, x2, dq, out};
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        aclDestroyTensor(list[i]);
    CHECK_EQ_I64(HcclCommDestroy(comm), HCCL_SUCCESS);
}

int main(void)
{
    test_init();
    test_devices();
    test_contexts();
    test_streams();
    test_memory();
    test_fp16();
    test_tensors();
    test_weight_size();
    test_trans_matmul_weight();
    test_trans_quant_param();
    test_hccl();
    test_operator_errors();
    check_operator(1, 3);
    check_operator(2, 3);
    check_operator(2, 2);
    check_operator(2, 1);
    CHECK_EQ_I64(aclFinalize(), ACL_SUCCESS);
    return check_summary();
}
