/* SPDX-License-Identifier: Apache-2.0 */
/**
 * A host program in the style of Ascend's aclnn samples, for the entry points the seed's sample
 * does not use. Written for qmar's compat layer; it uses CANN's API only, so it builds against
 * CANN too.
 *
 * 4 devices, one thread each, in one communicator made with HcclGetRootInfo (main thread) and
 * HcclCommInitRootInfo (each rank's thread). Each rank runs two collectives:
 *   1. FP16 output without pertoken (case 1): x1 3-D (2, 8, 100); the weight given transposed
 *      (view (k, n) over (n, k) memory) and converted to FRACTAL_NZ with
 *      aclnnCalculateMatmulWeightSizeV2 + aclnnTransMatmulWeight; the per-channel dequant scale
 *      turned into UINT64 words by aclnnTransQuantParamV2; bias; x3.
 *   2. BF16 output with int8 communication (case 3, no pertoken): per-tensor BF16 dequant scale,
 *      comm scales (1, n) equal on every rank, ND weight, no bias, no x3.
 * Results are copied back with aclrtMemcpy(DEVICE_TO_HOST) and a few are printed.
 */
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>
#include "acl/acl.h"
#include "hccl/hccl.h"
#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"

#define CHECK_RET(cond, return_expr) \
    do {                             \
        if (!(cond)) {               \
            return_expr;             \
        }                            \
    } while (0)

#define LOG_PRINT(message, ...)         \
    do {                                \
        printf(message, ##__VA_ARGS__); \
    } while (0)

namespace {

const uint32_t kDevices = 4;

int64_t GetShapeSize(const std::vector<int64_t> &shape)
{
    int64_t n = 1;
    for (auto d : shape) {
        n *= d;
    }
    return n;
}

std::vector<int64_t> RowMajorStrides(const std::vector<int64_t> &shape)
{
    std::vector<int64_t> strides(shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; i--) {
        strides[i] = shape[i + 1] * strides[i + 1];
    }
    return strides;
}

// Device memory for hostData, and an ND aclTensor over it.
template <typename T>
int CreateAclTensor(const std::vector<T> &hostData, const std::vector<int64_t> &shape, void **deviceAddr,
                    aclDataType dataType, aclTensor **tensor)
{
    auto size = hostData.size() * sizeof(T);
    auto ret = aclrtMalloc(deviceAddr, size, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtMalloc failed. ERROR: %d\n", ret); return ret);
    ret = aclrtMemcpy(*deviceAddr, size, hostData.data(), size, ACL_MEMCPY_HOST_TO_DEVICE);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtMemcpy failed. ERROR: %d\n", ret); return ret);
    auto strides = RowMajorStrides(shape);
    *tensor = aclCreateTensor(shape.data(), shape.size(), dataType, strides.data(), 0, aclFormat::ACL_FORMAT_ND,
                              shape.data(), shape.size(), *deviceAddr);
    return *tensor == nullptr ? -1 : 0;
}

// A weight whose memory holds the (n, k) matrix, viewed as (k, n), converted to FRACTAL_NZ in place.
int CreateTransposedNzWeight(const std::vector<int8_t> &storedNK, int64_t k, int64_t n, void **deviceAddr,
                             aclTensor **tensor, aclrtStream stream)
{
    std::vector<int64_t> storedShape = {n, k};
    aclIntArray *shapeArray = aclCreateIntArray(storedShape.data(), storedShape.size());
    uint64_t nzElements = 0;
    auto ret = aclnnCalculateMatmulWeightSizeV2(shapeArray, ACL_INT8, &nzElements);
    aclDestroyIntArray(shapeArray);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclnnCalculateMatmulWeightSizeV2 failed. ERROR: %d\n", ret); return ret);
    ret = aclrtMalloc(deviceAddr, nzElements, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtMalloc failed. ERROR: %d\n", ret); return ret);
    ret = aclrtMemcpy(*deviceAddr, nzElements, storedNK.data(), storedNK.size(), ACL_MEMCPY_HOST_TO_DEVICE);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtMemcpy failed. ERROR: %d\n", ret); return ret);
    std::vector<int64_t> viewShape = {k, n};
    std::vector<int64_t> strides = {1, k};  // the transposed view
    *tensor = aclCreateTensor(viewShape.data(), viewShape.size(), ACL_INT8, strides.data(), 0, ACL_FORMAT_ND,
                              storedShape.data(), storedShape.size(), *deviceAddr);
    CHECK_RET(*tensor != nullptr, LOG_PRINT("aclCreateTensor failed\n"); return -1);

    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    ret = aclnnTransMatmulWeightGetWorkspaceSize(*tensor, &workspaceSize, &executor);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclnnTransMatmulWeightGetWorkspaceSize failed. ERROR: %d\n", ret);
              return ret);
    void *workspace = nullptr;
    if (workspaceSize > 0) {
        ret = aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST);
        CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtMalloc failed. ERROR: %d\n", ret); return ret);
    }
    ret = aclnnTransMatmulWeight(workspace, workspaceSize, executor, stream);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclnnTransMatmulWeight failed. ERROR: %d\n", ret); return ret);
    ret = aclrtSynchronizeStream(stream);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtSynchronizeStream failed. ERROR: %d\n", ret); return ret);
    if (workspace != nullptr) {
        aclrtFree(workspace);
    }
    return 0;
}

// scale (n) FLOAT -> out (n) UINT64, the dequant words of the FP16 path without pertoken.
int CreateDequantWords(const std::vector<float> &scale, void **scaleAddr, aclTensor **scaleTensor, void **outAddr,
                       aclTensor **outTensor, aclrtStream stream)
{
    std::vector<int64_t> shape = {static_cast<int64_t>(scale.size())};
    auto ret = CreateAclTensor(scale, shape, scaleAddr, ACL_FLOAT, scaleTensor);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    std::vector<uint64_t> words(scale.size(), 0);
    ret = CreateAclTensor(words, shape, outAddr, ACL_UINT64, outTensor);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    ret = aclnnTransQuantParamV2GetWorkspaceSize(*scaleTensor, nullptr, *outTensor, &workspaceSize, &executor);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclnnTransQuantParamV2GetWorkspaceSize failed. ERROR: %d\n", ret);
              return ret);
    void *workspace = nullptr;
    if (workspaceSize > 0) {
        ret = aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST);
        CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtMalloc failed. ERROR: %d\n", ret); return ret);
    }
    ret = aclnnTransQuantParamV2(workspace, workspaceSize, executor, stream);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclnnTransQuantParamV2 failed. ERROR: %d\n", ret); return ret);
    if (workspace != nullptr) {
        aclrtFree(workspace);
    }
    return aclrtSynchronizeStream(stream);
}

