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

/*@ logic integer m_elem_size(integer dtype) =
      dtype == QMAR_FLOAT || dtype == QMAR_INT32 || dtype == QMAR_UINT32 ? 4 :
      dtype == QMAR_FLOAT16 || dtype == QMAR_BF16 || dtype == QMAR_INT16 ||
      dtype == QMAR_UINT16 ? 2 :
      dtype == QMAR_INT8 || dtype == QMAR_UINT8 || dtype == QMAR_BOOL ? 1 :
      dtype == QMAR_INT64 || dtype == QMAR_UINT64 || dtype == QMAR_DOUBLE ? 8 :
      0;
*/

/*@ assigns \nothing;
    ensures \result == 0 || \result == 1 || \result == 2 || \result == 4 || \result == 8;
    ensures \result == m_elem_size(dtype);
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

/* The product of d[lo..hi) in the logic (1 for an empty range). A dims array has QMAR_MAX_DIMS
 * entries, so the recursion stops there whatever hi is. */
/*@ logic integer dprod{L}(int64_t *d, integer lo, integer hi) =
      lo >= hi || lo >= QMAR_MAX_DIMS ? 1 : d[lo] * dprod(d, lo + 1, hi);
*/

/* Product of the dims d[lo..hi), all >= 1, taken from the last one down. Once the product passes
 * the element limit the result is LIMIT + 1, so the caller can compare with LIMIT and nothing
 * overflows on the way (the product of dims >= 1 only grows, so the order does not change the
 * result). When it is within the limit, so is every product d[j..hi) it went through. */
