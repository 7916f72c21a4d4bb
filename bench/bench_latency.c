/* SPDX-License-Identifier: Apache-2.0 */
/* Latency of one operator call (plan + Run) on the in-process backend, where the collective's
 * synchronisation, not the arithmetic, dominates: case 1 (BF16 output, BF16 per-channel scales)
 * at m=1 k=64 n=128 and m=1 k=2048 n=4096, for R = 1, 2 and 8 ranks (threads). Each rank thread
 * keeps its inputs and workspace and calls plan + Run in a loop, as a decoding loop would; the
 * time per call is the median over iterations of rank 0's time. Prints R=2/R=1 per shape.
 *
 * usage: bench_latency [--iters-small I] [--iters-large I] */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qmar/qmar.h"

typedef struct shape {
    int64_t m, k, n;
} shape;

typedef struct rank_ctx {
    shape s;
    int iters;
    qmar_comm *comm;
    int8_t *x1, *x2;
    uint16_t *scale, *out;
    void *ws;
    double *times; /* per iteration */
    qmar_status status;
    pthread_barrier_t *start;
} rank_ctx;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static qmar_status plan_and_run(rank_ctx *c, const char *group)
{
    int64_t x1d[2] = {c->s.m, c->s.k}, x2d[2] = {c->s.k, c->s.n}, nd[1] = {c->s.n},
            outd[2] = {c->s.m, c->s.n};
    qmar_tensor *x1 = qmar_tensor_create(x1d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x1d, 2, c->x1);
    qmar_tensor *x2 = qmar_tensor_create(x2d, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x2d, 2, c->x2);
    qmar_tensor *dq = qmar_tensor_create(nd, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, nd, 1,
                                         c->scale);
    qmar_tensor *out = qmar_tensor_create(outd, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, outd, 2,
                                          c->out);
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    qmar_status st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        x1, x2, NULL, NULL, dq, NULL, NULL, NULL, group, "sum", 0, 1, out, &ws_size, &ex);
    if (st == QMAR_SUCCESS)
        st = qmar_quant_matmul_all_reduce_v3(c->ws, ws_size, ex, NULL);
    qmar_tensor_destroy(x1);
    qmar_tensor_destroy(x2);
    qmar_tensor_destroy(dq);
    qmar_tensor_destroy(out);
    return st;
}

static void *rank_main(void *arg)
{
    rank_ctx *c = arg;
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(c->comm, group);
    c->status = plan_and_run(c, group); /* warm-up */
    pthread_barrier_wait(c->start);
    for (int i = 0; i < c->iters && c->status == QMAR_SUCCESS; i++) {
        double t0 = now();
        c->status = plan_and_run(c, group);
        c->times[i] = now() - t0;
    }
    return NULL;
}

/* Median seconds per call on rank 0, or a negative value on failure. */
static double measure(shape s, int32_t ranks, int iters)
{
    qmar_comm *comms[8];
    rank_ctx ctx[8];
    pthread_t th[8];
    pthread_barrier_t start;
    if (qmar_comm_init_all(ranks, comms) != QMAR_SUCCESS)
        return -1;
    pthread_barrier_init(&start, NULL, (unsigned)ranks);
    for (int32_t r = 0; r < ranks; r++) {
        rank_ctx *c = &ctx[r];
        *c = (rank_ctx){.s = s, .iters = iters, .comm = comms[r], .start = &start};
        c->x1 = malloc((size_t)(s.m * s.k));
        c->x2 = malloc((size_t)(s.k * s.n));
        c->scale = malloc((size_t)s.n * 2);
        c->out = malloc((size_t)(s.m * s.n) * 2);
        c->ws = malloc((size_t)(s.m * s.n) * 2 + 64);
        c->times = calloc((size_t)iters, sizeof *c->times);
        for (int64_t i = 0; i < s.m * s.k; i++)
            c->x1[i] = (int8_t)(i * 7 + r);
        for (int64_t i = 0; i < s.k * s.n; i++)
            c->x2[i] = (int8_t)(i * 13 - r);
        for (int64_t j = 0; j < s.n; j++)
            c->scale[j] = 0x3A80; /* bf16 2^-10 */
        pthread_create(&th[r], NULL, rank_main, c);
    }
    int ok = 1;
    for (int32_t r = 0; r < ranks; r++) {
        pthread_join(th[r], NULL);
        ok &= ctx[r].status == QMAR_SUCCESS;
    }
    double median = -1;
    if (ok) {
        qsort(ctx[0].times, (size_t)iters, sizeof *ctx[0].times, cmp_double);
        median = ctx[0].times[iters / 2];
    } else {
        fprintf(stderr, "bench_latency: a run failed: %s\n", qmar_last_error());
    }
    for (int32_t r = 0; r < ranks; r++) {
        rank_ctx *c = &ctx[r];
        free(c->x1), free(c->x2), free(c->scale), free(c->out), free(c->ws), free(c->times);
        qmar_comm_destroy(comms[r]);
    }
    pthread_barrier_destroy(&start);
    return median;
}

int main(int argc, char **argv)
{
    int iters_small = 2000, iters_large = 40;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--iters-small") == 0)
            iters_small = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--iters-large") == 0)
            iters_large = atoi(argv[i + 1]);
    }
    if (iters_small < 1 || iters_large < 1) {
        fprintf(stderr, "usage: bench_latency [--iters-small I] [--iters-large I]\n");
        return 2;
    }
    const shape shapes[2] = {{1, 64, 128}, {1, 2048, 4096}};
    const int32_t rank_counts[3] = {1, 2, 8};
    printf("%-18s %4s %14s\n", "shape (m,k,n)", "R", "us per call");
    for (int si = 0; si < 2; si++) {
        double us[3];
        for (int ri = 0; ri < 3; ri++) {
            double t = measure(shapes[si], rank_counts[ri], si == 0 ? iters_small : iters_large);
            if (t < 0)
                return 1;
            us[ri] = t * 1e6;
            printf("%5lld,%5lld,%5lld %4d %14.1f\n", (long long)shapes[si].m,
                   (long long)shapes[si].k, (long long)shapes[si].n, (int)rank_counts[ri], us[ri]);
        }
        printf("%5lld,%5lld,%5lld R=2/R=1 %.2f   R=8/R=1 %.2f\n", (long long)shapes[si].m,
               (long long)shapes[si].k, (long long)shapes[si].n, us[1] / us[0], us[2] / us[0]);
    }
    return 0;
}
