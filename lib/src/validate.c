/* SPDX-License-Identifier: Apache-2.0 */
/* The pure validator: spec/validation.md rules N1..A3, in order, each citing its rule id.
 * Written to be proven (issue: proofs): no allocation, no I/O, loops bounded by QMAR_MAX_DIMS,
 * no recursion, every product checked against QMAR__MAX_ELEMS before it is formed.
 *
 * Proven by Frama-C WP (proofs/units/validate): the contract of qmar__validate (validate.h) ties
 * the status to the rule predicates of spec/acsl/validation.acsl; each check below has the
 * contract "SUCCESS exactly when its rules hold". The ghost lemmas are the inductive facts about
 * products and extents that the provers cannot find alone; a compiler sees only comments. */
#include <stddef.h>

#include "validate.h"

/* ---- Ghost lemmas (proof only) -----------------------------------------------------------------
 * Each is a ghost function whose contract is the lemma and whose body is its proof (by a loop for
 * the inductive ones). Callers instantiate them with a ghost call, which gives the provers one
 * ground fact instead of a recursive definition to unfold. */

/*@ ghost
  /@ requires 0 <= lo < hi <= QMAR_MAX_DIMS;
     assigns \nothing;
     ensures product(a, lo, hi) == a[lo] * product(a, lo + 1, hi);
  @/
  static void lemma_product_step(const int64_t *a, uint64_t lo, uint64_t hi)
  {
  }
*/

/*@ ghost
  /@ requires 0 <= i < t->view_ndim <= QMAR_MAX_DIMS;
     assigns \nothing;
     ensures extent_from(t, i) == (t->view_dims[i] - 1) * stride(t, i) + extent_from(t, i + 1);
  @/
  static void lemma_extent_unfold(const qmar_tensor *t, uint64_t i)
  {
  }
*/

/*@ ghost
  /@ requires lo <= hi <= QMAR_MAX_DIMS;
     requires \forall integer i; lo <= i < hi ==> a[i] >= 1;
     assigns \nothing;
     ensures \forall integer j; lo <= j <= hi ==> 1 <= product(a, j, hi) <= product(a, lo, hi);
  @/
  static void lemma_suffix_bounds(const int64_t *a, uint64_t lo, uint64_t hi)
  {
      /@ loop invariant lo <= j <= hi;
         loop invariant \forall integer q; j <= q <= hi ==> product(a, q, hi) >= 1;
         loop assigns j;
         loop variant j - lo;
      @/
      for (uint64_t j = hi; j > lo; j--) {
          uint64_t i = j - 1;
          /@ assert i + 1 == j; @/
          lemma_product_step(a, i, hi);
          /@ assert a[i] >= 1 && product(a, i + 1, hi) >= 1; @/
          /@ assert nonlinear: a[i] * product(a, i + 1, hi) >= 1; @/
      }
      /@ loop invariant lo <= j <= hi;
         loop invariant \forall integer q; lo <= q <= j ==> product(a, q, hi) <= product(a, lo, hi);
         loop assigns j;
         loop variant hi - j;
      @/
      for (uint64_t j = lo; j < hi; j++) {
          lemma_product_step(a, j, hi);
          /@ assert a[j] >= 1 && product(a, j + 1, hi) >= 1; @/
          /@ assert nonlinear: product(a, j + 1, hi) <= a[j] * product(a, j + 1, hi); @/
      }
  }
*/

/*@ ghost
  /@ requires n == 2 || n == 3;
     requires \forall integer i; 0 <= i < n ==> a[i] >= 1;
     assigns \nothing;
     ensures 1 <= product(a, 0, n - 1) <= product(a, 0, n);
     ensures product(a, 0, n) == product(a, 0, n - 1) * a[n - 1];
  @/
  static void lemma_prefix_bound(const int64_t *a, uint64_t n)
  {
      lemma_product_step(a, 0, n);
      lemma_product_step(a, 1, n);
      lemma_product_step(a, 0, n - 1);
      if (n == 3) {
          lemma_product_step(a, 2, 3);
          lemma_product_step(a, 1, 2);
          /@ assert product(a, 3, 3) == 1 && product(a, 2, 2) == 1; @/
          /@ assert product(a, 0, 3) == a[0] * a[1] * a[2]; @/
          /@ assert product(a, 0, 2) == a[0] * a[1]; @/
          /@ assert a[0] * a[1] <= a[0] * a[1] * a[2]; @/
      } else {
          /@ assert product(a, 2, 2) == 1 && product(a, 1, 1) == 1; @/
          /@ assert product(a, 0, 2) == a[0] * a[1]; @/
          /@ assert product(a, 0, 1) == a[0]; @/
          /@ assert a[0] <= a[0] * a[1]; @/
      }
  }
*/

/*@ ghost
  /@ requires n == 1 || n == 2;
     requires \forall integer i; 0 <= i < n ==> a[i] == b[i];
     assigns \nothing;
     ensures product(a, 0, n) == product(b, 0, n);
  @/
  static void lemma_product_same(const int64_t *a, const int64_t *b, uint64_t n)
  {
      lemma_product_step(a, 0, n);
      lemma_product_step(b, 0, n);
      if (n == 2) {
          lemma_product_step(a, 1, 2);
          lemma_product_step(b, 1, 2);
          /@ assert product(a, 2, 2) == 1 && product(b, 2, 2) == 1; @/
      } else {
          /@ assert product(a, 1, 1) == 1 && product(b, 1, 1) == 1; @/
      }
  }
*/

