/* SPDX-License-Identifier: Apache-2.0 */
/* The integer-exact reference model — see model.h. Read it against spec/numerics.md: each
 * function cites the section it implements, and the spec's notation maps onto softfp as
 *   rne_fp32(x) -> rne_fp32(exact x)    f32(v) -> decoding v (widening is exact)
 *   rint / sat8 -> msf_rint / msf_sat8  exact x·y, x+y, x/y -> msf_mul / msf_add / msf_div. */
#include "model.h"

#include "softfp.h"

/* The contracts (proofs/units/model.json: no run-time error) are on the declarations in model.h;
 * the static helpers carry theirs here. */

/*@ ghost
  /@ requires 0 <= a <= b && 0 <= c;
     assigns \nothing;
     ensures a * c <= b * c;
  @/
  static void lemma_mul_mono(int64_t a, int64_t b, int64_t c)
  {
  }
*/

/* ---- notation ------------------------------------------------------------------------------- */

/*@ assigns \nothing;
    ensures msf_valid_fmt(\result); */
static msf_fmt fmt_y(qmar_dtype y) { return y == QMAR_BF16 ? MSF_BF16 : MSF_FP16; }

/* Exact values of raw bits. Decoding a narrower value gives its exact value, i.e. f32(v). */
/*@ assigns \nothing;
    ensures msf_small(\result); */
static msf_num v32(uint32_t bits) { return msf_decode(MSF_FP32, bits); }
/*@ assigns \nothing;
    ensures msf_small(\result); */
static msf_num v16(uint16_t bits) { return msf_decode(MSF_FP16, bits); }
/*@ assigns \nothing;
    ensures msf_small(\result); */
static msf_num vbf(uint16_t bits) { return msf_decode(MSF_BF16, bits); }
/*@ assigns \nothing;
    ensures msf_small(\result); */
static msf_num vy(qmar_dtype y, uint16_t bits) { return msf_decode(fmt_y(y), bits); }

/* rne_T of an exact value. */
/*@ requires msf_exp_bounded(x);
    assigns \nothing; */
static uint32_t rne_fp32(msf_num x) { return msf_round(MSF_FP32, x); }
/*@ requires msf_exp_bounded(x);
    assigns \nothing; */
static uint16_t rne_fp16(msf_num x) { return (uint16_t)msf_round(MSF_FP16, x); }
/*@ requires msf_exp_bounded(x);
    assigns \nothing; */
static uint16_t rne_bf16(msf_num x) { return (uint16_t)msf_round(MSF_BF16, x); }
/*@ requires msf_exp_bounded(x);
    assigns \nothing; */
static uint16_t rne_y(qmar_dtype y, msf_num x) { return (uint16_t)msf_round(fmt_y(y), x); }

/* sat8(rint(h)) for an fp16 value h (§5). */
/*@ assigns \nothing;
    ensures -128 <= \result <= 127; */
static int32_t sat8_rint16(uint16_t h) { return msf_sat8(MSF_FP16, msf_rint(MSF_FP16, h)); }

/* ---- §1 integer stage ------------------------------------------------------------------------ */

int64_t model_acc(const int8_t *x1, const int8_t *x2, int64_t k, int64_t n, int64_t i, int64_t j)
{
    int64_t acc = 0;
    /*@ loop invariant 0 <= kk <= k;
        loop invariant -16384 * kk <= acc <= 16384 * kk;
        loop assigns kk, acc;
        loop variant k - kk;
    */
    for (int64_t kk = 0; kk < k; kk++) {
        //@ ghost lemma_mul_mono(kk + 1, k, n); // row kk of x2 lies inside: kk * n + n <= k * n
        acc += (int64_t)x1[i * k + kk] * x2[kk * n + j];
    }
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
    /*@ loop invariant 1 <= r <= ranks;
        loop assigns r, s;
        loop variant ranks - r;
    */
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
    /*@ loop invariant 0 <= r <= ranks;
        loop invariant -128 * r <= sum <= 127 * r;
        loop assigns r, sum;
        loop variant ranks - r;
    */
    for (int32_t r = 0; r < ranks; r++)
        sum += model_comm_quant(y, e[r], s1);
    int32_t q2 = model_comm_requant(sum, model_comm_ratio(y, s1, s2));
    return model_comm_dequant(y, q2, s2);
}

/* ---- the operator ---------------------------------------------------------------------------- */

/* Does this rank carry the dequant scale its case reads (§2)? */
/*@ requires \valid_read(in);
    assigns \nothing;
    ensures \result != 0 <==> (y == QMAR_BF16 ? in->scale_bf16 != \null :
                               pertoken != 0 ? in->scale_f32 != \null : in->scale_w64 != \null); */
static int has_case_scale(qmar_dtype y, int pertoken, const model_rank_in *in)
{
    if (y == QMAR_BF16)
        return in->scale_bf16 != NULL;
    return pertoken ? in->scale_f32 != NULL : in->scale_w64 != NULL;
}

