/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* glibc's adaptive mutex (init_lock) */
/* The in-process communicator: one group shared by nranks endpoints, each driven by a thread.
 * Collectives read peers' buffers directly (shared memory) between timed barriers. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../fault.h"
#include "../collective_math.h"
#include "../error.h"
#include "comm.h"
#include "inproc.h"
#include "spin_budget.h"

static atomic_uint_fast64_t next_group_id;

static qmar__inproc_group *group_of(const qmar_comm *comm)
{
    return comm->backend;
}

static struct timespec deadline_after(int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* Caller holds g->lock: whether a rank other than me may be reading posted buffers. */
static int peers_reading(const qmar__inproc_group *g, int32_t me)
{
    int busy = 0;
    for (int32_t r = 0; r < g->size; r++)
        busy |= r != me && g->reading[r];
    return busy;
}

/* Caller holds g->lock: breaks the group, waking every waiting rank with the error. */
static void break_locked(qmar__inproc_group *g)
{
    g->broken = 1;
    pthread_cond_broadcast(&g->changed);
}

/* Cleanup handler of the waits (spec/api.md "Cancellation and fork"): Run makes itself no
 * cancellation point, but should a wait ever be cancelled, the rank leaves its group consistent:
 * it reads nothing any more, the group is broken (its peers fail at once instead of waiting for
 * a rank that is gone) and the lock is released. */
static void abandon_wait(void *arg)
{
    const qmar_comm *comm = arg;
    qmar__inproc_group *g = group_of(comm);
    g->reading[comm->rank] = 0;
    break_locked(g);
    pthread_mutex_unlock(&g->lock);
}

/* Caller holds g->lock: waits until no other rank is reading posted buffers. Readers only copy
 * (bounded work) before they arrive at their next barrier, so this wait always ends. */
static void wait_for_readers(qmar_comm *comm)
{
    qmar__inproc_group *g = group_of(comm);
    pthread_cleanup_push(abandon_wait, comm);
    while (peers_reading(g, comm->rank))
        pthread_cond_wait(&g->changed, &g->lock);
    pthread_cleanup_pop(0);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Without the lock: polls until the barrier of generation gen completes or the group breaks,
 * for at most budget_ns, pausing (or yielding the CPU) between polls; returns whether it did. */
static int spin_briefly(const qmar__inproc_group *g, uint64_t gen, int64_t budget_ns, int yield)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (atomic_load_explicit(&g->generation, memory_order_acquire) != gen ||
            atomic_load_explicit(&g->broken, memory_order_acquire))
            return 1;
        if (yield)
            sched_yield();
        else
            cpu_relax();
        if (yield || i % 64 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) > budget_ns)
                return 0;
        }
    }
}

/* Caller holds g->lock, and has arrived at a barrier that is not complete: polls before the
 * caller sleeps. Where every rank has a core (g->spin), first without yielding for the group's
 * budget (spin_budget.h: the measured cost of a wake-up); then, in any group, yielding the CPU
 * between polls for up to QMAR__YIELD_NS or the endpoint's timeout. A sleeper costs its peer a
 * futex wake-up and itself a reschedule, tens of microseconds each under a hypervisor, and a Run
 * waits at least once for the slowest rank's GEMM, while a yielding poller gives its CPU to any
 * thread that wants it: in a group with more ranks than cores, to the very ranks it waits for
 * (8 ranks on 2 cores, m = 1: 266-338 us a call with sleeping waits, 25-41 us with yielding ones;
 * bench/README.md).
 * Returns 1, the lock released, when the barrier completed while it polled: taking the lock again
 * would only queue behind the rank that completed it, or its next step, for nothing (a barrier
 * that completed is passed). Else returns 0 with the lock held. */
static int completed_while_polling(qmar__inproc_group *g, uint64_t gen, int64_t timeout_ms)
{
    if (g->broken)
        return 0;
    int64_t budget_ns = g->spin ? g->spin_ns : 0;
    int64_t yield_ns = timeout_ms < QMAR__YIELD_NS / 1000000 ? timeout_ms * 1000000
                                                              : QMAR__YIELD_NS;
    pthread_mutex_unlock(&g->lock);
    int done = (budget_ns > 0 && spin_briefly(g, gen, budget_ns, 0)) ||
               spin_briefly(g, gen, yield_ns, 1);
    /* acquire: what the ranks wrote before they arrived happens before this rank goes on */
    if (done && atomic_load_explicit(&g->generation, memory_order_acquire) != gen)
        return 1;
    pthread_mutex_lock(&g->lock);
    return 0;
}

/* The step's fault hook (fault.h), which may sleep (delay, stop): not while holding the lock.
 * Compiled out of release builds, with the extra unlock. */
