/* SPDX-License-Identifier: Apache-2.0 */
/* compat under hostile or careless use (issue 12): memory released while an executor refers to
 * it, views larger than their aclrtMalloc block, a re-joined rendezvous, a rank that fails locally
 * while its peers wait (2 and 8 ranks, against the default 60 s timeout), and every handle kind
 * destroyed twice, used after destroy, or stale after its memory was reused. Each case failed (or
 * waited the timeout, or corrupted memory under ASan) before the fix it tests. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "check.h"

#define M 6
#define K 40
#define N 24
#define OUT_BYTES (M * N * 2)

/* Far below the default timeout (60 s) that a peer waited before; generous for ASan on a busy
 * machine. The peers wait about 200 ms for rank 0, which fails late on purpose. */
#define PROMPT_MS 5000

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int message_has(const char *word)
{
    const char *m = aclGetRecentErrMsg();
    return m != NULL && strstr(m, word) != NULL;
}

/* One rank's operands in aclrtMalloc blocks: FP16 output, UINT64 dequant words. */
typedef struct operands {
    void *x1, *x2, *words, *out;
    aclTensor *tx1, *tx2, *tw, *tout;
} operands;

static aclTensor *nd(const int64_t *dims, uint64_t ndim, aclDataType dt, void *data)
{
    return aclCreateTensor(dims, ndim, dt, NULL, 0, ACL_FORMAT_ND, dims, ndim, data);
}

static void operands_make(operands *o, int r)
{
    aclrtMalloc(&o->x1, M * K, ACL_MEM_MALLOC_HUGE_FIRST);
    aclrtMalloc(&o->x2, K * N, ACL_MEM_MALLOC_HUGE_FIRST);
    aclrtMalloc(&o->words, N * 8, ACL_MEM_MALLOC_HUGE_FIRST);
    aclrtMalloc(&o->out, OUT_BYTES, ACL_MEM_MALLOC_HUGE_FIRST);
    for (int i = 0; i < M * K; i++)
        ((int8_t *)o->x1)[i] = (int8_t)(i * 7 + r);
    for (int i = 0; i < K * N; i++)
        ((int8_t *)o->x2)[i] = (int8_t)(i * 11 - r);
    for (int j = 0; j < N; j++)
        ((uint64_t *)o->words)[j] = (uint64_t)(0x38800000u + (uint32_t)j * 0x4000u) |
                                    (UINT64_C(1) << 46);
    memset(o->out, 0, OUT_BYTES);
    int64_t x1d[2] = {M, K}, x2d[2] = {K, N}, wd[1] = {N}, od[2] = {M, N};
    o->tx1 = nd(x1d, 2, ACL_INT8, o->x1);
    o->tx2 = nd(x2d, 2, ACL_INT8, o->x2);
    o->tw = nd(wd, 1, ACL_UINT64, o->words);
    o->tout = nd(od, 2, ACL_FLOAT16, o->out);
}

/* Frees what is still live (aclrtFree of a freed block only returns an error). */
static void operands_free(operands *o)
{
    aclDestroyTensor(o->tx1);
    aclDestroyTensor(o->tx2);
    aclDestroyTensor(o->tw);
    aclDestroyTensor(o->tout);
    aclrtFree(o->x1);
    aclrtFree(o->x2);
    aclrtFree(o->words);
    aclrtFree(o->out);
}

static aclnnStatus plan(operands *o, HcclComm comm, const aclTensor *out, uint64_t *wss,
                        aclOpExecutor **ex)
{
    char group[COMM_NAME_MAX_LENGTH];
    HcclGetCommName(comm, group);
    return aclnnQuantMatmulAllReduceV3GetWorkspaceSize(o->tx1, o->tx2, NULL, NULL, o->tw, NULL,
                                                       NULL, NULL, group, "sum", 0, 1,
                                                       out != NULL ? out : o->tout, wss, ex);
}

/* ---- item 1: memory released, views that leave their block ----------------------------------- */

