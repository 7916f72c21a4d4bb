/* SPDX-License-Identifier: Apache-2.0 */
/* The `faults` suite, compat part: every compat entry point that allocates, with the N-th
 * allocation failed on purpose for N = 1, 2, ... until the call succeeds, once and then
 * persistently from N on (the way SQLite tests out-of-memory). Both libraries are armed with the
 * same N: compat's own hooks (compat/src/fault.c) and libqmar's (lib/src/fault.h); this program
 * links both statically to reach them. For every N: the call returns an error status with a
 * reason in aclGetRecentErrMsg(), nothing crashes or leaks (LeakSanitizer in build-san), the peers
 * of a failing rank return an error promptly, and the next attempt, disarmed, works. It prints
 * how many injection points each case reached. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "check.h"
#include "compat.h"
#include "fault.h"

#define M 6
#define K 40
#define N 24
#define MAX_N 10000   /* a sweep that never ends is a failure */
#define PROMPT_MS 5000 /* far below the 60 s default timeout the peers used to wait */

/* ---- the sweep ------------------------------------------------------------------------------ */

static int64_t g_n;
static int g_persistent, g_fired;
static int64_t g_seen;
static char g_reason[512]; /* aclGetRecentErrMsg() when the calls under test ended */

/* A case calls these around the entry points under test (its setup and cleanup run disarmed). */
static void fault_begin(void)
{
    qc_fault_arm_alloc(g_n, g_persistent);
    qmar__fault_arm_alloc(g_n, g_persistent);
}

static void fault_end(void)
{
    const char *m = aclGetRecentErrMsg();
    snprintf(g_reason, sizeof g_reason, "%s", m != NULL ? m : "");
    g_fired |= qc_fault_fired() || qmar__fault_fired();
    g_seen += qc_fault_allocs_seen() + qmar__fault_allocs_seen();
    qc_fault_disarm();
    qmar__fault_disarm();
}

/* A known reason, so that a failure that leaves no reason of its own is seen. */
static void mark_reason(void)
{
    aclrtGetDevice(NULL);
}

static int has_fresh_reason(void)
{
    return g_reason[0] != '\0' && strstr(g_reason, "aclrtGetDevice: deviceId is NULL") == NULL;
}

typedef aclnnStatus (*case_fn)(void); /* runs setup, the calls under test, cleanup */

static int64_t total_points;

static void sweep(const char *name, case_fn run_case)
{
    for (int persistent = 0; persistent <= 1; persistent++) {
        int64_t n = 1, points = -1, reached = 0;
        for (; n <= MAX_N; n++) {
            g_n = n;
            g_persistent = persistent;
            g_fired = 0;
            g_seen = 0;
            mark_reason();
            aclnnStatus s = run_case();
            if (!g_fired) { /* N is past the last allocation: the call succeeded */
                CHECK_EQ_I64(s, 0);
                points = n - 1;
                reached = g_seen;
                break;
            }
            CHECK(s != 0);
            CHECK(has_fresh_reason());
            if (s == 0 || !has_fresh_reason())
                fprintf(stderr, "%s: N=%lld%s: status %d, reason \"%s\"\n", name, (long long)n,
                        persistent ? "+" : "", (int)s, g_reason);
            g_n = 0; /* the next attempt, disarmed, works */
            g_fired = 0;
            CHECK_EQ_I64(run_case(), 0);
        }
        CHECK(points >= 0);
        printf("faults: %-44s %s: %lld injection points reached (compat + libqmar), "
               "failed N = 1..%lld\n",
               name, persistent ? "persistent" : "once      ", (long long)reached,
               (long long)points);
        total_points += persistent ? 0 : reached;
    }
}

/* ---- the cases ------------------------------------------------------------------------------- */

static aclnnStatus case_runtime(void)
{
    aclFinalize();
    fault_begin();
    aclnnStatus s = aclInit(NULL);
    aclrtContext ctx = NULL;
    aclrtStream stream = NULL;
    if (s == 0)
        s = aclrtSetDevice(1);
    if (s == 0)
        s = aclrtCreateContext(&ctx, 2);
    if (s == 0)
        s = aclrtCreateStream(&stream);
    fault_end();
    if (stream != NULL)
        aclrtDestroyStream(stream);
    if (ctx != NULL)
        aclrtDestroyContext(ctx);
    return s;
}