static qmar_status fault_step(qmar_comm *comm, qmar__inproc_group *g)
{
#ifdef QMAR_FAULT_INJECTION
    pthread_mutex_unlock(&g->lock);
    qmar_status st = qmar__fault_step(comm->rank, comm->timeout_ms, "in-process barrier");
    pthread_mutex_lock(&g->lock);
    return st;
#else
    (void)g;
    return qmar__fault_step(comm->rank, comm->timeout_ms, "in-process barrier");
#endif
}

/* Waits until every rank has arrived, or the endpoint's timeout passes (the group then breaks,
 * waking every waiting rank with the error). A rank that fails this step (qmar__fault_step)
 * breaks the group too, so its peers fail at once instead of at their timeout. */
static qmar_status barrier(qmar_comm *comm)
{
    qmar__inproc_group *g = group_of(comm);
    pthread_mutex_lock(&g->lock);
    g->reading[comm->rank] = 0; /* arriving: done with the peers' buffers */
    pthread_cond_broadcast(&g->changed);
    /* after clearing `reading`: a rank stopped here must not hold its failing peers back */
    qmar_status fault = fault_step(comm, g);
    struct timespec deadline = deadline_after(comm->timeout_ms);
    if (fault != QMAR_SUCCESS) {
        break_locked(g);
        wait_for_readers(comm);
        pthread_mutex_unlock(&g->lock);
        return fault; /* its reason was recorded by qmar__fault_step */
    }
    uint64_t gen = g->generation;
    int timed_out = 0, last = 0;
    if (!g->broken && ++g->arrived == g->size) {
        last = 1;
        g->arrived = 0;
        g->generation++;
        g->completed_ns = now_ns();
        /* every rank may read from now on, even one that has not woken up yet: a peer that
         * fails at the next barrier before it wakes must still wait for it */
        for (int32_t r = 0; r < g->size; r++)
            g->reading[r] = 1;
        pthread_cond_broadcast(&g->changed);
    }
    if (!last && completed_while_polling(g, gen, comm->timeout_ms))
        return QMAR_SUCCESS;
    int slept = 0; /* outside the block pthread_cleanup_push opens */
    pthread_cleanup_push(abandon_wait, comm);
    while (!g->broken && g->generation == gen) {
        slept = 1;
        if (pthread_cond_timedwait(&g->changed, &g->lock, &deadline) == ETIMEDOUT &&
            g->generation == gen && !g->broken) {
            timed_out = 1;
            break_locked(g);
        }
    }
    pthread_cleanup_pop(0);
    int ok = g->generation != gen;
    g->sleeps += slept;
    /* completed_ns is still this barrier's: the next one cannot complete without this rank */
    if (ok && slept && g->spin)
        g->spin_ns = qmar__spin_budget_update(g->spin_ns, now_ns() - g->completed_ns);
    if (!ok) {
        g->arrived = 0; /* the group is broken: nobody counts arrivals any more */
        wait_for_readers(comm);
    }
    pthread_mutex_unlock(&g->lock);
    if (ok)
        return QMAR_SUCCESS;
    if (!timed_out)
        return qmar__fail(QMAR_ERR_RUNTIME,
                          "collective: rank %d: its group of %d ranks is broken (a peer failed, "
                          "timed out or revoked it; destroy the group and create a new one)",
                          (int)comm->rank, (int)comm->size);
    return qmar__fail(QMAR_ERR_RUNTIME,
                      "collective: rank %d waited %lld ms for its peers (group of %d ranks is now "
                      "broken; destroy it and create a new one)",
                      (int)comm->rank, (long long)comm->timeout_ms, (int)comm->size);
}

/* The end of a collective: this rank reads no peer's buffers any more. */
static qmar_status end_reads(qmar_comm *comm, qmar_status st)
{
    qmar__inproc_group *g = group_of(comm);
    pthread_mutex_lock(&g->lock);
    g->reading[comm->rank] = 0;
    pthread_cond_broadcast(&g->changed);
    pthread_mutex_unlock(&g->lock);
    return st;
}

static void post(qmar_comm *comm, const void *a, const void *b)
{
    qmar__inproc_group *g = group_of(comm);
    pthread_mutex_lock(&g->lock);
    g->posted[comm->rank][0] = a;
    g->posted[comm->rank][1] = b;
    pthread_mutex_unlock(&g->lock);
}

static qmar_status inproc_allgather(qmar_comm *comm, const void *mine, uint64_t len, void *all)
{
    qmar__inproc_group *g = group_of(comm);
    post(comm, mine, NULL);
    qmar_status st = barrier(comm);
    if (st != QMAR_SUCCESS)
        return st;
    for (int32_t r = 0; r < g->size; r++)
        memcpy((char *)all + (uint64_t)r * len, g->posted[r][0], len);
    return end_reads(comm, barrier(comm)); /* nobody reuses `mine` while a peer may copy it */
}

