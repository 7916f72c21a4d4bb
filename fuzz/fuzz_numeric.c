/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_numeric: the library's conversion and rounding helpers against the integer-exact model,
 * on any bits: fp16/bf16 <-> fp32, rint + sat8; the element-wise passes of the collectives (the
 * fp32 all-reduce sum, case 3's quantize, sum + requantize, dequantize) in every implementation
 * this CPU runs (scalar, AVX2, AVX-512); the fused epilogue (bias, the three dequant modes,
 * pertoken, x3) of every ISA's kernel on any block of columns; TransQuantParamV2; the FRACTAL_NZ
 * size, index and conversion; element sizes.
 * Oracle: equal bits (NaN meets NaN, any payload: numerics.md), equal statuses, no sanitizer
 * report (every buffer is allocated to its exact size).
 *
 * Input: a sequence of up to 64 operations, each a u8 opcode (% NOPS) and its parameters from the
 * tail (fuzz/byte_reader.h); bulk values (matrices, scale arrays) come from the payload at the
 * head and, when it is used up, from a generator seeded by the input's last 8 bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "byte_reader.h"
#include "elementwise.h"
#include "epilogue.h"
#include "fp.h"
#include "kernels/kernel.h"
#include "fuzz_check.h"
#include "model.h"
#include "nz.h"
#include "qmar/qmar.h"
#include "softfp.h"

const char fuzz_target_name[] = "fuzz_numeric";

#define MAX_OPS 64

typedef struct ctx {
    fz_reader r;
    uint64_t mix; /* generator state for bulk values the payload does not provide */
} ctx;

static uint64_t bulk(ctx *c, int bytes)
{
    return fz_payload_or_mix(&c->r, bytes, &c->mix);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL, "oom", "out of memory (%zu bytes)", n);
    return p;
}

static int nan16(uint16_t h) { return (h & 0x7FFF) > 0x7C00; }
static int nanbf(uint16_t h) { return (h & 0x7FFF) > 0x7F80; }
static int nan32(uint32_t x) { return (x & 0x7FFFFFFFu) > 0x7F800000u; }
static int nan_y(qmar_dtype y, uint16_t h) { return y == QMAR_BF16 ? nanbf(h) : nan16(h); }

/* Equal bits, or both NaN. */
static int same16(qmar_dtype y, uint16_t a, uint16_t b)
{
    return a == b || (nan_y(y, a) && nan_y(y, b));
}
static int same32(uint32_t a, uint32_t b) { return a == b || (nan32(a) && nan32(b)); }

static qmar_dtype pick_y(ctx *c) { return fz_u8(&c->r) & 1 ? QMAR_BF16 : QMAR_FLOAT16; }

/* ---- Conversions ----------------------------------------------------------------------------- */

static void op_widen(ctx *c)
{
    uint16_t h = fz_u16(&c->r);
    uint32_t lib = qmar__f32_bits(qmar__f16_to_f32(h));
    uint32_t want = msf_round(MSF_FP32, msf_decode(MSF_FP16, h));
    FUZZ_CHECK(same32(lib, want), "f16-to-f32", "fp16 0x%04x -> 0x%08x, model 0x%08x", h, lib,
               want);
    lib = qmar__f32_bits(qmar__bf16_to_f32(h));
    want = msf_round(MSF_FP32, msf_decode(MSF_BF16, h));
    FUZZ_CHECK(same32(lib, want), "bf16-to-f32", "bf16 0x%04x -> 0x%08x, model 0x%08x", h, lib,
               want);
}

static void op_narrow(ctx *c)
{
    uint32_t x = fz_u32(&c->r);
    float f = qmar__f32_from_bits(x);
    uint16_t lib = qmar__f32_to_f16(f);
    uint16_t want = (uint16_t)msf_round(MSF_FP16, msf_decode(MSF_FP32, x));
    FUZZ_CHECK(same16(QMAR_FLOAT16, lib, want), "f32-to-f16", "fp32 0x%08x -> 0x%04x, model 0x%04x",
               x, lib, want);
    lib = qmar__f32_to_bf16(f);
    want = (uint16_t)msf_round(MSF_BF16, msf_decode(MSF_FP32, x));
    FUZZ_CHECK(same16(QMAR_BF16, lib, want), "f32-to-bf16", "fp32 0x%08x -> 0x%04x, model 0x%04x",
               x, lib, want);
}

