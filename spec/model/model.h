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

/* What the proof of this file (proofs/units/model.json: no run-time error) takes from the caller:
 * the promise above, in ACSL. model_op_readable: op is NULL or readable, with its rank table of
 * `ranks` entries; once the sizes are ones model_op_check accepts, the shapes are the accepted
 * shapes of spec/validation.md (m·k, k·n, m·n <= 2^48) and every present array holds its
 * documented size. model_op_ok: what model_op_check returns MODEL_OK for. */
/*@ predicate model_op_sized(model_op *op) =
      1 <= op->ranks <= QMAR_COMM_MAX_RANKS && op->rank != \null &&
      1 <= op->m && 1 <= op->k && 1 <= op->n &&
      (op->scale_count == 1 || op->scale_count == op->n);

    predicate model_rank_readable(model_op *op, model_rank_in *in) =
      (in->x1 != \null ==> \valid_read(in->x1 + (0 .. op->m * op->k - 1))) &&
      (in->x2 != \null ==> \valid_read(in->x2 + (0 .. op->k * op->n - 1))) &&
      (in->bias != \null ==> \valid_read(in->bias + (0 .. op->n - 1))) &&
      (in->scale_w64 != \null ==> \valid_read(in->scale_w64 + (0 .. op->scale_count - 1))) &&
      (in->scale_f32 != \null ==> \valid_read(in->scale_f32 + (0 .. op->scale_count - 1))) &&
      (in->scale_bf16 != \null ==> \valid_read(in->scale_bf16 + (0 .. op->scale_count - 1))) &&
      (in->pertoken != \null ==> \valid_read(in->pertoken + (0 .. op->m - 1))) &&
      (in->x3 != \null ==> \valid_read(in->x3 + (0 .. op->m * op->n - 1)));

    predicate model_op_readable(model_op *op) =
      op == \null ||
      (\valid_read(op) &&
       (op->rank != \null && 1 <= op->ranks <= QMAR_COMM_MAX_RANKS ==>
          \valid_read(op->rank + (0 .. op->ranks - 1))) &&
       (model_op_sized(op) ==>
          op->m * op->k <= 281474976710656 && op->k * op->n <= 281474976710656 &&
          op->m * op->n <= 281474976710656 &&
          (op->s1 != \null ==> \valid_read(op->s1 + (0 .. op->n - 1))) &&
          (op->s2 != \null ==> \valid_read(op->s2 + (0 .. op->n - 1))) &&
          \forall integer r; 0 <= r < op->ranks ==> model_rank_readable(op, op->rank + r)));

    // rank_ok of model.c: the case's inputs present, pertoken present exactly when rank 0's is.
    predicate model_rank_ok(model_op *op, model_rank_in *in) =
      in->x1 != \null && in->x2 != \null &&
      ((in->pertoken != \null) <==> (op->rank[0].pertoken != \null)) &&
      (op->y == QMAR_BF16 ? in->scale_bf16 != \null :
       in->pertoken != \null ? in->scale_f32 != \null : in->scale_w64 != \null);

    predicate model_op_ok(model_op *op) =
      op != \null && model_op_sized(op) && (op->y == QMAR_FLOAT16 || op->y == QMAR_BF16) &&
      ((op->s1 == \null) <==> (op->s2 == \null)) &&
      \forall integer r; 0 <= r < op->ranks ==> model_rank_ok(op, op->rank + r);

    // The out buffers of model_quant_matmul_all_reduce_v3: out[r] holds m·n elements and does not
    // overlap *op (x3 may be out[r]: that changes values, never an index).
    predicate model_out_writable(model_op *op, uint16_t **out) =
      model_op_sized(op) && out != \null ==>
        \valid_read(out + (0 .. op->ranks - 1)) &&
        \forall integer r; 0 <= r < op->ranks ==> out[r] != \null ==>
          \valid(out[r] + (0 .. op->m * op->n - 1)) &&
          \separated(out[r] + (0 .. op->m * op->n - 1), op);
*/

/* MODEL_OK when op is complete and consistent (non-NULL required pointers, sizes >= 1, Y FP16 or
 * BF16, scale_count 1 or n, s1/s2 both or neither, pertoken on all ranks or none), else
 * MODEL_EINVAL. Shapes are the caller's promise: arrays must hold the sizes documented above. */
/*@ requires model_op_readable(op);
    assigns \nothing;
    ensures \result == MODEL_OK || \result == MODEL_EINVAL;
    ensures \result == MODEL_OK <==> model_op_ok(op); */
int model_op_check(const model_op *op);

/* e_r[i][j] of numerics.md §1-§3: rank r's value before any communication. op must pass
 * model_op_check. */
/*@ requires model_op_readable(op) && model_op_ok(op);
    requires 0 <= r < op->ranks && 0 <= i < op->m && 0 <= j < op->n;
    assigns \nothing; */
