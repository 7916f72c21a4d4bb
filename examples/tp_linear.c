/* SPDX-License-Identifier: Apache-2.0 */
/* A tensor-parallel, row-parallel linear layer on qmar's in-process communicator.
 *
 *   y = dequant(x · W),  x: m x K int8,  W: K x n int8,  y: m x n bf16
 *
 * The K dimension is split over RANKS ranks: rank r holds columns [r·k, (r+1)·k) of x and the
 * same rows of W (k = K / RANKS), multiplies them, dequantizes with per-column bf16 scales and the
 * operator all-reduces the partial results, so every rank ends with the whole y (case 1: no
 * pertoken scale, no communication scales). Each rank is a thread that plans and runs the
 * operator for STEPS steps (an executor runs once: plan, then run, every step).
 *
 * Build (after `meson install`; see README "Using it from C"):
 *   cc tp_linear.c $(pkg-config --cflags --libs qmar) -pthread -o tp_linear
 * It checks its own result: every rank's y is the same, bit for bit, and agrees with a plain C
 * float computation within bf16 rounding. Exits 0 on success. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmar/qmar.h>

enum { RANKS = 4, M = 16, K = 256, N = 64, STEPS = 3, KR = K / RANKS };

/* bf16 is the high half of an fp32; round to nearest even (no NaNs occur here). */
static uint16_t bf16_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

static float float_from_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* The layer's data: the whole x and W (each rank reads its slice), and the scales. */
static int8_t x[STEPS][M][K], w[K][N];
static uint16_t scale[N];             /* bf16 */
static uint16_t y[RANKS][STEPS][M][N]; /* bf16: each rank's output of each step */

typedef struct rank_job {
    qmar_comm *comm;
    int rank;
    int ok;
} rank_job;

static qmar_status report(int rank, const char *what, qmar_status s)
{
    if (s != QMAR_SUCCESS)
        fprintf(stderr, "rank %d: %s: %s: %s\n", rank, what, qmar_status_string(s),
                qmar_last_error());
    return s;
}

static void *run_rank(void *arg)
{
    rank_job *job = arg;
    int r = job->rank;
    char group[QMAR_GROUP_NAME_MAX];
    if (report(r, "get_name", qmar_comm_get_name(job->comm, group)) != QMAR_SUCCESS)
        return NULL;

    /* This rank's slices, contiguous: x[:, r*KR:(r+1)*KR] and W[r*KR:(r+1)*KR, :]. */
    static int8_t x_part[RANKS][M][KR];
    int8_t(*xr)[KR] = x_part[r];
    const int8_t *w_part = &w[r * KR][0];
    int64_t x_dims[2] = {M, KR}, w_dims[2] = {KR, N}, s_dims[1] = {N}, y_dims[2] = {M, N};
    void *workspace = NULL;
    uint64_t workspace_size = 0;
    job->ok = 1;
    for (int step = 0; step < STEPS && job->ok; step++) {
        for (int i = 0; i < M; i++)
            memcpy(xr[i], &x[step][i][r * KR], KR);
        /* Descriptors never own data: (dims, ndim, dtype, strides NULL = row-major, offset,
         * format, storage dims, storage ndim, data). */
        qmar_tensor *x1 = qmar_tensor_create(x_dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND,
                                             x_dims, 2, xr);
        qmar_tensor *x2 = qmar_tensor_create(w_dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND,
                                             w_dims, 2, (void *)w_part);
        qmar_tensor *dq = qmar_tensor_create(s_dims, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND,
                                             s_dims, 1, scale);
        qmar_tensor *out = qmar_tensor_create(y_dims, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND,
                                              y_dims, 2, y[r][step]);
        qmar_executor *ex = NULL;
        uint64_t need = 0;
        /* bias, x3, pertoken and both comm scales absent; reduce "sum", comm_turn 0,
         * stream_mode 1 (the only values the operator accepts). */
        qmar_status s = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
            x1, x2, NULL, NULL, dq, NULL, NULL, NULL, group, "sum", 0, 1, out, &need, &ex);
        if (report(r, "plan", s) == QMAR_SUCCESS && need > workspace_size) {
            free(workspace);
            workspace = malloc(need);
            workspace_size = workspace ? need : 0;
            if (workspace == NULL) {
                fprintf(stderr, "rank %d: no memory for %llu bytes\n", r,
                        (unsigned long long)need);
                qmar_executor_destroy(ex); /* planned but never run */
                s = QMAR_ERR_INNER;
            }
        }
        if (s == QMAR_SUCCESS) /* the executor is consumed, whatever the outcome */
            s = report(r, "run", qmar_quant_matmul_all_reduce_v3(workspace, workspace_size, ex,
                                                                  NULL));
        qmar_tensor_destroy(x1);
        qmar_tensor_destroy(x2);
        qmar_tensor_destroy(dq);
        qmar_tensor_destroy(out);
        job->ok = s == QMAR_SUCCESS;
    }
    free(workspace);
    return NULL;
}