static void test_freed_blocks(void)
{
    int32_t dev = 0;
    HcclComm comm;
    operands o;
    uint64_t wss;
    aclOpExecutor *ex;
    void *ws = NULL;

    /* An input freed after the plan: the run fails and reads nothing. */
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    operands_make(&o, 0);
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &ex), ACLNN_SUCCESS);
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclrtFree(o.x1), ACL_SUCCESS);
    memset(o.out, 0x5A, OUT_BYTES);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK(message_has("x1") && message_has("freed"));
    CHECK(((unsigned char *)o.out)[0] == 0x5A && ((unsigned char *)o.out)[OUT_BYTES - 1] == 0x5A);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    operands_free(&o);
    HcclCommDestroy(comm);

    /* The output freed and the memory handed to the application again: never written. */
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    operands_make(&o, 0);
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclrtFree(o.out), ACL_SUCCESS);
    void *again = NULL;
    CHECK_EQ_I64(aclrtMalloc(&again, OUT_BYTES, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    memset(again, 0x33, OUT_BYTES);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    int untouched = 1;
    for (int i = 0; i < OUT_BYTES; i++)
        untouched &= ((unsigned char *)again)[i] == 0x33;
    CHECK(untouched);
    aclrtFree(again);
    operands_free(&o);
    HcclCommDestroy(comm);

    /* aclFinalize after the plan releases every block: the run fails. */
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    operands_make(&o, 0);
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclFinalize(), ACL_SUCCESS);
    CHECK_EQ_I64(aclInit(NULL), ACL_SUCCESS);
    ws = NULL;
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK(message_has("freed"));
    operands_free(&o);
    HcclCommDestroy(comm);

    /* A workspace block shorter than the size the caller claims. */
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    operands_make(&o, 0);
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &ex), ACLNN_SUCCESS);
    void *short_ws = NULL;
    aclrtMalloc(&short_ws, wss - 64, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(short_ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK(message_has("workspace"));
    aclrtFree(short_ws);
    operands_free(&o);
    HcclCommDestroy(comm);
    aclrtFree(ws);
}

typedef struct runner {
    void *ws;
    uint64_t wss;
    aclOpExecutor *ex;
    aclnnStatus status;
} runner;

static void *run_one(void *arg)
{
    runner *r = arg;
    r->status = aclnnQuantMatmulAllReduceV3(r->ws, r->wss, r->ex, NULL);
    return NULL;
}

/* aclrtFree of an output on another thread while rank 0's run is inside the collective: the
 * block is unregistered at once, but its memory stays until the run ends (under ASan, a write
 * into freed memory before the fix). */
static void test_free_during_run(void)
{
    int32_t devs[2] = {0, 1};
    HcclComm comms[2];
    CHECK_EQ_I64(HcclCommInitAll(2, devs, comms), HCCL_SUCCESS);
    operands o[2];
    runner r[2];
    for (int i = 0; i < 2; i++) {
        operands_make(&o[i], i);
        CHECK_EQ_I64(plan(&o[i], comms[i], NULL, &r[i].wss, &r[i].ex), ACLNN_SUCCESS);
        r[i].ws = malloc(r[i].wss);
    }
    pthread_t t[2];
    pthread_create(&t[0], NULL, run_one, &r[0]);
    struct timespec wait = {0, 100 * 1000 * 1000}; /* rank 0 now waits for rank 1 */
    nanosleep(&wait, NULL);
    CHECK_EQ_I64(aclrtFree(o[0].out), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(o[0].out), ACL_ERROR_INVALID_PARAM); /* unregistered at once */
    pthread_create(&t[1], NULL, run_one, &r[1]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_I64(r[0].status, ACLNN_SUCCESS); /* it held the block from its start */
    CHECK_EQ_I64(r[1].status, ACLNN_SUCCESS);
    for (int i = 0; i < 2; i++) {
        operands_free(&o[i]);
        free(r[i].ws);
        HcclCommDestroy(comms[i]);
    }
}

static void test_views_leave_block(void)
{
    int32_t dev = 0;
    HcclComm comm;
    operands o;
    uint64_t wss = 7;
    aclOpExecutor *ex = NULL;
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    operands_make(&o, 0);
    int64_t od[2] = {M, N}, big[1] = {M * N + 8}, strides[2] = {N, 1};

    /* The output view ends one element past its block. */
    void *short_out = NULL;
    aclrtMalloc(&short_out, OUT_BYTES - 2, ACL_MEM_MALLOC_HUGE_FIRST);
    aclTensor *t = nd(od, 2, ACL_FLOAT16, short_out);
    CHECK_EQ_I64(plan(&o, comm, t, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK(ex == NULL && wss == 0);
    CHECK(message_has("output") && message_has("leave the block"));
    aclDestroyTensor(t);

    /* An offset (declared storage large enough) that moves the view past the block end. */
    t = aclCreateTensor(od, 2, ACL_FLOAT16, strides, 8, ACL_FORMAT_ND, big, 1, o.out);
    CHECK_EQ_I64(plan(&o, comm, t, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    aclDestroyTensor(t);
    /* The same view placed inside a large enough block is fine. */
    void *roomy = NULL;
    aclrtMalloc(&roomy, (M * N + 8) * 2, ACL_MEM_MALLOC_HUGE_FIRST);
    t = aclCreateTensor(od, 2, ACL_FLOAT16, strides, 8, ACL_FORMAT_ND, big, 1, roomy);
    CHECK_EQ_I64(plan(&o, comm, t, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(ex), ACLNN_SUCCESS);
    aclDestroyTensor(t);

    /* A view that starts in the middle of a block and runs past it (an input, too). */
    int64_t x1d[2] = {M, K};
    aclTensor *x1 = nd(x1d, 2, ACL_INT8, (char *)o.x1 + 1);
    aclTensor *saved = o.tx1;
    o.tx1 = x1;
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &ex), ACLNN_ERR_PARAM_INVALID);
    CHECK(message_has("x1"));
    o.tx1 = saved;
    aclDestroyTensor(x1);

    /* Host memory not from aclrtMalloc is trusted, as before. */
    static uint16_t host_out[M * N];
    t = nd(od, 2, ACL_FLOAT16, host_out);
    CHECK_EQ_I64(plan(&o, comm, t, &wss, &ex), ACLNN_SUCCESS);
    void *ws = NULL;
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, ex, NULL), ACLNN_SUCCESS);
    aclDestroyTensor(t);
    aclrtFree(ws);
    aclrtFree(short_out);
    aclrtFree(roomy);
    operands_free(&o);
    HcclCommDestroy(comm);
}

static void test_helpers_freed_blocks(void)
{
    /* TransMatmulWeight: the weight's block freed and reallocated after the plan. A 32 x 64
     * weight's NZ form is no larger than its ND form, so the old check let it through. */
    void *buf = NULL, *ws = NULL;
    aclrtMalloc(&buf, 32 * 64, ACL_MEM_MALLOC_HUGE_FIRST);
    int64_t v[2] = {32, 64};
    aclTensor *w = nd(v, 2, ACL_INT8, buf);
    uint64_t wss = 0;
    aclOpExecutor *ex = NULL;
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(w, &wss, &ex), ACLNN_SUCCESS);
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclrtFree(buf), ACL_SUCCESS);
    void *again = NULL;
    aclrtMalloc(&again, 32 * 64, ACL_MEM_MALLOC_HUGE_FIRST);
    memset(again, 0x11, 32 * 64);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK(((unsigned char *)again)[0] == 0x11 && ((unsigned char *)again)[2047] == 0x11);
    aclDestroyTensor(w);
    aclrtFree(again);
    aclrtFree(ws);

    /* TransQuantParamV2: out freed after the plan; out larger than its block at the plan. */
    void *scale = NULL, *out = NULL;
    aclrtMalloc(&scale, 4 * 4, ACL_MEM_MALLOC_HUGE_FIRST);
    aclrtMalloc(&out, 4 * 8, ACL_MEM_MALLOC_HUGE_FIRST);
    float ones[4] = {1, 1, 1, 1};
    memcpy(scale, ones, sizeof ones);
    int64_t four[1] = {4}, five[1] = {5};
    aclTensor *s = nd(four, 1, ACL_FLOAT, scale), *o = nd(four, 1, ACL_UINT64, out);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s, NULL, o, &wss, &ex), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclrtFree(out), ACL_SUCCESS);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, ex, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK(message_has("out") && message_has("freed"));
    aclDestroyTensor(o);
    aclrtMalloc(&out, 4 * 8, ACL_MEM_MALLOC_HUGE_FIRST);
    aclTensor *s5 = nd(five, 1, ACL_FLOAT, scale), *o5 = nd(five, 1, ACL_UINT64, out);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s, NULL, o5, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* 1-D scale of 4, out of 5: a shape error first */
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(s5, NULL, o5, &wss, &ex),
                 ACLNN_ERR_PARAM_INVALID); /* 5 elements in blocks of 4 */
    CHECK(message_has("leave the block"));
    aclDestroyTensor(s);
    aclDestroyTensor(s5);
    aclDestroyTensor(o5);
    aclrtFree(scale);
    aclrtFree(out);
}

