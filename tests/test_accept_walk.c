/* SPDX-License-Identifier: Apache-2.0 */
/* test_accept_walk: the production validator against the independent acceptance predicate.
 *
 * spec/model/accept.c is transcribed from spec/validation.md without looking at lib/src, so when
 * both give the same status on a large, structured set of calls, neither has misread the spec in
 * a way that set exercises. The walk:
 *   - bases: valid calls (cases 1/2/3, FP16/BF16 output, x1 2-D/3-D, x2 ND/transposed/NZ/NZ
 *     transposed, optional slots present or absent, plus bases at the k/n/m limits);
 *   - singles: every base with one slot (or the attributes) put in every state of every family;
 *   - shapes: every base rebuilt with (m, k, n) swept across their limits;
 *   - pairs: selected bases with two slots varied at once over a reduced set of states.
 * Every combination must give the model's status; on success the executor and the workspace
 * formula of qmar.h are checked, on failure the NULLed outputs and a non-empty reason.
 *
 * Data pointers are fake addresses (GetWorkspaceSize never reads data): slot s lives at
 * (s + 1) << 52, so no two footprints of a base meet (a footprint is < 2^51 bytes, L1) unless a
 * variation moves them. An optional argument N runs only every N-th combination (for valgrind). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "check.h"
#include "qmar/qmar.h"

#define ATTR ACCEPT_NSLOTS /* pseudo-slot of the non-tensor arguments */
#define LIM ACCEPT_MAX_ELEMS
#define SLOT_ADDR(s) ((uint64_t)((s) + 1) << 52)
#define COUNTOF(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define DETAILED 20 /* mismatches printed in full */

/* ---- Group strings --------------------------------------------------------------------------- */

enum {
    G_R1,
    G_R2,
    G_R3,
    G_R4,
    G_R8,
    G_R16,
    G_R8_LAST, /* the last rank's endpoint of the 8-rank group */
    G_DESTROYED,
    G_UNKNOWN,
    G_EMPTY,
    G_LONG127, /* 127 characters, names nothing */
    G_NO_NUL,  /* 128 bytes without a NUL */
    G_SUFFIX,  /* a live name with one more character */
    G_NULL,
    G_COUNT
};

typedef struct group_state {
    const char *label;
    const char *name;
    int32_t ranks; /* ranks of the live communicator named, 0 if none */
} group_state;

static group_state groups[G_COUNT];
static const int32_t COMM_SIZES[] = {1, 2, 3, 4, 8, 16};
static qmar_comm *comms[COUNTOF(COMM_SIZES)][16];
static qmar_comm *dead_pair[2];
static char names[G_COUNT][QMAR_GROUP_NAME_MAX + 1];
static char *no_nul; /* heap block of exactly 128 bytes, so an over-read shows under valgrind */

static void set_group(int g, const char *label, const char *name, int32_t ranks)
{
    groups[g].label = label;
    groups[g].name = name;
    groups[g].ranks = ranks;
}

static int make_live_groups(void)
{
    static const char *const labels[] = {"live-1", "live-2", "live-3",
                                         "live-4", "live-8", "live-16"};
    for (int i = 0; i < COUNTOF(COMM_SIZES); i++) {
        if (qmar_comm_init_all(COMM_SIZES[i], comms[i]) != QMAR_SUCCESS ||
            qmar_comm_get_name(comms[i][0], names[G_R1 + i]) != QMAR_SUCCESS) {
            return 0;
        }
        set_group(G_R1 + i, labels[i], names[G_R1 + i], COMM_SIZES[i]);
    }
    if (qmar_comm_get_name(comms[4][7], names[G_R8_LAST]) != QMAR_SUCCESS) {
        return 0;
    }
    set_group(G_R8_LAST, "live-8-rank7", names[G_R8_LAST], 8);
    return 1;
}

/* A name that was live and is not any more (its endpoint was destroyed). */
static int make_dead_group(void)
{
    if (qmar_comm_init_all(2, dead_pair) != QMAR_SUCCESS ||
        qmar_comm_get_name(dead_pair[0], names[G_DESTROYED]) != QMAR_SUCCESS) {
        return 0;
    }
    qmar_comm_destroy(dead_pair[0]);
    dead_pair[0] = NULL;
    set_group(G_DESTROYED, "destroyed", names[G_DESTROYED], 0);
    return 1;
}

static int setup_groups(void)
{
    if (!make_live_groups() || !make_dead_group()) {
        return 0;
    }
    set_group(G_UNKNOWN, "unknown", "qmar-no-such-group", 0);
    set_group(G_EMPTY, "empty", "", 0);
    memset(names[G_LONG127], 'g', 127);
    set_group(G_LONG127, "127-chars", names[G_LONG127], 0);
    no_nul = malloc(QMAR_GROUP_NAME_MAX);
    if (!no_nul) {
        return 0;
    }
    memset(no_nul, 'q', QMAR_GROUP_NAME_MAX);
    set_group(G_NO_NUL, "128-no-nul", no_nul, 0);
    snprintf(names[G_SUFFIX], sizeof names[G_SUFFIX], "%.126sx", names[G_R2]);
    set_group(G_SUFFIX, "live-2+x", names[G_SUFFIX], 0);
    set_group(G_NULL, "NULL", NULL, 0);
    return 1;
}

static void teardown_groups(void)
{
    for (int i = 0; i < COUNTOF(COMM_SIZES); i++) {
        for (int r = 0; r < COMM_SIZES[i]; r++) {
            if (comms[i][r]) {
                qmar_comm_destroy(comms[i][r]);
            }
        }
    }
    if (dead_pair[1]) {
        qmar_comm_destroy(dead_pair[1]);
    }
    free(no_nul);
}

/* ---- Building tensors ------------------------------------------------------------------------ */

/* A call under construction: the model's arguments plus the layout each slot is meant to have,
 * so that a variation that changes the dims can re-derive strides and storage (refit). */
typedef struct combo {
    accept_args a;
    int transposed[ACCEPT_NSLOTS];
} combo;

/* Element count with wrapping arithmetic: only for building descriptors, never for judging. */
static uint64_t count_of(const int64_t *d, uint64_t n)
{
    uint64_t p = 1;
    for (uint64_t i = 0; i < n; i++) {
        p *= (uint64_t)d[i];
    }
    return p;
}

static uint64_t view_count(const accept_tensor *t)
{
    return count_of(t->dims, t->view_ndim);
}

static void set_row_major(accept_tensor *t)
{
    uint64_t rs = 1;
    for (uint64_t i = t->view_ndim; i-- > 0;) {
        t->strides[i] = (int64_t)rs;
        rs *= (uint64_t)t->dims[i];
    }
}

static void set_storage(accept_tensor *t, uint64_t nd, const int64_t *d)
{
    t->storage_ndim = nd;
    memcpy(t->storage_dims, d, nd * sizeof d[0]);
}

