/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the arithmetic inside the collectives (numerics.md §4 and §5), shared by every
 * backend so that all of them produce the same bits. */
#ifndef QMAR_SRC_COLLECTIVE_MATH_H
#define QMAR_SRC_COLLECTIVE_MATH_H
#include <stdint.h>
#include <string.h>

#include "elementwise.h"
#include "qmar/qmar.h"

/* How rows are cut into chunks, as ACSL logic (chunk_lo and the lemmas that every row is in
 * exactly one chunk). */
#include "../../spec/acsl/collective.acsl"

/* Rows [*lo, *hi) of the chunk that rank r reduces when m rows are split over size ranks.
 * Proven (proofs/units/chunk): chunk r is [chunk_lo(r), chunk_lo(r + 1)) of collective.acsl, so
 * the ranks' chunks cover rows 0..m-1 exactly once, in rank order, for every accepted m
 * (<= 2^31 - 1, spec/validation.md) and group size (1, 2, 4, 8; the proof holds up to 64). */
/*@ requires 0 <= m <= 2147483647;
    requires 1 <= size <= QMAR_COMM_MAX_RANKS;
    requires 0 <= r < size;
    requires \valid(lo) && \valid(hi) && \separated(lo, hi);
    assigns *lo, *hi;
    ensures *lo == chunk_lo(m, size, r) && *hi == chunk_lo(m, size, r + 1);
    ensures 0 <= *lo <= *hi <= m;
*/
static inline void qmar__chunk(int64_t m, int32_t size, int32_t r, int64_t *lo, int64_t *hi)
{
    *lo = m * r / size;
    *hi = m * (r + 1) / size;
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