static void op_rint_sat8(ctx *c)
{
    uint32_t x = fz_u32(&c->r);
    int32_t lib = qmar__rint_sat8(qmar__f32_from_bits(x));
    int32_t want = msf_sat8(MSF_FP32, msf_rint(MSF_FP32, x));
    FUZZ_CHECK(lib == want, "rint-sat8", "sat8(rint(fp32 0x%08x)) = %d, model %d", x, (int)lib,
               (int)want);
}

/* ---- The element-wise passes of the collectives (numerics.md §4, §5) ------------------------- */

/* The implementations this build has and this CPU runs; the first is the scalar reference.
 * Selector byte: bit 0 set, AVX-512; else bit 1 set, AVX2; else (or where the CPU lacks the
 * ISA) scalar. */
static const qmar__elementwise *elementwise_impl(ctx *c)
{
    uint8_t v = fz_u8(&c->r);
#if QMAR_HAVE_AVX512
    if ((v & 1) && qmar__kernel_for(QMAR__ISA_AVX512) != NULL)
        return &qmar__elementwise_avx512;
#endif
#if QMAR_HAVE_AVX2
    if ((v & 3) == 2 && qmar__kernel_for(QMAR__ISA_AVX2) != NULL)
        return &qmar__elementwise_avx2;
#endif
    (void)v;
    return &qmar__elementwise_scalar;
}

/* §4: out = rne_Y(fp32 sum in rank order), R >= 2 (R = 1 is a copy). */
static void op_reduce(ctx *c)
{
    const qmar__elementwise *ew = elementwise_impl(c);
    qmar_dtype y = pick_y(c);
    int32_t ranks = 2 + (int32_t)fz_pick(&c->r, 7);
    int64_t count = 1 + fz_pick(&c->r, 40);
    uint16_t *vals[8], *out = xmalloc((size_t)count * 2);
    for (int32_t r = 0; r < ranks; r++) {
        vals[r] = xmalloc((size_t)count * 2);
        for (int64_t i = 0; i < count; i++)
            vals[r][i] = (uint16_t)bulk(c, 2);
    }
    ew->reduce_y((const uint16_t *const *)vals, ranks, count, y, out);
    for (int64_t i = 0; i < count; i++) {
        uint16_t e[8];
        for (int32_t r = 0; r < ranks; r++)
            e[r] = vals[r][i];
        uint16_t want = model_all_reduce(y, e, ranks);
        FUZZ_CHECK(same16(y, out[i], want), "all-reduce",
                   "%s: %s sum of %d ranks, cell %lld of %lld: 0x%04x, model 0x%04x", ew->name,
                   y == QMAR_BF16 ? "bf16" : "fp16", (int)ranks, (long long)i, (long long)count,
                   out[i], want);
    }
    for (int32_t r = 0; r < ranks; r++)
        free(vals[r]);
    free(out);
}

/* Comm scales of n columns (Y bits) and a rows x n block of Y values, all exact-size. */
static uint16_t *y_values(ctx *c, int64_t count)
{
    uint16_t *v = xmalloc((size_t)count * 2);
    for (int64_t i = 0; i < count; i++)
        v[i] = (uint16_t)bulk(c, 2);
    return v;
}