static aclnnStatus case_memory(void)
{
    void *d = NULL, *h = NULL;
    fault_begin();
    aclnnStatus s = aclrtMalloc(&d, 100, ACL_MEM_MALLOC_HUGE_FIRST);
    if (s == 0)
        s = aclrtMallocHost(&h, 100);
    fault_end();
    if (d != NULL)
        aclrtFree(d);
    if (h != NULL)
        aclrtFreeHost(h);
    return s;
}

static aclnnStatus case_tensors(void)
{
    int64_t dims[2] = {3, 4};
    float data[12];
    fault_begin();
    aclTensor *t = aclCreateTensor(dims, 2, ACL_FLOAT, NULL, 0, ACL_FORMAT_ND, dims, 2, data);
    aclIntArray *a = t != NULL ? aclCreateIntArray(dims, 2) : NULL;
    aclnnStatus s = t == NULL || a == NULL ? ACLNN_ERR_INNER : 0;
    fault_end();
    aclDestroyTensor(t);
    aclDestroyIntArray(a);
    return s;
}

static aclnnStatus case_hccl_init_all(void)
{
    int32_t devs[4] = {0, 1, 2, 3};
    HcclComm comms[4] = {0};
    fault_begin();
    aclnnStatus s = HcclCommInitAll(4, devs, comms);
    fault_end();
    for (int i = 0; s == 0 && i < 4; i++)
        HcclCommDestroy(comms[i]);
    return s;
}

static aclnnStatus case_hccl_root_info(void)
{
    static HcclRootInfo root;
    static int have_root; /* a failed join keeps its root info: the retry uses it */
    HcclComm comm = NULL;
    fault_begin();
    aclnnStatus s = have_root ? 0 : HcclGetRootInfo(&root);
    have_root = s == 0;
    if (s == 0)
        s = HcclCommInitRootInfo(1, &root, 0, &comm);
    fault_end();
    if (s == 0) {
        have_root = 0;
        HcclCommDestroy(comm);
    }
    return s;
}

typedef struct joiner {
    const HcclRootInfo *root;
    uint32_t rank;
    HcclComm comm;
    aclnnStatus status;
    char reason[512];
} joiner;

static void *join(void *arg)
{
    joiner *j = arg;
    j->status = HcclCommInitRootInfo(2, j->root, j->rank, &j->comm);
    const char *m = aclGetRecentErrMsg();
    snprintf(j->reason, sizeof j->reason, "%s", j->status != 0 && m != NULL ? m : "");
    return NULL;
}

/* Two ranks join from their own threads; a rank whose join failed joins again (disarmed) and the
 * rendezvous completes. */
static aclnnStatus case_hccl_root_info_2(void)
{
    HcclRootInfo root;
    if (HcclGetRootInfo(&root) != 0)
        return -1;
    joiner j[2] = {{&root, 0, NULL, -1, ""}, {&root, 1, NULL, -1, ""}};
    pthread_t t[2];
    fault_begin();
    for (int r = 0; r < 2; r++)
        pthread_create(&t[r], NULL, join, &j[r]);
    for (int r = 0; r < 2; r++)
        pthread_join(t[r], NULL);
    aclnnStatus s = j[0].status != 0 ? j[0].status : j[1].status;
    if (s != 0)
        qc_fail(s, "test", "%s", j[0].status != 0 ? j[0].reason : j[1].reason);
    fault_end();
    for (int r = 0; r < 2; r++) {
        if (j[r].status != 0)
            CHECK_EQ_I64(HcclCommInitRootInfo(2, &root, (uint32_t)r, &j[r].comm), 0);
        HcclCommDestroy(j[r].comm);
    }
    return s;
}

/* One rank's operands (host memory) and tensors for the operator. */
typedef struct rank_io {
    int8_t x1[M * K], x2[K * N];
    uint64_t words[N];
    uint16_t out[M * N];
    aclTensor *t[4];
    HcclComm comm;
    aclOpExecutor *ex;
    uint64_t wss;
    void *ws;
    aclnnStatus status;
    double ms;
    char reason[512];
} rank_io;

