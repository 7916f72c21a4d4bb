/* Internal to the compat library: the objects behind CANN's handles, the handle registry, the
 * per-thread error text. Shared by the C sources and the one C++ source (getters.cpp). */
#ifndef QMAR_COMPAT_SRC_COMPAT_H
#define QMAR_COMPAT_SRC_COMPAT_H

#include <stdint.h>

#include "acl/acl.h"
#include "aclnn/aclnn_base.h"
#include "hccl/hccl.h"
#include "qmar/qmar.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QC_MAX_DIMS 8 /* = QMAR_MAX_DIMS */

/* What aclCreateTensor was given. strides are always filled (row-major when none were given);
 * TransMatmulWeight rewrites format, storage dims and offset in place. */
struct aclTensor {
    uint64_t view_ndim;
    int64_t view[QC_MAX_DIMS];
    int32_t has_strides; /* the caller passed strides (else row-major, passed on as NULL) */
    int64_t strides[QC_MAX_DIMS];
    int64_t offset;
    int32_t dtype;
    int32_t format;
    uint64_t storage_ndim;
    int64_t storage[QC_MAX_DIMS];
    void *data;
};

struct aclIntArray {
    uint64_t size;
    int64_t *values; /* NULL when size == 0 */
};

typedef enum qc_exec_kind { QC_EXEC_QMAR = 1, QC_EXEC_TRANS_WEIGHT, QC_EXEC_TRANS_QUANT } qc_exec_kind;

struct aclOpExecutor {
    qc_exec_kind kind;
    uint64_t workspace_size;
    union {
        qmar_executor *q; /* QC_EXEC_QMAR */
        struct {          /* QC_EXEC_TRANS_WEIGHT */
            aclTensor *t;
            int64_t rows, cols; /* the stored matrix: (k,n), or (n,k) when transposed */
            uint64_t nz_elems;
        } tw;
        struct { /* QC_EXEC_TRANS_QUANT */
            const aclTensor *scale, *offset, *out;
            uint64_t scale_count, offset_count, n;
        } tq;
    } u;
};

typedef struct qc_context {
    int32_t device;
} qc_context;

typedef struct qc_stream {
    int32_t device;
} qc_stream;

typedef struct qc_comm {
    qmar_comm *q;
    int32_t device;
    uint32_t rank, size;
} qc_comm;

/* ---- Handle registry: every object handed out is registered, so a stale, foreign or twice-freed
 * handle is an error code, never a crash. Thread-safe. ------------------------------------------ */
typedef enum qc_kind {
    QC_ALLOC = 1, /* aclrtMalloc block; size recorded */
    QC_HOST_ALLOC, /* aclrtMallocHost block; size recorded */
    QC_CONTEXT,
    QC_STREAM,
    QC_COMM,
    QC_TENSOR,
    QC_INT_ARRAY,
    QC_EXECUTOR,
} qc_kind;

int qc_reg_add(const void *p, qc_kind kind, uint64_t size); /* 0, or -1 when out of memory */
int qc_reg_has(const void *p, qc_kind kind);                  /* 1 if live with that kind */
int qc_reg_take(const void *p, qc_kind kind, uint64_t *size); /* 1 and removed, or 0 */
/* An executor of the given kind is removed and returned; NULL if p is not one. */
aclOpExecutor *qc_reg_take_executor(const void *p, qc_exec_kind kind);
/* The aclrtMalloc / aclrtMallocHost block that contains [p, p+len): 1 with its base and size,
 * 0 when p lies in no block, -1 when p lies in a block but p+len leaves it. */
int qc_reg_block(const void *p, uint64_t len, const void **base, uint64_t *size);
/* Removes every live object of the given kind, passing each to release. */
void qc_reg_drain(qc_kind kind, void (*release)(void *p));

/* ---- Errors ------------------------------------------------------------------------------------
 * qc_fail records "<api>: <reason>" as the thread's aclGetRecentErrMsg text, prints it to stderr
 * (unless QMAR_COMPAT_LOG=0) and returns status. qc_fail_qmar takes the reason from
 * qmar_last_error(). */
int32_t qc_fail(int32_t status, const char *api, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int32_t qc_fail_qmar(int32_t status, const char *api);

/* ---- Shared helpers ------------------------------------------------------------------------- */
int qc_device_count(void);
int32_t qc_current_device(void); /* the calling thread's device, -1 if none */
int qc_stream_ok(aclrtStream stream); /* NULL (default stream) or a live stream */
/* Contiguity and the transposed 2-D pattern, with qmar's definitions (validation.md). */
int qc_is_contiguous(const aclTensor *t);
int qc_is_transposed(const aclTensor *t);
uint64_t qc_elem_count(const int64_t *dims, uint64_t ndim); /* dims >= 1 assumed; 0 if not */

#ifdef __cplusplus
}
#endif
#endif