/*@ requires lo <= hi <= QMAR_MAX_DIMS;
    requires \valid_read(d + (lo .. hi - 1));
    requires \forall integer i; lo <= i < hi ==> d[i] >= 1;
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
    ensures \result <= LIMIT ==> \result == dprod(d, lo, hi);
    ensures \result <= LIMIT ==> \forall integer j; lo <= j <= hi ==> 1 <= dprod(d, j, hi) <= LIMIT;
    ensures \result <= LIMIT ==> \forall integer j; lo <= j < hi ==> d[j] <= LIMIT;
    ensures (\forall integer j; lo <= j <= hi ==> dprod(d, j, hi) <= LIMIT) ==>
            \result == dprod(d, lo, hi);
*/
static uint64_t elems(const int64_t *d, uint64_t lo, uint64_t hi)
{
    uint64_t p = 1;
    /*@ loop invariant lo <= i <= hi;
        loop invariant 1 <= p <= LIMIT;
        loop invariant p == dprod(d, i, hi);
        loop invariant \forall integer j; i <= j <= hi ==> 1 <= dprod(d, j, hi) <= LIMIT;
        loop invariant \forall integer j; i <= j < hi ==> d[j] <= LIMIT;
        loop assigns i, p;
        loop variant i - lo;
    */
    for (uint64_t i = hi; i > lo; i--) {
        uint64_t di = (uint64_t)d[i - 1];
        //@ assert dprod(d, i - 1, hi) == di * p;
        if (di > LIMIT / p) {
            //@ assert di * p > LIMIT;
            return LIMIT + 1;
        }
        //@ assert di <= LIMIT / p <= LIMIT;
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

    // vprod(t, i): the product of the view dims from i on (rs[i - 1]); sprod(t): S of L4.
    logic integer vprod{L}(accept_tensor *t, integer i) = dprod((int64_t *)&t->dims, i, t->view_ndim);
    logic integer sprod{L}(accept_tensor *t) = dprod((int64_t *)&t->storage_dims, 0, t->storage_ndim);

    // What L1 guarantees of a descriptor's view and storage: every product of the dims from some
    // index on is within the element limit (so each row-major stride is too).
    predicate view_ok{L}(accept_tensor *t) =
      view_dims_ok(t) &&
      (\forall integer j; 0 <= j < t->view_ndim ==> t->dims[j] <= LIMIT) &&
      \forall integer j; 0 <= j <= t->view_ndim ==> 1 <= vprod(t, j) <= LIMIT;
    predicate storage_ok{L}(accept_tensor *t) =
      storage_dims_ok(t) &&
      \forall integer j; 0 <= j <= t->storage_ndim ==>
        1 <= dprod((int64_t *)&t->storage_dims, j, t->storage_ndim) <= LIMIT;
    predicate l1_ok{L}(accept_tensor *t) =
      view_ok(t) && storage_ok(t) && 1 <= t->view_ndim && t->offset >= 0;

    // "contiguous" and "transposed" (of L2, L3), as the functions below decide them under L1.
    predicate contiguous_l{L}(accept_tensor *t) =
      t->has_strides == 0 ||
      \forall integer i; 0 <= i < t->view_ndim ==> t->dims[i] != 1 ==> t->strides[i] == vprod(t, i + 1);
    predicate transposed_l{L}(accept_tensor *t) =
      t->view_ndim == 2 && t->has_strides != 0 &&
      (t->dims[0] == 1 || t->strides[0] == 1) && (t->dims[1] == 1 || t->strides[1] == t->dims[0]);
    predicate layout_ok{L}(accept_tensor *t) = contiguous_l(t) || transposed_l(t);

    // What L1-L4 guarantee of a present tensor: its footprint (below) is defined.
    predicate fp_ok{L}(accept_tensor *t) =
      l1_ok(t) &&
      (t->format == QMAR_FORMAT_FRACTAL_NZ ||
       (layout_ok(t) && t->offset + vprod(t, 0) - 1 < sprod(t)));

    // The footprint as byte offsets from data, [fp_from, fp_to).
    logic integer fp_from{L}(accept_tensor *t) =
      t->format == QMAR_FORMAT_FRACTAL_NZ ? 0 : t->offset * m_elem_size(t->dtype);
    logic integer fp_to{L}(accept_tensor *t) =
      t->format == QMAR_FORMAT_FRACTAL_NZ ? sprod(t) * m_elem_size(t->dtype) :
      (t->offset + vprod(t, 0)) * m_elem_size(t->dtype);
*/

/* Ghost lemmas: one step of vprod's recursive definition, and its end. A ghost call gives the
 * provers that one ground fact instead of the recursive definition to unfold in a large context. */
/*@ ghost
  /@ requires 0 <= i < t->view_ndim <= QMAR_MAX_DIMS;
     assigns \nothing;
     ensures vprod(t, i) == t->dims[i] * vprod(t, i + 1);
  @/
  static void lemma_vprod_step(const accept_tensor *t, uint64_t i)
  {
  }
*/

/*@ ghost
  /@ requires t->view_ndim <= QMAR_MAX_DIMS;
     assigns \nothing;
     ensures vprod(t, t->view_ndim) == 1;
  @/
  static void lemma_vprod_end(const accept_tensor *t)
  {
  }
*/

/*@ ghost
  /@ requires 0 <= a && 0 <= b;
     assigns \nothing;
     ensures 0 <= a * b;
  @/
  static void lemma_mul_nonneg(int64_t a, int64_t b)
  {
  }
*/

/*@ ghost
  /@ requires a <= b <= LIMIT;
     requires es == 0 || es == 1 || es == 2 || es == 4 || es == 8;
     assigns \nothing;
     ensures a * es <= b * es <= 8 * LIMIT;
  @/
  static void lemma_bytes(uint64_t a, uint64_t b, uint64_t es)
  {
  }
*/

/*@ ghost
  /@ requires fp_ok(t) && t->format != QMAR_FORMAT_FRACTAL_NZ;
     requires es == 0 || es == 1 || es == 2 || es == 4 || es == 8;
     assigns \nothing;
     ensures t->offset * es <= (t->offset + vprod(t, 0)) * es <= 8 * LIMIT;
  @/
  static void lemma_nd_bytes(const accept_tensor *t, uint64_t es)
  {
  }
*/

/*@ requires view_dims_ok(t);
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
    ensures \result <= LIMIT ==> \result == vprod(t, 0);
    ensures \result <= LIMIT ==> \forall integer j; 0 <= j <= t->view_ndim ==> 1 <= vprod(t, j) <= LIMIT;
    ensures \result <= LIMIT ==> \forall integer j; 0 <= j < t->view_ndim ==> t->dims[j] <= LIMIT;
*/
static uint64_t view_elems(const accept_tensor *t)
{
    return elems(t->dims, 0, t->view_ndim);
}

/* S of L4: product of storage dims, 1 for a 0-dim storage (resolved question 7). */
/*@ requires storage_dims_ok(t);
    assigns \nothing;
    ensures 1 <= \result <= LIMIT + 1;
    ensures \result <= LIMIT ==> \result == sprod(t);
    ensures \result <= LIMIT ==> \forall integer j; 0 <= j <= t->storage_ndim ==>
              1 <= dprod((int64_t *)&t->storage_dims, j, t->storage_ndim) <= LIMIT;
    ensures storage_ok(t) ==> \result == sprod(t);
*/
static uint64_t storage_elems(const accept_tensor *t)
{
    return elems(t->storage_dims, 0, t->storage_ndim);
}

/* rs[i] = product of the dims after i (rs[last] = 1). Needs L1 (so it is <= 2^48). */
/*@ requires view_ok(t) && i < t->view_ndim;
    assigns \nothing;
    ensures \result == vprod(t, i + 1);
    ensures 1 <= \result <= LIMIT;
*/
static int64_t row_major_stride(const accept_tensor *t, uint64_t i)
{
    return (int64_t)elems(t->dims, i + 1, t->view_ndim);
}

/* "contiguous": strides absent, or equal to rs wherever the dim is not 1. Needs L1. */
/*@ requires view_ok(t);
    assigns \nothing;
    ensures \result != 0 ==> contiguous_l(t);
    ensures t->has_strides == 0 ==> \result != 0;
*/
static int contiguous(const accept_tensor *t)
{
    if (!t->has_strides) {
        return 1;
    }
    /*@ loop invariant 0 <= i <= t->view_ndim;
        loop invariant \forall integer j; 0 <= j < i ==> t->dims[j] != 1 ==>
                         t->strides[j] == vprod(t, j + 1);
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
/*@ requires view_ok(t);
    assigns \nothing;
    ensures \result != 0 ==> transposed_l(t);
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
/*@ requires view_ok(t) && t->offset >= 0 && layout_ok(t);
    assigns \nothing;
    ensures \result == t->offset + vprod(t, 0) - 1;
*/
static uint64_t last_elem(const accept_tensor *t)
{
    uint64_t last = (uint64_t)t->offset;
    //@ ghost lemma_vprod_end(t);
    //@ ghost if (t->view_ndim == 2) { lemma_vprod_step(t, 0); lemma_vprod_step(t, 1); }
    /*@ assert transposed_l(t) ==> vprod(t, 2) == 1 && vprod(t, 1) == t->dims[1] &&
                                   vprod(t, 0) == t->dims[0] * t->dims[1]; */
    /*@ loop invariant 0 <= i <= t->view_ndim;
        loop invariant contiguous_l(t) ==> last == t->offset + vprod(t, 0) - vprod(t, i);
        loop invariant transposed_l(t) ==> i == 0 ==> last == t->offset;
        loop invariant transposed_l(t) ==> i == 1 ==> last == t->offset + t->dims[0] - 1;
        loop invariant transposed_l(t) ==> i == 2 ==>
                         last == t->offset + t->dims[0] * t->dims[1] - 1;
        loop assigns i, last;
        loop variant t->view_ndim - i;
    */
    for (uint64_t i = 0; i < t->view_ndim; i++) {
        //@ ghost lemma_vprod_step(t, i);
        //@ assert 1 <= vprod(t, i + 1) && vprod(t, i) <= LIMIT;
        if (t->dims[i] != 1) {
            int64_t stride = t->has_strides ? t->strides[i] : row_major_stride(t, i);
            //@ assert contiguous_l(t) ==> stride == vprod(t, i + 1);
            //@ assert transposed_l(t) ==> i == 0 ==> stride == 1;
            //@ assert transposed_l(t) ==> i == 1 ==> stride == t->dims[0];
            /*@ assert contiguous_l(t) ==>
                       (t->dims[i] - 1) * stride == vprod(t, i) - vprod(t, i + 1); */
            //@ assert transposed_l(t) ==> i == 0 ==> (t->dims[i] - 1) * stride == t->dims[0] - 1;
            /*@ assert transposed_l(t) ==> i == 1 ==>
                       (t->dims[i] - 1) * stride == t->dims[0] * t->dims[1] - t->dims[0]; */
            //@ assert contiguous_l(t) ==> (t->dims[i] - 1) * stride <= LIMIT;
            //@ assert transposed_l(t) ==> i == 0 ==> (t->dims[i] - 1) * stride <= LIMIT;
            //@ assert transposed_l(t) ==> i == 1 ==> (t->dims[i] - 1) * stride <= LIMIT;
            //@ assert (t->dims[i] - 1) * stride <= LIMIT;
            //@ assert last + (t->dims[i] - 1) * stride <= t->offset + LIMIT;
            int64_t span = t->dims[i] - 1;
            //@ assert 0 <= span && 0 <= stride;
            //@ ghost lemma_mul_nonneg(span, stride);
            //@ assert (uint64_t)span == span && (uint64_t)stride == stride;
            //@ assert (uint64_t)span * (uint64_t)stride == span * stride;
            last += (uint64_t)span * (uint64_t)stride;
        }
    }
    return last;
}

/* "footprint", as byte offsets from data: [offset*es, (last+1)*es) for ND, the whole storage
 * [0, S*es) for FRACTAL_NZ. Needs L1-L5 (last < S <= 2^48, es <= 8: no overflow). Its two ends
 * are two functions returning values (not one writing through two pointers) so that the proof
 * sees a pure function of the tensor. */
/*@ requires fp_ok(t);
    assigns \nothing;
    ensures \result == fp_from(t) && \result <= fp_to(t) && \result <= 8 * LIMIT;
*/
static uint64_t footprint_from(const accept_tensor *t)
{
    uint64_t es = accept_elem_size(t->dtype);
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        return 0;
    }
    uint64_t first = (uint64_t)t->offset;
    //@ ghost lemma_nd_bytes(t, es);
    return first * es;
}

/*@ requires fp_ok(t);
    assigns \nothing;
    ensures \result == fp_to(t) && \result <= 8 * LIMIT;
*/
static uint64_t footprint_to(const accept_tensor *t)
{
    uint64_t es = accept_elem_size(t->dtype);
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        uint64_t count = storage_elems(t);
        //@ ghost lemma_bytes(count, count, es);
        //@ assert count * es == fp_to(t);
        return count * es;
    }
    uint64_t end = last_elem(t) + 1;
    //@ ghost lemma_bytes(end, end, es);
    //@ assert end * es == fp_to(t);
    return end * es;
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
    return (int64_t)elems(x1->dims, 0, x1->view_ndim - 1);
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

/* The D rules are checked once N1 holds: these slots are present. */
/*@ predicate n1_present{L}(accept_args *a) =
      a->slot[ACCEPT_X1].present != 0 && a->slot[ACCEPT_X2].present != 0 &&
      a->slot[ACCEPT_DEQUANT].present != 0 && a->slot[ACCEPT_OUTPUT].present != 0;
    predicate n1_holds{L}(accept_args *a) =
      n1_present(a) && a->group != \null && a->reduce_op != \null;
*/

/* N1: the required pointers. */
/*@ requires \valid_read(a);
    assigns \nothing;
    ensures \result != 0 ==> n1_holds(a);
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
/*@ predicate d7_holds{L}(accept_args *a) =
      a->slot[ACCEPT_COMM1].present != 0 ==> a->slot[ACCEPT_COMM2].present != 0;
*/
/*@ requires \valid_read(a) && n1_present(a);
    assigns \nothing;
    ensures \result != 0 ==> d7_holds(a);
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
/*@ requires \valid_read(t);
    assigns \nothing;
    ensures \result != 0 ==> l1_ok(t);
*/
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

/* What the L rules guarantee to the rules after them. */
/*@ predicate l1_holds{L}(accept_args *a) =
      \forall integer s; 0 <= s < ACCEPT_NSLOTS ==> a->slot[s].present != 0 ==>
        l1_ok(&a->slot[s]);
    predicate l2_holds{L}(accept_args *a) =
      \forall integer s; 0 <= s < ACCEPT_NSLOTS ==> s != ACCEPT_X2 ==> a->slot[s].present != 0 ==>
        a->slot[s].format == QMAR_FORMAT_ND && contiguous_l(&a->slot[s]);
    predicate l3_holds{L}(accept_args *a) =
      (a->slot[ACCEPT_X2].format == QMAR_FORMAT_ND ||
       a->slot[ACCEPT_X2].format == QMAR_FORMAT_FRACTAL_NZ) &&
      a->slot[ACCEPT_X2].view_ndim == 2 && layout_ok(&a->slot[ACCEPT_X2]);
    predicate l4_holds{L}(accept_args *a) =
      \forall integer s; 0 <= s < ACCEPT_NSLOTS ==> a->slot[s].present != 0 ==>
        fp_ok(&a->slot[s]);
    predicate l6_holds{L}(accept_args *a) =
      \forall integer s; 0 <= s < ACCEPT_NSLOTS ==> a->slot[s].present != 0 ==>
        fp_to(&a->slot[s]) <= UINT64_MAX - a->slot[s].data;
    predicate l_holds{L}(accept_args *a) = n1_holds(a) && l1_holds(a) && l3_holds(a);
*/

/* L1: every present slot is a non-empty, bounded view. */
/*@ requires \valid_read(a);
    assigns \nothing;
    ensures \result != 0 ==> l1_holds(a);
*/
static int rule_l1(const accept_args *a)
{
    /*@ loop invariant 0 <= s <= ACCEPT_NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> a->slot[j].present != 0 ==>
                         l1_ok(&a->slot[j]);
        loop assigns s;
        loop variant ACCEPT_NSLOTS - s;
    */
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (t && !l1_tensor(t)) {
            return 0;
        }
    }
    return 1;
}

/* L2: every slot but x2 is ND and contiguous. */
/*@ requires \valid_read(a) && l1_holds(a);
    assigns \nothing;
    ensures \result != 0 ==> l2_holds(a);
*/
static int rule_l2(const accept_args *a)
{
    /*@ loop invariant 0 <= s <= ACCEPT_NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> j != ACCEPT_X2 ==>
          a->slot[j].present != 0 ==>
          a->slot[j].format == QMAR_FORMAT_ND && contiguous_l(&a->slot[j]);
        loop assigns s;
        loop variant ACCEPT_NSLOTS - s;
    */
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (s != ACCEPT_X2 && t && (t->format != QMAR_FORMAT_ND || !contiguous(t))) {
            return 0;
        }
    }
    return 1;
}