/*@ ghost
  /@ requires \valid_read(t) && i < t->view_ndim <= QMAR_MAX_DIMS;
     requires contiguous(t) ==>
         extent_from(t, i + 1) == product((int64_t *)&t->view_dims, i + 1, t->view_ndim) - 1;
     assigns \nothing;
     ensures contiguous(t) ==>
         extent_from(t, i) == product((int64_t *)&t->view_dims, i, t->view_ndim) - 1;
  @/
  static void lemma_extent_step(const qmar_tensor *t, uint64_t i)
  {
      lemma_extent_unfold(t, i);
      lemma_product_step((const int64_t *)&t->view_dims, i, t->view_ndim);
      if (t->view_dims[i] == 1) {
          /@ assert extent_from(t, i) == extent_from(t, i + 1); @/
          /@ assert product((int64_t *)&t->view_dims, i, t->view_ndim) ==
                    product((int64_t *)&t->view_dims, i + 1, t->view_ndim); @/
          /@ assert contiguous(t) ==>
                    extent_from(t, i) == product((int64_t *)&t->view_dims, i, t->view_ndim) - 1; @/
      } else {
          /@ assert row_major(t, i) == product((int64_t *)&t->view_dims, i + 1, t->view_ndim); @/
          /@ assert contiguous(t) ==>
                    stride(t, i) == product((int64_t *)&t->view_dims, i + 1, t->view_ndim); @/
          /@ assert nonlinear: contiguous(t) ==>
                    extent_from(t, i) == product((int64_t *)&t->view_dims, i, t->view_ndim) - 1; @/
      }
  }
*/

/*@ ghost
  /@ requires \valid_read(t) && t->view_ndim <= QMAR_MAX_DIMS;
     assigns \nothing;
     ensures transposed(t) ==> last(t) == t->offset + view_count(t) - 1;
  @/
  static void lemma_transposed_extent(const qmar_tensor *t)
  {
      if (t->view_ndim != 2)
          return;
      /@ assert transposed(t) ==> t->has_strides != 0; @/
      /@ assert t->has_strides != 0 ==>
                stride(t, 0) == t->strides[0] && stride(t, 1) == t->strides[1]; @/
      if (t->view_dims[0] != 1) {
          /@ assert transposed(t) ==> t->strides[0] == 1; @/
      }
      if (t->view_dims[1] != 1) {
          /@ assert transposed(t) ==> t->strides[1] == t->view_dims[0]; @/
      }
      /@ assert transposed(t) ==> (t->view_dims[0] - 1) * t->strides[0] == t->view_dims[0] - 1; @/
      /@ assert transposed(t) ==> (t->view_dims[1] - 1) * t->strides[1] ==
                                  (t->view_dims[1] - 1) * t->view_dims[0]; @/
      lemma_product_step((const int64_t *)&t->view_dims, 0, 2);
      lemma_product_step((const int64_t *)&t->view_dims, 1, 2);
      /@ assert product((int64_t *)&t->view_dims, 2, 2) == 1; @/
      /@ assert view_count(t) == t->view_dims[0] * t->view_dims[1]; @/
      lemma_extent_unfold(t, 0);
      lemma_extent_unfold(t, 1);
      /@ assert extent_from(t, 2) == 0; @/
      /@ assert transposed(t) ==>
                extent_from(t, 0) == t->view_dims[0] * t->view_dims[1] - 1; @/
  }
*/

/*@ ghost
  /@ requires tensor_readable(t) && well_formed(t) && (contiguous(t) || transposed(t));
     assigns \nothing;
     ensures last(t) == t->offset + view_count(t) - 1;
  @/
  static void lemma_nd_extent(const qmar_tensor *t)
  {
      /@ assert extent_from(t, t->view_ndim) == 0; @/
      /@ assert product((int64_t *)&t->view_dims, t->view_ndim, t->view_ndim) == 1; @/
      /@ loop invariant 0 <= j <= t->view_ndim;
         loop invariant contiguous(t) ==>
             extent_from(t, j) == product((int64_t *)&t->view_dims, j, t->view_ndim) - 1;
         loop assigns j;
         loop variant j;
      @/
      for (uint64_t j = t->view_ndim; j > 0; j--) {
          uint64_t i = j - 1;
          /@ assert i + 1 == j; @/
          lemma_extent_step(t, i);
      }
      lemma_transposed_extent(t);
  }
*/

/* ---- Verdicts ----------------------------------------------------------------------------------
 * Every check returns its verdict by value and writes nothing, so that a check is a pure function
 * of the call (the proofs then never have to show that a write left the descriptors unchanged);
 * qmar__validate writes the one verdict that decided. */

/*@ assigns \nothing;
    ensures \result.status == s;
*/
static qmar__verdict reject(qmar_status s, int32_t why, int32_t slot, int64_t a, int64_t b,
                            int64_t c)
{
    qmar__verdict v = {s, why, slot, {a, b, c}};
    return v;
}

/*@ assigns \nothing;
    ensures \result.status == QMAR_ERR_PARAM_INVALID;
*/
static qmar__verdict invalid(int32_t why, int32_t slot, int64_t a, int64_t b, int64_t c)
{
    return reject(QMAR_ERR_PARAM_INVALID, why, slot, a, b, c);
}

