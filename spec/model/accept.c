/* SPDX-License-Identifier: Apache-2.0 */
/* The acceptance predicate of spec/validation.md, transcribed rule by rule (see accept.h).
 *
 * Each rule_XX() below is one rule of the spec, named by its id, and answers "does the rule
 * hold?". accept_get_workspace_size() walks them in the spec's order and the first that fails
 * decides. Every rule may therefore assume that all the rules before it hold; that is what keeps
 * the arithmetic below inside 64 bits (L1 bounds every element count by 2^48 before anything is
 * multiplied), and each helper says which rules it relies on. */
#include "accept.h"

#include <stddef.h>
#include <string.h>

#define LIMIT ACCEPT_MAX_ELEMS
#define MAX_K 65535                   /* S2 */
#define MAX_STORED_LAST 65535         /* S2 */
#define MAX_M INT64_C(2147483647)     /* S2 */
#define GROUP_MAX QMAR_GROUP_NAME_MAX /* A4: strnlen(group, 128) < 128 */

/* ---- "Words used below" ------------------------------------------------------------------- */

/*@ assigns \nothing;
    ensures \result == 0 || \result == 1 || \result == 2 || \result == 4 || \result == 8;
*/
uint64_t accept_elem_size(int32_t dtype)
{
    switch (dtype) {
    case QMAR_FLOAT:
    case QMAR_INT32:
    case QMAR_UINT32:
        return 4;
    case QMAR_FLOAT16:
    case QMAR_BF16:
    case QMAR_INT16:
    case QMAR_UINT16:
        return 2;
    case QMAR_INT8:
    case QMAR_UINT8:
    case QMAR_BOOL:
        return 1;
    case QMAR_INT64:
    case QMAR_UINT64:
    case QMAR_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

/*@ assigns \nothing; */
const char *accept_slot_name(int slot)
{
    static const char *const names[ACCEPT_NSLOTS] = {"x1",
                                                     "x2",
                                                     "bias",
                                                     "x3",
                                                     "dequant_scale",
                                                     "pertoken_scale",
                                                     "comm_quant_scale1",
                                                     "comm_quant_scale2",
                                                     "output"};
    return slot >= 0 && slot < ACCEPT_NSLOTS ? names[slot] : "?";
}

/* The slot's tensor, or NULL when the slot is absent (a NULL pointer). */
/*@ requires \valid_read(a) && 0 <= slot < ACCEPT_NSLOTS;
    assigns \nothing;
    ensures a->slot[slot].present != 0 ==> \result == &a->slot[slot];
    ensures a->slot[slot].present == 0 ==> \result == \null;
*/
static const accept_tensor *get(const accept_args *a, int slot)
{
    return a->slot[slot].present ? &a->slot[slot] : NULL;
}

/*@ requires \valid_read(d + (0 .. n - 1));
    assigns \nothing;
    ensures \result == 1 <==> (\forall integer i; 0 <= i < n ==> d[i] >= 1);
    ensures \result == 0 || \result == 1;
*/
static int all_positive(const int64_t *d, uint64_t n)
{
    /*@ loop invariant 0 <= i <= n;
        loop invariant \forall integer j; 0 <= j < i ==> d[j] >= 1;
        loop assigns i;
        loop variant n - i;
    */
    for (uint64_t i = 0; i < n; i++) {
        if (d[i] < 1) {
            return 0;
        }
    }
    return 1;
}

/* Product of n dims that are all >= 1. Once the product passes the element limit the result is
 * LIMIT + 1, so the caller can compare with LIMIT and nothing overflows on the way. */
/*@ requires \valid_read(d + (0 .. n - 1));
    requires \forall integer i; 0 <= i < n ==> d[i] >= 1;
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
*/
static uint64_t elems(const int64_t *d, uint64_t n)
{
    uint64_t p = 1;
    /*@ loop invariant 0 <= i <= n;
        loop invariant 1 <= p <= LIMIT;
        loop assigns i, p;
        loop variant n - i;
    */
    for (uint64_t i = 0; i < n; i++) {
        uint64_t di = (uint64_t)d[i];
        if (di > LIMIT / p) {
            return LIMIT + 1;
        }
        p *= di;
    }
    return p;
}

/* What the words below need of a descriptor: at most QMAR_MAX_DIMS dims, each >= 1 (L1). */
/*@ predicate view_dims_ok{L}(accept_tensor *t) =
      \valid_read(t) && t->view_ndim <= QMAR_MAX_DIMS &&
      \forall integer i; 0 <= i < t->view_ndim ==> t->dims[i] >= 1;
    predicate storage_dims_ok{L}(accept_tensor *t) =
      \valid_read(t) && t->storage_ndim <= QMAR_MAX_DIMS &&
      \forall integer i; 0 <= i < t->storage_ndim ==> t->storage_dims[i] >= 1;
*/

/*@ requires view_dims_ok(t);
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
*/
static uint64_t view_elems(const accept_tensor *t)
{
    return elems(t->dims, t->view_ndim);
}

/* S of L4: product of storage dims, 1 for a 0-dim storage (resolved question 7). */
/*@ requires storage_dims_ok(t);
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
*/
static uint64_t storage_elems(const accept_tensor *t)
{
    return elems(t->storage_dims, t->storage_ndim);
}

/* rs[i] = product of the dims after i (rs[last] = 1). Needs L1 (so it is <= 2^48). */
/*@ requires view_dims_ok(t) && i < t->view_ndim;
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
*/
static int64_t row_major_stride(const accept_tensor *t, uint64_t i)
{
    return (int64_t)elems(t->dims + i + 1, t->view_ndim - i - 1);
}

/* "contiguous": strides absent, or equal to rs wherever the dim is not 1. Needs L1. */
/*@ requires view_dims_ok(t);
    assigns \nothing;
*/
static int contiguous(const accept_tensor *t)
{
    if (!t->has_strides) {
        return 1;
    }
    /*@ loop invariant 0 <= i <= t->view_ndim;
        loop assigns i;
        loop variant t->view_ndim - i;
    */
    for (uint64_t i = 0; i < t->view_ndim; i++) {
        if (t->dims[i] != 1 && t->strides[i] != row_major_stride(t, i)) {
            return 0;
        }
    }
    return 1;
}

/* "transposed" (2-D (k,n) only): not contiguous, strides (1,k) wherever the dim is not 1. A
 * non-contiguous view always has strides, so reading them is safe. With k == 1 or n == 1 the
 * pattern is also contiguous and contiguity wins (resolved question 8), so this is then false and
 * an NZ x2 must hold the NZ of (k,n) (L5). Needs L1. */
/*@ requires view_dims_ok(t);
    assigns \nothing;
*/
static int transposed(const accept_tensor *t)
{
    if (t->view_ndim != 2 || contiguous(t)) {
        return 0;
    }
    int64_t k = t->dims[0], n = t->dims[1];
    return (k == 1 || t->strides[0] == 1) && (n == 1 || t->strides[1] == k);
}

/* "extent": last = offset + sum (dims[i] - 1) * strides[i], absent strides read as rs. Needs
 * L1-L3: then every dim > 1 has stride rs[i] or the transposed (1,k), each term is below 2^48 and
 * the terms of size-1 dims are 0 whatever their stride, so the sum of a non-negative offset
 * (< 2^63) and the terms fits in 64 unsigned bits. */
static uint64_t last_elem(const accept_tensor *t)
{
    uint64_t last = (uint64_t)t->offset;
    for (uint64_t i = 0; i < t->view_ndim; i++) {
        if (t->dims[i] != 1) {
            int64_t stride = t->has_strides ? t->strides[i] : row_major_stride(t, i);
            last += (uint64_t)(t->dims[i] - 1) * (uint64_t)stride;
        }
    }
    return last;
}

/* "footprint", as byte offsets from data: [offset*es, (last+1)*es) for ND, the whole storage
 * [0, S*es) for FRACTAL_NZ. Needs L1-L5 (last < S <= 2^48, es <= 8: no overflow). */
static void footprint_bytes(const accept_tensor *t, uint64_t *from, uint64_t *to)
{
    uint64_t es = accept_elem_size(t->dtype);
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        *from = 0;
        *to = storage_elems(t) * es;
    } else {
        *from = (uint64_t)t->offset * es;
        *to = (last_elem(t) + 1) * es;
    }
}

/* m: product of x1's view dims but the last. Needs L1 and S1. */
/*@ requires \valid_read(a) && a->slot[ACCEPT_X1].present != 0;
    requires view_dims_ok(&a->slot[ACCEPT_X1]) && 1 <= a->slot[ACCEPT_X1].view_ndim;
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
*/
static int64_t dim_m(const accept_args *a)
{
    const accept_tensor *x1 = get(a, ACCEPT_X1);
    return (int64_t)elems(x1->dims, x1->view_ndim - 1);
}

/* k: x1's last view dim. */
/*@ requires \valid_read(a) && a->slot[ACCEPT_X1].present != 0;
    requires view_dims_ok(&a->slot[ACCEPT_X1]) && 1 <= a->slot[ACCEPT_X1].view_ndim;
    assigns \nothing;
    ensures 1 <= \result;
*/
static int64_t dim_k(const accept_args *a)
{
    const accept_tensor *x1 = get(a, ACCEPT_X1);
    return x1->dims[x1->view_ndim - 1];
}

/* n: output's last view dim. */
/*@ requires \valid_read(a) && a->slot[ACCEPT_OUTPUT].present != 0;
    requires view_dims_ok(&a->slot[ACCEPT_OUTPUT]) && 1 <= a->slot[ACCEPT_OUTPUT].view_ndim;
    assigns \nothing;
    ensures 1 <= \result;
*/
static int64_t dim_n(const accept_args *a)
{
    const accept_tensor *out = get(a, ACCEPT_OUTPUT);
    return out->dims[out->view_ndim - 1];
}

/*@ requires view_dims_ok(p) && view_dims_ok(q);
    assigns \nothing;
*/
static int same_view(const accept_tensor *p, const accept_tensor *q)
{
    if (p->view_ndim != q->view_ndim) {
        return 0;
    }
    /*@ loop invariant 0 <= i <= p->view_ndim;
        loop assigns i;
        loop variant p->view_ndim - i;
    */
    for (uint64_t i = 0; i < p->view_ndim; i++) {
        if (p->dims[i] != q->dims[i]) {
            return 0;
        }
    }
    return 1;
}

/*@ requires \valid_read(t);
    assigns \nothing;
*/
static int is_1d(const accept_tensor *t, int64_t d0)
{
    return t->view_ndim == 1 && t->dims[0] == d0;
}

/*@ requires \valid_read(t);
    assigns \nothing;
*/
static int is_2d(const accept_tensor *t, int64_t d0, int64_t d1)
{
    return t->view_ndim == 2 && t->dims[0] == d0 && t->dims[1] == d1;
}

/* ---- N: NULL pointers -> 161001 ----------------------------------------------------------- */

/* N1: the required pointers. */
/*@ requires \valid_read(a);
    assigns \nothing;
*/
static int rule_n1(const accept_args *a)
{
    return get(a, ACCEPT_X1) && get(a, ACCEPT_X2) && get(a, ACCEPT_DEQUANT) &&
           get(a, ACCEPT_OUTPUT) && a->group != NULL && a->reduce_op != NULL &&
           !a->workspace_size_null && !a->executor_null;
}

/* N2: every present tensor, required or optional, has data. */
/*@ requires \valid_read(a);
    assigns \nothing;
*/
static int rule_n2(const accept_args *a)
{
    /*@ loop invariant 0 <= s <= ACCEPT_NSLOTS;
        loop assigns s;
        loop variant ACCEPT_NSLOTS - s;
    */
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (t && t->data == 0) {
            return 0;
        }
    }
    return 1;
}