/* §5.1 and §5.4: quantize with s1, dequantize with s2. */
static void op_quant_dequant(ctx *c)
{
    const qmar__elementwise *ew = elementwise_impl(c);
    qmar_dtype y = pick_y(c);
    int64_t rows = 1 + fz_pick(&c->r, 3), n = 1 + fz_pick(&c->r, 40);
    uint16_t *e = y_values(c, rows * n), *s1 = y_values(c, n), *s2 = y_values(c, n);
    int8_t *q = xmalloc((size_t)(rows * n));
    uint16_t *out = xmalloc((size_t)(rows * n) * 2);
    ew->quantize(e, s1, rows, n, y, q);
    for (int64_t i = 0; i < rows * n; i++) {
        int32_t want = model_comm_quant(y, e[i], s1[i % n]);
        FUZZ_CHECK(q[i] == want, "quantize", "%s: %s e 0x%04x / s1 0x%04x -> %d, model %d",
                   ew->name, y == QMAR_BF16 ? "bf16" : "fp16", e[i], s1[i % n], (int)q[i],
                   (int)want);
    }
    for (int64_t i = 0; i < rows * n; i++)
        q[i] = (int8_t)(uint8_t)bulk(c, 1);
    ew->dequantize(q, s2, rows, n, y, out);
    for (int64_t i = 0; i < rows * n; i++) {
        uint16_t want = model_comm_dequant(y, q[i], s2[i % n]);
        FUZZ_CHECK(same16(y, out[i], want), "dequantize",
                   "%s: %s q2 %d * s2 0x%04x -> 0x%04x, model 0x%04x", ew->name,
                   y == QMAR_BF16 ? "bf16" : "fp16", (int)q[i], s2[i % n], out[i], want);
    }
    free(e);
    free(s1);
    free(s2);
    free(q);
    free(out);
}

/* §5.2-5.3: exact sums of the ranks' q1, requantized per column. */
static void op_sum_requant(ctx *c)
{
    const qmar__elementwise *ew = elementwise_impl(c);
    int32_t ranks = 1 + (int32_t)fz_pick(&c->r, 8);
    int64_t rows = 1 + fz_pick(&c->r, 3), n = 1 + fz_pick(&c->r, 40);
    int8_t *q[8], *out = xmalloc((size_t)(rows * n));
    float *ratio = xmalloc((size_t)n * sizeof *ratio);
    uint32_t *ratio_bits = xmalloc((size_t)n * 4);
    for (int64_t j = 0; j < n; j++) {
        ratio_bits[j] = (uint32_t)bulk(c, 4);
        ratio[j] = qmar__f32_from_bits(ratio_bits[j]);
    }
    for (int32_t r = 0; r < ranks; r++) {
        q[r] = xmalloc((size_t)(rows * n));
        for (int64_t i = 0; i < rows * n; i++)
            q[r][i] = (int8_t)(uint8_t)bulk(c, 1);
    }
    ew->sum_requant((const int8_t *const *)q, ranks, rows, n, ratio, out);
    for (int64_t i = 0; i < rows * n; i++) {
        int32_t s = 0;
        for (int32_t r = 0; r < ranks; r++)
            s += q[r][i];
        int32_t want = model_comm_requant(s, ratio_bits[i % n]);
        FUZZ_CHECK(out[i] == want, "sum-requant",
                   "%s: cell %lld: S %d ratio 0x%08x -> %d, model %d", ew->name, (long long)i,
                   (int)s, ratio_bits[i % n], (int)out[i], (int)want);
    }
    for (int32_t r = 0; r < ranks; r++)
        free(q[r]);
    free(out);
    free(ratio);
    free(ratio_bits);
}

/* ---- The fused epilogue (numerics.md §1-§3) -------------------------------------------------- */

typedef struct epi_case {
    qmar__epilogue p;
    int64_t row0, rows, n;
    int32_t *acc, *bias;
    uint64_t *words;
    uint32_t *f32;
    uint16_t *bf16, *x3;
    uint32_t *pertoken;
} epi_case;

/* The model's e value of (i, j) from the same inputs. */
static uint16_t epi_model(const epi_case *k, int64_t r, int64_t j)
{
    int64_t i = k->row0 + r, at = j * k->p.scale_step;
    uint32_t a = model_a(k->acc[r * k->n + j], k->bias ? k->bias[j] : 0);
    uint16_t d;
    if (k->p.mode == QMAR__DQ_WORDS)
        d = model_dequant_w64(a, k->words[at]);
    else if (k->p.mode == QMAR__DQ_BF16)
        d = model_dequant_bf16(a, k->bf16[at]);
    else
        d = model_dequant_pertoken((qmar_dtype)k->p.y, a,
                                   k->p.y == QMAR_BF16 ? k->bf16[at] : k->f32[at], k->pertoken[i]);
    return k->x3 ? model_add_x3((qmar_dtype)k->p.y, d, k->x3[i * k->n + j]) : d;
}

