/* SPDX-License-Identifier: Apache-2.0 */
/* The integer-exact reference model — see model.h. Read it against spec/numerics.md: each
 * function cites the section it implements, and the spec's notation maps onto softfp as
 *   rne_fp32(x) -> rne_fp32(exact x)    f32(v) -> decoding v (widening is exact)
 *   rint / sat8 -> msf_rint / msf_sat8  exact x·y, x+y, x/y -> msf_mul / msf_add / msf_div. */
#include "model.h"

#include "softfp.h"

/* ---- notation ------------------------------------------------------------------------------- */

static msf_fmt fmt_y(qmar_dtype y) { return y == QMAR_BF16 ? MSF_BF16 : MSF_FP16; }

/* Exact values of raw bits. Decoding a narrower value gives its exact value, i.e. f32(v). */
static msf_num v32(uint32_t bits) { return msf_decode(MSF_FP32, bits); }
static msf_num v16(uint16_t bits) { return msf_decode(MSF_FP16, bits); }
static msf_num vbf(uint16_t bits) { return msf_decode(MSF_BF16, bits); }
static msf_num vy(qmar_dtype y, uint16_t bits) { return msf_decode(fmt_y(y), bits); }

/* rne_T of an exact value. */
static uint32_t rne_fp32(msf_num x) { return msf_round(MSF_FP32, x); }
static uint16_t rne_fp16(msf_num x) { return (uint16_t)msf_round(MSF_FP16, x); }
static uint16_t rne_bf16(msf_num x) { return (uint16_t)msf_round(MSF_BF16, x); }
static uint16_t rne_y(qmar_dtype y, msf_num x) { return (uint16_t)msf_round(fmt_y(y), x); }

/* sat8(rint(h)) for an fp16 value h (§5). */
static int32_t sat8_rint16(uint16_t h) { return msf_sat8(MSF_FP16, msf_rint(MSF_FP16, h)); }

/* ---- §1 integer stage ------------------------------------------------------------------------ */

int64_t model_acc(const int8_t *x1, const int8_t *x2, int64_t k, int64_t n, int64_t i, int64_t j)
{
    int64_t acc = 0;
    for (int64_t kk = 0; kk < k; kk++)
        acc += (int64_t)x1[i * k + kk] * x2[kk * n + j];
    return acc;
}

/* The sum is formed in int64, so a bias near ±2^31 never wraps; one rounding to fp32. */
uint32_t model_a(int64_t acc, int32_t bias) { return rne_fp32(msf_from_int(acc + bias)); }

/* ---- §2 dequant ------------------------------------------------------------------------------ */

/* (a) Only bits 13..31 of the word carry the scale: the rest is masked off before the bitcast. */
uint16_t model_dequant_w64(uint32_t a, uint64_t w)
{
    uint32_t s = (uint32_t)w & UINT32_C(0xFFFFE000);
    uint32_t t = rne_fp32(msf_mul(v32(a), v32(s)));
    return rne_fp16(v32(t));
}

/* (b) */
uint16_t model_dequant_bf16(uint32_t a, uint16_t scale)
{
    uint32_t t = rne_fp32(msf_mul(v32(a), vbf(scale)));
    return rne_bf16(v32(t));
}

/* (c) The "+ 0.0" step is real: it turns a -0 product into +0 before the pertoken multiply. */
uint16_t model_dequant_pertoken(qmar_dtype y, uint32_t a, uint32_t scale, uint32_t pertoken)
{
    msf_num sc = y == QMAR_BF16 ? vbf((uint16_t)scale) : v32(scale);
    uint32_t t = rne_fp32(msf_mul(v32(a), sc));
    t = rne_fp32(msf_add(v32(t), v32(0)));
    uint32_t u = rne_fp32(msf_mul(v32(pertoken), v32(t)));
    return rne_y(y, v32(u));
}

/* ---- §3 x3 add ------------------------------------------------------------------------------- */