/*@ assigns \nothing;
    ensures \result.status == QMAR_SUCCESS;
*/
static qmar__verdict passed(void)
{
    return reject(QMAR_SUCCESS, QMAR__OK, QMAR__NO_SLOT, 0, 0, 0);
}

/* ---- N: NULL pointers ------------------------------------------------------------------------ */

/*@ requires call_readable(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_NULLPTR;
    ensures \result.status == QMAR_SUCCESS <==> rules_N(c);
*/
static qmar__verdict check_nulls(const qmar__call *c)
{
    /* N1, in the contract's order: x1, x2, dequant_scale, output, then the four pointers. */
    const int32_t required[4] = {QMAR__X1, QMAR__X2, QMAR__DEQUANT, QMAR__OUT};
    /*@ loop invariant 0 <= i <= 4;
        loop invariant \forall integer j; 0 <= j < i ==> c->t[required[j]] != \null;
        loop assigns i;
        loop variant 4 - i;
    */
    for (int i = 0; i < 4; i++)
        if (c->t[required[i]] == NULL)
            return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, required[i], 0, 0, 0);
    if (c->group == NULL)
        return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 0, 0, 0);
    if (c->reduce_op == NULL)
        return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 1, 0, 0);
    if (c->workspace_size_ptr == NULL)
        return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 2, 0, 0);
    if (c->executor_ptr == NULL)
        return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 3, 0, 0);
    /* N2: a present tensor must have data. */
    /*@ loop invariant 0 <= s <= QMAR__NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> present(c, j) ==> c->t[j]->data != \null;
        loop assigns s;
        loop variant QMAR__NSLOTS - s;
    */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && c->t[s]->data == NULL)
            return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N2_DATA_NULL, s, 0, 0, 0);
    return passed();
}

/* ---- D: dtypes --------------------------------------------------------------------------------- */

/*@ requires call_readable(c) && rules_N(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> rules_D(c);
*/
static qmar__verdict check_dtypes(const qmar__call *c)
{
    const qmar_tensor *const *t = c->t;
    if (t[QMAR__X1]->dtype != QMAR_INT8)
        return invalid(QMAR__D1_NOT_INT8, QMAR__X1, t[QMAR__X1]->dtype, 0, 0);
    if (t[QMAR__X2]->dtype != QMAR_INT8)
        return invalid(QMAR__D1_NOT_INT8, QMAR__X2, t[QMAR__X2]->dtype, 0, 0);
    int32_t y = t[QMAR__OUT]->dtype;
    if (y != QMAR_FLOAT16 && y != QMAR_BF16)
        return invalid(QMAR__D2_OUTPUT, QMAR__OUT, y, 0, 0);
    if (t[QMAR__BIAS] != NULL && t[QMAR__BIAS]->dtype != QMAR_INT32)
        return invalid(QMAR__D3_BIAS, QMAR__BIAS, t[QMAR__BIAS]->dtype, 0, 0);
    if (t[QMAR__X3] != NULL && t[QMAR__X3]->dtype != y)
        return invalid(QMAR__D4_X3, QMAR__X3, t[QMAR__X3]->dtype, y, 0);
    /* D5: the dequant dtype depends on Y and on whether pertoken is present. */
    int32_t dq = t[QMAR__DEQUANT]->dtype;
    int dq_ok;
    if (y == QMAR_BF16)
        dq_ok = dq == QMAR_BF16;
    else if (t[QMAR__PERTOKEN] == NULL)
        dq_ok = dq == QMAR_INT64 || dq == QMAR_UINT64;
    else
        dq_ok = dq == QMAR_FLOAT;
    if (!dq_ok)
        return invalid(QMAR__D5_DEQUANT, QMAR__DEQUANT, dq, y, t[QMAR__PERTOKEN] != NULL);
    if (t[QMAR__PERTOKEN] != NULL && t[QMAR__PERTOKEN]->dtype != QMAR_FLOAT)
        return invalid(QMAR__D6_PERTOKEN, QMAR__PERTOKEN, t[QMAR__PERTOKEN]->dtype, 0, 0);
    if ((t[QMAR__CS1] == NULL) != (t[QMAR__CS2] == NULL))
        return invalid(QMAR__D7_PAIR, t[QMAR__CS1] == NULL ? QMAR__CS1 : QMAR__CS2, 0, 0, 0);
    /*@ loop invariant QMAR__CS1 <= s <= QMAR__CS2 + 1;
        loop invariant \forall integer j; QMAR__CS1 <= j < s ==> present(c, j) ==>
                           c->t[j]->dtype == y;
        loop assigns s;
        loop variant QMAR__CS2 + 1 - s;
    */
    for (int32_t s = QMAR__CS1; s <= QMAR__CS2; s++)
        if (t[s] != NULL && t[s]->dtype != y)
            return invalid(QMAR__D7_DTYPE, s, t[s]->dtype, y, 0);
    return passed();
}

/* ---- L: formats, layout, memory ---------------------------------------------------------------- */

/* Product of n positive dims, or -1 when it would exceed QMAR__MAX_ELEMS. The dims are taken from
 * the last, so that the running count is always the product of a suffix (as row-major strides
 * are). */
