/* SPDX-License-Identifier: Apache-2.0 */
/* Test-only: checks a host program's aclnn results against qmar's integer-exact model without
 * touching the program or the production compat library.
 *
 * Linked into a host program together with `-Wl,--wrap=<function>` for each function below
 * (compat/check/meson.build), it sees each call before and after the real one:
 *   HcclCommInitAll, HcclCommInitRootInfo      which group name is which rank of which group;
 *   aclnnQuantMatmulAllReduce{,V2,V3}(GetWorkspaceSize)
 *                                               every rank's inputs (copied just before its run)
 *                                               and output (just after); when all ranks of one
 *                                               collective call have run, the model
 *                                               (spec/model) computes every rank's output from
 *                                               the copies and each is compared bit for bit;
 *   aclnnTransMatmulWeight(GetWorkspaceSize)    the ND weight before, the NZ buffer and the
 *                                               descriptor after, against model_nz_from_nd;
 *   aclnnTransQuantParamV2(GetWorkspaceSize)    the words against model_trans_quant_param_v2.
 * Tensors are read through CANN's public getters only. One line per check goes to stderr; at exit
 * a summary line "compat-check summary: ..." follows, and the process exits with status 1 if
 * anything differed, failed, or a collective call never completed.
 * QMAR_COMPAT_CHECK_CORRUPT=1 flips one bit of rank 0's copied output before the comparison: the
 * check's own test that a difference is caught. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aclnnop/aclnn_quant_matmul_all_reduce.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v2.h"
#include "aclnnop/aclnn_quant_matmul_all_reduce_v3.h"
#include "aclnnop/aclnn_trans_matmul_weight.h"
#include "aclnnop/aclnn_trans_quant_param_v2.h"
#include "model.h"
#include "tensor_info.h"

/* The real functions, reached through --wrap. */
HcclResult __real_HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms);
HcclResult __real_HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo,
                                       uint32_t rank, HcclComm *comm);
aclnnStatus __real_aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequant, const aclTensor *pertoken, const aclTensor *s1, const aclTensor *s2,
    const char *group, const char *reduceOp, int64_t commTurn, int64_t streamMode,
    const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor);
aclnnStatus __real_aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequant, const aclTensor *pertoken, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus __real_aclnnQuantMatmulAllReduceGetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequant, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor);
aclnnStatus __real_aclnnQuantMatmulAllReduceV3(void *ws, uint64_t wss, aclOpExecutor *ex,
                                               const aclrtStream stream);
aclnnStatus __real_aclnnQuantMatmulAllReduceV2(void *ws, uint64_t wss, aclOpExecutor *ex,
                                               const aclrtStream stream);
aclnnStatus __real_aclnnQuantMatmulAllReduce(void *ws, uint64_t wss, aclOpExecutor *ex,
                                             const aclrtStream stream);
aclnnStatus __real_aclnnTransMatmulWeightGetWorkspaceSize(aclTensor *w, uint64_t *wss,
                                                          aclOpExecutor **ex);
aclnnStatus __real_aclnnTransMatmulWeight(void *ws, uint64_t wss, aclOpExecutor *ex,
                                          aclrtStream stream);
aclnnStatus __real_aclnnTransQuantParamV2GetWorkspaceSize(const aclTensor *scale,
                                                          const aclTensor *offset,
                                                          const aclTensor *out, uint64_t *wss,
                                                          aclOpExecutor **ex);
aclnnStatus __real_aclnnTransQuantParamV2(void *ws, uint64_t wss, aclOpExecutor *ex,
                                          const aclrtStream stream);

#define MAX_RANKS QMAR_COMM_MAX_RANKS
enum { X1, X2, BIAS, X3, DEQ, PERTOKEN, S1, S2, OUT, NSLOTS };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
    long collectives, rank_outputs, bit_exact, wrong_ranks;
    long weight_ok, weight_bad, quant_ok, quant_bad, errors;
} tally;

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "compat-check: out of memory\n");
        _exit(2);
    }
    return p;
}

static void error_line(const char *fmt, const char *what)
{
    fprintf(stderr, "compat-check: ERROR ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n");
    pthread_mutex_lock(&lock);
    tally.errors++;
    pthread_mutex_unlock(&lock);
}

/* ---- small lists keyed by a pointer (executors) or a name (group endpoints) ---------------- */

