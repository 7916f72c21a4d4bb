/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: fault injection for the `faults` suite (CONTRIBUTING.md "Fault injection"), in the
 * manner of SQLite's out-of-memory tests: the N-th allocation, or the N-th communication step of a
 * rank, fails on purpose, so that every error path is walked.
 *
 * Every allocation of the library goes through qmar__malloc/calloc/realloc/memalign, and every
 * communication step (send, receive, barrier, wait) of a backend calls qmar__fault_step first.
 * Built with QMAR_FAULT_INJECTION (meson option `fault_injection`, on unless buildtype is release)
 * they consult the armed plan; without it they are plain malloc and a constant SUCCESS.
 *
 * Arming: in-process by qmar__fault_arm_* (tests link the static library), or for other processes
 * (mpirun, compat programs) by the environment, read at the first hook:
 *   QMAR_FAULT_ALLOC=N     the N-th allocation from now fails once;  N+  : it and all after it
 *   QMAR_FAULT_STEP=N:KIND[@R]  the N-th step (of rank R only, if given) does KIND:
 *                          error | delay (sleeps past the endpoint's timeout, then goes on)
 *                          | stop (the rank stops taking part: it sleeps three timeouts, then fails)
 *   QMAR_FAULT_REPORT=1    at exit, prints "qmar-faults: allocs A steps S" to stderr (how many
 *                          injection points this process reached) */
#ifndef QMAR_SRC_FAULT_H
#define QMAR_SRC_FAULT_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "qmar/qmar.h"

typedef enum qmar__fault_kind {
    QMAR__FAULT_NONE = 0,
    QMAR__FAULT_ERROR,
    QMAR__FAULT_DELAY,
    QMAR__FAULT_STOP,
} qmar__fault_kind;

#ifdef QMAR_FAULT_INJECTION
void *qmar__malloc(size_t bytes);
void *qmar__calloc(size_t count, size_t size);
void *qmar__realloc(void *p, size_t bytes);
/* posix_memalign's contract: 0, or ENOMEM when the allocation fails (or is failed on purpose). */
int qmar__memalign(void **p, size_t alignment, size_t bytes);
/* Called by a backend before each communication step; `step` names it for the reason text. Returns
 * SUCCESS, or (with a qmar_last_error reason) QMAR_ERR_RUNTIME when the plan fails this step.
 * rank: the caller's rank in its group; timeout_ms: its endpoint's timeout (for delay/stop). */
qmar_status qmar__fault_step(int32_t rank, int64_t timeout_ms, const char *step);

/* Test control (all process-wide, thread-safe). n counts from 1 after the call. */
void qmar__fault_arm_alloc(int64_t n, int persistent);
void qmar__fault_arm_step(int64_t n, qmar__fault_kind kind, int32_t rank /* -1: any */);
void qmar__fault_disarm(void);
/* Injection points reached since the last arm/disarm (allocations, steps). */
int64_t qmar__fault_allocs_seen(void);
int64_t qmar__fault_steps_seen(void);
/* Whether an armed fault has fired since the last arm/disarm. */
int qmar__fault_fired(void);
#else
static inline void *qmar__malloc(size_t bytes) { return malloc(bytes); }
static inline void *qmar__calloc(size_t count, size_t size) { return calloc(count, size); }
static inline void *qmar__realloc(void *p, size_t bytes) { return realloc(p, bytes); }
static inline int qmar__memalign(void **p, size_t alignment, size_t bytes)
{
    return posix_memalign(p, alignment, bytes);
}
static inline qmar_status qmar__fault_step(int32_t rank, int64_t timeout_ms, const char *step)
{
    (void)rank, (void)timeout_ms, (void)step;
    return QMAR_SUCCESS;
}
#endif
#endif
