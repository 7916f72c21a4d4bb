/* The computing path of Run: agree with the peers, GEMM + fused epilogue (compute.c) into the
 * workspace, then the collective of the case (numerics.md §1-§5). */
#include <stdlib.h>

#include "agree.h"
#include "collective_math.h"
#include "compute.h"
#include "epilogue.h"
#include "error.h"
#include "fp.h"
#include "plan.h"

/* Per-Run buffers that are not part of the documented workspace. */
typedef struct scratch {
    qmar__compute compute; /* packed x2 and the threads' buffers */
    float *ratio;          /* case 3: s1/s2 per column */
} scratch;

static const void *elem0(const qmar_tensor *t)
{
    return (const char *)t->data + t->offset * (int64_t)qmar_dtype_size((qmar_dtype)t->dtype);
}

static qmar__epilogue epilogue_of(const qmar_executor *e)
{
    const qmar__facts *f = &e->facts;
    const qmar_tensor *dq = &e->t[QMAR__DEQUANT];
    qmar__epilogue p = {
        .y = f->y,
        .mode = f->has_pertoken ? QMAR__DQ_PERTOKEN
                : f->y == QMAR_BF16 ? QMAR__DQ_BF16 : QMAR__DQ_WORDS,
        .n = f->n,
        .scale = elem0(dq),
        .scale_step = dq->view_dims[dq->view_ndim - 1] == 1 ? 0 : 1,
        .pertoken = f->has_pertoken ? elem0(&e->t[QMAR__PERTOKEN]) : NULL,
        .bias = e->present[QMAR__BIAS] ? elem0(&e->t[QMAR__BIAS]) : NULL,
        .x3 = e->present[QMAR__X3] ? elem0(&e->t[QMAR__X3]) : NULL,
    };
    return p;
}

/* §1-§3 for every row of this rank into e_rows (m x n Y bits): x2 packed once, then the rows. */
static void compute_rows(const qmar_executor *e, scratch *s, uint16_t *e_rows)
{
    qmar__epilogue p = epilogue_of(e);
    qmar__compute_prepare(&s->compute, elem0(&e->t[QMAR__X1]), elem0(&e->t[QMAR__X2]),
                          e->facts.x2_layout, &p);
    qmar__compute_rows(&s->compute, 0, e->facts.m, e_rows, e->facts.n);
}

/* §5.1: q1 = sat8(rint(rne_fp16(e / s1))), the quotient taken in fp32 (for FP16 that double
 * rounding is innocuous; for BF16 it is what the spec prescribes). */
static void quantize(const uint16_t *e_rows, const uint16_t *s1, int64_t m, int64_t n, int32_t y,
                     int8_t *q1)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float q = qmar__y_to_f32(e_rows[i * n + j], y) / qmar__y_to_f32(s1[j], y);
            q1[i * n + j] = qmar__rint_sat8(qmar__f16_to_f32(qmar__f32_to_f16(q)));
        }
}

/* §5.4: out = rne_Y(q2 * s2); the product is exact in fp32. */
static void dequantize(const int8_t *q2, const uint16_t *s2, int64_t m, int64_t n, int32_t y,
                       uint16_t *out)
{
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            out[i * n + j] = qmar__f32_to_y((float)q2[i * n + j] * qmar__y_to_f32(s2[j], y), y);
}

static qmar_status run_case3(const qmar_executor *e, const scratch *s, uint16_t *e_rows,
                             char *ws_tail, uint16_t *out)
{
    const qmar__facts *f = &e->facts;
    int64_t m = f->m, n = f->n;
    const uint16_t *s1 = elem0(&e->t[QMAR__CS1]), *s2 = elem0(&e->t[QMAR__CS2]);
    int8_t *q1 = (int8_t *)ws_tail;
    int8_t *q2 = q1 + ((uint64_t)(m * n) + 63u) / 64u * 64u;
    quantize(e_rows, s1, m, n, f->y, q1);
    for (int64_t j = 0; j < n; j++) /* §5.3: ratio = rne_fp32(s1 / s2) */
        s->ratio[j] = qmar__y_to_f32(s1[j], f->y) / qmar__y_to_f32(s2[j], f->y);
    qmar_status st = e->comm->ops->lowbit_allreduce(e->comm, q1, q2, m, n, s->ratio);
    if (st == QMAR_SUCCESS)
        dequantize(q2, s2, m, n, f->y, out);
    return st;
}

static qmar_status scratch_alloc(const qmar__facts *f, scratch *s)
{
    qmar_status st = qmar__compute_init(&s->compute, qmar__kernel_select(), qmar__num_threads(),
                                        f->m, f->k, f->n);
    if (st != QMAR_SUCCESS)
        return st;
    s->ratio = f->op_case == 3 ? malloc((size_t)f->n * sizeof *s->ratio) : NULL;
    if (f->op_case == 3 && s->ratio == NULL)
        return qmar__fail(QMAR_ERR_INNER, "run: out of memory for the case 3 ratios");
    return QMAR_SUCCESS;
}

qmar_status qmar__execute(qmar_executor *e, void *workspace)
{
    const qmar__facts *f = &e->facts;
    scratch s = {0};
    qmar_status st = qmar__agree(e, scratch_alloc(f, &s));
    if (st == QMAR_SUCCESS) {
        uint16_t *e_rows = workspace;
        uint16_t *out = (uint16_t *)elem0(&e->t[QMAR__OUT]);
        char *tail = (char *)workspace + ((uint64_t)(f->m * f->n) * 2u + 63u) / 64u * 64u;
        compute_rows(e, &s, e_rows);
        if (f->op_case == 3)
            st = run_case3(e, &s, e_rows, tail, out);
        else
            st = e->comm->ops->allreduce_y(e->comm, e_rows, out, f->m, f->n, f->y);
    }
    qmar__compute_free(&s.compute);
    free(s.ratio);
    return st;
}