static void set_flat(accept_tensor *t, uint64_t count)
{
    int64_t d = (int64_t)count;
    set_storage(t, 1, &d);
}

static int64_t ceil_div(int64_t p, int64_t q)
{
    return p / q + (p % q != 0);
}

/* numerics.md section 7: an H x W matrix in NZ has storage (ceil(W/32), ceil(H/16), 16, 32). */
static void nz_dims(int64_t h, int64_t w, int64_t out[4])
{
    out[0] = ceil_div(w, 32);
    out[1] = ceil_div(h, 16);
    out[2] = 16;
    out[3] = 32;
}

/* The matrix's last two dims (k, n), reading a 1-D view as (1, n). */
static void matrix_kn(const accept_tensor *t, int64_t *k, int64_t *n)
{
    uint64_t nd = t->view_ndim;
    *k = nd >= 2 ? t->dims[nd - 2] : 1;
    *n = nd >= 1 ? t->dims[nd - 1] : 1;
}

/* NZ storage of the matrix the slot stores: (n,k) when meant transposed and no dim is 1 (with a
 * size-1 dim the view counts as contiguous, spec "transposed"), (k,n) otherwise. */
static void stored_nz(const combo *c, int s, int64_t out[4])
{
    const accept_tensor *t = &c->a.slot[s];
    int64_t k, n;
    matrix_kn(t, &k, &n);
    if (c->transposed[s] && t->view_ndim == 2 && k != 1 && n != 1) {
        nz_dims(n, k, out);
    } else {
        nz_dims(k, n, out);
    }
}

/* Re-derives strides and storage from the view and the intended layout. */
static void refit(combo *c, int s)
{
    accept_tensor *t = &c->a.slot[s];
    int tr = c->transposed[s] && t->view_ndim == 2;
    if (tr) {
        t->has_strides = 1;
        t->strides[0] = 1;
        t->strides[1] = t->dims[0];
    } else if (t->has_strides) {
        set_row_major(t);
    }
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        int64_t nz[4];
        stored_nz(c, s, nz);
        set_storage(t, 4, nz);
    } else if (tr) {
        int64_t d[2] = {t->dims[1], t->dims[0]};
        set_storage(t, 2, d);
    } else {
        set_storage(t, t->view_ndim, t->dims);
    }
}

static void make_tensor(combo *c, int s, int32_t dtype, uint64_t nd, const int64_t *dims,
                        int explicit_strides)
{
    accept_tensor *t = &c->a.slot[s];
    memset(t, 0, sizeof *t);
    t->present = 1;
    t->data = SLOT_ADDR(s);
    t->dtype = dtype;
    t->format = QMAR_FORMAT_ND;
    t->view_ndim = nd;
    memcpy(t->dims, dims, nd * sizeof dims[0]);
    t->has_strides = explicit_strides;
    refit(c, s);
}

/* ---- Base configurations --------------------------------------------------------------------- */

enum { X2_ND, X2_ND_T, X2_NZ, X2_NZ_T };

typedef struct base_cfg {
    int32_t y;
    int x1_ndim; /* 2: (m,k) with m = s; 3: (b,s,k) */
    int64_t b, s, k, n;
    int x2_kind;
    int bias, x3, x3_inplace, pertoken, comm; /* optional slots present */
    int deq_form;                             /* 0: (1), 1: (n), 2: (1,n) */
    int comm_form;                            /* 0: (n), 1: (1,n) */
    int deq_int64;        /* FP16 without pertoken: INT64 words instead of UINT64 */
    int explicit_strides; /* contiguous tensors carry row-major strides, not NULL */
    int group;
} base_cfg;

#define N_SMALL_BASES 64
#define N_LIMIT_BASES 8
#define N_BASES (N_SMALL_BASES + N_LIMIT_BASES)

static const int64_t BASE_KN[4][2] = {{24, 72}, {40, 33}, {17, 1}, {1, 40}};
static const int GROUP_OK[] = {G_R1, G_R2, G_R4, G_R8, G_R8_LAST};

/* Bases 0..63: case x Y x x1 rank x x2 kind; the other choices rotate with the index. */
static base_cfg small_base(int i)
{
    int cs = i / 16, kind = i % 4, shape = (kind + cs) % 4;
    base_cfg c = {0};
    c.y = (i / 8) % 2 ? QMAR_BF16 : QMAR_FLOAT16;
    c.x1_ndim = (i / 4) % 2 ? 3 : 2;
    c.b = c.x1_ndim == 3 ? 2 : 1;
    c.s = c.x1_ndim == 3 ? 3 : 5;
    c.k = BASE_KN[shape][0];
    c.n = BASE_KN[shape][1];
    c.x2_kind = kind;
    c.pertoken = cs == 1 || cs == 3;
    c.comm = cs >= 2;
    c.bias = i % 3 != 0;
    c.x3 = i % 5 >= 2;
    c.x3_inplace = c.x3 && i % 2;
    c.deq_form = (i / 2) % 3;
    c.comm_form = (i / 3) % 2;
    c.deq_int64 = (i / 5) % 2;
    c.explicit_strides = (i / 7) % 2;
    c.group = GROUP_OK[i % 5];
    return c;
}

/* Bases 64..71: m = 2^31 - 1, k = n = 65535, every optional slot present (case 3 + pertoken). */
static base_cfg limit_base(int j)
{
    base_cfg c = {0};
    c.y = (j / 4) % 2 ? QMAR_BF16 : QMAR_FLOAT16;
    c.x1_ndim = (j / 2) % 2 ? 3 : 2;
    c.b = 1;
    c.s = 2147483647;
    c.k = 65535;
    c.n = 65535;
    c.x2_kind = j % 4;
    c.bias = c.x3 = c.pertoken = c.comm = 1;
    c.x3_inplace = j % 2;
    c.deq_form = j % 3;
    c.comm_form = j % 2;
    c.explicit_strides = j % 3 == 1;
    c.group = GROUP_OK[j % 5];
    return c;
}

static base_cfg base_at(int i)
{
    return i < N_SMALL_BASES ? small_base(i) : limit_base(i - N_SMALL_BASES);
}

static int32_t dequant_dtype(const base_cfg *cfg)
{
    if (cfg->y == QMAR_BF16) {
        return QMAR_BF16;
    }
    if (cfg->pertoken) {
        return QMAR_FLOAT;
    }
    return cfg->deq_int64 ? QMAR_INT64 : QMAR_UINT64;
}