/*@ requires \valid_read(op) && \valid_read(in) && (pertoken == 0 || pertoken == 1);
    assigns \nothing;
    ensures \result != 0 <==>
      (in->x1 != \null && in->x2 != \null && ((in->pertoken != \null) <==> pertoken == 1) &&
       (op->y == QMAR_BF16 ? in->scale_bf16 != \null :
        pertoken != 0 ? in->scale_f32 != \null : in->scale_w64 != \null)); */
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
    /*@ loop invariant 0 <= r <= op->ranks;
        loop invariant \forall integer q; 0 <= q < r ==> model_rank_ok(op, op->rank + q);
        loop assigns r;
        loop variant op->ranks - r;
    */
    for (int32_t r = 0; r < op->ranks; r++)
        if (!rank_ok(op, &op->rank[r], pertoken))
            return MODEL_EINVAL;
    return MODEL_OK;
}

/* §2: pick the case's scale element (a one-element scale serves every column) and apply it. */
/*@ requires model_op_ok(op) && model_op_readable(op);
    requires \valid_read(in) && model_rank_ok(op, in) && model_rank_readable(op, in);
    requires 0 <= i < op->m && 0 <= j < op->n;
    assigns \nothing; */
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
    //@ ghost lemma_mul_mono(i + 1, op->m, op->k); // row i of x1 lies inside
    //@ ghost lemma_mul_mono(i + 1, op->m, op->n); // element (i, j) of x3 lies inside
    int64_t acc = model_acc(in->x1, in->x2, op->k, op->n, i, j);
    uint32_t a = model_a(acc, in->bias != NULL ? in->bias[j] : 0);
    uint16_t d = dequant(op, in, a, i, j);
    return in->x3 != NULL ? model_add_x3(op->y, d, in->x3[i * op->n + j]) : d;
}

/* §4 or §5, by case. */
/*@ requires model_op_ok(op) && model_op_readable(op);
    requires 0 <= j < op->n && \valid_read(e + (0 .. op->ranks - 1));
    assigns \nothing; */
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
    /*@ loop invariant 0 <= r <= op->ranks;
        loop invariant \forall integer q; 0 <= q < r ==> out[q] != \null;
        loop assigns r;
        loop variant op->ranks - r;
    */
    for (int32_t r = 0; r < op->ranks; r++)
        if (out[r] == NULL)
            return MODEL_EINVAL;
    uint16_t e[QMAR_COMM_MAX_RANKS];
    /* The sizes, read once (nothing written here overlaps *op: model.h). */
    const int64_t m = op->m, n = op->n;
    const int32_t ranks = op->ranks;
    /*@ loop invariant 0 <= i <= m;
        loop invariant op->m == m && op->n == n && op->ranks == ranks;
        loop assigns i, e[0 .. QMAR_COMM_MAX_RANKS - 1], *(out[0 .. ranks - 1] + (0 .. m * n - 1));
        loop variant m - i;
    */
    for (int64_t i = 0; i < m; i++) {
        //@ ghost lemma_mul_mono(i + 1, m, n); // row i of out[r] lies inside
        /*@ loop invariant 0 <= j <= n;
            loop invariant op->m == m && op->n == n && op->ranks == ranks;
            loop assigns j, e[0 .. QMAR_COMM_MAX_RANKS - 1],
                         *(out[0 .. ranks - 1] + (0 .. m * n - 1));
            loop variant n - j;
        */
        for (int64_t j = 0; j < n; j++) {
            /*@ loop invariant 0 <= r <= ranks;
                loop assigns r, e[0 .. QMAR_COMM_MAX_RANKS - 1];
                loop variant ranks - r;
            */
            for (int32_t r = 0; r < ranks; r++)
                e[r] = model_rank_value(op, r, i, j);
            uint16_t v = reduce(op, e, j);
            //@ assert 0 <= i * n + j < m * n;
            /*@ loop invariant 0 <= r <= ranks;
                loop assigns r, *(out[0 .. ranks - 1] + (i * n + j));
                loop variant ranks - r;
            */
            for (int32_t r = 0; r < ranks; r++)
                out[r][i * n + j] = v;
        }
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
    /* Keep bit 46 and the low 32 bits; the offset goes in as 9-bit two's complement at bit 37
     * (the unsigned value's % 512 is its & 0x1FF, and * 2^37 its << 37: the same bits, in a
     * form the proof bounds). */
    return (w & UINT64_C(0x4000FFFFFFFF)) | (((uint64_t)o % 512) * (UINT64_C(1) << 37));
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
    /*@ loop invariant 0 <= i <= n;
        loop assigns i, words[0 .. n - 1];
        loop variant n - i;
    */
    for (uint64_t i = 0; i < n; i++) {
        const uint32_t *o = offset == NULL ? NULL : &offset[offset_count == 1 ? 0 : i];
        words[i] = model_tqp_word(scale[scale_count == 1 ? 0 : i], o);
    }
    return MODEL_OK;
}

