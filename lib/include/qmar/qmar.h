/* SPDX-License-Identifier: Apache-2.0 */
/* qmar — int8 quantized matmul + dequant + all-reduce across ranks, on CPUs.
 *
 * The CPU re-implementation of Ascend's aclnnQuantMatmulAllReduceV3: the same two-phase API
 * (GetWorkspaceSize validates and plans, Run executes), the same parameters in the same order,
 * the same status codes. The normative documents are spec/api.md, spec/validation.md and
 * spec/numerics.md in the source tree. */
#ifndef QMAR_QMAR_H
#define QMAR_QMAR_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(QMAR_BUILDING_LIBRARY) && defined(__GNUC__)
#define QMAR_API __attribute__((visibility("default")))
#else
#define QMAR_API
#endif

/* ---- Version (README "Versions and ABI") ----------------------------------------------------- */
#define QMAR_VERSION_MAJOR 0
#define QMAR_VERSION_MINOR 1
#define QMAR_VERSION_PATCH 0
/* One number to compare in #if: QMAR_VERSION >= QMAR_VERSION_OF(0, 2, 0). */
#define QMAR_VERSION_OF(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define QMAR_VERSION QMAR_VERSION_OF(QMAR_VERSION_MAJOR, QMAR_VERSION_MINOR, QMAR_VERSION_PATCH)
/* "MAJOR.MINOR.PATCH" of the library the program runs with, which may be newer than the header it
 * was compiled with (same soname: compatible). */
QMAR_API const char *qmar_version(void);

/* ---- Status codes (values equal aclnn's) ---------------------------------------------------- */
typedef int32_t qmar_status;
#define QMAR_SUCCESS 0
#define QMAR_ERR_PARAM_NULLPTR 161001 /* a required pointer is NULL           */
#define QMAR_ERR_PARAM_INVALID 161002 /* dtype/shape/attribute breaks a rule  */
#define QMAR_ERR_RUNTIME 361001       /* collective failed, timed out, peers disagree */
#define QMAR_ERR_INNER 561000         /* internal error, allocation failure   */

/* Constant name of a status ("QMAR_ERR_PARAM_INVALID", ...); "unknown status" otherwise. */
QMAR_API const char *qmar_status_string(qmar_status s);

/* Thread-local, human-readable reason of the last non-success status returned on this thread,
 * naming the parameter and the rule, e.g. "x2: k (64) != x1 last dim (32)". Never NULL; "" when
 * this thread has not failed yet. The text stays valid until the next qmar call on this thread. */
QMAR_API const char *qmar_last_error(void);

/* ---- Data types and formats (values equal CANN's aclDataType / aclFormat) --------------------- */
typedef enum qmar_dtype {
    QMAR_FLOAT = 0, /* fp32 */
    QMAR_FLOAT16 = 1,
    QMAR_INT8 = 2,
    QMAR_INT32 = 3,
    QMAR_UINT8 = 4,
    QMAR_INT16 = 6,
    QMAR_UINT16 = 7,
    QMAR_UINT32 = 8,
    QMAR_INT64 = 9,
    QMAR_UINT64 = 10,
    QMAR_DOUBLE = 11,
    QMAR_BOOL = 12,
    QMAR_BF16 = 27,
    QMAR_DTYPE_FORCE_INT32_ = 0x7fffffff /* any int32 value may be stored; the operator rejects it */
} qmar_dtype;

/* Size in bytes of one element of dtype, 0 for a value that is not one of the above. */
QMAR_API uint64_t qmar_dtype_size(qmar_dtype dtype);

typedef enum qmar_format {
    QMAR_FORMAT_ND = 2,
    QMAR_FORMAT_FRACTAL_NZ = 29,
    QMAR_FORMAT_FORCE_INT32_ = 0x7fffffff /* any int32 value may be stored; the operator rejects it */
} qmar_format;

/* ---- Tensor descriptors ---------------------------------------------------------------------- */
typedef struct qmar_tensor qmar_tensor; /* opaque */
#define QMAR_MAX_DIMS 8

/* Same parameters, in the same order, as aclCreateTensor. strides and offset count elements; data
 * points at element 0 of the storage and the view starts at offset. strides == NULL means
 * contiguous row-major. The descriptor records what it is given (odd dims, strides, dtypes and
 * formats included: the operator's validator rejects them); it returns NULL only when the input
 * cannot be stored: an ndim > QMAR_MAX_DIMS, a NULL dims pointer with ndim > 0, or no memory.
 * The descriptor never owns data. */
QMAR_API qmar_tensor *qmar_tensor_create(const int64_t *view_dims, uint64_t view_ndim,
                                         qmar_dtype dtype, const int64_t *strides, int64_t offset,
                                         qmar_format format, const int64_t *storage_dims,
                                         uint64_t storage_ndim, void *data);
QMAR_API void qmar_tensor_destroy(qmar_tensor *t); /* NULL is a no-op */

/* ---- Communicators ---------------------------------------------------------------------------- */
typedef struct qmar_comm qmar_comm;
#define QMAR_GROUP_NAME_MAX 128
#define QMAR_COMM_MAX_RANKS 64 /* what init_all creates; the operator accepts 1, 2, 4 or 8 */

/* In-process group of nranks ranks (each rank driven by its own thread), like HcclCommInitAll.
 * comms receives one endpoint per rank, rank i at comms[i]. */