static void make_matrices(const base_cfg *cfg, combo *c)
{
    int64_t m = cfg->b * cfg->s, e = cfg->explicit_strides;
    int64_t x1_2d[2] = {m, cfg->k}, x1_3d[3] = {cfg->b, cfg->s, cfg->k};
    int64_t out_2d[2] = {m, cfg->n}, out_3d[3] = {cfg->b, cfg->s, cfg->n};
    int64_t x2[2] = {cfg->k, cfg->n};
    int three = cfg->x1_ndim == 3;
    make_tensor(c, ACCEPT_X1, QMAR_INT8, three ? 3 : 2, three ? x1_3d : x1_2d, (int)e);
    make_tensor(c, ACCEPT_OUTPUT, cfg->y, three ? 3 : 2, three ? out_3d : out_2d, (int)e);
    make_tensor(c, ACCEPT_X3, cfg->y, three ? 3 : 2, three ? out_3d : out_2d, (int)e);
    c->transposed[ACCEPT_X2] = cfg->x2_kind == X2_ND_T || cfg->x2_kind == X2_NZ_T;
    make_tensor(c, ACCEPT_X2, QMAR_INT8, 2, x2, (int)e);
    if (cfg->x2_kind == X2_NZ || cfg->x2_kind == X2_NZ_T) {
        c->a.slot[ACCEPT_X2].format = QMAR_FORMAT_FRACTAL_NZ;
        refit(c, ACCEPT_X2);
    }
    if (cfg->x3_inplace) {
        c->a.slot[ACCEPT_X3].data = c->a.slot[ACCEPT_OUTPUT].data;
    }
}

static void make_scales(const base_cfg *cfg, combo *c)
{
    int64_t n = cfg->n, m = cfg->b * cfg->s, one_n[2] = {1, n}, one = 1;
    int e = cfg->explicit_strides;
    make_tensor(c, ACCEPT_BIAS, QMAR_INT32, 1, &n, e);
    make_tensor(c, ACCEPT_PERTOKEN, QMAR_FLOAT, 1, &m, e);
    if (cfg->deq_form == 0) {
        make_tensor(c, ACCEPT_DEQUANT, dequant_dtype(cfg), 1, &one, e);
    } else {
        make_tensor(c, ACCEPT_DEQUANT, dequant_dtype(cfg), (uint64_t)cfg->deq_form,
                    cfg->deq_form == 1 ? &n : one_n, e);
    }
    for (int s = ACCEPT_COMM1; s <= ACCEPT_COMM2; s++) {
        make_tensor(c, s, cfg->y, cfg->comm_form ? 2 : 1, cfg->comm_form ? one_n : &n, e);
    }
}

/* Every slot is built (so a variation can bring an absent one in, whole and valid); the
 * optional ones the base lacks are then marked absent. */
static void make_base(const base_cfg *cfg, combo *c)
{
    memset(c, 0, sizeof *c);
    make_matrices(cfg, c);
    make_scales(cfg, c);
    c->a.slot[ACCEPT_BIAS].present = cfg->bias;
    c->a.slot[ACCEPT_X3].present = cfg->x3;
    c->a.slot[ACCEPT_PERTOKEN].present = cfg->pertoken;
    c->a.slot[ACCEPT_COMM1].present = cfg->comm;
    c->a.slot[ACCEPT_COMM2].present = cfg->comm;
    c->a.group = groups[cfg->group].name;
    c->a.group_ranks = groups[cfg->group].ranks;
    c->a.reduce_op = "sum";
    c->a.comm_turn = 0;
    c->a.stream_mode = 1;
}

/* ---- Variation families ---------------------------------------------------------------------- */

/* A family puts slot s in its state p; it returns 0 when the state does not apply (the
 * combination is then skipped). pairs/npairs select the states used in the pairwise walk
 * (pairs NULL: all of them). */
typedef struct family {
    const char *name;
    int count;
    int (*apply)(combo *c, int s, int p);
    const int *pairs;
    int npairs;
} family;

/* The slot, brought in (as built by make_base) if the base lacks it. */
static accept_tensor *slot_on(combo *c, int s)
{
    c->a.slot[s].present = 1;
    return &c->a.slot[s];
}

static int f_absent(combo *c, int s, int p)
{
    (void)p;
    c->a.slot[s].present = 0;
    return 1;
}

static int f_data_null(combo *c, int s, int p)
{
    (void)p;
    slot_on(c, s)->data = 0;
    return 1;
}

static const int32_t DTYPES[] = {QMAR_FLOAT,  QMAR_FLOAT16, QMAR_INT8,   QMAR_INT32, QMAR_UINT8,
                                 QMAR_INT16,  QMAR_UINT16,  QMAR_UINT32, QMAR_INT64, QMAR_UINT64,
                                 QMAR_DOUBLE, QMAR_BOOL,    QMAR_BF16,   5,          99,
                                 -1};

static int f_dtype(combo *c, int s, int p)
{
    slot_on(c, s)->dtype = DTYPES[p];
    return 1;
}

static const int32_t FORMATS[] = {QMAR_FORMAT_ND, QMAR_FORMAT_FRACTAL_NZ, 0, 99};

static int f_format(combo *c, int s, int p)
{
    slot_on(c, s)->format = FORMATS[p];
    return 1;
}

/* Insert v at position at of d[0..*nd), if there is room. */
static int insert_dim(int64_t *d, uint64_t *nd, uint64_t at, int64_t v)
{
    if (*nd >= QMAR_MAX_DIMS) {
        return 0;
    }
    memmove(d + at + 1, d + at, (*nd - at) * sizeof d[0]);
    d[at] = v;
    (*nd)++;
    return 1;
}

static int remove_dim(int64_t *d, uint64_t *nd, uint64_t at)
{
    if (*nd < 2) {
        return 0;
    }
    memmove(d + at, d + at + 1, (*nd - at - 1) * sizeof d[0]);
    (*nd)--;
    return 1;
}

/* Rank changes: 0 dims, drop the first, prepend 1 or 2, append 1, flatten, prepend 1,1,
 * merge the first two. Strides and storage follow. */
static int reshape(int64_t *d, uint64_t *nd, int p)
{
    switch (p) {
    case 0:
        *nd = 0;
        return 1;
    case 1:
        return remove_dim(d, nd, 0);
    case 2:
    case 3:
        return insert_dim(d, nd, 0, p == 2 ? 1 : 2);
    case 4:
        return insert_dim(d, nd, *nd, 1);
    case 5:
        d[0] = (int64_t)count_of(d, *nd);
        *nd = 1;
        return 1;
    case 6:
        return insert_dim(d, nd, 0, 1) && insert_dim(d, nd, 0, 1);
    default:
        if (*nd < 3) {
            return 0;
        }
        d[1] = (int64_t)((uint64_t)d[0] * (uint64_t)d[1]);
        return remove_dim(d, nd, 0);
    }
}

static int f_ndim(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    int64_t d[QMAR_MAX_DIMS];
    uint64_t nd = t->view_ndim;
    memcpy(d, t->dims, sizeof d);
    if (!reshape(d, &nd, p)) {
        return 0;
    }
    t->view_ndim = nd;
    memcpy(t->dims, d, sizeof d);
    refit(c, s);
    return 1;
}