/* ---- §7 FRACTAL_NZ --------------------------------------------------------------------------- */

/*@ requires a == 16 || a == 32;
    requires 0 <= v <= 281474976710656;
    assigns \nothing;
    ensures \result == model_align(v, a);
    ensures v <= \result <= v + a - 1; */
static int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

uint64_t model_nz_size(int64_t d0, int64_t d1)
{
    return (uint64_t)align_up(d0, 16) * (uint64_t)align_up(d1, 32);
}

/* Column blocks of 32 are stored one after another; each holds Align(H,16) rows of 32. */
uint64_t model_nz_index(int64_t rows, int64_t h, int64_t w)
{
    int64_t r16 = align_up(rows, 16);
    /* With q = w / 32: Align(w + 1, 32) = (q + 1) * 32, so the index lies below
     * (q + 1) * (r16 * 32) = r16 * Align(w + 1, 32) <= 2^48. */
    //@ assert (w + 32) / 32 == w / 32 + 1 && w % 32 <= 31 && h * 32 <= r16 * 32 - 32;
    //@ ghost lemma_mul_mono(32, (w + 32) / 32 * 32, r16); // r16 * 32 fits
    //@ ghost lemma_mul_mono(w / 32, w / 32 + 1, r16 * 32);
    //@ assert (w / 32 + 1) * (r16 * 32) == r16 * ((w + 32) / 32 * 32);
    //@ assert (w / 32) * (r16 * 32) + r16 * 32 <= 281474976710656;
    return (uint64_t)((w / 32) * (r16 * 32) + h * 32 + w % 32);
}

void model_nz_from_nd(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz)
{
    uint64_t size = model_nz_size(rows, cols);
    /*@ loop invariant 0 <= p <= size;
        loop assigns p, nz[0 .. size - 1];
        loop variant size - p;
    */
    for (uint64_t p = 0; p < size; p++) /* padding is zero */
        nz[p] = 0;
    /*@ loop invariant 0 <= h <= rows;
        loop assigns h, nz[0 .. size - 1];
        loop variant rows - h;
    */
    for (int64_t h = 0; h < rows; h++) {
        //@ ghost lemma_mul_mono(h + 1, rows, cols); // row h of nd lies inside
        /*@ loop invariant 0 <= w <= cols;
            loop assigns w, nz[0 .. size - 1];
            loop variant cols - w;
        */
        for (int64_t w = 0; w < cols; w++) {
            /*@ ghost lemma_mul_mono((w + 32) / 32 * 32, (cols + 31) / 32 * 32, (rows + 15) / 16 * 16); */
            nz[model_nz_index(rows, h, w)] = nd[h * cols + w];
        }
    }
}

/* Where logical element (kk, j) of the k x n matrix lives in each layout. */
/*@ requires model_x2_shape(k, n) && 0 <= kk < k && 0 <= j < n;
    assigns \nothing;
    ensures \result < model_x2_stored(layout, k, n); */
static uint64_t stored_index(model_x2_layout layout, int64_t k, int64_t n, int64_t kk, int64_t j)
{
    switch (layout) {
    case MODEL_X2_ND:
        //@ ghost lemma_mul_mono(kk + 1, k, n);
        return (uint64_t)(kk * n + j);
    case MODEL_X2_ND_T: /* memory is the (n, k) matrix: element (j, kk) */
        //@ ghost lemma_mul_mono(j + 1, n, k);
        return (uint64_t)(j * k + kk);
    case MODEL_X2_NZ: /* NZ of (H, W) = (k, n) */
        /*@ ghost lemma_mul_mono((j + 32) / 32 * 32, (n + 31) / 32 * 32, (k + 15) / 16 * 16); */
        return model_nz_index(k, kk, j);
    case MODEL_X2_NZ_T: /* NZ of (H, W) = (n, k): element (j, kk) */
        /*@ ghost lemma_mul_mono((kk + 32) / 32 * 32, (k + 31) / 32 * 32, (n + 15) / 16 * 16); */
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
    /*@ loop invariant 0 <= kk <= k;
        loop assigns kk, x2[0 .. k * n - 1];
        loop variant k - kk;
    */
    for (int64_t kk = 0; kk < k; kk++) {
        //@ ghost lemma_mul_mono(kk + 1, k, n); // row kk of x2 lies inside
        /*@ loop invariant 0 <= j <= n;
            loop assigns j, x2[0 .. k * n - 1];
            loop variant n - j;
        */
        for (int64_t j = 0; j < n; j++)
            x2[kk * n + j] = stored[stored_index(layout, k, n, kk, j)];
    }
    return MODEL_OK;
}