/*@ requires n <= QMAR_MAX_DIMS && \valid_read(dims + (0 .. n - 1));
    requires \forall integer i; 0 <= i < n ==> dims[i] >= 1;
    assigns \nothing;
    ensures product(dims, 0, n) <= qmar_max_elems ==> \result == product(dims, 0, n);
    ensures product(dims, 0, n) > qmar_max_elems ==> \result == -1;
    ensures \result == -1 || 1 <= \result <= qmar_max_elems;
*/
static int64_t bounded_count(const int64_t *dims, uint64_t n)
{
    int64_t count = 1;
    /*@ loop invariant 0 <= j <= n;
        loop invariant count == product(dims, j, n) && 1 <= count <= qmar_max_elems;
        loop assigns j, count;
        loop variant j;
    */
    for (uint64_t j = n; j > 0; j--) {
        if (count > QMAR__MAX_ELEMS / dims[j - 1]) {
            //@ assert product(dims, j - 1, n) > qmar_max_elems;
            //@ ghost lemma_suffix_bounds(dims, 0, n);
            return -1;
        }
        count *= dims[j - 1];
    }
    return count;
}

/* L1 for one tensor: well-formed dims, bounded counts, non-negative offset. */
/*@ requires tensor_readable(t);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> well_formed(t);
*/
static qmar__verdict check_well_formed(const qmar_tensor *t, int32_t s)
{
    if (t->view_ndim < 1)
        return invalid(QMAR__L1_NDIM, s, (int64_t)t->view_ndim, 0, 0);
    /*@ loop invariant 0 <= i <= t->view_ndim;
        loop invariant \forall integer j; 0 <= j < i ==> t->view_dims[j] >= 1;
        loop assigns i;
        loop variant t->view_ndim - i;
    */
    for (uint64_t i = 0; i < t->view_ndim; i++)
        if (t->view_dims[i] < 1)
            return invalid(QMAR__L1_DIM, s, (int64_t)i, t->view_dims[i], 0);
    /*@ loop invariant 0 <= i <= t->storage_ndim;
        loop invariant \forall integer j; 0 <= j < i ==> t->storage_dims[j] >= 1;
        loop assigns i;
        loop variant t->storage_ndim - i;
    */
    for (uint64_t i = 0; i < t->storage_ndim; i++)
        if (t->storage_dims[i] < 1)
            return invalid(QMAR__L1_STORAGE_DIM, s, (int64_t)i, t->storage_dims[i], 0);
    //@ assert &t->view_dims[0] == (int64_t *)&t->view_dims;
    //@ assert &t->storage_dims[0] == (int64_t *)&t->storage_dims;
    if (bounded_count(t->view_dims, t->view_ndim) < 0)
        return invalid(QMAR__L1_COUNT, s, 0, 0, 0);
    if (bounded_count(t->storage_dims, t->storage_ndim) < 0)
        return invalid(QMAR__L1_STORAGE_COUNT, s, 0, 0, 0);
    if (t->offset < 0)
        return invalid(QMAR__L1_OFFSET, s, t->offset, 0, 0);
    return passed();
}

/* Contiguous: no strides, or row-major strides on every dim of size != 1. Needs L1 (no overflow). */
/*@ requires tensor_readable(t) && well_formed(t);
    assigns \nothing;
    ensures \result == 0 || \result == 1;
    ensures \result == 1 <==> contiguous(t);
*/
static int is_contiguous(const qmar_tensor *t)
{
    if (!t->has_strides)
        return 1;
    //@ ghost lemma_suffix_bounds((const int64_t *)&t->view_dims, 0, t->view_ndim);
    int64_t expected = 1;
    /*@ loop invariant 0 <= j <= t->view_ndim;
        loop invariant expected == product((int64_t *)&t->view_dims, j, t->view_ndim);
        loop invariant \forall integer q; j <= q < t->view_ndim ==>
                           t->view_dims[q] != 1 ==> t->strides[q] == row_major(t, q);
        loop assigns j, expected;
        loop variant j;
    */
    for (uint64_t j = t->view_ndim; j > 0; j--) {
        uint64_t i = j - 1;
        if (t->view_dims[i] != 1 && t->strides[i] != expected)
            return 0;
        //@ ghost lemma_product_step((const int64_t *)&t->view_dims, i, t->view_ndim);
        expected *= t->view_dims[i];
    }
    return 1;
}

/* Transposed 2-D view (k,n): strides (1,k), size-1 dims free; contiguity takes precedence. */
/*@ requires tensor_readable(t) && well_formed(t);
    assigns \nothing;
    ensures \result == 0 || \result == 1;
    ensures \result == 1 <==> transposed(t);
*/
static int is_transposed(const qmar_tensor *t)
{
    if (t->view_ndim != 2 || is_contiguous(t))
        return 0;
    int64_t k = t->view_dims[0], n = t->view_dims[1];
    return (k == 1 || t->strides[0] == 1) && (n == 1 || t->strides[1] == k);
}

/*@ requires tensor_readable(t) && well_formed(t);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> nd_contiguous(t);
*/
static qmar__verdict check_nd_contiguous(const qmar_tensor *t, int32_t s)
{
    if (t->format != QMAR_FORMAT_ND)
        return invalid(QMAR__L2_FORMAT, s, t->format, 0, 0);
    if (!is_contiguous(t))
        return invalid(QMAR__L2_STRIDES, s, 0, 0, 0);
    return passed();
}

