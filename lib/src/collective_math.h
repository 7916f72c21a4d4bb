/* Internal: the arithmetic inside the collectives (numerics.md §4 and §5), shared by every
 * backend so that all of them produce the same bits. */
#ifndef QMAR_SRC_COLLECTIVE_MATH_H
#define QMAR_SRC_COLLECTIVE_MATH_H
#include <stdint.h>
#include <string.h>

#include "fp.h"

/* §5.3: q2 = sat8(rint(rne_fp16(rne_fp32(S * ratio)))); S is exact (|S| <= 1024). */
static inline int8_t qmar__requant(int32_t sum, float ratio)
{
    float v = (float)sum * ratio;
    return qmar__rint_sat8(qmar__f16_to_f32(qmar__f32_to_f16(v)));
}

/* §4: out[j] = rne_Y(s), s = fp32 sum of the ranks' values in rank order. rows[r] points at rank
 * r's values of the same cells. */
static inline void qmar__reduce_y(const uint16_t *const *rows, int32_t nranks, int64_t count,
                                  int32_t y, uint16_t *out)
{
    if (nranks == 1) { /* §4: R = 1 is out = e, exactly */
        memcpy(out, rows[0], (size_t)count * sizeof *out);
        return;
    }
    for (int64_t c = 0; c < count; c++) {
        float s = qmar__y_to_f32(rows[0][c], y);
        for (int32_t r = 1; r < nranks; r++)
            s = s + qmar__y_to_f32(rows[r][c], y);
        out[c] = qmar__f32_to_y(s, y);
    }
}

/* §5.2-5.3 on whole rows: rows[r] points at rank r's q1 values of the same `nrows` rows. */
static inline void qmar__sum_requant(const int8_t *const *rows, int32_t nranks, int64_t nrows,
                                     int64_t n, const float *ratio, int8_t *out)
{
    for (int64_t i = 0; i < nrows; i++)
        for (int64_t j = 0; j < n; j++) {
            int64_t c = i * n + j;
            int32_t s = 0;
            for (int32_t r = 0; r < nranks; r++)
                s += rows[r][c];
            out[c] = qmar__requant(s, ratio[j]);
        }
}
/* What a backend applies to this rank's chunk once it holds every rank's copy of it: parts[r] is
 * rank r's copy of the chunk's `rows` rows; the result goes to out. Backends move bytes, these
 * do the arithmetic, so every backend produces the same bits. */
typedef void (*qmar__chunk_reduce)(const char *const *parts, int32_t nranks, int64_t rows,
                                   const void *ctx, char *out);

typedef struct qmar__y_reduce_ctx {
    int64_t n;
    int32_t y;
} qmar__y_reduce_ctx;

/* §4 on a chunk of Y rows; ctx is a qmar__y_reduce_ctx. */
static inline void qmar__reduce_y_chunk(const char *const *parts, int32_t nranks, int64_t rows,
                                        const void *ctx, char *out)
{
    const qmar__y_reduce_ctx *c = ctx;
    qmar__reduce_y((const uint16_t *const *)parts, nranks, rows * c->n, c->y, (uint16_t *)out);
}

typedef struct qmar__lowbit_ctx {
    int64_t n;
    const float *ratio;
} qmar__lowbit_ctx;

/* §5.2-5.3 on a chunk of int8 rows; ctx is a qmar__lowbit_ctx. */
static inline void qmar__sum_requant_chunk(const char *const *parts, int32_t nranks,
                                           int64_t rows, const void *ctx, char *out)
{
    const qmar__lowbit_ctx *c = ctx;
    qmar__sum_requant((const int8_t *const *)parts, nranks, rows, c->n, c->ratio, (int8_t *)out);
}
#endif
