/* SPDX-License-Identifier: Apache-2.0 */
/* Run keeps its large buffers (the packed weight, the threads' buffers) on the endpoint for the
 * next Run (lib/src/scratch.h). The rules of the keeping (a kept buffer serves any request it is
 * large enough for, a larger request replaces it, a second buffer given back is freed), then Runs
 * of growing and shrinking shapes on the same endpoints, every output checked against its closed
 * form: x1 = a (every element), x2 = 1, scale = 1, so out = k * (sum over ranks of a), exact in
 * BF16 for k a power of two. The shapes reach the packed path (more rows than any row tile,
 * k past the direct path's depth) as well as the direct one. Under ASan (scripts/test) a kept
 * buffer too small for its Run would be a heap overflow, and one never freed a leak. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/src/scratch.h"
#include "check.h"
#include "qmar/qmar.h"

static int allocations;

static void *counting_alloc(uint64_t bytes)
{
    allocations++;
    return malloc((size_t)bytes);
}

static void test_keeping_rules(void)
{
    qmar__scratch s = {0};
    uint64_t got = 0;
    void *a = qmar__scratch_take(&s.work, 1000, counting_alloc, &got);
    CHECK(a != NULL && got == 1000 && allocations == 1);
    qmar__scratch_give(&s.work, a, got);
    void *b = qmar__scratch_take(&s.work, 600, counting_alloc, &got);
    CHECK(b == a && got == 1000 && allocations == 1); /* the kept one, no allocation */
    CHECK(s.work.ptr == NULL);                        /* taken out while in use */
    void *c = qmar__scratch_take(&s.work, 100, counting_alloc, &got);
    CHECK(c != NULL && c != b && got == 100 && allocations == 2); /* nothing kept: a new one */
    qmar__scratch_give(&s.work, b, 1000);
    qmar__scratch_give(&s.work, c, 100); /* the slot is full: c is freed */
    CHECK(s.work.ptr == b && s.work.bytes == 1000);
    void *d = qmar__scratch_take(&s.work, 5000, counting_alloc, &got);
    CHECK(d != NULL && got == 5000 && allocations == 3 && s.work.ptr == NULL); /* b freed */
    qmar__scratch_give(&s.work, d, got);
    void *e = qmar__scratch_take(NULL, 10, counting_alloc, &got); /* nothing kept at all */
    CHECK(e != NULL && allocations == 4);
    qmar__scratch_give(NULL, e, got);
    qmar__scratch_free(&s);
    CHECK(s.work.ptr == NULL && s.weight.ptr == NULL);
}

enum { RANKS = 2 };

typedef struct shape {
    int64_t m, k, n;
} shape;

/* Growing, shrinking, then growing past every kept size. */
static const shape shapes[] = {{1600, 256, 256}, {8, 256, 64},    {1600, 512, 320},
                               {1600, 256, 256}, {2, 1024, 128}, {1700, 1024, 384},
                               {64, 256, 128},   {1600, 512, 320}};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

typedef struct rank_ctx {
    qmar_comm *comm;
    int32_t rank;
    int64_t wrong, failed;
} rank_ctx;

static int a_of(int it, int32_t r)
{
    return (it * 3 + r * 5) % 7 - 3; /* in [-3, 3] */
}

static float bf16_to_float(uint16_t b)
{
    union {
        uint32_t u;
        float f;
    } v = {.u = (uint32_t)b << 16};
    return v.f;
}

static qmar_status run_once(const char *group, shape s, int8_t *x1, int8_t *x2, uint16_t *scale,
                            uint16_t *out)
{
    int64_t x1d[2] = {s.m, s.k}, x2d[2] = {s.k, s.n}, nd[1] = {s.n}, outd[2] = {s.m, s.n};
    qmar_tensor *t1 = qmar_tensor_create(x1d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x1d, 2, x1);
    qmar_tensor *t2 = qmar_tensor_create(x2d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x2d, 2, x2);
    qmar_tensor *dq = qmar_tensor_create(nd, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, nd, 1, scale);
    qmar_tensor *to = qmar_tensor_create(outd, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, outd, 2, out);
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    qmar_status st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        t1, t2, NULL, NULL, dq, NULL, NULL, NULL, group, "sum", 0, 1, to, &ws_size, &ex);
    void *ws = st == QMAR_SUCCESS ? malloc(ws_size) : NULL;
    if (st == QMAR_SUCCESS && ws == NULL) {
        qmar_executor_destroy(ex);
        st = QMAR_ERR_INNER;
    } else if (st == QMAR_SUCCESS) {
        st = qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
    }
    free(ws);
    qmar_tensor_destroy(t1), qmar_tensor_destroy(t2), qmar_tensor_destroy(dq);
    qmar_tensor_destroy(to);
    return st;
}

static void *rank_main(void *arg)
{
    rank_ctx *c = arg;
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(c->comm, group);
    for (int it = 0; it < NSHAPES; it++) {
        shape s = shapes[it];
        int8_t *x1 = malloc((size_t)(s.m * s.k)), *x2 = malloc((size_t)(s.k * s.n));
        uint16_t *scale = malloc((size_t)s.n * 2), *out = malloc((size_t)(s.m * s.n) * 2);
        if (x1 == NULL || x2 == NULL || scale == NULL || out == NULL) {
            c->failed++;
            free(x1), free(x2), free(scale), free(out);
            break;
        }
        for (int64_t i = 0; i < s.m * s.k; i++)
            x1[i] = (int8_t)a_of(it, c->rank);
        for (int64_t i = 0; i < s.k * s.n; i++)
            x2[i] = 1;
        for (int64_t j = 0; j < s.n; j++)
            scale[j] = 0x3F80; /* bf16 1.0 */
        qmar_status st = run_once(group, s, x1, x2, scale, out);
        if (st != QMAR_SUCCESS) {
            fprintf(stderr, "rank %d, shape %d: status %d: %s\n", (int)c->rank, it, (int)st,
                    qmar_last_error());
            c->failed++;
        } else {
            int sum = 0;
            for (int32_t r = 0; r < RANKS; r++)
                sum += a_of(it, r);
            for (int64_t i = 0; i < s.m * s.n; i++)
                c->wrong += bf16_to_float(out[i]) != (float)(s.k * sum);
        }
        free(x1), free(x2), free(scale), free(out);
    }
    return NULL;
}

static void test_runs_of_changing_shapes(void)
{
    qmar_comm *comms[RANKS];
    CHECK(qmar_comm_init_all(RANKS, comms) == QMAR_SUCCESS);
    rank_ctx ctx[RANKS];
    pthread_t th[RANKS];
    for (int32_t r = 0; r < RANKS; r++) {
        ctx[r] = (rank_ctx){.comm = comms[r], .rank = r};
        CHECK(pthread_create(&th[r], NULL, rank_main, &ctx[r]) == 0);
    }
    for (int32_t r = 0; r < RANKS; r++) {
        pthread_join(th[r], NULL);
        CHECK_EQ_I64(ctx[r].failed, 0);
        CHECK_EQ_I64(ctx[r].wrong, 0);
        qmar_comm_destroy(comms[r]);
    }
}

int main(void)
{
    test_keeping_rules();
    test_runs_of_changing_shapes();
    return check_summary();
}
