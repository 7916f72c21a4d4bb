/* SPDX-License-Identifier: Apache-2.0 */
/* The shared segment of an MPI group on one host (mpi_shm.h): making, opening and unmapping it,
 * and the barrier its exchanges pass. */
#define _GNU_SOURCE /* memfd_create */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../error.h"
#include "../fault.h"
#include "mpi_shm.h"
#include "mpi_state.h"

static uint64_t segment_bytes(int32_t size)
{
    return qmar__shm_data_offset(size) + (uint64_t)size * QMAR__SHM_BUFFERS * QMAR__SHM_HALF;
}

static int read_boot_id(char out[40])
{
    memset(out, 0, 40);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f == NULL)
        return 0;
    int ok = fgets(out, 40, f) != NULL && out[0] != '\0';
    fclose(f);
    return ok;
}

int qmar__shm_wanted(const qmar_comm *c, qmar__shm_offer *offer)
{
    memset(offer, 0, sizeof *offer);
    offer->fd = -1;
    const char *env = getenv("QMAR_MPI_SHM");
    if (env != NULL && strcmp(env, "0") == 0)
        return 0;
    /* local_ranks counts the ranks whose processor name is this rank's; the boot id tells two
     * machines (or containers on two machines) that share a host name apart */
    qmar__shm_arrival probe;
    atomic_int flag_probe;
    atomic_init(&probe.barrier, 0);
    atomic_init(&flag_probe, 0);
    offer->want = c->size > 1 && c->local_ranks == c->size && read_boot_id(offer->boot_id) &&
                  atomic_is_lock_free(&probe.barrier) && /* atomics between processes */
                  atomic_is_lock_free(&flag_probe);
    return offer->want;
}

static qmar__shm *map_segment(int fd, int32_t size)
{
    uint64_t bytes = segment_bytes(size);
    qmar__shm *m = qmar__calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    void *base = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        free(m);
        return NULL;
    }
    *m = (qmar__shm){.base = base, .bytes = bytes, .size = size,
                     .spin = sysconf(_SC_NPROCESSORS_ONLN) >= size};
    return m;
}

qmar__shm *qmar__shm_create(int32_t size, qmar__shm_offer *offer)
{
#ifdef __linux__
    uint64_t bytes = segment_bytes(size);
    if (getrandom(offer->token, sizeof offer->token, 0) != (ssize_t)sizeof offer->token)
        return NULL;
    int fd = memfd_create("qmar-mpi-shm", MFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    qmar__shm *m = ftruncate(fd, (off_t)bytes) == 0 ? map_segment(fd, size) : NULL;
    if (m == NULL) {
        close(fd);
        return NULL;
    }
    qmar__shm_header *h = qmar__shm_head(m);
    memcpy(h->token, offer->token, sizeof h->token);
    h->bytes = bytes;
    h->size = size;
    h->half = QMAR__SHM_HALF;
    atomic_init(&h->revoked, 0); /* the arrivals are zero, as the file was made */
    offer->pid = (int32_t)getpid();
    offer->fd = fd;
    return m;
#else
    (void)size, (void)offer;
    return NULL;
#endif
}

qmar__shm *qmar__shm_attach(int32_t size, const qmar__shm_offer *offer)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)offer->pid, (int)offer->fd);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    qmar__shm *m = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == segment_bytes(size))
        m = map_segment(fd, size);
    close(fd); /* the mapping keeps the segment */
    if (m == NULL)
        return NULL;
    /* Nothing is written before the token matches: a file that is not rank 0's segment (another
     * pid namespace) is left as it was. */
    const qmar__shm_header *h = qmar__shm_head(m);
    if (memcmp(h->token, offer->token, sizeof h->token) != 0 || h->size != size ||
        h->bytes != m->bytes || h->half != QMAR__SHM_HALF) {
        qmar__shm_unmap(m);
        return NULL;
    }
    return m;
}

void qmar__shm_close_fd(qmar__shm_offer *offer)
{
    if (offer->fd >= 0)
        close(offer->fd);
    offer->fd = -1;
}

void qmar__shm_unmap(qmar__shm *m)
{
    munmap(m->base, (size_t)m->bytes);
    free(m);
}

void qmar__shm_revoke(qmar__shm *m, int32_t rank)
{
    int none = 0;
    atomic_compare_exchange_strong(&qmar__shm_head(m)->revoked, &none, (int)rank + 1);
}

