/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the fused epilogue of numerics.md §1-§3: int32 accumulators of a block of rows and
 * columns -> e values (Y bits) with bias, dequant, pertoken and x3 applied. This file's version is
 * the reference; the vector ones (kernels/epilogue_*.c) must give the same bits. */
#ifndef QMAR_SRC_EPILOGUE_H
#define QMAR_SRC_EPILOGUE_H
#include <stdint.h>

enum qmar__dequant_mode {
    QMAR__DQ_WORDS,    /* Y = FP16, no pertoken: TransQuantParamV2 words (§2a) */
    QMAR__DQ_BF16,     /* Y = BF16, no pertoken (§2b) */
    QMAR__DQ_PERTOKEN, /* pertoken present: FLOAT (FP16 output) or BF16 (BF16 output) scale (§2c) */
};

typedef struct qmar__epilogue {
    int32_t y;            /* QMAR_FLOAT16 or QMAR_BF16 */
    int32_t mode;         /* enum qmar__dequant_mode */
    int64_t n;
    const void *scale;    /* uint64 words, bf16 bits or fp32, per mode and Y */
    int64_t scale_step;   /* 0: per-tensor (one element), 1: per-channel */
    const float *pertoken;  /* m values, or NULL */
    const int32_t *bias;    /* n values, or NULL */
    const uint16_t *x3;     /* m x n Y bits, or NULL */
    const float *scale_col; /* n fp32 scales by column (qmar__epilogue_scales), for the vector
                             * epilogues; the reference reads `scale` itself */
} qmar__epilogue;

#include "qmar/qmar.h"

/* What the epilogue reads and the shapes it takes, as ACSL (proofs/units/epilogue: no run-time
 * error). */
#include "../../spec/acsl/epilogue.acsl"

/* col[j] = the fp32 value §2 multiplies column j by (the decoded word, or the widened scale). */
void qmar__epilogue_scales(const qmar__epilogue *p, float *col);

/* e[r*lde + (j - j0)] for global rows row0 .. row0+rows-1 and columns [j0, j1), from
 * acc[r*ldacc + (j - j0)]. Proven free of run-time errors, writing only the block of e. */
/*@ requires epilogue_shape(p, ldacc, row0, rows, j0, j1, lde);
    requires epilogue_readable(p, acc, ldacc, row0, rows, j0, j1);
    requires \valid(e + (0 .. (rows - 1) * lde + (j1 - j0) - 1));
    requires \separated(e + (0 .. (rows - 1) * lde + (j1 - j0) - 1), p);
    assigns e[0 .. (rows - 1) * lde + (j1 - j0) - 1];
*/
void qmar__epilogue_block(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc, int64_t row0,
                          int64_t rows, int64_t j0, int64_t j1, uint16_t *e, int64_t lde);

/* The same on whole rows: e[r*n + j] from acc[r*n + j]. (The vector epilogues are reached with
 * qmar__kernel_for(isa)->epilogue once scale_col is filled by qmar__epilogue_scales.) */
void qmar__epilogue_rows(const qmar__epilogue *p, const int32_t *acc, int64_t row0, int64_t rows,
                         uint16_t *e);
#endif