/* clang-format off */
static const int64_t DIM_VALUES[] = {
    0, -1, 1, 2, 15, 16, 17, 31, 32, 33, 65535, 65536,
    INT64_C(2147483647), INT64_C(2147483648), INT64_C(1) << 48, (INT64_C(1) << 48) + 1,
    INT64_MAX, INT64_MIN};
/* clang-format on */
#define N_DIM_VALUES (COUNTOF(DIM_VALUES) + 2) /* + the original dim -1 and +1 */

/* p = (value * 2 + refit) * 4 + index: one dim set to a value, storage/strides following it
 * (refit) or left as they were. */
static int f_dim(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    int idx = p % 4, refit_too = (p / 4) % 2, vi = p / 8;
    if ((uint64_t)idx >= t->view_ndim) {
        return 0;
    }
    if (vi < COUNTOF(DIM_VALUES)) {
        t->dims[idx] = DIM_VALUES[vi];
    } else {
        uint64_t step = vi == COUNTOF(DIM_VALUES) ? UINT64_MAX : 1; /* -1 or +1, wrapping */
        t->dims[idx] = (int64_t)((uint64_t)t->dims[idx] + step);
    }
    if (refit_too) {
        refit(c, s);
    }
    return 1;
}

static void set_col_major(accept_tensor *t)
{
    uint64_t cs = 1;
    for (uint64_t i = 0; i < t->view_ndim; i++) {
        t->strides[i] = (int64_t)cs;
        cs *= (uint64_t)t->dims[i];
    }
}

static void set_size1_strides(accept_tensor *t, int64_t v)
{
    for (uint64_t i = 0; i < t->view_ndim; i++) {
        if (t->dims[i] == 1) {
            t->strides[i] = v;
        }
    }
}

static void fill_strides(accept_tensor *t, int64_t v, int64_t mul)
{
    for (uint64_t i = 0; i < t->view_ndim; i++) {
        t->strides[i] = mul ? (int64_t)((uint64_t)t->strides[i] * (uint64_t)mul) : v;
    }
}

/* Stride patterns over the current view; the storage stays. 0 absent, 1 row-major, 2 transposed
 * (column-major), 3 a gap in the first, 4 zeros, 5 first negated, 6/7 odd strides on size-1 dims
 * only, 8 ones, 9 doubled, 10 transposed with a padded leading dim, 11 last stride 2. */
static int f_strides(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    uint64_t nd = t->view_ndim;
    if (nd == 0 || (p == 10 && nd != 2)) {
        return 0;
    }
    t->has_strides = p != 0;
    set_row_major(t);
    switch (p) {
    case 2:
        set_col_major(t);
        break;
    case 3:
        t->strides[0] = (int64_t)((uint64_t)t->strides[0] + 1);
        break;
    case 4:
        fill_strides(t, 0, 0);
        break;
    case 5:
        t->strides[0] = (int64_t)(0 - (uint64_t)t->strides[0]);
        break;
    case 6:
        set_size1_strides(t, -7);
        break;
    case 7:
        set_size1_strides(t, 123456789);
        break;
    case 8:
        fill_strides(t, 1, 0);
        break;
    case 9:
        fill_strides(t, 0, 2);
        break;
    case 10:
        t->strides[0] = 1;
        t->strides[1] = (int64_t)((uint64_t)t->dims[0] + 1);
        break;
    case 11:
        t->strides[nd - 1] = 2;
        break;
    default:
        break;
    }
    return 1;
}

/* Offsets. 0: 1, storage kept; 1-3: 1 or 7 with a flat storage that fits (or is one short, 3);
 * 4-6: -1, INT64_MAX, INT64_MIN; 7-8: ending exactly at (or one past) a storage of the
 * element limit; 9: 2^62, storage kept. */
static int f_offset(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    uint64_t cnt = view_count(t);
    static const int64_t offsets[] = {1, 1, 7, 7, -1, INT64_MAX, INT64_MIN, 0, 0, INT64_C(1) << 62};
    static const int64_t flat_extra[] = {0, 1, 7, 6};
    t->offset = offsets[p];
    if (p >= 1 && p <= 3) {
        set_flat(t, cnt + (uint64_t)flat_extra[p]);
    } else if (p == 7 || p == 8) {
        if (cnt > LIM) {
            return 0;
        }
        t->offset = (int64_t)(LIM - cnt) + (p == 8);
        set_flat(t, LIM);
    }
    return 1;
}

/* Storage shapes unrelated to NZ: exact, one short, larger, scalar, a 0 dim, two negative dims
 * whose product is right, over the limit, flat, 8 dims, reversed, exactly the limit, flat + 1. */
static int plain_storage(accept_tensor *t, int p)
{
    uint64_t cnt = view_count(t), nd = t->view_ndim;
    int64_t d[QMAR_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};
    int ok = 1;
    switch (p) {
    case 0:
        memcpy(d, t->dims, sizeof d);
        break;
    case 1:
        d[0] = (int64_t)(cnt - 1);
        nd = 1;
        break;
    case 7:
        d[0] = (int64_t)cnt;
        nd = 1;
        break;
    case 25:
        d[0] = (int64_t)(cnt + 1);
        nd = 1;
        break;
    case 2:
    case 4:
        memcpy(d, t->dims, sizeof d);
        ok = insert_dim(d, &nd, p == 2 ? 0 : nd, p == 2 ? 2 : 0);
        break;
    case 3:
        nd = 0;
        break;
    case 5:
        d[0] = -1;
        d[1] = (int64_t)(0 - cnt);
        nd = 2;
        break;
    case 6:
    case 24:
        d[0] = INT64_C(1) << (p == 6 ? 25 : 24);
        d[1] = INT64_C(1) << 24;
        nd = 2;
        break;
    case 8:
        d[7] = (int64_t)cnt;
        nd = 8;
        break;
    default: /* 23 */
        for (uint64_t i = 0; i < nd; i++) {
            d[i] = t->dims[nd - 1 - i];
        }
        break;
    }
    if (ok) {
        set_storage(t, nd, d);
    }
    return ok;
}

/* NZ storage shapes: of (k,n), of (n,k), the stored one with a dim off by one, with 3 or 5
 * dims, with the inner or the outer pair swapped (same element count). */
static int nz_storage(combo *c, int s, int p)
{
    accept_tensor *t = &c->a.slot[s];
    int64_t k, n, d[5], tmp;
    matrix_kn(t, &k, &n);
    stored_nz(c, s, d);
    switch (p) {
    case 9:
        nz_dims(k, n, d);
        break;
    case 10:
        nz_dims(n, k, d);
        break;
    case 19:
        set_storage(t, 3, d);
        return 1;
    case 20:
        memmove(d + 1, d, 4 * sizeof d[0]);
        d[0] = 1;
        set_storage(t, 5, d);
        return 1;
    case 21:
        tmp = d[2];
        d[2] = d[3];
        d[3] = tmp;
        break;
    case 22:
        tmp = d[0];
        d[0] = d[1];
        d[1] = tmp;
        break;
    default:
        d[(p - 11) / 2] += (p - 11) % 2 ? 1 : -1;
        break;
    }
    set_storage(t, 4, d);
    return 1;
}