static unsigned char *ride_slot(const qmar__inproc_group *g, uint64_t barrier_no, int32_t r)
{
    return g->ride + ((barrier_no & 1u) * (uint64_t)g->size + (uint64_t)r) * QMAR__INPROC_RIDE_SLOT;
}

/* One barrier instead of allgather's two: the header and payload are copied into the group's slot
 * of the coming barrier, which no peer reads or writes before it (inproc.h). */
static qmar_status inproc_allgather_riding(qmar_comm *comm, const void *mine, uint64_t hlen,
                                           void *all, const void *payload, uint64_t plen,
                                           const void **parts)
{
    qmar__inproc_group *g = group_of(comm);
    /* the barriers completed so far, i.e. the number of the coming one: it cannot complete (and
     * the count move) before this rank arrives */
    uint64_t barrier_no = atomic_load_explicit(&g->generation, memory_order_relaxed);
    unsigned char *slot = ride_slot(g, barrier_no, comm->rank);
    memcpy(slot, mine, hlen);
    if (plen > 0)
        memcpy(slot + QMAR__RIDE_HEADER_MAX, payload, plen);
    qmar_status st = barrier(comm);
    if (st != QMAR_SUCCESS)
        return st;
    for (int32_t r = 0; r < g->size; r++) {
        const unsigned char *theirs = ride_slot(g, barrier_no, r);
        memcpy((char *)all + (uint64_t)r * hlen, theirs, hlen);
        parts[r] = theirs + QMAR__RIDE_HEADER_MAX;
    }
    /* the slots need no `reading` guard (see above); a peer failing later must not wait for us */
    return end_reads(comm, QMAR_SUCCESS);
}

/* Copies every other rank's chunk of its posted[.][1] matrix into mine (the all-gather). */
static void gather_chunks(qmar_comm *comm, void *mine, int64_t m, int64_t row_bytes)
{
    qmar__inproc_group *g = group_of(comm);
    for (int32_t r = 0; r < g->size; r++) {
        int64_t lo, hi;
        qmar__chunk(m, g->size, r, &lo, &hi);
        if (r != comm->rank && hi > lo)
            memcpy((char *)mine + lo * row_bytes, (const char *)g->posted[r][1] + lo * row_bytes,
                   (size_t)((hi - lo) * row_bytes));
    }
}

/* Reduce-scatter then all-gather through shared memory: each rank reduces its chunk of rows from
 * every rank's src straight into its own dst, then copies the other chunks from its peers' dst. */
static qmar_status reduce_rows(qmar_comm *comm, const char *src, char *dst, int64_t m,
                               int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx)
{
    qmar__inproc_group *g = group_of(comm);
    post(comm, src, dst);
    qmar_status st = barrier(comm);
    if (st != QMAR_SUCCESS)
        return st;
    int64_t lo, hi;
    qmar__chunk(m, g->size, comm->rank, &lo, &hi);
    const char *parts[QMAR_COMM_MAX_RANKS];
    for (int32_t r = 0; r < g->size; r++)
        parts[r] = (const char *)g->posted[r][0] + lo * row_bytes;
    reduce(parts, g->size, hi - lo, ctx, dst + lo * row_bytes);
    if ((st = barrier(comm)) != QMAR_SUCCESS)
        return st;
    gather_chunks(comm, dst, m, row_bytes);
    return end_reads(comm, barrier(comm)); /* peers may still be copying from dst */
}

static qmar_status inproc_allreduce_y(qmar_comm *comm, const uint16_t *e, uint16_t *out,
                                      int64_t m, int64_t n, int32_t y)
{
    qmar__y_reduce_ctx ctx = {n, y};
    return reduce_rows(comm, (const char *)e, (char *)out, m, n * 2, qmar__reduce_y_chunk, &ctx);
}

static qmar_status inproc_lowbit_allreduce(qmar_comm *comm, const int8_t *q1, int8_t *q2,
                                           int64_t m, int64_t n, const float *ratio)
{
    qmar__lowbit_ctx ctx = {n, ratio};
    return reduce_rows(comm, (const char *)q1, (char *)q2, m, n, qmar__sum_requant_chunk, &ctx);
}

static void inproc_revoke(qmar_comm *comm)
{
    qmar__inproc_group *g = group_of(comm);
    pthread_mutex_lock(&g->lock);
    break_locked(g);
    pthread_mutex_unlock(&g->lock);
}

