/* The pure validator: spec/validation.md rules N1..A3, in order, each citing its rule id.
 * Written to be proven (issue: proofs): no allocation, no I/O, loops bounded by QMAR_MAX_DIMS,
 * no recursion, every product checked against QMAR__MAX_ELEMS before it is formed. */
#include <stddef.h>

#include "validate.h"

static qmar_status reject(qmar__verdict *v, qmar_status s, int32_t why, int32_t slot, int64_t a,
                          int64_t b, int64_t c)
{
    v->status = s;
    v->why = why;
    v->slot = slot;
    v->v[0] = a;
    v->v[1] = b;
    v->v[2] = c;
    return s;
}

static qmar_status invalid(qmar__verdict *v, int32_t why, int32_t slot, int64_t a, int64_t b,
                           int64_t c)
{
    return reject(v, QMAR_ERR_PARAM_INVALID, why, slot, a, b, c);
}

/* ---- N: NULL pointers ------------------------------------------------------------------------ */

static qmar_status check_nulls(const qmar__call *c, qmar__verdict *v)
{
    /* N1, in the contract's order: x1, x2, dequant_scale, output, then the four pointers. */
    static const int32_t required[4] = {QMAR__X1, QMAR__X2, QMAR__DEQUANT, QMAR__OUT};
    for (int i = 0; i < 4; i++)
        if (c->t[required[i]] == NULL)
            return reject(v, QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, required[i], 0, 0, 0);
    if (c->group == NULL)
        return reject(v, QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 0, 0, 0);
    if (c->reduce_op == NULL)
        return reject(v, QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 1, 0, 0);
    if (c->workspace_size_ptr == NULL)
        return reject(v, QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 2, 0, 0);
    if (c->executor_ptr == NULL)
        return reject(v, QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 3, 0, 0);
    /* N2: a present tensor must have data. */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && c->t[s]->data == NULL)
            return reject(v, QMAR_ERR_PARAM_NULLPTR, QMAR__N2_DATA_NULL, s, 0, 0, 0);
    return QMAR_SUCCESS;
}

/* ---- D: dtypes --------------------------------------------------------------------------------- */

static qmar_status check_dtypes(const qmar__call *c, qmar__verdict *v)
{
    const qmar_tensor *const *t = c->t;
    if (t[QMAR__X1]->dtype != QMAR_INT8)
        return invalid(v, QMAR__D1_NOT_INT8, QMAR__X1, t[QMAR__X1]->dtype, 0, 0);
    if (t[QMAR__X2]->dtype != QMAR_INT8)
        return invalid(v, QMAR__D1_NOT_INT8, QMAR__X2, t[QMAR__X2]->dtype, 0, 0);
    int32_t y = t[QMAR__OUT]->dtype;
    if (y != QMAR_FLOAT16 && y != QMAR_BF16)
        return invalid(v, QMAR__D2_OUTPUT, QMAR__OUT, y, 0, 0);
    if (t[QMAR__BIAS] != NULL && t[QMAR__BIAS]->dtype != QMAR_INT32)
        return invalid(v, QMAR__D3_BIAS, QMAR__BIAS, t[QMAR__BIAS]->dtype, 0, 0);
    if (t[QMAR__X3] != NULL && t[QMAR__X3]->dtype != y)
        return invalid(v, QMAR__D4_X3, QMAR__X3, t[QMAR__X3]->dtype, y, 0);
    /* D5: the dequant dtype depends on Y and on whether pertoken is present. */
    int32_t dq = t[QMAR__DEQUANT]->dtype;
    int dq_ok = y == QMAR_BF16 ? dq == QMAR_BF16
                : t[QMAR__PERTOKEN] == NULL ? (dq == QMAR_INT64 || dq == QMAR_UINT64)
                                            : dq == QMAR_FLOAT;
    if (!dq_ok)
        return invalid(v, QMAR__D5_DEQUANT, QMAR__DEQUANT, dq, y, t[QMAR__PERTOKEN] != NULL);
    if (t[QMAR__PERTOKEN] != NULL && t[QMAR__PERTOKEN]->dtype != QMAR_FLOAT)
        return invalid(v, QMAR__D6_PERTOKEN, QMAR__PERTOKEN, t[QMAR__PERTOKEN]->dtype, 0, 0);
    if ((t[QMAR__CS1] == NULL) != (t[QMAR__CS2] == NULL))
        return invalid(v, QMAR__D7_PAIR, t[QMAR__CS1] == NULL ? QMAR__CS1 : QMAR__CS2, 0, 0, 0);
    for (int32_t s = QMAR__CS1; s <= QMAR__CS2; s++)
        if (t[s] != NULL && t[s]->dtype != y)
            return invalid(v, QMAR__D7_DTYPE, s, t[s]->dtype, y, 0);
    return QMAR_SUCCESS;
}

