/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_api: sequences of API calls driven by opcodes — communicators created (with the timeout
 * environment variable in every form), queried, given timeouts, destroyed (twice, and while an
 * executor still holds them); plans on live, destroyed, edited and NULL names; runs with the
 * planned workspace, a larger one, one byte short, NULL or 0; whole groups run on threads, with
 * ranks missing (timeouts), ranks planned on different shapes (disagreement) and broken groups;
 * executors destroyed unrun; groups revoked, idle or while their other ranks wait in Run;
 * descriptors that cannot be stored; status names; the library's version.
 * Oracle: a model of the API contract (spec/api.md, qmar.h) predicts every status; every failure
 * has a reason; at the end of each input everything is released and LeakSanitizer finds nothing.
 *
 * Input: up to 128 operations, each a u8 opcode (% NOPS) and its parameters from the tail
 * (fuzz/byte_reader.h); see each op_* below for its parameters. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byte_reader.h"
#include "clock_ms.h"
#include "fuzz_check.h"
#include "qmar/qmar.h"

const char fuzz_target_name[] = "fuzz_api";

#define MAX_OPS 128
#define MAX_GROUPS 80 /* 80 groups of 64 ranks pass the registry's capacity */
#define MAX_EXEC 32
/* The in-process registry holds this many live endpoints (lib/src/comm/comm.c, REGISTRY_CAP):
 * init_all returns QMAR_ERR_INNER beyond it. An implementation limit, not part of the contract. */
#define REGISTRY_CAP 4096
#define DEFAULT_TIMEOUT_MS 60000
#define SHORT_TIMEOUT_MS 2   /* what the harness sets before a run that must time out */
#define SLOW_LIMIT_MS 200    /* a run that must time out is skipped if it would wait longer */
#define TOLERANT_MS 1000     /* below this a complete run may time out on a loaded machine */
/* A revoke must end its group's runs at once (spec/api.md "Prompt failure"): when no runner's
 * timeout is under PROMPT_TIMEOUT_MS, the runs must be over within PROMPT_LIMIT_MS. */
#define PROMPT_TIMEOUT_MS 10000
#define PROMPT_LIMIT_MS 5000

/* ---- The model's state ----------------------------------------------------------------------- */

typedef struct endpoint {
    qmar_comm *c;
    int destroyed; /* the user destroyed it: its name resolves no more */
    int freed;     /* destroyed and no executor held it: the pointer is gone */
    int execs;     /* executors planned on it, not yet run or destroyed */
    int64_t timeout_ms;
    char name[QMAR_GROUP_NAME_MAX];
} endpoint;

enum { BROKEN_NO, BROKEN_YES, BROKEN_MAYBE };

typedef struct group {
    int32_t size;
    int broken;
    endpoint *ep; /* size entries */
} group;

typedef struct shape_buf {
    int8_t x1[16], x2[16];
    int32_t bias[4];
    uint64_t dq[4];
    float pt[4];
    uint16_t cs1[4], cs2[4], out[16];
} shape_buf;

typedef struct exec_rec {
    qmar_executor *ex;
    int g, r, shape;
    uint64_t ws;
    shape_buf *buf; /* the data the executor's descriptors point at */
} exec_rec;

#define MAX_CONTENDED 4 /* group runs beside spinning threads per input: they cost the machine */

typedef struct world {
    fz_reader r;
    int contended; /* group runs with spinners so far */
    group groups[MAX_GROUPS];
    int ngroups;
    exec_rec execs[MAX_EXEC];
    int nexecs;
    int registered; /* endpoints in the registry: created and not destroyed */
    qmar_executor *stale; /* the handle of the last executor run or destroyed, or NULL */
} world;

/* ---- Small helpers --------------------------------------------------------------------------- */

static void expect_status(qmar_status got, qmar_status want, const char *what)
{
    FUZZ_CHECK(got == want, "status", "%s: returned %d (%s), expected %d; reason \"%s\"", what,
               (int)got, qmar_status_string(got), (int)want, qmar_last_error());
    if (got != QMAR_SUCCESS) {
        const char *reason = qmar_last_error();
        FUZZ_CHECK(reason != NULL && reason[0] != '\0', "no-reason", "%s: status %d, no reason",
                   what, (int)got);
    }
}

static endpoint *ep_at(world *w, int g, int r)
{
    return &w->groups[g].ep[r];
}