static void epi_free(epi_case *k)
{
    free(k->acc);
    free(k->bias);
    free(k->words);
    free(k->f32);
    free(k->bf16);
    free(k->x3);
    free(k->pertoken);
}

static void op_epilogue(ctx *c)
{
    epi_case k;
    memset(&k, 0, sizeof k);
    k.p.y = pick_y(c);
    k.p.mode = (int32_t)fz_pick(&c->r, 3);
    if (k.p.mode == QMAR__DQ_WORDS && k.p.y == QMAR_BF16)
        k.p.mode = QMAR__DQ_BF16; /* words are the FP16 path only (validation.md D5) */
    if (k.p.mode == QMAR__DQ_BF16 && k.p.y == QMAR_FLOAT16)
        k.p.mode = QMAR__DQ_WORDS;
    uint8_t flags = fz_u8(&c->r);
    k.p.scale_step = flags & 1;
    k.row0 = fz_pick(&c->r, 40);
    k.rows = 1 + fz_pick(&c->r, 4);
    k.n = k.p.n = 1 + fz_pick(&c->r, 40);
    int64_t m = k.row0 + k.rows, nscale = k.p.scale_step ? k.n : 1;
    k.acc = xmalloc((size_t)(k.rows * k.n) * 4);
    for (int64_t i = 0; i < k.rows * k.n; i++)
        k.acc[i] = (int32_t)(uint32_t)bulk(c, 4);
    if (flags & 2) {
        k.bias = xmalloc((size_t)k.n * 4);
        for (int64_t j = 0; j < k.n; j++)
            k.bias[j] = (int32_t)(uint32_t)bulk(c, 4);
    }
    if (k.p.mode == QMAR__DQ_WORDS) {
        k.words = xmalloc((size_t)nscale * 8);
        for (int64_t j = 0; j < nscale; j++)
            k.words[j] = bulk(c, 8);
        k.p.scale = k.words;
    } else if (k.p.y == QMAR_BF16) {
        k.bf16 = xmalloc((size_t)nscale * 2);
        for (int64_t j = 0; j < nscale; j++)
            k.bf16[j] = (uint16_t)bulk(c, 2);
        k.p.scale = k.bf16;
    } else {
        k.f32 = xmalloc((size_t)nscale * 4);
        for (int64_t j = 0; j < nscale; j++)
            k.f32[j] = (uint32_t)bulk(c, 4);
        k.p.scale = k.f32;
    }
    if (k.p.mode == QMAR__DQ_PERTOKEN) {
        k.pertoken = xmalloc((size_t)m * 4);
        for (int64_t i = 0; i < m; i++)
            k.pertoken[i] = (uint32_t)bulk(c, 4);
        k.p.pertoken = (const float *)(const void *)k.pertoken;
    }
    if (flags & 4) {
        k.x3 = xmalloc((size_t)(m * k.n) * 2);
        for (int64_t i = 0; i < m * k.n; i++)
            k.x3[i] = (uint16_t)bulk(c, 2);
        k.p.x3 = k.x3;
    }
    k.p.bias = k.bias;
    /* Which epilogue: whole rows (the reference), or a block [j0, j1) through an ISA's kernel
     * (the scalar kernel's is the reference block; one this CPU lacks falls back to it). */
    int isa = (int)fz_pick(&c->r, QMAR__NISA + 1);
    int64_t j0 = 0, j1 = k.n, ld = k.n, lde = k.n;
    uint8_t cut = fz_u8(&c->r);
    const qmar__kernel *kern = isa < QMAR__NISA ? qmar__kernel_for(isa) : NULL;
    if (isa < QMAR__NISA) {
        j0 = cut % k.n;
        j1 = j0 + 1 + (cut >> 3) % (k.n - j0);
        ld = j1 - j0 + (cut >> 6);
        lde = j1 - j0 + ((cut >> 4) & 3);
    }
    float *col = xmalloc((size_t)k.n * sizeof *col);
    qmar__epilogue_scales(&k.p, col);
    k.p.scale_col = col;
    int32_t *acc = xmalloc((size_t)(k.rows * ld) * 4); /* the block's accumulators, row stride ld */
    for (int64_t r = 0; r < k.rows; r++)
        for (int64_t j = j0; j < j1; j++)
            acc[r * ld + (j - j0)] = k.acc[r * k.n + j];
    uint16_t *e = xmalloc((size_t)(k.rows * lde) * 2);
    const char *name = "rows";
    if (isa == QMAR__NISA) {
        qmar__epilogue_rows(&k.p, k.acc, k.row0, k.rows, e);
    } else if (kern != NULL) {
        name = kern->name;
        kern->epilogue(&k.p, acc, ld, k.row0, k.rows, j0, j1, e, lde);
    } else {
        name = "block";
        qmar__epilogue_block(&k.p, acc, ld, k.row0, k.rows, j0, j1, e, lde);
    }
    for (int64_t r = 0; r < k.rows; r++)
        for (int64_t j = j0; j < j1; j++) {
            uint16_t want = epi_model(&k, r, j);
            uint16_t got = e[r * lde + (j - j0)];
            FUZZ_CHECK(same16((qmar_dtype)k.p.y, got, want), "epilogue",
                       "%s epilogue, %s mode %d step %lld bias %d x3 %d: row %lld col %lld of "
                       "[%lld, %lld) n %lld: acc %d -> 0x%04x, model 0x%04x",
                       name, k.p.y == QMAR_BF16 ? "bf16" : "fp16", (int)k.p.mode,
                       (long long)k.p.scale_step, k.bias != NULL, k.x3 != NULL,
                       (long long)(k.row0 + r), (long long)j, (long long)j0, (long long)j1,
                       (long long)k.n, (int)k.acc[r * k.n + j], got, want);
        }
    free(e);
    free(acc);
    free(col);
    epi_free(&k);
}