/* ---- D: dtypes ---------------------------------------------------------------------------- */

/* The D rules are checked once N1 holds: these slots are present. */
/*@ predicate n1_present{L}(accept_args *a) =
      a->slot[ACCEPT_X1].present != 0 && a->slot[ACCEPT_X2].present != 0 &&
      a->slot[ACCEPT_DEQUANT].present != 0 && a->slot[ACCEPT_OUTPUT].present != 0;
*/

/* D1: x1 and x2 are INT8. */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d1(const accept_args *a)
{
    return get(a, ACCEPT_X1)->dtype == QMAR_INT8 && get(a, ACCEPT_X2)->dtype == QMAR_INT8;
}

/* D2: Y is FLOAT16 or BF16. */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d2(const accept_args *a)
{
    int32_t y = get(a, ACCEPT_OUTPUT)->dtype;
    return y == QMAR_FLOAT16 || y == QMAR_BF16;
}

/* D3: bias, if present, is INT32. */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d3(const accept_args *a)
{
    const accept_tensor *bias = get(a, ACCEPT_BIAS);
    return !bias || bias->dtype == QMAR_INT32;
}

/* D4: x3, if present, has dtype Y (FP16 too: resolved contradiction 1). */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d4(const accept_args *a)
{
    const accept_tensor *x3 = get(a, ACCEPT_X3);
    return !x3 || x3->dtype == get(a, ACCEPT_OUTPUT)->dtype;
}