/* L3: x2 is ND or FRACTAL_NZ, 2-D, contiguous or transposed (no other stride pattern). */
/*@ requires \valid_read(a) && n1_holds(a) && l1_holds(a);
    assigns \nothing;
    ensures \result != 0 ==> l3_holds(a);
*/
static int rule_l3(const accept_args *a)
{
    const accept_tensor *x2 = get(a, ACCEPT_X2);
    int format_ok = x2->format == QMAR_FORMAT_ND || x2->format == QMAR_FORMAT_FRACTAL_NZ;
    return format_ok && x2->view_ndim == 2 && (contiguous(x2) || transposed(x2));
}

/* L4: an ND view stays inside its storage: last < S. */
/*@ requires \valid_read(a) && n1_holds(a) && l1_holds(a) && l2_holds(a) && l3_holds(a);
    assigns \nothing;
    ensures \result != 0 ==> l4_holds(a);
*/
static int rule_l4(const accept_args *a)
{
    /*@ loop invariant 0 <= s <= ACCEPT_NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> a->slot[j].present != 0 ==>
                         fp_ok(&a->slot[j]);
        loop assigns s;
        loop variant ACCEPT_NSLOTS - s;
    */
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (t && t->format == QMAR_FORMAT_ND && last_elem(t) >= storage_elems(t)) {
            return 0;
        }
    }
    return 1;
}