/* ---- TransQuantParamV2 (numerics.md §6) ------------------------------------------------------ */

static void op_trans_quant(ctx *c)
{
    uint64_t scale_count = fz_pick(&c->r, 6), words_count = fz_pick(&c->r, 7);
    uint8_t om = fz_u8(&c->r);
    int offset_null = om % 7 == 0, scale_null = (om >> 3) % 8 == 7, words_null = (om >> 6) == 3;
    /* the count may disagree with the pointer on purpose */
    uint64_t offset_count = offset_null ? (om >> 3) % 8 == 5 : om % 7 - 1;
    uint32_t *scale = xmalloc((size_t)(scale_count ? scale_count : 1) * 4);
    uint32_t *offset = xmalloc((size_t)(offset_count ? offset_count : 1) * 4);
    uint64_t *words = xmalloc((size_t)(words_count ? words_count : 1) * 8);
    uint64_t *want = xmalloc((size_t)(words_count ? words_count : 1) * 8);
    for (uint64_t i = 0; i < scale_count; i++)
        scale[i] = (uint32_t)bulk(c, 4);
    for (uint64_t i = 0; i < offset_count; i++)
        offset[i] = (uint32_t)bulk(c, 4);
    memset(words, 0xA5, (size_t)(words_count ? words_count : 1) * 8);
    memcpy(want, words, (size_t)(words_count ? words_count : 1) * 8);
    const uint32_t *sp = scale_null ? NULL : scale, *op = offset_null ? NULL : offset;
    uint64_t *wp = words_null ? NULL : words;
    qmar_status st = qmar_trans_quant_param_v2((const float *)(const void *)sp, scale_count,
                                               (const float *)(const void *)op, offset_count, wp,
                                               words_count);
    int m = model_trans_quant_param_v2(sp, scale_count, op, offset_count, words_null ? NULL : want,
                                       words_count);
    qmar_status expect = (sp == NULL || wp == NULL) ? QMAR_ERR_PARAM_NULLPTR
                         : m == MODEL_OK            ? QMAR_SUCCESS
                                                    : QMAR_ERR_PARAM_INVALID;
    FUZZ_CHECK(st == expect, "trans-quant-status",
               "scale_count %llu offset %s count %llu words_count %llu: status %d, expected %d",
               (unsigned long long)scale_count, op ? "set" : "NULL",
               (unsigned long long)offset_count, (unsigned long long)words_count, (int)st,
               (int)expect);
    for (uint64_t i = 0; wp != NULL && i < words_count; i++)
        FUZZ_CHECK(words[i] == want[i], "trans-quant-word",
                   "word %llu: 0x%016llx, model 0x%016llx (status %d)", (unsigned long long)i,
                   (unsigned long long)words[i], (unsigned long long)want[i], (int)st);
    free(scale);
    free(offset);
    free(words);
    free(want);
}