/* ---- item 2: a closed rendezvous ------------------------------------------------------------- */

typedef struct joiner {
    const HcclRootInfo *root;
    uint32_t nranks, rank;
    HcclComm comm;
    HcclResult result;
} joiner;

static void *join(void *arg)
{
    joiner *j = arg;
    j->result = HcclCommInitRootInfo(j->nranks, j->root, j->rank, &j->comm);
    return NULL;
}

static void test_closed_rendezvous(void)
{
    HcclRootInfo root;
    CHECK_EQ_I64(HcclGetRootInfo(&root), HCCL_SUCCESS);
    joiner j[2] = {{&root, 2, 0, NULL, HCCL_E_RESERVED}, {&root, 2, 1, NULL, HCCL_E_RESERVED}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, join, &j[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK(j[0].result == HCCL_SUCCESS && j[1].result == HCCL_SUCCESS);
    HcclComm late = NULL;
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &root, 0, &late), HCCL_E_PARA);
    CHECK(late == NULL && message_has("closed"));
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &root, 1, &late), HCCL_E_PARA);
    CHECK_EQ_I64(HcclCommInitRootInfo(4, &root, 3, &late), HCCL_E_PARA);
    /* Still closed once its endpoints are destroyed. */
    HcclCommDestroy(j[0].comm);
    HcclCommDestroy(j[1].comm);
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &root, 0, &late), HCCL_E_PARA);
    /* A root info with an id that was never issued. */
    HcclRootInfo forged = root;
    uint64_t id = UINT64_C(1) << 62;
    memcpy(forged.internal + 24, &id, sizeof id);
    CHECK_EQ_I64(HcclCommInitRootInfo(2, &forged, 0, &late), HCCL_E_PARA);
}

