/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection for compat's own allocations: the `faults` suite fails the N-th one, as
 * libqmar's hooks (lib/src/fault.h) do for the library's. libqmar's hooks are internal to
 * libqmar.so, so compat has this copy of the allocation half, armed by the same environment
 * variables (each library counts its own allocations):
 *   QMAR_FAULT_ALLOC=N   the N-th allocation from now fails once;  N+ : it and all after it
 *   QMAR_FAULT_REPORT=1  at exit, prints "qmar-compat-faults: allocs A" to stderr
 * Built with QMAR_FAULT_INJECTION (meson option `fault_injection`); without it the hooks are
 * plain malloc & co. and arming does nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#ifdef QMAR_FAULT_INJECTION
static atomic_int_fast64_t seen, fail_at; /* fail_at 0: not armed */
static atomic_int persistent, fired;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void report_at_exit(void)
{
    fprintf(stderr, "qmar-compat-faults: allocs %lld\n", (long long)atomic_load(&seen));
}

static void read_environment(void)
{
    const char *a = getenv("QMAR_FAULT_ALLOC");
    if (a != NULL && *a != '\0') {
        char *end;
        long long n = strtoll(a, &end, 10);
        if (n > 0 && (*end == '\0' || (end[0] == '+' && end[1] == '\0'))) {
            atomic_store(&persistent, *end == '+');
            atomic_store(&fail_at, n);
        }
    }
    const char *r = getenv("QMAR_FAULT_REPORT");
    if (r != NULL && strcmp(r, "1") == 0)
        atexit(report_at_exit);
}

int qc_fault_alloc_fails(void)
{
    pthread_once(&env_once, read_environment);
    int_fast64_t n = atomic_fetch_add(&seen, 1) + 1;
    int_fast64_t at = atomic_load(&fail_at);
    int fail = at > 0 && (n == at || (n > at && atomic_load(&persistent)));
    if (fail)
        atomic_store(&fired, 1);
    return fail;
}

void qc_fault_arm_alloc(int64_t n, int persist)
{
    pthread_once(&env_once, read_environment);
    atomic_store(&persistent, persist != 0);
    atomic_store(&seen, 0);
    atomic_store(&fired, 0);
    atomic_store(&fail_at, n);
}

void qc_fault_disarm(void)
{
    pthread_once(&env_once, read_environment);
    atomic_store(&fail_at, 0);
    atomic_store(&seen, 0);
    atomic_store(&fired, 0);
}

int64_t qc_fault_allocs_seen(void)
{
    return atomic_load(&seen);
}

int qc_fault_fired(void)
{
    return atomic_load(&fired);
}
#else
int qc_fault_alloc_fails(void)
{
    return 0;
}

void qc_fault_arm_alloc(int64_t n, int persist)
{
    (void)n, (void)persist;
}

void qc_fault_disarm(void)
{
}

int64_t qc_fault_allocs_seen(void)
{
    return 0;
}

int qc_fault_fired(void)
{
    return 0;
}
#endif

void *qc_malloc(size_t bytes)
{
    return qc_fault_alloc_fails() ? NULL : malloc(bytes);
}

void *qc_calloc(size_t count, size_t size)
{
    return qc_fault_alloc_fails() ? NULL : calloc(count, size);
}

int qc_memalign(void **p, size_t alignment, size_t bytes)
{
    return qc_fault_alloc_fails() ? ENOMEM : posix_memalign(p, alignment, bytes);
}