typedef struct node {
    struct node *next;
    const void *key;
    void *value;
} node;

static void push(node **list, const void *key, void *value)
{
    node *n = xmalloc(sizeof *n);
    *n = (node){*list, key, value};
    pthread_mutex_lock(&lock);
    n->next = *list;
    *list = n;
    pthread_mutex_unlock(&lock);
}

static void *pop(node **list, const void *key)
{
    void *value = NULL;
    pthread_mutex_lock(&lock);
    for (node **p = list; *p != NULL; p = &(*p)->next) {
        if ((*p)->key == key) {
            node *n = *p;
            *p = n->next;
            value = n->value;
            free(n);
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return value;
}

/* Which rank of which group a group name is. */
typedef struct endpoint {
    struct endpoint *next;
    char name[COMM_NAME_MAX_LENGTH];
    int gid, rank, size;
} endpoint;
static endpoint *endpoints;
static int next_gid;

static void add_endpoint(HcclComm comm, int gid, int rank, int size)
{
    endpoint *e = xmalloc(sizeof *e);
    memset(e, 0, sizeof *e);
    if (HcclGetCommName(comm, e->name) != HCCL_SUCCESS) {
        free(e);
        error_line("%s", "HcclGetCommName failed on a new communicator");
        return;
    }
    e->gid = gid;
    e->rank = rank;
    e->size = size;
    pthread_mutex_lock(&lock);
    e->next = endpoints;
    endpoints = e;
    pthread_mutex_unlock(&lock);
}

static int find_endpoint(const char *name, endpoint *out)
{
    int found = 0;
    pthread_mutex_lock(&lock);
    for (endpoint *e = endpoints; e != NULL && !found; e = e->next)
        if (strncmp(e->name, name, COMM_NAME_MAX_LENGTH) == 0) {
            *out = *e;
            found = 1;
        }
    pthread_mutex_unlock(&lock);
    return found;
}

HcclResult __wrap_HcclCommInitAll(uint32_t ndev, int32_t *devices, HcclComm *comms)
{
    HcclResult r = __real_HcclCommInitAll(ndev, devices, comms);
    if (r == HCCL_SUCCESS) {
        pthread_mutex_lock(&lock);
        int gid = next_gid++;
        pthread_mutex_unlock(&lock);
        for (uint32_t i = 0; i < ndev; i++)
            add_endpoint(comms[i], gid, (int)i, (int)ndev);
    }
    return r;
}

/* Root infos seen, so all ranks of one root info get one group id. */
typedef struct root_seen {
    struct root_seen *next;
    unsigned char key[64];
    int gid;
} root_seen;
static root_seen *roots;

HcclResult __wrap_HcclCommInitRootInfo(uint32_t nRanks, const HcclRootInfo *rootInfo,
                                       uint32_t rank, HcclComm *comm)
{
    HcclResult r = __real_HcclCommInitRootInfo(nRanks, rootInfo, rank, comm);
    if (r != HCCL_SUCCESS)
        return r;
    int gid = -1;
    pthread_mutex_lock(&lock);
    for (root_seen *s = roots; s != NULL && gid < 0; s = s->next)
        if (memcmp(s->key, rootInfo->internal, sizeof s->key) == 0)
            gid = s->gid;
    if (gid < 0) {
        root_seen *s = xmalloc(sizeof *s);
        memcpy(s->key, rootInfo->internal, sizeof s->key);
        s->gid = gid = next_gid++;
        s->next = roots;
        roots = s;
    }
    pthread_mutex_unlock(&lock);
    add_endpoint(*comm, gid, (int)rank, (int)nRanks);
    return r;
}

/* ---- QuantMatmulAllReduce: plans, snapshots, collectives ------------------------------------ */

typedef struct plan {
    const aclTensor *t[NSLOTS];
    char group[COMM_NAME_MAX_LENGTH];
} plan;
static node *plans;

static void record_plan(aclnnStatus s, aclOpExecutor **executor, const aclTensor *const t[NSLOTS],
                        const char *group)
{
    if (s != ACLNN_SUCCESS || executor == NULL || *executor == NULL)
        return;
    plan *p = xmalloc(sizeof *p);
    memcpy(p->t, t, sizeof p->t);
    snprintf(p->group, sizeof p->group, "%s", group);
    push(&plans, *executor, p);
}

aclnnStatus __wrap_aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequant, const aclTensor *pertoken, const aclTensor *s1, const aclTensor *s2,
    const char *group, const char *reduceOp, int64_t commTurn, int64_t streamMode,
    const aclTensor *output, uint64_t *workspaceSize, aclOpExecutor **executor)
{
    aclnnStatus s = __real_aclnnQuantMatmulAllReduceV3GetWorkspaceSize(
        x1, x2, bias, x3, dequant, pertoken, s1, s2, group, reduceOp, commTurn, streamMode, output,
        workspaceSize, executor);
    const aclTensor *t[NSLOTS] = {x1, x2, bias, x3, dequant, pertoken, s1, s2, output};
    record_plan(s, executor, t, group);
    return s;
}

aclnnStatus __wrap_aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequant, const aclTensor *pertoken, const char *group, const char *reduceOp,
    int64_t commTurn, int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor)
{
    aclnnStatus s = __real_aclnnQuantMatmulAllReduceV2GetWorkspaceSize(
        x1, x2, bias, x3, dequant, pertoken, group, reduceOp, commTurn, streamMode, output,
        workspaceSize, executor);
    const aclTensor *t[NSLOTS] = {x1, x2, bias, x3, dequant, pertoken, NULL, NULL, output};
    record_plan(s, executor, t, group);
    return s;
}