/* ---- item 3: a rank that fails locally breaks its group at once ------------------------------ */

enum failure { FAIL_STREAM, FAIL_STALE_EXECUTOR, FAIL_CONSUMED_EXECUTOR, FAIL_NULL_WORKSPACE,
               FAIL_SHORT_WORKSPACE, FAIL_FREED_BLOCK, FAIL_COUNT };
static const char *const failure_names[FAIL_COUNT] = {
    "destroyed stream", "destroyed executor", "consumed executor", "NULL workspace",
    "short workspace size", "freed block"};

typedef struct rank_job {
    HcclComm comm;
    int rank;
    enum failure how; /* what rank 0 does */
    aclnnStatus status;
    double ms;
} rank_job;

static void *rank_main(void *arg)
{
    rank_job *j = arg;
    aclrtSetDevice(j->rank);
    operands o;
    operands_make(&o, j->rank);
    uint64_t wss = 0;
    aclOpExecutor *ex = NULL;
    j->status = plan(&o, j->comm, NULL, &wss, &ex);
    void *ws = NULL;
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    aclrtStream stream = NULL;
    aclrtCreateStream(&stream);
    if (j->rank == 0 && j->status == ACLNN_SUCCESS) {
        switch (j->how) {
        case FAIL_STREAM:
            aclrtDestroyStream(stream);
            break;
        case FAIL_STALE_EXECUTOR:
            aclDestroyAclOpExecutor(ex);
            break;
        case FAIL_CONSUMED_EXECUTOR: /* a run that fails, then the consumed handle again */
            aclnnQuantMatmulAllReduceV3(ws, wss, ex, (aclrtStream)&wss);
            break;
        case FAIL_NULL_WORKSPACE:
            aclrtFree(ws);
            ws = NULL;
            break;
        case FAIL_SHORT_WORKSPACE:
            wss -= 1;
            break;
        case FAIL_FREED_BLOCK:
            aclrtFree(o.x2);
            break;
        default:
            break;
        }
    }
    if (j->rank == 0) { /* fail while the peers already wait in the collective */
        struct timespec late = {0, 200 * 1000 * 1000};
        nanosleep(&late, NULL);
    }
    double t0 = now_ms();
    if (j->status == ACLNN_SUCCESS)
        j->status = aclnnQuantMatmulAllReduceV3(ws, wss, ex, stream);
    j->ms = now_ms() - t0;
    if (!(j->rank == 0 && j->how == FAIL_STREAM))
        aclrtDestroyStream(stream);
    if (ws != NULL)
        aclrtFree(ws);
    operands_free(&o);
    return NULL;
}