static void io_make(rank_io *io, int r)
{
    for (int i = 0; i < M * K; i++)
        io->x1[i] = (int8_t)(i * 5 + r);
    for (int i = 0; i < K * N; i++)
        io->x2[i] = (int8_t)(i * 3 - r);
    for (int j = 0; j < N; j++)
        io->words[j] = (uint64_t)(0x38800000u + (uint32_t)j * 0x4000u) | (UINT64_C(1) << 46);
    int64_t x1d[2] = {M, K}, x2d[2] = {K, N}, wd[1] = {N}, od[2] = {M, N};
    io->t[0] = aclCreateTensor(x1d, 2, ACL_INT8, NULL, 0, ACL_FORMAT_ND, x1d, 2, io->x1);
    io->t[1] = aclCreateTensor(x2d, 2, ACL_INT8, NULL, 0, ACL_FORMAT_ND, x2d, 2, io->x2);
    io->t[2] = aclCreateTensor(wd, 1, ACL_UINT64, NULL, 0, ACL_FORMAT_ND, wd, 1, io->words);
    io->t[3] = aclCreateTensor(od, 2, ACL_FLOAT16, NULL, 0, ACL_FORMAT_ND, od, 2, io->out);
}

static void io_free(rank_io *io)
{
    for (int i = 0; i < 4; i++)
        aclDestroyTensor(io->t[i]);
    if (io->ex != NULL)
        aclDestroyAclOpExecutor(io->ex);
    free(io->ws);
}

static aclnnStatus io_plan(rank_io *io)
{
    char group[COMM_NAME_MAX_LENGTH];
    HcclGetCommName(io->comm, group);
    return aclnnQuantMatmulAllReduceV3GetWorkspaceSize(io->t[0], io->t[1], NULL, NULL, io->t[2],
                                                       NULL, NULL, NULL, group, "sum", 0, 1,
                                                       io->t[3], &io->wss, &io->ex);
}