// Runs both phases of the operator and waits.
int RunQuantMatmulAllReduceV3(aclTensor *x1, aclTensor *x2, aclTensor *bias, aclTensor *x3, aclTensor *dequant,
                              aclTensor *commScale1, aclTensor *commScale2, const char *group, aclTensor *out,
                              aclrtStream stream)
{
    uint64_t workspaceSize = 0;
    aclOpExecutor *executor = nullptr;
    auto ret = aclnnQuantMatmulAllReduceV3GetWorkspaceSize(x1, x2, bias, x3, dequant, nullptr, commScale1,
                                                           commScale2, group, "sum", 0, 1, out, &workspaceSize,
                                                           &executor);
    CHECK_RET(ret == ACL_SUCCESS,
              LOG_PRINT("aclnnQuantMatmulAllReduceV3GetWorkspaceSize failed. ERROR: %d\n", ret); return ret);
    void *workspace = nullptr;
    if (workspaceSize > 0) {
        ret = aclrtMalloc(&workspace, workspaceSize, ACL_MEM_MALLOC_HUGE_FIRST);
        CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("allocate workspace failed. ERROR: %d\n", ret); return ret);
    }
    ret = aclnnQuantMatmulAllReduceV3(workspace, workspaceSize, executor, stream);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclnnQuantMatmulAllReduceV3 failed. ERROR: %d\n", ret); return ret);
    ret = aclrtSynchronizeStreamWithTimeout(stream, 10000);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtSynchronizeStream failed. ERROR: %d\n", ret); return ret);
    if (workspace != nullptr) {
        aclrtFree(workspace);
    }
    return 0;
}