uint16_t model_rank_value(const model_op *op, int32_t r, int64_t i, int64_t j);

/* Runs the whole operator: out[r] (m x n Y bits, row-major) receives rank r's output for every r
 * (all equal, by §4/§5). Returns model_op_check's verdict; nothing is written on MODEL_EINVAL.
 * Each x3 may alias its own rank's out[r]; no other overlap is allowed. Needs no allocation. */
/*@ requires model_op_readable(op);
    requires op != \null ==> model_out_writable(op, out);
    assigns *(out[0 .. op->ranks - 1] + (0 .. op->m * op->n - 1));
    ensures \result == MODEL_OK || \result == MODEL_EINVAL; */
int model_quant_matmul_all_reduce_v3(const model_op *op, uint16_t *const *out);

/* ---- The rules, one function each (numerics.md section in the name) ------------------------- */

/* §1: acc[i][j] = sum over k of x1[i][kk] * x2[kk][j] (x1 m x k, x2 k x n, row-major), exact. */
/*@ requires 1 <= k && 1 <= n && 0 <= i && 0 <= j < n;
    requires (i + 1) * k <= 281474976710656 && k * n <= 281474976710656;
    requires \valid_read(x1 + (i * k .. i * k + k - 1)) && \valid_read(x2 + (0 .. k * n - 1));
    assigns \nothing;
    ensures -16384 * k <= \result <= 16384 * k; */
int64_t model_acc(const int8_t *x1, const int8_t *x2, int64_t k, int64_t n, int64_t i, int64_t j);
/* §1: a = rne_fp32(acc + bias), the sum taken exactly. Returns fp32 bits. */
/*@ requires -4611686018427387904 <= acc <= 4611686018427387904;
    assigns \nothing; */
uint32_t model_a(int64_t acc, int32_t bias);

/* §2a: FP16 output without pertoken; w is a dequant word (only bits 13..31 matter). */
/*@ assigns \nothing; */
uint16_t model_dequant_w64(uint32_t a, uint64_t w);
/* §2b: BF16 output without pertoken; scale is bf16 bits. */
/*@ assigns \nothing; */
uint16_t model_dequant_bf16(uint32_t a, uint16_t scale);
/* §2c: pertoken present. scale is fp32 bits for Y = FP16, bf16 bits (low 16) for Y = BF16;
 * pertoken is fp32 bits. */
/*@ assigns \nothing; */
uint16_t model_dequant_pertoken(qmar_dtype y, uint32_t a, uint32_t scale, uint32_t pertoken);

/* §3: e = d + x3 with Y's rounding rule. */
/*@ assigns \nothing; */
uint16_t model_add_x3(qmar_dtype y, uint16_t d, uint16_t x3);

/* §4: all-reduce of e[0..ranks) in rank order with fp32 accumulation. ranks >= 1. */
/*@ requires 1 <= ranks && \valid_read(e + (0 .. ranks - 1));
    assigns \nothing; */
uint16_t model_all_reduce(qmar_dtype y, const uint16_t *e, int32_t ranks);

/* §5.1: q1 = the int8 quantization of e with comm scale s1. */
/*@ assigns \nothing;
    ensures -128 <= \result <= 127; */
int32_t model_comm_quant(qmar_dtype y, uint16_t e, uint16_t s1);
/* §5.3: ratio = rne_fp32(f32(s1) / f32(s2)), fp32 bits. */
/*@ assigns \nothing; */
uint32_t model_comm_ratio(qmar_dtype y, uint16_t s1, uint16_t s2);
/* §5.3: q2 = sat8(rint(rne_fp16(rne_fp32(sum * ratio)))); ratio is fp32 bits. */
/*@ assigns \nothing; */
int32_t model_comm_requant(int32_t sum, uint32_t ratio);
/* §5.4: out = rne_Y(q2 * s2). */
/*@ assigns \nothing; */
uint16_t model_comm_dequant(qmar_dtype y, int32_t q2, uint16_t s2);
/* §5 steps 1-4 for one element: e[0..ranks) are the ranks' values, s1/s2 the column's scales. */
/*@ requires 1 <= ranks <= QMAR_COMM_MAX_RANKS && \valid_read(e + (0 .. ranks - 1));
    assigns \nothing; */
uint16_t model_comm_all_reduce(qmar_dtype y, const uint16_t *e, int32_t ranks, uint16_t s1,
                               uint16_t s2);

/* ---- §6 TransQuantParamV2 -------------------------------------------------------------------- */

/* One word: scale is fp32 bits; offset points at fp32 bits, or is NULL for "no offset". */
/*@ requires offset == \null || \valid_read(offset);
    assigns \nothing; */
