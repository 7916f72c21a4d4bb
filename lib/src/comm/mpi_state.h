/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the MPI backend's per-endpoint state and the messaging layer shared by its files:
 * mpi.c (the collectives), mpi_control.c (tags, polled waits, revoke notices, the outcome vote)
 * and mpi_init.c (qmar_comm_init_mpi).
 *
 * Every message is point to point on qmar's own duplicate of the user's communicator and carries
 * a tag made of the endpoint's Run counter and the step within the Run, so traffic a peer left
 * behind can never match a newer step. A second duplicate carries revoke notices: every wait also
 * polls it, so one rank's failure reaches its peers in about a millisecond instead of their
 * timeout. Run ends with a vote (mpi_agree_outcome): SUCCESS only once every rank has said
 * SUCCESS. spec/api.md "One outcome over MPI" states what this guarantees.
 *
 * When every rank runs on one host, the collectives' data and the vote go through a shared
 * segment instead (mpi_shm.h); the revoke notices stay as above. */
#ifndef QMAR_SRC_COMM_MPI_STATE_H
#define QMAR_SRC_COMM_MPI_STATE_H
#include <mpi.h>
#include <stdint.h>

#include "comm.h"

typedef struct mpi_state {
    MPI_Comm data;        /* duplicate for the collectives' messages and the vote */
    MPI_Comm ctl;         /* duplicate for revoke notices */
    char *stage;          /* every MPI buffer lives here (see qmar__mpi_break) */
    uint64_t stage_cap;
    int broken;           /* a step failed, timed out or was revoked: unusable */
    MPI_Request notice;   /* pre-posted receive of a revoke notice (MPI_REQUEST_NULL: none) */
    int32_t notice_in;    /* its buffer */
    uint32_t run;         /* Runs voted on so far: the generation in every tag */
    uint32_t step;        /* exchanges since the last vote */
    int step_bits;        /* tag = run << step_bits | step field; the last step value is the vote */
    int run_bits;
    double last_send_ms;  /* when this rank last posted data to its peers (the vote uses it) */
    MPI_Request reqs[2 * QMAR_COMM_MAX_RANKS];
    struct qmar__shm *shm; /* the shared segment (mpi_shm.h), or NULL: point to point only */
} mpi_state;

static inline mpi_state *qmar__mpi_state(const qmar_comm *c)
{
    return c->backend;
}

double qmar__mpi_now_ms(void);

/* Sleeps a little while a wait goes on: none for the first 50 ms (transfers progress only inside
 * MPI calls), then growing pauses up to 1 ms (a late peer, not a transfer). */
void qmar__mpi_pause(double waited_ms, long *pause_ns);

/* Sets up tags and posts the receive of revoke notices; called once the duplicates exist. */
void qmar__mpi_control_start(qmar_comm *c);

/* Cancels the receive of revoke notices (before the state is freed). */
void qmar__mpi_control_stop(mpi_state *s);

/* Staging of at least `bytes`, or an error (broken endpoint, out of memory). */
qmar_status qmar__mpi_stage(qmar_comm *c, uint64_t bytes);

/* One step of a collective: this rank sends send_count[q] bytes at send[q] to every rank q and
 * receives recv_count[q] bytes from q into recv[q] (its own part is copied), all under one tag.
 * Buffers must be in the endpoint's staging. Fails (and breaks the group) on an MPI error, the
 * timeout, or a revoke notice. */
qmar_status qmar__mpi_exchange(qmar_comm *c, const char *what, char *const send[],
                               const int send_count[], char *const recv[],
                               const int recv_count[]);

/* Marks the endpoint broken. Requests may still be pending inside MPI, so the staging is
 * abandoned (never freed or reused). tell_peers: also send every peer a revoke notice. */
void qmar__mpi_break(qmar_comm *c, int tell_peers);

/* Sends a revoke notice to every other rank of ctl (also used by init before the state exists). */
void qmar__mpi_notify(MPI_Comm ctl, int32_t rank, int32_t size, int64_t timeout_ms);

/* Whether a peer's revoke notice has arrived; if so the endpoint is broken and *st says why. */
int qmar__mpi_revoked(qmar_comm *c, qmar_status *st);

/* One round of an all-reduce over `rows` rows (a transport's reduce-scatter + all-gather). */
typedef qmar_status (*qmar__mpi_round_fn)(qmar_comm *c, const char *src, char *dst, int64_t rows,
                                          int64_t row_bytes, qmar__chunk_reduce reduce,
                                          const void *ctx);

/* Runs `round` on m rows, per_round (>= 1) at a time; both transports bound a round's bytes. */
qmar_status qmar__mpi_in_rounds(qmar_comm *c, qmar__mpi_round_fn round, int64_t per_round,
                                const char *src, char *dst, int64_t m, int64_t row_bytes,
                                qmar__chunk_reduce reduce, const void *ctx);

/* numerics.md §4/§5 all-reduce over rows by point-to-point exchanges (mpi.c): the shared path
 * falls back to it for rows longer than its buffers. */
qmar_status qmar__mpi_reduce_rows(qmar_comm *c, const char *src, char *dst, int64_t m,
                                  int64_t row_bytes, qmar__chunk_reduce reduce, const void *ctx);

/* Frees the endpoint's backend state (the release op of both tables). */
void qmar__mpi_release(qmar_comm *c);

/* Init's shared-memory step (mpi_shm_init.c): decides with the peers whether the group uses a
 * shared segment and, if so, maps it and switches the endpoint to the shared ops. Fails only
 * when an exchange fails (init then fails); a segment that cannot be made means point to point. */
qmar_status qmar__mpi_shm_setup(qmar_comm *c);

/* The error of a collective on a broken endpoint. */
qmar_status qmar__mpi_broken_error(const qmar_comm *c);

/* Backend ops (comm.h): mpi.c's table, and the two that live in mpi_control.c. */
extern const qmar__backend_ops qmar__mpi_ops;
void qmar__mpi_revoke(qmar_comm *c);
qmar_status qmar__mpi_agree_outcome(qmar_comm *c, qmar_status local);
#endif
