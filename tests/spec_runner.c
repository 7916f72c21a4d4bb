/* SPDX-License-Identifier: Apache-2.0 */
/* Conformance runner (suite `spec`): replays every row of the spec/cases CSV files — one call of
 * qmar_quant_matmul_all_reduce_v3_get_workspace_size per row — and checks the status, the
 * executor/workspace contract of qmar.h, and that no tensor byte was written. The row format is
 * documented in spec/cases/README.md; the rows are written from spec/validation.md alone, so this
 * file never looks inside lib/src.
 *
 * Usage: spec_runner [-v] [cases-dir]   (default "spec/cases", relative to the project root) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getline, opendir, sigsetjmp, strdup */
#endif
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qmar/qmar.h"

#define NSLOT 9
#define NFIELD 19
#define MAXD QMAR_MAX_DIMS
#define ID_MAX 64
#define OP_MAX 256
/* Buffers up to this size are real heap memory (poison-checked); larger ones get fake addresses,
 * which is legal because GetWorkspaceSize never reads tensor data. */
#define REAL_LIMIT ((uint64_t)16 << 20)
#define LONG_GROUP_MAX ((uint64_t)1 << 20)

static const char *const HEADER =
    "id,rule,expect,x1,x2,bias,x3,dequant_scale,pertoken_scale,comm_quant_scale1,"
    "comm_quant_scale2,output,group,reduce_op,comm_turn,stream_mode,workspace_size,executor,note";

enum { X1, X2, BIAS, X3, DQ, PT, C1, C2, OUT };
static const char *const SLOT_NAME[NSLOT] = {
    "x1", "x2", "bias", "x3", "dequant_scale", "pertoken_scale", "comm_quant_scale1",
    "comm_quant_scale2", "output"};

static const char *const RULE_ID[] = {"N1", "N2", "D1", "D2", "D3", "D4", "D5", "D6", "D7", "L1",
                                      "L2", "L3", "L4", "L5", "L6", "L7", "S1", "S2", "S3", "S4",
                                      "S5", "S6", "S7", "S8", "A1", "A2", "A3", "A4"};
#define NRULE ((int)(sizeof RULE_ID / sizeof RULE_ID[0]))
#define RULE_OK NRULE /* the `ok` rule; stats index NRULE+1 collects "OK." matrix rows */

/* Element sizes as spec/validation.md defines them ("Words used below"), kept here rather than
 * taken from the library so the expected workspace is computed independently. */
static const struct {
    const char *name;
    int32_t value;
    uint64_t size;
} DTYPES[] = {{"int8", 2, 1},   {"uint8", 4, 1},   {"int16", 6, 2},  {"uint16", 7, 2},
              {"int32", 3, 4},  {"uint32", 8, 4},  {"int64", 9, 8},  {"uint64", 10, 8},
              {"fp16", 1, 2},   {"bf16", 27, 2},   {"fp32", 0, 4},   {"fp64", 11, 8},
              {"bool", 12, 1}};
#define NDTYPE (sizeof DTYPES / sizeof DTYPES[0])

/* ---- Row model --------------------------------------------------------------------------------- */
typedef enum { DATA_OWN, DATA_NULL, DATA_REL, DATA_ABS } data_mode;

typedef struct {
    int present; /* 0 for '-' */
    int alias;   /* '=SLOT': index of SLOT, else -1 */
    int32_t dtype, format;
    uint64_t ndim, st_ndim;
    int64_t dims[MAXD], strides[MAXD], st[MAXD];
    int64_t offset;
    unsigned seen; /* attribute bits, to refuse duplicates */
    data_mode mode;
    int rel_slot;
    int64_t rel_bytes;
    uint64_t abs_addr, buf_bytes;
} slot_spec;

enum { A_STRIDES = 1, A_OFFSET = 2, A_FORMAT = 4, A_STORAGE = 8, A_DATA = 16, A_BUF = 32 };

typedef enum { G_RANK, G_DEAD, G_UNKNOWN, G_EMPTY, G_NULL, G_STR, G_LONG, G_PREFIX, G_SUFFIX,
               G_LIT } group_kind;

typedef struct {
    group_kind kind;
    int comm, rank;
    uint64_t len;
    char lit[OP_MAX];
} group_spec;

typedef struct {
    char id[ID_MAX];
    int rule; /* index into RULE_ID, or RULE_OK */
    int32_t expect;
    slot_spec slot[NSLOT];
    group_spec group;
    int op_null;
    char op[OP_MAX];
    int64_t comm_turn, stream_mode;
    int ws_null, exec_null;
} row;

/* ---- Communicators ----------------------------------------------------------------------------- */
static const int32_t COMM_SIZES[] = {1, 2, 3, 4, 8, 16};
#define NCOMM ((int)(sizeof COMM_SIZES / sizeof COMM_SIZES[0]))

typedef struct {
    qmar_comm **ep[NCOMM];                     /* endpoints, one array per communicator */
    char (*name[NCOMM])[QMAR_GROUP_NAME_MAX]; /* their names */
    char dead[QMAR_GROUP_NAME_MAX];            /* name of a destroyed endpoint */
} comm_set;

static const char UNKNOWN_GROUP[] = "qmar-spec-no-such-group";

/* ---- Small parsing helpers --------------------------------------------------------------------- */
static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Optional '-' then decimal digits; refuses overflow rather than wrapping, so a row can never
 * silently mean another number. */
