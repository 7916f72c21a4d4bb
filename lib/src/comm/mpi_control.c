/* SPDX-License-Identifier: Apache-2.0 */
/* The MPI backend's messaging layer (mpi_state.h): generation-tagged exchanges polled against the
 * timeout, revoke notices, and the outcome vote that ends every Run. */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../error.h"
#include "../fault.h"
#include "mpi_shm.h"
#include "mpi_state.h"

#define NOTICE_TAG 0 /* the only tag on the control duplicate */
#define VOTE_LATE 1  /* vote flag: this rank was nearly a timeout late (see agree_outcome) */

static const int32_t notice_payload = 1; /* static: an abandoned send may still read it */

double qmar__mpi_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

void qmar__mpi_pause(double waited_ms, long *pause_ns)
{
    if (waited_ms < 50.0) {
        sched_yield();
        return;
    }
    nanosleep(&(struct timespec){0, *pause_ns}, NULL);
    *pause_ns = *pause_ns < 1000000 ? *pause_ns * 2 : *pause_ns;
}

void qmar__mpi_control_start(qmar_comm *c)
{
    mpi_state *s = qmar__mpi_state(c);
    int *tag_ub = NULL, flag = 0, bits = 15; /* MPI guarantees tags up to 32767 */
    if (MPI_Comm_get_attr(s->data, MPI_TAG_UB, &tag_ub, &flag) == MPI_SUCCESS && flag)
        while (bits < 30 && (1L << (bits + 1)) - 1 <= (long)*tag_ub)
            bits++;
    s->step_bits = bits / 2;
    s->run_bits = bits - s->step_bits;
    s->last_send_ms = qmar__mpi_now_ms();
    if (MPI_Irecv(&s->notice_in, 1, MPI_INT32_T, MPI_ANY_SOURCE, NOTICE_TAG, s->ctl, &s->notice) !=
        MPI_SUCCESS)
        s->notice = MPI_REQUEST_NULL; /* peers' failures then reach this rank at its timeout */
}

void qmar__mpi_control_stop(mpi_state *s)
{
    if (s->notice == MPI_REQUEST_NULL)
        return;
    MPI_Cancel(&s->notice); /* a 4-byte receive: cancelled, or already complete */
    MPI_Wait(&s->notice, MPI_STATUS_IGNORE);
}

qmar_status qmar__mpi_broken_error(const qmar_comm *c)
{
    return qmar__fail(QMAR_ERR_RUNTIME,
                      "collective: MPI endpoint of rank %d is broken by an earlier failure; "
                      "destroy it and create a new one", (int)c->rank);
}

void qmar__mpi_notify(MPI_Comm ctl, int32_t rank, int32_t size, int64_t timeout_ms)
{
    for (int32_t q = 0; q < size; q++) {
        MPI_Request r;
        if (q == rank || qmar__fault_step(rank, timeout_ms, "revoke notice") != QMAR_SUCCESS)
            continue;
        /* Never waited for: a dead peer must not hold this rank up. */
        if (MPI_Isend(&notice_payload, 1, MPI_INT32_T, q, NOTICE_TAG, ctl, &r) == MPI_SUCCESS)
            MPI_Request_free(&r);
    }
}

void qmar__mpi_break(qmar_comm *c, int tell_peers)
{
    mpi_state *s = qmar__mpi_state(c);
    if (s->broken)
        return;
    s->broken = 1;
    if (s->shm != NULL && tell_peers) /* peers waiting at a shared barrier see it at once */
        qmar__shm_revoke(s->shm, c->rank);
    s->stage = NULL; /* abandoned: a pending request may still read or write it */
    s->stage_cap = 0;
    if (tell_peers)
        qmar__mpi_notify(s->ctl, c->rank, c->size, c->timeout_ms);
}

int qmar__mpi_revoked(qmar_comm *c, qmar_status *st)
{
    mpi_state *s = qmar__mpi_state(c);
    int arrived = 0;
    MPI_Status status;
    if (s->notice == MPI_REQUEST_NULL ||
        MPI_Test(&s->notice, &arrived, &status) != MPI_SUCCESS || !arrived)
        return 0;
    qmar__mpi_break(c, 0);
    *st = qmar__fail(QMAR_ERR_RUNTIME,
                     "collective: rank %d failed or revoked the group (noticed by rank %d)",
                     (int)status.MPI_SOURCE, (int)c->rank);
    return 1;
}

static qmar_status local_failure(qmar_comm *c, qmar_status st)
{
    qmar__mpi_break(c, 1);
    return st;
}

