/* SPDX-License-Identifier: Apache-2.0 */
/* qmar-mpi-shm-test (the `mpi` suite): the MPI backend's shared-memory path (mpi_shm.h) against
 * its point-to-point path and against the reduction itself. Under mpirun on one host every rank
 * makes two endpoints, one with QMAR_MPI_SHM=0 and one without, and checks that
 *   - the first is point to point and the second shared (the switch and the host test work),
 *     and a switch set on one rank only keeps every rank point to point;
 *   - all-gathers (one buffer and several), all-reduces of Y and of int8 rows (one round, several,
 *     and rows longer than a buffer) give, on both, exactly the bits of the chunk reductions of
 *     collective_math.h applied to every rank's input (each rank regenerates all inputs);
 *   - the riding all-gather hands out every rank's header and payload;
 *   - on the shared path a revoke fails a peer's waiting collective promptly, a missing peer
 *     costs exactly the timeout, and the group stays broken for the late rank.
 * Prints "N passed, N failed" on rank 0; exits non-zero on any failure. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collective_math.h"
#include "comm/comm.h"
#include "comm/mpi_shm.h"
#include "comm/mpi_state.h"
#include "qmar/qmar_mpi.h"

static long passed, failed;
static int world_rank, world_size;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "rank %d: CHECK failed: %s\n", world_rank, what);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Deterministic bytes of rank r's input number `which`: every rank can regenerate every input. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void fill_bytes(unsigned char *p, uint64_t len, int r, int which)
{
    for (uint64_t i = 0; i < len; i++)
        p[i] = (unsigned char)mix((uint64_t)r << 48 ^ (uint64_t)which << 40 ^ i);
}

/* Finite bf16 values in (-8, 8): exact sums are not the point, the order of rounding is. */
static void fill_bf16(uint16_t *p, uint64_t count, int r, int which)
{
    for (uint64_t i = 0; i < count; i++) {
        uint64_t h = mix((uint64_t)r << 48 ^ (uint64_t)which << 40 ^ i);
        float f = (float)((double)(h >> 11) / 9007199254740992.0 * 16.0 - 8.0);
        uint32_t bits;
        memcpy(&bits, &f, 4);
        p[i] = (uint16_t)(bits >> 16);
    }
}

static qmar_comm *endpoint(int shm)
{
    if (shm)
        unsetenv("QMAR_MPI_SHM");
    else
        setenv("QMAR_MPI_SHM", "0", 1);
    qmar_comm *handle = NULL;
    check(qmar_comm_init_mpi(MPI_COMM_WORLD, &handle) == QMAR_SUCCESS, "comm_init_mpi");
    unsetenv("QMAR_MPI_SHM");
    return handle;
}

/* The endpoint behind a handle (the registry's reference is dropped by the caller). */
static qmar_comm *inner(qmar_comm *handle)
{
    char name[QMAR_GROUP_NAME_MAX];
    if (handle == NULL || qmar_comm_get_name(handle, name) != QMAR_SUCCESS)
        return NULL;
    return qmar__comm_acquire(name);
}

static void check_allgather(qmar_comm *c, uint64_t len)
{
    unsigned char *mine = malloc(len + 1), *all = malloc(len * (uint64_t)c->size + 1);
    unsigned char *want = malloc(len + 1);
    fill_bytes(mine, len, c->rank, (int)len);
    int ok = c->ops->allgather(c, mine, len, all) == QMAR_SUCCESS;
    for (int32_t r = 0; ok && r < c->size; r++) {
        fill_bytes(want, len, r, (int)len);
        ok = memcmp(all + (uint64_t)r * len, want, len) == 0;
    }
    char what[96];
    snprintf(what, sizeof what, "all-gather of %llu bytes", (unsigned long long)len);
    check(ok, what);
    free(mine);
    free(all);
    free(want);
}