aclnnStatus __wrap_aclnnQuantMatmulAllReduceGetWorkspaceSize(
    const aclTensor *x1, const aclTensor *x2, const aclTensor *bias, const aclTensor *x3,
    const aclTensor *dequant, const char *group, const char *reduceOp, int64_t commTurn,
    int64_t streamMode, const aclTensor *output, uint64_t *workspaceSize,
    aclOpExecutor **executor)
{
    aclnnStatus s = __real_aclnnQuantMatmulAllReduceGetWorkspaceSize(
        x1, x2, bias, x3, dequant, group, reduceOp, commTurn, streamMode, output, workspaceSize,
        executor);
    const aclTensor *t[NSLOTS] = {x1, x2, bias, x3, dequant, NULL, NULL, NULL, output};
    record_plan(s, executor, t, group);
    return s;
}

/* One rank's call: copies of everything the model needs. */
typedef struct snap {
    aclnnStatus status;
    int64_t m, k, n, scale_count;
    int32_t y, dequant_dtype;
    model_x2_layout layout;
    int8_t *x1, *x2_stored;
    int32_t *bias;
    void *dequant;
    uint32_t *pertoken;
    uint16_t *x3, *s1, *s2, *out;
} snap;

static void snap_free(snap *s)
{
    if (s == NULL)
        return;
    free(s->x1);
    free(s->x2_stored);
    free(s->bias);
    free(s->dequant);
    free(s->pertoken);
    free(s->x3);
    free(s->s1);
    free(s->s2);
    free(s->out);
    free(s);
}

static int is_contiguous(const cc_tensor *t)
{
    uint64_t rs = 1;
    for (uint64_t i = t->ndim; i-- > 0;) {
        if (t->view[i] != 1 && (uint64_t)t->strides[i] != rs)
            return 0;
        rs *= (uint64_t)t->view[i];
    }
    return 1;
}

static uint64_t elems(const cc_tensor *t)
{
    uint64_t n = 1;
    for (uint64_t i = 0; i < t->ndim; i++)
        n *= (uint64_t)t->view[i];
    return n;
}

static size_t esize(int32_t dtype)
{
    return (size_t)qmar_dtype_size((qmar_dtype)dtype);
}

static void *copy_elems(const cc_tensor *t, uint64_t count)
{
    size_t es = esize(t->dtype), bytes = (size_t)count * es;
    void *p = xmalloc(bytes);
    memcpy(p, (const char *)t->data + (size_t)t->offset * es, bytes);
    return p;
}

/* Copies one rank's inputs (the call validated them, so shapes are consistent). NULL if a tensor
 * cannot be read. */