static int f_storage(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    if (p >= 9 && p <= 22) {
        return nz_storage(c, s, p);
    }
    return plain_storage(t, p);
}

/* Byte distance from data to the end of the current footprint, if it is defined. */
static int footprint_end(const accept_tensor *t, uint64_t *to)
{
    uint64_t lo, hi;
    if (!accept_footprint(t, &lo, &hi)) {
        return 0;
    }
    *to = hi - t->data;
    return 1;
}

/* Addresses near the top of the address space (footprint ending at 2^64 exactly, one byte
 * below, one byte above), the last byte, 1 and 2^63 + 1. */
static int f_addr(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    uint64_t to = 0;
    if ((p == 0 || p == 1 || p == 5) && !footprint_end(t, &to)) {
        return 0;
    }
    switch (p) {
    case 0:
        t->data = 0 - to;
        break;
    case 1:
        t->data = 0 - to - 1;
        break;
    case 2:
        t->data = UINT64_MAX;
        break;
    case 3:
        t->data = 1;
        break;
    case 4:
        t->data = (UINT64_C(1) << 63) + 1;
        break;
    default:
        t->data = 0 - to + 1;
        break;
    }
    return 1;
}

/* x2 layouts on any slot: ND, ND transposed, NZ, NZ transposed; strides and storage follow. */
static int f_layout(combo *c, int s, int p)
{
    accept_tensor *t = slot_on(c, s);
    c->transposed[s] = p % 2;
    t->format = p >= 2 ? QMAR_FORMAT_FRACTAL_NZ : QMAR_FORMAT_ND;
    refit(c, s);
    return 1;
}

/* Output placed on an input: on input j's data (p < 8), right after x2's logical elements
 * (inside the NZ padding when x2 is NZ), right after x2's footprint. */
static int overlap_output(combo *c, int p)
{
    accept_tensor *o = slot_on(c, ACCEPT_OUTPUT), *x2 = &c->a.slot[ACCEPT_X2];
    uint64_t to;
    if (p < 8) {
        if (!c->a.slot[p].present) {
            return 0;
        }
        o->data = c->a.slot[p].data;
        return 1;
    }
    if (!x2->present || !footprint_end(x2, &to)) {
        return 0;
    }
    o->data = x2->data + (p == 8 ? (uint64_t)x2->offset + view_count(x2) : to);
    return 1;
}

/* An ND input whose storage spans the output but whose view starts G elements in: just past
 * the output's footprint (p 7), or one element short of it (p 8). */
static int around_output(accept_tensor *t, uint64_t olo, uint64_t ohi, int p)
{
    uint64_t es = accept_elem_size(t->dtype), g;
    if (t->format != QMAR_FORMAT_ND || es == 0) {
        return 0;
    }
    g = (ohi - olo + es - 1) / es - (p == 8);
    t->data = olo;
    t->offset = (int64_t)g;
    set_flat(t, g + view_count(t));
    return 1;
}

/* An input placed relative to the output's footprint [olo, ohi): on its data, starting at its
 * last byte, right after, right before, ending one byte into it, starting one byte into it,
 * before it by the logical size only, around it, one byte below its data. */
static int f_overlap(combo *c, int s, int p)
{
    accept_tensor *t, *o = &c->a.slot[ACCEPT_OUTPUT];
    uint64_t olo, ohi, ilo, ihi, from, to, es;
    if (s == ACCEPT_OUTPUT) {
        return overlap_output(c, p);
    }
    t = slot_on(c, s);
    if (!o->present || !accept_footprint(o, &olo, &ohi) || !accept_footprint(t, &ilo, &ihi)) {
        return 0;
    }
    from = ilo - t->data;
    to = ihi - t->data;
    es = accept_elem_size(t->dtype);
    switch (p) {
    case 0:
        t->data = o->data;
        break;
    case 1:
        t->data = ohi - 1 - from;
        break;
    case 2:
        t->data = ohi - from;
        break;
    case 3:
        t->data = olo - to;
        break;
    case 4:
        t->data = olo + 1 - to;
        break;
    case 5:
        t->data = olo + 1 - from;
        break;
    case 6:
        t->data = olo - ((uint64_t)t->offset + view_count(t)) * es;
        break;
    case 7:
    case 8:
        return around_output(t, olo, ohi, p);
    default:
        t->data = o->data - 1;
        break;
    }
    return 1;
}

/* x3 built as the output's twin, then: exact, larger storage, strides toggled, offset + 1,
 * same bytes through (data - es, offset + 1), both at offset 1, adjacent, one element on,
 * flattened view, the other float dtype. */
static int f_x3alias(combo *c, int s, int p)
{
    accept_tensor *o = &c->a.slot[ACCEPT_OUTPUT], *x = &c->a.slot[ACCEPT_X3];
    uint64_t cnt = view_count(o), es = accept_elem_size(o->dtype);
    if (s != ACCEPT_X3) {
        return 0;
    }
    if (p == 5) {
        o->offset = 1;
        set_flat(o, cnt + 1);
    }
    *x = *o;
    x->present = 1;
    switch (p) {
    case 1:
        return plain_storage(x, 2);
    case 2:
        x->has_strides = !x->has_strides;
        set_row_major(x);
        break;
    case 3:
        x->offset += 1;
        set_flat(x, cnt + 1);
        break;
    case 4:
        x->data -= es;
        x->offset += 1;
        set_flat(x, cnt + 1);
        break;
    case 6:
        x->data += cnt * es;
        break;
    case 7:
        x->data += es;
        break;
    case 8:
        x->dims[0] = (int64_t)cnt;
        x->view_ndim = 1;
        set_flat(x, cnt);
        break;
    case 9:
        x->dtype = o->dtype == QMAR_BF16 ? QMAR_FLOAT16 : QMAR_BF16;
        break;
    default:
        break;
    }
    return 1;
}

/* ---- Attribute families ---- */

static int a_group(combo *c, int s, int p)
{
    (void)s;
    c->a.group = groups[p].name;
    c->a.group_ranks = groups[p].ranks;
    return 1;
}

static const char *const REDUCE_OPS[] = {"sum", "SUM", "sum ", "",     "max",
                                         "Sum", "su",  "summ", " sum", NULL};

static int a_reduce(combo *c, int s, int p)
{
    (void)s;
    c->a.reduce_op = REDUCE_OPS[p];
    return 1;
}