/*@ requires tensor_readable(x2) && well_formed(x2);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> x2_layout_ok(x2);
*/
static qmar__verdict check_x2_layout(const qmar_tensor *x2)
{
    if (x2->format != QMAR_FORMAT_ND && x2->format != QMAR_FORMAT_FRACTAL_NZ)
        return invalid(QMAR__L3_FORMAT, QMAR__X2, x2->format, 0, 0);
    if (x2->view_ndim != 2)
        return invalid(QMAR__L3_NDIM, QMAR__X2, (int64_t)x2->view_ndim, 0, 0);
    if (!is_contiguous(x2) && !is_transposed(x2))
        return invalid(QMAR__L3_STRIDES, QMAR__X2, x2->strides[0], x2->strides[1], 0);
    return passed();
}

/*@ requires a >= 1 && (b == 16 || b == 32);
    assigns \nothing;
    ensures is_ceil_div(\result, a, b);
*/
static int64_t ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b != 0);
}

/* L5: the NZ storage of the stored H x W matrix is (ceil(W/32), ceil(H/16), 16, 32), offset 0. */
/*@ requires tensor_readable(x2) && well_formed(x2) && x2_layout_ok(x2);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> nz_ok(x2);
*/
static qmar__verdict check_nz_storage(const qmar_tensor *x2)
{
    int transposed = is_transposed(x2);
    int64_t h = transposed ? x2->view_dims[1] : x2->view_dims[0];
    int64_t w = transposed ? x2->view_dims[0] : x2->view_dims[1];
    const int64_t want[4] = {ceil_div(w, 32), ceil_div(h, 16), 16, 32};
    if (x2->storage_ndim != 4)
        return invalid(QMAR__L5_NDIM, QMAR__X2, (int64_t)x2->storage_ndim, 0, 0);
    /*@ loop invariant 0 <= i <= 4;
        loop invariant \forall integer j; 0 <= j < i ==> x2->storage_dims[j] == want[j];
        loop assigns i;
        loop variant 4 - i;
    */
    for (int i = 0; i < 4; i++)
        if (x2->storage_dims[i] != want[i])
            return invalid(QMAR__L5_DIMS, QMAR__X2, i, x2->storage_dims[i], want[i]);
    if (x2->offset != 0)
        return invalid(QMAR__L5_OFFSET, QMAR__X2, x2->offset, 0, 0);
    return passed();
}

/* L4: an ND view addresses elements offset .. offset+count-1 (contiguous and transposed alike),
 * which must lie inside the storage. */
/*@ requires tensor_readable(t) && well_formed(t) && (contiguous(t) || transposed(t));
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> fits_storage(t);
*/
static qmar__verdict check_fits_storage(const qmar_tensor *t, int32_t s)
{
    //@ ghost lemma_nd_extent(t);
    //@ assert &t->view_dims[0] == (int64_t *)&t->view_dims;
    //@ assert &t->storage_dims[0] == (int64_t *)&t->storage_dims;
    int64_t count = bounded_count(t->view_dims, t->view_ndim);
    int64_t storage = bounded_count(t->storage_dims, t->storage_ndim);
    if (count > storage || t->offset > storage - count)
        return invalid(QMAR__L4_STORAGE, s, t->offset, count, storage);
    return passed();
}

/* First element index and element count of a footprint. */
typedef struct elem_range {
    int64_t first, count;
} elem_range;

/* The footprint of a valid tensor in elements; NZ covers its whole storage. */
/*@ requires tensor_readable(t) && well_formed(t);
    assigns \nothing;
    ensures t->format == QMAR_FORMAT_FRACTAL_NZ ==>
                \result.first == 0 && \result.count == storage_count(t);
    ensures t->format != QMAR_FORMAT_FRACTAL_NZ ==>
                \result.first == t->offset && \result.count == view_count(t);
    ensures 0 <= \result.first && 1 <= \result.count <= qmar_max_elems;
*/
static elem_range footprint_elems(const qmar_tensor *t)
{
    elem_range r;
    //@ assert &t->view_dims[0] == (int64_t *)&t->view_dims;
    //@ assert &t->storage_dims[0] == (int64_t *)&t->storage_dims;
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        r.first = 0;
        r.count = bounded_count(t->storage_dims, t->storage_ndim);
    } else {
        r.first = t->offset;
        r.count = bounded_count(t->view_dims, t->view_ndim);
    }
    return r;
}

uint64_t qmar__footprint_bytes(const qmar_tensor *t)
{
    elem_range e = footprint_elems(t);
    return (uint64_t)e.count * qmar_dtype_size((qmar_dtype)t->dtype);
}

/* Byte range [lo, hi) of a footprint; ok == 0 when it would wrap past the address space (L6). */
typedef struct byte_range {
    int ok;
    uint64_t lo, hi;
} byte_range;