/* ---- L: formats, layout, memory ---------------------------------------------------------------- */

/* Product of n positive dims, or -1 when it would exceed QMAR__MAX_ELEMS. */
static int64_t bounded_count(const int64_t *dims, uint64_t n)
{
    int64_t count = 1;
    for (uint64_t i = 0; i < n; i++) {
        if (count > QMAR__MAX_ELEMS / dims[i])
            return -1;
        count *= dims[i];
    }
    return count;
}

/* L1 for one tensor: well-formed dims, bounded counts, non-negative offset. */
static qmar_status check_well_formed(const qmar_tensor *t, int32_t s, qmar__verdict *v)
{
    if (t->view_ndim < 1)
        return invalid(v, QMAR__L1_NDIM, s, (int64_t)t->view_ndim, 0, 0);
    for (uint64_t i = 0; i < t->view_ndim; i++)
        if (t->view_dims[i] < 1)
            return invalid(v, QMAR__L1_DIM, s, (int64_t)i, t->view_dims[i], 0);
    for (uint64_t i = 0; i < t->storage_ndim; i++)
        if (t->storage_dims[i] < 1)
            return invalid(v, QMAR__L1_STORAGE_DIM, s, (int64_t)i, t->storage_dims[i], 0);
    if (bounded_count(t->view_dims, t->view_ndim) < 0)
        return invalid(v, QMAR__L1_COUNT, s, 0, 0, 0);
    if (bounded_count(t->storage_dims, t->storage_ndim) < 0)
        return invalid(v, QMAR__L1_STORAGE_COUNT, s, 0, 0, 0);
    if (t->offset < 0)
        return invalid(v, QMAR__L1_OFFSET, s, t->offset, 0, 0);
    return QMAR_SUCCESS;
}

/* Contiguous: no strides, or row-major strides on every dim of size != 1. Needs L1 (no overflow). */
static int is_contiguous(const qmar_tensor *t)
{
    if (!t->has_strides)
        return 1;
    int64_t expected = 1;
    for (uint64_t j = t->view_ndim; j > 0; j--) {
        uint64_t i = j - 1;
        if (t->view_dims[i] != 1 && t->strides[i] != expected)
            return 0;
        expected *= t->view_dims[i];
    }
    return 1;
}

/* Transposed 2-D view (k,n): strides (1,k), size-1 dims free; contiguity takes precedence. */
static int is_transposed(const qmar_tensor *t)
{
    if (t->view_ndim != 2 || is_contiguous(t))
        return 0;
    int64_t k = t->view_dims[0], n = t->view_dims[1];
    return (k == 1 || t->strides[0] == 1) && (n == 1 || t->strides[1] == k);
}

static qmar_status check_nd_contiguous(const qmar_tensor *t, int32_t s, qmar__verdict *v)
{
    if (t->format != QMAR_FORMAT_ND)
        return invalid(v, QMAR__L2_FORMAT, s, t->format, 0, 0);
    if (!is_contiguous(t))
        return invalid(v, QMAR__L2_STRIDES, s, 0, 0, 0);
    return QMAR_SUCCESS;
}

static qmar_status check_x2_layout(const qmar_tensor *x2, qmar__verdict *v)
{
    if (x2->format != QMAR_FORMAT_ND && x2->format != QMAR_FORMAT_FRACTAL_NZ)
        return invalid(v, QMAR__L3_FORMAT, QMAR__X2, x2->format, 0, 0);
    if (x2->view_ndim != 2)
        return invalid(v, QMAR__L3_NDIM, QMAR__X2, (int64_t)x2->view_ndim, 0, 0);
    if (!is_contiguous(x2) && !is_transposed(x2))
        return invalid(v, QMAR__L3_STRIDES, QMAR__X2, x2->strides[0], x2->strides[1], 0);
    return QMAR_SUCCESS;
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return a / b + (a % b != 0);
}