/* ceil(p / q) for p >= 1, q >= 1, without the overflow of (p + q - 1) / q. */
/*@ requires 1 <= p <= LIMIT && 1 <= q;
    assigns \nothing;
*/
static int64_t ceil_div(int64_t p, int64_t q)
{
    return p / q + (p % q != 0);
}

/* L5: an NZ x2's storage is exactly (ceil(W/32), ceil(H/16), 16, 32) of the stored matrix
 * ((H,W) = (k,n) contiguous, (n,k) transposed), with offset 0. */
/*@ requires l1_ok(x2) && x2->view_ndim == 2;
    assigns \nothing;
*/
static int l5_tensor(const accept_tensor *x2)
{
    int64_t k = x2->dims[0], n = x2->dims[1];
    //@ assert vprod(x2, 2) == 1 && vprod(x2, 1) == n && vprod(x2, 0) == k * n;
    //@ assert k <= LIMIT && n <= LIMIT;
    int64_t h = transposed(x2) ? n : k;
    int64_t w = transposed(x2) ? k : n;
    const int64_t *sd = x2->storage_dims;
    if (x2->format != QMAR_FORMAT_FRACTAL_NZ) {
        return 1;
    }
    return x2->storage_ndim == 4 && sd[0] == ceil_div(w, 32) && sd[1] == ceil_div(h, 16) &&
           sd[2] == 16 && sd[3] == 32 && x2->offset == 0;
}

