/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the contract of the public qmar_trans_quant_param_v2 (qmar.h), proven in transquant.c
 * (proofs/units/transquant). The words are the §6 encoding of spec/numerics.md. */
#ifndef QMAR_SRC_TRANSQUANT_H
#define QMAR_SRC_TRANSQUANT_H
#include <stdint.h>

#include "error.h"
#include "qmar/qmar.h"

/* Align, the NZ words and the TransQuantParamV2 word as ACSL logic. */
#include "../../spec/acsl/arith.acsl"

/*@ requires scale != \null ==> \valid_read(scale + (0 .. scale_count - 1));
    requires offset != \null ==> \valid_read(offset + (0 .. offset_count - 1));
    requires words != \null ==> \valid(words + (0 .. words_count - 1));
    assigns words[0 .. words_count - 1], qmar__reason_state;
    behavior null_pointer:
      assumes scale == \null || words == \null;
      assigns qmar__reason_state;
      ensures \result == QMAR_ERR_PARAM_NULLPTR;
    behavior accepted:
      assumes scale != \null && words != \null;
      assumes tq_accepts(scale_count, offset_count, offset != \null, words_count);
      assumes tq_separated(words, tq_n(scale_count, offset_count), scale, scale_count, offset,
                           offset_count);
      assigns words[0 .. tq_n(scale_count, offset_count) - 1];
      ensures \result == QMAR_SUCCESS;
      ensures \forall integer j; 0 <= j < tq_n(scale_count, offset_count) ==>
          \let bits = f32_bits(scale + (scale_count == 1 ? 0 : j));
          (offset == \null ==> words[j] == QMAR_ACSL_TQ_SCALE_WORD(bits)) &&
          (offset != \null ==>
               words[j] == QMAR_ACSL_TQ_OFFSET_WORD(
                               bits, offset_code_of(offset + (offset_count == 1 ? 0 : j))));
    behavior overlapping:
      assumes scale != \null && words != \null;
      assumes tq_accepts(scale_count, offset_count, offset != \null, words_count);
      assumes !tq_separated(words, tq_n(scale_count, offset_count), scale, scale_count, offset,
                            offset_count);
      assigns qmar__reason_state;
      ensures \result == QMAR_ERR_PARAM_INVALID;
    behavior rejected:
      assumes scale != \null && words != \null;
      assumes !tq_accepts(scale_count, offset_count, offset != \null, words_count);
      assigns qmar__reason_state;
      ensures \result == QMAR_ERR_PARAM_INVALID;
    complete behaviors;
    disjoint behaviors;
*/
qmar_status qmar_trans_quant_param_v2(const float *scale, uint64_t scale_count, const float *offset,
                                      uint64_t offset_count, uint64_t *words, uint64_t words_count);
#endif