/* ---- FRACTAL_NZ (numerics.md §7) ------------------------------------------------------------- */

/* Align(d0,16) * Align(d1,32) if both are >= 1 and it stays within 2^48 elements, else -1. */
static int64_t nz_size_or_fail(int64_t d0, int64_t d1)
{
    const __int128 lim = (__int128)1 << 48;
    if (d0 < 1 || d1 < 1)
        return -1;
    __int128 size = (((__int128)d0 + 15) / 16 * 16) * (((__int128)d1 + 31) / 32 * 32);
    return size > lim ? -1 : (int64_t)size;
}

static void op_nz_size(ctx *c)
{
    int64_t dims[2];
    dims[0] = fz_i64v(&c->r);
    dims[1] = fz_i64v(&c->r);
    uint8_t v = fz_u8(&c->r);
    uint64_t ndim = v % 4 == 3 ? (v >> 2) % 4 : 2;
    qmar_dtype dt = (v >> 4) % 8 == 7 ? (qmar_dtype)(v >> 4) : QMAR_INT8;
    int nulls = (v >> 7) ? 1 + (v & 1) : 0;
    uint64_t elements = 0xDEAD;
    qmar_status st = qmar_calculate_matmul_weight_size_v2(nulls == 1 ? NULL : dims, ndim, dt,
                                                          nulls == 2 ? NULL : &elements);
    int64_t size = nz_size_or_fail(dims[0], dims[1]);
    qmar_status expect = nulls                              ? QMAR_ERR_PARAM_NULLPTR
                         : ndim != 2 || dt != QMAR_INT8 || size < 0 ? QMAR_ERR_PARAM_INVALID
                                                                    : QMAR_SUCCESS;
    FUZZ_CHECK(st == expect, "nz-size-status",
               "dims (%lld, %lld) ndim %llu dtype %d: %d, expected %d", (long long)dims[0],
               (long long)dims[1], (unsigned long long)ndim, (int)dt, (int)st, (int)expect);
    if (st == QMAR_SUCCESS)
        FUZZ_CHECK(elements == model_nz_size(dims[0], dims[1]), "nz-size",
                   "(%lld, %lld): %llu elements, model %llu", (long long)dims[0],
                   (long long)dims[1], (unsigned long long)elements,
                   (unsigned long long)model_nz_size(dims[0], dims[1]));
}

static void op_nz_index(ctx *c)
{
    int64_t rows = 1 + fz_u16(&c->r), w = fz_u16(&c->r);
    int64_t h = fz_u16(&c->r) % rows;
    int64_t lib = qmar__nz_index(h, w, rows);
    uint64_t want = model_nz_index(rows, h, w);
    FUZZ_CHECK((uint64_t)lib == want, "nz-index", "(h %lld, w %lld) of %lld rows: %lld, model %llu",
               (long long)h, (long long)w, (long long)rows, (long long)lib,
               (unsigned long long)want);
}

