/* SPDX-License-Identifier: Apache-2.0 */
/* The row-parallel linear layer of tp_linear.c over MPI: one rank per process, on one machine or
 * several.
 *
 *   y = dequant(x · W),  x: m x K int8,  W: K x n int8,  y: m x n bf16,  K split over the ranks
 *
 * Build and run (after `meson install`; qmar-mpi's pkg-config file brings OpenMPI's flags, so a
 * plain cc works, as does mpicc):
 *   cc tp_linear_mpi.c $(pkg-config --cflags --libs qmar-mpi) -o tp_linear_mpi
 *   mpirun -n 2 ./tp_linear_mpi          (1, 2, 4 or 8 processes)
 * Every process builds the same x and W from a fixed seed and takes its slice; at the end it
 * checks its y against a plain C float computation (within bf16 rounding) and the ranks compare
 * their outputs bit for bit. Exits 0 on success. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmar/qmar_mpi.h>

enum { M = 16, K = 256, N = 64, STEPS = 3 };

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

static int8_t x[M][K], w[K][N];
static uint16_t scale[N], y[M][N];

static int failed(const char *what, qmar_status s)
{
    if (s == QMAR_SUCCESS)
        return 0;
    fprintf(stderr, "%s: %s: %s\n", what, qmar_status_string(s), qmar_last_error());
    return 1;
}

/* One step on this rank: plan and run with its slices; 0 on success. */
static int step(const char *group, int rank, int kr, int8_t *x_part)
{
    int64_t x_dims[2] = {M, kr}, w_dims[2] = {kr, N}, s_dims[1] = {N}, y_dims[2] = {M, N};
    qmar_tensor *x1 = qmar_tensor_create(x_dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, x_dims,
                                         2, x_part);
    qmar_tensor *x2 = qmar_tensor_create(w_dims, 2, QMAR_INT8, NULL, 0, QMAR_FORMAT_ND, w_dims,
                                         2, &w[rank * kr][0]);
    qmar_tensor *dq = qmar_tensor_create(s_dims, 1, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, s_dims,
                                         1, scale);
    qmar_tensor *out = qmar_tensor_create(y_dims, 2, QMAR_BF16, NULL, 0, QMAR_FORMAT_ND, y_dims,
                                          2, y);
    qmar_executor *ex = NULL;
    uint64_t size = 0;
    void *workspace = NULL;
    qmar_status s = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        x1, x2, NULL, NULL, dq, NULL, NULL, NULL, group, "sum", 0, 1, out, &size, &ex);
    int bad = failed("plan", s);
    if (!bad && (workspace = malloc(size)) == NULL) {
        fprintf(stderr, "no memory for the workspace\n");
        qmar_executor_destroy(ex);
        bad = 1;
    }
    if (!bad) /* the executor is consumed, whatever the outcome */
        bad = failed("run", qmar_quant_matmul_all_reduce_v3(workspace, size, ex, NULL));
    free(workspace);
    qmar_tensor_destroy(x1);
    qmar_tensor_destroy(x2);
    qmar_tensor_destroy(dq);
    qmar_tensor_destroy(out);
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int kr = K / size;

    qmar_comm *comm = NULL;
    char group[QMAR_GROUP_NAME_MAX];
    int bad = failed("qmar_comm_init_mpi", qmar_comm_init_mpi(MPI_COMM_WORLD, &comm));
    if (!bad)
        bad = failed("qmar_comm_get_name", qmar_comm_get_name(comm, group));

    srand(1);
    for (int j = 0; j < N; j++)
        scale[j] = bf16_from_float(0.001f * (float)(1 + j % 7));
    for (int kk = 0; kk < K; kk++)
        for (int j = 0; j < N; j++)
            w[kk][j] = (int8_t)(rand() % 255 - 127);
    int8_t *x_part = malloc((size_t)M * (size_t)kr);
    int wrong = 0;
    for (int t = 0; t < STEPS && !bad; t++) {
        for (int i = 0; i < M; i++)
            for (int kk = 0; kk < K; kk++)
                x[i][kk] = (int8_t)(rand() % 255 - 127);
        for (int i = 0; i < M; i++)
            memcpy(&x_part[i * kr], &x[i][rank * kr], (size_t)kr);
        if (x_part == NULL || step(group, rank, kr, x_part)) {
            bad = 1;
            if (comm)
                qmar_comm_revoke(comm); /* peers fail at once instead of at the timeout */
            break;
        }
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double want = 0, magnitude = 0;
                for (int r = 0; r < size; r++) {
                    int32_t acc = 0;
                    for (int kk = r * kr; kk < (r + 1) * kr; kk++)
                        acc += x[i][kk] * w[kk][j];
                    double part = (double)acc * float_from_bf16(scale[j]);
                    want += part;
                    magnitude += fabs(part);
                }
                double got = float_from_bf16(y[i][j]);
                wrong += fabs(got - want) > (magnitude + fabs(want)) / 128 + 1e-30;
            }
        /* every rank must hold the same bits: compare with rank 0's */
        static uint16_t y0[M][N];
        memcpy(y0, y, sizeof y);
        MPI_Bcast(y0, (int)sizeof y0, MPI_BYTE, 0, MPI_COMM_WORLD);
        wrong += memcmp(y0, y, sizeof y) != 0;
    }
    free(x_part);
    if (comm)
        qmar_comm_destroy(comm); /* before MPI_Finalize */
    bad |= wrong != 0;
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("tp_linear_mpi: %d processes, %d steps of (%d x %d) x (%d x %d) -> bf16: %s\n",
               size, STEPS, M, K, K, N,
               any_bad ? "FAILED" : "every rank equal, matches the float reference");
        printf("%d passed, %d failed\n", any_bad ? 0 : 1, any_bad ? 1 : 0);
    }
    MPI_Finalize();
    return any_bad;
}