/*@ requires \valid_read(a) && l_holds(a);
    assigns \nothing;
*/
static int rule_l5(const accept_args *a)
{
    return l5_tensor(get(a, ACCEPT_X2));
}

/* L6: no footprint reaches past the top of the address space: its end address data + bytes,
 * computed exactly, is at most 2^64 - 1 (a footprint ending exactly at 2^64 is refused). */
/*@ requires \valid_read(a) && l4_holds(a);
    assigns \nothing;
    ensures \result != 0 ==> l6_holds(a);
*/
static int rule_l6(const accept_args *a)
{
    /*@ loop invariant 0 <= s <= ACCEPT_NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> a->slot[j].present != 0 ==>
                         fp_to(&a->slot[j]) <= UINT64_MAX - a->slot[j].data;
        loop assigns s;
        loop variant ACCEPT_NSLOTS - s;
    */
    for (int s = 0; s < ACCEPT_NSLOTS; s++) {
        const accept_tensor *t = get(a, s);
        if (t && footprint_to(t) > UINT64_MAX - t->data) {
            return 0;
        }
    }
    return 1;
}

/* Two non-empty byte ranges [lo, hi) overlap when each starts before the other ends. Needs L6. */
/*@ requires fp_ok(p) && fp_to(p) <= UINT64_MAX - p->data;
    requires fp_ok(q) && fp_to(q) <= UINT64_MAX - q->data;
    assigns \nothing;
*/
static int overlap(const accept_tensor *p, const accept_tensor *q)
{
    uint64_t pf = footprint_from(p), pt = footprint_to(p);
    uint64_t qf = footprint_from(q), qt = footprint_to(q);
    return p->data + pf < q->data + qt && q->data + qf < p->data + pt;
}