/* FP16: one rounding of the exact sum. BF16: through fp32 first (two roundings). */
uint16_t model_add_x3(qmar_dtype y, uint16_t d, uint16_t x3)
{
    if (y == QMAR_FLOAT16)
        return rne_fp16(msf_add(v16(d), v16(x3)));
    return rne_bf16(v32(rne_fp32(msf_add(vbf(d), vbf(x3)))));
}

/* ---- §4 all-reduce, cases 1 and 2 ------------------------------------------------------------ */

/* Rank order, fp32 accumulator rounded after every add, one final rounding to Y. */
uint16_t model_all_reduce(qmar_dtype y, const uint16_t *e, int32_t ranks)
{
    if (ranks == 1) /* R = 1: nothing to reduce, e passes through untouched */
        return e[0];
    uint32_t s = rne_fp32(vy(y, e[0])); /* f32(e_0): exact */
    for (int32_t r = 1; r < ranks; r++)
        s = rne_fp32(msf_add(v32(s), vy(y, e[r])));
    return rne_y(y, v32(s));
}

/* ---- §5 case 3: int8 low-bit communication --------------------------------------------------- */

/* §5.1. BF16 divides in fp32 then rounds to fp16 (a real extra rounding); FP16 divides once. */
int32_t model_comm_quant(qmar_dtype y, uint16_t e, uint16_t s1)
{
    uint16_t h;
    if (y == QMAR_BF16)
        h = rne_fp16(v32(rne_fp32(msf_div(vbf(e), vbf(s1)))));
    else
        h = rne_fp16(msf_div(v16(e), v16(s1)));
    return sat8_rint16(h);
}

/* §5.3: a true fp32 division of the widened scales. */
uint32_t model_comm_ratio(qmar_dtype y, uint16_t s1, uint16_t s2)
{
    return rne_fp32(msf_div(vy(y, s1), vy(y, s2)));
}

/* §5.3: S is converted to fp32 (exact for |S| <= 2^24, which covers |S| <= 1024). */
int32_t model_comm_requant(int32_t sum, uint32_t ratio)
{
    uint32_t s = rne_fp32(msf_from_int(sum));
    uint32_t p = rne_fp32(msf_mul(v32(s), v32(ratio)));
    return sat8_rint16(rne_fp16(v32(p)));
}

/* §5.4: q2 is an exact integer, so f32(q2) is its exact value; the product is rounded once. */
uint16_t model_comm_dequant(qmar_dtype y, int32_t q2, uint16_t s2)
{
    return rne_y(y, msf_mul(msf_from_int(q2), vy(y, s2)));
}

/* §5.1-§5.4 for one element. How rows are chunked for the exchange never matters: the sum in
 * §5.2 is an exact integer sum, and every other step is per element. */
uint16_t model_comm_all_reduce(qmar_dtype y, const uint16_t *e, int32_t ranks, uint16_t s1,
                               uint16_t s2)
{
    int32_t sum = 0;
    for (int32_t r = 0; r < ranks; r++)
        sum += model_comm_quant(y, e[r], s1);
    int32_t q2 = model_comm_requant(sum, model_comm_ratio(y, s1, s2));
    return model_comm_dequant(y, q2, s2);
}

/* ---- the operator ---------------------------------------------------------------------------- */

/* Does this rank carry the dequant scale its case reads (§2)? */
static int has_case_scale(qmar_dtype y, int pertoken, const model_rank_in *in)
{
    if (y == QMAR_BF16)
        return in->scale_bf16 != NULL;
    return pertoken ? in->scale_f32 != NULL : in->scale_w64 != NULL;
}

static int rank_ok(const model_op *op, const model_rank_in *in, int pertoken)
{
    if (in->x1 == NULL || in->x2 == NULL)
        return 0;
    if ((in->pertoken != NULL) != pertoken) /* the case must agree on every rank */
        return 0;
    return has_case_scale(op->y, pertoken, in);
}