static void inproc_release(qmar_comm *comm)
{
    qmar__inproc_group *g = group_of(comm);
    pthread_mutex_lock(&g->lock);
    int last = --g->endpoints == 0;
    pthread_mutex_unlock(&g->lock);
    if (last) {
        pthread_cond_destroy(&g->changed);
        pthread_mutex_destroy(&g->lock);
        free(g->ride);
        free(g);
    }
}

static const qmar__backend_ops inproc_ops = {
    .release = inproc_release,
    .allgather = inproc_allgather,
    .allgather_riding = inproc_allgather_riding,
    .allreduce_y = inproc_allreduce_y,
    .lowbit_allreduce = inproc_lowbit_allreduce,
    .revoke = inproc_revoke,
};

/* The group's lock is held for a few dozen instructions at a time, often by ranks that arrive at
 * or leave the same barrier together: a contended plain mutex puts the later one to sleep in the
 * kernel, the wake-up (tens of microseconds on a VM) that polling at the barrier avoids. glibc's
 * adaptive mutex polls a little first, so the lock changes hands without a sleep (bench_latency,
 * 2 ranks at m = 1 on a Zen 5 VM: 6.5-11 us per call against 13-23 us with both changes of
 * this commit undone; one rank: 2.6-3.8 us). */
static int init_lock(pthread_mutex_t *lock)
{
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_t attr;
    if (pthread_mutexattr_init(&attr) != 0)
        return -1;
    int rc = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    rc = rc ? rc : pthread_mutex_init(lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc;
#else
    return pthread_mutex_init(lock, NULL);
#endif
}

static qmar__inproc_group *group_create(int32_t nranks)
{
    qmar__inproc_group *g = qmar__calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->ride = qmar__malloc(2u * (size_t)nranks * QMAR__INPROC_RIDE_SLOT);
    if (g->ride == NULL) {
        free(g);
        return NULL;
    }
    pthread_condattr_t attr;
    int ok = pthread_condattr_init(&attr) == 0;
    ok = ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
    ok = ok && pthread_cond_init(&g->changed, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok || init_lock(&g->lock) != 0) {
        if (ok)
            pthread_cond_destroy(&g->changed);
        free(g->ride);
        free(g);
        return NULL;
    }
    g->size = nranks;
    g->spin = sysconf(_SC_NPROCESSORS_ONLN) >= nranks;
    g->spin_ns = QMAR__SPIN_NS_INITIAL;
    return g;
}

static void group_free(qmar__inproc_group *g)
{
    pthread_cond_destroy(&g->changed);
    pthread_mutex_destroy(&g->lock);
    free(g->ride);
    free(g);
}

/* Undoes a partly built init_all: the first `made` endpoints are registered and own the group. */
static void unwind(qmar_comm **comms, int32_t made, qmar__inproc_group *g)
{
    for (int32_t r = 0; r < made; r++) {
        qmar_comm_destroy(comms[r]);
        comms[r] = NULL;
    }
    if (made == 0)
        group_free(g);
}

static qmar_comm *endpoint_create(qmar__inproc_group *g, uint64_t id, int32_t rank,
                                  int64_t timeout)
{
    qmar_comm *c = qmar__calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->rank = rank;
    c->size = g->size;
    c->local_ranks = g->size;
    c->timeout_ms = timeout;
    snprintf(c->name, sizeof c->name, "qmar-inproc-g%llu-r%d", (unsigned long long)id, (int)rank);
    c->ops = &inproc_ops;
    c->backend = g;
    return c;
}

qmar_status qmar_comm_init_all(int32_t nranks, qmar_comm **comms)
{
    if (comms == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "comm_init_all: comms is NULL");
    if (nranks < 1 || nranks > QMAR_COMM_MAX_RANKS)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "comm_init_all: nranks %d not in 1..%d",
                          (int)nranks, QMAR_COMM_MAX_RANKS);
    qmar__inproc_group *g = group_create(nranks);
    if (g == NULL)
        return qmar__fail(QMAR_ERR_INNER, "comm_init_all: out of memory");
    uint64_t id = atomic_fetch_add(&next_group_id, 1);
    int64_t timeout = qmar__comm_default_timeout_ms();
    for (int32_t r = 0; r < nranks; r++) {
        qmar_comm *c = endpoint_create(g, id, r, timeout);
        if (c == NULL) {
            unwind(comms, r, g);
            return qmar__fail(QMAR_ERR_INNER, "comm_init_all: out of memory");
        }
        g->endpoints++;
        qmar_status st = qmar__comm_register(c);
        if (st != QMAR_SUCCESS) {
            g->endpoints--;
            free(c);
            unwind(comms, r, g);
            return st;
        }
        comms[r] = qmar__comm_handle(c);
    }
    return QMAR_SUCCESS;
}