/* Pick an existing group (or -1). */
static int pick_group(world *w)
{
    uint8_t v = fz_u8(&w->r);
    return w->ngroups ? v % w->ngroups : -1;
}

static void release_exec_ref(world *w, int g, int r)
{
    endpoint *e = ep_at(w, g, r);
    e->execs--;
    if (e->destroyed && e->execs == 0)
        e->freed = 1;
}

static void drop_exec(world *w, int i)
{
    w->stale = w->execs[i].ex;
    free(w->execs[i].buf);
    w->execs[i] = w->execs[--w->nexecs];
}

/* ---- Communicators --------------------------------------------------------------------------- */

static const int32_t NRANKS[16] = {1, 2, 4, 8, 3, 16, 64, 0, -1, 65, 2, 1, 4, 2, 8, 64};

/* op INIT: u8 ranks code, u8 env (low 3 bits: unset, "N" ms, "", "abc", "0", "-5", 2^66, "12x";
 * bit 7: comms NULL). */
static void op_init(world *w)
{
    int32_t n = NRANKS[fz_u8(&w->r) % 16];
    uint8_t env = fz_u8(&w->r);
    int64_t timeout = DEFAULT_TIMEOUT_MS;
    char value[32];
    static const char *const bad[] = {"", "abc", "0", "-5", "73786976294838206464", "12x"};
    switch (env % 8) {
    case 0: unsetenv("QMAR_COMM_TIMEOUT_MS"); break;
    case 1:
        timeout = 1 + (env >> 3) % 8;
        snprintf(value, sizeof value, "%lld", (long long)timeout);
        setenv("QMAR_COMM_TIMEOUT_MS", value, 1);
        break;
    default: setenv("QMAR_COMM_TIMEOUT_MS", bad[env % 8 - 2], 1); break;
    }
    qmar_comm *tmp[QMAR_COMM_MAX_RANKS + 1];
    qmar_status want = (env & 0x80)                    ? QMAR_ERR_PARAM_NULLPTR
                       : n < 1 || n > QMAR_COMM_MAX_RANKS ? QMAR_ERR_PARAM_INVALID
                       : w->registered + n > REGISTRY_CAP ? QMAR_ERR_INNER
                                                          : QMAR_SUCCESS;
    qmar_status st = qmar_comm_init_all(n, (env & 0x80) ? NULL : tmp);
    unsetenv("QMAR_COMM_TIMEOUT_MS");
    expect_status(st, want, "comm_init_all");
    if (st != QMAR_SUCCESS)
        return;
    w->registered += n;
    if (w->ngroups == MAX_GROUPS) { /* no room to remember it: give it back at once */
        for (int32_t r = 0; r < n; r++)
            expect_status(qmar_comm_destroy(tmp[r]), QMAR_SUCCESS, "comm_destroy (no room)");
        w->registered -= n;
        return;
    }
    group *gr = &w->groups[w->ngroups++];
    gr->size = n;
    gr->broken = BROKEN_NO;
    gr->ep = calloc((size_t)n, sizeof *gr->ep);
    FUZZ_CHECK(gr->ep != NULL, "oom", "out of memory");
    for (int32_t r = 0; r < n; r++) {
        gr->ep[r].c = tmp[r];
        gr->ep[r].timeout_ms = timeout;
        expect_status(qmar_comm_get_name(tmp[r], gr->ep[r].name), QMAR_SUCCESS, "get_name");
    }
}

/* op DESTROY_COMM: u8 group, u8 rank. Destroying twice is legal while an executor holds the
 * endpoint (QMAR_ERR_PARAM_INVALID); once it is freed, destroy(NULL) is tried instead. */
static void op_destroy_comm(world *w)
{
    int g = pick_group(w);
    uint8_t rv = fz_u8(&w->r);
    if (g < 0)
        return;
    endpoint *e = ep_at(w, g, rv % w->groups[g].size);
    if (e->freed) {
        expect_status(qmar_comm_destroy(NULL), QMAR_ERR_PARAM_NULLPTR, "comm_destroy(NULL)");
        return;
    }
    if (e->destroyed) {
        expect_status(qmar_comm_destroy(e->c), QMAR_ERR_PARAM_INVALID, "comm_destroy twice");
        return;
    }
    expect_status(qmar_comm_destroy(e->c), QMAR_SUCCESS, "comm_destroy");
    e->destroyed = 1;
    w->registered--;
    if (e->execs == 0)
        e->freed = 1;
}