static int read_i64(const char **pp, int64_t *out)
{
    const char *p = *pp;
    int neg = (*p == '-');
    uint64_t mag = 0, lim;
    if (neg)
        p++;
    if (!is_digit(*p))
        return 0;
    lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; is_digit(*p); p++) {
        unsigned d = (unsigned)(*p - '0');
        if (mag > (lim - d) / 10u)
            return 0;
        mag = mag * 10u + d;
    }
    if (neg)
        *out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    else
        *out = (int64_t)mag;
    *pp = p;
    return 1;
}

static int hex_value(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex_u64(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int nd = 0;
    for (; hex_value(*p) >= 0; p++, nd++) {
        if (nd == 16)
            return 0;
        v = v << 4 | (uint64_t)hex_value(*p);
    }
    if (nd == 0)
        return 0;
    *out = v;
    *pp = p;
    return 1;
}

/* INTS ('x'-separated, possibly empty) followed by `close`. */
static int read_list(const char **pp, char close, int64_t out[MAXD], uint64_t *n)
{
    *n = 0;
    if (**pp == close) {
        (*pp)++;
        return 1;
    }
    for (;;) {
        if (*n == MAXD || !read_i64(pp, &out[*n]))
            return 0;
        (*n)++;
        if (**pp == close) {
            (*pp)++;
            return 1;
        }
        if (**pp != 'x')
            return 0;
        (*pp)++;
    }
}

/* Decodes \xHH and \\ escapes; raw spaces and control bytes are refused so every byte of a
 * reduce_op or literal group is visible in the file. */
static int unescape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in; in++) {
        char c = *in;
        if (c == ' ')
            return 0;
        if (c == '\\') {
            if (in[1] == '\\') {
                in++;
            } else if (in[1] == 'x' && hex_value(in[2]) >= 0 && hex_value(in[3]) >= 0) {
                c = (char)(hex_value(in[2]) * 16 + hex_value(in[3]));
                in += 3;
            } else {
                return 0;
            }
        }
        if (n + 1 >= cap)
            return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return 1;
}

static int slot_by_name(const char *p, size_t len)
{
    for (int i = 0; i < NSLOT; i++)
        if (strlen(SLOT_NAME[i]) == len && strncmp(p, SLOT_NAME[i], len) == 0)
            return i;
    return -1;
}

/* A slot name at *pp, made of [a-z0-9_]. */
static int read_slot_name(const char **pp)
{
    const char *p = *pp;
    size_t len = 0;
    while ((p[len] >= 'a' && p[len] <= 'z') || is_digit(p[len]) || p[len] == '_')
        len++;
    int s = slot_by_name(p, len);
    if (s >= 0)
        *pp = p + len;
    return s;
}

/* ---- Tensor syntax ----------------------------------------------------------------------------- */
static int read_dtype(const char **pp, int32_t *dt)
{
    const char *p = *pp;
    size_t len = strcspn(p, "[");
    if (starts(p, "dt")) {
        int64_t v;
        p += 2;
        if (!read_i64(&p, &v) || *p != '[' || v < INT32_MIN || v > INT32_MAX)
            return 0;
        *dt = (int32_t)v;
        *pp = p;
        return 1;
    }
    for (size_t i = 0; i < NDTYPE; i++)
        if (strlen(DTYPES[i].name) == len && strncmp(p, DTYPES[i].name, len) == 0) {
            *dt = DTYPES[i].value;
            *pp = p + len;
            return 1;
        }
    return 0;
}

/* Marks attribute `bit` as given; a second occurrence is an error. */
static int take(slot_spec *s, unsigned bit)
{
    if (s->seen & bit)
        return 0;
    s->seen |= bit;
    return 1;
}

static int attr_data(const char **pp, slot_spec *s)
{
    const char *p = *pp;
    if (starts(p, "nodata")) {
        s->mode = DATA_NULL;
        *pp = p + 6;
        return 1;
    }
    if (starts(p, "@0x")) {
        p += 3;
        s->mode = DATA_ABS;
        if (!read_hex_u64(&p, &s->abs_addr))
            return 0;
        *pp = p;
        return 1;
    }
    p++; /* '@' */
    s->rel_slot = read_slot_name(&p);
    if (s->rel_slot < 0 || (*p != '+' && *p != '-'))
        return 0;
    int neg = (*p++ == '-');
    if (!is_digit(*p) || !read_i64(&p, &s->rel_bytes))
        return 0;
    if (neg)
        s->rel_bytes = -s->rel_bytes;
    s->mode = DATA_REL;
    *pp = p;
    return 1;
}

static int attr_format(const char **pp, slot_spec *s)
{
    int64_t v;
    if (starts(*pp, "nz") || starts(*pp, "nd")) {
        s->format = (*pp)[1] == 'z' ? QMAR_FORMAT_FRACTAL_NZ : QMAR_FORMAT_ND;
        *pp += 2;
        return 1;
    }
    *pp += 3; /* "fmt" */
    if (!read_i64(pp, &v) || v < INT32_MIN || v > INT32_MAX)
        return 0;
    s->format = (int32_t)v;
    return 1;
}

