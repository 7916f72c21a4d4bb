/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection (fault.h): counters and the armed plan, process-wide. */
#ifdef QMAR_FAULT_INJECTION
#include "fault.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error.h"

static atomic_int_fast64_t alloc_seen, alloc_fail_at; /* fail_at 0: not armed */
static atomic_int alloc_persistent;
static atomic_int_fast64_t step_seen, step_fail_at;
static atomic_int step_kind, step_rank = -1;
static atomic_int fired;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void arm_alloc(int64_t n, int persistent);
static void arm_step(int64_t n, qmar__fault_kind kind, int32_t rank);

static void report_at_exit(void)
{
    fprintf(stderr, "qmar-faults: allocs %lld steps %lld\n", (long long)atomic_load(&alloc_seen),
            (long long)atomic_load(&step_seen));
}

/* QMAR_FAULT_ALLOC / QMAR_FAULT_STEP / QMAR_FAULT_REPORT, for processes the tests cannot call. */
static void read_environment(void)
{
    const char *a = getenv("QMAR_FAULT_ALLOC");
    if (a != NULL && *a != '\0') {
        char *end;
        long long n = strtoll(a, &end, 10);
        if (n > 0 && (*end == '\0' || (end[0] == '+' && end[1] == '\0')))
            arm_alloc(n, *end == '+');
    }
    const char *s = getenv("QMAR_FAULT_STEP");
    if (s != NULL && *s != '\0') {
        char *end;
        long long n = strtoll(s, &end, 10);
        qmar__fault_kind kind = QMAR__FAULT_NONE;
        size_t len = 0;
        if (*end == ':') {
            const char *k = end + 1;
            static const char *const names[] = {"error", "delay", "stop"};
            for (int i = 0; i < 3; i++) {
                size_t l = strlen(names[i]);
                if (strncmp(k, names[i], l) == 0 && (k[l] == '\0' || k[l] == '@')) {
                    kind = (qmar__fault_kind)(i + 1);
                    len = l;
                }
            }
            end = (char *)k + len;
        }
        long rank = -1;
        if (kind != QMAR__FAULT_NONE && *end == '@')
            rank = strtol(end + 1, NULL, 10);
        if (n > 0 && kind != QMAR__FAULT_NONE)
            arm_step(n, kind, (int32_t)rank);
    }
    const char *r = getenv("QMAR_FAULT_REPORT");
    if (r != NULL && strcmp(r, "1") == 0)
        atexit(report_at_exit);
}

static int alloc_fails(void)
{
    pthread_once(&env_once, read_environment);
    int_fast64_t n = atomic_fetch_add(&alloc_seen, 1) + 1;
    int_fast64_t at = atomic_load(&alloc_fail_at);
    int fail = at > 0 && (n == at || (n > at && atomic_load(&alloc_persistent)));
    if (fail)
        atomic_store(&fired, 1);
    return fail;
}

void *qmar__malloc(size_t bytes)
{
    return alloc_fails() ? NULL : malloc(bytes);
}

void *qmar__calloc(size_t count, size_t size)
{
    return alloc_fails() ? NULL : calloc(count, size);
}

void *qmar__realloc(void *p, size_t bytes)
{
    return alloc_fails() ? NULL : realloc(p, bytes);
}

int qmar__memalign(void **p, size_t alignment, size_t bytes)
{
    return alloc_fails() ? ENOMEM : posix_memalign(p, alignment, bytes);
}

static void sleep_ms(int64_t ms)
{
    struct timespec t = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

qmar_status qmar__fault_step(int32_t rank, int64_t timeout_ms, const char *step)
{
    pthread_once(&env_once, read_environment);
    int target = atomic_load(&step_rank);
    if (target >= 0 && target != rank)
        return QMAR_SUCCESS;
    int_fast64_t n = atomic_fetch_add(&step_seen, 1) + 1;
    if (n != atomic_load(&step_fail_at))
        return QMAR_SUCCESS;
    atomic_store(&fired, 1);
    switch ((qmar__fault_kind)atomic_load(&step_kind)) {
    case QMAR__FAULT_DELAY:
        sleep_ms(timeout_ms + 50);
        return QMAR_SUCCESS;
    case QMAR__FAULT_STOP:
        sleep_ms(3 * timeout_ms);
        return qmar__fail(QMAR_ERR_RUNTIME, "collective: rank %d stopped by an injected fault at "
                          "step %lld (%s)", (int)rank, (long long)n, step);
    default:
        return qmar__fail(QMAR_ERR_RUNTIME, "collective: injected fault at step %lld (%s) of rank %d",
                          (long long)n, step, (int)rank);
    }
}

/* The arming itself, also called from read_environment (inside pthread_once: no second once). */
static void arm_alloc(int64_t n, int persistent)
{
    atomic_store(&alloc_persistent, persistent != 0);
    atomic_store(&alloc_seen, 0);
    atomic_store(&fired, 0);
    atomic_store(&alloc_fail_at, n);
}

static void arm_step(int64_t n, qmar__fault_kind kind, int32_t rank)
{
    atomic_store(&step_kind, (int)kind);
    atomic_store(&step_rank, rank);
    atomic_store(&step_seen, 0);
    atomic_store(&fired, 0);
    atomic_store(&step_fail_at, n);
}

void qmar__fault_arm_alloc(int64_t n, int persistent)
{
    pthread_once(&env_once, read_environment);
    arm_alloc(n, persistent);
}

void qmar__fault_arm_step(int64_t n, qmar__fault_kind kind, int32_t rank)
{
    pthread_once(&env_once, read_environment);
    arm_step(n, kind, rank);
}

void qmar__fault_disarm(void)
{
    pthread_once(&env_once, read_environment);
    atomic_store(&alloc_fail_at, 0);
    atomic_store(&step_fail_at, 0);
    atomic_store(&step_rank, -1);
    atomic_store(&alloc_seen, 0);
    atomic_store(&step_seen, 0);
    atomic_store(&fired, 0);
}

int64_t qmar__fault_allocs_seen(void)
{
    return atomic_load(&alloc_seen);
}

int64_t qmar__fault_steps_seen(void)
{
    return atomic_load(&step_seen);
}

int qmar__fault_fired(void)
{
    return atomic_load(&fired);
}
#else
typedef int qmar__fault_injection_not_built; /* ISO C: a translation unit is not empty */
#endif