/* op QUERY: u8 group, u8 rank, u8 which (name, rank, size; bit 2: a NULL argument). */
static void op_query(world *w)
{
    int g = pick_group(w);
    uint8_t rv = fz_u8(&w->r), which = fz_u8(&w->r);
    if (g < 0)
        return;
    int32_t r = rv % w->groups[g].size, v = -1;
    endpoint *e = ep_at(w, g, r);
    int null_arg = (which >> 2) & 1;
    qmar_comm *c = e->destroyed || ((which >> 3) & 1) ? NULL : e->c; /* a dead handle: NULL */
    qmar_status want = c == NULL || null_arg ? QMAR_ERR_PARAM_NULLPTR : QMAR_SUCCESS;
    char name[QMAR_GROUP_NAME_MAX];
    switch (which % 3) {
    case 0:
        expect_status(qmar_comm_get_name(c, null_arg ? NULL : name), want, "comm_get_name");
        if (want == QMAR_SUCCESS)
            FUZZ_CHECK(strcmp(name, e->name) == 0, "name", "name changed: %s -> %s", e->name,
                       name);
        break;
    case 1:
        expect_status(qmar_comm_rank(c, null_arg ? NULL : &v), want, "comm_rank");
        FUZZ_CHECK(want != QMAR_SUCCESS || v == r, "rank", "rank %d, expected %d", (int)v, (int)r);
        break;
    default:
        expect_status(qmar_comm_size(c, null_arg ? NULL : &v), want, "comm_size");
        FUZZ_CHECK(want != QMAR_SUCCESS || v == w->groups[g].size, "size", "size %d, expected %d",
                   (int)v, (int)w->groups[g].size);
        break;
    }
}

/* op SET_TIMEOUT: u8 group, u8 rank, u8 value (low 3 bits pick 0, -1, 1, 2, 3, 5 ms, 10 s, 60 s;
 * bit 7: comm NULL). Only on endpoints the user has not destroyed. */
static void op_set_timeout(world *w)
{
    static const int64_t values[8] = {0, -1, 1, 2, 3, 5, 10000, 60000};
    int g = pick_group(w);
    uint8_t rv = fz_u8(&w->r), v = fz_u8(&w->r);
    if (g < 0)
        return;
    endpoint *e = ep_at(w, g, rv % w->groups[g].size);
    int64_t t = values[v % 8];
    if (v & 0x80) {
        expect_status(qmar_comm_set_timeout_ms(NULL, t), QMAR_ERR_PARAM_NULLPTR,
                      "set_timeout(NULL)");
        return;
    }
    if (e->destroyed)
        return;
    expect_status(qmar_comm_set_timeout_ms(e->c, t), t < 1 ? QMAR_ERR_PARAM_INVALID : QMAR_SUCCESS,
                  "comm_set_timeout_ms");
    if (t >= 1)
        e->timeout_ms = t;
}

/* ---- Planning -------------------------------------------------------------------------------- */

/* Four valid problems (case, Y, m x k x n); executors of one group must share one to agree. */
typedef struct shape {
    int32_t op_case, pertoken;
    qmar_dtype y;
    int64_t m, k, n;
    int bias, dq_row;
} shape;

static const shape SHAPES[4] = {
    {1, 0, QMAR_FLOAT16, 2, 4, 3, 0, 0},
    {2, 1, QMAR_BF16, 3, 5, 2, 1, 0},
    {3, 0, QMAR_FLOAT16, 1, 3, 4, 0, 0},
    {3, 1, QMAR_BF16, 2, 2, 2, 1, 1},
};

/* Endpoint (g, r) whose live name equals `name`, or 0. */
static int lookup(const world *w, const char *name, int *g, int *r)
{
    for (int i = 0; i < w->ngroups; i++)
        for (int32_t j = 0; j < w->groups[i].size; j++)
            if (!w->groups[i].ep[j].destroyed && strcmp(w->groups[i].ep[j].name, name) == 0) {
                *g = i;
                *r = j;
                return 1;
            }
    return 0;
}

static qmar_tensor *nd(const int64_t *dims, uint64_t n, qmar_dtype dt, void *data)
{
    return qmar_tensor_create(dims, n, dt, NULL, 0, QMAR_FORMAT_ND, dims, n, data);
}