/* One attribute at *pp; returns 0 (with why) on anything unknown, repeated or ill-formed. */
static int parse_attr(const char **pp, slot_spec *s, const char **why)
{
    const char *p = *pp;
    uint64_t n;
    int ok;
    if (starts(p, "s(")) {
        p += 2;
        ok = take(s, A_STRIDES) && read_list(&p, ')', s->strides, &n) && n == s->ndim;
        *why = "strides: bad list, repeated, or count != view ndim";
    } else if (starts(p, "st(")) {
        p += 3;
        ok = take(s, A_STORAGE) && read_list(&p, ')', s->st, &s->st_ndim);
        *why = "storage: bad list or repeated";
    } else if (p[0] == 'o' && (is_digit(p[1]) || p[1] == '-')) {
        p++;
        ok = take(s, A_OFFSET) && read_i64(&p, &s->offset);
        *why = "offset: bad number or repeated";
    } else if (starts(p, "nz") || starts(p, "nd") || starts(p, "fmt")) {
        ok = take(s, A_FORMAT) && attr_format(&p, s);
        *why = "format: bad or repeated";
    } else if (starts(p, "nodata") || p[0] == '@') {
        ok = take(s, A_DATA) && attr_data(&p, s);
        *why = "data: bad nodata/@ attribute or repeated";
    } else if (starts(p, "buf(")) {
        int64_t v = 0;
        p += 4;
        ok = take(s, A_BUF) && read_i64(&p, &v) && v > 0 && *p++ == ')';
        s->buf_bytes = (uint64_t)v;
        *why = "buf: bad size or repeated";
    } else {
        ok = 0;
        *why = "unknown attribute";
    }
    if (ok && *p != ' ' && *p != '\0') {
        ok = 0;
        *why = "junk after attribute";
    }
    *pp = p;
    return ok;
}

static void slot_defaults(slot_spec *s)
{
    memset(s, 0, sizeof *s);
    s->alias = -1;
    s->rel_slot = -1;
    s->format = QMAR_FORMAT_ND;
    s->mode = DATA_OWN;
}

static int parse_tensor(const char *f, slot_spec *s, const char **why)
{
    slot_defaults(s);
    if (strcmp(f, "-") == 0)
        return 1;
    s->present = 1;
    if (f[0] == '=') {
        const char *p = f + 1;
        s->alias = read_slot_name(&p);
        *why = "'=' must name a slot";
        return s->alias >= 0 && *p == '\0';
    }
    *why = "bad dtype or view dims";
    if (!read_dtype(&f, &s->dtype) || *f++ != '[' || !read_list(&f, ']', s->dims, &s->ndim))
        return 0;
    while (*f == ' ') {
        f++;
        if (!parse_attr(&f, s, why))
            return 0;
    }
    *why = "junk after tensor";
    if (*f != '\0')
        return 0;
    *why = "buf() only goes with an own buffer";
    return !((s->seen & A_BUF) && s->mode != DATA_OWN);
}

/* '=' and '@' must point at a slot that is a real tensor with its own buffer. */
static int check_refs(const row *r, const char **why)
{
    for (int i = 0; i < NSLOT; i++) {
        const slot_spec *s = &r->slot[i];
        if (s->alias >= 0) {
            const slot_spec *t = &r->slot[s->alias];
            *why = "'=SLOT' must name another present, non-alias slot";
            if (s->alias == i || !t->present || t->alias >= 0)
                return 0;
        }
        if (s->mode == DATA_REL) {
            const slot_spec *t = &r->slot[s->rel_slot];
            *why = "'@SLOT' must name another slot that owns its buffer";
            if (s->rel_slot == i || !t->present || t->alias >= 0 || t->mode != DATA_OWN)
                return 0;
        }
    }
    return 1;
}

/* ---- Group, reduce op, scalar columns ---------------------------------------------------------- */
static int comm_index(int64_t n)
{
    for (int i = 0; i < NCOMM; i++)
        if (COMM_SIZES[i] == n)
            return i;
    return -1;
}

/* "rN" or "rN.i" */
static int read_rank_token(const char *p, group_spec *g)
{
    int64_t n, i = 0;
    if (*p++ != 'r' || !read_i64(&p, &n) || (g->comm = comm_index(n)) < 0)
        return 0;
    if (*p == '.') {
        p++;
        if (!is_digit(*p) || !read_i64(&p, &i) || i >= n)
            return 0;
    }
    g->rank = (int)i;
    return *p == '\0';
}

static int read_len_token(const char *p, const char *prefix, uint64_t min, group_spec *g)
{
    int64_t v;
    p += strlen(prefix);
    if (!is_digit(*p) || !read_i64(&p, &v) || *p != '\0')
        return 0;
    g->len = (uint64_t)v;
    return g->len >= min && g->len <= LONG_GROUP_MAX;
}

static int parse_group(const char *f, group_spec *g)
{
    static const struct {
        const char *word;
        group_kind kind;
    } words[] = {{"null", G_NULL}, {"empty", G_EMPTY}, {"unknown", G_UNKNOWN}, {"dead", G_DEAD}};
    memset(g, 0, sizeof *g);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(f, words[i].word) == 0) {
            g->kind = words[i].kind;
            return 1;
        }
    g->kind = G_RANK;
    if (f[0] == 'r')
        return read_rank_token(f, g);
    g->kind = G_STR;
    if (starts(f, "str"))
        return read_len_token(f, "str", 1, g);
    g->kind = G_LONG;
    if (starts(f, "long"))
        return read_len_token(f, "long", QMAR_GROUP_NAME_MAX, g);
    g->kind = starts(f, "prefix:") ? G_PREFIX : G_SUFFIX;
    if (starts(f, "prefix:") || starts(f, "suffix:"))
        return read_rank_token(f + 7, g);
    g->kind = G_LIT;
    return starts(f, "lit:") && unescape(f + 4, g->lit, sizeof g->lit);
}