static void check_allreduce_y(qmar_comm *c, int64_t m, int64_t n)
{
    uint64_t cells = (uint64_t)(m * n);
    uint16_t *e[QMAR_COMM_MAX_RANKS], *out = malloc(cells * 2), *want = malloc(cells * 2);
    for (int32_t r = 0; r < c->size; r++) {
        e[r] = malloc(cells * 2);
        fill_bf16(e[r], cells, r, (int)n);
    }
    qmar__y_reduce_ctx ctx = {n, QMAR_BF16};
    qmar__reduce_y_chunk((const char *const *)e, c->size, m, &ctx, (char *)want);
    int ok = c->ops->allreduce_y(c, e[c->rank], out, m, n, QMAR_BF16) == QMAR_SUCCESS &&
             memcmp(out, want, cells * 2) == 0;
    char what[96];
    snprintf(what, sizeof what, "all-reduce of %lld x %lld bf16", (long long)m, (long long)n);
    check(ok, what);
    for (int32_t r = 0; r < c->size; r++)
        free(e[r]);
    free(out);
    free(want);
}

/* What allreduce_y_produced's produce is given: rank's e rows to copy, and where the calls went. */
typedef struct producer {
    const uint16_t *e;
    int64_t n, next_row, per_round;
    int in_order; /* every call continued where the last ended, with per_round rows but the last */
    int skew;     /* ranks take turns to be slow, so that either runs ahead of the other */
} producer;

static void produce_copy(void *arg, int64_t row0, int64_t rows, uint16_t *dst)
{
    producer *p = arg;
    p->in_order &= row0 == p->next_row && rows >= 1 && rows <= p->per_round;
    p->next_row = row0 + rows;
    if (p->skew && (row0 / p->per_round) % (world_size + 1) == world_rank)
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    memcpy(dst, p->e + row0 * p->n, (size_t)(rows * p->n) * 2);
}

/* The rows produced straight into the exchange buffer give allreduce_y's bits, each row produced
 * once, in order, in rounds of produced_round_rows rows. */
static void check_produced(qmar_comm *c, int64_t m, int64_t n, int skew)
{
    uint64_t cells = (uint64_t)(m * n);
    uint16_t *e[QMAR_COMM_MAX_RANKS], *out = malloc(cells * 2), *want = malloc(cells * 2);
    for (int32_t r = 0; r < c->size; r++) {
        e[r] = malloc(cells * 2);
        fill_bf16(e[r], cells, r, (int)n + 3);
    }
    qmar__y_reduce_ctx ctx = {n, QMAR_BF16};
    qmar__reduce_y_chunk((const char *const *)e, c->size, m, &ctx, (char *)want);
    producer p = {e[c->rank], n, 0, c->ops->produced_round_rows(c, n * 2), 1, skew};
    int ok = p.per_round >= 1 &&
             c->ops->allreduce_y_produced(c, produce_copy, &p, out, m, n, QMAR_BF16) ==
                 QMAR_SUCCESS &&
             p.in_order && p.next_row == m && memcmp(out, want, cells * 2) == 0;
    char what[96];
    snprintf(what, sizeof what, "produced all-reduce of %lld x %lld bf16%s", (long long)m,
             (long long)n, skew ? ", ranks in turn slow" : "");
    check(ok, what);
    for (int32_t r = 0; r < c->size; r++)
        free(e[r]);
    free(out);
    free(want);
}

static void check_lowbit(qmar_comm *c, int64_t m, int64_t n)
{
    uint64_t cells = (uint64_t)(m * n);
    int8_t *q[QMAR_COMM_MAX_RANKS], *out = malloc(cells), *want = malloc(cells);
    float *ratio = malloc((size_t)n * sizeof *ratio);
    for (int64_t j = 0; j < n; j++)
        ratio[j] = (float)(0.05 + (double)(mix((uint64_t)j) % 1000) / 1000.0);
    for (int32_t r = 0; r < c->size; r++) {
        q[r] = malloc(cells);
        fill_bytes((unsigned char *)q[r], cells, r, (int)n + 7);
    }
    qmar__lowbit_ctx ctx = {n, ratio};
    qmar__sum_requant_chunk((const char *const *)q, c->size, m, &ctx, (char *)want);
    int ok = c->ops->lowbit_allreduce(c, q[c->rank], out, m, n, ratio) == QMAR_SUCCESS &&
             memcmp(out, want, cells) == 0;
    char what[96];
    snprintf(what, sizeof what, "low-bit all-reduce of %lld x %lld", (long long)m, (long long)n);
    check(ok, what);
    for (int32_t r = 0; r < c->size; r++)
        free(q[r]);
    free(out);
    free(want);
    free(ratio);
}