/* Descriptors of shape s over buf: slot order x1, x2, bias, x3, dq, pt, cs1, cs2, out. */
static void make_tensors(const shape *s, shape_buf *b, qmar_tensor *t[9], int bad_x1)
{
    int64_t x1d[2] = {s->m, s->k}, x2d[2] = {s->k, s->n}, outd[2] = {s->m, s->n};
    int64_t nd1[1] = {s->n}, rowd[2] = {1, s->n}, md[1] = {s->m}, one[1] = {1};
    qmar_dtype dq = s->y == QMAR_BF16 ? QMAR_BF16 : s->pertoken ? QMAR_FLOAT : QMAR_UINT64;
    memset(t, 0, 9 * sizeof *t);
    t[0] = nd(x1d, 2, bad_x1 ? QMAR_FLOAT16 : QMAR_INT8, b->x1);
    t[1] = nd(x2d, 2, QMAR_INT8, b->x2);
    t[2] = s->bias ? nd(nd1, 1, QMAR_INT32, b->bias) : NULL;
    t[4] = s->dq_row ? nd(rowd, 2, dq, b->dq) : s->op_case == 3 ? nd(one, 1, dq, b->dq)
                                                                : nd(nd1, 1, dq, b->dq);
    t[5] = s->pertoken ? nd(md, 1, QMAR_FLOAT, b->pt) : NULL;
    if (s->op_case == 3) {
        t[6] = s->dq_row ? nd(rowd, 2, s->y, b->cs1) : nd(nd1, 1, s->y, b->cs1);
        t[7] = s->dq_row ? nd(rowd, 2, s->y, b->cs2) : nd(nd1, 1, s->y, b->cs2);
    }
    t[8] = nd(outd, 2, s->y, b->out);
}

static uint64_t workspace_of(const shape *s)
{
    uint64_t mn = (uint64_t)(s->m * s->n), ws = (mn * 2 + 63) / 64 * 64;
    return s->op_case == 3 ? ws + 2 * ((mn + 63) / 64 * 64) : ws;
}

/* op PLAN: u8 group, u8 rank, u8 variant: 0-3 a valid call of shape v on that endpoint's name;
 * 4 the name without its last character; 5 the name plus "x"; 6 x1 NULL; 7 group NULL;
 * 8 executor pointer NULL; 9 workspace_size pointer NULL; 10 x1 FLOAT16 (D1). The endpoint may be
 * destroyed or freed: its name is then a stale one. */
static void op_plan(world *w)
{
    int g = pick_group(w);
    uint8_t rv = fz_u8(&w->r), variant = fz_u8(&w->r) % 11;
    if (g < 0)
        return;
    const endpoint *e = ep_at(w, g, rv % w->groups[g].size);
    char name[QMAR_GROUP_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s%s", e->name, variant == 5 ? "x" : "");
    if (variant == 4)
        name[strlen(name) - 1] = '\0';
    int si = variant < 4 ? variant : rv % 4;
    const shape *s = &SHAPES[si];
    shape_buf *buf = calloc(1, sizeof *buf);
    FUZZ_CHECK(buf != NULL, "oom", "out of memory");
    qmar_tensor *t[9];
    make_tensors(s, buf, t, variant == 10);
    int tg = -1, tr = -1;
    int found = lookup(w, name, &tg, &tr);
    int32_t size = found ? w->groups[tg].size : 0;
    qmar_status want = variant >= 6 && variant <= 9               ? QMAR_ERR_PARAM_NULLPTR
                       : variant == 10                            ? QMAR_ERR_PARAM_INVALID
                       : found && (size == 1 || size == 2 || size == 4 || size == 8)
                           ? QMAR_SUCCESS
                           : QMAR_ERR_PARAM_INVALID;
    uint64_t ws = 7;
    qmar_executor *ex = NULL;
    qmar_status st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        variant == 6 ? NULL : t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7],
        variant == 7 ? NULL : name, "sum", 0, 1, t[8], variant == 9 ? NULL : &ws,
        variant == 8 ? NULL : &ex);
    for (int i = 0; i < 9; i++) /* the executor keeps copies (api.md): drop them now */
        qmar_tensor_destroy(t[i]);
    expect_status(st, want, "get_workspace_size");
    if (st != QMAR_SUCCESS) {
        FUZZ_CHECK(variant == 8 || ex == NULL, "executor-left", "failure left an executor");
        free(buf);
        return;
    }
    FUZZ_CHECK(ex != NULL && ws == workspace_of(s), "workspace",
               "executor %p, workspace %llu, expected %llu", (void *)ex, (unsigned long long)ws,
               (unsigned long long)workspace_of(s));
    if (w->nexecs == MAX_EXEC) {
        qmar_executor_destroy(ex);
        free(buf);
        return;
    }
    exec_rec *x = &w->execs[w->nexecs++];
    *x = (exec_rec){ex, tg, tr, si, ws, buf};
    ep_at(w, tg, tr)->execs++;
}

