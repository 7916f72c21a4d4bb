/* SPDX-License-Identifier: Apache-2.0 */
/* The independent acceptance predicate of spec/validation.md.
 *
 * accept_get_workspace_size() says which status the spec demands of a call to
 * qmar_quant_matmul_all_reduce_v3_get_workspace_size, given a plain description of its arguments.
 * It is transcribed from spec/validation.md alone (never from lib/src) so that a test comparing
 * the two catches a misreading on either side. Pure: no I/O, no allocation, no library calls. */
#ifndef QMAR_SPEC_MODEL_ACCEPT_H
#define QMAR_SPEC_MODEL_ACCEPT_H

#include <stdint.h>

#include "qmar/qmar.h"

/* The nine tensor slots, in the operator's parameter order. */
enum accept_slot {
    ACCEPT_X1,
    ACCEPT_X2,
    ACCEPT_BIAS,
    ACCEPT_X3,
    ACCEPT_DEQUANT,
    ACCEPT_PERTOKEN,
    ACCEPT_COMM1,
    ACCEPT_COMM2,
    ACCEPT_OUTPUT,
    ACCEPT_NSLOTS
};

/* QMAR_MAX_ELEMS of the spec's "Words used below": no view and no storage may hold more. */
#define ACCEPT_MAX_ELEMS ((uint64_t)1 << 48)

/* One tensor slot, as the caller would hand it to qmar_tensor_create. */
typedef struct accept_tensor {
    int present;   /* 0: the slot's pointer is NULL (the other fields are ignored) */
    uint64_t data; /* address of element 0 of the storage; 0 is a NULL data pointer */
    int32_t dtype;
    int32_t format;
    uint64_t view_ndim; /* a descriptor stores at most QMAR_MAX_DIMS dims */
    int64_t dims[QMAR_MAX_DIMS];
    int has_strides; /* 0: strides NULL (contiguous row-major) */
    int64_t strides[QMAR_MAX_DIMS];
    int64_t offset; /* elements */
    uint64_t storage_ndim;
    int64_t storage_dims[QMAR_MAX_DIMS];
} accept_tensor;

/* Every argument of GetWorkspaceSize. */
typedef struct accept_args {
    accept_tensor slot[ACCEPT_NSLOTS];
    const char *group;     /* NULL, or the string passed (read at most 128 bytes) */
    int32_t group_ranks;   /* ranks of the live communicator group names; 0 if it names none */
    const char *reduce_op; /* NULL or a NUL-terminated string */
    int64_t comm_turn;
    int64_t stream_mode;
    int workspace_size_null; /* the workspace_size pointer is NULL */
    int executor_null;       /* the executor pointer is NULL */
} accept_args;

typedef struct accept_verdict {
    int32_t status;   /* 0, QMAR_ERR_PARAM_NULLPTR or QMAR_ERR_PARAM_INVALID */
    const char *rule; /* id of the first rule that failed ("N1", "L4", ...); "ok" on success */
} accept_verdict;

/* The status spec/validation.md demands for these arguments, and the rule that decided it. */
accept_verdict accept_get_workspace_size(const accept_args *a);

/* Element size of a dtype (spec "element size"); 0 for a value that has none. */
uint64_t accept_elem_size(int32_t dtype);

/* The footprint [*lo, *hi) of a tensor (spec "footprint"). Meaningful once the tensor passes
 * L1-L6; for any other input it returns 0 and leaves *lo and *hi alone, never overflowing. */
int accept_footprint(const accept_tensor *t, uint64_t *lo, uint64_t *hi);

/* "x1", "x2", ..., "output"; "?" for anything else. */
const char *accept_slot_name(int slot);

#endif /* QMAR_SPEC_MODEL_ACCEPT_H */