int model_op_check(const model_op *op)
{
    if (op == NULL || op->rank == NULL)
        return MODEL_EINVAL;
    if (op->ranks < 1 || op->ranks > QMAR_COMM_MAX_RANKS)
        return MODEL_EINVAL;
    if (op->m < 1 || op->k < 1 || op->n < 1)
        return MODEL_EINVAL;
    if (op->y != QMAR_FLOAT16 && op->y != QMAR_BF16)
        return MODEL_EINVAL;
    if (op->scale_count != 1 && op->scale_count != op->n)
        return MODEL_EINVAL;
    if ((op->s1 == NULL) != (op->s2 == NULL))
        return MODEL_EINVAL;
    int pertoken = op->rank[0].pertoken != NULL;
    for (int32_t r = 0; r < op->ranks; r++)
        if (!rank_ok(op, &op->rank[r], pertoken))
            return MODEL_EINVAL;
    return MODEL_OK;
}

/* §2: pick the case's scale element (a one-element scale serves every column) and apply it. */
static uint16_t dequant(const model_op *op, const model_rank_in *in, uint32_t a, int64_t i,
                        int64_t j)
{
    int64_t sj = op->scale_count == 1 ? 0 : j;
    if (in->pertoken != NULL) {
        uint32_t scale = op->y == QMAR_BF16 ? in->scale_bf16[sj] : in->scale_f32[sj];
        return model_dequant_pertoken(op->y, a, scale, in->pertoken[i]);
    }
    if (op->y == QMAR_BF16)
        return model_dequant_bf16(a, in->scale_bf16[sj]);
    return model_dequant_w64(a, in->scale_w64[sj]);
}

uint16_t model_rank_value(const model_op *op, int32_t r, int64_t i, int64_t j)
{
    const model_rank_in *in = &op->rank[r];
    int64_t acc = model_acc(in->x1, in->x2, op->k, op->n, i, j);
    uint32_t a = model_a(acc, in->bias != NULL ? in->bias[j] : 0);
    uint16_t d = dequant(op, in, a, i, j);
    return in->x3 != NULL ? model_add_x3(op->y, d, in->x3[i * op->n + j]) : d;
}

/* §4 or §5, by case. */
static uint16_t reduce(const model_op *op, const uint16_t *e, int64_t j)
{
    if (op->s1 != NULL)
        return model_comm_all_reduce(op->y, e, op->ranks, op->s1[j], op->s2[j]);
    return model_all_reduce(op->y, e, op->ranks);
}

/* Element by element: every rank's e[i][j] (reading every x3[i][j]) is computed before any
 * out[r][i][j] is written, which is what makes an in-place x3 safe. */
int model_quant_matmul_all_reduce_v3(const model_op *op, uint16_t *const *out)
{
    if (model_op_check(op) != MODEL_OK || out == NULL)
        return MODEL_EINVAL;
    for (int32_t r = 0; r < op->ranks; r++)
        if (out[r] == NULL)
            return MODEL_EINVAL;
    uint16_t e[QMAR_COMM_MAX_RANKS];
    for (int64_t i = 0; i < op->m; i++)
        for (int64_t j = 0; j < op->n; j++) {
            for (int32_t r = 0; r < op->ranks; r++)
                e[r] = model_rank_value(op, r, i, j);
            uint16_t v = reduce(op, e, j);
            for (int32_t r = 0; r < op->ranks; r++)
                out[r][i * op->n + j] = v;
        }
    return MODEL_OK;
}

/* ---- §6 TransQuantParamV2 -------------------------------------------------------------------- */