static snap *snapshot(const plan *p)
{
    cc_tensor t[NSLOTS];
    int present[NSLOTS];
    for (int i = 0; i < NSLOTS; i++) {
        present[i] = p->t[i] != NULL;
        if (present[i] && cc_tensor_info(p->t[i], &t[i]) != 0)
            return NULL;
    }
    snap *s = xmalloc(sizeof *s);
    memset(s, 0, sizeof *s);
    s->k = t[X1].view[t[X1].ndim - 1];
    s->m = (int64_t)(elems(&t[X1]) / (uint64_t)s->k);
    s->n = t[OUT].view[t[OUT].ndim - 1];
    s->y = t[OUT].dtype;
    s->x1 = copy_elems(&t[X1], (uint64_t)(s->m * s->k));
    int nz = t[X2].format == ACL_FORMAT_FRACTAL_NZ, transposed = !is_contiguous(&t[X2]);
    s->layout = nz ? (transposed ? MODEL_X2_NZ_T : MODEL_X2_NZ)
                   : (transposed ? MODEL_X2_ND_T : MODEL_X2_ND);
    if (nz) {
        uint64_t bytes = transposed ? model_nz_size(s->n, s->k) : model_nz_size(s->k, s->n);
        s->x2_stored = xmalloc(bytes);
        memcpy(s->x2_stored, t[X2].data, bytes); /* an NZ weight is its whole buffer */
    } else {
        s->x2_stored = copy_elems(&t[X2], (uint64_t)(s->k * s->n));
    }
    if (present[BIAS])
        s->bias = copy_elems(&t[BIAS], (uint64_t)s->n);
    s->dequant_dtype = t[DEQ].dtype;
    s->scale_count = (int64_t)elems(&t[DEQ]);
    s->dequant = copy_elems(&t[DEQ], (uint64_t)s->scale_count);
    if (present[PERTOKEN])
        s->pertoken = copy_elems(&t[PERTOKEN], (uint64_t)s->m);
    if (present[X3])
        s->x3 = copy_elems(&t[X3], (uint64_t)(s->m * s->n));
    if (present[S1]) {
        s->s1 = copy_elems(&t[S1], (uint64_t)s->n);
        s->s2 = copy_elems(&t[S2], (uint64_t)s->n);
    }
    return s;
}

static void copy_output(const plan *p, snap *s)
{
    cc_tensor out;
    if (cc_tensor_info(p->t[OUT], &out) == 0)
        s->out = copy_elems(&out, (uint64_t)(s->m * s->n));
}

/* One collective call of one group: the k-th call of each of its ranks. */
typedef struct collective {
    struct collective *next;
    int gid, seq, size, arrived;
    snap *rank[MAX_RANKS];
} collective;
static collective *open_collectives;

typedef struct call_count {
    struct call_count *next;
    int gid, rank, calls;
} call_count;
static call_count *call_counts;

static int is_nan(uint16_t h, int32_t y)
{
    return y == ACL_BF16 ? (h & 0x7FFF) > 0x7F80 : (h & 0x7FFF) > 0x7C00;
}

static const char *layout_name(model_x2_layout l)
{
    static const char *const names[] = {"ND", "ND transposed", "FRACTAL_NZ",
                                        "FRACTAL_NZ transposed"};
    return names[l];
}

static int same_shape(const snap *a, const snap *b)
{
    return a->m == b->m && a->k == b->k && a->n == b->n && a->y == b->y &&
           a->dequant_dtype == b->dequant_dtype && a->scale_count == b->scale_count &&
           (a->pertoken == NULL) == (b->pertoken == NULL) && (a->s1 == NULL) == (b->s1 == NULL);
}

