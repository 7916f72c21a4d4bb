/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the compat library: the objects behind CANN's handles, the handle registry, the
 * per-thread error text. Shared by the C sources and the one C++ source (getters.cpp). */
#ifndef QMAR_COMPAT_SRC_COMPAT_H
#define QMAR_COMPAT_SRC_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#include "acl/acl.h"
#include "aclnn/aclnn_base.h"
#include "hccl/hccl.h"
#include "qmar/qmar.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QC_MAX_DIMS 8 /* = QMAR_MAX_DIMS */

typedef struct qc_pins qc_pins;

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
    int64_t values[]; /* one allocation with the header */
};

typedef enum qc_exec_kind { QC_EXEC_QMAR = 1, QC_EXEC_TRANS_WEIGHT, QC_EXEC_TRANS_QUANT } qc_exec_kind;

/* The aclrtMalloc / aclrtMallocHost blocks an executor will touch, pinned at plan by address and
 * registration number: at run each must still be that same live block, or the run fails without
 * touching memory (memory.c). Memory that is not from aclrtMalloc is not pinned (trusted). */
#define QC_MAX_PINS 10 /* nine tensors and the workspace */
struct qc_pins {
    uint32_t n;
    struct {
        const void *base;
        uint64_t gen;
        const char *what; /* the tensor's name, for the reason */
    } pin[QC_MAX_PINS];
};

typedef struct qc_comm qc_comm;

/* The object behind an aclOpExecutor handle (a handle that is never reused: registry.c). */
typedef struct qc_executor {
    qc_exec_kind kind;
    uint64_t workspace_size;
    qc_pins pins;
    union {
        struct { /* QC_EXEC_QMAR */
            qmar_executor *q;
            qc_comm *comm; /* its group's compat communicator (a reference), or NULL */
            char group[QMAR_GROUP_NAME_MAX];
        } op;
        struct { /* QC_EXEC_TRANS_WEIGHT */
            const aclTensor *t; /* the weight's handle */
            void *data;         /* t's data at plan (pinned) */
            int64_t rows, cols; /* the stored matrix: (k,n), or (n,k) when transposed */
            uint64_t nz_elems;
        } tw;
        struct { /* QC_EXEC_TRANS_QUANT */
            const aclTensor *scale, *offset, *out; /* handles */
            uint64_t scale_count, offset_count, n;
        } tq;
    } u;
} qc_executor;

typedef struct qc_context {
    int32_t device;
} qc_context;

typedef struct qc_stream {
    int32_t device;
} qc_stream;

struct qc_comm {
    /* Set once by wrap, then read-only (what HcclGet* copy out, up to QC_COMM_FIXED): */
    const void *handle; /* the HcclComm handed out */
    qmar_comm *q;
    int32_t device;
    uint32_t rank, size;
    char name[QMAR_GROUP_NAME_MAX]; /* the qmar group name (HcclGetCommName) */
    /* hccl.c's list of every endpoint not yet released, under its lock: */
    struct qc_comm *next;
    uint32_t executors;             /* planned executors that refer to it */
    int destroyed;                  /* HcclCommDestroy'd; released when executors reaches 0 */
};

#define QC_COMM_FIXED offsetof(qc_comm, next)

/* The endpoint named `group`, with one more executor reference; NULL when no compat endpoint has
 * that name (e.g. one made with qmar's own API). *destroyed is set when it was HcclCommDestroy'd
 * (then NULL is returned too). */
qc_comm *qc_comm_acquire(const char *group, int *destroyed);
/* Drops an executor reference (NULL is a no-op); the last one of a destroyed endpoint frees it. */
void qc_comm_release(qc_comm *c);
/* Breaks the endpoint's group at once (qmar_comm_revoke): peers waiting in a collective fail now
 * instead of at the timeout. c holds a reference; NULL is a no-op. */
void qc_comm_revoke(qc_comm *c);
/* Revokes the live compat endpoint named `group`, if there is one. */
void qc_comm_revoke_by_name(const char *group);

/* ---- Handle registry: every object handed out is registered, so a stale, foreign or twice-freed
 * handle is an error code, never a crash. Thread-safe. Memory blocks are keyed by their address;
 * every other object (tensor, int array, context, stream, communicator, executor) is handed out
 * as a handle that is never reused and is resolved to its object with qc_reg_get (registry.c).
 * In this library a variable named like the API's parameter (tensor, stream, comm) holds the
 * handle; the object is reached only through the registry. ----------------------------------- */
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
/* Registers obj (size bytes) under a new handle that is never handed out again; 0, or -1 (out of
 * memory). */
int qc_reg_add_handle(void *obj, uint64_t size, qc_kind kind, const void **handle);
/* Objects are read and written only under the registry's lock, as copies, so that a destroy on
 * another thread can never free one in the middle of a read:
 * qc_reg_read copies the first min(size, object size) bytes of the object behind a live handle
 * into dst and returns how many (0: not a live handle of that kind); qc_reg_write copies size
 * bytes back into it (1, or 0 when the handle is no longer live). */
size_t qc_reg_read(const void *handle, qc_kind kind, void *dst, size_t size);
int qc_reg_write(const void *handle, qc_kind kind, const void *src, size_t size);
/* The object behind a live handle, removed from the registry (the caller frees it); or NULL. */
void *qc_reg_take_obj(const void *handle, qc_kind kind);
int qc_reg_has(const void *p, qc_kind kind);                  /* 1 if live with that kind */
int qc_reg_take(const void *p, qc_kind kind, uint64_t *size); /* 1 and removed, or 0 */
/* The executor behind a live handle, of the given kind (0: any), is removed and returned; NULL if
 * the handle is not one. */