static const int64_t TURNS[] = {0, 1, -1, INT64_MIN, INT64_MAX};
static const int64_t STREAMS[] = {1, 0, 2, -1, INT64_MAX};

static int a_turn(combo *c, int s, int p)
{
    (void)s;
    c->a.comm_turn = TURNS[p];
    return 1;
}

static int a_stream(combo *c, int s, int p)
{
    (void)s;
    c->a.stream_mode = STREAMS[p];
    return 1;
}

/* 0: workspace_size NULL, 1: executor NULL, 2: both. */
static int a_ptrs(combo *c, int s, int p)
{
    (void)s;
    c->a.workspace_size_null = p != 1;
    c->a.executor_null = p != 0;
    return 1;
}

/* dim: 0, 1, 65536 and orig + 1 on dims 0 and 1 (refit), -1 on dim 0 (storage kept). */
static const int PAIR_DIM[] = {(0 * 2 + 1) * 4 + 0,  (0 * 2 + 1) * 4 + 1,  (2 * 2 + 1) * 4 + 0,
                               (2 * 2 + 1) * 4 + 1,  (11 * 2 + 1) * 4 + 0, (11 * 2 + 1) * 4 + 1,
                               (19 * 2 + 1) * 4 + 0, (19 * 2 + 1) * 4 + 1, (1 * 2 + 0) * 4 + 0};
static const int PAIR_FORMAT[] = {1, 3}, PAIR_NDIM[] = {0, 1, 2, 6}, PAIR_STRIDES[] = {2, 3};
static const int PAIR_OFFSET[] = {0, 1}, PAIR_STORAGE[] = {1, 3, 10}, PAIR_ADDR[] = {0};
static const int PAIR_LAYOUT[] = {1, 2}, PAIR_OVERLAP[] = {0, 2}, PAIR_X3ALIAS[] = {0, 3};
static const int PAIR_GROUP[] = {G_NULL, G_UNKNOWN, G_R3, G_R8, G_EMPTY}, PAIR_REDUCE[] = {1, 9};
static const int PAIR_TURN[] = {1}, PAIR_STREAM[] = {0}, PAIR_PTRS[] = {0, 1};

#define ALL(n) NULL, n
#define SOME(a) a, COUNTOF(a)

static const family TENSOR_FAMILIES[] = {
    {"absent", 1, f_absent, ALL(1)},
    {"data_null", 1, f_data_null, ALL(1)},
    {"dtype", COUNTOF(DTYPES), f_dtype, ALL(COUNTOF(DTYPES))},
    {"format", COUNTOF(FORMATS), f_format, SOME(PAIR_FORMAT)},
    {"ndim", 8, f_ndim, SOME(PAIR_NDIM)},
    {"dim", N_DIM_VALUES * 8, f_dim, SOME(PAIR_DIM)},
    {"strides", 12, f_strides, SOME(PAIR_STRIDES)},
    {"offset", 10, f_offset, SOME(PAIR_OFFSET)},
    {"storage", 26, f_storage, SOME(PAIR_STORAGE)},
    {"addr", 6, f_addr, SOME(PAIR_ADDR)},
    {"layout", 4, f_layout, SOME(PAIR_LAYOUT)},
    {"overlap", 10, f_overlap, SOME(PAIR_OVERLAP)},
    {"x3alias", 10, f_x3alias, SOME(PAIR_X3ALIAS)},
};

static const family ATTR_FAMILIES[] = {
    {"group", G_COUNT, a_group, SOME(PAIR_GROUP)},
    {"reduce_op", COUNTOF(REDUCE_OPS), a_reduce, SOME(PAIR_REDUCE)},
    {"comm_turn", COUNTOF(TURNS), a_turn, SOME(PAIR_TURN)},
    {"stream_mode", COUNTOF(STREAMS), a_stream, SOME(PAIR_STREAM)},
    {"ptrs", 3, a_ptrs, SOME(PAIR_PTRS)},
};

static const family *families_of(int s, int *n)
{
    *n = s == ATTR ? COUNTOF(ATTR_FAMILIES) : COUNTOF(TENSOR_FAMILIES);
    return s == ATTR ? ATTR_FAMILIES : TENSOR_FAMILIES;
}

/* The p-th state a family offers to the pairwise walk. */
static int pair_param(const family *f, int i)
{
    return f->pairs ? f->pairs[i] : i;
}

/* ---- Running one combination ----------------------------------------------------------------- */

typedef struct step {
    int slot;
    const family *fam;
    int p;
} step;

/* How a combination was made, printed only when it mismatches. */
typedef struct where {
    const char *walk;
    int base;
    int nsteps;
    step st[2];
} where;

typedef struct tally {
    long walked, mismatches, create_failed, selected;
    long stride;
} tally;

static tally T = {0, 0, 0, 0, 1};

/* Distinct (model rule, model status, library status) of the mismatches, for the summary. */
typedef struct mismatch_kind {
    const char *rule;
    int32_t want, got;
    long count;
} mismatch_kind;

static mismatch_kind kinds[64];
static int nkinds;

/* How many combinations each rule decided (coverage: every rule must decide some). */
static const char *const RULE_IDS[] = {"ok", "N1", "N2", "D1", "D2", "D3", "D4", "D5", "D6", "D7",
                                       "L1", "L2", "L3", "L4", "L5", "L6", "L7", "S1", "S2", "S3",
                                       "S4", "S5", "S6", "S7", "S8", "A1", "A2", "A3", "A4"};
static long decided[COUNTOF(RULE_IDS)];

static void count_rule(const char *rule)
{
    for (int i = 0; i < COUNTOF(RULE_IDS); i++) {
        if (strcmp(RULE_IDS[i], rule) == 0) {
            decided[i]++;
            return;
        }
    }
}

static void count_kind(const char *rule, int32_t want, int32_t got)
{
    for (int i = 0; i < nkinds; i++) {
        if (kinds[i].want == want && kinds[i].got == got && strcmp(kinds[i].rule, rule) == 0) {
            kinds[i].count++;
            return;
        }
    }
    if (nkinds < COUNTOF(kinds)) {
        mismatch_kind k = {rule, want, got, 1};
        kinds[nkinds++] = k;
    }
}

static qmar_tensor *create(const accept_tensor *t)
{
    return qmar_tensor_create(t->dims, t->view_ndim, (qmar_dtype)t->dtype,
                              t->has_strides ? t->strides : NULL, t->offset, (qmar_format)t->format,
                              t->storage_ndim ? t->storage_dims : NULL, t->storage_ndim,
                              (void *)(uintptr_t)t->data);
}

static int create_all(const accept_args *a, qmar_tensor *ts[ACCEPT_NSLOTS])
{
    int ok = 1;
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        ts[s] = a->slot[s].present ? create(&a->slot[s]) : NULL;
        ok &= !a->slot[s].present || ts[s] != NULL;
    }
    return ok;
}

