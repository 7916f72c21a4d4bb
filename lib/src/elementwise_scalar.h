/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: one element of each element-wise pass (elementwise.h), the formulas of the scalar
 * reference. elementwise.c loops over them; vector versions without masked 16-bit loads (AVX2)
 * call them for the columns left over after the last full vector, so both compute the same. */
#ifndef QMAR_SRC_ELEMENTWISE_SCALAR_H
#define QMAR_SRC_ELEMENTWISE_SCALAR_H
#include <stdint.h>

#include "fp.h"
#include "qmar/qmar.h"

/* §4: rne_Y of the fp32 sum over r in rank order of rows[r][c]. */
/*@ requires 1 <= nranks <= QMAR_COMM_MAX_RANKS;
    requires \valid_read(rows + (0 .. nranks - 1));
    requires \forall integer r; 0 <= r < nranks ==> \valid_read(rows[r] + c);
    assigns \nothing;
*/
static inline uint16_t qmar__ew_reduce_one(const uint16_t *const *rows, int32_t nranks, int64_t c,
                                           int32_t y)
{
    float s = qmar__y_to_f32(rows[0][c], y);
    /*@ loop invariant 1 <= r <= nranks;
        loop assigns r, s;
        loop variant nranks - r;
    */
    for (int32_t r = 1; r < nranks; r++)
        s = s + qmar__y_to_f32(rows[r][c], y);
    return qmar__f32_to_y(s, y);
}

/* §5.1: sat8(rint(rne_fp16(e / s1))). The FP16 quotient is taken in fp32 and rounded again:
 * innocuous double rounding, since fp32 has more than 2*11+2 bits; for BF16 it is what the spec
 * prescribes. */
/*@ assigns \nothing; */
static inline int8_t qmar__ew_quantize_one(uint16_t e, uint16_t s1, int32_t y)
{
    float q = qmar__y_to_f32(e, y) / qmar__y_to_f32(s1, y);
    return qmar__rint_sat8(qmar__f16_to_f32(qmar__f32_to_f16(q)));
}

/* §5.2-5.3: sat8(rint(rne_fp16(rne_fp32(S * ratio)))), S the exact sum over r of rows[r][c]. */
/*@ requires 1 <= nranks <= QMAR_COMM_MAX_RANKS;
    requires \valid_read(rows + (0 .. nranks - 1));
    requires \forall integer r; 0 <= r < nranks ==> \valid_read(rows[r] + c);
    assigns \nothing;
*/
static inline int8_t qmar__ew_sum_requant_one(const int8_t *const *rows, int32_t nranks, int64_t c,
                                              float ratio)
{
    int32_t s = 0;
    /*@ loop invariant 0 <= r <= nranks && -128 * r <= s <= 127 * r; // no int32 overflow
        loop assigns r, s;
        loop variant nranks - r;
    */
    for (int32_t r = 0; r < nranks; r++)
        s += rows[r][c];
    float v = (float)s * ratio; /* |S| <= 1024: exact in fp32 before the product */
    return qmar__rint_sat8(qmar__f16_to_f32(qmar__f32_to_f16(v)));
}

/* §5.4: rne_Y(q2 * s2). The product of an int8 and a Y value is exact in fp32, so one rounding
 * to Y remains. */
/*@ assigns \nothing; */
static inline uint16_t qmar__ew_dequantize_one(int8_t q2, uint16_t s2, int32_t y)
{
    return qmar__f32_to_y((float)q2 * qmar__y_to_f32(s2, y), y);
}
#endif
