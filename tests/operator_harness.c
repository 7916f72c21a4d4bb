/* SPDX-License-Identifier: Apache-2.0 */
/* The operator harness: inputs from a seed, the library on threads, the model, the comparison. */
#include "operator_harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t harness_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* ---- where values come from: payload bytes first (fuzzers), then the seeded stream ---------- */

typedef struct source {
    uint64_t state; /* harness_next state */
    const uint8_t *p;
    uint64_t len, pos;
} source;

/* A 64-bit value whose low `bytes` bytes come from the payload while it lasts; the rest (all of
 * it once the payload is used up, or without a payload) from the seeded stream. */
static uint64_t draw(source *src, int bytes)
{
    uint64_t v = harness_next(&src->state);
    for (int i = 0; i < bytes && src->pos < src->len; i++) {
        v &= ~((uint64_t)0xFF << (8 * i));
        v |= (uint64_t)src->p[src->pos++] << (8 * i);
    }
    return v;
}

/* Slice `part` of `parts` of the scenario's payload (empty without one), so that every rank's data
 * still depend only on (seed, rank, payload). */
static source source_of(const scenario *sc, uint64_t state, int32_t part, int32_t parts)
{
    source s = {state, NULL, 0, 0};
    if (sc->payload != NULL && sc->payload_len > 0) {
        uint64_t lo = sc->payload_len * (uint64_t)part / (uint64_t)parts;
        uint64_t hi = sc->payload_len * (uint64_t)(part + 1) / (uint64_t)parts;
        s.p = sc->payload + lo;
        s.len = hi - lo;
    }
    return s;
}

/* ---- value generators: mostly ordinary magnitudes, with every special class mixed in -------- */

static uint32_t special_f32(uint64_t r)
{
    static const uint32_t v[] = {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u,
                                 0x00000001u, 0x807FFFFFu, 0x7F7FFFFFu, 0x3F800000u, 0xBF000000u};
    return v[r % (sizeof v / sizeof v[0])];
}

/* fp32 bits with exponent around 2^(center +- spread). */
static uint32_t gen_f32(source *st, int mode, int center, int spread)
{
    if (mode == 3)
        return (uint32_t)draw(st, 4);
    uint64_t r = draw(st, 8);
    if (r % 100 < (uint64_t)(mode == 2 ? 30 : 3))
        return special_f32(r >> 8);
    uint32_t sign = (uint32_t)(r >> 63) << 31;
    int e = 127 + center + (int)((r >> 32) % (uint64_t)(2 * spread + 1)) - spread;
    return sign | ((uint32_t)e << 23) | (uint32_t)(r & 0x7FFFFFu);
}

/* Y bits with exponent around 2^(center +- spread); specials as for fp32. */
static uint16_t gen_y(source *st, qmar_dtype y, int mode, int center, int spread)
{
    if (mode == 3)
        return (uint16_t)draw(st, 2);
    uint64_t r = draw(st, 8);
    if (r % 100 < (uint64_t)(mode == 2 ? 30 : 3)) {
        static const uint16_t h[] = {0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x0001, 0x83FF, 0x7BFF};
        static const uint16_t b[] = {0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x807F, 0x7F7F};
        return (y == QMAR_BF16 ? b : h)[(r >> 8) % 8];
    }
    uint16_t sign = (uint16_t)((r >> 63) << 15);
    if (y == QMAR_BF16) {
        int e = 127 + center + (int)((r >> 32) % (uint64_t)(2 * spread + 1)) - spread;
        return (uint16_t)(sign | (e << 7) | (r & 0x7F));
    }
    int e = 15 + center + (int)((r >> 32) % (uint64_t)(2 * spread + 1)) - spread;
    if (e < 1)
        e = 0; /* denormal */
    if (e > 30)
        e = 30;
    return (uint16_t)(sign | (e << 10) | (r & 0x3FF));
}

static int8_t gen_i8(source *st, int mode)
{
    if (mode == 3)
        return (int8_t)(uint8_t)draw(st, 1);
    uint64_t r = draw(st, 8);
    if (mode == 1)
        return (r & 1) ? 127 : -128;
    return (int8_t)(r & 0xFF);
}

#define GUARD_BYTE 0xA5

/* ---- one rank's buffers -------------------------------------------------------------------- */