static void destroy_all(qmar_tensor *ts[ACCEPT_NSLOTS])
{
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        qmar_tensor_destroy(ts[s]);
    }
}

static uint64_t align64(uint64_t v)
{
    return (v + 63) & ~(uint64_t)63;
}

/* qmar.h's formula: Align64(m*n*sizeof(Y)) (+ 2*Align64(m*n) in case 3). Only called on an
 * accepted call, so m*n <= 2^48. */
static uint64_t expected_workspace(const accept_args *a)
{
    const accept_tensor *x1 = &a->slot[ACCEPT_X1], *out = &a->slot[ACCEPT_OUTPUT];
    uint64_t m = count_of(x1->dims, x1->view_ndim - 1);
    uint64_t mn = m * (uint64_t)out->dims[out->view_ndim - 1];
    uint64_t ws = align64(mn * accept_elem_size(out->dtype));
    return a->slot[ACCEPT_COMM1].present ? ws + 2 * align64(mn) : ws;
}

typedef struct outcome {
    qmar_status status;
    uint64_t ws;
    qmar_executor *ex;
    int ex_was_sentinel;
    const char *reason;
} outcome;

static char sentinel_byte; /* *executor starts pointing here, to see that it gets written */

static outcome call_library(const accept_args *a, qmar_tensor *ts[ACCEPT_NSLOTS])
{
    outcome o = {0, UINT64_C(0xdeadbeef), (qmar_executor *)(void *)&sentinel_byte, 0, ""};
    o.status = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        ts[ACCEPT_X1], ts[ACCEPT_X2], ts[ACCEPT_BIAS], ts[ACCEPT_X3], ts[ACCEPT_DEQUANT],
        ts[ACCEPT_PERTOKEN], ts[ACCEPT_COMM1], ts[ACCEPT_COMM2], a->group, a->reduce_op,
        a->comm_turn, a->stream_mode, ts[ACCEPT_OUTPUT], a->workspace_size_null ? NULL : &o.ws,
        a->executor_null ? NULL : &o.ex);
    o.reason = qmar_last_error();
    o.ex_was_sentinel = o.ex == (qmar_executor *)(void *)&sentinel_byte;
    return o;
}

/* Everything the library must do beyond returning the right status. */
static const char *postcondition_problem(const accept_args *a, const outcome *o)
{
    if (o->status == QMAR_SUCCESS) {
        if (o->ex == NULL || o->ex_was_sentinel) {
            return "success without an executor";
        }
        return o->ws == expected_workspace(a) ? NULL : "workspace size differs from qmar.h";
    }
    if (!a->executor_null && o->ex != NULL) {
        return "failure left *executor non-NULL";
    }
    if (!a->workspace_size_null && o->ws != 0) {
        return "failure left *workspace_size non-zero";
    }
    return o->reason && o->reason[0] ? NULL : "failure with an empty qmar_last_error()";
}

/* ---- Reporting ------------------------------------------------------------------------------- */

static void print_dims(const char *label, const int64_t *d, uint64_t n)
{
    printf(" %s=(", label);
    for (uint64_t i = 0; i < n && i < QMAR_MAX_DIMS; i++) {
        printf(i ? ",%" PRId64 : "%" PRId64, d[i]);
    }
    printf(")");
}

static void dump_tensor(int s, const accept_tensor *t)
{
    printf("    %-17s", accept_slot_name(s));
    if (!t->present) {
        printf(" NULL\n");
        return;
    }
    printf(" dtype=%" PRId32 " format=%" PRId32, t->dtype, t->format);
    print_dims("view", t->dims, t->view_ndim);
    if (t->has_strides) {
        print_dims("strides", t->strides, t->view_ndim);
    } else {
        printf(" strides=NULL");
    }
    printf(" offset=%" PRId64, t->offset);
    print_dims("storage", t->storage_dims, t->storage_ndim);
    printf(" data=0x%" PRIx64 "\n", t->data);
}

static void dump_args(const accept_args *a)
{
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        dump_tensor(s, &a->slot[s]);
    }
    printf("    group=%s%.128s%s (%" PRId32 " ranks) reduce_op=%s%s%s comm_turn=%" PRId64
           " stream_mode=%" PRId64 " workspace_size=%s executor=%s\n",
           a->group ? "\"" : "", a->group ? a->group : "NULL", a->group ? "\"" : "", a->group_ranks,
           a->reduce_op ? "\"" : "", a->reduce_op ? a->reduce_op : "NULL", a->reduce_op ? "\"" : "",
           a->comm_turn, a->stream_mode, a->workspace_size_null ? "NULL" : "&",
           a->executor_null ? "NULL" : "&");
}

static void describe(const where *w)
{
    printf("  %s walk, base %d", w->walk, w->base);
    for (int i = 0; i < w->nsteps; i++) {
        const step *st = &w->st[i];
        printf(" + %s.%s[%d]", st->slot == ATTR ? "attr" : accept_slot_name(st->slot),
               st->fam->name, st->p);
        if (st->fam->apply == a_group) {
            printf("(%s)", groups[st->p].label);
        }
    }
    printf("\n");
}

static void report(const where *w, const accept_args *a, accept_verdict v, const outcome *o,
                   const char *problem)
{
    T.mismatches++;
    count_kind(problem ? problem : v.rule, v.status, o->status);
    if (T.mismatches <= DETAILED) {
        printf("MISMATCH %ld: model %" PRId32 " (rule %s), library %" PRId32
               "%s%s; reason \"%s\"\n",
               T.mismatches, v.status, v.rule, o->status, problem ? ": " : "",
               problem ? problem : "", o->reason);
        describe(w);
        dump_args(a);
    }
    /* Past the detailed ones, one failed CHECK per mismatch would flood the log: the final
     * CHECK on the count stands for them. */
    if (T.mismatches <= DETAILED) {
        CHECK(!"model and library agree");
    }
}

static void walk_one(const combo *c, const where *w)
{
    qmar_tensor *ts[ACCEPT_NSLOTS];
    if (T.selected++ % T.stride != 0) {
        return;
    }
    T.walked++;
    accept_verdict v = accept_get_workspace_size(&c->a);
    count_rule(v.rule);
    if (!create_all(&c->a, ts)) {
        T.create_failed++;
        destroy_all(ts);
        return;
    }
    outcome o = call_library(&c->a, ts);
    const char *problem = postcondition_problem(&c->a, &o);
    if (o.status == QMAR_SUCCESS && !o.ex_was_sentinel) {
        qmar_executor_destroy(o.ex);
    }
    if (o.status != v.status || problem) {
        report(w, &c->a, v, &o, problem);
    } else {
        CHECK(1);
    }
    destroy_all(ts);
}

/* ---- The walks ------------------------------------------------------------------------------- */