static aclnnStatus case_plan(void)
{
    int32_t dev = 0;
    static rank_io io;
    memset(&io, 0, sizeof io);
    if (HcclCommInitAll(1, &dev, &io.comm) != 0)
        return -1;
    io_make(&io, 0);
    fault_begin();
    aclnnStatus s = io_plan(&io);
    fault_end();
    io_free(&io);
    HcclCommDestroy(io.comm);
    return s;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void *run_rank(void *arg)
{
    rank_io *io = arg;
    double t0 = now_ms();
    io->status = aclnnQuantMatmulAllReduceV3(io->ws, io->wss, io->ex, NULL);
    io->ms = now_ms() - t0;
    io->ex = NULL; /* consumed */
    const char *m = aclGetRecentErrMsg();
    snprintf(io->reason, sizeof io->reason, "%s", io->status != 0 && m != NULL ? m : "");
    return NULL;
}

/* The collective on R ranks: when one rank's allocation fails, every rank returns an error, and
 * promptly. */
static aclnnStatus run_ranks(int ranks)
{
    int32_t devs[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    HcclComm comms[8];
    static rank_io io[8];
    memset(io, 0, sizeof io);
    if (HcclCommInitAll((uint32_t)ranks, devs, comms) != 0)
        return -1;
    int planned = 1;
    for (int r = 0; r < ranks; r++) {
        io[r].comm = comms[r];
        io_make(&io[r], r);
        planned &= io_plan(&io[r]) == 0;
        io[r].ws = malloc(io[r].wss);
    }
    aclnnStatus s = planned ? 0 : -1;
    if (planned) {
        pthread_t t[8];
        fault_begin();
        for (int r = 0; r < ranks; r++)
            pthread_create(&t[r], NULL, run_rank, &io[r]);
        for (int r = 0; r < ranks; r++)
            pthread_join(t[r], NULL);
        int failed = 0, slow = 0, reasons = 0;
        for (int r = 0; r < ranks; r++) {
            failed += io[r].status != 0;
            slow += io[r].ms >= PROMPT_MS;
            reasons += io[r].reason[0] != '\0';
        }
        CHECK(failed == 0 || failed == ranks); /* one outcome on every rank */
        CHECK_EQ_I64(slow, 0);
        CHECK_EQ_I64(reasons, failed); /* every failing rank has its reason */
        s = failed == 0 ? 0 : io[0].status != 0 ? io[0].status : io[1].status;
        if (failed > 0) /* rank 0's reason, on this thread, for the sweep */
            qc_fail(s, "test", "%s", io[0].reason[0] != '\0' ? io[0].reason : io[1].reason);
        fault_end();
    }
    for (int r = 0; r < ranks; r++) {
        io_free(&io[r]);
        HcclCommDestroy(comms[r]);
    }
    return s;
}

static aclnnStatus case_run_2(void)
{
    return run_ranks(2);
}

static aclnnStatus case_run_4(void)
{
    return run_ranks(4);
}

static aclnnStatus case_run_8(void)
{
    return run_ranks(8);
}

static aclnnStatus case_trans_weight(void)
{
    int64_t v[2] = {40, 50};
    int64_t dims[2] = {40, 50};
    uint64_t nz = 0, wss = 0;
    aclIntArray *shape = aclCreateIntArray(dims, 2);
    void *buf = NULL, *ws = NULL;
    aclOpExecutor *ex = NULL;
    aclTensor *w = NULL;
    aclnnStatus s = aclnnCalculateMatmulWeightSizeV2(shape, ACL_INT8, &nz);
    if (s == 0)
        s = aclrtMalloc(&buf, nz, ACL_MEM_MALLOC_HUGE_FIRST);
    if (s == 0) {
        memset(buf, 7, 40 * 50);
        w = aclCreateTensor(v, 2, ACL_INT8, NULL, 0, ACL_FORMAT_ND, v, 2, buf);
    }
    if (s == 0) {
        fault_begin();
        s = aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex);
        fault_end();
    }
    if (s == 0)
        s = aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    if (s == 0) {
        fault_begin();
        s = aclnnTransMatmulWeight(ws, wss, ex, NULL);
        fault_end();
    }
    aclDestroyTensor(w);
    aclDestroyIntArray(shape);
    aclrtFree(buf);
    aclrtFree(ws);
    return s;
}

static aclnnStatus case_trans_quant(void)
{
    float scale[4] = {0.5f, 1, 2, 4}, offset[4] = {1, 2, 3, 4};
    uint64_t words[4];
    int64_t d[1] = {4};
    aclTensor *ts = aclCreateTensor(d, 1, ACL_FLOAT, NULL, 0, ACL_FORMAT_ND, d, 1, scale);
    aclTensor *to = aclCreateTensor(d, 1, ACL_FLOAT, NULL, 0, ACL_FORMAT_ND, d, 1, offset);
    aclTensor *tw = aclCreateTensor(d, 1, ACL_UINT64, NULL, 0, ACL_FORMAT_ND, d, 1, words);
    uint64_t wss = 0;
    aclOpExecutor *ex = NULL;
    fault_begin();
    aclnnStatus s = aclnnTransQuantParamV2GetWorkspaceSize(ts, to, tw, &wss, &ex);
    if (s == 0)
        s = aclnnTransQuantParamV2(NULL, 0, ex, NULL);
    fault_end();
    aclDestroyTensor(ts);
    aclDestroyTensor(to);
    aclDestroyTensor(tw);
    return s;
}

int main(void)
{
    aclInit(NULL);
    sweep("aclInit, aclrtSetDevice, Context, Stream", case_runtime);
    sweep("aclrtMalloc, aclrtMallocHost", case_memory);
    sweep("aclCreateTensor, aclCreateIntArray", case_tensors);
    sweep("HcclCommInitAll (4 ranks)", case_hccl_init_all);
    sweep("HcclGetRootInfo, HcclCommInitRootInfo", case_hccl_root_info);
    sweep("HcclCommInitRootInfo (2 ranks, threads)", case_hccl_root_info_2);
    sweep("aclnnQuantMatmulAllReduceV3GetWorkspaceSize", case_plan);
    sweep("aclnnQuantMatmulAllReduceV3 (2 ranks)", case_run_2);
    sweep("aclnnQuantMatmulAllReduceV3 (4 ranks)", case_run_4);
    sweep("aclnnQuantMatmulAllReduceV3 (8 ranks)", case_run_8);
    sweep("aclnnTransMatmulWeight (+GetWorkspaceSize)", case_trans_weight);
    sweep("aclnnTransQuantParamV2 (+GetWorkspaceSize)", case_trans_quant);
    aclFinalize();
    printf("faults: compat: %lld allocation injection points reached\n", (long long)total_points);
    return check_summary();
}
