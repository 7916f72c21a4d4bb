/* Internal: the fused epilogue of numerics.md §1-§3: int32 accumulators of one row tile ->
 * e values (Y bits) with bias, dequant, pertoken and x3 applied. */
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
} qmar__epilogue;

/* e[(r)*n + j] for rows row0 .. row0+rows-1, from acc[r*n + j]. */
void qmar__epilogue_rows(const qmar__epilogue *p, const int32_t *acc, int64_t row0, int64_t rows,
                         uint16_t *e);
#endif