float Bf16ToFloat(uint16_t h)
{
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t FloatToBf16Exact(float f)  // for values that bf16 holds exactly
{
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return static_cast<uint16_t>(bits >> 16);
}

struct Resources {
    std::vector<void *> memory;
    std::vector<aclTensor *> tensors;
    ~Resources()
    {
        for (auto t : tensors) {
            if (t != nullptr) {
                aclDestroyTensor(t);
            }
        }
        for (auto m : memory) {
            if (m != nullptr) {
                aclrtFree(m);
            }
        }
    }
    void Keep(void **addr, aclTensor *tensor)  // takes ownership; *addr is reset for the next one
    {
        memory.push_back(*addr);
        tensors.push_back(tensor);
        *addr = nullptr;
    }
};

// Collective 1: FP16 output, TransQuantParamV2 dequant words, transposed weight in FRACTAL_NZ.
int RunFp16(uint32_t rank, const char *group, aclrtStream stream)
{
    const int64_t b = 2, s = 8, m = b * s, k = 100, n = 80;
    Resources res;
    std::vector<int8_t> x1Host(m * k);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t c = 0; c < k; c++) {
            x1Host[i * k + c] = static_cast<int8_t>((i * 7 + c * 3 + rank * 5) % 31 - 15);
        }
    }
    std::vector<int8_t> x2StoredNK(n * k);  // (n, k) row-major: element (c, j) of x2 at j * k + c
    for (int64_t c = 0; c < k; c++) {
        for (int64_t j = 0; j < n; j++) {
            x2StoredNK[j * k + c] = static_cast<int8_t>((c * 11 + j * 5 + rank) % 23 - 11);
        }
    }
    std::vector<int32_t> biasHost(n);
    std::vector<float> scaleHost(n);
    for (int64_t j = 0; j < n; j++) {
        biasHost[j] = static_cast<int32_t>((j * 37 + rank * 101) % 2001 - 1000);
        scaleHost[j] = static_cast<float>(1 + j % 5) / 256.0f;
    }
    std::vector<uint16_t> x3Host(m * n);
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            x3Host[i * n + j] = aclFloatToFloat16(static_cast<float>((i + j) % 9 - 4) * 0.125f);
        }
    }
    std::vector<uint16_t> outHost(m * n, 0);

    void *addr = nullptr;
    aclTensor *x1 = nullptr, *x2 = nullptr, *bias = nullptr, *x3 = nullptr, *out = nullptr;
    aclTensor *scale = nullptr, *words = nullptr;
    auto ret = CreateAclTensor(x1Host, {b, s, k}, &addr, ACL_INT8, &x1);
    res.Keep(&addr, x1);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateTransposedNzWeight(x2StoredNK, k, n, &addr, &x2, stream);
    res.Keep(&addr, x2);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateAclTensor(biasHost, {n}, &addr, ACL_INT32, &bias);
    res.Keep(&addr, bias);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateAclTensor(x3Host, {b, s, n}, &addr, ACL_FLOAT16, &x3);
    res.Keep(&addr, x3);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    void *wordsAddr = nullptr;
    ret = CreateDequantWords(scaleHost, &addr, &scale, &wordsAddr, &words, stream);
    res.Keep(&addr, scale);
    res.Keep(&wordsAddr, words);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    void *outAddr = nullptr;
    ret = CreateAclTensor(outHost, {b, s, n}, &outAddr, ACL_FLOAT16, &out);
    void *outDevice = outAddr;
    res.Keep(&outAddr, out);
    CHECK_RET(ret == ACL_SUCCESS, return ret);

    if (rank == 0) {  // what aclnnTransMatmulWeight did to the descriptor
        aclFormat format = ACL_FORMAT_UNDEFINED;
        int64_t *storage = nullptr;
        uint64_t storageNum = 0;
        aclGetFormat(x2, &format);
        aclGetStorageShape(x2, &storage, &storageNum);
        LOG_PRINT("[INFO] weight after aclnnTransMatmulWeight: format %d, storage (", static_cast<int>(format));
        for (uint64_t i = 0; i < storageNum; i++) {
            LOG_PRINT("%s%ld", i > 0 ? ", " : "", static_cast<long>(storage[i]));
        }
        LOG_PRINT(")\n");
        delete[] storage;
    }

    ret = RunQuantMatmulAllReduceV3(x1, x2, bias, x3, words, nullptr, nullptr, group, out, stream);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = aclrtMemcpy(outHost.data(), outHost.size() * sizeof(uint16_t), outDevice, outHost.size() * sizeof(uint16_t),
                      ACL_MEMCPY_DEVICE_TO_HOST);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("copy result from device to host failed. ERROR: %d\n", ret); return ret);
    if (rank == 0) {
        for (int64_t j = 0; j < 4; j++) {
            LOG_PRINT("[INFO] fp16 result[0][%ld] = %g\n", static_cast<long>(j), aclFloat16ToFloat(outHost[j]));
        }
    }
    LOG_PRINT("device%u aclnnQuantMatmulAllReduceV3 (FP16, TransQuantParamV2 scale, transposed NZ weight) "
              "execute success\n", rank);
    return 0;
}