typedef struct rank_data {
    int8_t *x1, *x2_stored, *x2_logical;
    int32_t *bias;
    void *dequant;      /* n elements: words, fp32 or bf16 per case */
    uint32_t *pertoken;
    uint16_t *x3, *out, *model_out, *s1;
    unsigned char *out_block; /* out, with HARNESS_GUARD bytes of GUARD_BYTE on each side */
    qmar_tensor *t[9];
} rank_data;

struct harness_world {
    scenario sc;        /* normalised copy */
    int64_t m;
    uint16_t *s1, *s2;  /* the same on every rank, except a differing rank's s1 */
    rank_data rank[QMAR_COMM_MAX_RANKS];
    int32_t differ_rank;
};
typedef struct harness_world world;

static int has_pertoken(const scenario *sc)
{
    return sc->op_case == 2 || (sc->op_case == 3 && sc->case3_pertoken);
}

static qmar_dtype dequant_dtype(const scenario *sc)
{
    if (sc->y == QMAR_BF16)
        return QMAR_BF16;
    return has_pertoken(sc) ? QMAR_FLOAT : QMAR_UINT64;
}

static int64_t x2_stored_size(model_x2_layout l, int64_t k, int64_t n)
{
    if (l == MODEL_X2_NZ)
        return (int64_t)model_nz_size(k, n);
    if (l == MODEL_X2_NZ_T)
        return (int64_t)model_nz_size(n, k);
    return k * n;
}

/* Stores the logical k x n matrix in the scenario's layout (the library's helper makes NZ). */
static void store_x2(model_x2_layout l, const int8_t *logical, int64_t k, int64_t n, int8_t *out)
{
    int8_t *t = malloc((size_t)(k * n));
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = 0; j < n; j++)
            t[j * k + i] = logical[i * n + j];
    uint64_t size = (uint64_t)x2_stored_size(l, k, n);
    if (l == MODEL_X2_ND)
        memcpy(out, logical, (size_t)(k * n));
    else if (l == MODEL_X2_ND_T)
        memcpy(out, t, (size_t)(k * n));
    else if (l == MODEL_X2_NZ)
        qmar_trans_matmul_weight(logical, k, n, out, size);
    else
        qmar_trans_matmul_weight(t, n, k, out, size);
    free(t);
}

static void fill_rank(const scenario *sc, rank_data *d, int64_t m, source *st)
{
    int mode = sc->data_mode;
    int64_t k = sc->k, n = sc->n;
    for (int64_t i = 0; i < m * k; i++)
        d->x1[i] = gen_i8(st, mode);
    for (int64_t i = 0; i < k * n; i++)
        d->x2_logical[i] = gen_i8(st, mode);
    store_x2(sc->x2_layout, d->x2_logical, k, n, d->x2_stored);
    for (int64_t j = 0; j < n && mode == 3; j++)
        d->bias[j] = (int32_t)(uint32_t)draw(st, 4); /* any int32: acc + bias is exact in int64 */
    for (int64_t j = 0; j < n && mode != 3; j++) {
        uint64_t r = draw(st, 8);
        int32_t edge = (int32_t)(r >> 40 & 0xFF); /* biases near +-2^31: acc + bias must not wrap */
        d->bias[j] = r % 16 == 0 ? ((r & 1) ? INT32_MAX - edge : INT32_MIN + edge)
                                 : (int32_t)((r >> 32) % 200001) - 100000;
    }
    qmar_dtype dq = dequant_dtype(sc);
    for (int64_t j = 0; j < n; j++) {
        if (dq == QMAR_UINT64 && mode == 3)
            ((uint64_t *)d->dequant)[j] = draw(st, 8);
        else if (dq == QMAR_UINT64) /* the high word is noise: decoding must ignore it */
            ((uint64_t *)d->dequant)[j] =
                (draw(st, 8) & 0xFFFFFFFF00000000u) | gen_f32(st, mode, -14, 6);
        else if (dq == QMAR_FLOAT)
            ((uint32_t *)d->dequant)[j] = gen_f32(st, mode, -14, 6);
        else
            ((uint16_t *)d->dequant)[j] = gen_y(st, QMAR_BF16, mode, -14, 6);
    }
    for (int64_t i = 0; i < m; i++)
        d->pertoken[i] = gen_f32(st, mode, 0, 4);
    for (int64_t i = 0; i < m * n; i++)
        d->x3[i] = gen_y(st, sc->y, mode, 0, 6);
    /* With x3 aliasing the output, the output buffer holds x3 on entry. */
    memcpy(d->out, d->x3, (size_t)(m * n) * 2);
    memcpy(d->model_out, d->x3, (size_t)(m * n) * 2);
}