/* D5: dequant_scale follows Y and the presence of pertoken. */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d5(const accept_args *a)
{
    int32_t y = get(a, ACCEPT_OUTPUT)->dtype;
    int32_t d = get(a, ACCEPT_DEQUANT)->dtype;
    if (y == QMAR_BF16) {
        return d == QMAR_BF16;
    }
    if (!get(a, ACCEPT_PERTOKEN)) { /* FP16 without pertoken: TransQuantParamV2 words */
        return d == QMAR_INT64 || d == QMAR_UINT64;
    }
    return d == QMAR_FLOAT;
}

/* D6: pertoken_scale, if present, is FLOAT. */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d6(const accept_args *a)
{
    const accept_tensor *p = get(a, ACCEPT_PERTOKEN);
    return !p || p->dtype == QMAR_FLOAT;
}

/* D7: the comm scales come as a pair, each of dtype Y. */
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
*/
static int rule_d7(const accept_args *a)
{
    const accept_tensor *c1 = get(a, ACCEPT_COMM1), *c2 = get(a, ACCEPT_COMM2);
    int32_t y = get(a, ACCEPT_OUTPUT)->dtype;
    if (!c1 && !c2) {
        return 1;
    }
    return c1 && c2 && c1->dtype == y && c2->dtype == y;
}

