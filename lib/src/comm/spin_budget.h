/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: how long an in-process rank polls at a barrier before it sleeps, calibrated while the
 * group runs. Polling pays when the wait is shorter than what sleeping costs: the time from the
 * barrier's completion to the sleeper running again (a futex wake-up and a reschedule; a few
 * microseconds on bare metal, tens under a hypervisor). Polling for exactly that long at most
 * doubles the cost of a wait it cannot shorten (the classic competitive bound of spin-then-block),
 * so the budget is that cost, measured: every rank that slept reports its wake-up delay, and the
 * budget follows their running mean. */
#ifndef QMAR_SRC_COMM_SPIN_BUDGET_H
#define QMAR_SRC_COMM_SPIN_BUDGET_H
#include <stdint.h>

/* Before the first measurement: the order of a wake-up under a hypervisor. */
#define QMAR__SPIN_NS_INITIAL 20000
/* Bounds on a sample, not tuned values: below 1 us polling is moot (a clock read costs a tenth of
 * that); above 250 us a delay is a preempted rank, not a wake-up, and polling that long would
 * take a quarter millisecond of CPU from whatever preempted it. */
#define QMAR__SPIN_NS_MIN 1000
#define QMAR__SPIN_NS_MAX 250000

/* After the budget (at once, in a group with more ranks than cores), a waiting rank polls on,
 * yielding its CPU between polls, for up to this long before it sleeps (as the MPI backend's
 * shared-memory waits do, mpi_control.c). It replaced a backoff that had a rank sleep at once
 * for up to 63 waits after polls in vain in a row: the rank that is regularly faster polls in
 * vain after every GEMM, so it climbed to the longest backoff and slept through the
 * collective's short barriers too (2 ranks, m = 128, k = 2048, n = 4096, Zen 5: 3 sleeps per
 * Run, each 30-100 us; bench/README.md). */
#define QMAR__YIELD_NS 50000000

/* The budget after one more measured wake-up delay: a running mean with weight 1/8, so one
 * outlier moves it little and a changed machine (a new neighbour) is followed within ~16 waits. */
static inline int64_t qmar__spin_budget_update(int64_t budget, int64_t wake_ns)
{
    if (wake_ns < QMAR__SPIN_NS_MIN)
        wake_ns = QMAR__SPIN_NS_MIN;
    if (wake_ns > QMAR__SPIN_NS_MAX)
        wake_ns = QMAR__SPIN_NS_MAX;
    return budget + (wake_ns - budget) / 8;
}

#endif