static void check_prompt_failure(int ranks, enum failure how)
{
    int32_t devs[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    HcclComm comms[8];
    CHECK_EQ_I64(HcclCommInitAll((uint32_t)ranks, devs, comms), HCCL_SUCCESS);
    rank_job jobs[8];
    pthread_t t[8];
    for (int r = 0; r < ranks; r++) {
        jobs[r] = (rank_job){.comm = comms[r], .rank = r, .how = how, .status = -1};
        pthread_create(&t[r], NULL, rank_main, &jobs[r]);
    }
    for (int r = 0; r < ranks; r++)
        pthread_join(t[r], NULL);
    double slowest = 0;
    int errors = 0;
    for (int r = 0; r < ranks; r++) {
        errors += jobs[r].status != ACLNN_SUCCESS;
        slowest = jobs[r].ms > slowest ? jobs[r].ms : slowest;
    }
    CHECK_EQ_I64(errors, ranks);
    CHECK(jobs[0].status == ACLNN_ERR_PARAM_INVALID);
    for (int r = 1; r < ranks; r++)
        CHECK_EQ_I64(jobs[r].status, ACLNN_ERR_RUNTIME_ERROR);
    CHECK(slowest < PROMPT_MS);
    printf("prompt failure: %d ranks, rank 0 %s: %d of %d ranks failed, the slowest after %.1f ms "
           "(default timeout 60000 ms)\n",
           ranks, failure_names[how], errors, ranks, slowest);
    for (int r = 0; r < ranks; r++)
        CHECK_EQ_I64(HcclCommDestroy(comms[r]), HCCL_SUCCESS);
}

/* ---- item 4: handles destroyed twice, used after destroy, stale after reuse ----------------- */

static void test_handles(void)
{
    /* Executors of every kind: run or destroy after consume or destroy, and a stale handle whose
     * memory went to a new executor (malloc reuses it at once) never reaches the new one. */
    int32_t dev = 0;
    HcclComm comm;
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    operands o;
    operands_make(&o, 0);
    uint64_t wss;
    aclOpExecutor *a = NULL, *b = NULL;
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &a), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(a), ACLNN_SUCCESS);
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &b), ACLNN_SUCCESS);
    CHECK(a != b);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(a), ACLNN_ERR_PARAM_INVALID);
    void *ws = NULL;
    aclrtMalloc(&ws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, b, NULL), ACLNN_SUCCESS); /* b is intact */
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, b, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(b), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeight(ws, wss, b, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, b, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclDestroyAclOpExecutor((aclOpExecutor *)&wss), ACLNN_ERR_PARAM_INVALID);

    /* Running a stale handle failed on this rank, so it broke the group. */
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &a), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, a, NULL), ACLNN_ERR_RUNTIME_ERROR);
    CHECK_EQ_I64(HcclCommDestroy(comm), HCCL_SUCCESS);

    /* An executor keeps its communicator usable after HcclCommDestroy; new plans refuse it. */
    CHECK_EQ_I64(HcclCommInitAll(1, &dev, &comm), HCCL_SUCCESS);
    CHECK_EQ_I64(plan(&o, comm, NULL, &wss, &a), ACLNN_SUCCESS);
    char group[COMM_NAME_MAX_LENGTH];
    uint64_t n_unused;
    HcclGetCommName(comm, group);
    CHECK_EQ_I64(HcclCommDestroy(comm), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommDestroy(comm), HCCL_E_PARA);
    CHECK_EQ_I64(HcclGetCommName(comm, group), HCCL_E_PARA);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3GetWorkspaceSize(o.tx1, o.tx2, NULL, NULL, o.tw, NULL,
                                                             NULL, NULL, group, "sum", 0, 1,
                                                             o.tout, &n_unused, &b),
                 ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnQuantMatmulAllReduceV3(ws, wss, a, NULL), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(a), ACLNN_ERR_PARAM_INVALID);
    aclrtFree(ws);
    operands_free(&o);

    /* The helpers' executors: run after run, destroy after run, destroy twice, run after destroy. */
    float scale[2] = {1, 2};
    uint64_t words[2];
    int64_t two[1] = {2};
    aclTensor *ts = nd(two, 1, ACL_FLOAT, scale), *tw = nd(two, 1, ACL_UINT64, words);
    aclOpExecutor *q = NULL;
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(ts, NULL, tw, &wss, &q), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, q, NULL), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, q, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(q), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransQuantParamV2GetWorkspaceSize(ts, NULL, tw, &wss, &q), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(q), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(q), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransQuantParamV2(NULL, 0, q, NULL), ACLNN_ERR_PARAM_INVALID);
    aclDestroyTensor(ts);
    aclDestroyTensor(tw);
    void *wbuf = NULL, *wws = NULL;
    aclrtMalloc(&wbuf, 32 * 64, ACL_MEM_MALLOC_HUGE_FIRST);
    int64_t wd[2] = {32, 64};
    aclTensor *wt = nd(wd, 2, ACL_INT8, wbuf);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(wt, &wss, &q), ACLNN_SUCCESS);
    aclrtMalloc(&wws, wss, ACL_MEM_MALLOC_HUGE_FIRST);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(q), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(q), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeight(wws, wss, q, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnTransMatmulWeightGetWorkspaceSize(wt, &wss, &q), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyTensor(wt), ACLNN_SUCCESS); /* the weight goes before the run */
    CHECK_EQ_I64(aclnnTransMatmulWeight(wws, wss, q, NULL), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclDestroyAclOpExecutor(q), ACLNN_ERR_PARAM_INVALID);
    aclrtFree(wbuf);
    aclrtFree(wws);

    /* Tensors, int arrays, streams, contexts, blocks: twice destroyed, used after destroy. */
    int64_t d[1] = {4};
    float f[4];
    aclTensor *t = nd(d, 1, ACL_FLOAT, f);
    CHECK_EQ_I64(aclDestroyTensor(t), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyTensor(t), ACLNN_ERR_PARAM_INVALID);
    aclDataType dt;
    CHECK_EQ_I64(aclGetDataType(t, &dt), ACLNN_ERR_PARAM_INVALID);
    int64_t *shape = NULL;
    uint64_t n = 0;
    CHECK_EQ_I64(aclGetViewShape(t, &shape, &n), ACLNN_ERR_PARAM_INVALID);
    aclIntArray *arr = aclCreateIntArray(d, 1);
    CHECK_EQ_I64(aclDestroyIntArray(arr), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyIntArray(arr), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclnnCalculateMatmulWeightSizeV2(arr, ACL_INT8, &n), ACLNN_ERR_PARAM_INVALID);
    aclrtSetDevice(0);
    aclrtStream s = NULL;
    CHECK_EQ_I64(aclrtCreateStream(&s), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyStream(s), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyStream(s), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSynchronizeStream(s), ACL_ERROR_INVALID_PARAM);
    aclrtContext c = NULL;
    CHECK_EQ_I64(aclrtCreateContext(&c, 1), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyContext(c), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyContext(c), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSetCurrentContext(c), ACL_ERROR_INVALID_PARAM);
    void *p = NULL;
    CHECK_EQ_I64(aclrtMalloc(&p, 64, ACL_MEM_MALLOC_HUGE_FIRST), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(p), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtFree(p), ACL_ERROR_INVALID_PARAM);
}