static void walk_singles(int bi, const combo *base)
{
    where w = {"single", bi, 0, {{0, NULL, 0}, {0, NULL, 0}}};
    walk_one(base, &w);
    w.nsteps = 1;
    for (int s = 0; s <= ATTR; s++) {
        int nf;
        const family *fams = families_of(s, &nf);
        for (int f = 0; f < nf; f++) {
            for (int p = 0; p < fams[f].count; p++) {
                combo c = *base;
                step st = {s, &fams[f], p};
                w.st[0] = st;
                if (fams[f].apply(&c, s, p)) {
                    walk_one(&c, &w);
                }
            }
        }
    }
}

/* (m as b, s), k and n swept over their limits with every other choice of the base kept.
 * k = 2 or 32768 with n = 2^33 reaches views of exactly 2^48 elements (x2 (32768, 2^33), or
 * output (2^15, 2^33)) that are valid when x2 is transposed (its stored last dim is then k). */
static const int64_t SWEEP_BS2[][2] = {
    {1, 1}, {1, 3}, {1, 32768}, {1, 2147483647}, {1, INT64_C(2147483648)}};
static const int64_t SWEEP_BS3[][2] = {
    {1, 1}, {2, 3}, {1, 2147483647}, {2, 1073741824}, {3, 715827882}, {65536, 32768}, {2, 16384}};
static const int64_t SWEEP_K[] = {1, 2, 16, 17, 33, 32768, 65535, 65536, INT64_C(2147483648)};
static const int64_t SWEEP_N[] = {
    1, 31, 32, 33, 65535, 65536, 2147483647, INT64_C(1) << 33, (INT64_C(1) << 33) + 1};

static void walk_shapes(int bi)
{
    base_cfg cfg = base_at(bi);
    int three = cfg.x1_ndim == 3;
    int nbs = three ? COUNTOF(SWEEP_BS3) : COUNTOF(SWEEP_BS2);
    where w = {"shape", bi, 0, {{0, NULL, 0}, {0, NULL, 0}}};
    for (int i = 0; i < nbs; i++) {
        for (int ki = 0; ki < COUNTOF(SWEEP_K); ki++) {
            for (int ni = 0; ni < COUNTOF(SWEEP_N); ni++) {
                combo c;
                cfg.b = three ? SWEEP_BS3[i][0] : SWEEP_BS2[i][0];
                cfg.s = three ? SWEEP_BS3[i][1] : SWEEP_BS2[i][1];
                cfg.k = SWEEP_K[ki];
                cfg.n = SWEEP_N[ni];
                make_base(&cfg, &c);
                walk_one(&c, &w);
            }
        }
    }
}

/* Every pair state of family f2 on slot s2, after (s1, f1, p1) was applied to base. */
static void walk_pair_inner(const combo *base, where *w, const step *first, int s2, int f2min)
{
    int nf;
    const family *fams = families_of(s2, &nf);
    w->st[0] = *first;
    for (int f = f2min; f < nf; f++) {
        for (int i = 0; i < fams[f].npairs; i++) {
            combo c = *base;
            step st = {s2, &fams[f], pair_param(&fams[f], i)};
            w->st[1] = st;
            if (first->fam->apply(&c, first->slot, first->p) && st.fam->apply(&c, s2, st.p)) {
                walk_one(&c, w);
            }
        }
    }
}

/* Two slots (or two families of one slot) varied at once over the pair states. */
static void walk_pairs(int bi, const combo *base)
{
    where w = {"pair", bi, 2, {{0, NULL, 0}, {0, NULL, 0}}};
    for (int s1 = 0; s1 <= ATTR; s1++) {
        int nf;
        const family *fams = families_of(s1, &nf);
        for (int f = 0; f < nf; f++) {
            for (int i = 0; i < fams[f].npairs; i++) {
                step first = {s1, &fams[f], pair_param(&fams[f], i)};
                for (int s2 = s1; s2 <= ATTR; s2++) {
                    walk_pair_inner(base, &w, &first, s2, s2 == s1 ? f + 1 : 0);
                }
            }
        }
    }
}

/* Bases walked pairwise: every case, both Ys, both x1 ranks, every x2 layout, 3-D bases without
 * x3 (so x1 and output can grow a dim together), shapes with no dim 1, one base at the limits. */
static const int PAIR_BASES[] = {0, 5, 19, 28, 34, 46, 53, 58, 61, N_SMALL_BASES + 1};

static void walk_all(void)
{
    for (int bi = 0; bi < N_BASES; bi++) {
        base_cfg cfg = base_at(bi);
        combo base;
        make_base(&cfg, &base);
        accept_verdict v = accept_get_workspace_size(&base.a);
        if (v.status != QMAR_SUCCESS) {
            printf("base %d is not valid for the model (rule %s)\n", bi, v.rule);
        }
        CHECK(v.status == QMAR_SUCCESS); /* the walk must start from accepted calls */
        walk_singles(bi, &base);
        walk_shapes(bi);
    }
    for (int i = 0; i < COUNTOF(PAIR_BASES); i++) {
        base_cfg cfg = base_at(PAIR_BASES[i]);
        combo base;
        make_base(&cfg, &base);
        walk_pairs(PAIR_BASES[i], &base);
    }
}

static void print_coverage(void)
{
    printf("combinations decided by each rule:");
    for (int i = 0; i < COUNTOF(RULE_IDS); i++) {
        printf("%s %s %ld", i % 8 ? "," : "\n ", RULE_IDS[i], decided[i]);
    }
    printf("\n");
}

static void print_summary(void)
{
    print_coverage();
    if (nkinds) {
        printf("mismatches by kind (model rule or postcondition: model status -> library):\n");
    }
    for (int i = 0; i < nkinds; i++) {
        printf("  %-40s %6" PRId32 " -> %6" PRId32 ": %ld\n", kinds[i].rule, kinds[i].want,
               kinds[i].got, kinds[i].count);
    }
    printf("%ld combinations walked (%ld enumerated, every %ld-th run), %ld mismatches\n", T.walked,
           T.selected, T.stride, T.mismatches);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        T.stride = strtol(argv[1], NULL, 10);
        T.stride = T.stride < 1 ? 1 : T.stride;
    }
    if (!setup_groups()) {
        printf("cannot create the communicators: %s\n", qmar_last_error());
        CHECK(!"communicators");
        teardown_groups();
        return check_summary();
    }
    walk_all();
    print_summary();
    CHECK_EQ_I64(T.create_failed, 0);
    for (int i = 0; i < COUNTOF(RULE_IDS) && T.stride == 1; i++) {
        if (decided[i] == 0) {
            printf("rule %s decided no combination\n", RULE_IDS[i]);
        }
        CHECK(T.stride != 1 || decided[i] > 0);
    }
    CHECK_EQ_I64(T.mismatches, 0);
    teardown_groups();
    return check_summary();
}
