/* SPDX-License-Identifier: Apache-2.0 */
/* aclDataTypeSize and the fp16 <-> fp32 conversions of acl_base.h, on integer bits (round to
 * nearest even, denormals kept, NaN stays NaN), so they never depend on the FPU's modes. */
#include <string.h>

#include "compat.h"

size_t aclDataTypeSize(aclDataType dataType)
{
    switch (dataType) {
    case ACL_COMPLEX32: return 4;
    case ACL_COMPLEX64: return 8;
    case ACL_COMPLEX128: return 16;
    default: return (size_t)qmar_dtype_size((qmar_dtype)dataType);
    }
}

float aclFloat16ToFloat(aclFloat16 value)
{
    uint32_t sign = (uint32_t)(value >> 15) << 31;
    uint32_t exp = (value >> 10) & 0x1Fu, mant = value & 0x3FFu, bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else { /* denormal: normalize the significand */
        int32_t e = -14;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            e--;
        }
        bits = sign | ((uint32_t)(e + 127) << 23) | ((mant & 0x3FFu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* m >> shift, rounded to nearest even. shift in 1..31. */
static uint32_t shift_rne(uint32_t m, int shift)
{
    uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return r + (rem > half || (rem == half && (r & 1u)));
}

aclFloat16 aclFloatToFloat16(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
    int32_t exp = (int32_t)((bits >> 23) & 0xFFu);
    uint32_t mant = bits & 0x7FFFFFu;
    if (exp == 0xFF) /* inf, or NaN kept quiet with the top payload bits */
        return (uint16_t)(sign | 0x7C00u | (mant != 0 ? 0x200u | (mant >> 13) : 0u));
    int32_t e = exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7C00u);
    if (e >= 1) /* normal: a carry out of the mantissa correctly bumps the exponent */
        return (uint16_t)(sign | shift_rne(((uint32_t)e << 23) | mant, 13));
    if (e < -10 || exp == 0) /* below half the smallest denormal (fp32 denormals included) */
        return sign;
    return (uint16_t)(sign | shift_rne(mant | 0x800000u, 14 - e));
}