uint64_t model_tqp_word(uint32_t scale, const uint32_t *offset)
{
    uint64_t w = (scale & UINT32_C(0xFFFFE000)) | (UINT64_C(1) << 46);
    if (offset == NULL)
        return w;
    /* o' = clamp(rint(o), -256, 255); msf_to_int_clamped maps NaN to 0 and ±inf to the bounds. */
    int64_t o = msf_to_int_clamped(MSF_FP32, msf_rint(MSF_FP32, *offset), -256, 255);
    /* Keep bit 46 and the low 32 bits; the offset goes in as 9-bit two's complement. */
    return (w & UINT64_C(0x4000FFFFFFFF)) | (((uint64_t)o & 0x1FF) << 37);
}

int model_trans_quant_param_v2(const uint32_t *scale, uint64_t scale_count,
                               const uint32_t *offset, uint64_t offset_count, uint64_t *words,
                               uint64_t words_count)
{
    if (scale == NULL || words == NULL || scale_count < 1)
        return MODEL_EINVAL;
    if ((offset == NULL) != (offset_count == 0))
        return MODEL_EINVAL;
    uint64_t n = scale_count > offset_count ? scale_count : offset_count;
    if ((scale_count != 1 && scale_count != n) || (offset_count > 1 && offset_count != n))
        return MODEL_EINVAL;
    if (words_count < n)
        return MODEL_EINVAL;
    for (uint64_t i = 0; i < n; i++) {
        const uint32_t *o = offset == NULL ? NULL : &offset[offset_count == 1 ? 0 : i];
        words[i] = model_tqp_word(scale[scale_count == 1 ? 0 : i], o);
    }
    return MODEL_OK;
}

/* ---- §7 FRACTAL_NZ --------------------------------------------------------------------------- */

static int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

uint64_t model_nz_size(int64_t d0, int64_t d1)
{
    return (uint64_t)align_up(d0, 16) * (uint64_t)align_up(d1, 32);
}

/* Column blocks of 32 are stored one after another; each holds Align(H,16) rows of 32. */
uint64_t model_nz_index(int64_t rows, int64_t h, int64_t w)
{
    return (uint64_t)((w / 32) * (align_up(rows, 16) * 32) + h * 32 + w % 32);
}

void model_nz_from_nd(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz)
{
    uint64_t size = model_nz_size(rows, cols);
    for (uint64_t p = 0; p < size; p++) /* padding is zero */
        nz[p] = 0;
    for (int64_t h = 0; h < rows; h++)
        for (int64_t w = 0; w < cols; w++)
            nz[model_nz_index(rows, h, w)] = nd[h * cols + w];
}

/* Where logical element (kk, j) of the k x n matrix lives in each layout. */
static uint64_t stored_index(model_x2_layout layout, int64_t k, int64_t n, int64_t kk, int64_t j)
{
    switch (layout) {
    case MODEL_X2_ND:
        return (uint64_t)(kk * n + j);
    case MODEL_X2_ND_T: /* memory is the (n, k) matrix: element (j, kk) */
        return (uint64_t)(j * k + kk);
    case MODEL_X2_NZ: /* NZ of (H, W) = (k, n) */
        return model_nz_index(k, kk, j);
    case MODEL_X2_NZ_T: /* NZ of (H, W) = (n, k): element (j, kk) */
        return model_nz_index(n, j, kk);
    }
    return 0; /* unreachable: the layout is checked first */
}

int model_x2_from_stored(model_x2_layout layout, const int8_t *stored, int64_t k, int64_t n,
                         int8_t *x2)
{
    if (stored == NULL || x2 == NULL || k < 1 || n < 1)
        return MODEL_EINVAL;
    if (layout != MODEL_X2_ND && layout != MODEL_X2_ND_T && layout != MODEL_X2_NZ &&
        layout != MODEL_X2_NZ_T)
        return MODEL_EINVAL;
    for (int64_t kk = 0; kk < k; kk++)
        for (int64_t j = 0; j < n; j++)
            x2[kk * n + j] = stored[stored_index(layout, k, n, kk, j)];
    return MODEL_OK;
}
