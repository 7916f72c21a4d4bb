/* SPDX-License-Identifier: Apache-2.0 */
/* The integer-exact reference model of qmar_quant_matmul_all_reduce_v3 (spec/numerics.md §8).
 *
 * Written from spec/numerics.md alone, with integer arithmetic only (softfp.h does every IEEE
 * rounding on integers). It is the oracle of the differential tests and fuzzers: it takes every
 * rank's inputs at once and produces every rank's output, so one process can check any rank
 * count. All floating-point data travel as raw bits: fp32 as uint32_t, fp16 / bf16 as uint16_t.
 * Functions are named after the numerics.md section they implement. */
#ifndef QMAR_SPEC_MODEL_MODEL_H
#define QMAR_SPEC_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "qmar/qmar.h"

#define MODEL_OK 0
#define MODEL_EINVAL (-1) /* an argument the model cannot give a meaning to (see each function) */

/* ---- The operator ---------------------------------------------------------------------------- */

/* One rank's inputs. The dequant scale field used depends on the case (numerics.md §2); the other
 * two are ignored and may be NULL. scale_count elements (model_op) are read from it. */
typedef struct model_rank_in {
    const int8_t *x1;           /* m x k, row-major */
    const int8_t *x2;           /* the LOGICAL k x n matrix, row-major (model_x2_from_stored) */
    const int32_t *bias;        /* n, or NULL (bias 0) */
    const uint64_t *scale_w64;  /* Y = FP16 without pertoken: INT64/UINT64 dequant words (§2a) */
    const uint32_t *scale_f32;  /* Y = FP16 with pertoken: fp32 bits (§2c) */
    const uint16_t *scale_bf16; /* Y = BF16, with or without pertoken: bf16 bits (§2b, §2c) */
    const uint32_t *pertoken;   /* m fp32 bits, or NULL; presence must agree on every rank */
    const uint16_t *x3;         /* m x n Y bits, or NULL; may be this rank's own output buffer */
} model_rank_in;

typedef struct model_op {
    int32_t ranks;             /* R: 1..QMAR_COMM_MAX_RANKS (the operator itself takes 1, 2, 4, 8) */
    int64_t m, k, n;           /* each >= 1 */
    qmar_dtype y;              /* output dtype: QMAR_FLOAT16 or QMAR_BF16 */
    int64_t scale_count;       /* dequant elements per rank: 1 (per tensor) or n */
    const uint16_t *s1, *s2;   /* comm_quant_scale1/2: n Y bits each, the same for every rank;
                                  both NULL (cases 1, 2) or both present (case 3) */
    const model_rank_in *rank; /* rank[0..ranks) */
} model_op;

/* MODEL_OK when op is complete and consistent (non-NULL required pointers, sizes >= 1, Y FP16 or
 * BF16, scale_count 1 or n, s1/s2 both or neither, pertoken on all ranks or none), else
 * MODEL_EINVAL. Shapes are the caller's promise: arrays must hold the sizes documented above. */
int model_op_check(const model_op *op);

/* e_r[i][j] of numerics.md §1-§3: rank r's value before any communication. op must pass
 * model_op_check. */
uint16_t model_rank_value(const model_op *op, int32_t r, int64_t i, int64_t j);

/* Runs the whole operator: out[r] (m x n Y bits, row-major) receives rank r's output for every r
 * (all equal, by §4/§5). Returns model_op_check's verdict; nothing is written on MODEL_EINVAL.
 * Each x3 may alias its own rank's out[r]; no other overlap is allowed. Needs no allocation. */
int model_quant_matmul_all_reduce_v3(const model_op *op, uint16_t *const *out);

/* ---- The rules, one function each (numerics.md section in the name) ------------------------- */

/* §1: acc[i][j] = sum over k of x1[i][kk] * x2[kk][j] (x1 m x k, x2 k x n, row-major), exact. */
int64_t model_acc(const int8_t *x1, const int8_t *x2, int64_t k, int64_t n, int64_t i, int64_t j);
/* §1: a = rne_fp32(acc + bias), the sum taken exactly. Returns fp32 bits. */
uint32_t model_a(int64_t acc, int32_t bias);

