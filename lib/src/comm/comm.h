/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: communicator endpoints, the name registry behind `group`, and the backend interface. */
#ifndef QMAR_SRC_COMM_COMM_H
#define QMAR_SRC_COMM_COMM_H
#include <stdatomic.h>
#include <stdint.h>

#include "qmar/qmar.h"
#include "../collective_math.h"
#include "../scratch.h"

#define QMAR__DEFAULT_TIMEOUT_MS 60000

/* Sizes of what may ride on the agreement (allgather_riding): the agreement's header, and e rows
 * of a decode step (one row of n = 4096 Y values). Beyond a few pages the reduce-scatter of
 * allreduce_y pays, each rank then summing only its share of the rows. */
#define QMAR__RIDE_HEADER_MAX 1024u
#define QMAR__RIDE_PAYLOAD_MAX 8192u

/* Writes this rank's e rows [row0, row0 + rows) (Y bits, n per row) to dst, row after row. */
typedef void (*qmar__produce_rows)(void *arg, int64_t row0, int64_t rows, uint16_t *dst);

/* What a backend (in-process threads, MPI) provides to the endpoints it created. Every
 * collective is called by all ranks of the group, returns QMAR_ERR_RUNTIME on every waiting rank
 * when a peer does not arrive within the endpoint's timeout, and leaves the group broken after a
 * timeout (later collectives fail at once: destroy the group and create a new one). */
typedef struct qmar__backend_ops {
    /* Frees the backend state of one endpoint when its last reference goes. */
    void (*release)(qmar_comm *comm);
    /* Every rank gives len bytes; all receive size*len bytes, in rank order. */
    qmar_status (*allgather)(qmar_comm *comm, const void *mine, uint64_t len, void *all);
    /* Optional (the in-process backend): the agreement's all-gather in one round, with a small
     * payload riding along. Every rank gives hlen <= QMAR__RIDE_HEADER_MAX header bytes (the same
     * hlen on every rank) and plen <= QMAR__RIDE_PAYLOAD_MAX payload bytes (0: none); all receives
     * the headers in rank order and parts[r] points at rank r's payload, which stays readable
     * until this rank's next collective. Read a peer's payload only once its header says that it
     * agrees (its plen is then this rank's). */
    qmar_status (*allgather_riding)(qmar_comm *comm, const void *mine, uint64_t hlen, void *all,
                                    const void *payload, uint64_t plen, const void **parts);
    /* numerics.md §4: e (m x n Y bits, this rank's) -> out (m x n Y bits, the same on every
     * rank): each element summed in fp32 in rank order, rounded once to Y. */
    qmar_status (*allreduce_y)(qmar_comm *comm, const uint16_t *e, uint16_t *out, int64_t m,
                               int64_t n, int32_t y);
    /* Optional (MPI ranks on one host): allreduce_y with the e rows produced straight into the
     * backend's exchange buffer, produced_round_rows rows per call of produce in row order, so
     * that they are neither staged in the workspace nor copied into the buffer. The same bits as
     * allreduce_y; every rank calls it with the same m and n. */
    qmar_status (*allreduce_y_produced)(qmar_comm *comm, qmar__produce_rows produce, void *arg,
                                        uint16_t *out, int64_t m, int64_t n, int32_t y);
    /* With allreduce_y_produced: the rows per call of produce for rows of row_bytes bytes, the
     * same on every rank; 0 when allreduce_y_produced does not take such rows. */
    int64_t (*produced_round_rows)(const qmar_comm *comm, int64_t row_bytes);
    /* numerics.md §5 steps 2-3: q1 (m x n int8, this rank's) -> q2 (m x n int8, all rows, the
     * same on every rank): exact sums over ranks, requantized with ratio[j] (fp32). */
    qmar_status (*lowbit_allreduce)(qmar_comm *comm, const int8_t *q1, int8_t *q2, int64_t m,
                                    int64_t n, const float *ratio);
    /* ULFM's revoke: breaks the group at once, so that every collective of every rank, waiting or
     * later, fails promptly with QMAR_ERR_RUNTIME instead of waiting for the timeout. Called by a
     * rank that fails outside a collective (qmar_comm_revoke). Idempotent, never blocks long. */
    void (*revoke)(qmar_comm *comm);
    /* The last step of every Run (spec/api.md "One outcome"): each rank gives its own outcome of
     * the Run so far. Returns SUCCESS on a rank only if every rank of the group gave SUCCESS;
     * otherwise local itself where it is an error, else QMAR_ERR_RUNTIME with a reason naming a
     * failing rank. A rank that arrives after its peers gave up must never get SUCCESS here.
     * NULL until the backend implements it (Run then ends with its data collectives). */
    qmar_status (*agree_outcome)(qmar_comm *comm, qmar_status local);
} qmar__backend_ops;

/* qmar__chunk (the rows rank r reduces) lives in collective_math.h with its proof. */

struct qmar_comm {
    int32_t rank;
    int32_t size;
    int64_t timeout_ms;
    int32_t local_ranks; /* ranks of the group on this host (they share its cores) */
    char name[QMAR_GROUP_NAME_MAX];
    int32_t refs;      /* the user's handle + one per executor planned on it; registry lock */
    int32_t destroyed; /* the user called qmar_comm_destroy: no longer found by name */
    const qmar__backend_ops *ops;
    void *backend;     /* backend's per-endpoint state */
    qmar_comm *handle; /* what the caller holds (handle.h); set by qmar__comm_register */
    struct qmar__worker *worker; /* Run's helper thread (worker.h), made on first use */
    qmar__scratch scratch;       /* Run's large buffers, kept for the next Run (scratch.h) */
    atomic_int scratch_taken;    /* a Run holds `scratch` (two at once would be a misuse) */
};

/* Timeout for new endpoints: QMAR_COMM_TIMEOUT_MS if it is a positive integer, else the default. */
int64_t qmar__comm_default_timeout_ms(void);

/* Makes the endpoint findable by its name and gives it its handle; its refs start at 1 (the
 * user's handle). */
qmar_status qmar__comm_register(qmar_comm *comm);

/* The handle to give the caller for a registered endpoint (a backend's init returns this, not the
 * endpoint's address; an address still works, without the protection against reuse). */
qmar_comm *qmar__comm_handle(const qmar_comm *comm);

/* Finds the live endpoint named `name` and takes a reference on it; NULL if none. */
qmar_comm *qmar__comm_acquire(const char *name);

/* Drops a reference taken by qmar__comm_acquire; the last one frees the endpoint. */
void qmar__comm_release(qmar_comm *comm);
#endif