qmar_status qmar__mpi_stage(qmar_comm *c, uint64_t bytes)
{
    mpi_state *s = qmar__mpi_state(c);
    if (s->broken)
        return qmar__mpi_broken_error(c);
    if (bytes <= s->stage_cap)
        return QMAR_SUCCESS;
    char *grown = qmar__realloc(s->stage, bytes);
    if (grown == NULL)
        return local_failure(c, qmar__fail(QMAR_ERR_INNER, "collective: out of memory for %llu "
                                           "bytes of staging on rank %d",
                                           (unsigned long long)bytes, (int)c->rank));
    s->stage = grown;
    s->stage_cap = bytes;
    return QMAR_SUCCESS;
}

/* Polls the n requests of s->reqs until they complete, a revoke notice arrives, or the timeout. */
static qmar_status wait_all(qmar_comm *c, int n, const char *what)
{
    mpi_state *s = qmar__mpi_state(c);
    char label[64];
    snprintf(label, sizeof label, "%s: wait", what);
    qmar_status st = qmar__fault_step(c->rank, c->timeout_ms, label);
    if (st != QMAR_SUCCESS)
        return local_failure(c, st);
    double start = qmar__mpi_now_ms(), deadline = start + (double)c->timeout_ms;
    long pause_ns = 10000;
    for (;;) {
        /* Completion first: a step whose data all arrived stands; a revoke shows at the next
         * step or at the vote, so no Run it breaks can succeed. */
        int done = 0;
        int rc = MPI_Testall(n, s->reqs, &done, MPI_STATUSES_IGNORE);
        if (rc != MPI_SUCCESS)
            return local_failure(c, qmar__fail(QMAR_ERR_RUNTIME, "collective: %s failed on rank "
                                               "%d (MPI error %d)", what, (int)c->rank, rc));
        if (done)
            return QMAR_SUCCESS;
        if (qmar__mpi_revoked(c, &st))
            return st;
        double t = qmar__mpi_now_ms();
        if (t > deadline)
            return local_failure(c, qmar__fail(QMAR_ERR_RUNTIME,
                                               "collective: rank %d waited %lld ms for its peers "
                                               "in %s (the group is now broken)", (int)c->rank,
                                               (long long)c->timeout_ms, what));
        qmar__mpi_pause(t - start, &pause_ns);
    }
}

static int tag_of(const mpi_state *s, uint32_t field)
{
    uint32_t run = s->run & ((1u << s->run_bits) - 1u);
    return (int)(run << s->step_bits | field);
}

static qmar_status exchange_tagged(qmar_comm *c, const char *what, int tag, char *const send[],
                                   const int send_count[], char *const recv[],
                                   const int recv_count[])
{
    mpi_state *s = qmar__mpi_state(c);
    qmar_status st;
    if (s->broken)
        return qmar__mpi_broken_error(c);
    if (qmar__mpi_revoked(c, &st))
        return st;
    char label[64];
    snprintf(label, sizeof label, "%s: send/receive", what);
    if ((st = qmar__fault_step(c->rank, c->timeout_ms, label)) != QMAR_SUCCESS)
        return local_failure(c, st);
    int n = 0, rc = MPI_SUCCESS;
    for (int32_t q = 0; q < c->size && rc == MPI_SUCCESS; q++)
        if (q != c->rank)
            rc = MPI_Irecv(recv[q], recv_count[q], MPI_BYTE, q, tag, s->data, &s->reqs[n++]);
    for (int32_t q = 0; q < c->size && rc == MPI_SUCCESS; q++)
        if (q != c->rank)
            rc = MPI_Isend(send[q], send_count[q], MPI_BYTE, q, tag, s->data, &s->reqs[n++]);
    if (rc != MPI_SUCCESS) /* what was posted stays pending: abandoned with the staging */
        return local_failure(c, qmar__fail(QMAR_ERR_RUNTIME, "collective: posting %s failed on "
                                           "rank %d (MPI error %d)", what, (int)c->rank, rc));
    s->last_send_ms = qmar__mpi_now_ms();
    memcpy(recv[c->rank], send[c->rank], (size_t)recv_count[c->rank]);
    return wait_all(c, n, what);
}

qmar_status qmar__mpi_exchange(qmar_comm *c, const char *what, char *const send[],
                               const int send_count[], char *const recv[], const int recv_count[])
{
    mpi_state *s = qmar__mpi_state(c);
    uint32_t vote_field = (1u << s->step_bits) - 1u; /* step fields wrap below it */
    int tag = tag_of(s, s->step % vote_field);
    s->step++;
    return exchange_tagged(c, what, tag, send, send_count, recv, recv_count);
}