static int rank_alloc(rank_data *d, int64_t m, int64_t k, int64_t n, int64_t x2_size)
{
    d->x1 = malloc((size_t)(m * k));
    d->x2_stored = malloc((size_t)x2_size);
    d->x2_logical = malloc((size_t)(k * n));
    d->bias = malloc((size_t)n * 4);
    d->dequant = malloc((size_t)n * 8);
    d->pertoken = malloc((size_t)m * 4);
    d->x3 = malloc((size_t)(m * n) * 2);
    d->out_block = malloc((size_t)(m * n) * 2 + 2 * HARNESS_GUARD);
    d->out = d->out_block != NULL ? (uint16_t *)(d->out_block + HARNESS_GUARD) : NULL;
    if (d->out_block != NULL) {
        memset(d->out_block, GUARD_BYTE, HARNESS_GUARD);
        memset(d->out_block + HARNESS_GUARD + (m * n) * 2, GUARD_BYTE, HARNESS_GUARD);
    }
    d->model_out = malloc((size_t)(m * n) * 2);
    return d->x1 && d->x2_stored && d->x2_logical && d->bias && d->dequant && d->pertoken &&
           d->x3 && d->out && d->model_out;
}

static void rank_free(rank_data *d)
{
    for (int s = 0; s < 9; s++)
        qmar_tensor_destroy(d->t[s]);
    free(d->x1);
    free(d->x2_stored);
    free(d->x2_logical);
    free(d->bias);
    free(d->dequant);
    free(d->pertoken);
    free(d->x3);
    free(d->out_block);
    free(d->model_out);
    free(d->s1);
}

/* ---- descriptors --------------------------------------------------------------------------- */

static qmar_tensor *nd_tensor(const int64_t *dims, uint64_t nd, qmar_dtype dt, void *data)
{
    return qmar_tensor_create(dims, nd, dt, NULL, 0, QMAR_FORMAT_ND, dims, nd, data);
}

static qmar_tensor *x2_tensor(model_x2_layout l, int64_t k, int64_t n, int8_t *data)
{
    int64_t view[2] = {k, n}, tstrides[2] = {1, k}, tdims[2] = {n, k};
    int transposed = l == MODEL_X2_ND_T || l == MODEL_X2_NZ_T;
    if (l == MODEL_X2_ND || l == MODEL_X2_ND_T)
        return qmar_tensor_create(view, 2, QMAR_INT8, transposed ? tstrides : NULL, 0,
                                  QMAR_FORMAT_ND, transposed ? tdims : view, 2, data);
    int64_t h = transposed ? n : k, w = transposed ? k : n;
    int64_t nz[4] = {(w + 31) / 32, (h + 15) / 16, 16, 32};
    return qmar_tensor_create(view, 2, QMAR_INT8, transposed ? tstrides : NULL, 0,
                              QMAR_FORMAT_FRACTAL_NZ, nz, 4, data);
}

/* x1's and output's views; a differing rank flips between (s, k) and (1, s, k) (same data). */
static uint64_t matrix_dims(const scenario *sc, int differ, int64_t last, int64_t *dims)
{
    int64_t b = sc->b > 0 ? sc->b : 1;
    if ((sc->b > 0) != differ) {
        dims[0] = b;
        dims[1] = sc->s;
        dims[2] = last;
        return 3;
    }
    dims[0] = b * sc->s;
    dims[1] = last;
    return 2;
}

