/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_validate: any descriptor in each of the nine tensor slots (NULL, any dtype and format, 0-8
 * dims of any value, any strides, offset and storage dims, any data address) and any attributes,
 * through qmar_quant_matmul_all_reduce_v3_get_workspace_size.
 * Oracle: no crash and no sanitizer report; the status equals the independent acceptance
 * predicate's (spec/model/accept.h); on success an executor and the workspace formula of qmar.h,
 * on failure *executor == NULL, *workspace_size == 0 and a non-empty qmar_last_error().
 *
 * Data pointers are fake, non-canonical addresses (GetWorkspaceSize never reads data, so any read
 * faults): slot s owns the region at (s + 1) << 52, which no footprint (< 2^51 bytes) leaves.
 *
 * Input: a fixed layout, so that every field sits at the same place whatever the values, and any
 * one of them is a single byte-mutation away (parameters from the tail in this order,
 * fuzz/byte_reader.h). A "value" is one byte: 0x00-0x7F itself, 0x80-0xAF -1..-48, 0xB0-0xBF the
 * limits of fz_specials, 0xC0-0xFF pool[(t - 0xC0) % 8]. The pool holds the call's big values and
 * its shape variables (m, k, n...): gen_seeds.py pools each value a row repeats, so mutating one
 * pool word resizes every slot that uses it, consistently.
 *   pool: 8 x u64
 *   9 slots x { u8 mode %3 (0 NULL, 1 a descriptor, 2 the same pointer as slot u8 %9 below),
 *               u8 alias slot, u8 dtype, u8 format (0xF8-0xFF: pool word, as int32),
 *               u8 ndim %9, 8 dims, u8 flags (1 strides, 2 storage dims given), 8 strides,
 *               offset, u8 storage ndim %9, 8 storage dims,
 *               u8 data %4 (0 own region, 1 NULL, 2 slot's region + value, 3 value as address),
 *               u8 data slot %9, data value }      (unused fields are read all the same)
 *   group: u8 kind %5 (0 live: u8 comm %6 of sizes 1,2,3,4,8,16, u8 rank, u8 edit %3: 0 exact,
 *          1 last char dropped, 2 the text's payload bytes appended; 1 destroyed endpoint; 2 NULL;
 *          3 text; 4 text without NUL (at least 128 bytes, in a block of exactly its length)),
 *          u8 comm, u8 rank, u8 edit, then text: u16 length %4097, u8 fill, u16 p (min(p, length)
 *          payload bytes from the head, then fill up to length)
 *   reduce_op: u8 kind %2 (0 NULL, 1 text), text as above (NUL-terminated)
 *   comm_turn value, stream_mode value, u8 flags (1 workspace_size NULL, 2 executor NULL) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "byte_reader.h"
#include "fuzz_check.h"
#include "qmar/qmar.h"

const char fuzz_target_name[] = "fuzz_validate";

#define NSLOT ACCEPT_NSLOTS
#define SLOT_BASE(s) ((uint64_t)((s) + 1) << 52)
#define MAX_TEXT 4096

/* ---- The communicators every input may name (created once per process) ----------------------- */

#define NCOMM 6
static const int32_t COMM_SIZES[NCOMM] = {1, 2, 3, 4, 8, 16};
static qmar_comm *comms[NCOMM][16];
static char names[NCOMM][16][QMAR_GROUP_NAME_MAX];
static char dead_name[QMAR_GROUP_NAME_MAX];
static int comms_ready;

static void setup_comms(void)
{
    qmar_comm *dead[1];
    for (int c = 0; c < NCOMM; c++) {
        if (qmar_comm_init_all(COMM_SIZES[c], comms[c]) != QMAR_SUCCESS)
            fuzz_fail("setup", "comm_init_all(%d): %s", (int)COMM_SIZES[c], qmar_last_error());
        for (int r = 0; r < COMM_SIZES[c]; r++)
            qmar_comm_get_name(comms[c][r], names[c][r]);
    }
    if (qmar_comm_init_all(1, dead) != QMAR_SUCCESS)
        fuzz_fail("setup", "comm_init_all(1): %s", qmar_last_error());
    qmar_comm_get_name(dead[0], dead_name);
    qmar_comm_destroy(dead[0]);
    comms_ready = 1;
}

/* A plain loop, not strcmp: libFuzzer intercepts strcmp to learn from its operands, and 34 calls
 * per input here would only teach it our own names at a tenth of the target's speed. */
FZ_FN int same_text(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Ranks of the live communicator the string names, 0 if none (what A4 asks of the registry). */
static int32_t live_ranks(const char *group)
{
    if (group == NULL || strnlen(group, QMAR_GROUP_NAME_MAX) >= QMAR_GROUP_NAME_MAX)
        return 0;
    for (int c = 0; c < NCOMM; c++)
        for (int r = 0; r < COMM_SIZES[c]; r++)
            if (same_text(group, names[c][r]))
                return COMM_SIZES[c];
    return 0;
}

/* ---- Decoding -------------------------------------------------------------------------------- */

typedef struct decoded {
    accept_args a;
    int alias[NSLOT]; /* -1, or the slot whose descriptor pointer this slot passes */
    char *group;      /* heap, exactly as long as the string (or NULL) */
    char *reduce_op;
} decoded;

#define NPOOL 8
static int64_t pool[NPOOL];

/* One-byte value (see the header). */
static int64_t read_val(fz_reader *r)
{
    uint8_t t = fz_u8(r);
    if (t < 0x80)
        return t;
    if (t < 0xB0)
        return -(int64_t)(t - 0x7F);
    if (t < 0xC0)
        return fz_specials[t - 0xB0];
    return pool[(t - 0xC0) % NPOOL];
}

/* A dtype or format: any int32 may be stored in a descriptor. */
static int32_t read_code(fz_reader *r)
{
    uint8_t t = fz_u8(r);
    return t < 0xF8 ? (int32_t)t : (int32_t)(uint32_t)(uint64_t)pool[t - 0xF8];
}

static void read_vals(fz_reader *r, int64_t d[QMAR_MAX_DIMS])
{
    for (int i = 0; i < QMAR_MAX_DIMS; i++)
        d[i] = read_val(r);
}

/* Every field is read whatever the mode, so the layout never shifts. */
static void read_slot(fz_reader *r, int s, accept_tensor *t, int *mode, int *alias)
{
    accept_tensor x;
    memset(&x, 0, sizeof x);
    *mode = (int)fz_pick(r, 3);
    *alias = (int)fz_pick(r, NSLOT);
    x.present = 1;
    x.dtype = read_code(r);
    x.format = read_code(r);
    x.view_ndim = fz_pick(r, QMAR_MAX_DIMS + 1);
    read_vals(r, x.dims);
    uint8_t flags = fz_u8(r);
    read_vals(r, x.strides);
    x.has_strides = flags & 1;
    x.offset = read_val(r);
    uint64_t storage_ndim = fz_pick(r, QMAR_MAX_DIMS + 1);
    int64_t storage[QMAR_MAX_DIMS];
    read_vals(r, storage);
    if (flags & 2) {
        x.storage_ndim = storage_ndim;
        memcpy(x.storage_dims, storage, sizeof storage);
    } else {
        x.storage_ndim = x.view_ndim;
        memcpy(x.storage_dims, x.dims, sizeof x.dims);
    }
    int data_mode = (int)fz_pick(r, 4), j = (int)fz_pick(r, NSLOT);
    int64_t value = read_val(r);
    switch (data_mode) {
    case 0: x.data = SLOT_BASE(s); break;
    case 1: x.data = 0; break;
    case 2: x.data = SLOT_BASE(j) + (uint64_t)value; break; /* wraps like pointer arithmetic */
    default: x.data = (uint64_t)value; break;
    }
    if (*mode == 1)
        *t = x;
}

/* A text's fixed fields: length, fill byte, how many of its bytes come from the payload. */
typedef struct text_spec {
    size_t len, from_payload;
    char fill;
} text_spec;

static text_spec read_text_spec(fz_reader *r)
{
    text_spec t;
    t.len = fz_u16(r) % (MAX_TEXT + 1);
    t.fill = (char)fz_u8(r);
    t.from_payload = fz_u16(r);
    return t;
}

/* A heap string: payload bytes (at most len), then fill up to len, NUL-terminated unless
 * terminate is 0 (then the block is exactly len bytes, so an over-read is caught). */
static char *make_text(fz_reader *r, text_spec t, int terminate)
{
    size_t got;
    if (!terminate && t.len < QMAR_GROUP_NAME_MAX)
        t.len = QMAR_GROUP_NAME_MAX; /* a shorter unterminated string would be the caller's bug */
    char *s = malloc(t.len + 1);
    if (s == NULL)
        return NULL;
    const uint8_t *p = fz_bytes(r, t.from_payload < t.len ? t.from_payload : t.len, &got);
    memcpy(s, p, got);
    memset(s + got, t.fill, t.len - got);
    s[t.len] = '\0';
    if (!terminate) {
        char *exact = malloc(t.len);
        if (exact != NULL)
            memcpy(exact, s, t.len);
        free(s);
        return exact;
    }
    return s;
}

/* A live name: exact, without its last character, or with payload bytes appended. */
static char *live_name(fz_reader *r, const char *name, int edit, size_t append)
{
    size_t len = strlen(name), got = 0;
    const uint8_t *p = fz_bytes(r, edit == 2 ? append % 256 : 0, &got);
    char *s = malloc(len + got + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, name, len);
    memcpy(s + len, p, got);
    s[len + got] = '\0';
    if (edit == 1 && len > 0)
        s[len - 1] = '\0';
    return s;
}

static char *read_group(fz_reader *r)
{
    int kind = (int)fz_pick(r, 5), c = (int)fz_pick(r, NCOMM), rank = fz_u8(r);
    int edit = (int)fz_pick(r, 3);
    text_spec t = read_text_spec(r);
    switch (kind) {
    case 0: return live_name(r, names[c][rank % COMM_SIZES[c]], edit, t.from_payload);
    case 1: return live_name(r, dead_name, 0, 0);
    case 2: return NULL;
    case 3: return make_text(r, t, 1);
    default: return make_text(r, t, 0);
    }
}

static void decode(fz_reader *r, decoded *d)
{
    int mode[NSLOT];
    memset(d, 0, sizeof *d);
    for (int i = 0; i < NPOOL; i++)
        pool[i] = (int64_t)fz_u64(r);
    for (int s = 0; s < NSLOT; s++)
        read_slot(r, s, &d->a.slot[s], &mode[s], &d->alias[s]);
    /* '=' slots pass the very same descriptor as a real one; an alias of an absent or aliasing
     * slot is absent. */
    for (int s = 0; s < NSLOT; s++) {
        int j = d->alias[s];
        if (mode[s] == 2 && mode[j] == 1)
            d->a.slot[s] = d->a.slot[j];
        else
            d->alias[s] = -1;
    }
    d->group = read_group(r);
    int op_kind = (int)fz_pick(r, 2);
    text_spec op = read_text_spec(r);
    d->reduce_op = op_kind ? make_text(r, op, 1) : NULL;
    d->a.group = d->group;
    d->a.group_ranks = live_ranks(d->group);
    d->a.reduce_op = d->reduce_op;
    d->a.comm_turn = read_val(r);
    d->a.stream_mode = read_val(r);
    uint8_t flags = fz_u8(r);
    d->a.workspace_size_null = flags & 1;
    d->a.executor_null = (flags >> 1) & 1;
}

/* ---- The call and the oracle ----------------------------------------------------------------- */

static qmar_tensor *create(const accept_tensor *t)
{
    return qmar_tensor_create(t->dims, t->view_ndim, (qmar_dtype)t->dtype,
                              t->has_strides ? t->strides : NULL, t->offset,
                              (qmar_format)t->format, t->storage_ndim ? t->storage_dims : NULL,
                              t->storage_ndim, (void *)(uintptr_t)t->data);
}

static uint64_t align64(uint64_t v)
{
    return (v + 63) & ~(uint64_t)63;
}

/* qmar.h: Align64(m*n*sizeof(Y)), plus 2*Align64(m*n) with the comm scales. Only on success. */
static uint64_t expected_workspace(const accept_args *a)
{
    const accept_tensor *x1 = &a->slot[ACCEPT_X1], *out = &a->slot[ACCEPT_OUTPUT];
    uint64_t m = 1;
    for (uint64_t i = 0; i + 1 < x1->view_ndim; i++)
        m *= (uint64_t)x1->dims[i];
    uint64_t mn = m * (uint64_t)out->dims[out->view_ndim - 1];
    uint64_t ws = align64(mn * accept_elem_size(out->dtype));
    return a->slot[ACCEPT_COMM1].present ? ws + 2 * align64(mn) : ws;
}

static char sentinel; /* *executor starts here, to see that the library writes it */

static void check(const decoded *d, qmar_tensor *const *t)
{
    const accept_args *a = &d->a;
    accept_verdict v = accept_get_workspace_size(a);
    uint64_t ws = UINT64_C(0xdeadbeef);
    qmar_executor *ex = (qmar_executor *)(void *)&sentinel;
    qmar_status st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        t[ACCEPT_X1], t[ACCEPT_X2], t[ACCEPT_BIAS], t[ACCEPT_X3], t[ACCEPT_DEQUANT],
        t[ACCEPT_PERTOKEN], t[ACCEPT_COMM1], t[ACCEPT_COMM2], a->group, a->reduce_op,
        a->comm_turn, a->stream_mode, t[ACCEPT_OUTPUT], a->workspace_size_null ? NULL : &ws,
        a->executor_null ? NULL : &ex);
    const char *reason = qmar_last_error();
    if (fuzz_verbose())
        fprintf(stderr, "fuzz_validate: library %d model %d rule %s reason \"%s\"\n", (int)st,
                (int)v.status, v.rule, st == QMAR_SUCCESS ? "" : reason);
    FUZZ_CHECK(st == v.status, "status",
               "library returned %d, the acceptance predicate %d (rule %s); reason \"%s\"",
               (int)st, (int)v.status, v.rule, reason);
    if (st == QMAR_SUCCESS) {
        FUZZ_CHECK(ex != NULL && ex != (qmar_executor *)(void *)&sentinel, "no-executor",
                   "success without an executor");
        uint64_t want = expected_workspace(a);
        qmar_executor_destroy(ex);
        FUZZ_CHECK(ws == want, "workspace", "workspace size %llu, qmar.h's formula gives %llu",
                   (unsigned long long)ws, (unsigned long long)want);
        return;
    }
    FUZZ_CHECK(a->executor_null || ex == NULL, "executor-left",
               "failure (%d) left *executor non-NULL", (int)st);
    FUZZ_CHECK(a->workspace_size_null || ws == 0, "workspace-left",
               "failure (%d) left *workspace_size = %llu", (int)st, (unsigned long long)ws);
    FUZZ_CHECK(reason != NULL && reason[0] != '\0', "no-reason",
               "failure (%d) with an empty qmar_last_error()", (int)st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!comms_ready)
        setup_comms();
    fz_reader r = fz_init(data, size);
    decoded d;
    qmar_tensor *t[NSLOT] = {NULL};
    decode(&r, &d);
    int ok = 1;
    for (int s = 0; s < NSLOT; s++)
        if (d.alias[s] < 0 && d.a.slot[s].present)
            ok &= (t[s] = create(&d.a.slot[s])) != NULL; /* never NULL for <= 8 dims (qmar.h) */
    for (int s = 0; s < NSLOT; s++)
        if (d.alias[s] >= 0)
            t[s] = t[d.alias[s]];
    FUZZ_CHECK(ok, "create", "qmar_tensor_create returned NULL for a storable descriptor");
    check(&d, t);
    for (int s = 0; s < NSLOT; s++)
        if (d.alias[s] < 0)
            qmar_tensor_destroy(t[s]);
    free(d.group);
    free(d.reduce_op);
    return 0;
}