static int parse_op(const char *f, row *r)
{
    r->op_null = strcmp(f, "null") == 0;
    if (r->op_null)
        return 1;
    if (strcmp(f, "empty") == 0) {
        r->op[0] = '\0';
        return 1;
    }
    return f[0] != '\0' && unescape(f, r->op, sizeof r->op);
}

static int parse_ptr_flag(const char *f, int *is_null)
{
    *is_null = strcmp(f, "null") == 0;
    return *is_null || strcmp(f, "ptr") == 0;
}

static int parse_whole_i64(const char *f, int64_t *v)
{
    return read_i64(&f, v) && *f == '\0';
}

static int parse_id(const char *f, char id[ID_MAX])
{
    size_t n = strlen(f);
    if (n == 0 || n >= ID_MAX || strspn(f, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                           "0123456789._+-") != n)
        return 0;
    memcpy(id, f, n + 1);
    return 1;
}

/* rule and expect must agree (README: N -> 161001, other rules -> 161002, ok -> 0). */
static int parse_rule(const char *rule, const char *expect, row *r)
{
    int64_t e;
    r->rule = -1;
    for (int i = 0; i < NRULE; i++)
        if (strcmp(rule, RULE_ID[i]) == 0)
            r->rule = i;
    if (strcmp(rule, "ok") == 0)
        r->rule = RULE_OK;
    if (r->rule < 0 || !parse_whole_i64(expect, &e))
        return 0;
    r->expect = (int32_t)e;
    if (r->rule == RULE_OK)
        return e == QMAR_SUCCESS;
    return e == (RULE_ID[r->rule][0] == 'N' ? QMAR_ERR_PARAM_NULLPTR : QMAR_ERR_PARAM_INVALID);
}

/* Splits in place on ','; returns the number of fields (at most cap+1 to flag excess). */
static int split_fields(char *line, char **fields, int cap)
{
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == ',') {
            *p = '\0';
            if (n == cap)
                return cap + 1;
            fields[n++] = p + 1;
        }
    return n;
}

static int parse_scalars(char **f, row *r, const char **why)
{
    *why = "bad group token";
    if (!parse_group(f[12], &r->group))
        return 0;
    *why = "bad reduce_op";
    if (!parse_op(f[13], r))
        return 0;
    *why = "bad comm_turn or stream_mode";
    if (!parse_whole_i64(f[14], &r->comm_turn) || !parse_whole_i64(f[15], &r->stream_mode))
        return 0;
    *why = "workspace_size/executor must be ptr or null";
    return parse_ptr_flag(f[16], &r->ws_null) && parse_ptr_flag(f[17], &r->exec_null);
}

/* Parses one data line (modified in place) into r; on failure *why says what is wrong. */
static int parse_row(char *line, row *r, const char **why)
{
    char *f[NFIELD];
    memset(r, 0, sizeof *r);
    *why = "expected 19 comma-separated fields";
    if (split_fields(line, f, NFIELD) != NFIELD)
        return 0;
    *why = "bad id (charset [A-Za-z0-9._+-], 1..63 characters)";
    if (!parse_id(f[0], r->id))
        return 0;
    *why = "unknown rule, or expect does not match the rule";
    if (!parse_rule(f[1], f[2], r))
        return 0;
    for (int i = 0; i < NSLOT; i++)
        if (!parse_tensor(f[3 + i], &r->slot[i], why))
            return 0;
    return check_refs(r, why) && parse_scalars(f, r, why);
}

/* ---- Materialising a row ----------------------------------------------------------------------- */
typedef struct {
    unsigned char *real[NSLOT]; /* own heap buffers (poison-checked) */
    uint64_t real_bytes[NSLOT];
    uintptr_t addr[NSLOT];      /* data pointer of each slot, 0 = NULL */
    qmar_tensor *t[NSLOT];      /* descriptor passed for each slot (aliases share) */
    int owns[NSLOT];            /* whether t[i] was created for slot i */
    char *group;                /* heap copy of the group argument */
    uintptr_t fake_next;
} call_env;

static uint64_t elem_size(int32_t dtype)
{
    for (size_t i = 0; i < NDTYPE; i++)
        if (DTYPES[i].value == dtype)
            return DTYPES[i].size;
    return 0;
}

/* a*b, or UINT64_MAX when it does not fit. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return (a != 0 && b > UINT64_MAX / a) ? UINT64_MAX : a * b;
}

/* Bytes of a slot's own buffer (README "Own buffers"); UINT64_MAX when it overflows. */
static uint64_t own_bytes(const slot_spec *s)
{
    const int64_t *d = (s->seen & A_STORAGE) ? s->st : s->dims;
    uint64_t nd = (s->seen & A_STORAGE) ? s->st_ndim : s->ndim;
    uint64_t es = elem_size(s->dtype), bytes = es ? es : 1;
    if (s->seen & A_BUF)
        return s->buf_bytes;
    for (uint64_t i = 0; i < nd; i++) {
        if (d[i] <= 0)
            return 64;
        bytes = mul_sat(bytes, (uint64_t)d[i]);
    }
    return bytes;
}

/* Fake regions are 4 KiB aligned and separated by a 4 KiB gap, from 2^56 up; sizes are capped
 * at 2^52 (only rows rejected for their element count are bigger), so they never wrap. */
