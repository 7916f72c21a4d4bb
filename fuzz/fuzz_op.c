/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_op: the whole operator, R in {1, 2, 4, 8} ranks as threads in this process, every case
 * (1, 2, 3, 3 + pertoken), both output dtypes, every x2 layout (ND, transposed, NZ, transposed NZ),
 * x1 2-D or 3-D, bias, x3 (separate or the output itself), every dequant shape, on small shapes;
 * data random, extreme, special-heavy or raw bits straight from the input's payload.
 * Oracle (tests/operator_harness.c's pieces; ranks on threads over communicators created once):
 * every rank succeeds and its output equals the integer-exact
 * model bit for bit (NaN == NaN); with a disagreeing rank every rank fails with
 * QMAR_ERR_RUNTIME. No crash, no sanitizer report, no leak.
 *
 * Input (parameters from the tail in this order, fuzz/byte_reader.h; the head is the payload the
 * data values are drawn from, split evenly between the comm scales and the ranks):
 *   u8 ranks %4 -> 1,2,4,8   u8 case %3 + 1   u8 flags (1 case 3 with pertoken, 2 BF16 output,
 *   4 bias, 8 comm scales (1,n))   u8 x2 layout %4   u8 x3 %3   u8 dequant shape %3
 *   u8 b %4 (0: x1 2-D)   u8 s (v < 0xF0: 1 + v%12, else 28 + v - 0xF0: rows across a 32-row tile)
 *   u8 k, u8 n (each v < 0xF0: 1 + v%48, else 64 + 4(v - 0xF0), up to 124)
 *   u8 data mode %4   u64 seed   u8 fault (v%8 == 7 and R > 1: rank (v>>3)%R disagrees;
 *   v == 0xEE: the overlap shape below; v == 0xED: the packed shape below)
 * Small shapes keep an execution near a millisecond: when R*m*n*k passes MAX_WORK, k and then n
 * are cut down (so big m, k or n come with few ranks), deterministically from the input. One
 * fault value instead asks for the one big shape, m x k x n = 64 x 2048 x 65 on R = 1 or 2: Run
 * only overlaps computing with communicating (a worker thread per rank, 4 blocks of 16 rows
 * here) from 8M multiply-adds on, and that path must be fuzzed too. Its 4160 outputs per rank
 * (8320 bytes of e) are just past what rides on the agreement step (8192), which would take
 * cases 1 and 2 around the overlap. A deep k and few outputs keep the model's share small; it
 * is still rare, since one such input costs ~10 ms. Another asks for the packed shape,
 * m x k x n = (397 + seed % 6) x 133 x 8 on R = 1 or 2 (m even with x1 3-D).
 * x2 in ND is packed whole (packed rows times packed x2) only for more rows than a row tile and
 * a k past the direct path's k block (compute.c, route_of), which no small shape reaches. The
 * m and k are not multiples of the micro-panel's 6 rows and the group's 4, so that partial
 * panels are fuzzed too. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "byte_reader.h"
#include "fuzz_check.h"
#include "operator_harness.h"

const char fuzz_target_name[] = "fuzz_op";

static const int32_t RANKS[4] = {1, 2, 4, 8};
#define MAX_WORK 8192 /* multiply-adds of all ranks together */
#define MAX_CELLS 512  /* output elements of all ranks together (the model's cost) */

static int64_t dim(uint8_t v)
{
    return v < 0xF0 ? 1 + v % 48 : 64 + 4 * (v - 0xF0);
}

/* A fault value's fixed shape, m x k x n on R = 1 or 2 ranks: x1 2-D, or 3-D as 2 batches of m/2
 * rows. */
static void fixed_shape(scenario *sc, int64_t m, int64_t k, int64_t n)
{
    sc->ranks = sc->ranks > 2 ? 2 : sc->ranks;
    sc->b = sc->b ? 2 : 0;
    sc->s = sc->b ? m / 2 : m;
    sc->k = k;
    sc->n = n;
}

static int32_t decode(fz_reader *r, scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->ranks = RANKS[fz_pick(r, 4)];
    sc->op_case = 1 + (int32_t)fz_pick(r, 3);
    uint8_t flags = fz_u8(r);
    sc->case3_pertoken = flags & 1;
    sc->y = (flags & 2) ? QMAR_BF16 : QMAR_FLOAT16;
    sc->bias = (flags >> 2) & 1;
    sc->comm_scale_row = (flags >> 3) & 1;
    sc->x2_layout = (model_x2_layout)fz_pick(r, 4);
    sc->x3 = (int32_t)fz_pick(r, 3);
    sc->scale_shape = (int32_t)fz_pick(r, 3);
    sc->b = fz_pick(r, 4);
    uint8_t s = fz_u8(r);
    sc->s = s < 0xF0 ? 1 + s % 12 : 28 + (s - 0xF0);
    sc->k = dim(fz_u8(r));
    sc->n = dim(fz_u8(r));
    int64_t rm = sc->ranks * (sc->b > 0 ? sc->b : 1) * sc->s;
    if (rm * sc->n > MAX_CELLS)
        sc->n = MAX_CELLS / rm > 0 ? MAX_CELLS / rm : 1;
    if (rm * sc->n * sc->k > MAX_WORK)
        sc->k = MAX_WORK / (rm * sc->n) > 0 ? MAX_WORK / (rm * sc->n) : 1;
    sc->data_mode = (int32_t)fz_pick(r, 4);
    sc->seed = fz_u64(r);
    uint8_t fault = fz_u8(r);
    if (fault == 0xEE) /* the overlap shape */
        fixed_shape(sc, 64, 2048, 65);
    if (fault == 0xED) /* the packed shape: each remainder of the 6-row micro-panel */
        fixed_shape(sc, 397 + (int64_t)(sc->seed % 6), 133, 8);
    int32_t differ = fault % 8 == 7 && sc->ranks > 1 ? (int32_t)((fault >> 3) % sc->ranks) : -1;
    size_t got;
    sc->payload = fz_bytes(r, fz_left(r), &got);
    sc->payload_len = got;
    return differ;
}

/* One group per rank count, created once and reused by every input: creating and destroying
 * endpoints per input would cost more than the operator itself (and nothing here breaks a group:
 * a disagreement fails the agreement step without a timeout). */
static qmar_comm *comms[4][8];
static char names[4][8][QMAR_GROUP_NAME_MAX];
static int comms_ready;

static void start_workers(void);

static void setup_comms(void)
{
    for (int i = 0; i < 4; i++) {
        if (qmar_comm_init_all(RANKS[i], comms[i]) != QMAR_SUCCESS)
            fuzz_fail("setup", "comm_init_all(%d): %s", (int)RANKS[i], qmar_last_error());
        for (int32_t r = 0; r < RANKS[i]; r++) {
            qmar_comm_get_name(comms[i][r], names[i][r]);
            /* generous: a hang becomes a RUNTIME failure with a reason instead of a stall */
            qmar_comm_set_timeout_ms(comms[i][r], 20000);
        }
    }
    start_workers();
    comms_ready = 1;
}

typedef struct rank_job {
    harness_world *w;
    int32_t r;
    const char *group;
    qmar_status st;
    char reason[200];
} rank_job;

/* Eight ranks' threads, started once: a thread per rank per input would cost more (clone, and
 * the sanitizers' per-thread setup) than a small operator. Worker i runs job i of each round. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER, pool_done = PTHREAD_COND_INITIALIZER;
static uint64_t pool_round;
static int32_t pool_active, pool_pending;
static rank_job *pool_jobs;

static void *worker(void *arg)
{
    int32_t i = (int32_t)(intptr_t)arg;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&pool_lock);
        while (pool_round == seen)
            pthread_cond_wait(&pool_go, &pool_lock);
        seen = pool_round;
        int mine = i < pool_active;
        rank_job *j = &pool_jobs[i];
        pthread_mutex_unlock(&pool_lock);
        if (!mine)
            continue;
        double seconds;
        j->st = harness_run_rank(j->w, j->r, j->group, &seconds);
        snprintf(j->reason, sizeof j->reason, "%s",
                 j->st == QMAR_SUCCESS ? "" : qmar_last_error());
        pthread_mutex_lock(&pool_lock);
        if (--pool_pending == 0)
            pthread_cond_signal(&pool_done);
        pthread_mutex_unlock(&pool_lock);
    }
    return NULL;
}

/* Runs jobs[0..n) on workers 0..n-1 at once and waits for all of them. */
static void run_ranks(rank_job *jobs, int32_t n)
{
    pthread_mutex_lock(&pool_lock);
    pool_jobs = jobs;
    pool_active = pool_pending = n;
    pool_round++;
    pthread_cond_broadcast(&pool_go);
    while (pool_pending > 0)
        pthread_cond_wait(&pool_done, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
}

static void start_workers(void)
{
    for (intptr_t i = 0; i < 8; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)i) != 0)
            fuzz_fail("setup", "pthread_create failed");
        pthread_detach(t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!comms_ready)
        setup_comms();
    fz_reader r = fz_init(data, size);
    scenario sc;
    char what[320];
    int32_t differ = decode(&r, &sc);
    int gi = sc.ranks == 1 ? 0 : sc.ranks == 2 ? 1 : sc.ranks == 4 ? 2 : 3;
    harness_describe(&sc, what, sizeof what);
    harness_world *w = harness_build(&sc, differ);
    if (w == NULL)
        return 0; /* out of memory while building the inputs: nothing to judge */
    rank_job jobs[8];
    for (int32_t rk = 0; rk < sc.ranks; rk++)
        jobs[rk] = (rank_job){w, rk, names[gi][rk], 0, ""};
    run_ranks(jobs, sc.ranks);
    harness_model(w);
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_op: %s differ=%d: rank 0 status %d, %lld wrong\n", what, (int)differ,
                (int)jobs[0].st, (long long)harness_wrong(w, 0));
    for (int32_t rk = 0; rk < sc.ranks; rk++) {
        if (differ >= 0) {
            FUZZ_CHECK(jobs[rk].st == QMAR_ERR_RUNTIME, "disagreement",
                       "%s: rank %d of %d disagrees, yet rank %d returned %d (%s)", what,
                       (int)differ, (int)sc.ranks, (int)rk, (int)jobs[rk].st, jobs[rk].reason);
            continue;
        }
        FUZZ_CHECK(jobs[rk].st == QMAR_SUCCESS, "status", "%s: rank %d returned %d: %s", what,
                   (int)rk, (int)jobs[rk].st, jobs[rk].reason);
        int64_t wrong = harness_wrong(w, rk);
        FUZZ_CHECK(wrong == 0, "wrong-bits",
                   "%s: rank %d: %lld of %lld output elements differ from the model", what,
                   (int)rk, (long long)wrong, (long long)(harness_m(w) * sc.n));
    }
    harness_free(w);
    return 0;
}