static void check_collective(collective *c)
{
    snap *r0 = c->rank[0];
    int R = c->size;
    for (int r = 0; r < R; r++) {
        if (c->rank[r]->status != ACLNN_SUCCESS || c->rank[r]->out == NULL) {
            fprintf(stderr, "compat-check: group %d call %d: rank %d returned %d\n", c->gid,
                    c->seq, r, (int)c->rank[r]->status);
            pthread_mutex_lock(&lock);
            tally.errors++;
            pthread_mutex_unlock(&lock);
            return;
        }
        if (!same_shape(r0, c->rank[r]) ||
            (r0->s1 != NULL && (memcmp(r0->s1, c->rank[r]->s1, (size_t)r0->n * 2) != 0 ||
                                memcmp(r0->s2, c->rank[r]->s2, (size_t)r0->n * 2) != 0))) {
            error_line("%s", "ranks of one collective call differ in shapes or comm scales");
            return;
        }
    }
    /* Self-test of the check itself: one flipped output bit must be reported. */
    const char *corrupt = getenv("QMAR_COMPAT_CHECK_CORRUPT");
    if (corrupt != NULL && strcmp(corrupt, "1") == 0)
        r0->out[0] = is_nan(r0->out[0], r0->y) ? 0 : r0->out[0] ^ 1;
    int64_t m = r0->m, k = r0->k, n = r0->n;
    model_rank_in in[MAX_RANKS];
    uint16_t *want[MAX_RANKS];
    int8_t *x2[MAX_RANKS];
    for (int r = 0; r < R; r++) {
        snap *s = c->rank[r];
        x2[r] = xmalloc((size_t)(k * n));
        model_x2_from_stored(s->layout, s->x2_stored, k, n, x2[r]);
        in[r] = (model_rank_in){
            .x1 = s->x1, .x2 = x2[r], .bias = s->bias,
            .scale_w64 = s->dequant_dtype == ACL_INT64 || s->dequant_dtype == ACL_UINT64
                             ? s->dequant : NULL,
            .scale_f32 = s->dequant_dtype == ACL_FLOAT ? s->dequant : NULL,
            .scale_bf16 = s->dequant_dtype == ACL_BF16 ? s->dequant : NULL,
            .pertoken = s->pertoken, .x3 = s->x3,
        };
        want[r] = xmalloc((size_t)(m * n) * 2);
    }
    model_op op = {.ranks = R, .m = m, .k = k, .n = n, .y = (qmar_dtype)r0->y,
                   .scale_count = r0->scale_count, .s1 = r0->s1, .s2 = r0->s2, .rank = in};
    int verdict = model_quant_matmul_all_reduce_v3(&op, want);
    long exact = 0, wrong_cells = 0;
    for (int r = 0; r < R && verdict == MODEL_OK; r++) {
        long wrong = 0;
        for (int64_t i = 0; i < m * n; i++) {
            uint16_t got = c->rank[r]->out[i], w = want[r][i];
            wrong += got != w && !(is_nan(got, r0->y) && is_nan(w, r0->y));
        }
        exact += wrong == 0;
        wrong_cells += wrong;
    }
    int op_case = r0->s1 != NULL ? 3 : r0->pertoken != NULL ? 2 : 1;
    if (verdict != MODEL_OK)
        error_line("%s", "the model refused the recorded inputs");
    else
        fprintf(stderr,
                "compat-check: group %d call %d: case %d%s, %s output, %d ranks, m=%lld k=%lld "
                "n=%lld, x2 %s: %ld/%d ranks bit-exact vs the model (%ld elements differ)\n",
                c->gid, c->seq, op_case, op_case == 3 && r0->pertoken ? " with pertoken" : "",
                r0->y == ACL_BF16 ? "BF16" : "FP16", R, (long long)m, (long long)k,
                (long long)n, layout_name(r0->layout), exact, R, wrong_cells);
    pthread_mutex_lock(&lock);
    if (verdict == MODEL_OK) {
        tally.collectives++;
        tally.rank_outputs += R;
        tally.bit_exact += exact;
        tally.wrong_ranks += R - exact;
    }
    pthread_mutex_unlock(&lock);
    for (int r = 0; r < R; r++) {
        free(x2[r]);
        free(want[r]);
    }
}

/* Files a rank's snapshot under its group's next collective call; the rank that completes the
 * call checks it. */
static void deliver(const char *group, snap *s)
{
    endpoint ep;
    if (!find_endpoint(group, &ep)) {
        error_line("group '%s' was not created through HcclCommInitAll/HcclCommInitRootInfo",
                   group);
        snap_free(s);
        return;
    }
    collective *done = NULL;
    pthread_mutex_lock(&lock);
    call_count *cc = call_counts;
    while (cc != NULL && !(cc->gid == ep.gid && cc->rank == ep.rank))
        cc = cc->next;
    if (cc == NULL) {
        cc = xmalloc(sizeof *cc);
        *cc = (call_count){call_counts, ep.gid, ep.rank, 0};
        call_counts = cc;
    }
    int seq = cc->calls++;
    collective **pc = &open_collectives;
    while (*pc != NULL && !((*pc)->gid == ep.gid && (*pc)->seq == seq))
        pc = &(*pc)->next;
    if (*pc == NULL) {
        collective *c = xmalloc(sizeof *c);
        memset(c, 0, sizeof *c);
        c->gid = ep.gid;
        c->seq = seq;
        c->size = ep.size;
        c->next = open_collectives;
        open_collectives = c;
        pc = &open_collectives;
    }
    collective *c = *pc;
    c->rank[ep.rank] = s;
    if (++c->arrived == c->size) {
        *pc = c->next;
        done = c;
    }
    pthread_mutex_unlock(&lock);
    if (done != NULL) {
        check_collective(done);
        for (int r = 0; r < done->size; r++)
            snap_free(done->rank[r]);
        free(done);
    }
}