/* Conversion: separate buffers, in place, one byte short, a partial overlap, NULLs, bad shapes. */
static void op_nz_convert(ctx *c)
{
    int64_t rows = 1 + fz_pick(&c->r, 40), cols = 1 + fz_pick(&c->r, 70);
    int mode = (int)fz_pick(&c->r, 7);
    if (mode == 6)
        rows = -(int64_t)fz_pick(&c->r, 2); /* 0 or -1 */
    int64_t size = rows >= 1 ? (int64_t)model_nz_size(rows, cols) : 64;
    int64_t nd_bytes = rows >= 1 ? rows * cols : 1;
    int64_t cap = (size > nd_bytes ? size : nd_bytes) + 1;
    int8_t *nd = xmalloc((size_t)nd_bytes), *buf = xmalloc((size_t)cap);
    int8_t *want = xmalloc((size_t)size);
    for (int64_t i = 0; i < nd_bytes; i++)
        nd[i] = (int8_t)(uint8_t)bulk(c, 1);
    memset(buf, 0x5A, (size_t)cap);
    if (rows >= 1)
        model_nz_from_nd(nd, rows, cols, want);
    const int8_t *src = nd;
    int8_t *dst = buf;
    uint64_t nz_bytes = (uint64_t)size;
    qmar_status expect = QMAR_SUCCESS;
    switch (mode) {
    case 1: /* in place: the ND matrix sits at the start of the NZ-sized buffer */
        memcpy(buf, nd, (size_t)nd_bytes);
        src = buf;
        nz_bytes = (uint64_t)(cap - 1);
        break;
    case 2: nz_bytes = (uint64_t)size - 1; expect = QMAR_ERR_PARAM_INVALID; break;
    case 3: /* nz one byte after nd inside one buffer: a partial overlap */
        memcpy(buf, nd, (size_t)nd_bytes);
        src = buf;
        dst = buf + 1;
        nz_bytes = (uint64_t)(cap - 1);
        expect = nd_bytes > 1 ? QMAR_ERR_PARAM_INVALID : QMAR_SUCCESS; /* 1 byte: no overlap */
        break;
    case 4: src = NULL; expect = QMAR_ERR_PARAM_NULLPTR; break;
    case 5: dst = NULL; expect = QMAR_ERR_PARAM_NULLPTR; break;
    case 6: expect = QMAR_ERR_PARAM_INVALID; break;
    default: break;
    }
    qmar_status st = qmar_trans_matmul_weight(src, rows, cols, dst, nz_bytes);
    FUZZ_CHECK(st == expect, "nz-convert-status", "(%lld x %lld) mode %d: status %d, expected %d",
               (long long)rows, (long long)cols, mode, (int)st, (int)expect);
    if (st == QMAR_SUCCESS)
        for (int64_t i = 0; i < size; i++)
            FUZZ_CHECK(dst[i] == want[i], "nz-convert",
                       "(%lld x %lld) mode %d: NZ byte %lld is %d, model %d", (long long)rows,
                       (long long)cols, mode, (long long)i, (int)dst[i], (int)want[i]);
    free(nd);
    free(buf);
    free(want);
}

static void op_dtype_size(ctx *c)
{
    int32_t dt = (int32_t)fz_u32(&c->r);
    if (fz_u8(&c->r) & 1)
        dt &= 0x1F; /* mostly the small values where the real dtypes are */
    uint64_t lib = qmar_dtype_size((qmar_dtype)dt), want = accept_elem_size(dt);
    FUZZ_CHECK(lib == want, "dtype-size", "dtype %d: %llu bytes, spec %llu", (int)dt,
               (unsigned long long)lib, (unsigned long long)want);
}

typedef void (*op_fn)(ctx *c);
static const op_fn OPS[] = {op_widen,       op_narrow,      op_rint_sat8,  op_quant_dequant,
                            op_reduce,      op_sum_requant, op_epilogue,   op_trans_quant,
                            op_nz_size,     op_nz_index,    op_nz_convert, op_dtype_size};
#define NOPS (sizeof OPS / sizeof OPS[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctx c;
    c.r = fz_init(data, size);
    c.mix = size;
    for (size_t i = 0; i < 8 && i < size; i++)
        c.mix = c.mix * 131 + data[size - 1 - i];
    for (int n = 0; n < MAX_OPS && fz_left(&c.r) > 0; n++) {
        uint8_t op = fz_u8(&c.r);
        if (fuzz_verbose())
            fprintf(stderr, "fuzz_numeric: op %u\n", (unsigned)(op % NOPS));
        OPS[op % NOPS](&c);
    }
    return 0;
}