/* §2a: FP16 output without pertoken; w is a dequant word (only bits 13..31 matter). */
uint16_t model_dequant_w64(uint32_t a, uint64_t w);
/* §2b: BF16 output without pertoken; scale is bf16 bits. */
uint16_t model_dequant_bf16(uint32_t a, uint16_t scale);
/* §2c: pertoken present. scale is fp32 bits for Y = FP16, bf16 bits (low 16) for Y = BF16;
 * pertoken is fp32 bits. */
uint16_t model_dequant_pertoken(qmar_dtype y, uint32_t a, uint32_t scale, uint32_t pertoken);

/* §3: e = d + x3 with Y's rounding rule. */
uint16_t model_add_x3(qmar_dtype y, uint16_t d, uint16_t x3);

/* §4: all-reduce of e[0..ranks) in rank order with fp32 accumulation. ranks >= 1. */
uint16_t model_all_reduce(qmar_dtype y, const uint16_t *e, int32_t ranks);

/* §5.1: q1 = the int8 quantization of e with comm scale s1. */
int32_t model_comm_quant(qmar_dtype y, uint16_t e, uint16_t s1);
/* §5.3: ratio = rne_fp32(f32(s1) / f32(s2)), fp32 bits. */
uint32_t model_comm_ratio(qmar_dtype y, uint16_t s1, uint16_t s2);
/* §5.3: q2 = sat8(rint(rne_fp16(rne_fp32(sum * ratio)))); ratio is fp32 bits. */
int32_t model_comm_requant(int32_t sum, uint32_t ratio);
/* §5.4: out = rne_Y(q2 * s2). */
uint16_t model_comm_dequant(qmar_dtype y, int32_t q2, uint16_t s2);
/* §5 steps 1-4 for one element: e[0..ranks) are the ranks' values, s1/s2 the column's scales. */
uint16_t model_comm_all_reduce(qmar_dtype y, const uint16_t *e, int32_t ranks, uint16_t s1,
                               uint16_t s2);

/* ---- §6 TransQuantParamV2 -------------------------------------------------------------------- */

/* One word: scale is fp32 bits; offset points at fp32 bits, or is NULL for "no offset". */
uint64_t model_tqp_word(uint32_t scale, const uint32_t *offset);
/* The array form, with qmar_trans_quant_param_v2's counting rules (qmar.h): scale_count >= 1;
 * offset NULL with offset_count 0, or offset_count >= 1; with N = max of the counts each count is
 * 1 (broadcast) or N; words_count >= N. Writes words[0..N) and returns MODEL_OK, else
 * MODEL_EINVAL with nothing written. */
int model_trans_quant_param_v2(const uint32_t *scale, uint64_t scale_count,
                               const uint32_t *offset, uint64_t offset_count, uint64_t *words,
                               uint64_t words_count);

/* ---- §7 FRACTAL_NZ --------------------------------------------------------------------------- */

/* Elements of the NZ form of a d0 x d1 int8 matrix: Align(d0,16) * Align(d1,32). d0, d1 >= 1. */
uint64_t model_nz_size(int64_t d0, int64_t d1);
/* Storage index of element (h, w) of an NZ matrix with `rows` (= H) rows. */
uint64_t model_nz_index(int64_t rows, int64_t h, int64_t w);
/* ND rows x cols -> NZ (model_nz_size(rows, cols) elements, zero padding). nd, nz distinct. */
void model_nz_from_nd(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz);

/* How x2's memory holds the logical k x n matrix. */
typedef enum model_x2_layout {
    MODEL_X2_ND,   /* (k, n) row-major */
    MODEL_X2_ND_T, /* transposed view: memory holds (n, k) row-major */
    MODEL_X2_NZ,   /* FRACTAL_NZ of the (k, n) matrix */
    MODEL_X2_NZ_T  /* transposed: FRACTAL_NZ of the (n, k) matrix */
} model_x2_layout;

/* Fills x2 (k x n, row-major) from stored memory in the given layout. MODEL_EINVAL for NULL
 * pointers, k or n < 1, or an unknown layout. */
int model_x2_from_stored(model_x2_layout layout, const int8_t *stored, int64_t k, int64_t n,
                         int8_t *x2);

#endif