typedef aclnnStatus (*run_fn)(void *, uint64_t, aclOpExecutor *, const aclrtStream);

static aclnnStatus checked_run(run_fn real, void *ws, uint64_t wss, aclOpExecutor *ex,
                               const aclrtStream stream)
{
    plan *p = pop(&plans, ex);
    snap *s = p != NULL ? snapshot(p) : NULL;
    aclnnStatus status = real(ws, wss, ex, stream);
    if (p == NULL)
        return status; /* not planned successfully: nothing to compare */
    if (s == NULL) {
        error_line("%s", "a tensor of a planned call could not be read");
    } else {
        s->status = status;
        if (status == ACLNN_SUCCESS)
            copy_output(p, s);
        deliver(p->group, s);
    }
    free(p);
    return status;
}

aclnnStatus __wrap_aclnnQuantMatmulAllReduceV3(void *ws, uint64_t wss, aclOpExecutor *ex,
                                               const aclrtStream stream)
{
    return checked_run(__real_aclnnQuantMatmulAllReduceV3, ws, wss, ex, stream);
}

aclnnStatus __wrap_aclnnQuantMatmulAllReduceV2(void *ws, uint64_t wss, aclOpExecutor *ex,
                                               const aclrtStream stream)
{
    return checked_run(__real_aclnnQuantMatmulAllReduceV2, ws, wss, ex, stream);
}

aclnnStatus __wrap_aclnnQuantMatmulAllReduce(void *ws, uint64_t wss, aclOpExecutor *ex,
                                             const aclrtStream stream)
{
    return checked_run(__real_aclnnQuantMatmulAllReduce, ws, wss, ex, stream);
}

/* ---- TransMatmulWeight ----------------------------------------------------------------------- */

static node *weight_plans;

aclnnStatus __wrap_aclnnTransMatmulWeightGetWorkspaceSize(aclTensor *w, uint64_t *wss,
                                                          aclOpExecutor **ex)
{
    aclnnStatus s = __real_aclnnTransMatmulWeightGetWorkspaceSize(w, wss, ex);
    if (s == ACLNN_SUCCESS && ex != NULL && *ex != NULL)
        push(&weight_plans, *ex, w);
    return s;
}

static void weight_verdict(int ok, const char *what)
{
    pthread_mutex_lock(&lock);
    if (ok)
        tally.weight_ok++;
    else
        tally.weight_bad++;
    pthread_mutex_unlock(&lock);
    if (!ok)
        fprintf(stderr, "compat-check: TransMatmulWeight: %s\n", what);
}

aclnnStatus __wrap_aclnnTransMatmulWeight(void *ws, uint64_t wss, aclOpExecutor *ex,
                                          aclrtStream stream)
{
    aclTensor *w = pop(&weight_plans, ex);
    cc_tensor before;
    if (w == NULL || cc_tensor_info(w, &before) != 0)
        return __real_aclnnTransMatmulWeight(ws, wss, ex, stream);
    int transposed = !is_contiguous(&before);
    int64_t rows = transposed ? before.view[1] : before.view[0];
    int64_t cols = transposed ? before.view[0] : before.view[1];
    int8_t *nd = copy_elems(&before, (uint64_t)(rows * cols));
    aclnnStatus s = __real_aclnnTransMatmulWeight(ws, wss, ex, stream);
    cc_tensor after;
    if (s != ACLNN_SUCCESS) {
        weight_verdict(0, "the conversion failed");
    } else if (cc_tensor_info(w, &after) != 0 || after.format != ACL_FORMAT_FRACTAL_NZ ||
               after.storage_ndim != 4 || after.storage[0] != (cols + 31) / 32 ||
               after.storage[1] != (rows + 15) / 16 || after.storage[2] != 16 ||
               after.storage[3] != 32 || after.offset != 0 || after.ndim != 2 ||
               after.view[0] != before.view[0] || after.view[1] != before.view[1]) {
        weight_verdict(0, "the descriptor is not the FRACTAL_NZ form of the weight");
    } else {
        uint64_t size = model_nz_size(rows, cols);
        int8_t *want = xmalloc(size);
        model_nz_from_nd(nd, rows, cols, want);
        weight_verdict(memcmp(want, after.data, size) == 0,
                       "the NZ bytes differ from model_nz_from_nd");
        free(want);
    }
    free(nd);
    return s;
}