/* ---- L: formats, layout, memory ----------------------------------------------------------- */

/* L1 for one tensor: 1..8 view dims all >= 1, storage dims all >= 1, both element counts within
 * the limit, offset >= 0. A storage of more than 8 dims cannot come out of qmar_tensor_create; it
 * is refused here only so that this function never reads past storage_dims. */
static int l1_tensor(const accept_tensor *t)
{
    if (t->view_ndim < 1 || t->view_ndim > QMAR_MAX_DIMS || t->storage_ndim > QMAR_MAX_DIMS) {
        return 0;
    }
    if (!all_positive(t->dims, t->view_ndim) || !all_positive(t->storage_dims, t->storage_ndim)) {
        return 0;
    }
    return view_elems(t) <= LIMIT && storage_elems(t) <= LIMIT && t->offset >= 0;
}

/* L1: every present slot is a non-empty, bounded view. */
static int rule_l1(const accept_args *a)
{
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (t && !l1_tensor(t)) {
            return 0;
        }
    }
    return 1;
}

/* L2: every slot but x2 is ND and contiguous. */
static int rule_l2(const accept_args *a)
{
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (s != ACCEPT_X2 && t && (t->format != QMAR_FORMAT_ND || !contiguous(t))) {
            return 0;
        }
    }
    return 1;
}

/* L3: x2 is ND or FRACTAL_NZ, 2-D, contiguous or transposed (no other stride pattern). */
static int rule_l3(const accept_args *a)
{
    const accept_tensor *x2 = get(a, ACCEPT_X2);
    int format_ok = x2->format == QMAR_FORMAT_ND || x2->format == QMAR_FORMAT_FRACTAL_NZ;
    return format_ok && x2->view_ndim == 2 && (contiguous(x2) || transposed(x2));
}

/* L4: an ND view stays inside its storage: last < S. */
static int rule_l4(const accept_args *a)
{
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (t && t->format == QMAR_FORMAT_ND && last_elem(t) >= storage_elems(t)) {
            return 0;
        }
    }
    return 1;
}

/* ceil(p / q) for p >= 1, q >= 1, without the overflow of (p + q - 1) / q. */
static int64_t ceil_div(int64_t p, int64_t q)
{
    return p / q + (p % q != 0);
}

/* L5: an NZ x2's storage is exactly (ceil(W/32), ceil(H/16), 16, 32) of the stored matrix
 * ((H,W) = (k,n) contiguous, (n,k) transposed), with offset 0. */
static int l5_tensor(const accept_tensor *x2)
{
    int64_t k = x2->dims[0], n = x2->dims[1];
    int64_t h = transposed(x2) ? n : k;
    int64_t w = transposed(x2) ? k : n;
    const int64_t *sd = x2->storage_dims;
    if (x2->format != QMAR_FORMAT_FRACTAL_NZ) {
        return 1;
    }
    return x2->storage_ndim == 4 && sd[0] == ceil_div(w, 32) && sd[1] == ceil_div(h, 16) &&
           sd[2] == 16 && sd[3] == 32 && x2->offset == 0;
}

static int rule_l5(const accept_args *a)
{
    return l5_tensor(get(a, ACCEPT_X2));
}

/* L6: no footprint reaches past the top of the address space: its end address data + bytes,
 * computed exactly, is at most 2^64 - 1 (a footprint ending exactly at 2^64 is refused). */