/* op DESTROY_EXEC: u8 index (bit 7 with no executor: destroy(NULL)). */
static void op_destroy_exec(world *w)
{
    uint8_t v = fz_u8(&w->r);
    if (w->nexecs == 0) {
        qmar_executor_destroy(NULL);
        return;
    }
    int i = v % w->nexecs;
    qmar_executor_destroy(w->execs[i].ex);
    release_exec_ref(w, w->execs[i].g, w->execs[i].r);
    drop_exec(w, i);
}

/* ---- Running --------------------------------------------------------------------------------- */

enum { WS_EXACT, WS_BIGGER, WS_SHORT, WS_NULL, WS_ZERO, WS_MODES };

typedef struct job {
    exec_rec *x;
    int ws_mode;
    qmar_status st;
    char reason[160];
} job;

static int ws_wrong(int mode)
{
    return mode == WS_SHORT || mode == WS_NULL || mode == WS_ZERO; /* planned sizes are > 0 */
}

static void *run_job(void *arg)
{
    job *j = arg;
    uint64_t size = j->x->ws;
    void *ws = NULL;
    switch (j->ws_mode) {
    case WS_BIGGER: size += 64; ws = malloc(size); break;
    case WS_SHORT: size -= 1; ws = malloc(size); break;
    case WS_NULL: break;
    case WS_ZERO: size = 0; ws = malloc(1); break;
    default: ws = malloc(size); break;
    }
    j->st = qmar_quant_matmul_all_reduce_v3(ws, size, j->x->ex, NULL);
    snprintf(j->reason, sizeof j->reason, "%s", j->st == QMAR_SUCCESS ? "" : qmar_last_error());
    if (j->st != QMAR_SUCCESS)
        FUZZ_CHECK(j->reason[0] != '\0', "no-reason", "run failed (%d) without a reason",
                   (int)j->st);
    free(ws);
    return NULL;
}

/* Contention on demand: threads that only spin while the ranks run, so that rank threads get
 * preempted anywhere, as on a loaded machine (races between a rank's timeout and its peers'
 * copies need that to show). */
static atomic_int spinning;

static void *spin(void *arg)
{
    (void)arg;
    while (atomic_load_explicit(&spinning, memory_order_relaxed))
        ;
    return NULL;
}

/* A revoke while a group runs: endpoint c (of a rank that does not run) is revoked `after_ms`
 * milliseconds after the runners start. */
typedef struct revoke_plan {
    qmar_comm *c;
    int after_ms;
} revoke_plan;

/* Runs the executors at idx[0..n) (distinct endpoints of group g) at once, one thread each, with
 * `spinners` spinning threads beside them and the revoke `revoke` asks for (or none), and checks
 * every status against the model. */