void qmar__mpi_revoke(qmar_comm *c)
{
    qmar__mpi_break(c, 1);
}

/* A revoke notice, or (shared path) the segment's flag: if so the endpoint is broken. */
static int revoked_anywhere(qmar_comm *c, qmar_status *st)
{
    return qmar__mpi_revoked(c, st) ||
           (qmar__mpi_state(c)->shm != NULL && qmar__shm_revoked(c, st));
}

/* Waits up to ms for a revoke notice; returns its error, or SUCCESS if none came. */
static qmar_status linger(qmar_comm *c, double ms)
{
    double start = qmar__mpi_now_ms();
    long pause_ns = 10000;
    qmar_status st;
    for (double t = start; t - start < ms; t = qmar__mpi_now_ms()) {
        if (revoked_anywhere(c, &st))
            return st;
        qmar__mpi_pause(t - start + 50.0, &pause_ns); /* sleep at once: nothing to progress */
    }
    return revoked_anywhere(c, &st) ? st : QMAR_SUCCESS;
}

/* This rank's SUCCESS vote has left, then its wait for the others' failed: say so. */
static qmar_status voted_then_failed(const qmar_comm *c, qmar_status st)
{
    char why[200];
    snprintf(why, sizeof why, "%s", qmar_last_error());
    return qmar__fail(st, "%s; rank %d had already voted SUCCESS: its peers may have completed "
                      "this Run", why, (int)c->rank);
}

/* The point-to-point votes: every rank's late flag, in rank order. */
static qmar_status p2p_votes(qmar_comm *c, int32_t late, int32_t *votes)
{
    mpi_state *s = qmar__mpi_state(c);
    qmar_status st = qmar__mpi_stage(c, 4 * ((uint64_t)c->size + 1));
    if (st != QMAR_SUCCESS)
        return st;
    char *send[QMAR_COMM_MAX_RANKS], *recv[QMAR_COMM_MAX_RANKS];
    int count[QMAR_COMM_MAX_RANKS];
    memcpy(s->stage, &late, 4);
    for (int32_t q = 0; q < c->size; q++) {
        send[q] = s->stage;
        recv[q] = s->stage + 4 + 4 * q;
        count[q] = 4;
    }
    st = exchange_tagged(c, "outcome vote", tag_of(s, (1u << s->step_bits) - 1u), send, count,
                         recv, count);
    for (int32_t q = 0; st == QMAR_SUCCESS && q < c->size; q++)
        memcpy(&votes[q], recv[q], 4);
    return st;
}

/* The vote (comm.h agree_outcome). A rank with a local failure votes by revoking. Otherwise every
 * rank sends SUCCESS to every other and waits for all of theirs. A peer that gives up on this vote
 * does so because some rank's vote came later than the peer's timeout after that rank's last data
 * (the peer needed those data to reach the vote); such a rank marks its vote late, and every rank
 * that sees a late vote lingers `margin` ms for a revoke notice before it reports SUCCESS. On the
 * shared path (mpi_shm.h) a vote is an arrival at a barrier of the segment, carrying the flag. */
qmar_status qmar__mpi_agree_outcome(qmar_comm *c, qmar_status local)
{
    mpi_state *s = qmar__mpi_state(c);
    if (local != QMAR_SUCCESS) {
        qmar__mpi_break(c, 1);
        return local;
    }
    if (s->broken)
        return qmar__mpi_broken_error(c);
    double timeout = (double)c->timeout_ms, margin = timeout / 4 < 100 ? timeout / 4 : 100;
    int32_t late = qmar__mpi_now_ms() - s->last_send_ms > timeout - margin;
    int32_t votes[QMAR_COMM_MAX_RANKS];
    double posted_before = s->last_send_ms;
    qmar_status st = s->shm != NULL ? qmar__shm_vote(c, late, votes) : p2p_votes(c, late, votes);
    if (st != QMAR_SUCCESS && s->last_send_ms != posted_before) /* spec/api.md: the window */
        return voted_then_failed(c, st);
    if (st != QMAR_SUCCESS)
        return st;
    for (int32_t q = 0; q < c->size; q++)
        late |= votes[q] & VOTE_LATE;
    if (late && (st = linger(c, margin)) != QMAR_SUCCESS)
        return st;
    if (revoked_anywhere(c, &st))
        return st;
    s->run++;
    s->step = 0;
    return QMAR_SUCCESS;
}