/* L7's exception: x3 is the output itself (same data, same offset, same view dims). */
/*@ requires view_dims_ok(x3) && view_dims_ok(out);
    assigns \nothing;
*/
static int x3_is_output(const accept_tensor *x3, const accept_tensor *out)
{
    return x3->data == out->data && x3->offset == out->offset && same_view(x3, out);
}

/* L7: the output's footprint overlaps no input's, but an in-place x3. */
/*@ requires \valid_read(a) && n1_holds(a) && l4_holds(a) && l6_holds(a);
    assigns \nothing;
*/
static int rule_l7(const accept_args *a)
{
    const accept_tensor *out = get(a, ACCEPT_OUTPUT);
    /*@ loop invariant 0 <= s <= ACCEPT_NSLOTS;
        loop assigns s;
        loop variant ACCEPT_NSLOTS - s;
    */
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

/* The S rules are checked once N1, L1 and L3 hold (and S1: x1 has 2 or 3 view dims). */
/*@ predicate s1_holds{L}(accept_args *a) =
      a->slot[ACCEPT_X1].view_ndim == 2 || a->slot[ACCEPT_X1].view_ndim == 3;
*/

/* S1: x1 is (m,k) or (b,s,k); x2 is (k',n'). */
/*@ requires \valid_read(a) && n1_holds(a);
    assigns \nothing;
    ensures \result != 0 ==> s1_holds(a);
*/
static int rule_s1(const accept_args *a)
{
    uint64_t nd = get(a, ACCEPT_X1)->view_ndim;
    return (nd == 2 || nd == 3) && get(a, ACCEPT_X2)->view_ndim == 2;
}

/* S2: k' == k <= 65535; the x2 matrix's stored last dim <= 65535 (n' contiguous, k
 * transposed; NZ alike); m <= 2147483647. */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a);
    assigns \nothing;
*/
static int rule_s2(const accept_args *a)
{
    const accept_tensor *x2 = get(a, ACCEPT_X2);
    int64_t k = dim_k(a);
    int64_t stored_last = transposed(x2) ? x2->dims[0] : x2->dims[1];
    return x2->dims[0] == k && k <= MAX_K && stored_last <= MAX_STORED_LAST && dim_m(a) <= MAX_M;
}

/* S3: output is x1's view with the last dim replaced by n, and n' == n. */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a);
    assigns \nothing;
*/
static int rule_s3(const accept_args *a)
{
    const accept_tensor *x1 = get(a, ACCEPT_X1), *out = get(a, ACCEPT_OUTPUT);
    if (out->view_ndim != x1->view_ndim) {
        return 0;
    }
    /*@ loop invariant 0 <= i < x1->view_ndim;
        loop assigns i;
        loop variant x1->view_ndim - i;
    */
    for (uint64_t i = 0; i + 1 < x1->view_ndim; i++) {
        if (out->dims[i] != x1->dims[i]) {
            return 0;
        }
    }
    return get(a, ACCEPT_X2)->dims[1] == dim_n(a);
}

/* S4: bias, if present, is (n). */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a);
    assigns \nothing;
*/
static int rule_s4(const accept_args *a)
{
    const accept_tensor *bias = get(a, ACCEPT_BIAS);
    return !bias || is_1d(bias, dim_n(a));
}

/* S5: x3, if present, has the output's view. */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a);
    assigns \nothing;