QMAR_API qmar_status qmar_comm_init_all(int32_t nranks, qmar_comm **comms);
/* Name that identifies THIS rank's endpoint; pass it as `group` to the operator. */
QMAR_API qmar_status qmar_comm_get_name(const qmar_comm *comm, char name[QMAR_GROUP_NAME_MAX]);
QMAR_API qmar_status qmar_comm_rank(const qmar_comm *comm, int32_t *rank);
QMAR_API qmar_status qmar_comm_size(const qmar_comm *comm, int32_t *size);
/* Timeout of this endpoint's collectives; the default is 60000 ms or QMAR_COMM_TIMEOUT_MS from the
 * environment at creation. Must be >= 1. */
QMAR_API qmar_status qmar_comm_set_timeout_ms(qmar_comm *comm, int64_t timeout_ms);
/* Breaks the endpoint's group at once (as MPI ULFM's revoke): every collective of every rank of the
 * group, waiting or later, fails promptly with QMAR_ERR_RUNTIME instead of waiting for the timeout.
 * For a rank that fails outside the operator and must not leave its peers waiting. The group
 * stays broken: destroy its endpoints and create a new one. */
QMAR_API qmar_status qmar_comm_revoke(qmar_comm *comm);
/* Unregisters the endpoint's name at once; executors planned on it keep it alive until they are
 * run or destroyed. */
QMAR_API qmar_status qmar_comm_destroy(qmar_comm *comm);

/* ---- The operator ----------------------------------------------------------------------------- */
typedef struct qmar_executor qmar_executor;

/* Validates every argument (spec/validation.md) and, on success, returns a plan in *executor and
 * the workspace Run needs in *workspace_size. Never reads tensor data, never writes to a tensor,
 * never communicates. On failure *executor is set to NULL and *workspace_size to 0 (when those
 * pointers are not NULL).
 * Workspace formula (bytes; Y = output dtype, R = ranks of group):
 *   Align64(m*n*sizeof(Y))                      cases 1 and 2 (the rank's values before the reduce)
 *   Align64(m*n*sizeof(Y)) + 2*Align64(m*n)     case 3 (plus the int8 quantized rows and sums) */
QMAR_API qmar_status qmar_quant_matmul_all_reduce_v3_get_workspace_size(
    const qmar_tensor *x1, const qmar_tensor *x2, const qmar_tensor *bias /* optional */,
    const qmar_tensor *x3 /* optional */, const qmar_tensor *dequant_scale,
    const qmar_tensor *pertoken_scale /* optional */,
    const qmar_tensor *comm_quant_scale1 /* optional */,
    const qmar_tensor *comm_quant_scale2 /* optional */, const char *group, const char *reduce_op,
    int64_t comm_turn, int64_t stream_mode, const qmar_tensor *output, uint64_t *workspace_size,
    qmar_executor **executor);

/* Executes a plan synchronously on the calling thread; every rank of the group calls it. The
 * executor is consumed whatever the outcome. stream is accepted for API symmetry (NULL is fine). */
QMAR_API qmar_status qmar_quant_matmul_all_reduce_v3(void *workspace, uint64_t workspace_size,
                                                     qmar_executor *executor, void *stream);
/* Discards a planned executor without running it. NULL is a no-op. */
QMAR_API void qmar_executor_destroy(qmar_executor *executor);

/* ---- Helpers (spec/numerics.md §6 and §7) ------------------------------------------------------ */

/* TransQuantParamV2: encodes fp32 dequant scales (and optional fp32 offsets) into the UINT64 words
 * the FP16-output path without pertoken consumes. scale_count >= 1; offset may be NULL (then
 * offset_count must be 0), else offset_count >= 1. With N = max(scale_count, offset_count), each
 * count must be 1 (broadcast) or N; words[0..N-1] is written and words_count must be >= N.
 * words[0..N-1] must share no byte with scale[0..scale_count-1] nor offset[0..offset_count-1]
 * (QMAR_ERR_PARAM_INVALID otherwise, as qmar_trans_matmul_weight rejects an overlap). */
QMAR_API qmar_status qmar_trans_quant_param_v2(const float *scale, uint64_t scale_count,
                                               const float *offset, uint64_t offset_count,
                                               uint64_t *words, uint64_t words_count);

/* Number of elements the FRACTAL_NZ form of a 2-D weight of shape dims[0] x dims[1] occupies:
 * Align(dims[0],16) * Align(dims[1],32). Only dtype INT8 and ndim 2 are supported; dims >= 1. */
QMAR_API qmar_status qmar_calculate_matmul_weight_size_v2(const int64_t *dims, uint64_t ndim,
                                                          qmar_dtype dtype, uint64_t *elements);

/* Converts the row-major rows x cols int8 matrix nd into FRACTAL_NZ at nz, padding with zeros.
 * nz_bytes must be at least the size given by qmar_calculate_matmul_weight_size_v2. nz may equal
 * nd (in-place conversion inside a buffer of the NZ size); any other overlap is rejected. */
QMAR_API qmar_status qmar_trans_matmul_weight(const int8_t *nd, int64_t rows, int64_t cols,
                                              int8_t *nz, uint64_t nz_bytes);

#ifdef __cplusplus
}
#endif
#endif /* QMAR_QMAR_H */