// Collective 2: BF16 output with int8 communication (both comm scales), no pertoken.
int RunBf16CommInt8(uint32_t rank, const char *group, aclrtStream stream)
{
    const int64_t m = 24, k = 64, n = 48;
    Resources res;
    std::vector<int8_t> x1Host(m * k), x2Host(k * n);
    for (int64_t i = 0; i < m * k; i++) {
        x1Host[i] = static_cast<int8_t>((i * 13 + rank * 7) % 29 - 14);
    }
    for (int64_t i = 0; i < k * n; i++) {
        x2Host[i] = static_cast<int8_t>((i * 5 + rank * 3) % 23 - 11);
    }
    std::vector<uint16_t> dequantHost = {FloatToBf16Exact(1.0f / 128.0f)};
    std::vector<uint16_t> s1Host(n), s2Host(n);
    for (int64_t j = 0; j < n; j++) {
        float s1 = 0.25f + 0.0625f * static_cast<float>(j % 3);  // the same on every rank
        s1Host[j] = FloatToBf16Exact(s1);
        s2Host[j] = FloatToBf16Exact(4.0f * s1);
    }
    std::vector<uint16_t> outHost(m * n, 0);

    void *addr = nullptr;
    aclTensor *x1 = nullptr, *x2 = nullptr, *dequant = nullptr, *s1 = nullptr, *s2 = nullptr, *out = nullptr;
    auto ret = CreateAclTensor(x1Host, {m, k}, &addr, ACL_INT8, &x1);
    res.Keep(&addr, x1);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateAclTensor(x2Host, {k, n}, &addr, ACL_INT8, &x2);
    res.Keep(&addr, x2);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateAclTensor(dequantHost, {1}, &addr, ACL_BF16, &dequant);
    res.Keep(&addr, dequant);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateAclTensor(s1Host, {1, n}, &addr, ACL_BF16, &s1);
    res.Keep(&addr, s1);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = CreateAclTensor(s2Host, {1, n}, &addr, ACL_BF16, &s2);
    res.Keep(&addr, s2);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    void *outAddr = nullptr;
    ret = CreateAclTensor(outHost, {m, n}, &outAddr, ACL_BF16, &out);
    void *outDevice = outAddr;
    res.Keep(&outAddr, out);
    CHECK_RET(ret == ACL_SUCCESS, return ret);

    ret = RunQuantMatmulAllReduceV3(x1, x2, nullptr, nullptr, dequant, s1, s2, group, out, stream);
    CHECK_RET(ret == ACL_SUCCESS, return ret);
    ret = aclrtMemcpy(outHost.data(), outHost.size() * sizeof(uint16_t), outDevice, outHost.size() * sizeof(uint16_t),
                      ACL_MEMCPY_DEVICE_TO_HOST);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("copy result from device to host failed. ERROR: %d\n", ret); return ret);
    if (rank == 0) {
        for (int64_t j = 0; j < 4; j++) {
            LOG_PRINT("[INFO] bf16 result[0][%ld] = %g\n", static_cast<long>(j), Bf16ToFloat(outHost[j]));
        }
    }
    LOG_PRINT("device%u aclnnQuantMatmulAllReduceV3 (BF16, int8 communication) execute success\n", rank);
    return 0;
}

int RankThread(uint32_t rank, const HcclRootInfo *rootInfo, int *result)
{
    *result = -1;
    auto ret = aclrtSetDevice(static_cast<int32_t>(rank));
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtSetDevice failed. ERROR: %d\n", ret); return ret);
    HcclComm comm = nullptr;
    auto hret = HcclCommInitRootInfo(kDevices, rootInfo, rank, &comm);
    CHECK_RET(hret == HCCL_SUCCESS, LOG_PRINT("HcclCommInitRootInfo failed. ERROR: %d\n", hret); return -1);
    char group[128] = {0};
    hret = HcclGetCommName(comm, group);
    CHECK_RET(hret == HCCL_SUCCESS, LOG_PRINT("HcclGetCommName failed. ERROR: %d\n", hret); return -1);
    aclrtStream stream = nullptr;
    ret = aclrtCreateStream(&stream);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclrtCreateStream failed. ERROR: %d\n", ret); return ret);

    ret = RunFp16(rank, group, stream);
    if (ret == ACL_SUCCESS) {
        ret = RunBf16CommInt8(rank, group, stream);
    }
    aclrtDestroyStream(stream);
    HcclCommDestroy(comm);
    aclrtResetDevice(static_cast<int32_t>(rank));
    *result = ret;
    return ret;
}

}  // namespace

int main()
{
    auto ret = aclInit(nullptr);
    CHECK_RET(ret == ACL_SUCCESS, LOG_PRINT("aclInit failed. ERROR: %d\n", ret); return ret);
    HcclRootInfo rootInfo;
    auto hret = HcclGetRootInfo(&rootInfo);
    CHECK_RET(hret == HCCL_SUCCESS, LOG_PRINT("HcclGetRootInfo failed. ERROR: %d\n", hret); return 1);

    std::vector<int> results(kDevices, -1);
    std::vector<std::thread> threads;
    for (uint32_t rank = 0; rank < kDevices; rank++) {
        threads.emplace_back(RankThread, rank, &rootInfo, &results[rank]);
    }
    for (auto &t : threads) {
        t.join();
    }
    aclFinalize();
    for (uint32_t rank = 0; rank < kDevices; rank++) {
        CHECK_RET(results[rank] == 0, LOG_PRINT("rank %u failed: %d\n", rank, results[rank]); return 1);
    }
    LOG_PRINT("all %u ranks succeeded\n", kDevices);
    return 0;
}
