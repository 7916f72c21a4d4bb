/* SPDX-License-Identifier: Apache-2.0 */
/* Reason texts for validator verdicts: which parameter, which rule, which values.
 * Kept apart from validate.c so the proven validator stays free of I/O. */
#include <inttypes.h>
#include <stdio.h>

#include "error.h"
#include "validate.h"

static const char *const slot_names[QMAR__NSLOTS] = {
    "x1", "x2", "bias", "x3", "dequant_scale", "pertoken_scale",
    "comm_quant_scale1", "comm_quant_scale2", "output",
};

const char *qmar__slot_name(int32_t slot)
{
    return slot >= 0 && slot < QMAR__NSLOTS ? slot_names[slot] : "-";
}

/* Rule id and text of each clause. The text takes, in order: the slot name, then v[0], v[1], v[2]
 * as int64 values (a text may use fewer of them). */
static const struct {
    const char *rule;
    const char *text;
} clauses[QMAR__WHY_COUNT] = {
    [QMAR__OK] = {"ok", "%s: accepted"},
    [QMAR__N1_NULL] = {"N1", "%s: required pointer is NULL (argument #%" PRId64 ")"},
    [QMAR__N2_DATA_NULL] = {"N2", "%s: tensor data pointer is NULL"},
    [QMAR__D1_NOT_INT8] = {"D1", "%s: dtype %" PRId64 " is not INT8 (2)"},
    [QMAR__D2_OUTPUT] = {"D2", "%s: dtype %" PRId64 " is neither FLOAT16 (1) nor BF16 (27)"},
    [QMAR__D3_BIAS] = {"D3", "%s: dtype %" PRId64 " is not INT32 (3)"},
    [QMAR__D4_X3] = {"D4", "%s: dtype %" PRId64 " != output dtype %" PRId64},
    [QMAR__D5_DEQUANT] = {"D5", "%s: dtype %" PRId64 " not allowed for output dtype %" PRId64
                                " with pertoken present=%" PRId64
                                " (BF16 -> BF16; FLOAT16 -> INT64/UINT64, or FLOAT with pertoken)"},
    [QMAR__D6_PERTOKEN] = {"D6", "%s: dtype %" PRId64 " is not FLOAT (0)"},
    [QMAR__D7_PAIR] = {"D7", "%s: absent while the other comm quant scale is present"},
    [QMAR__D7_DTYPE] = {"D7", "%s: dtype %" PRId64 " != output dtype %" PRId64},
    [QMAR__L1_NDIM] = {"L1", "%s: view has %" PRId64 " dims; at least 1 is required"},
    [QMAR__L1_DIM] = {"L1", "%s: view dim %" PRId64 " is %" PRId64 "; empty tensors are not supported"},
    [QMAR__L1_STORAGE_DIM] = {"L1", "%s: storage dim %" PRId64 " is %" PRId64 "; must be >= 1"},
    [QMAR__L1_COUNT] = {"L1", "%s: view holds more than 2^48 elements"},
    [QMAR__L1_STORAGE_COUNT] = {"L1", "%s: storage holds more than 2^48 elements"},
    [QMAR__L1_OFFSET] = {"L1", "%s: offset %" PRId64 " is negative"},
    [QMAR__L2_FORMAT] = {"L2", "%s: format %" PRId64 " is not ND (2)"},
    [QMAR__L2_STRIDES] = {"L2", "%s: strides are not contiguous row-major"},
    [QMAR__L3_FORMAT] = {"L3", "%s: format %" PRId64 " is neither ND (2) nor FRACTAL_NZ (29)"},
    [QMAR__L3_NDIM] = {"L3", "%s: view has %" PRId64 " dims; must be 2 (k, n)"},
    [QMAR__L3_STRIDES] = {"L3", "%s: strides (%" PRId64 ", %" PRId64
                                ") are neither contiguous (n, 1) nor transposed (1, k)"},
    [QMAR__L4_STORAGE] = {"L4", "%s: view at offset %" PRId64 " with %" PRId64
                                " elements leaves storage of %" PRId64 " elements"},
    [QMAR__L5_NDIM] = {"L5", "%s: FRACTAL_NZ storage has %" PRId64 " dims; must be 4"},
    [QMAR__L5_DIMS] = {"L5", "%s: FRACTAL_NZ storage dim %" PRId64 " is %" PRId64
                             "; the NZ shape needs %" PRId64},
    [QMAR__L5_OFFSET] = {"L5", "%s: FRACTAL_NZ offset %" PRId64 " must be 0"},
    [QMAR__L6_WRAP] = {"L6", "%s: addressed memory wraps past the end of the address space"},
    [QMAR__L7_OVERLAP] = {"L7", "%s: memory overlaps output"},
    [QMAR__L7_PARTIAL_ALIAS] = {"L7", "%s: overlaps output without being exactly the output "
                                      "(same data, offset and shape)"},
    [QMAR__S1_X1_NDIM] = {"S1", "%s: view has %" PRId64 " dims; must be 2 or 3"},
    [QMAR__S1_X2_NDIM] = {"S1", "%s: view has %" PRId64 " dims; must be 2"},
    [QMAR__S2_K] = {"S2", "%s: k (%" PRId64 ") != x1 last dim (%" PRId64 ")"},
    [QMAR__S2_K_MAX] = {"S2", "%s: k (%" PRId64 ") > %" PRId64},
    [QMAR__S2_X2_LAST_MAX] = {"S2", "%s: stored last dim n (%" PRId64 ") > %" PRId64},
    [QMAR__S2_M_MAX] = {"S2", "%s: m (%" PRId64 ") > %" PRId64},
    [QMAR__S3_NDIM] = {"S3", "%s: view has %" PRId64 " dims; x1 has %" PRId64},
    [QMAR__S3_DIM] = {"S3", "%s: dim %" PRId64 " is %" PRId64 "; x1 has %" PRId64},
    [QMAR__S3_N] = {"S3", "%s: n (%" PRId64 ") != output last dim (%" PRId64 ")"},
    [QMAR__S4_BIAS] = {"S4", "%s: shape must be (n) = (%" PRId64 ")"},
    [QMAR__S5_X3] = {"S5", "%s: shape must equal output's"},
    [QMAR__S6_DEQUANT] = {"S6", "%s: shape must be (1), (n) or (1, n), n = %" PRId64},
    [QMAR__S7_PERTOKEN] = {"S7", "%s: shape must be (m) = (%" PRId64 ")"},
    [QMAR__S8_SHAPE] = {"S8", "%s: shape must be (n) or (1, n), n = %" PRId64},
    [QMAR__S8_EQUAL] = {"S8", "%s: shape differs from comm_quant_scale1's"},
    [QMAR__A1_REDUCE_OP] = {"A1", "%sreduce_op: must be exactly \"sum\""},
    [QMAR__A2_STREAM_MODE] = {"A2", "%sstream_mode: %" PRId64 " != 1"},
    [QMAR__A3_COMM_TURN] = {"A3", "%scomm_turn: %" PRId64 " != 0"},
    [QMAR__A4_GROUP_LENGTH] = {"A4", "%sgroup: name is not NUL-terminated within 128 bytes"},
    [QMAR__A4_GROUP_UNKNOWN] = {"A4", "%sgroup: names no live communicator endpoint"},
    [QMAR__A4_GROUP_RANKS] = {"A4", "%sgroup: communicator has %" PRId64
                                    " ranks; 1, 2, 4 or 8 are supported"},
    [QMAR__P1_ALLOC] = {"P1", "%splan: out of memory"},
};

static const char *const n1_names[4] = {"group", "reduce_op", "workspace_size", "executor"};

const char *qmar__rule_id(int32_t why)
{
    return why >= 0 && why < QMAR__WHY_COUNT && clauses[why].rule ? clauses[why].rule : "?";
}

qmar_status qmar__report(const qmar__verdict *verdict)
{
    int32_t why = verdict->why;
    if (why < 0 || why >= QMAR__WHY_COUNT || clauses[why].text == NULL)
        return qmar__fail(verdict->status, "rule ?: unexpected verdict %d", (int)why);
    const char *name = verdict->slot == QMAR__NO_SLOT ? "" : qmar__slot_name(verdict->slot);
    if (why == QMAR__N1_NULL && verdict->slot == QMAR__NO_SLOT)
        return qmar__fail(verdict->status, "[N1] %s: required pointer is NULL",
                          n1_names[verdict->v[0] & 3]);
    char text[384];
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(text, sizeof text, clauses[why].text, name, verdict->v[0], verdict->v[1],
             verdict->v[2]);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    return qmar__fail(verdict->status, "[%s] %s", clauses[why].rule, text);
}
