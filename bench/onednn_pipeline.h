/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline a user would build without qmar: oneDNN's int8 matmul on each rank (s8 x s8,
 * per-channel scales, bias, fp32 output), then MPI_Allreduce of the fp32 sums, then BF16. */
#ifndef QMAR_BENCH_ONEDNN_PIPELINE_H
#define QMAR_BENCH_ONEDNN_PIPELINE_H
#include <dnnl.h>
#include <mpi.h>
#include <stdint.h>

typedef struct onednn_pipeline {
    int64_t m, k, n;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_t matmul;
    dnnl_memory_t src, wei, bias, dst;
    float *sums;     /* m x n fp32: the matmul's output, reduced in place */
    uint16_t *out;   /* m x n BF16 */
} onednn_pipeline;

/* Builds the primitive for x1 (m x k), x2 (k x n, row-major), fp32 bias and scales (n).
 * Returns 0 on success. */
int onednn_pipeline_init(onednn_pipeline *p, int64_t m, int64_t k, int64_t n, const int8_t *x1,
                         const int8_t *x2, const float *bias, const float *scales);

/* One run: matmul, MPI_Allreduce(SUM) over comm, conversion to BF16. Returns 0 on success. */
int onednn_pipeline_run(onednn_pipeline *p, MPI_Comm comm);

void onednn_pipeline_free(onednn_pipeline *p);
#endif
