/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the pure validator of spec/validation.md (rules N1..A3) and what it derives. */
#ifndef QMAR_SRC_VALIDATE_H
#define QMAR_SRC_VALIDATE_H
#include <stdint.h>

#include "tensor.h"

/* The nine tensor slots, in API order. */
enum qmar__slot {
    QMAR__X1, QMAR__X2, QMAR__BIAS, QMAR__X3, QMAR__DEQUANT, QMAR__PERTOKEN,
    QMAR__CS1, QMAR__CS2, QMAR__OUT, QMAR__NSLOTS,
    QMAR__NO_SLOT = -1
};

/* Views and storages never hold more elements than this (spec/validation.md, "element limit"). */
#define QMAR__MAX_ELEMS (INT64_C(1) << 48)
#define QMAR__MAX_K 65535
#define QMAR__MAX_M INT64_C(2147483647)

/* Why a call was rejected: one entry per clause of a rule, so the reason text can be exact.
 * The spec rule id of each is in reason.c. */
enum qmar__why {
    QMAR__OK = 0,
    QMAR__N1_NULL, QMAR__N2_DATA_NULL,
    QMAR__D1_NOT_INT8, QMAR__D2_OUTPUT, QMAR__D3_BIAS, QMAR__D4_X3, QMAR__D5_DEQUANT,
    QMAR__D6_PERTOKEN, QMAR__D7_PAIR, QMAR__D7_DTYPE,
    QMAR__L1_NDIM, QMAR__L1_DIM, QMAR__L1_STORAGE_DIM, QMAR__L1_COUNT, QMAR__L1_STORAGE_COUNT,
    QMAR__L1_OFFSET,
    QMAR__L2_FORMAT, QMAR__L2_STRIDES,
    QMAR__L3_FORMAT, QMAR__L3_NDIM, QMAR__L3_STRIDES,
    QMAR__L4_STORAGE,
    QMAR__L5_NDIM, QMAR__L5_DIMS, QMAR__L5_OFFSET,
    QMAR__L6_WRAP,
    QMAR__L7_OVERLAP, QMAR__L7_PARTIAL_ALIAS,
    QMAR__S1_X1_NDIM, QMAR__S1_X2_NDIM,
    QMAR__S2_K, QMAR__S2_K_MAX, QMAR__S2_X2_LAST_MAX, QMAR__S2_M_MAX,
    QMAR__S3_NDIM, QMAR__S3_DIM, QMAR__S3_N,
    QMAR__S4_BIAS, QMAR__S5_X3, QMAR__S6_DEQUANT, QMAR__S7_PERTOKEN, QMAR__S8_SHAPE,
    QMAR__S8_EQUAL,
    QMAR__A1_REDUCE_OP, QMAR__A2_STREAM_MODE, QMAR__A3_COMM_TURN,
    QMAR__A4_GROUP_LENGTH, QMAR__A4_GROUP_UNKNOWN, QMAR__A4_GROUP_RANKS,
    QMAR__P1_ALLOC,
    QMAR__WHY_COUNT
};

/* A GetWorkspaceSize call as the validator sees it. Out-pointers matter only for N1. */
typedef struct qmar__call {
    const qmar_tensor *t[QMAR__NSLOTS];
    const char *group;
    const char *reduce_op;
    int64_t comm_turn;
    int64_t stream_mode;
    const void *workspace_size_ptr;
    const void *executor_ptr;
} qmar__call;

/* The verdict: status, which clause decided, which slot, and up to three values for the text. */
typedef struct qmar__verdict {
    qmar_status status;
    int32_t why;
    int32_t slot;
    int64_t v[3];
} qmar__verdict;

enum qmar__x2_layout { QMAR__X2_ND, QMAR__X2_ND_T, QMAR__X2_NZ, QMAR__X2_NZ_T };

/* What planning needs, derived once the call is valid. */
typedef struct qmar__facts {
    int64_t m, k, n;
    int32_t y;            /* QMAR_FLOAT16 or QMAR_BF16 */
    int32_t op_case;      /* 1: dequant, 2: + pertoken, 3: int8 communication */
    int32_t x2_layout;    /* enum qmar__x2_layout */
    int32_t has_pertoken; /* case 3 may also carry pertoken */
} qmar__facts;

/* Rules N1..A3 of spec/validation.md as ACSL predicates (rule_N1 .. rule_A3, accepted). */
#include "../../spec/acsl/validation.acsl"

/* Rules N1..A3 in spec order. Pure: reads only the descriptors and attribute strings (never tensor
 * data), writes only *verdict and, on success, *facts.
 * Proven (proofs/units/validate): the status is SUCCESS exactly when the call satisfies every rule
 * of spec/acsl/validation.acsl, NULLPTR exactly when an N rule fails, INVALID otherwise. */
/*@ requires call_readable(call);
    requires \valid(verdict) && \valid(facts) && \separated(verdict, facts);
    assigns *verdict, *facts;
    ensures verdict->status == \result;
    behavior null_pointer:
      assumes !rules_N(call);
      ensures \result == QMAR_ERR_PARAM_NULLPTR;
      ensures *facts == \old(*facts);
    behavior accepted:
      assumes accepted(call);
      ensures \result == QMAR_SUCCESS;
      ensures facts_of{Pre}(call, *facts);
      ensures facts_in_range(*facts);
    behavior rejected:
      assumes rules_N(call) && !accepted(call);
      ensures \result == QMAR_ERR_PARAM_INVALID;
      ensures *facts == \old(*facts);
    complete behaviors;
    disjoint behaviors;
*/
qmar_status qmar__validate(const qmar__call *call, qmar__verdict *verdict, qmar__facts *facts);

/* Footprint of a valid tensor in bytes (spec/validation.md, "footprint"). */
/*@ requires tensor_readable(t) && well_formed(t);
    assigns \nothing;
    ensures t->format == QMAR_FORMAT_FRACTAL_NZ ==>
                \result == storage_count(t) * elem_size(t->dtype);
    ensures t->format != QMAR_FORMAT_FRACTAL_NZ ==>
                \result == view_count(t) * elem_size(t->dtype);
*/
uint64_t qmar__footprint_bytes(const qmar_tensor *t);

/* Reason text of a verdict, written to the thread-local last error; returns the verdict's status. */
qmar_status qmar__report(const qmar__verdict *verdict);
/* Rule id ("L4", ...) of a clause. */
const char *qmar__rule_id(int32_t why);
const char *qmar__slot_name(int32_t slot);
#endif
