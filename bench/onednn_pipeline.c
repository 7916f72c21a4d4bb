/* SPDX-License-Identifier: Apache-2.0 */
/* oneDNN matmul + MPI_Allreduce + BF16: the baseline of bench_operator. */
#include "onednn_pipeline.h"

#include <stdlib.h>
#include <string.h>

#define TRY(call)                                                                                  \
    do {                                                                                           \
        if ((call) != dnnl_success)                                                                \
            return -1;                                                                             \
    } while (0)

static int make_primitive(onednn_pipeline *p, const float *scales, dnnl_memory_desc_t *md)
{
    dnnl_dims_t ds = {p->m, p->k}, dw = {p->k, p->n}, db = {1, p->n}, dd = {p->m, p->n};
    TRY(dnnl_memory_desc_init_by_tag(&md[0], 2, ds, dnnl_s8, dnnl_ab));
    TRY(dnnl_memory_desc_init_by_tag(&md[1], 2, dw, dnnl_s8, dnnl_ab));
    TRY(dnnl_memory_desc_init_by_tag(&md[2], 2, db, dnnl_f32, dnnl_ab));
    TRY(dnnl_memory_desc_init_by_tag(&md[3], 2, dd, dnnl_f32, dnnl_ab));
    dnnl_primitive_attr_t attr;
    TRY(dnnl_primitive_attr_create(&attr));
    TRY(dnnl_primitive_attr_set_output_scales(attr, p->n, 1 << 1, scales));
    dnnl_matmul_desc_t desc;
    dnnl_primitive_desc_t pd;
    TRY(dnnl_matmul_desc_init(&desc, &md[0], &md[1], &md[2], &md[3]));
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, attr, p->engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success)
        return -1;
    st = dnnl_primitive_create(&p->matmul, pd);
    dnnl_primitive_desc_destroy(pd);
    return st == dnnl_success ? 0 : -1;
}

int onednn_pipeline_init(onednn_pipeline *p, int64_t m, int64_t k, int64_t n, const int8_t *x1,
                         const int8_t *x2, const float *bias, const float *scales)
{
    memset(p, 0, sizeof *p);
    p->m = m, p->k = k, p->n = n;
    p->sums = malloc((size_t)(m * n) * sizeof *p->sums);
    p->out = malloc((size_t)(m * n) * sizeof *p->out);
    if (p->sums == NULL || p->out == NULL)
        return -1;
    TRY(dnnl_engine_create(&p->engine, dnnl_cpu, 0));
    TRY(dnnl_stream_create(&p->stream, p->engine, dnnl_stream_default_flags));
    dnnl_memory_desc_t md[4];
    if (make_primitive(p, scales, md) != 0)
        return -1;
    TRY(dnnl_memory_create(&p->src, &md[0], p->engine, (void *)x1));
    TRY(dnnl_memory_create(&p->wei, &md[1], p->engine, (void *)x2));
    TRY(dnnl_memory_create(&p->bias, &md[2], p->engine, (void *)bias));
    TRY(dnnl_memory_create(&p->dst, &md[3], p->engine, p->sums));
    return 0;
}

/* Round-to-nearest-even fp32 -> bf16, as a user would write it. */
static void to_bf16(const float *in, uint16_t *out, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        uint32_t x;
        memcpy(&x, &in[i], sizeof x);
        out[i] = (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }
}

int onednn_pipeline_run(onednn_pipeline *p, MPI_Comm comm)
{
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, p->src}, {DNNL_ARG_WEIGHTS, p->wei},
                               {DNNL_ARG_BIAS, p->bias}, {DNNL_ARG_DST, p->dst}};
    TRY(dnnl_primitive_execute(p->matmul, p->stream, 4, args));
    TRY(dnnl_stream_wait(p->stream));
    if (MPI_Allreduce(MPI_IN_PLACE, p->sums, (int)(p->m * p->n), MPI_FLOAT, MPI_SUM, comm) !=
        MPI_SUCCESS)
        return -1;
    to_bf16(p->sums, p->out, p->m * p->n);
    return 0;
}

void onednn_pipeline_free(onednn_pipeline *p)
{
    if (p->matmul)
        dnnl_primitive_destroy(p->matmul);
    dnnl_memory_t mems[4] = {p->src, p->wei, p->bias, p->dst};
    for (int i = 0; i < 4; i++)
        if (mems[i])
            dnnl_memory_destroy(mems[i]);
    if (p->stream)
        dnnl_stream_destroy(p->stream);
    if (p->engine)
        dnnl_engine_destroy(p->engine);
    free(p->sums);
    free(p->out);
}