static uintptr_t fake_region(call_env *e, uint64_t bytes)
{
    uintptr_t a = e->fake_next;
    uint64_t size = bytes > ((uint64_t)1 << 52) ? (uint64_t)1 << 52 : bytes;
    e->fake_next += (uintptr_t)(((size + 4095u) & ~(uint64_t)4095u) + 4096u);
    return a;
}

static int alloc_own(call_env *e, int i, const slot_spec *s)
{
    uint64_t bytes = own_bytes(s);
    if (bytes > REAL_LIMIT) {
        e->addr[i] = fake_region(e, bytes);
        return 1;
    }
    e->real[i] = calloc(bytes ? (size_t)bytes : 1u, 1);
    e->real_bytes[i] = bytes;
    e->addr[i] = (uintptr_t)e->real[i];
    return e->real[i] != NULL;
}

/* Data pointers: own buffers first, then the slots placed relative to them. */
static int place_data(call_env *e, const row *r)
{
    for (int i = 0; i < NSLOT; i++) {
        const slot_spec *s = &r->slot[i];
        if (!s->present || s->alias >= 0)
            continue;
        if (s->mode == DATA_ABS)
            e->addr[i] = (uintptr_t)s->abs_addr;
        if (s->mode == DATA_OWN && !alloc_own(e, i, s))
            return 0;
    }
    for (int i = 0; i < NSLOT; i++) {
        const slot_spec *s = &r->slot[i];
        if (s->present && s->alias < 0 && s->mode == DATA_REL)
            e->addr[i] = e->addr[s->rel_slot] + (uintptr_t)s->rel_bytes; /* wraps mod 2^64 */
    }
    return 1;
}

static int make_descriptors(call_env *e, const row *r)
{
    for (int i = 0; i < NSLOT; i++) {
        const slot_spec *s = &r->slot[i];
        int has_st = (s->seen & A_STORAGE) != 0;
        if (!s->present || s->alias >= 0)
            continue;
        e->t[i] = qmar_tensor_create(s->dims, s->ndim, (qmar_dtype)s->dtype,
                                     (s->seen & A_STRIDES) ? s->strides : NULL, s->offset,
                                     (qmar_format)s->format, has_st ? s->st : s->dims,
                                     has_st ? s->st_ndim : s->ndim, (void *)e->addr[i]);
        e->owns[i] = 1;
        if (e->t[i] == NULL)
            return 0;
    }
    for (int i = 0; i < NSLOT; i++)
        if (r->slot[i].alias >= 0)
            e->t[i] = e->t[r->slot[i].alias];
    return 1;
}

static char *repeat_q(uint64_t n, int terminate)
{
    char *s = malloc((size_t)n + (terminate ? 1u : 0u));
    if (s != NULL) {
        memset(s, 'q', (size_t)n);
        if (terminate)
            s[n] = '\0';
    }
    return s;
}

/* Heap copy of the group argument in e->group (left NULL for the `null` token). */
static int make_group(call_env *e, const group_spec *g, const comm_set *cs)
{
    const char *live = g->kind == G_RANK || g->kind == G_PREFIX || g->kind == G_SUFFIX
                           ? cs->name[g->comm][g->rank]
                           : NULL;
    size_t n = live ? strlen(live) : 0;
    switch (g->kind) {
    case G_NULL: return 1;
    case G_RANK: e->group = strdup(live); break;
    case G_DEAD: e->group = strdup(cs->dead); break;
    case G_UNKNOWN: e->group = strdup(UNKNOWN_GROUP); break;
    case G_EMPTY: e->group = strdup(""); break;
    case G_STR: e->group = repeat_q(g->len, 1); break;
    case G_LONG: e->group = repeat_q(g->len, 0); break; /* exactly len bytes, no NUL */
    case G_LIT: e->group = strdup(g->lit); break;
    case G_PREFIX:
        e->group = strdup(live);
        if (e->group && n > 0)
            e->group[n - 1] = '\0';
        break;
    case G_SUFFIX:
        e->group = malloc(n + 2);
        if (e->group) {
            memcpy(e->group, live, n);
            memcpy(e->group + n, "x", 2);
        }
        break;
    }
    return e->group != NULL;
}

static void env_free(call_env *e)
{
    for (int i = 0; i < NSLOT; i++) {
        if (e->owns[i])
            qmar_tensor_destroy(e->t[i]);
        free(e->real[i]);
    }
    free(e->group);
}

/* ---- Poison ------------------------------------------------------------------------------------ */
/* Position-dependent so that a write of the same byte pattern shifted by any amount shows. */
static unsigned char poison_byte(uint64_t j)
{
    return (unsigned char)(0xA5u ^ (unsigned)(j * 29u) ^ (unsigned)(j >> 8));
}

static void poison_fill(call_env *e)
{
    for (int i = 0; i < NSLOT; i++)
        for (uint64_t j = 0; e->real[i] && j < e->real_bytes[i]; j++)
            e->real[i][j] = poison_byte(j);
}

/* Slot whose buffer changed, or -1. */
static int poison_changed(const call_env *e, uint64_t *where)
{
    for (int i = 0; i < NSLOT; i++)
        for (uint64_t j = 0; e->real[i] && j < e->real_bytes[i]; j++)
            if (e->real[i][j] != poison_byte(j)) {
                *where = j;
                return i;
            }
    return -1;
}

/* ---- The guarded call -------------------------------------------------------------------------- */
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig)
{
    fault_sig = sig;
    siglongjmp(fault_jmp, 1);
}

static void install_fault_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fault;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