qc_executor *qc_reg_take_executor(const void *handle, qc_exec_kind kind);
/* The aclrtMalloc / aclrtMallocHost block that contains [p, p+len): 1 with its base and size,
 * 0 when p lies in no block, -1 when p lies in a block but p+len leaves it. */
int qc_reg_block(const void *p, uint64_t len, const void **base, uint64_t *size);
/* The same, with the block's registration number in *gen (gen may be NULL). */
int qc_reg_block_gen(const void *p, uint64_t len, const void **base, uint64_t *size,
                     uint64_t *gen);
/* 1 if the block registered at base with number gen is still live. */
int qc_reg_block_live(const void *base, uint64_t gen);
/* aclrtFree's half: 1 when p is a live block of that kind, which is unregistered at once; then
 * *free_now says whether the caller frees it now (0: runs use it, the last one frees it). */
int qc_reg_free_block(const void *p, qc_kind kind, int *free_now);
/* A run holds its pinned blocks while it touches them: 1 when every one is still the pinned live
 * block (an aclrtFree meanwhile only releases it; its memory is freed by qc_reg_drop_blocks), or
 * 0 with the first dead one's index in *failed (nothing held). */
int qc_reg_hold_blocks(const qc_pins *pins, uint32_t *failed);
void qc_reg_drop_blocks(const qc_pins *pins);
/* Removes every live object of the given kind, passing each object to release; a memory block
 * that runs hold is only released (they free it). */
void qc_reg_drain(qc_kind kind, void (*release)(void *p));

/* ---- Errors ------------------------------------------------------------------------------------
 * qc_fail records "<api>: <reason>" as the thread's aclGetRecentErrMsg text, prints it to stderr
 * (unless QMAR_COMPAT_LOG=0) and returns status. qc_fail_qmar takes the reason from
 * qmar_last_error(). */
int32_t qc_fail(int32_t status, const char *api, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int32_t qc_fail_qmar(int32_t status, const char *api);

/* ---- Memory pins (memory.c) ------------------------------------------------------------------
 * qc_pin_range: [p, p+len) may start in no block (host memory: trusted, nothing pinned); if it
 * starts in one it must end in it (else 161002 with a reason), and the block is pinned.
 * qc_pin_tensor: the same for the bytes a valid tensor's view (or NZ storage) addresses.
 * qc_pins_hold: 0, and every pinned block is held until qc_pins_drop (a concurrent aclrtFree
 * cannot free it under the run); or 161002 with a reason when one was freed since the plan. */
int32_t qc_pin_range(qc_pins *pins, const void *p, uint64_t len, const char *what,
                     const char *api);
int32_t qc_pin_tensor(qc_pins *pins, const aclTensor *t, const char *what, const char *api);
int32_t qc_pins_hold(const qc_pins *pins, const char *api);
void qc_pins_drop(const qc_pins *pins);

/* ---- Executors (executor.c) -------------------------------------------------------------------
 * qc_executor_publish registers e under a new handle (*out); ACLNN_ERR_INNER and e freed (its
 * comm reference too) when out of memory. qc_executor_free releases e and what it holds (an
 * unrun qmar executor, the comm reference) and remembers the group of an operator executor, so
 * that a later run of its stale handle can still break that group (qc_executor_stale_group). */
int32_t qc_executor_publish(qc_executor *e, aclOpExecutor **out, const char *api);
void qc_executor_free(qc_executor *e, const void *handle);
/* The group of a recently consumed or destroyed operator executor handle; 0 when unknown. */
int qc_executor_stale_group(const void *handle, char group[QMAR_GROUP_NAME_MAX]);

/* ---- Fault injection (fault.c): compat's allocations go through these, so the `faults` suite
 * can fail the N-th one (the same environment variables as libqmar's hooks, lib/src/fault.h:
 * QMAR_FAULT_ALLOC=N[+], QMAR_FAULT_REPORT=1). Plain malloc & co. without QMAR_FAULT_INJECTION. */
void *qc_malloc(size_t bytes);
void *qc_calloc(size_t count, size_t size);
int qc_memalign(void **p, size_t alignment, size_t bytes);
int qc_fault_alloc_fails(void); /* counts one allocation made otherwise (new[]); 1: fail it */
/* Test control (the static library): n counts from 1 after the call. */
void qc_fault_arm_alloc(int64_t n, int persistent);
void qc_fault_disarm(void);
int64_t qc_fault_allocs_seen(void);
int qc_fault_fired(void);

/* ---- Shared helpers ------------------------------------------------------------------------- */
int qc_device_count(void);
int32_t qc_current_device(void); /* the calling thread's device, -1 if none */
int qc_stream_ok(aclrtStream stream); /* NULL (default stream) or a live stream */
/* A copy of the descriptor behind a live tensor handle: 1, or 0 when it is not one. */
int qc_tensor_read(const aclTensor *handle, aclTensor *copy);
/* Contiguity and the transposed 2-D pattern, with qmar's definitions (validation.md). */
int qc_is_contiguous(const aclTensor *t);
int qc_is_transposed(const aclTensor *t);
uint64_t qc_elem_count(const int64_t *dims, uint64_t ndim); /* dims >= 1 assumed; 0 if not */

#ifdef __cplusplus
}
#endif
#endif
