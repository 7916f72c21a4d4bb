/* SPDX-License-Identifier: Apache-2.0 */
/* TransQuantParamV2: fp32 dequant scales (+ offsets) -> the UINT64 words of the FP16 path
 * (numerics.md §6). */
#include <string.h>

#include "error.h"
#include "fp.h"
#include "transquant.h"

/* rint (half to even) of *o, clamped to [-256, 255]; NaN counts as 0.
 * Trusted contract (float arithmetic is not part of the proof unit, proofs/README.md). */
/*@ requires \valid_read(o);
    assigns \nothing;
    ensures \result == offset_code_of(o);
*/
static int32_t offset_code(const float *o)
{
    if (*o != *o)
        return 0;
    if (*o >= 255.0f)
        return 255;
    if (*o <= -256.0f)
        return -256;
    return qmar__rint_small(*o);
}

/* The bits of the fp32 at f. Trusted contract: WP's memory model has no float-to-bits view. */
/*@ requires \valid_read(f);
    assigns \nothing;
    ensures \result == f32_bits(f);
*/
static uint32_t scale_bits(const float *f)
{
    return qmar__f32_bits(*f);
}

/* Whether the n words at w share a byte with the count floats at f. Trusted contract: WP's memory
 * model has no view of addresses as integers. No wrap-around: both ranges are the caller's
 * buffers, so their ends are addresses too. */
/*@ assigns \nothing;
    ensures \result != 0 <==> !\separated(w + (0 .. n - 1), f + (0 .. count - 1));
*/
static int overlaps(const uint64_t *w, uint64_t n, const float *f, uint64_t count)
{
    uintptr_t a = (uintptr_t)w, b = (uintptr_t)f;
    return a < b + count * sizeof *f && b < a + n * sizeof *w;
}

/* §6 on integers: the word of a scale's bits, and with an offset its code in bits 37..45. */
/*@ assigns \nothing;
    ensures has_offset == 0 ==> \result == QMAR_ACSL_TQ_SCALE_WORD(bits);
    ensures has_offset != 0 ==> \result == QMAR_ACSL_TQ_OFFSET_WORD(bits, code);
*/
static uint64_t encode_word(uint32_t bits, int has_offset, int32_t code)
{
    uint64_t w = (uint64_t)(bits & 0xFFFFE000u) | (UINT64_C(1) << 46);
    if (has_offset) {
        uint64_t o9 = (uint64_t)(code & 0x1FF); /* two's complement: 0..511 */
        w = (w & UINT64_C(0x4000FFFFFFFF)) | (o9 * (UINT64_C(1) << 37)); /* o9 << 37 */
    }
    return w;
}

/* The word of the scale at scale and, when offset is not NULL, of the offset at offset. */
/*@ requires \valid_read(scale);
    requires offset != \null ==> \valid_read(offset);
    assigns \nothing;
    ensures offset == \null ==> \result == QMAR_ACSL_TQ_SCALE_WORD(f32_bits(scale));
    ensures offset != \null ==>
                \result == QMAR_ACSL_TQ_OFFSET_WORD(f32_bits(scale), offset_code_of(offset));
*/
static uint64_t encode(const float *scale, const float *offset)
{
    uint32_t bits = scale_bits(scale);
    if (offset == NULL)
        return encode_word(bits, 0, 0);
    return encode_word(bits, 1, offset_code(offset));
}

qmar_status qmar_trans_quant_param_v2(const float *scale, uint64_t scale_count, const float *offset,
                                      uint64_t offset_count, uint64_t *words, uint64_t words_count)
{
    if (scale == NULL || words == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "trans_quant_param_v2: %s is NULL",
                          scale == NULL ? "scale" : "words");
    if (scale_count < 1 || (offset == NULL) != (offset_count == 0))
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "trans_quant_param_v2: scale_count %llu must be >= 1 and offset_count "
                          "%llu must be 0 exactly when offset is NULL",
                          (unsigned long long)scale_count, (unsigned long long)offset_count);
    uint64_t n = scale_count > offset_count ? scale_count : offset_count;
    if ((scale_count != 1 && scale_count != n) || (offset_count > 1 && offset_count != n))
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "trans_quant_param_v2: counts %llu and %llu must each be 1 or the same",
                          (unsigned long long)scale_count, (unsigned long long)offset_count);
    if (words_count < n)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "trans_quant_param_v2: words_count %llu < %llu",
                          (unsigned long long)words_count, (unsigned long long)n);
    /* Writing word j would change scales or offsets not yet read (qmar_trans_matmul_weight rejects
     * an overlap the same way). */
    if (overlaps(words, n, scale, scale_count) ||
        (offset != NULL && overlaps(words, n, offset, offset_count)))
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "trans_quant_param_v2: words[0..%llu) overlap "
                          "%s", (unsigned long long)n,
                          overlaps(words, n, scale, scale_count) ? "scale" : "offset");
    /*@ loop invariant 0 <= j <= n;
        loop invariant \forall integer i; 0 <= i < j ==>
            \let bits = f32_bits(scale + (scale_count == 1 ? 0 : i));
            (offset == \null ==> words[i] == QMAR_ACSL_TQ_SCALE_WORD(bits)) &&
            (offset != \null ==>
                 words[i] == QMAR_ACSL_TQ_OFFSET_WORD(
                                 bits, offset_code_of(offset + (offset_count == 1 ? 0 : i))));
        loop assigns j, words[0 .. n - 1];
        loop variant n - j;
    */
    for (uint64_t j = 0; j < n; j++) {
        const float *o = offset == NULL ? NULL : &offset[offset_count == 1 ? 0 : j];
        words[j] = encode(&scale[scale_count == 1 ? 0 : j], o);
    }
    return QMAR_SUCCESS;
}