/*@ requires tensor_readable(t) && well_formed(t);
    requires t->format == QMAR_FORMAT_FRACTAL_NZ ||
             ((contiguous(t) || transposed(t)) && fits_storage(t));
    assigns \nothing;
    ensures \result.ok == 0 || \result.ok == 1;
    ensures \result.ok == 1 <==> below_top(t);
    ensures \result.ok == 1 ==>
                \result.lo == footprint_lo(t) && \result.hi == footprint_hi(t);
*/
static byte_range footprint_range(const qmar_tensor *t)
{
    //@ ghost if (t->format != QMAR_FORMAT_FRACTAL_NZ) lemma_nd_extent(t);
    byte_range r = {0, 0, 0};
    elem_range e = footprint_elems(t);
    uint64_t es = qmar_dtype_size((qmar_dtype)t->dtype);
    uint64_t base = (uint64_t)(uintptr_t)t->data;
    //@ assert es == elem_size(t->dtype) && es <= 8;
    //@ assert t->format != QMAR_FORMAT_FRACTAL_NZ ==> last(t) + 1 == e.first + e.count;
    //@ assert e.first + e.count <= qmar_max_elems;
    /* first + count <= 2^48 and es <= 8 after L1/L4/L5, so these products cannot overflow. */
    uint64_t end = ((uint64_t)e.first + (uint64_t)e.count) * es;
    //@ assert footprint_hi(t) == address(t->data) + end;
    //@ assert footprint_lo(t) == address(t->data) + e.first * es;
    if (base > UINT64_MAX - end)
        return r;
    r.ok = 1;
    r.lo = base + (uint64_t)e.first * es;
    r.hi = base + end;
    return r;
}

/*@ requires tensor_readable(a) && tensor_readable(b);
    assigns \nothing;
    ensures \result == 0 || \result == 1;
    ensures \result == 1 <==> same_view_dims(a, b);
*/
static int same_view(const qmar_tensor *a, const qmar_tensor *b)
{
    if (a->view_ndim != b->view_ndim)
        return 0;
    /*@ loop invariant 0 <= i <= a->view_ndim;
        loop invariant \forall integer j; 0 <= j < i ==> a->view_dims[j] == b->view_dims[j];
        loop assigns i;
        loop variant a->view_ndim - i;
    */
    for (uint64_t i = 0; i < a->view_ndim; i++)
        if (a->view_dims[i] != b->view_dims[i])
            return 0;
    return 1;
}

/* L7: x3 may be exactly the output (in-place add); nothing else may touch the output's bytes. */
/*@ requires call_readable(c) && rules_N(c) && rules_D(c);
    requires rule_L1(c) && rule_L2(c) && rule_L3(c) && rule_L4(c) && rule_L5(c) && rule_L6(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> rule_L7(c);
*/
static qmar__verdict check_overlaps(const qmar__call *c)
{
    const qmar_tensor *out = c->t[QMAR__OUT];
    byte_range o = footprint_range(out); /* L6 already held for every slot */
    /*@ loop invariant 0 <= s <= QMAR__OUT;
        loop invariant \forall integer j; 0 <= j < s ==> present(c, j) ==>
                           overlap(c->t[j], out) ==> j == QMAR__X3 && in_place(c->t[j], out);
        loop assigns s;
        loop variant QMAR__OUT - s;
    */
    for (int32_t s = 0; s < QMAR__OUT; s++) {
        const qmar_tensor *t = c->t[s];
        if (t == NULL)
            continue;
        byte_range r = footprint_range(t);
        if (r.lo >= o.hi || o.lo >= r.hi)
            continue;
        if (s != QMAR__X3)
            return invalid(QMAR__L7_OVERLAP, s, 0, 0, 0);
        if (t->data != out->data || t->offset != out->offset || !same_view(t, out))
            return invalid(QMAR__L7_PARTIAL_ALIAS, s, 0, 0, 0);
    }
    return passed();
}

/*@ requires call_readable(c) && rules_N(c) && rules_D(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> rules_L(c);
*/
static qmar__verdict check_layout(const qmar__call *c)
{
    qmar__verdict r;
    /*@ loop invariant 0 <= s <= QMAR__NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> present(c, j) ==> well_formed(c->t[j]);
        loop assigns s, r;
        loop variant QMAR__NSLOTS - s;
    */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && (r = check_well_formed(c->t[s], s)).status != QMAR_SUCCESS)
            return r; /* L1 */
    /*@ loop invariant 0 <= s <= QMAR__NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> j != QMAR__X2 ==> present(c, j) ==>
                           nd_contiguous(c->t[j]);
        loop assigns s, r;
        loop variant QMAR__NSLOTS - s;
    */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (s != QMAR__X2 && c->t[s] != NULL &&
            (r = check_nd_contiguous(c->t[s], s)).status != QMAR_SUCCESS)
            return r; /* L2 */
    if ((r = check_x2_layout(c->t[QMAR__X2])).status != QMAR_SUCCESS)
        return r; /* L3 */
    /*@ loop invariant 0 <= s <= QMAR__NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> present(c, j) ==>
                           c->t[j]->format == QMAR_FORMAT_ND ==> fits_storage(c->t[j]);
        loop assigns s, r;
        loop variant QMAR__NSLOTS - s;
    */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && c->t[s]->format == QMAR_FORMAT_ND &&
            (r = check_fits_storage(c->t[s], s)).status != QMAR_SUCCESS)
            return r; /* L4 */
    if (c->t[QMAR__X2]->format == QMAR_FORMAT_FRACTAL_NZ &&
        (r = check_nz_storage(c->t[QMAR__X2])).status != QMAR_SUCCESS)
        return r; /* L5 */
    /*@ loop invariant 0 <= s <= QMAR__NSLOTS;
        loop invariant \forall integer j; 0 <= j < s ==> present(c, j) ==> below_top(c->t[j]);
        loop assigns s;
        loop variant QMAR__NSLOTS - s;
    */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && !footprint_range(c->t[s]).ok)
            return invalid(QMAR__L6_WRAP, s, 0, 0, 0); /* L6 */
    return check_overlaps(c); /* L7 */
}