static void make_tensors(world *w, int32_t r)
{
    const scenario *sc = &w->sc;
    rank_data *d = &w->rank[r];
    int64_t k = sc->k, n = sc->n, m = w->m;
    int differ = r == w->differ_rank && sc->op_case != 3;
    int64_t x1d[3], outd[3], bd[1] = {n}, pd[1] = {m}, rowd[2] = {1, n}, oned[1] = {1};
    uint64_t nd = matrix_dims(sc, differ, k, x1d);
    matrix_dims(sc, differ, n, outd);
    d->t[0] = nd_tensor(x1d, nd, QMAR_INT8, d->x1);
    d->t[1] = x2_tensor(sc->x2_layout, k, n, d->x2_stored);
    d->t[2] = sc->bias ? nd_tensor(bd, 1, QMAR_INT32, d->bias) : NULL;
    d->t[3] = sc->x3 == X3_NONE ? NULL
              : nd_tensor(outd, nd, sc->y, sc->x3 == X3_ALIASES_OUTPUT ? d->out : d->x3);
    d->t[4] = sc->scale_shape == SCALE_ONE ? nd_tensor(oned, 1, dequant_dtype(sc), d->dequant)
              : sc->scale_shape == SCALE_N ? nd_tensor(bd, 1, dequant_dtype(sc), d->dequant)
                                           : nd_tensor(rowd, 2, dequant_dtype(sc), d->dequant);
    d->t[5] = has_pertoken(sc) ? nd_tensor(pd, 1, QMAR_FLOAT, d->pertoken) : NULL;
    if (sc->op_case == 3) {
        uint16_t *s1 = d->s1 != NULL ? d->s1 : w->s1;
        d->t[6] = sc->comm_scale_row ? nd_tensor(rowd, 2, sc->y, s1) : nd_tensor(bd, 1, sc->y, s1);
        d->t[7] = sc->comm_scale_row ? nd_tensor(rowd, 2, sc->y, w->s2)
                                     : nd_tensor(bd, 1, sc->y, w->s2);
    }
    d->t[8] = nd_tensor(outd, nd, sc->y, d->out);
}

/* ---- the library ---------------------------------------------------------------------------- */

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

qmar_status harness_plan_rank(harness_world *w, int32_t r, const char *group, uint64_t *ws_size,
                              qmar_executor **ex)
{
    qmar_tensor **t = w->rank[r].t;
    return qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], group, "sum", 0, 1, t[8], ws_size, ex);
}

qmar_status harness_run_rank(harness_world *w, int32_t r, const char *group, double *seconds)
{
    uint64_t ws_size = 0;
    qmar_executor *ex = NULL;
    *seconds = 0;
    qmar_status st = harness_plan_rank(w, r, group, &ws_size, &ex);
    if (st != QMAR_SUCCESS)
        return st;
    void *ws = malloc(ws_size ? ws_size : 1);
    double t0 = now_seconds();
    st = qmar_quant_matmul_all_reduce_v3(ws, ws_size, ex, NULL);
    *seconds = now_seconds() - t0;
    free(ws);
    return st;
}

/* In-process run: one thread per rank. */
typedef struct threads_run {
    world *w;
    qmar_comm *comm[QMAR_COMM_MAX_RANKS];
    int32_t stall_rank;
    harness_result *res;
    double seconds[QMAR_COMM_MAX_RANKS];
} threads_run;

typedef struct rank_job {
    threads_run *run;
    int32_t r;
} rank_job;

static void *rank_main(void *arg)
{
    rank_job *job = arg;
    threads_run *run = job->run;
    char group[QMAR_GROUP_NAME_MAX];
    qmar_comm_get_name(run->comm[job->r], group);
    qmar_status st = harness_run_rank(run->w, job->r, group, &run->seconds[job->r]);
    run->res->status[job->r] = st;
    if (st != QMAR_SUCCESS && run->res->reason[0] == '\0')
        snprintf(run->res->reason, sizeof run->res->reason, "rank %d: %s", (int)job->r,
                 qmar_last_error());
    return NULL;
}

static void run_threads(threads_run *run)
{
    pthread_t th[QMAR_COMM_MAX_RANKS];
    rank_job jobs[QMAR_COMM_MAX_RANKS];
    int32_t R = run->w->sc.ranks;
    for (int32_t r = 0; r < R; r++) {
        jobs[r] = (rank_job){run, r};
        if (r == run->stall_rank)
            run->res->status[r] = QMAR_SUCCESS; /* never arrives */
        else
            pthread_create(&th[r], NULL, rank_main, &jobs[r]);
    }
    for (int32_t r = 0; r < R; r++)
        if (r != run->stall_rank)
            pthread_join(th[r], NULL);
}