static int rule_l6(const accept_args *a)
{
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        uint64_t from, to;
        if (t) {
            footprint_bytes(t, &from, &to);
            if (to > UINT64_MAX - t->data) {
                return 0;
            }
        }
    }
    return 1;
}

/* Two non-empty byte ranges [lo, hi) overlap when each starts before the other ends. Needs L6. */
static int overlap(const accept_tensor *p, const accept_tensor *q)
{
    uint64_t pf, pt, qf, qt;
    footprint_bytes(p, &pf, &pt);
    footprint_bytes(q, &qf, &qt);
    return p->data + pf < q->data + qt && q->data + qf < p->data + pt;
}

/* L7's exception: x3 is the output itself (same data, same offset, same view dims). */
static int x3_is_output(const accept_tensor *x3, const accept_tensor *out)
{
    return x3->data == out->data && x3->offset == out->offset && same_view(x3, out);
}

/* L7: the output's footprint overlaps no input's, but an in-place x3. */
static int rule_l7(const accept_args *a)
{
    const accept_tensor *out = get(a, ACCEPT_OUTPUT);
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (s == ACCEPT_OUTPUT || !t) {
            continue;
        }
        if (s == ACCEPT_X3 && x3_is_output(t, out)) {
            continue;
        }
        if (overlap(out, t)) {
            return 0;
        }
    }
    return 1;
}

/* ---- S: shapes ---------------------------------------------------------------------------- */

/* S1: x1 is (m,k) or (b,s,k); x2 is (k',n'). */
static int rule_s1(const accept_args *a)
{
    uint64_t nd = get(a, ACCEPT_X1)->view_ndim;
    return (nd == 2 || nd == 3) && get(a, ACCEPT_X2)->view_ndim == 2;
}

/* S2: k' == k <= 65535; the x2 matrix's stored last dim <= 65535 (n' contiguous, k
 * transposed; NZ alike); m <= 2147483647. */
static int rule_s2(const accept_args *a)
{
    const accept_tensor *x2 = get(a, ACCEPT_X2);
    int64_t k = dim_k(a);
    int64_t stored_last = transposed(x2) ? x2->dims[0] : x2->dims[1];
    return x2->dims[0] == k && k <= MAX_K && stored_last <= MAX_STORED_LAST && dim_m(a) <= MAX_M;
}

/* S3: output is x1's view with the last dim replaced by n, and n' == n. */
static int rule_s3(const accept_args *a)
{
    const accept_tensor *x1 = get(a, ACCEPT_X1), *out = get(a, ACCEPT_OUTPUT);
    if (out->view_ndim != x1->view_ndim) {
        return 0;
    }
    for (uint64_t i = 0; i + 1 < x1->view_ndim; i++) {
        if (out->dims[i] != x1->dims[i]) {
            return 0;
        }
    }
    return get(a, ACCEPT_X2)->dims[1] == dim_n(a);
}

/* S4: bias, if present, is (n). */
static int rule_s4(const accept_args *a)
{
    const accept_tensor *bias = get(a, ACCEPT_BIAS);
    return !bias || is_1d(bias, dim_n(a));
}

/* S5: x3, if present, has the output's view. */
static int rule_s5(const accept_args *a)
{
    const accept_tensor *x3 = get(a, ACCEPT_X3);
    return !x3 || same_view(x3, get(a, ACCEPT_OUTPUT));
}

/* S6: dequant_scale is (1), (n) or (1,n). */
static int rule_s6(const accept_args *a)
{
    const accept_tensor *d = get(a, ACCEPT_DEQUANT);
    int64_t n = dim_n(a);
    return is_1d(d, 1) || is_1d(d, n) || is_2d(d, 1, n);
}

/* S7: pertoken_scale, if present, is (m). */
static int rule_s7(const accept_args *a)
{
    const accept_tensor *p = get(a, ACCEPT_PERTOKEN);
    return !p || is_1d(p, dim_m(a));
}

/* S8: each comm scale is (n) or (1,n), and both have the same view (D7: both or neither). */
static int rule_s8(const accept_args *a)
{
    const accept_tensor *c1 = get(a, ACCEPT_COMM1), *c2 = get(a, ACCEPT_COMM2);
    int64_t n = dim_n(a);
    if (!c1) {
        return 1;
    }
    int c1_ok = is_1d(c1, n) || is_2d(c1, 1, n);
    int c2_ok = is_1d(c2, n) || is_2d(c2, 1, n);
    return c1_ok && c2_ok && same_view(c1, c2);
}