/* ---- S: shapes --------------------------------------------------------------------------------- */

/* A 1-D (len) view, or with allow_row also (1, len). */
/*@ requires tensor_readable(t);
    assigns \nothing;
    ensures \result == 0 || \result == 1;
    ensures \result == 1 <==> shape_vec(t, len) || (allow_row != 0 && shape_row(t, len));
*/
static int is_vector(const qmar_tensor *t, int64_t len, int allow_row)
{
    if (t->view_ndim == 1)
        return t->view_dims[0] == len;
    return allow_row && t->view_ndim == 2 && t->view_dims[0] == 1 && t->view_dims[1] == len;
}

/*@ requires call_readable(c) && rules_N(c) && rules_D(c) && rules_L(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> rule_S1(c) && rule_S2(c) && rule_S3(c);
*/
static qmar__verdict check_matrix_shapes(const qmar__call *c)
{
    const qmar_tensor *x1 = c->t[QMAR__X1], *x2 = c->t[QMAR__X2], *out = c->t[QMAR__OUT];
    uint64_t nd = x1->view_ndim;
    if (nd != 2 && nd != 3)
        return invalid(QMAR__S1_X1_NDIM, QMAR__X1, (int64_t)nd, 0, 0);
    /* S1's x2 clause (2 dims) needs no check: L3 has required it already (rules_L). */
    //@ assert rule_S1(c);
    int64_t k = x1->view_dims[nd - 1];
    //@ ghost lemma_prefix_bound((const int64_t *)&x1->view_dims, nd);
    //@ assert &x1->view_dims[0] == (int64_t *)&x1->view_dims;
    int64_t m = bounded_count(x1->view_dims, nd - 1);
    //@ assert m == dim_m(c) && k == dim_k(c);
    int transposed = is_transposed(x2);
    if (x2->view_dims[0] != k)
        return invalid(QMAR__S2_K, QMAR__X2, x2->view_dims[0], k, 0);
    if (k > QMAR__MAX_K)
        return invalid(QMAR__S2_K_MAX, QMAR__X1, k, QMAR__MAX_K, 0);
    if (!transposed && x2->view_dims[1] > QMAR__MAX_K)
        return invalid(QMAR__S2_X2_LAST_MAX, QMAR__X2, x2->view_dims[1], QMAR__MAX_K, 0);
    if (m > QMAR__MAX_M)
        return invalid(QMAR__S2_M_MAX, QMAR__X1, m, QMAR__MAX_M, 0);
    //@ assert rule_S2(c);
    /* S3: output = x1's view with the last dim replaced by n, and x2 is (k, n). */
    if (out->view_ndim != nd)
        return invalid(QMAR__S3_NDIM, QMAR__OUT, (int64_t)out->view_ndim, (int64_t)nd, 0);
    /*@ loop invariant 0 <= i <= nd - 1;
        loop invariant \forall integer j; 0 <= j < i ==> out->view_dims[j] == x1->view_dims[j];
        loop assigns i;
        loop variant nd - i;
    */
    for (uint64_t i = 0; i + 1 < nd; i++)
        if (out->view_dims[i] != x1->view_dims[i])
            return invalid(QMAR__S3_DIM, QMAR__OUT, (int64_t)i, out->view_dims[i],
                           x1->view_dims[i]);
    int64_t n = out->view_dims[nd - 1];
    //@ assert n == dim_n(c);
    if (x2->view_dims[1] != n)
        return invalid(QMAR__S3_N, QMAR__X2, x2->view_dims[1], n, 0);
    //@ assert rule_S3(c);
    return passed();
}

/* What planning needs from a call that passed N, D, L and S1..S3 (qmar__facts). */
/*@ requires call_readable(c) && rules_N(c) && rules_D(c) && rules_L(c);
    requires rule_S1(c) && rule_S2(c) && rule_S3(c);
    assigns \nothing;
    ensures facts_of(c, \result);
    ensures facts_in_range(\result);
*/
static qmar__facts derive_facts(const qmar__call *c)
{
    const qmar_tensor *const *t = c->t;
    uint64_t nd = t[QMAR__X1]->view_ndim;
    //@ assert nd == 2 || nd == 3;
    //@ assert t[QMAR__OUT]->view_ndim == nd;
    int transposed = is_transposed(t[QMAR__X2]);
    //@ ghost lemma_prefix_bound((const int64_t *)&t[QMAR__X1]->view_dims, nd);
    //@ assert &t[QMAR__X1]->view_dims[0] == (int64_t *)&t[QMAR__X1]->view_dims;
    int64_t m = bounded_count(t[QMAR__X1]->view_dims, nd - 1);
    int64_t k = t[QMAR__X1]->view_dims[nd - 1];
    int64_t n = t[QMAR__OUT]->view_dims[nd - 1];
    //@ assert m == dim_m(c);
    //@ assert k == dim_k(c) && n == dim_n(c);
    //@ ghost lemma_prefix_bound((const int64_t *)&t[QMAR__OUT]->view_dims, nd);
    //@ ghost lemma_product_same((const int64_t *)&t[QMAR__OUT]->view_dims, (const int64_t *)&t[QMAR__X1]->view_dims, nd - 1);
    //@ assert well_formed(t[QMAR__OUT]) && view_count(t[QMAR__OUT]) <= qmar_max_elems;
    //@ assert product((int64_t *)&t[QMAR__OUT]->view_dims, 0, nd - 1) == m;
    //@ assert view_count(t[QMAR__OUT]) == m * n;
    //@ assert 1 <= m && 1 <= k && 1 <= n && m * n <= qmar_max_elems;
    int32_t layout;
    if (t[QMAR__X2]->format == QMAR_FORMAT_FRACTAL_NZ)
        layout = transposed ? QMAR__X2_NZ_T : QMAR__X2_NZ;
    else
        layout = transposed ? QMAR__X2_ND_T : QMAR__X2_ND;
    int32_t has_pertoken = t[QMAR__PERTOKEN] != NULL;
    int32_t op_case;
    if (t[QMAR__CS1] != NULL)
        op_case = 3;
    else
        op_case = has_pertoken ? 2 : 1;
    int32_t y = t[QMAR__OUT]->dtype;
    //@ assert rule_D2(c) && (y == QMAR_FLOAT16 || y == QMAR_BF16);
    qmar__facts f = {.m = m, .k = k, .n = n, .y = y, .op_case = op_case, .x2_layout = layout,
                     .has_pertoken = has_pertoken};
    return f;
}