uint64_t model_tqp_word(uint32_t scale, const uint32_t *offset);
/* The array form, with qmar_trans_quant_param_v2's counting rules (qmar.h): scale_count >= 1;
 * offset NULL with offset_count 0, or offset_count >= 1; with N = max of the counts each count is
 * 1 (broadcast) or N; words_count >= N. Writes words[0..N) and returns MODEL_OK, else
 * MODEL_EINVAL with nothing written. */
/*@ requires scale != \null ==> \valid_read(scale + (0 .. scale_count - 1));
    requires offset != \null ==> \valid_read(offset + (0 .. offset_count - 1));
    requires words != \null ==> \valid(words + (0 .. words_count - 1));
    assigns words[0 .. words_count - 1];
    ensures \result == MODEL_OK || \result == MODEL_EINVAL; */
int model_trans_quant_param_v2(const uint32_t *scale, uint64_t scale_count,
                               const uint32_t *offset, uint64_t offset_count, uint64_t *words,
                               uint64_t words_count);

/* ---- §7 FRACTAL_NZ --------------------------------------------------------------------------- */

/* The proof's words for §7 (proofs/units/model.json): Align(v, a), and the sizes the callers
 * promise: the ND and the NZ forms of the matrix (either way round) hold at most 2^48 elements. */
/*@ logic integer model_align(integer v, integer a) = (v + a - 1) / a * a;
    predicate model_nz_shape(integer d0, integer d1) =
      1 <= d0 && 1 <= d1 && d0 * d1 <= 281474976710656 &&
      model_align(d0, 16) * model_align(d1, 32) <= 281474976710656;
*/

/* Elements of the NZ form of a d0 x d1 int8 matrix: Align(d0,16) * Align(d1,32). d0, d1 >= 1. */
/*@ requires model_nz_shape(d0, d1);
    assigns \nothing;
    ensures \result == model_align(d0, 16) * model_align(d1, 32); */
uint64_t model_nz_size(int64_t d0, int64_t d1);
/* Storage index of element (h, w) of an NZ matrix with `rows` (= H) rows. */
/*@ requires 0 <= h < rows && 0 <= w && rows <= 281474976710656 && w < 281474976710656;
    requires model_align(rows, 16) * model_align(w + 1, 32) <= 281474976710656;
    assigns \nothing;
    ensures \result < model_align(rows, 16) * model_align(w + 1, 32); */
uint64_t model_nz_index(int64_t rows, int64_t h, int64_t w);
/* ND rows x cols -> NZ (model_nz_size(rows, cols) elements, zero padding). nd, nz distinct. */
/*@ requires model_nz_shape(rows, cols);
    requires \valid_read(nd + (0 .. rows * cols - 1));
    requires \valid(nz + (0 .. model_align(rows, 16) * model_align(cols, 32) - 1));
    assigns nz[0 .. model_align(rows, 16) * model_align(cols, 32) - 1]; */
void model_nz_from_nd(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz);

/* How x2's memory holds the logical k x n matrix. */
typedef enum model_x2_layout {
    MODEL_X2_ND,   /* (k, n) row-major */
    MODEL_X2_ND_T, /* transposed view: memory holds (n, k) row-major */
    MODEL_X2_NZ,   /* FRACTAL_NZ of the (k, n) matrix */
    MODEL_X2_NZ_T  /* transposed: FRACTAL_NZ of the (n, k) matrix */
} model_x2_layout;

/* The proof's words (proofs/units/model.json): both NZ forms fit (model_nz_shape), and the
 * elements the stored memory holds in each layout. */
/*@
    predicate model_x2_shape(integer k, integer n) = model_nz_shape(k, n) && model_nz_shape(n, k);
    logic integer model_x2_stored(model_x2_layout layout, integer k, integer n) =
      layout == MODEL_X2_ND || layout == MODEL_X2_ND_T ? k * n :
      layout == MODEL_X2_NZ ? model_align(k, 16) * model_align(n, 32) :
                              model_align(n, 16) * model_align(k, 32);
*/

/* Fills x2 (k x n, row-major) from stored memory in the given layout. MODEL_EINVAL for NULL
 * pointers, k or n < 1, or an unknown layout. */
/*@ requires k < 1 || n < 1 || model_x2_shape(k, n);
    requires stored != \null && k >= 1 && n >= 1 ==>
               \valid_read(stored + (0 .. model_x2_stored(layout, k, n) - 1));
    requires x2 != \null && k >= 1 && n >= 1 ==> \valid(x2 + (0 .. k * n - 1));
    assigns x2[0 .. k * n - 1];
    ensures \result == MODEL_OK || \result == MODEL_EINVAL; */
int model_x2_from_stored(model_x2_layout layout, const int8_t *stored, int64_t k, int64_t n,
                         int8_t *x2);

#endif