typedef struct {
    const qmar_tensor *t[NSLOT];
    const char *group, *op;
    int64_t turn, mode;
    uint64_t *ws;
    qmar_executor **exec;
} call_args;

/* A fault inside the library (e.g. it dereferenced a fake address) is reported as a failed row
 * instead of killing the runner; returns the signal number, 0 when the call returned. */
static int guarded_call(const call_args *a, qmar_status *st)
{
    if (sigsetjmp(fault_jmp, 1) != 0)
        return (int)fault_sig;
    *st = qmar_quant_matmul_all_reduce_v3_get_workspace_size(
        a->t[X1], a->t[X2], a->t[BIAS], a->t[X3], a->t[DQ], a->t[PT], a->t[C1], a->t[C2], a->group,
        a->op, a->turn, a->mode, a->t[OUT], a->ws, a->exec);
    return 0;
}

/* ---- Checking one row -------------------------------------------------------------------------- */
static const slot_spec *resolved(const row *r, int i)
{
    return r->slot[i].alias >= 0 ? &r->slot[r->slot[i].alias] : &r->slot[i];
}

static uint64_t align64(uint64_t v)
{
    return (v + 63u) & ~(uint64_t)63u;
}

/* The formula of qmar.h; only used for accepted rows, whose dims are valid and small enough. */
static uint64_t expected_workspace(const row *r)
{
    const slot_spec *x1 = resolved(r, X1), *out = resolved(r, OUT);
    uint64_t m = 1, n = (uint64_t)out->dims[out->ndim - 1];
    for (uint64_t i = 0; i + 1 < x1->ndim; i++)
        m *= (uint64_t)x1->dims[i];
    uint64_t ws = align64(m * n * elem_size(out->dtype));
    if (r->slot[C1].present && r->slot[C2].present)
        ws += 2u * align64(m * n);
    return ws;
}

typedef struct {
    qmar_status st;
    int sig;
    uint64_t ws;
    qmar_executor *exec;
    int poisoned_slot;
    uint64_t poisoned_at;
} outcome;

static char exec_sentinel_obj; /* its address marks "the library did not set *executor" */
#define EXEC_SENTINEL ((qmar_executor *)(void *)&exec_sentinel_obj)
#define WS_SENTINEL UINT64_C(0xDEADBEEFCAFEF00D)

/* Writes the first broken expectation into why; returns 1 when the row passes. */
static int judge(const row *r, const outcome *o, char *why, size_t cap)
{
    if (o->sig)
        snprintf(why, cap, "the call faulted with signal %d", o->sig);
    else if (o->st != r->expect)
        snprintf(why, cap, "status %" PRId32 " (%s)", o->st, qmar_status_string(o->st));
    else if (o->poisoned_slot >= 0)
        snprintf(why, cap, "wrote to %s at byte %" PRIu64, SLOT_NAME[o->poisoned_slot],
                 o->poisoned_at);
    else if (o->st != 0 && !r->exec_null && o->exec != NULL)
        snprintf(why, cap, "failed but *executor is not NULL");
    else if (o->st != 0 && !r->ws_null && o->ws != 0)
        snprintf(why, cap, "failed but *workspace_size = %" PRIu64 ", not 0", o->ws);
    else if (o->st != 0 && qmar_last_error()[0] == '\0')
        snprintf(why, cap, "failed with an empty qmar_last_error()");
    else if (o->st == 0 && (o->exec == NULL || o->exec == EXEC_SENTINEL))
        snprintf(why, cap, "succeeded without an executor");
    else if (o->st == 0 && o->ws != expected_workspace(r))
        snprintf(why, cap, "workspace %" PRIu64 " != formula %" PRIu64, o->ws,
                 expected_workspace(r));
    else
        return 1;
    return 0;
}

static int setup_env(call_env *e, const row *r, const comm_set *cs, const char **why)
{
    memset(e, 0, sizeof *e);
    e->fake_next = (uintptr_t)1 << 56;
    *why = "setup: cannot allocate a real buffer";
    if (!place_data(e, r))
        return 0;
    *why = "setup: qmar_tensor_create returned NULL";
    if (!make_descriptors(e, r))
        return 0;
    *why = "setup: cannot build the group string";
    return make_group(e, &r->group, cs);
}

static void call_row(const row *r, call_env *e, outcome *o)
{
    call_args a;
    for (int i = 0; i < NSLOT; i++)
        a.t[i] = e->t[i];
    a.group = e->group;
    a.op = r->op_null ? NULL : r->op;
    a.turn = r->comm_turn;
    a.mode = r->stream_mode;
    o->ws = WS_SENTINEL;
    o->exec = EXEC_SENTINEL;
    a.ws = r->ws_null ? NULL : &o->ws;
    a.exec = r->exec_null ? NULL : &o->exec;
    poison_fill(e);
    o->st = -1;
    o->sig = guarded_call(&a, &o->st);
    o->poisoned_slot = poison_changed(e, &o->poisoned_at);
}

static const char *rule_name(int rule)
{
    return rule == RULE_OK ? "ok" : RULE_ID[rule];
}

/* The reason text is free-form (qmar.h), but when it opens with a bracketed rule id that differs
 * from the row's deciding rule, the order of checks disagrees with spec/validation.md: worth a
 * note, not a failure, since the status is all the contract fixes. Returns 1 for a note. */
