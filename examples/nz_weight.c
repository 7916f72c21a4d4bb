/* SPDX-License-Identifier: Apache-2.0 */
/* A weight in FRACTAL_NZ (Ascend's blocked layout) and FP16 output with TransQuantParamV2 scales.
 *
 *   y = dequant(x · W),  x: m x k int8,  W: k x n int8 stored as NZ,  y: m x n fp16
 *
 * The weight is converted once, as at model load: qmar_calculate_matmul_weight_size_v2 gives the
 * NZ size (padded to 16 x 32 blocks), qmar_trans_matmul_weight fills it. FP16 output without a
 * pertoken scale takes its dequant scales as 64-bit words, made by qmar_trans_quant_param_v2.
 * One rank (a group of one) keeps the example short; with more ranks each passes its own NZ slice
 * exactly so (see tp_linear.c for the threads).
 *
 * Build (after `meson install`):
 *   cc nz_weight.c $(pkg-config --cflags --libs qmar) -o nz_weight
 * It checks itself: the NZ weight gives the same bits as the same weight in ND, and both agree
 * with a plain C float computation within fp16 rounding. Exits 0 on success. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmar/qmar.h>

enum { M = 8, K = 100, N = 72 }; /* k and n not multiples of 16 and 32: the NZ form is padded */

static double float_from_fp16(uint16_t h)
{
    int exponent = (h >> 10) & 0x1f, fraction = h & 0x3ff;
    double v = exponent == 0 ? ldexp(fraction, -24) : ldexp(fraction | 0x400, exponent - 25);
    if (exponent == 0x1f)
        v = fraction ? NAN : INFINITY;
    return h & 0x8000 ? -v : v;
}

static int failed(const char *what, qmar_status s)
{
    if (s == QMAR_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, qmar_status_string(s), qmar_last_error());
    return 1;
}

/* Plans and runs y = dequant(x · W) on the group's only rank with the given weight tensor. */
static int run(const char *group, qmar_tensor *weight, int8_t *x, uint64_t *words, uint16_t *y)
{
    int64_t x_dims[2] = {M, K}, s_dims[1] = {N}, y_dims[2] = {M, N};
    qmar_tensor *x1 = qmar_tensor_create(x_dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x_dims,
                                         2, x);
    qmar_tensor *dq = qmar_tensor_create(s_dims, 1, QMAR_UINT64, NULL, 0, QMAR_FORMAT_ND, s_dims,
                                         1, words);
    qmar_tensor *out = qmar_tensor_create(y_dims, 2, QMAR_FLOAT16, NULL, 0, QMAR_FORMAT_ND, y_dims,
                                          2, y);
    qmar_executor *ex = NULL;
    uint64_t size = 0;
    int bad = failed("plan", qmar_quant_matmul_all_reduce_v3_get_workspace_size(
                                 x1, weight, NULL, NULL, dq, NULL, NULL, NULL, group, "sum", 0, 1,
                                 out, &size, &ex));
    void *workspace = bad ? NULL : malloc(size);
    if (!bad && workspace == NULL) {
        fprintf(stderr, "no memory for the workspace\n");
        qmar_executor_destroy(ex);
        bad = 1;
    }
    if (!bad)
        bad = failed("run", qmar_quant_matmul_all_reduce_v3(workspace, size, ex, NULL));
    free(workspace);
    qmar_tensor_destroy(x1);
    qmar_tensor_destroy(dq);
    qmar_tensor_destroy(out);
    return bad;
}

int main(void)
{
    static int8_t x[M][K], w[K][N];
    static float scale[N];
    static uint64_t words[N];
    static uint16_t y_nd[M][N], y_nz[M][N];
    srand(2);
    for (int i = 0; i < M; i++)
        for (int kk = 0; kk < K; kk++)
            x[i][kk] = (int8_t)(rand() % 255 - 127);
    for (int kk = 0; kk < K; kk++)
        for (int j = 0; j < N; j++)
            w[kk][j] = (int8_t)(rand() % 255 - 127);
    for (int j = 0; j < N; j++)
        scale[j] = (float)(1 + j % 5) / 4096;

    /* The weight in NZ: its size in elements (= bytes, int8), then the conversion. */
    int64_t w_dims[2] = {K, N};
    uint64_t nz_elements = 0;
    int bad = failed("weight size", qmar_calculate_matmul_weight_size_v2(w_dims, 2, QMAR_INT8,
                                                                         &nz_elements));
    int8_t *w_nz = bad ? NULL : malloc(nz_elements);
    if (!bad && w_nz == NULL)
        bad = 1;
    if (!bad)
        bad = failed("trans weight", qmar_trans_matmul_weight(&w[0][0], K, N, w_nz, nz_elements));
    /* fp32 scales -> the UINT64 words of FP16 output without pertoken */
    if (!bad)
        bad = failed("trans quant param", qmar_trans_quant_param_v2(scale, N, NULL, 0, words, N));

    qmar_comm *comm = NULL;
    char group[QMAR_GROUP_NAME_MAX];
    if (!bad)
        bad = failed("comm", qmar_comm_init_all(1, &comm));
    if (!bad)
        bad = failed("comm name", qmar_comm_get_name(comm, group));

    /* The NZ tensor: view (k, n) as the ND one, storage (ceil(n/32), ceil(k/16), 16, 32). */
    int64_t nz_storage[4] = {(N + 31) / 32, (K + 15) / 16, 16, 32};
    qmar_tensor *weight_nd = qmar_tensor_create(w_dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND,
                                                w_dims, 2, w);
    qmar_tensor *weight_nz = qmar_tensor_create(w_dims, 2, QMAR_INT8, NULL, 0,
                                                QMAR_FORMAT_FRACTAL_NZ, nz_storage, 4, w_nz);
    if (!bad && (weight_nd == NULL || weight_nz == NULL))
        bad = 1;
    if (!bad)
        bad = run(group, weight_nd, &x[0][0], words, &y_nd[0][0]) ||
              run(group, weight_nz, &x[0][0], words, &y_nz[0][0]);

    int wrong = 0;
    for (int i = 0; i < M && !bad; i++)
        for (int j = 0; j < N; j++) {
            int32_t acc = 0;
            for (int kk = 0; kk < K; kk++)
                acc += x[i][kk] * w[kk][j];
            double want = (double)acc * scale[j], got = float_from_fp16(y_nz[i][j]);
            wrong += y_nz[i][j] != y_nd[i][j];                    /* NZ == ND, bit for bit */
            wrong += !(fabs(got - want) <= fabs(want) / 1024 + 0x1p-24); /* fp16 rounding */
        }
    qmar_tensor_destroy(weight_nd);
    qmar_tensor_destroy(weight_nz);
    qmar_comm_destroy(comm);
    free(w_nz);
    bad |= wrong != 0;
    printf("nz_weight: (%d x %d) x (%d x %d, NZ %llu bytes) -> fp16: %s\n", M, K, K, N,
           (unsigned long long)nz_elements,
           bad ? "FAILED" : "NZ equals ND, matches the float reference");
    printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad;
}