static int all_arrived(const qmar__shm *m, uint64_t k)
{
    for (int32_t r = 0; r < m->size; r++)
        if (atomic_load_explicit(&qmar__shm_arrival_of(m, r)->barrier, memory_order_acquire) < k)
            return 0;
    return 1;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* How long a wait polls before it yields: about what a sleep and a wake-up cost (as inproc.c's
 * SPIN_NS), so polling at most doubles the cost of a wait it could not shorten. */
#define SPIN_MS 0.02
/* How often a wait also polls MPI for revoke notices: breaks through this backend also set the
 * segment's flag, so the notices are the second channel. */
#define NOTICE_POLL_MS 1.0

/* The error of a group a peer broke (the segment's flag says who). */
static qmar_status peer_broke(qmar_comm *c, int who, const char *what)
{
    qmar__mpi_break(c, 0);
    return qmar__fail(QMAR_ERR_RUNTIME, "collective: rank %d failed or revoked the group (noticed "
                      "by rank %d in %s)", who - 1, (int)c->rank, what);
}

static qmar_status wait_arrivals(qmar_comm *c, uint64_t k, const char *what)
{
    qmar__shm *m = qmar__mpi_state(c)->shm;
    double start = qmar__mpi_now_ms(), deadline = start + (double)c->timeout_ms;
    double next_poll = start;
    long pause_ns = 10000;
    qmar_status st;
    for (;;) {
        /* Completion first, as mpi_control.c's waits: a barrier every rank reached stands; a
         * revoke shows at the next one or at the vote, so no Run it breaks can succeed. */
        if (all_arrived(m, k))
            return QMAR_SUCCESS;
        int who = atomic_load_explicit(&qmar__shm_head(m)->revoked, memory_order_acquire);
        if (who != 0)
            return peer_broke(c, who, what);
        double t = qmar__mpi_now_ms();
        if (t >= next_poll) {
            if (qmar__mpi_revoked(c, &st))
                return st;
            next_poll = t + NOTICE_POLL_MS;
        }
        if (t > deadline) {
            qmar__mpi_break(c, 1);
            return qmar__fail(QMAR_ERR_RUNTIME, "collective: rank %d waited %lld ms for its peers "
                              "in %s (the group is now broken)", (int)c->rank,
                              (long long)c->timeout_ms, what);
        }
        if (m->spin && t - start < SPIN_MS)
            cpu_relax();
        else
            qmar__mpi_pause(t - start, &pause_ns);
    }
}

/* The barrier in two steps: arrive (its number in *k), then wait for the peers. */
static qmar_status shm_arrive(qmar_comm *c, const char *what, uint64_t *k)
{
    mpi_state *s = qmar__mpi_state(c);
    if (s->broken)
        return qmar__mpi_broken_error(c);
    char label[64];
    snprintf(label, sizeof label, "%s: shared barrier", what);
    qmar_status st = qmar__fault_step(c->rank, c->timeout_ms, label);
    if (st != QMAR_SUCCESS) {
        qmar__mpi_break(c, 1);
        return st;
    }
    /* As an exchange checks the notices before it posts: a rank that comes late to a group its
     * peers gave up on fails here, instead of passing a barrier they all reached before. */
    int who = atomic_load_explicit(&qmar__shm_head(s->shm)->revoked, memory_order_acquire);
    if (who != 0)
        return peer_broke(c, who, what);
    *k = ++s->shm->seq;
    s->last_send_ms = qmar__mpi_now_ms(); /* the vote's lateness counts from here (mpi_state.h) */
    atomic_store_explicit(&qmar__shm_arrival_of(s->shm, c->rank)->barrier, *k,
                          memory_order_release);
    return QMAR_SUCCESS;
}

qmar_status qmar__shm_barrier(qmar_comm *c, const char *what)
{
    uint64_t k = 0;
    qmar_status st = shm_arrive(c, what, &k);
    return st == QMAR_SUCCESS ? wait_arrivals(c, k, what) : st;
}

qmar_status qmar__shm_vote(qmar_comm *c, int32_t flags, int32_t *votes)
{
    qmar__shm *m = qmar__mpi_state(c)->shm;
    uint64_t k = m->seq + 1;
    qmar__shm_arrival_of(m, c->rank)->vote[k & 1u] = flags; /* published by the arrival */
    qmar_status st = qmar__shm_barrier(c, "outcome vote");
    for (int32_t q = 0; st == QMAR_SUCCESS && q < c->size; q++)
        votes[q] = qmar__shm_arrival_of(m, q)->vote[k & 1u];
    return st;
}

int qmar__shm_revoked(qmar_comm *c, qmar_status *st)
{
    int who = atomic_load_explicit(&qmar__shm_head(qmar__mpi_state(c)->shm)->revoked,
                                   memory_order_acquire);
    if (who == 0)
        return 0;
    *st = peer_broke(c, who, "outcome vote");
    return 1;
}
