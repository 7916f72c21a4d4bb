/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the in-process backend, ranks being threads of one process. */
#ifndef QMAR_SRC_COMM_INPROC_H
#define QMAR_SRC_COMM_INPROC_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "qmar/qmar.h"
#include "comm.h"

/* State shared by the endpoints of one in-process group. Collectives exchange pointers: each rank
 * posts its buffers, passes a barrier, reads its peers' buffers, and passes another barrier
 * before anyone may reuse them. */
#define QMAR__INPROC_RIDE_SLOT (QMAR__RIDE_HEADER_MAX + QMAR__RIDE_PAYLOAD_MAX)

typedef struct qmar__inproc_group {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* on CLOCK_MONOTONIC, so timeouts ignore wall-clock jumps */
    int32_t size;
    int32_t endpoints;   /* endpoints still referencing this group */
    int32_t arrived;     /* ranks waiting at the current barrier */
    /* Written under lock; atomic so that a waiting rank may also poll them without it (spin). */
    atomic_uint_fast64_t generation; /* barriers completed */
    atomic_int broken;   /* a barrier timed out: every later collective fails at once */
    int32_t spin;        /* ranks fit the cores: a waiting rank polls without yielding first */
    int64_t spin_ns;      /* how long a waiting rank polls (spin_budget.h), calibrated by ... */
    int64_t completed_ns; /* ... the wake-up delays after the last completed barrier (this time) */
    int64_t sleeps;       /* waits that ended asleep, all ranks (tests/test_spin_budget.c) */
    const void *posted[QMAR_COMM_MAX_RANKS][2];
    /* reading[r]: rank r passed a barrier and may be reading its peers' posted buffers until it
     * arrives at the next barrier or its collective ends. A rank that leaves a collective on a
     * failure waits until no peer reads, so its caller may free what it posted. */
    int32_t reading[QMAR_COMM_MAX_RANKS];
    /* allgather_riding's slots, QMAR__INPROC_RIDE_SLOT bytes each: ride + (parity * size + r) *
     * slot is what rank r posts before barrier number 2k + parity. A rank reads the slots of a
     * barrier until it arrives at the next one; nobody writes them again before the one after it
     * (which needs that arrival), so no extra barrier guards them. */
    unsigned char *ride;
} qmar__inproc_group;
#endif