*/
static int rule_s5(const accept_args *a)
{
    const accept_tensor *x3 = get(a, ACCEPT_X3);
    return !x3 || same_view(x3, get(a, ACCEPT_OUTPUT));
}

/* S6: dequant_scale is (1), (n) or (1,n). */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a);
    assigns \nothing;
*/
static int rule_s6(const accept_args *a)
{
    const accept_tensor *d = get(a, ACCEPT_DEQUANT);
    int64_t n = dim_n(a);
    return is_1d(d, 1) || is_1d(d, n) || is_2d(d, 1, n);
}

/* S7: pertoken_scale, if present, is (m). */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a);
    assigns \nothing;
*/
static int rule_s7(const accept_args *a)
{
    const accept_tensor *p = get(a, ACCEPT_PERTOKEN);
    return !p || is_1d(p, dim_m(a));
}

/* S8: each comm scale is (n) or (1,n), and both have the same view (D7: both or neither). */
/*@ requires \valid_read(a) && l_holds(a) && s1_holds(a) && d7_holds(a);
    assigns \nothing;
*/
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

/* A1: reduce_op is exactly "sum" (case and trailing characters matter). The literal is a const
 * array so that the proof knows its contents (a valid string of length 3, strcmp's contract). */
static const char SUM[] = "sum";

/*@ requires \valid_read(a) && valid_read_string(a->reduce_op);
    assigns \nothing;
*/
static int rule_a1(const accept_args *a)
{
    //@ assert SUM[0] != '\0' && SUM[1] != '\0' && SUM[2] != '\0' && SUM[3] == '\0';
    //@ assert strlen(&SUM[0]) == 3;
    return strcmp(a->reduce_op, SUM) == 0;
}

/* A2: stream_mode == 1. */
/*@ requires \valid_read(a);
    assigns \nothing;
*/
static int rule_a2(const accept_args *a)
{
    return a->stream_mode == 1;
}

/* A3: comm_turn == 0. */
/*@ requires \valid_read(a);
    assigns \nothing;
*/
static int rule_a3(const accept_args *a)
{
    return a->comm_turn == 0;
}

/* What accept.h promises of group (when not NULL): the string passed, of which at most 128
 * bytes are read: either 128 readable bytes, or a NUL within them. */
/*@ predicate bounded_string{L}(char *s, integer max) =
      \valid_read(s + (0 .. max - 1)) ||
      \exists integer n; 0 <= n < max && \valid_read(s + (0 .. n)) && s[n] == '\0';
*/

/* strnlen(s, max) of POSIX, which C11 lacks: never reads past s[max - 1]. */
/*@ requires bounded_string(s, max);
    assigns \nothing;
    ensures \result <= max;
*/
static size_t bounded_len(const char *s, size_t max)
{
    size_t len = 0;
    /*@ loop invariant 0 <= len <= max;
        loop invariant \forall integer j; 0 <= j < len ==> s[j] != '\0';
        loop assigns len;
        loop variant max - len;
    */
    while (len < max && s[len] != '\0') {
        len++;
    }
    return len;
}

/* A4: group is shorter than 128 bytes, names a live endpoint (never the empty string), and its
 * communicator has 1, 2, 4 or 8 ranks. */
/*@ requires \valid_read(a) && bounded_string(a->group, GROUP_MAX);
    assigns \nothing;
*/
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
} accept_rule;

#define NULLPTR QMAR_ERR_PARAM_NULLPTR
#define INVALID QMAR_ERR_PARAM_INVALID

/* The spec's order: N1 N2 D1..D7 L1..L7 S1..S8 A1..A4. */
enum accept_rule_index {
    R_N1, R_N2, R_D1, R_D2, R_D3, R_D4, R_D5, R_D6, R_D7,
    R_L1, R_L2, R_L3, R_L4, R_L5, R_L6, R_L7,
    R_S1, R_S2, R_S3, R_S4, R_S5, R_S6, R_S7, R_S8,
    R_A1, R_A2, R_A3, R_A4,
    R_COUNT
};