static int note_cited_rule(const row *r, qmar_status st)
{
    const char *e = qmar_last_error();
    size_t len = strcspn(e + 1, "]");
    if (r->rule == RULE_OK || st != r->expect || e[0] != '[' || e[1 + len] != ']')
        return 0;
    if (strlen(RULE_ID[r->rule]) == len && strncmp(e + 1, RULE_ID[r->rule], len) == 0)
        return 0;
    printf("NOTE %s: the row's deciding rule is %s, the library's reason is \"%s\"\n", r->id,
           RULE_ID[r->rule], e);
    return 1;
}

/* Runs one row; returns 1 when it behaves as the row says. */
static int run_row(const row *r, const comm_set *cs, int verbose, long *notes)
{
    call_env e;
    outcome o;
    char why[256];
    const char *setup_why;
    int pass = 0;
    memset(&o, 0, sizeof o);
    o.st = -1; /* "no status": setup failed before the call */
    if (!setup_env(&e, r, cs, &setup_why)) {
        snprintf(why, sizeof why, "%s", setup_why);
    } else {
        call_row(r, &e, &o);
        pass = judge(r, &o, why, sizeof why);
        *notes += pass && note_cited_rule(r, o.st);
        /* Only a plan the library really returned is ours to free. */
        if (o.st == 0 && !o.sig && o.exec != NULL && o.exec != EXEC_SENTINEL)
            qmar_executor_destroy(o.exec);
    }
    if (!pass)
        printf("FAIL %s rule=%s expected=%" PRId32 " got=%" PRId32 ": %s [last_error: %s]\n",
               r->id, rule_name(r->rule), r->expect, o.st, why, qmar_last_error());
    else if (verbose)
        printf("ok   %s rule=%s status=%" PRId32 " [last_error: %s]\n", r->id, rule_name(r->rule),
               o.st, o.st ? qmar_last_error() : "");
    env_free(&e);
    return pass;
}

/* ---- Statistics -------------------------------------------------------------------------------- */
#define STAT_MATRIX (NRULE + 1)
typedef struct {
    long rejected[NRULE + 2], accepted[NRULE + 2], failed[NRULE + 2];
    long rows, malformed, notes;
    char (*ids)[ID_MAX];
    size_t nids, capids;
} stats;

/* The rule an accepted row neighbours: the id's prefix before the first '.'. */
static int stat_index(const row *r)
{
    size_t len = strcspn(r->id, ".");
    if (r->rule != RULE_OK)
        return r->rule;
    for (int i = 0; i < NRULE; i++)
        if (strlen(RULE_ID[i]) == len && strncmp(r->id, RULE_ID[i], len) == 0)
            return i;
    return STAT_MATRIX;
}

static int remember_id(stats *s, const char *id)
{
    for (size_t i = 0; i < s->nids; i++)
        if (strcmp(s->ids[i], id) == 0)
            return 0;
    if (s->nids == s->capids) {
        size_t cap = s->capids ? s->capids * 2 : 256;
        void *p = realloc(s->ids, cap * sizeof *s->ids);
        if (p == NULL)
            return 0;
        s->ids = p;
        s->capids = cap;
    }
    memcpy(s->ids[s->nids++], id, ID_MAX);
    return 1;
}

static void print_stats(const stats *s)
{
    printf("\n%-6s %9s %9s %7s\n", "rule", "rejected", "accepted", "failed");
    for (int i = 0; i <= STAT_MATRIX; i++) {
        const char *name = i < NRULE ? RULE_ID[i] : (i == STAT_MATRIX ? "OK" : NULL);
        if (name != NULL)
            printf("%-6s %9ld %9ld %7ld\n", name, s->rejected[i], s->accepted[i], s->failed[i]);
    }
    printf("%ld rows, %ld malformed lines, %ld notes (reason cites another rule)\n", s->rows,
           s->malformed, s->notes);
}

/* Every rule must have a rejected row and an accepted neighbour (README). */
static void check_coverage(const stats *s)
{
    for (int i = 0; i < NRULE; i++) {
        if (s->rejected[i] == 0 || s->accepted[i] == 0)
            printf("coverage: rule %s has %ld rejected and %ld accepted rows\n", RULE_ID[i],
                   s->rejected[i], s->accepted[i]);
        CHECK(s->rejected[i] > 0 && s->accepted[i] > 0);
    }
}

/* ---- Files ------------------------------------------------------------------------------------- */
static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return 0;
    return 1;
}

static void malformed(stats *s, const char *path, long lineno, const char *why)
{
    printf("MALFORMED %s:%ld: %s\n", path, lineno, why);
    s->malformed++;
    CHECK(!"malformed conformance line");
}

/* The first non-comment line; a wrong one is reported once and then read past. */
static int check_header(const char *line, stats *s, const char *path, long lineno)
{
    if (strcmp(line, HEADER) != 0)
        malformed(s, path, lineno, "bad header (README.md gives the column list)");
    return 1;
}

/* One data line: parse, de-duplicate the id, run, count. */
static void handle_line(char *line, const char *path, long lineno, stats *s, const comm_set *cs,
                        int verbose)
{
    row *r = malloc(sizeof *r);
    const char *why = "out of memory";
    if (r == NULL || !parse_row(line, r, &why)) {
        malformed(s, path, lineno, why);
    } else if (!remember_id(s, r->id)) {
        malformed(s, path, lineno, "duplicate id");
    } else {
        int k = stat_index(r), pass = run_row(r, cs, verbose, &s->notes);
        if (r->rule == RULE_OK)
            s->accepted[k]++;
        else
            s->rejected[k]++;
        s->failed[k] += !pass;
        s->rows++;
        CHECK(pass);
    }
    free(r);
}