/* L5: the NZ storage of the stored H x W matrix is (ceil(W/32), ceil(H/16), 16, 32), offset 0. */
static qmar_status check_nz_storage(const qmar_tensor *x2, qmar__verdict *v)
{
    int transposed = is_transposed(x2);
    int64_t h = transposed ? x2->view_dims[1] : x2->view_dims[0];
    int64_t w = transposed ? x2->view_dims[0] : x2->view_dims[1];
    const int64_t want[4] = {ceil_div(w, 32), ceil_div(h, 16), 16, 32};
    if (x2->storage_ndim != 4)
        return invalid(v, QMAR__L5_NDIM, QMAR__X2, (int64_t)x2->storage_ndim, 0, 0);
    for (int i = 0; i < 4; i++)
        if (x2->storage_dims[i] != want[i])
            return invalid(v, QMAR__L5_DIMS, QMAR__X2, i, x2->storage_dims[i], want[i]);
    if (x2->offset != 0)
        return invalid(v, QMAR__L5_OFFSET, QMAR__X2, x2->offset, 0, 0);
    return QMAR_SUCCESS;
}

/* L4: an ND view addresses elements offset .. offset+count-1 (contiguous and transposed alike),
 * which must lie inside the storage. */
static qmar_status check_fits_storage(const qmar_tensor *t, int32_t s, qmar__verdict *v)
{
    int64_t count = bounded_count(t->view_dims, t->view_ndim);
    int64_t storage = bounded_count(t->storage_dims, t->storage_ndim);
    if (count > storage || t->offset > storage - count)
        return invalid(v, QMAR__L4_STORAGE, s, t->offset, count, storage);
    return QMAR_SUCCESS;
}

/* First element index and element count of the footprint; NZ covers its whole storage. */
static void footprint_elems(const qmar_tensor *t, int64_t *first, int64_t *count)
{
    if (t->format == QMAR_FORMAT_FRACTAL_NZ) {
        *first = 0;
        *count = bounded_count(t->storage_dims, t->storage_ndim);
    } else {
        *first = t->offset;
        *count = bounded_count(t->view_dims, t->view_ndim);
    }
}

uint64_t qmar__footprint_bytes(const qmar_tensor *t)
{
    int64_t first, count;
    footprint_elems(t, &first, &count);
    return (uint64_t)count * qmar_dtype_size((qmar_dtype)t->dtype);
}

/* Byte range [lo, hi) of a valid tensor; 0 when it would wrap past the address space (L6). */
static int footprint_range(const qmar_tensor *t, uint64_t *lo, uint64_t *hi)
{
    int64_t first, count;
    footprint_elems(t, &first, &count);
    uint64_t es = qmar_dtype_size((qmar_dtype)t->dtype);
    uint64_t base = (uint64_t)(uintptr_t)t->data;
    /* first + count <= 2^48 and es <= 8 after L1/L4/L5, so these products cannot overflow. */
    uint64_t end = ((uint64_t)first + (uint64_t)count) * es;
    if (base > UINT64_MAX - end)
        return 0;
    *lo = base + (uint64_t)first * es;
    *hi = base + end;
    return 1;
}

static int same_view(const qmar_tensor *a, const qmar_tensor *b)
{
    if (a->view_ndim != b->view_ndim)
        return 0;
    for (uint64_t i = 0; i < a->view_ndim; i++)
        if (a->view_dims[i] != b->view_dims[i])
            return 0;
    return 1;
}

/* L7: x3 may be exactly the output (in-place add); nothing else may touch the output's bytes. */
static qmar_status check_overlaps(const qmar__call *c, qmar__verdict *v)
{
    const qmar_tensor *out = c->t[QMAR__OUT];
    uint64_t olo = 0, ohi = 0;
    (void)footprint_range(out, &olo, &ohi); /* L6 already held for every slot */
    for (int32_t s = 0; s < QMAR__OUT; s++) {
        const qmar_tensor *t = c->t[s];
        uint64_t lo = 0, hi = 0;
        if (t == NULL)
            continue;
        (void)footprint_range(t, &lo, &hi);
        if (lo >= ohi || olo >= hi)
            continue;
        if (s != QMAR__X3)
            return invalid(v, QMAR__L7_OVERLAP, s, 0, 0, 0);
        if (t->data != out->data || t->offset != out->offset || !same_view(t, out))
            return invalid(v, QMAR__L7_PARTIAL_ALIAS, s, 0, 0, 0);
    }
    return QMAR_SUCCESS;
}