static void check_riding(qmar_comm *c)
{
    unsigned char head[100], payload[QMAR__RIDE_PAYLOAD_MAX], want[QMAR__RIDE_PAYLOAD_MAX];
    unsigned char *all = malloc(sizeof head * (size_t)c->size);
    const void *parts[QMAR_COMM_MAX_RANKS];
    fill_bytes(head, sizeof head, c->rank, 1);
    fill_bytes(payload, sizeof payload, c->rank, 2);
    int ok = c->ops->allgather_riding(c, head, sizeof head, all, payload, sizeof payload,
                                      parts) == QMAR_SUCCESS;
    for (int32_t r = 0; ok && r < c->size; r++) {
        fill_bytes(want, sizeof head, r, 1);
        ok = memcmp(all + sizeof head * (size_t)r, want, sizeof head) == 0;
        fill_bytes(want, sizeof payload, r, 2);
        ok = ok && memcmp(parts[r], want, sizeof payload) == 0;
    }
    check(ok, "riding all-gather: headers and payloads");
    free(all);
}

/* Both paths give the reductions' exact bits, in one round, several, and (rows longer than a
 * buffer) through the point-to-point fallback. */
static void check_data(qmar_comm *c)
{
    check_allgather(c, 0);
    check_allgather(c, 13);
    check_allgather(c, QMAR__SHM_HALF + 5); /* two rounds */
    check_allreduce_y(c, 1, 7);
    check_allreduce_y(c, 37, 1000);
    check_allreduce_y(c, 1100, 512);                         /* rows of 1 KiB: two rounds */
    check_allreduce_y(c, 3, (int64_t)QMAR__SHM_HALF / 2 + 9); /* a row longer than a buffer */
    if (c->ops->allreduce_y_produced != NULL) {
        int64_t many = (int64_t)(QMAR__SHM_BUFFERS + 2) * QMAR__SHM_HALF / 1024 + 3;
        check_produced(c, 1, 7, 0);
        check_produced(c, 1100, 512, 0); /* two rounds */
        check_produced(c, 2 * (int64_t)QMAR__SHM_HALF / 8192, 4096, 0); /* two full rounds */
        /* more rounds than buffers: each buffer written again while peers run a round behind */
        check_produced(c, many, 512, 0);
        check_produced(c, many, 512, 1);
        check(c->ops->produced_round_rows(c, (int64_t)QMAR__SHM_HALF + 2) == 0,
              "no produced rounds for a row longer than a buffer");
    }
    check_lowbit(c, 5, 33);
    check_lowbit(c, 2100, 1000); /* three rounds */
    if (c->ops->allgather_riding != NULL)
        check_riding(c);
}

/* QMAR_MPI_SHM=0 on rank 0 only: every rank must take the point-to-point path (one rank on the
 * segment and another on messages would never meet), and the group must work. */
static void check_mixed_switch(void)
{
    if (world_rank == 0)
        setenv("QMAR_MPI_SHM", "0", 1);
    qmar_comm *h = NULL;
    check(qmar_comm_init_mpi(MPI_COMM_WORLD, &h) == QMAR_SUCCESS, "init, switch on rank 0 only");
    unsetenv("QMAR_MPI_SHM");
    qmar_comm *c = inner(h);
    if (c == NULL)
        return;
    check(c->ops == &qmar__mpi_ops && qmar__mpi_state(c)->shm == NULL,
          "a switch on one rank keeps every rank point to point");
    check_allreduce_y(c, 3, 100);
    qmar__comm_release(c);
    check(qmar_comm_destroy(h) == QMAR_SUCCESS, "destroy");
}

