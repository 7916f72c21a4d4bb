/* Internal: the arithmetic inside the collectives (numerics.md §4 and §5), shared by every
 * backend so that all of them produce the same bits. */
#ifndef QMAR_SRC_COLLECTIVE_MATH_H
#define QMAR_SRC_COLLECTIVE_MATH_H
#include <stdint.h>
#include <string.h>

#include "elementwise.h"

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
    if (nranks == 1) /* §4: R = 1 is out = e, exactly */
        memcpy(out, parts[0], (size_t)(rows * c->n) * sizeof(uint16_t));
    else
        qmar__elementwise_select()->reduce_y((const uint16_t *const *)parts, nranks, rows * c->n,
                                             c->y, (uint16_t *)out);
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
    qmar__elementwise_select()->sum_requant((const int8_t *const *)parts, nranks, rows, c->n,
                                            c->ratio, (int8_t *)out);
}
#endif
