/* SPDX-License-Identifier: Apache-2.0 */
/* Init's shared-memory step (mpi_state.h qmar__mpi_shm_setup): rank 0 makes the segment, every
 * rank says whether it wants it, the peers open it, and every rank says whether that worked. Both
 * rounds are init's polled all-gathers, so a peer that fails or stops costs at most the timeout;
 * the group takes the shared path only if every rank mapped the segment, else point to point. */
#include <stdlib.h>
#include <string.h>

#include "../error.h"
#include "../fault.h"
#include "mpi_shm.h"
#include "mpi_state.h"

/* Whether every rank wants the segment, on one boot of one kernel. */
static int everyone_wants(const qmar__shm_offer *all, int32_t size)
{
    int use = 1;
    for (int32_t r = 0; r < size; r++)
        use &= all[r].want && memcmp(all[r].boot_id, all[0].boot_id, sizeof all[0].boot_id) == 0;
    return use;
}

/* The second round: whether every rank mapped the segment. */
static qmar_status everyone_attached(qmar_comm *c, int32_t mine, int *all_did)
{
    int32_t every[QMAR_COMM_MAX_RANKS];
    qmar_status st = qmar__mpi_ops.allgather(c, &mine, sizeof mine, every);
    *all_did = st == QMAR_SUCCESS;
    for (int32_t r = 0; st == QMAR_SUCCESS && r < c->size; r++)
        *all_did &= every[r] == 1;
    return st;
}

qmar_status qmar__mpi_shm_setup(qmar_comm *c)
{
    qmar__shm_offer mine;
    qmar__shm_offer *all = qmar__malloc((size_t)c->size * sizeof *all);
    if (all == NULL)
        return qmar__fail(QMAR_ERR_INNER, "comm_init_mpi: out of memory");
    qmar__shm *m = NULL;
    qmar__shm_wanted(c, &mine);
    if (c->rank == 0 && mine.want && (m = qmar__shm_create(c->size, &mine)) == NULL)
        mine.want = 0; /* no segment: the group goes point to point */
    qmar_status st = qmar__mpi_ops.allgather(c, &mine, sizeof mine, all);
    int use = st == QMAR_SUCCESS && everyone_wants(all, c->size), all_did = 0;
    if (use && c->rank != 0)
        m = qmar__shm_attach(c->size, &all[0]);
    if (use) /* rank 0 keeps the segment's fd open until every peer has opened it */
        st = everyone_attached(c, m != NULL, &all_did);
    qmar__shm_close_fd(&mine);
    free(all);
    if (all_did) {
        qmar__mpi_state(c)->shm = m;
        c->ops = &qmar__mpi_shm_ops;
    } else if (m != NULL) {
        qmar__shm_unmap(m);
    }
    return st;
}
