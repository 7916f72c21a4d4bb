/* TransQuantParamV2: fp32 dequant scales (+ offsets) -> the UINT64 words of the FP16 path
 * (numerics.md §6). */
#include <string.h>

#include "error.h"
#include "fp.h"

/* rint (half to even) of o, clamped to [-256, 255]; NaN counts as 0. */
static int32_t offset_code(float o)
{
    if (o != o)
        return 0;
    if (o >= 255.0f)
        return 255;
    if (o <= -256.0f)
        return -256;
    return qmar__rint_small(o);
}

static uint64_t encode(float scale, const float *offset)
{
    uint32_t bits;
    memcpy(&bits, &scale, sizeof bits);
    uint64_t w = (uint64_t)(bits & 0xFFFFE000u) | (UINT64_C(1) << 46);
    if (offset != NULL) {
        uint64_t o9 = (uint64_t)(uint32_t)offset_code(*offset) & 0x1FFu;
        w = (w & UINT64_C(0x4000FFFFFFFF)) | (o9 << 37);
    }
    return w;
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
    for (uint64_t j = 0; j < n; j++) {
        const float *o = offset == NULL ? NULL : &offset[offset_count == 1 ? 0 : j];
        words[j] = encode(scale[scale_count == 1 ? 0 : j], o);
    }
    return QMAR_SUCCESS;
}