/* ---- TransQuantParamV2 ----------------------------------------------------------------------- */

typedef struct quant_plan {
    const aclTensor *scale, *offset, *out;
} quant_plan;
static node *quant_plans;

aclnnStatus __wrap_aclnnTransQuantParamV2GetWorkspaceSize(const aclTensor *scale,
                                                          const aclTensor *offset,
                                                          const aclTensor *out, uint64_t *wss,
                                                          aclOpExecutor **ex)
{
    aclnnStatus s = __real_aclnnTransQuantParamV2GetWorkspaceSize(scale, offset, out, wss, ex);
    if (s == ACLNN_SUCCESS && ex != NULL && *ex != NULL) {
        quant_plan *q = xmalloc(sizeof *q);
        *q = (quant_plan){scale, offset, out};
        push(&quant_plans, *ex, q);
    }
    return s;
}

aclnnStatus __wrap_aclnnTransQuantParamV2(void *ws, uint64_t wss, aclOpExecutor *ex,
                                          const aclrtStream stream)
{
    quant_plan *q = pop(&quant_plans, ex);
    cc_tensor sc, of, out;
    if (q == NULL || cc_tensor_info(q->scale, &sc) != 0 ||
        (q->offset != NULL && cc_tensor_info(q->offset, &of) != 0)) {
        free(q);
        return __real_aclnnTransQuantParamV2(ws, wss, ex, stream);
    }
    uint64_t ns = elems(&sc), no = q->offset != NULL ? elems(&of) : 0;
    uint32_t *sbits = copy_elems(&sc, ns);
    uint32_t *obits = no > 0 ? copy_elems(&of, no) : NULL;
    aclnnStatus s = __real_aclnnTransQuantParamV2(ws, wss, ex, stream);
    int ok = 0;
    if (s == ACLNN_SUCCESS && cc_tensor_info(q->out, &out) == 0) {
        uint64_t n = elems(&out);
        uint64_t *got = copy_elems(&out, n), *want = xmalloc((size_t)n * 8);
        ok = model_trans_quant_param_v2(sbits, ns, obits, no, want, n) == MODEL_OK &&
             memcmp(got, want, (size_t)n * 8) == 0;
        free(got);
        free(want);
    }
    pthread_mutex_lock(&lock);
    if (ok)
        tally.quant_ok++;
    else
        tally.quant_bad++;
    pthread_mutex_unlock(&lock);
    if (!ok)
        fprintf(stderr, "compat-check: TransQuantParamV2: words differ from the model\n");
    free(sbits);
    free(obits);
    free(q);
    return s;
}

/* ---- the verdict ------------------------------------------------------------------------------ */

static void summary(void)
{
    long incomplete = 0;
    pthread_mutex_lock(&lock);
    for (collective *c = open_collectives; c != NULL; c = c->next)
        incomplete++;
    int failed = tally.wrong_ranks > 0 || tally.weight_bad > 0 || tally.quant_bad > 0 ||
                 tally.errors > 0 || incomplete > 0;
    fflush(stdout);
    fprintf(stderr,
            "compat-check summary: collectives=%ld rank_outputs=%ld bit_exact=%ld wrong_ranks=%ld "
            "trans_weight_ok=%ld trans_weight_bad=%ld trans_quant_ok=%ld trans_quant_bad=%ld "
            "errors=%ld incomplete=%ld => %s\n",
            tally.collectives, tally.rank_outputs, tally.bit_exact, tally.wrong_ranks,
            tally.weight_ok, tally.weight_bad, tally.quant_ok, tally.quant_bad, tally.errors,
            incomplete, failed ? "FAIL" : "PASS");
    fflush(stderr);
    pthread_mutex_unlock(&lock);
    if (failed)
        _exit(1); /* the program's own status said success; the check says otherwise */
}

__attribute__((constructor)) static void install_summary(void)
{
    atexit(summary);
}