/* Threads that read, destroy and replace one shared tensor handle at once: every call returns
 * success or 161002, every tensor is destroyed exactly once, and (under ASan) no call reads a
 * descriptor another thread has freed. */
enum { RACERS = 4, RACE_ROUNDS = 3000 };
static _Atomic(aclTensor *) shared_tensor;
static float race_data[4];

typedef struct racer {
    long created, destroyed, odd_status;
} racer;

static void *race(void *arg)
{
    racer *me = arg;
    int64_t d[1] = {4};
    for (int i = 0; i < RACE_ROUNDS; i++) {
        aclTensor *h = atomic_load(&shared_tensor);
        aclDataType dt;
        aclnnStatus s = aclGetDataType(h, &dt);
        me->odd_status += s != ACLNN_SUCCESS && s != ACLNN_ERR_PARAM_INVALID;
        s = aclDestroyTensor(h);
        me->odd_status += s != ACLNN_SUCCESS && s != ACLNN_ERR_PARAM_INVALID;
        me->destroyed += s == ACLNN_SUCCESS;
        aclTensor *fresh = nd(d, 1, ACL_FLOAT, race_data);
        me->created += fresh != NULL;
        aclTensor *old = atomic_exchange(&shared_tensor, fresh);
        if (aclDestroyTensor(old) == ACLNN_SUCCESS)
            me->destroyed++;
    }
    return NULL;
}