static void run_set(world *w, int g, const int *idx, const int *ws_mode, int n, int spinners,
                    const revoke_plan *revoke)
{
    group *gr = &w->groups[g];
    /* A rank with a wrong workspace still takes part in the agreement (spec/api.md "One
     * outcome"): it returns 161002, and every other rank 361001 at once. */
    int runners = n, same = 1, wrong = 0;
    for (int i = 0; i < n; i++) {
        wrong += ws_wrong(ws_mode[i]);
        same &= w->execs[idx[i]].shape == w->execs[idx[0]].shape;
    }
    int complete = runners == gr->size, tolerant = 0;
    int64_t shortest = INT64_MAX;
    /* A run that must time out waits each runner's timeout: make it short, or skip the op (not
     * when a revoke will end it: that must not wait for the timeout). */
    for (int i = 0; i < n; i++) {
        endpoint *e = ep_at(w, g, w->execs[idx[i]].r);
        tolerant |= e->timeout_ms < TOLERANT_MS;
        shortest = e->timeout_ms < shortest ? e->timeout_ms : shortest;
        if (complete || gr->broken == BROKEN_YES || e->timeout_ms <= SLOW_LIMIT_MS || revoke)
            continue;
        if (e->destroyed)
            return; /* cannot shorten it any more: not worth a long wait */
        expect_status(qmar_comm_set_timeout_ms(e->c, SHORT_TIMEOUT_MS), QMAR_SUCCESS,
                      "set_timeout before a run that times out");
        e->timeout_ms = SHORT_TIMEOUT_MS;
    }
    /* What the runners must return if the group is healthy. */
    qmar_status healthy = complete && same && wrong == 0 ? QMAR_SUCCESS : QMAR_ERR_RUNTIME;
    job jobs[64];
    pthread_t th[64], spin_th[8];
    atomic_store(&spinning, 1);
    for (int i = 0; i < spinners; i++)
        FUZZ_CHECK(pthread_create(&spin_th[i], NULL, spin, NULL) == 0, "thread",
                   "pthread_create failed");
    double start = clock_now_ms();
    for (int i = 0; i < n; i++) {
        jobs[i] = (job){&w->execs[idx[i]], ws_mode[i], 0, ""};
        FUZZ_CHECK(pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0, "thread",
                   "pthread_create failed");
    }
    if (revoke != NULL) {
        clock_sleep_ms(revoke->after_ms);
        expect_status(qmar_comm_revoke(revoke->c), QMAR_SUCCESS, "comm_revoke during a run");
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    double took = clock_now_ms() - start;
    FUZZ_CHECK(revoke == NULL || shortest < PROMPT_TIMEOUT_MS || took < PROMPT_LIMIT_MS,
               "revoke-prompt", "a revoke %d ms into the run ended it after %.0f ms",
               revoke ? revoke->after_ms : 0, took);
    atomic_store(&spinning, 0);
    for (int i = 0; i < spinners; i++)
        pthread_join(spin_th[i], NULL);
    int ran = 0, ran_ok = 0; /* runners with a right workspace, and those that succeeded */
    for (int i = 0; i < n; i++) {
        qmar_status st = jobs[i].st;
        char what[96];
        snprintf(what, sizeof what, "run rank %d of %d (%d running, ws mode %d, broken %d)",
                 (int)w->execs[idx[i]].r, (int)gr->size, runners, ws_mode[i], gr->broken);
        if (ws_wrong(ws_mode[i])) {
            FUZZ_CHECK(st == QMAR_ERR_PARAM_INVALID, "run-workspace",
                       "%s: returned %d for a wrong workspace; \"%s\"", what, (int)st,
                       jobs[i].reason);
            continue;
        }
        ran++;
        ran_ok += st == QMAR_SUCCESS;
        if (gr->broken == BROKEN_YES)
            FUZZ_CHECK(st == QMAR_ERR_RUNTIME, "broken-group",
                       "%s: a broken group must fail at once, got %d", what, (int)st);
        else if (gr->broken == BROKEN_MAYBE || (complete && tolerant))
            FUZZ_CHECK(st == healthy || st == QMAR_ERR_RUNTIME, "run",
                       "%s: %d, expected %d; \"%s\"", what, (int)st, (int)healthy, jobs[i].reason);
        else
            FUZZ_CHECK(st == healthy, "run", "%s: returned %d, expected %d; \"%s\"", what,
                       (int)st, (int)healthy, jobs[i].reason);
    }
    if (runners > 0 && !complete)
        gr->broken = BROKEN_YES; /* its runners timed out */
    else if (gr->broken == BROKEN_YES)
        ; /* a broken group stays broken (spec/api.md), whatever its ranks' workspaces */
    else if (runners > 0 && complete && ran > 0 && ran_ok == ran)
        gr->broken = BROKEN_NO; /* (not when no rank had a workspace to run with) */
    else if (runners > 0 && complete && healthy == QMAR_SUCCESS)
        gr->broken = BROKEN_YES; /* a tolerated timeout */
    else if (runners > 0 && complete && gr->broken == BROKEN_NO && tolerant)
        gr->broken = BROKEN_MAYBE; /* disagreement or a timeout: cannot tell */
    /* Run consumes its executor whatever happened. Remove from the highest index down. */
    int order[64];
    for (int i = 0; i < n; i++)
        order[i] = idx[i];
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (order[j] > order[i]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    for (int i = 0; i < n; i++) {
        release_exec_ref(w, w->execs[order[i]].g, w->execs[order[i]].r);
        drop_exec(w, order[i]);
    }
}

/* op RUN_ONE: u8 index, u8 workspace mode (% 7: exact, larger, one byte short, NULL, 0;
 * executor NULL; the stale handle of an executor already run or destroyed, run and destroyed
 * again: it names nothing, touches no group). A rank of a larger group running alone times out. */
static void op_run_one(world *w)
{
    uint8_t iv = fz_u8(&w->r), mode = fz_u8(&w->r) % (WS_MODES + 2);
    if (mode == WS_MODES + 1 && w->stale != NULL) {
        char ws[64];
        expect_status(qmar_quant_matmul_all_reduce_v3(ws, sizeof ws, w->stale, NULL),
                      QMAR_ERR_PARAM_INVALID, "run(stale executor)");
        qmar_executor_destroy(w->stale);
        return;
    }
    if (mode >= WS_MODES || w->nexecs == 0) {
        expect_status(qmar_quant_matmul_all_reduce_v3(NULL, 0, NULL, NULL),
                      QMAR_ERR_PARAM_NULLPTR, "run(NULL executor)");
        return;
    }
    int i = iv % w->nexecs, m = mode;
    run_set(w, w->execs[i].g, &i, &m, 1, 0, NULL);
}

/* The first pending executor of every rank of group g but rank `skip` (-1: none) into idx, each
 * with workspace mode WS_EXACT, or WS_SHORT for rank `short_rank`; returns how many. */
static int pending_runs(const world *w, int g, int32_t skip, int32_t short_rank, int *idx,
                        int *modes)
{
    int n = 0;
    for (int32_t r = 0; r < w->groups[g].size; r++)
        for (int i = 0; i < w->nexecs && r != skip; i++)
            if (w->execs[i].g == g && w->execs[i].r == r) {
                modes[n] = r == short_rank ? WS_SHORT : WS_EXACT;
                idx[n++] = i;
                break;
            }
    return n;
}

/* op RUN_GROUP: u8 group, u8 fault (v % 8 == 7: rank (v >> 3) % size runs with a short
 * workspace; 0xC0-0xC6: (v & 7) + 1 spinning threads run beside the ranks, for the first
 * MAX_CONTENDED such runs of an input — rare, since they cost the whole machine while they
 * spin). Runs the first pending executor of every rank that has one. */
static void op_run_group(world *w)
{
    int g = pick_group(w);
    uint8_t fault = fz_u8(&w->r);
    if (g < 0)
        return;
    int idx[64], modes[64];
    int32_t short_rank = fault % 8 == 7 ? (int32_t)((fault >> 3) % w->groups[g].size) : -1;
    int n = pending_runs(w, g, -1, short_rank, idx, modes);
    int spinners = fault >= 0xC0 && fault < 0xC7 && w->contended < MAX_CONTENDED
                       ? (fault & 7) + 1 : 0;
    w->contended += spinners > 0;
    if (n > 0)
        run_set(w, g, idx, modes, n, spinners, NULL);
}

/* op REVOKE: u8 group, u8 rank, u8 variant (bit 7: comm NULL; bit 6: while the other ranks run
 * their first pending executor, (v >> 2) % 8 ms after they start). A revoked group fails every
 * collective at once with 361001 and stays broken (spec/api.md "Outside Run"); a destroyed
 * endpoint's handle names nothing to revoke. */
static void op_revoke(world *w)
{
    int g = pick_group(w);
    uint8_t rv = fz_u8(&w->r), v = fz_u8(&w->r);
    if (v & 0x80) {
        expect_status(qmar_comm_revoke(NULL), QMAR_ERR_PARAM_NULLPTR, "comm_revoke(NULL)");
        return;
    }
    if (g < 0)
        return;
    int32_t r = rv % w->groups[g].size;
    endpoint *e = ep_at(w, g, r);
    if (e->freed) /* the pointer is gone */
        return;
    if (e->destroyed) {
        expect_status(qmar_comm_revoke(e->c), QMAR_ERR_PARAM_INVALID, "comm_revoke (destroyed)");
        return;
    }
    int idx[64], modes[64];
    int n = (v & 0x40) ? pending_runs(w, g, r, -1, idx, modes) : 0;
    if (n == 0) {
        expect_status(qmar_comm_revoke(e->c), QMAR_SUCCESS, "comm_revoke");
        w->groups[g].broken = BROKEN_YES;
        return;
    }
    revoke_plan plan = {e->c, (v >> 2) % 8};
    run_set(w, g, idx, modes, n, 0, &plan); /* incomplete: the group ends up broken */
}

/* ---- Odds and ends --------------------------------------------------------------------------- */

/* op STATUS: u8 choice of a code (the five, or u32 raw) -> its constant name; the library's
 * version against its header's. */
static void op_status(world *w)
{
    static const qmar_status codes[5] = {QMAR_SUCCESS, QMAR_ERR_PARAM_NULLPTR,
                                         QMAR_ERR_PARAM_INVALID, QMAR_ERR_RUNTIME, QMAR_ERR_INNER};
    static const char *const names[5] = {"QMAR_SUCCESS", "QMAR_ERR_PARAM_NULLPTR",
                                         "QMAR_ERR_PARAM_INVALID", "QMAR_ERR_RUNTIME",
                                         "QMAR_ERR_INNER"};
    uint8_t v = fz_u8(&w->r);
    qmar_status s = v % 6 < 5 ? codes[v % 6] : (qmar_status)fz_u32(&w->r);
    const char *want = "unknown status";
    for (int i = 0; i < 5; i++)
        if (s == codes[i])
            want = names[i];
    const char *got = qmar_status_string(s);
    FUZZ_CHECK(got != NULL && strcmp(got, want) == 0, "status-string", "%d -> \"%s\", expected %s",
               (int)s, got ? got : "(null)", want);
    FUZZ_CHECK(qmar_last_error() != NULL, "last-error", "qmar_last_error() returned NULL");
    char version[32];
    snprintf(version, sizeof version, "%d.%d.%d", QMAR_VERSION_MAJOR, QMAR_VERSION_MINOR,
             QMAR_VERSION_PATCH);
    FUZZ_CHECK(strcmp(qmar_version(), version) == 0, "version",
               "the library says %s, its header %s", qmar_version(), version);
}

/* op TENSOR: u8 variant: what qmar_tensor_create must refuse (9 dims, NULL dims with dims > 0)
 * and what it must store (0 dims with NULL dims, any values). */
static void op_tensor(world *w)
{
    static int64_t dims[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint8_t v = fz_u8(&w->r) % 6;
    uint64_t vn = v == 0 ? 9 : v == 2 ? 1 : v == 4 ? 0 : 2;
    uint64_t sn = v == 1 ? 9 : v == 3 ? 1 : v == 4 ? 0 : 2;
    const int64_t *vd = v == 2 || v == 4 ? NULL : dims, *sd = v == 3 || v == 4 ? NULL : dims;
    qmar_tensor *t = qmar_tensor_create(vd, vn, (qmar_dtype)99, dims, -5, (qmar_format)-1, sd, sn,
                                        NULL);
    int storable = v >= 4;
    FUZZ_CHECK((t != NULL) == storable, "tensor-create", "variant %d: %s", (int)v,
               t ? "stored what cannot be stored" : "refused a storable descriptor");
    qmar_tensor_destroy(t);
    qmar_tensor_destroy(NULL);
}

typedef void (*op_fn)(world *w);
static const op_fn OPS[] = {op_init,         op_destroy_comm, op_query,      op_set_timeout,
                            op_plan,         op_destroy_exec, op_run_one,    op_run_group,
                            op_status,       op_tensor,       op_plan,       op_revoke};
#define NOPS (sizeof OPS / sizeof OPS[0])

/* Everything still held goes back: executors first, then the endpoints the user still owns. */
static void cleanup(world *w)
{
    while (w->nexecs > 0) {
        exec_rec *x = &w->execs[w->nexecs - 1];
        qmar_executor_destroy(x->ex);
        release_exec_ref(w, x->g, x->r);
        drop_exec(w, w->nexecs - 1);
    }
    for (int g = 0; g < w->ngroups; g++) {
        for (int32_t r = 0; r < w->groups[g].size; r++)
            if (!w->groups[g].ep[r].destroyed)
                expect_status(qmar_comm_destroy(w->groups[g].ep[r].c), QMAR_SUCCESS,
                              "comm_destroy at the end");
        free(w->groups[g].ep);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static world w; /* large: not on the stack */
    memset(&w, 0, sizeof w);
    w.r = fz_init(data, size);
    for (int n = 0; n < MAX_OPS && fz_left(&w.r) > 0; n++) {
        uint8_t op = fz_u8(&w.r);
        if (fuzz_verbose())
            fprintf(stderr, "fuzz_api: op %u (%d groups, %d executors)\n", (unsigned)(op % NOPS),
                    w.ngroups, w.nexecs);
        OPS[op % NOPS](&w);
    }
    cleanup(&w);
    return 0;
}