/* ---- A: attributes ------------------------------------------------------------------------ */

/* A1: reduce_op is exactly "sum" (case and trailing characters matter). */
static int rule_a1(const accept_args *a)
{
    return strcmp(a->reduce_op, "sum") == 0;
}

/* A2: stream_mode == 1. */
static int rule_a2(const accept_args *a)
{
    return a->stream_mode == 1;
}

/* A3: comm_turn == 0. */
static int rule_a3(const accept_args *a)
{
    return a->comm_turn == 0;
}

/* strnlen(s, max) of POSIX, which C11 lacks: never reads past s[max - 1]. */
static size_t bounded_len(const char *s, size_t max)
{
    size_t len = 0;
    while (len < max && s[len] != '\0') {
        len++;
    }
    return len;
}

/* A4: group is shorter than 128 bytes, names a live endpoint (never the empty string), and its
 * communicator has 1, 2, 4 or 8 ranks. */
static int rule_a4(const accept_args *a)
{
    int32_t r = a->group_ranks;
    size_t len = bounded_len(a->group, GROUP_MAX);
    if (len >= GROUP_MAX || len == 0) {
        return 0;
    }
    return r == 1 || r == 2 || r == 4 || r == 8;
}

/* ---- The walk ----------------------------------------------------------------------------- */

typedef struct accept_rule {
    const char *id;
    int32_t status;
    int (*holds)(const accept_args *a);
} accept_rule;

#define NULLPTR QMAR_ERR_PARAM_NULLPTR
#define INVALID QMAR_ERR_PARAM_INVALID

/* The spec's order: N1 N2 D1..D7 L1..L7 S1..S8 A1..A4. */
static const accept_rule RULES[] = {
    {"N1", NULLPTR, rule_n1}, {"N2", NULLPTR, rule_n2}, {"D1", INVALID, rule_d1},
    {"D2", INVALID, rule_d2}, {"D3", INVALID, rule_d3}, {"D4", INVALID, rule_d4},
    {"D5", INVALID, rule_d5}, {"D6", INVALID, rule_d6}, {"D7", INVALID, rule_d7},
    {"L1", INVALID, rule_l1}, {"L2", INVALID, rule_l2}, {"L3", INVALID, rule_l3},
    {"L4", INVALID, rule_l4}, {"L5", INVALID, rule_l5}, {"L6", INVALID, rule_l6},
    {"L7", INVALID, rule_l7}, {"S1", INVALID, rule_s1}, {"S2", INVALID, rule_s2},
    {"S3", INVALID, rule_s3}, {"S4", INVALID, rule_s4}, {"S5", INVALID, rule_s5},
    {"S6", INVALID, rule_s6}, {"S7", INVALID, rule_s7}, {"S8", INVALID, rule_s8},
    {"A1", INVALID, rule_a1}, {"A2", INVALID, rule_a2}, {"A3", INVALID, rule_a3},
    {"A4", INVALID, rule_a4},
};

accept_verdict accept_get_workspace_size(const accept_args *a)
{
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++) {
        if (!RULES[i].holds(a)) {
            accept_verdict v = {RULES[i].status, RULES[i].id};
            return v;
        }
    }
    accept_verdict ok = {QMAR_SUCCESS, "ok"};
    return ok;
}

/* ---- Footprint for callers ---------------------------------------------------------------- */

/* L1-L6 for one tensor in isolation (x2's layout rules when it is 2-D, L2's otherwise), so that
 * footprint_bytes() below is safe whatever the caller passes. */
static int footprint_defined(const accept_tensor *t)
{
    uint64_t from, to;
    if (!t->present || t->data == 0 || accept_elem_size(t->dtype) == 0 || !l1_tensor(t)) {
        return 0;
    }
    if (!contiguous(t) && !transposed(t)) {
        return 0;
    }
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        if (t->view_ndim != 2 || !l5_tensor(t)) {
            return 0;
        }
    } else if (t->format != QMAR_FORMAT_ND || last_elem(t) >= storage_elems(t)) {
        return 0;
    }
    footprint_bytes(t, &from, &to);
    return to <= UINT64_MAX - t->data;
}

int accept_footprint(const accept_tensor *t, uint64_t *lo, uint64_t *hi)
{
    uint64_t from, to;
    if (!footprint_defined(t)) {
        return 0;
    }
    footprint_bytes(t, &from, &to);
    *lo = t->data + from;
    *hi = t->data + to;
    return 1;
}