/* Shared path: rank 0 revokes 50 ms after the others started waiting; they fail within bound. */
static void check_revoke(int64_t bound_ms)
{
    qmar_comm *h = endpoint(1), *c = inner(h);
    if (c == NULL)
        return;
    qmar_comm_set_timeout_ms(h, 20000);
    MPI_Barrier(MPI_COMM_WORLD);
    if (c->rank == 0) {
        struct timespec t = {0, 50 * 1000000L};
        nanosleep(&t, NULL);
        check(qmar_comm_revoke(h) == QMAR_SUCCESS, "revoke");
    } else {
        unsigned char x = 1, all[QMAR_COMM_MAX_RANKS];
        double t0 = now_ms();
        qmar_status st = c->ops->allgather(c, &x, 1, all);
        double waited = now_ms() - t0;
        check(st == QMAR_ERR_RUNTIME, "a revoke fails the waiting peer");
        check(waited < 50.0 + (double)bound_ms, "a revoke fails the waiting peer promptly");
        check(strstr(qmar_last_error(), "rank 0") != NULL, "the reason names the revoking rank");
    }
    qmar__comm_release(c);
    MPI_Barrier(MPI_COMM_WORLD);
    check(qmar_comm_destroy(h) == QMAR_SUCCESS, "destroy a revoked endpoint");
}

/* Shared path: rank 0 joins only after its peers' timeout T; they fail at T, not before, and it
 * fails at once (the group is broken), never reading or writing anything of theirs. */
static void check_timeout(int64_t timeout_ms, int64_t bound_ms)
{
    qmar_comm *h = endpoint(1), *c = inner(h);
    if (c == NULL)
        return;
    qmar_comm_set_timeout_ms(h, timeout_ms);
    unsigned char x = 1, all[QMAR_COMM_MAX_RANKS];
    MPI_Barrier(MPI_COMM_WORLD);
    if (c->rank == 0) {
        struct timespec t = {(time_t)(timeout_ms * 2 / 1000), (long)(timeout_ms * 2 % 1000) *
                                                                  1000000L};
        nanosleep(&t, NULL);
        double t0 = now_ms();
        check(c->ops->allgather(c, &x, 1, all) == QMAR_ERR_RUNTIME, "the late rank fails");
        check(now_ms() - t0 < (double)bound_ms, "the late rank fails at once");
    } else {
        double t0 = now_ms();
        check(c->ops->allgather(c, &x, 1, all) == QMAR_ERR_RUNTIME, "a missing peer fails us");
        double waited = now_ms() - t0;
        /* the first peer to time out breaks the group for the others, which started their
         * waits a little later (the barrier's skew): not before about T, in any case */
        check(waited >= (double)timeout_ms / 2, "a missing peer fails us at the timeout");
        check(waited < (double)(timeout_ms + bound_ms), "and not much later");
    }
    qmar__comm_release(c);
    MPI_Barrier(MPI_COMM_WORLD);
    check(qmar_comm_destroy(h) == QMAR_SUCCESS, "destroy a timed-out endpoint");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    int64_t bound_ms = argc > 1 ? atoll(argv[1]) : 500;
    for (int shm = 0; shm <= 1; shm++) {
        qmar_comm *h = endpoint(shm), *c = inner(h);
        if (c == NULL)
            continue;
        const qmar__backend_ops *want = shm && world_size > 1 ? &qmar__mpi_shm_ops
                                                               : &qmar__mpi_ops;
        check(c->ops == want,
              shm ? "one host: the shared path" : "QMAR_MPI_SHM=0: point to point");
        check(shm == (qmar__mpi_state(c)->shm != NULL) || world_size == 1, "segment mapped");
        check_data(c);
        qmar__comm_release(c);
        check(qmar_comm_destroy(h) == QMAR_SUCCESS, "destroy");
    }
    if (world_size > 1) {
        check_mixed_switch();
        check_revoke(bound_ms);
        check_timeout(400, bound_ms);
    }
    long totals[2] = {passed, failed}, sums[2];
    MPI_Reduce(totals, sums, 2, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (world_rank == 0)
        printf("%ld passed, %ld failed\n", sums[0], sums[1]);
    int bad = failed != 0, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