static void run_file(const char *path, stats *s, const comm_set *cs, int verbose)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int have_header = 0;
    if (f == NULL) {
        malformed(s, path, 0, "cannot open");
        return;
    }
    while (getline(&line, &cap, f) >= 0) {
        size_t n = strlen(line);
        lineno++;
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (!printable_ascii(line))
            malformed(s, path, lineno, "not printable ASCII (CR, tab or a NUL byte?)");
        else if (n == 0 || line[0] == '#')
            continue;
        else if (!have_header)
            have_header = check_header(line, s, path, lineno);
        else
            handle_line(line, path, lineno, s, cs, verbose);
    }
    if (!have_header)
        malformed(s, path, lineno, "no header");
    free(line);
    fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Paths of the .csv files in dir, sorted so the run order is stable; n of them. */
static char **list_csv(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL;
    *n = 0;
    if (d == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char **nv;
        if (len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0)
            continue;
        nv = realloc(v, (*n + 1) * sizeof *v);
        if (nv == NULL)
            break;
        v = nv;
        v[*n] = malloc(strlen(dir) + len + 2);
        if (v[*n] == NULL)
            break;
        sprintf(v[*n], "%s/%s", dir, de->d_name);
        (*n)++;
    }
    closedir(d);
    qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

/* ---- Communicators ----------------------------------------------------------------------------- */
static int comms_open(comm_set *cs)
{
    qmar_comm *dead = NULL;
    memset(cs, 0, sizeof *cs);
    for (int c = 0; c < NCOMM; c++) {
        int32_t n = COMM_SIZES[c];
        cs->ep[c] = calloc((size_t)n, sizeof *cs->ep[c]);
        cs->name[c] = calloc((size_t)n, sizeof *cs->name[c]);
        if (!cs->ep[c] || !cs->name[c] || qmar_comm_init_all(n, cs->ep[c]) != QMAR_SUCCESS)
            return 0;
        for (int32_t i = 0; i < n; i++)
            if (qmar_comm_get_name(cs->ep[c][i], cs->name[c][i]) != QMAR_SUCCESS)
                return 0;
    }
    /* Created last so no later communicator can be handed the freed name. */
    if (qmar_comm_init_all(1, &dead) != QMAR_SUCCESS ||
        qmar_comm_get_name(dead, cs->dead) != QMAR_SUCCESS)
        return 0;
    return qmar_comm_destroy(dead) == QMAR_SUCCESS;
}

static void comms_close(comm_set *cs)
{
    for (int c = 0; c < NCOMM; c++) {
        for (int32_t i = 0; cs->ep[c] && i < COMM_SIZES[c]; i++)
            if (cs->ep[c][i] != NULL)
                qmar_comm_destroy(cs->ep[c][i]);
        free(cs->ep[c]);
        free(cs->name[c]);
    }
}

/* ---- Parser self-test -------------------------------------------------------------------------- */
/* Lines the parser must refuse, so that a typo in a row can never turn into a silent skip. */
static void parser_selftest(void)
{
    static const char *const bad[] = {
        "x,ok,0,int8[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,ptr",
        "x,ok,161002,int8[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,"
        "ptr,expect does not match rule",
        "x,ok,0,int9[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,ptr,",
        "x,ok,0,int8[32,64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,ptr,",
        "x,ok,0,int8[32x64] s(1),int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,"
        "ptr,",
        "x,ok,0,int8[32x64],int8[64x128],-,=x3,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,ptr,",
        "x,ok,0,int8[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r5,sum,0,1,ptr,ptr,",
        "x,ok,0,int8[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,s m,0,1,ptr,ptr,",
        "x,ok,0,int8[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,nul,",
        "x,X9,161002,int8[32x64],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,"
        "ptr,",
        "x,ok,0,int8[32x64] o1 o2,int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,0,1,ptr,"
        "ptr,",
        "x,ok,0,int8[99999999999999999999],int8[64x128],-,-,uint64[128],-,-,-,fp16[32x128],r8,sum,"
        "0,1,ptr,ptr,",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[512];
        row *r = malloc(sizeof *r);
        const char *why;
        snprintf(buf, sizeof buf, "%s", bad[i]);
        CHECK(r != NULL && !parse_row(buf, r, &why));
        free(r);
    }
}

/* ---- main -------------------------------------------------------------------------------------- */
static void run_dir(const char *dir, stats *s, const comm_set *cs, int verbose)
{
    size_t n;
    char **files = list_csv(dir, &n);
    if (n == 0)
        malformed(s, dir, 0, "no *.csv files");
    for (size_t i = 0; i < n; i++) {
        run_file(files[i], s, cs, verbose);
        free(files[i]);
    }
    free(files);
}

int main(int argc, char **argv)
{
    const char *dir = "spec/cases";
    int verbose = 0;
    comm_set cs;
    stats s;
#if UINTPTR_MAX < UINT64_MAX
    puts("SKIP: fake addresses need a 64-bit address space");
    return 77;
#endif
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            dir = argv[i];
    }
    memset(&s, 0, sizeof s);
    install_fault_handlers();
    parser_selftest();
    if (!comms_open(&cs)) {
        printf("cannot create the communicators: %s\n", qmar_last_error());
        CHECK(!"communicators");
    } else {
        run_dir(dir, &s, &cs, verbose);
        print_stats(&s);
        check_coverage(&s);
    }
    comms_close(&cs);
    free(s.ids);
    return check_summary();
}