/* The layer in plain C: the partial product of each rank dequantized in float, then summed. */
static int check(void)
{
    int bad = 0;
    for (int step = 0; step < STEPS; step++)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double want = 0, magnitude = 0;
                for (int r = 0; r < RANKS; r++) {
                    int32_t acc = 0;
                    for (int kk = r * KR; kk < (r + 1) * KR; kk++)
                        acc += x[step][i][kk] * w[kk][j];
                    double part = (double)acc * float_from_bf16(scale[j]);
                    want += part;
                    magnitude += fabs(part);
                }
                /* each partial and the sum are rounded to bf16 (8 significant bits) */
                double got = float_from_bf16(y[0][step][i][j]);
                if (fabs(got - want) > (magnitude + fabs(want)) / 128 + 1e-30)
                    bad++;
                for (int r = 1; r < RANKS; r++)
                    bad += y[r][step][i][j] != y[0][step][i][j];
            }
    return bad;
}

int main(void)
{
    srand(1);
    for (int step = 0; step < STEPS; step++)
        for (int i = 0; i < M; i++)
            for (int kk = 0; kk < K; kk++)
                x[step][i][kk] = (int8_t)(rand() % 255 - 127);
    for (int kk = 0; kk < K; kk++)
        for (int j = 0; j < N; j++)
            w[kk][j] = (int8_t)(rand() % 255 - 127);
    for (int j = 0; j < N; j++)
        scale[j] = bf16_from_float(0.001f * (float)(1 + j % 7));

    qmar_comm *comms[RANKS];
    qmar_status s = qmar_comm_init_all(RANKS, comms);
    if (s != QMAR_SUCCESS) {
        fprintf(stderr, "qmar_comm_init_all: %s: %s\n", qmar_status_string(s), qmar_last_error());
        return 1;
    }
    pthread_t threads[RANKS];
    rank_job jobs[RANKS];
    int started = 0;
    for (int r = 0; r < RANKS; r++) {
        jobs[r] = (rank_job){.comm = comms[r], .rank = r, .ok = 0};
        if (pthread_create(&threads[r], NULL, run_rank, &jobs[r]) != 0) {
            /* the ranks already running would wait for this one until the timeout: break the
             * group so that they fail at once */
            fprintf(stderr, "rank %d: no thread\n", r);
            qmar_comm_revoke(comms[r]);
            break;
        }
        started++;
    }
    int ok = started == RANKS;
    for (int r = 0; r < started; r++) {
        pthread_join(threads[r], NULL);
        ok &= jobs[r].ok;
    }
    for (int r = 0; r < RANKS; r++)
        qmar_comm_destroy(comms[r]);
    if (!ok)
        return 1;
    int bad = check();
    printf("tp_linear: qmar %s, %d ranks, %d steps of (%d x %d) x (%d x %d) -> bf16: %s\n",
           qmar_version(), RANKS, STEPS, M, K, K, N,
           bad ? "WRONG" : "every rank equal, matches the float reference");
    printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad != 0;
}
