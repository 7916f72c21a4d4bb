/* SPDX-License-Identifier: Apache-2.0 */
/* lib/src/fp.h, the proven integer conversions (proofs/units/fp), against the integer-exact model's
 * soft-float (spec/model/softfp.c): rne_fp16 and rne_bf16 of an fp32, f32 of every fp16 and bf16,
 * and sat8(rint(v)). The proof says the code meets spec/acsl/numerics.acsl; this says the ACSL
 * reading and the model's reading of numerics.md agree. By default every fp32 pattern near a
 * rounding boundary of either format plus a stride through the rest; `exhaustive`: all 2^32. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fp.h"
#include "softfp.h"

static long bad_f16, bad_bf16, bad_sat8, tried;

static int is_nan16(uint32_t h, int bf16)
{
    return bf16 ? (h & 0x7FFFu) > 0x7F80u : (h & 0x7FFFu) > 0x7C00u;
}

static void one(uint32_t x)
{
    msf_num v = msf_decode(MSF_FP32, x);
    uint32_t want16 = msf_round(MSF_FP16, v), wantb = msf_round(MSF_BF16, v);
    uint32_t got16 = qmar__f32_bits_to_f16(x), gotb = qmar__f32_bits_to_bf16(x);
    /* A NaN may be any NaN (numerics.md, reading 1). */
    bad_f16 += is_nan16(want16, 0) ? !is_nan16(got16, 0) : got16 != want16;
    bad_bf16 += is_nan16(wantb, 1) ? !is_nan16(gotb, 1) : gotb != wantb;
    bad_sat8 += qmar__rint_sat8_bits(x) != msf_sat8(MSF_FP32, msf_rint(MSF_FP32, x));
    tried++;
}

int main(int argc, char **argv)
{
    int exhaustive = argc > 1 && strcmp(argv[1], "exhaustive") == 0;
    if (exhaustive) {
        for (uint64_t x = 0; x <= 0xFFFFFFFFu; x++)
            one((uint32_t)x);
    } else {
        /* Around every fp16 (13 dropped bits) and bf16 (16) rounding point: below, at and above
         * the half, and the pattern's own ends. */
        static const uint32_t low[] = {0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000,
                                       0x2FFF, 0x3000, 0x3001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
        for (uint32_t hi = 0; hi < 0x10000u; hi++)
            for (size_t i = 0; i < sizeof low / sizeof low[0]; i++)
                one(hi << 16 | low[i]);
        for (uint64_t x = 0; x <= 0xFFFFFFFFu; x += 4099)
            one((uint32_t)x);
    }
    CHECK_EQ_I64(bad_f16, 0);
    CHECK_EQ_I64(bad_bf16, 0);
    CHECK_EQ_I64(bad_sat8, 0);
    /* Widening is exact: every fp16 and bf16 pattern. */
    long bad_w16 = 0, bad_wb = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        uint32_t w16 = msf_round(MSF_FP32, msf_decode(MSF_FP16, h));
        uint32_t wb = msf_round(MSF_FP32, msf_decode(MSF_BF16, h));
        uint32_t g16 = qmar__f16_bits_to_f32((uint16_t)h), gb = qmar__bf16_bits_to_f32((uint16_t)h);
        int nan16 = (h & 0x7FFFu) > 0x7C00u, nanb = (h & 0x7FFFu) > 0x7F80u;
        bad_w16 += nan16 ? (g16 & 0x7FFFFFFFu) <= 0x7F800000u : g16 != w16;
        bad_wb += nanb ? (gb & 0x7FFFFFFFu) <= 0x7F800000u : gb != wb;
    }
    CHECK_EQ_I64(bad_w16, 0);
    CHECK_EQ_I64(bad_wb, 0);
    printf("%ld fp32 patterns, 65536 fp16 and bf16 patterns compared with the model\n", tried);
    return check_summary();
}
