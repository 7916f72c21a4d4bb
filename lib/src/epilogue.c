/* SPDX-License-Identifier: Apache-2.0 */
/* The fused epilogue, element by element exactly as numerics.md §1-§3 orders the roundings. */
#include "epilogue.h"

#include "fp.h"
#include "qmar/qmar.h"

/* f32 value of the dequant scale of column j (pertoken and BF16 modes). */
/*@ requires \valid_read(p) && epilogue_scale_readable(p) && p->mode != QMAR__DQ_WORDS;
    requires (p->scale_step == 0 || p->scale_step == 1) && 0 <= j < p->n;
    assigns \nothing;
*/
static float scale_f32(const qmar__epilogue *p, int64_t j)
{
    int64_t at = j * p->scale_step;
    if (p->y == QMAR_BF16)
        return qmar__bf16_to_f32(((const uint16_t *)p->scale)[at]);
    return ((const float *)p->scale)[at];
}

/* §2a: the word's low 32 bits, masked, are the fp32 scale. */
/*@ requires \valid_read(p) && epilogue_scale_readable(p) && p->mode == QMAR__DQ_WORDS;
    requires (p->scale_step == 0 || p->scale_step == 1) && 0 <= j < p->n;
    assigns \nothing;
*/
static float word_f32(const qmar__epilogue *p, int64_t j)
{
    uint64_t w = ((const uint64_t *)p->scale)[j * p->scale_step];
    return qmar__f32_from_bits((uint32_t)(w & 0xFFFFE000u)); /* the masked low 32 bits */
}

void qmar__epilogue_scales(const qmar__epilogue *p, float *col)
{
    for (int64_t j = 0; j < p->n; j++)
        col[j] = p->mode == QMAR__DQ_WORDS ? word_f32(p, j) : scale_f32(p, j);
}

/* §2: d = dequantized value (Y bits) of a = rne_fp32(acc + bias). */
/*@ requires \valid_read(p) && epilogue_scale_readable(p);
    requires (p->scale_step == 0 || p->scale_step == 1) && 0 <= j < p->n;
    requires p->mode == QMAR__DQ_WORDS || p->mode == QMAR__DQ_BF16 ||
             (p->mode == QMAR__DQ_PERTOKEN && \valid_read(p->pertoken + i));
    assigns \nothing;
*/
static uint16_t dequant(const qmar__epilogue *p, float a, int64_t i, int64_t j)
{
    if (p->mode == QMAR__DQ_WORDS)
        return qmar__f32_to_f16(a * word_f32(p, j));
    if (p->mode == QMAR__DQ_BF16)
        return qmar__f32_to_bf16(a * scale_f32(p, j));
    float t = a * scale_f32(p, j);
    t = t + 0.0f; /* turns -0 into +0 (§2c); IEEE forbids folding this away */
    return qmar__f32_to_y(p->pertoken[i] * t, p->y);
}

/* §3: e = d + x3 with one rounding to Y (FP16: the fp32 sum then fp16 rounding is innocuous
 * double rounding, since fp32 has more than 2*11+2 bits; BF16: the spec rounds to fp32 first). */
/*@ assigns \nothing; */
static uint16_t add_x3(uint16_t d, uint16_t x3, int32_t y)
{
    return qmar__f32_to_y(qmar__y_to_f32(d, y) + qmar__y_to_f32(x3, y), y);
}

/*@ ghost
  /@ requires 0 <= a <= b && 0 <= c;
     assigns \nothing;
     ensures a * c <= b * c;
  @/
  static void lemma_mul_mono(int64_t a, int64_t b, int64_t c)
  {
  }
*/

void qmar__epilogue_block(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc, int64_t row0,
                          int64_t rows, int64_t j0, int64_t j1, uint16_t *e, int64_t lde)
{
    int64_t n = p->n;
    /*@ loop invariant 0 <= r <= rows;
        loop assigns r, e[0 .. (rows - 1) * lde + (j1 - j0) - 1];
        loop variant rows - r;
    */
    for (int64_t r = 0; r < rows; r++) {
        int64_t i = row0 + r;
        /* Row r of the block: its accumulators, its e values and its x3 row lie inside the ranges
         * of the contract (products of unknowns: the provers get them as instances). */
        //@ ghost lemma_mul_mono(r, rows - 1, ldacc);
        //@ ghost lemma_mul_mono(r, rows - 1, lde);
        //@ ghost lemma_mul_mono(row0, i, n);
        //@ ghost lemma_mul_mono(i + 1, row0 + rows, n);
        /*@ loop invariant j0 <= j <= j1;
            loop assigns j, e[0 .. (rows - 1) * lde + (j1 - j0) - 1];
            loop variant j1 - j;
        */
        for (int64_t j = j0; j < j1; j++) {
            int64_t sum = (int64_t)acc[r * ldacc + (j - j0)] + (p->bias ? p->bias[j] : 0);
            float a = (float)sum; /* §1: exact int64 sum, one rounding to fp32 */
            uint16_t d = dequant(p, a, i, j);
            e[r * lde + (j - j0)] = p->x3 ? add_x3(d, p->x3[i * n + j], p->y) : d;
        }
    }
}

void qmar__epilogue_rows(const qmar__epilogue *p, const int32_t *acc, int64_t row0, int64_t rows,
                         uint16_t *e)
{
    qmar__epilogue_block(p, acc, p->n, row0, rows, 0, p->n, e, p->n);
}