static qmar_status check_layout(const qmar__call *c, qmar__verdict *v)
{
    qmar_status st;
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && (st = check_well_formed(c->t[s], s, v)) != QMAR_SUCCESS)
            return st; /* L1 */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (s != QMAR__X2 && c->t[s] != NULL &&
            (st = check_nd_contiguous(c->t[s], s, v)) != QMAR_SUCCESS)
            return st; /* L2 */
    if ((st = check_x2_layout(c->t[QMAR__X2], v)) != QMAR_SUCCESS)
        return st; /* L3 */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++)
        if (c->t[s] != NULL && c->t[s]->format == QMAR_FORMAT_ND &&
            (st = check_fits_storage(c->t[s], s, v)) != QMAR_SUCCESS)
            return st; /* L4 */
    if (c->t[QMAR__X2]->format == QMAR_FORMAT_FRACTAL_NZ &&
        (st = check_nz_storage(c->t[QMAR__X2], v)) != QMAR_SUCCESS)
        return st; /* L5 */
    for (int32_t s = 0; s < QMAR__NSLOTS; s++) {
        uint64_t lo, hi;
        if (c->t[s] != NULL && !footprint_range(c->t[s], &lo, &hi))
            return invalid(v, QMAR__L6_WRAP, s, 0, 0, 0); /* L6 */
    }
    return check_overlaps(c, v); /* L7 */
}

/* ---- S: shapes --------------------------------------------------------------------------------- */

/* A 1-D (len) view, or with allow_row also (1, len). */
static int is_vector(const qmar_tensor *t, int64_t len, int allow_row)
{
    if (t->view_ndim == 1)
        return t->view_dims[0] == len;
    return allow_row && t->view_ndim == 2 && t->view_dims[0] == 1 && t->view_dims[1] == len;
}

static qmar_status check_matrix_shapes(const qmar__call *c, qmar__verdict *v, qmar__facts *f)
{
    const qmar_tensor *x1 = c->t[QMAR__X1], *x2 = c->t[QMAR__X2], *out = c->t[QMAR__OUT];
    uint64_t nd = x1->view_ndim;
    if (nd != 2 && nd != 3)
        return invalid(v, QMAR__S1_X1_NDIM, QMAR__X1, (int64_t)nd, 0, 0);
    if (x2->view_ndim != 2)
        return invalid(v, QMAR__S1_X2_NDIM, QMAR__X2, (int64_t)x2->view_ndim, 0, 0);
    int64_t k = x1->view_dims[nd - 1];
    int64_t m = bounded_count(x1->view_dims, nd - 1);
    int transposed = is_transposed(x2);
    if (x2->view_dims[0] != k)
        return invalid(v, QMAR__S2_K, QMAR__X2, x2->view_dims[0], k, 0);
    if (k > QMAR__MAX_K)
        return invalid(v, QMAR__S2_K_MAX, QMAR__X1, k, QMAR__MAX_K, 0);
    if (!transposed && x2->view_dims[1] > QMAR__MAX_K)
        return invalid(v, QMAR__S2_X2_LAST_MAX, QMAR__X2, x2->view_dims[1], QMAR__MAX_K, 0);
    if (m > QMAR__MAX_M)
        return invalid(v, QMAR__S2_M_MAX, QMAR__X1, m, QMAR__MAX_M, 0);
    /* S3: output = x1's view with the last dim replaced by n, and x2 is (k, n). */
    if (out->view_ndim != nd)
        return invalid(v, QMAR__S3_NDIM, QMAR__OUT, (int64_t)out->view_ndim, (int64_t)nd, 0);
    for (uint64_t i = 0; i + 1 < nd; i++)
        if (out->view_dims[i] != x1->view_dims[i])
            return invalid(v, QMAR__S3_DIM, QMAR__OUT, (int64_t)i, out->view_dims[i],
                           x1->view_dims[i]);
    int64_t n = out->view_dims[nd - 1];
    if (x2->view_dims[1] != n)
        return invalid(v, QMAR__S3_N, QMAR__X2, x2->view_dims[1], n, 0);
    f->m = m;
    f->k = k;
    f->n = n;
    f->x2_layout = x2->format == QMAR_FORMAT_FRACTAL_NZ ? (transposed ? QMAR__X2_NZ_T : QMAR__X2_NZ)
                                                        : (transposed ? QMAR__X2_ND_T : QMAR__X2_ND);
    return QMAR_SUCCESS;
}