/* ---- the model and the comparison ---------------------------------------------------------- */

void harness_model(harness_world *w)
{
    const scenario *sc = &w->sc;
    model_rank_in in[QMAR_COMM_MAX_RANKS];
    uint16_t *outs[QMAR_COMM_MAX_RANKS];
    for (int32_t r = 0; r < sc->ranks; r++) {
        rank_data *d = &w->rank[r];
        /* The model reads x2 out of the stored bytes itself, independently of the library. */
        model_x2_from_stored(sc->x2_layout, d->x2_stored, sc->k, sc->n, d->x2_logical);
        qmar_dtype dq = dequant_dtype(sc);
        in[r] = (model_rank_in){
            .x1 = d->x1, .x2 = d->x2_logical, .bias = sc->bias ? d->bias : NULL,
            .scale_w64 = dq == QMAR_UINT64 ? d->dequant : NULL,
            .scale_f32 = dq == QMAR_FLOAT ? d->dequant : NULL,
            .scale_bf16 = dq == QMAR_BF16 ? d->dequant : NULL,
            .pertoken = has_pertoken(sc) ? d->pertoken : NULL,
            .x3 = sc->x3 == X3_NONE ? NULL : sc->x3 == X3_ALIASES_OUTPUT ? d->model_out : d->x3,
        };
        outs[r] = d->model_out;
    }
    model_op op = {.ranks = sc->ranks, .m = w->m, .k = sc->k, .n = sc->n, .y = sc->y,
                   .scale_count = sc->scale_shape == SCALE_ONE ? 1 : sc->n,
                   .s1 = sc->op_case == 3 ? w->s1 : NULL, .s2 = sc->op_case == 3 ? w->s2 : NULL,
                   .rank = in};
    model_quant_matmul_all_reduce_v3(&op, outs);
}

static int is_nan_y(uint16_t h, qmar_dtype y)
{
    return y == QMAR_BF16 ? (h & 0x7FFF) > 0x7F80 : (h & 0x7FFF) > 0x7C00;
}

static int64_t count_wrong(const uint16_t *got, const uint16_t *want, int64_t cells, qmar_dtype y)
{
    int64_t wrong = 0;
    for (int64_t c = 0; c < cells; c++)
        wrong += got[c] != want[c] && !(is_nan_y(got[c], y) && is_nan_y(want[c], y));
    return wrong;
}

/* Rank r's data come from its own stream, so any process can rebuild any rank's inputs. */
static uint64_t rank_stream(uint64_t seed, int32_t r)
{
    return seed ^ ((uint64_t)(r + 1) * 0xD1B54A32D192ED03u);
}

static int build_scales(world *w)
{
    const scenario *sc = &w->sc;
    source st = source_of(sc, sc->seed, 0, sc->ranks + 1);
    w->s1 = malloc((size_t)sc->n * 2);
    w->s2 = malloc((size_t)sc->n * 2);
    if (w->s1 == NULL || w->s2 == NULL)
        return 0;
    for (int64_t j = 0; j < sc->n; j++) {
        w->s1[j] = gen_y(&st, sc->y, sc->data_mode, 4, 4);
        w->s2[j] = gen_y(&st, sc->y, sc->data_mode, 2, 4);
    }
    return 1;
}

/* A differing rank in case 3 has its own s1, one bit away from everyone else's. */
static int make_differing_s1(world *w, rank_data *d)
{
    int64_t n = w->sc.n;
    d->s1 = malloc((size_t)n * 2);
    if (d->s1 == NULL)
        return 0;
    memcpy(d->s1, w->s1, (size_t)n * 2);
    d->s1[n - 1] ^= 1;
    return 1;
}