static const accept_rule RULES[R_COUNT] = {
    [R_N1] = {"N1", NULLPTR}, [R_N2] = {"N2", NULLPTR}, [R_D1] = {"D1", INVALID},
    [R_D2] = {"D2", INVALID}, [R_D3] = {"D3", INVALID}, [R_D4] = {"D4", INVALID},
    [R_D5] = {"D5", INVALID}, [R_D6] = {"D6", INVALID}, [R_D7] = {"D7", INVALID},
    [R_L1] = {"L1", INVALID}, [R_L2] = {"L2", INVALID}, [R_L3] = {"L3", INVALID},
    [R_L4] = {"L4", INVALID}, [R_L5] = {"L5", INVALID}, [R_L6] = {"L6", INVALID},
    [R_L7] = {"L7", INVALID}, [R_S1] = {"S1", INVALID}, [R_S2] = {"S2", INVALID},
    [R_S3] = {"S3", INVALID}, [R_S4] = {"S4", INVALID}, [R_S5] = {"S5", INVALID},
    [R_S6] = {"S6", INVALID}, [R_S7] = {"S7", INVALID}, [R_S8] = {"S8", INVALID},
    [R_A1] = {"A1", INVALID}, [R_A2] = {"A2", INVALID}, [R_A3] = {"A3", INVALID},
    [R_A4] = {"A4", INVALID},
};

/*@ requires 0 <= r < R_COUNT;
    assigns \nothing;
*/
static accept_verdict failed(int r)
{
    accept_verdict v = {RULES[r].status, RULES[r].id};
    return v;
}

/* The rules in the spec's order; the first that fails decides. Each rule is called only once
 * every rule before it holds, which is what its contract requires (a direct sequence of calls
 * rather than a loop over a table of function pointers, so that the prover sees each rule's
 * guarantee reach the rules after it). reduce_op and group are what accept.h promises: NULL, or
 * a NUL-terminated string (reduce_op), or the string passed of which at most 128 bytes are read
 * (group). */
/*@ requires \valid_read(a);
    requires a->reduce_op != \null ==> valid_read_string(a->reduce_op);
    requires a->group != \null ==> bounded_string(a->group, GROUP_MAX);
    assigns \nothing;
*/
accept_verdict accept_get_workspace_size(const accept_args *a)
{
    if (!rule_n1(a)) return failed(R_N1);
    if (!rule_n2(a)) return failed(R_N2);
    if (!rule_d1(a)) return failed(R_D1);
    if (!rule_d2(a)) return failed(R_D2);
    if (!rule_d3(a)) return failed(R_D3);
    if (!rule_d4(a)) return failed(R_D4);
    if (!rule_d5(a)) return failed(R_D5);
    if (!rule_d6(a)) return failed(R_D6);
    if (!rule_d7(a)) return failed(R_D7);
    if (!rule_l1(a)) return failed(R_L1);
    if (!rule_l2(a)) return failed(R_L2);
    if (!rule_l3(a)) return failed(R_L3);
    if (!rule_l4(a)) return failed(R_L4);
    if (!rule_l5(a)) return failed(R_L5);
    if (!rule_l6(a)) return failed(R_L6);
    if (!rule_l7(a)) return failed(R_L7);
    if (!rule_s1(a)) return failed(R_S1);
    if (!rule_s2(a)) return failed(R_S2);
    if (!rule_s3(a)) return failed(R_S3);
    if (!rule_s4(a)) return failed(R_S4);
    if (!rule_s5(a)) return failed(R_S5);
    if (!rule_s6(a)) return failed(R_S6);
    if (!rule_s7(a)) return failed(R_S7);
    if (!rule_s8(a)) return failed(R_S8);
    if (!rule_a1(a)) return failed(R_A1);
    if (!rule_a2(a)) return failed(R_A2);
    if (!rule_a3(a)) return failed(R_A3);
    if (!rule_a4(a)) return failed(R_A4);
    accept_verdict ok = {QMAR_SUCCESS, "ok"};
    return ok;
}

/* ---- Footprint for callers ---------------------------------------------------------------- */

/* L1-L6 for one tensor in isolation (x2's layout rules when it is 2-D, L2's otherwise), so that
 * footprint_from() and footprint_to() below are safe whatever the caller passes. */
/*@ requires \valid_read(t);
    assigns \nothing;
    ensures \result != 0 ==> fp_ok(t) && fp_to(t) <= UINT64_MAX - t->data;
*/
static int footprint_defined(const accept_tensor *t)
{
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
    return footprint_to(t) <= UINT64_MAX - t->data;
}

/*@ requires \valid_read(t) && \valid(lo) && \valid(hi) && \separated(lo, hi, t);
    assigns *lo, *hi;
*/
int accept_footprint(const accept_tensor *t, uint64_t *lo, uint64_t *hi)
{
    if (!footprint_defined(t)) {
        return 0;
    }
    uint64_t from = footprint_from(t), to = footprint_to(t);
    *lo = t->data + from;
    *hi = t->data + to;
    return 1;
}