static qmar_status check_vector_shapes(const qmar__call *c, qmar__verdict *v, const qmar__facts *f)
{
    const qmar_tensor *const *t = c->t;
    if (t[QMAR__BIAS] != NULL && !is_vector(t[QMAR__BIAS], f->n, 0))
        return invalid(v, QMAR__S4_BIAS, QMAR__BIAS, f->n, 0, 0);
    if (t[QMAR__X3] != NULL && !same_view(t[QMAR__X3], t[QMAR__OUT]))
        return invalid(v, QMAR__S5_X3, QMAR__X3, 0, 0, 0);
    if (!is_vector(t[QMAR__DEQUANT], 1, 0) && !is_vector(t[QMAR__DEQUANT], f->n, 1))
        return invalid(v, QMAR__S6_DEQUANT, QMAR__DEQUANT, f->n, 0, 0);
    if (t[QMAR__PERTOKEN] != NULL && !is_vector(t[QMAR__PERTOKEN], f->m, 0))
        return invalid(v, QMAR__S7_PERTOKEN, QMAR__PERTOKEN, f->m, 0, 0);
    if (t[QMAR__CS1] == NULL)
        return QMAR_SUCCESS;
    for (int32_t s = QMAR__CS1; s <= QMAR__CS2; s++)
        if (!is_vector(t[s], f->n, 1))
            return invalid(v, QMAR__S8_SHAPE, s, f->n, 0, 0);
    if (!same_view(t[QMAR__CS1], t[QMAR__CS2]))
        return invalid(v, QMAR__S8_EQUAL, QMAR__CS2, 0, 0, 0);
    return QMAR_SUCCESS;
}

/* ---- A: attributes ----------------------------------------------------------------------------- */

static qmar_status check_attributes(const qmar__call *c, qmar__verdict *v)
{
    const char *r = c->reduce_op;
    /* A1: exactly "sum"; each byte is read only if the previous one matched, so a shorter string's
     * terminator stops the comparison. */
    if (!(r[0] == 's' && r[1] == 'u' && r[2] == 'm' && r[3] == '\0'))
        return invalid(v, QMAR__A1_REDUCE_OP, QMAR__NO_SLOT, 0, 0, 0);
    if (c->stream_mode != 1)
        return invalid(v, QMAR__A2_STREAM_MODE, QMAR__NO_SLOT, c->stream_mode, 0, 0);
    if (c->comm_turn != 0)
        return invalid(v, QMAR__A3_COMM_TURN, QMAR__NO_SLOT, c->comm_turn, 0, 0);
    return QMAR_SUCCESS;
}

qmar_status qmar__validate(const qmar__call *call, qmar__verdict *verdict, qmar__facts *facts)
{
    qmar_status st;
    qmar__facts f = {0};
    if ((st = check_nulls(call, verdict)) != QMAR_SUCCESS ||
        (st = check_dtypes(call, verdict)) != QMAR_SUCCESS ||
        (st = check_layout(call, verdict)) != QMAR_SUCCESS ||
        (st = check_matrix_shapes(call, verdict, &f)) != QMAR_SUCCESS ||
        (st = check_vector_shapes(call, verdict, &f)) != QMAR_SUCCESS ||
        (st = check_attributes(call, verdict)) != QMAR_SUCCESS)
        return st;
    const qmar_tensor *const *t = call->t;
    f.y = t[QMAR__OUT]->dtype;
    f.has_pertoken = t[QMAR__PERTOKEN] != NULL;
    f.op_case = t[QMAR__CS1] != NULL ? 3 : f.has_pertoken ? 2 : 1;
    *facts = f;
    return reject(verdict, QMAR_SUCCESS, QMAR__OK, QMAR__NO_SLOT, 0, 0, 0);
}
