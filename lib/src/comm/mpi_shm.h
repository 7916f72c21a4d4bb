/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the MPI backend's shared-memory path, for a group whose ranks all run on one host.
 *
 * The ranks map one shared segment (mpi_shm.c) and exchange through it instead of staging copies
 * through point-to-point messages: each rank writes its data into its own slot, passes a barrier
 * of sequence numbers kept in the segment, and reads its peers' slots directly (mpi_shm_ops.c).
 *
 * Why not MPI_Win_allocate_shared: its allocation and MPI_Win_free are blocking collectives, so a
 * peer that fails between init's steps, or never destroys its endpoint, would hang the others for
 * ever (spec/api.md "Over MPI" item 1). The segment is a memfd made by rank 0 and opened by its
 * peers through /proc/<pid>/fd; every step of that is local or one of init's polled exchanges,
 * and unmapping is local. Nothing is left behind in the file system whatever happens.
 *
 * Layout: a header line (token, geometry, the revoked flag), one cache line per rank (the last
 * barrier it arrived at), then per rank QMAR__SHM_BUFFERS data buffers of `half` bytes. The
 * buffer a rank writes before it arrives at barrier k is buffer k % QMAR__SHM_BUFFERS of its
 * slot; peers read it after passing barrier k until they arrive at k + 1, and the rank writes it
 * again only before barrier k + 4, which it passes only after every peer's arrival at k + 2.
 * So each exchange needs one barrier, not two. */
#ifndef QMAR_SRC_COMM_MPI_SHM_H
#define QMAR_SRC_COMM_MPI_SHM_H
#include <stdatomic.h>
#include <stdint.h>

#include "comm.h"

#define QMAR__SHM_LINE 128u /* two cache lines: adjacent-line prefetch must not share them */

/* Bytes of one data buffer (a rank has QMAR__SHM_BUFFERS). Exchanges larger than this go in
 * rounds; each round costs a barrier (microseconds), so a round should move far more than that:
 * 1 MiB copies take tens of microseconds. Small enough that a group of 8 maps only 32 MiB, pages
 * touched as used (a buffer's pages as far as the exchanges through it reach). */
#define QMAR__SHM_HALF (1u << 20)
/* Data buffers per rank (see the layout above). */
#define QMAR__SHM_BUFFERS 4u

typedef struct qmar__shm_header {
    unsigned char token[16]; /* random: a peer checks it mapped the segment it was told about */
    uint64_t bytes;
    int32_t size;
    uint32_t half;
    atomic_int revoked; /* 1 + the rank that broke the group, or 0 */
} qmar__shm_header;

typedef struct qmar__shm_arrival {
    atomic_uint_fast64_t barrier; /* the last barrier this rank arrived at */
    int32_t vote[2]; /* its outcome vote's flags before barrier k: vote[k & 1] (as the buffers) */
} qmar__shm_arrival;

typedef struct qmar__shm {
    unsigned char *base; /* the mapping */
    uint64_t bytes;
    int32_t size;
    uint64_t seq;   /* barriers this endpoint has arrived at */
    int spin;       /* every rank of the host has a core: a wait polls briefly before it yields */
} qmar__shm;

/* What rank 0 tells its peers (init's all-gather), and what every rank tells the others. */
typedef struct qmar__shm_offer {
    int32_t want;          /* this rank would use the segment (QMAR_MPI_SHM, its host) */
    int32_t pid, fd;       /* rank 0: where its peers open the segment */
    unsigned char token[16];
    char boot_id[40];      /* the kernel's boot id: ranks on one host share it */
} qmar__shm_offer;

static inline qmar__shm_header *qmar__shm_head(const qmar__shm *m)
{
    return (qmar__shm_header *)m->base;
}

static inline qmar__shm_arrival *qmar__shm_arrival_of(const qmar__shm *m, int32_t r)
{
    return (qmar__shm_arrival *)(m->base + QMAR__SHM_LINE * (uint64_t)(1 + r));
}

static inline uint64_t qmar__shm_data_offset(int32_t size)
{
    uint64_t control = QMAR__SHM_LINE * (uint64_t)(1 + size);
    return (control + 4095u) / 4096u * 4096u;
}

/* Rank r's buffer written before barrier k. */
static inline unsigned char *qmar__shm_buffer(const qmar__shm *m, int32_t r, uint64_t k)
{
    return m->base + qmar__shm_data_offset(m->size) +
           ((uint64_t)r * QMAR__SHM_BUFFERS + k % QMAR__SHM_BUFFERS) * QMAR__SHM_HALF;
}

/* Whether this rank wants the shared path: QMAR_MPI_SHM is not "0", every rank of the group is on
 * this host, and the host's boot id is readable (written into offer). */
int qmar__shm_wanted(const qmar_comm *c, qmar__shm_offer *offer);

/* Rank 0: creates the segment for `size` ranks and fills offer's pid, fd and token; the fd stays
 * open (qmar__shm_close_fd) until the peers have opened it. NULL if it cannot. */
qmar__shm *qmar__shm_create(int32_t size, qmar__shm_offer *offer);

/* A peer: opens and maps rank 0's segment, checking its size and token. NULL if it cannot. */
qmar__shm *qmar__shm_attach(int32_t size, const qmar__shm_offer *offer);

void qmar__shm_close_fd(qmar__shm_offer *offer);

/* Unmaps (local: peers keep their own mappings; the memory goes with the last one). */
void qmar__shm_unmap(qmar__shm *m);

/* Marks the group broken in the segment, so that peers waiting at a barrier fail at once. */
void qmar__shm_revoke(qmar__shm *m, int32_t rank);

/* The barrier after this rank wrote its buffer of barrier m->seq + 1: waits until every rank
 * arrived, polling the revoked flag, the MPI revoke notices and the timeout. Fails (and breaks
 * the group) like an exchange of mpi_control.c. */
qmar_status qmar__shm_barrier(qmar_comm *c, const char *what);

/* The outcome vote's exchange (mpi_control.c): this rank's flags ride on its arrival at a
 * barrier; votes[q] gets rank q's. A rank that fails before arriving has not voted. */
qmar_status qmar__shm_vote(qmar_comm *c, int32_t flags, int32_t *votes);

/* Whether the segment says a peer broke the group; if so the endpoint is broken and *st why. */
int qmar__shm_revoked(qmar_comm *c, qmar_status *st);

/* Backend ops of an endpoint on the shared path (mpi_shm_ops.c). */
extern const qmar__backend_ops qmar__mpi_shm_ops;
#endif