static void test_concurrent_destroy(void)
{
    int64_t d[1] = {4};
    atomic_store(&shared_tensor, nd(d, 1, ACL_FLOAT, race_data));
    racer r[RACERS] = {{0}};
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++)
        pthread_create(&t[i], NULL, race, &r[i]);
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    long created = 1, destroyed = 0, odd = 0;
    for (int i = 0; i < RACERS; i++) {
        created += r[i].created;
        destroyed += r[i].destroyed;
        odd += r[i].odd_status;
    }
    destroyed += aclDestroyTensor(atomic_load(&shared_tensor)) == ACLNN_SUCCESS;
    CHECK_EQ_I64(odd, 0);
    CHECK_EQ_I64(destroyed, created);
}

/* Runs every section, or (for checking a section against an older build) only those named on the
 * command line: freed during views helpers rendezvous prompt handles. */
static int wanted(int argc, char **argv, const char *section)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], section) == 0)
            return 1;
    return 0;
}

/* A handle destroyed, then a new object of its kind made (malloc hands out the same memory at
 * once): the stale handle must stay an error and never reach the new object. */
static void test_stale_after_reuse(void)
{
    int64_t d[1] = {4};
    float f[4];
    aclDataType dt;
    aclTensor *t1 = nd(d, 1, ACL_FLOAT, f);
    aclDestroyTensor(t1);
    aclTensor *t2 = nd(d, 1, ACL_FLOAT, f);
    CHECK(t1 != t2);
    CHECK_EQ_I64(aclDestroyTensor(t1), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclGetDataType(t2, &dt), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyTensor(t2), ACLNN_SUCCESS);

    uint64_t n = 0;
    aclIntArray *a1 = aclCreateIntArray(d, 1);
    aclDestroyIntArray(a1);
    aclIntArray *a2 = aclCreateIntArray(d, 1);
    CHECK(a1 != a2);
    CHECK_EQ_I64(aclDestroyIntArray(a1), ACLNN_ERR_PARAM_INVALID);
    CHECK_EQ_I64(aclGetIntArraySize(a2, &n), ACLNN_SUCCESS);
    CHECK_EQ_I64(aclDestroyIntArray(a2), ACLNN_SUCCESS);

    aclrtSetDevice(0);
    aclrtStream s1 = NULL, s2 = NULL;
    aclrtCreateStream(&s1);
    aclrtDestroyStream(s1);
    aclrtCreateStream(&s2);
    CHECK(s1 != s2);
    CHECK_EQ_I64(aclrtDestroyStream(s1), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtSynchronizeStream(s2), ACL_SUCCESS);
    CHECK_EQ_I64(aclrtDestroyStream(s2), ACL_SUCCESS);

    aclrtContext c1 = NULL, c2 = NULL, cur = NULL;
    aclrtCreateContext(&c1, 1);
    aclrtDestroyContext(c1);
    aclrtCreateContext(&c2, 2);
    CHECK(c1 != c2);
    CHECK_EQ_I64(aclrtDestroyContext(c1), ACL_ERROR_INVALID_PARAM);
    CHECK_EQ_I64(aclrtGetCurrentContext(&cur), ACL_SUCCESS);
    CHECK(cur == c2);
    CHECK_EQ_I64(aclrtDestroyContext(c2), ACL_SUCCESS);

    int32_t dev = 0;
    uint32_t rank = 9;
    HcclComm h1 = NULL, h2 = NULL;
    HcclCommInitAll(1, &dev, &h1);
    HcclCommDestroy(h1);
    HcclCommInitAll(1, &dev, &h2);
    CHECK(h1 != h2);
    CHECK_EQ_I64(HcclCommDestroy(h1), HCCL_E_PARA);
    CHECK_EQ_I64(HcclGetRankId(h2, &rank), HCCL_SUCCESS);
    CHECK_EQ_I64(HcclCommDestroy(h2), HCCL_SUCCESS);

    /* Executors, many times over: all handles distinct, every stale destroy refused. */
    HcclCommInitAll(1, &dev, &h1);
    operands o;
    operands_make(&o, 0);
    enum { ROUNDS = 32 };
    aclOpExecutor *seen[ROUNDS];
    uint64_t wss;
    int distinct = 1, refused = 0;
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_EQ_I64(plan(&o, h1, NULL, &wss, &seen[i]), ACLNN_SUCCESS);
        for (int j = 0; j < i; j++) {
            distinct &= seen[j] != seen[i];
            refused += aclDestroyAclOpExecutor(seen[j]) == ACLNN_ERR_PARAM_INVALID;
        }
        CHECK_EQ_I64(aclDestroyAclOpExecutor(seen[i]), ACLNN_SUCCESS);
    }
    CHECK(distinct);
    CHECK_EQ_I64(refused, ROUNDS * (ROUNDS - 1) / 2);
    operands_free(&o);
    HcclCommDestroy(h1);
}

int main(int argc, char **argv)
{
    CHECK_EQ_I64(aclInit(NULL), ACL_SUCCESS);
    if (wanted(argc, argv, "freed"))
        test_freed_blocks();
    if (wanted(argc, argv, "during"))
        test_free_during_run();
    if (wanted(argc, argv, "views"))
        test_views_leave_block();
    if (wanted(argc, argv, "helpers"))
        test_helpers_freed_blocks();
    if (wanted(argc, argv, "rendezvous"))
        test_closed_rendezvous();
    for (int how = 0; how < FAIL_COUNT && wanted(argc, argv, "prompt"); how++) {
        check_prompt_failure(2, (enum failure)how);
        check_prompt_failure(8, (enum failure)how);
    }
    if (wanted(argc, argv, "handles")) {
        test_handles();
        test_stale_after_reuse();
        test_concurrent_destroy();
    }
    CHECK_EQ_I64(aclFinalize(), ACL_SUCCESS);
    return check_summary();
}