/*@ requires call_readable(c) && rules_N(c) && rules_D(c) && rules_L(c);
    requires rule_S1(c) && rule_S2(c) && rule_S3(c);
    requires m == dim_m(c) && n == dim_n(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==>
                rule_S4(c) && rule_S5(c) && rule_S6(c) && rule_S7(c) && rule_S8(c);
*/
static qmar__verdict check_vector_shapes(const qmar__call *c, int64_t m, int64_t n)
{
    const qmar_tensor *const *t = c->t;
    if (t[QMAR__BIAS] != NULL && !is_vector(t[QMAR__BIAS], n, 0))
        return invalid(QMAR__S4_BIAS, QMAR__BIAS, n, 0, 0);
    if (t[QMAR__X3] != NULL && !same_view(t[QMAR__X3], t[QMAR__OUT]))
        return invalid(QMAR__S5_X3, QMAR__X3, 0, 0, 0);
    if (!is_vector(t[QMAR__DEQUANT], 1, 0) && !is_vector(t[QMAR__DEQUANT], n, 1))
        return invalid(QMAR__S6_DEQUANT, QMAR__DEQUANT, n, 0, 0);
    if (t[QMAR__PERTOKEN] != NULL && !is_vector(t[QMAR__PERTOKEN], m, 0))
        return invalid(QMAR__S7_PERTOKEN, QMAR__PERTOKEN, m, 0, 0);
    if (t[QMAR__CS1] == NULL)
        return passed();
    /*@ loop invariant QMAR__CS1 <= s <= QMAR__CS2 + 1;
        loop invariant \forall integer j; QMAR__CS1 <= j < s ==>
                           shape_vec(c->t[j], n) || shape_row(c->t[j], n);
        loop assigns s;
        loop variant QMAR__CS2 + 1 - s;
    */
    for (int32_t s = QMAR__CS1; s <= QMAR__CS2; s++)
        if (!is_vector(t[s], n, 1))
            return invalid(QMAR__S8_SHAPE, s, n, 0, 0);
    if (!same_view(t[QMAR__CS1], t[QMAR__CS2]))
        return invalid(QMAR__S8_EQUAL, QMAR__CS2, 0, 0, 0);
    return passed();
}

/* ---- A: attributes ----------------------------------------------------------------------------- */

/*@ requires call_readable(c) && rules_N(c);
    assigns \nothing;
    ensures \result.status == QMAR_SUCCESS || \result.status == QMAR_ERR_PARAM_INVALID;
    ensures \result.status == QMAR_SUCCESS <==> rules_A(c);
*/
static qmar__verdict check_attributes(const qmar__call *c)
{
    const char *r = c->reduce_op;
    /* A1: exactly "sum"; each byte is read only if the previous one matched, so a shorter string's
     * terminator stops the comparison. */
    if (!(r[0] == 's' && r[1] == 'u' && r[2] == 'm' && r[3] == '\0'))
        return invalid(QMAR__A1_REDUCE_OP, QMAR__NO_SLOT, 0, 0, 0);
    if (c->stream_mode != 1)
        return invalid(QMAR__A2_STREAM_MODE, QMAR__NO_SLOT, c->stream_mode, 0, 0);
    if (c->comm_turn != 0)
        return invalid(QMAR__A3_COMM_TURN, QMAR__NO_SLOT, c->comm_turn, 0, 0);
    return passed();
}

/* The checks run in spec order; the first that fails decides. Nothing is written before the end. */
qmar_status qmar__validate(const qmar__call *call, qmar__verdict *verdict, qmar__facts *facts)
{
    qmar__facts f = {0};
    qmar__verdict r = check_nulls(call);
    if (r.status == QMAR_SUCCESS)
        r = check_dtypes(call);
    if (r.status == QMAR_SUCCESS)
        r = check_layout(call);
    if (r.status == QMAR_SUCCESS)
        r = check_matrix_shapes(call);
    if (r.status == QMAR_SUCCESS) {
        f = derive_facts(call);
        r = check_vector_shapes(call, f.m, f.n);
    }
    if (r.status == QMAR_SUCCESS)
        r = check_attributes(call);
    *verdict = r;
    if (r.status == QMAR_SUCCESS)
        *facts = f;
    return r.status;
}