harness_world *harness_build(const scenario *sc, int32_t differ_rank)
{
    world *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    /* A transposed view with k == 1 or n == 1 is also contiguous, and contiguity wins
     * (spec/validation.md, question 8): such an NZ weight must be the NZ of (k, n). */
    w->sc = *sc;
    if (w->sc.x2_layout == MODEL_X2_NZ_T && (sc->k == 1 || sc->n == 1))
        w->sc.x2_layout = MODEL_X2_NZ;
    sc = &w->sc;
    w->m = (sc->b > 0 ? sc->b : 1) * sc->s;
    w->differ_rank = differ_rank;
    int ok = build_scales(w);
    for (int32_t r = 0; ok && r < sc->ranks; r++) {
        source st = source_of(sc, rank_stream(sc->seed, r), r + 1, sc->ranks + 1);
        ok = rank_alloc(&w->rank[r], w->m, sc->k, sc->n,
                        x2_stored_size(sc->x2_layout, sc->k, sc->n));
        if (ok)
            fill_rank(sc, &w->rank[r], w->m, &st);
        if (ok && r == differ_rank && sc->op_case == 3)
            ok = make_differing_s1(w, &w->rank[r]);
    }
    for (int32_t r = 0; ok && r < sc->ranks; r++)
        make_tensors(w, r);
    if (!ok) {
        harness_free(w);
        return NULL;
    }
    return w;
}

void harness_free(harness_world *w)
{
    if (w == NULL)
        return;
    for (int32_t r = 0; r < w->sc.ranks; r++)
        rank_free(&w->rank[r]);
    free(w->s1);
    free(w->s2);
    free(w);
}

int64_t harness_wrong(const harness_world *w, int32_t r)
{
    return count_wrong(w->rank[r].out, w->rank[r].model_out, w->m * w->sc.n, w->sc.y);
}

void harness_reset_output(harness_world *w, int32_t r)
{
    memcpy(w->rank[r].out, w->rank[r].x3, (size_t)(w->m * w->sc.n) * 2);
}

const uint16_t *harness_output(const harness_world *w, int32_t r)
{
    return w->rank[r].out;
}

int harness_guards_intact(const harness_world *w, int32_t r)
{
    const unsigned char *b = w->rank[r].out_block;
    size_t after = HARNESS_GUARD + (size_t)(w->m * w->sc.n) * 2;
    for (size_t i = 0; i < HARNESS_GUARD; i++)
        if (b[i] != GUARD_BYTE || b[after + i] != GUARD_BYTE)
            return 0;
    return 1;
}

int64_t harness_m(const harness_world *w)
{
    return w->m;
}

int harness_run(const scenario *sc, int32_t stall_rank, int32_t differ_rank, int64_t timeout_ms,
                harness_result *res)
{
    memset(res, 0, sizeof *res);
    threads_run run = {.stall_rank = stall_rank, .res = res};
    run.w = harness_build(sc, differ_rank);
    if (run.w == NULL)
        return -1;
    int ok = qmar_comm_init_all(sc->ranks, run.comm) == QMAR_SUCCESS;
    for (int32_t r = 0; ok && timeout_ms > 0 && r < sc->ranks; r++)
        qmar_comm_set_timeout_ms(run.comm[r], timeout_ms);
    if (ok) {
        run_threads(&run);
        harness_model(run.w);
        for (int32_t r = 0; r < sc->ranks; r++) {
            res->wrong[r] = harness_wrong(run.w, r);
            if (run.seconds[r] > res->seconds)
                res->seconds = run.seconds[r];
        }
        for (int32_t r = 0; r < sc->ranks; r++)
            qmar_comm_destroy(run.comm[r]);
    }
    harness_free(run.w);
    return ok ? 0 : -1;
}

void harness_describe(const scenario *sc, char *buf, int len)
{
    static const char *layouts[] = {"nd", "nd-t", "nz", "nz-t"};
    static const char *x3s[] = {"no-x3", "x3", "x3=out"};
    static const char *scales[] = {"(1)", "(n)", "(1,n)"};
    snprintf(buf, (size_t)len,
             "case%d%s %s R=%d x1=%s(%lld,%lld,%lld) n=%lld x2=%s %s %s dequant%s%s mode=%d "
             "seed=%llu",
             (int)sc->op_case, sc->op_case == 3 && sc->case3_pertoken ? "+pertoken" : "",
             sc->y == QMAR_BF16 ? "bf16" : "fp16", (int)sc->ranks, sc->b > 0 ? "3d" : "2d",
             (long long)sc->b, (long long)sc->s, (long long)sc->k, (long long)sc->n,
             layouts[sc->x2_layout], sc->bias ? "bias" : "no-bias", x3s[sc->x3],
             scales[sc->scale_shape], sc->comm_scale_row ? " comm(1,n)" : "", (int)sc->data_mode,
             (unsigned long long)sc->seed);
}
