/* SPDX-License-Identifier: Apache-2.0 */
/* FRACTAL_NZ helpers: the size of an NZ weight and the ND -> NZ conversion (numerics.md §7). */
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "error.h"
#include "nz.h"
#include "validate.h"

/* Align(rows,16) * Align(cols,32), or -1 if a dim is < 1 or the size passes the element limit. */
/*@ assigns \nothing;
    ensures 1 <= rows && 1 <= cols && nz_size(rows, cols) <= 281474976710656 ==>
                \result == nz_size(rows, cols);
    ensures !(1 <= rows && 1 <= cols && nz_size(rows, cols) <= 281474976710656) ==>
                \result == -1;
*/
static int64_t nz_elements(int64_t rows, int64_t cols)
{
    if (rows < 1 || cols < 1 || rows > QMAR__MAX_ELEMS || cols > QMAR__MAX_ELEMS)
        return -1;
    int64_t r = (rows + 15) / 16 * 16, c = (cols + 31) / 32 * 32;
    if (r > QMAR__MAX_ELEMS / c)
        return -1;
    return r * c;
}

qmar_status qmar_calculate_matmul_weight_size_v2(const int64_t *dims, uint64_t ndim,
                                                 qmar_dtype dtype, uint64_t *elements)
{
    if (dims == NULL || elements == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "calculate_matmul_weight_size_v2: %s is NULL",
                          dims == NULL ? "dims" : "elements");
    if (ndim != 2)
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "calculate_matmul_weight_size_v2: ndim %llu != 2",
                          (unsigned long long)ndim);
    if (dtype != QMAR_INT8)
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "calculate_matmul_weight_size_v2: dtype %d is not INT8 (2)", (int)dtype);
    int64_t size = nz_elements(dims[0], dims[1]);
    if (size < 0)
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "calculate_matmul_weight_size_v2: dims (%lld, %lld) must be >= 1 and "
                          "the NZ size <= 2^48",
                          (long long)dims[0], (long long)dims[1]);
    *elements = (uint64_t)size;
    return QMAR_SUCCESS;
}

/*@ ghost
  /@ requires 0 <= a <= b && 0 <= c;
     assigns \nothing;
     ensures a * c <= b * c;
  @/
  static void lemma_mul_mono(int64_t a, int64_t b, int64_t c)
  {
  }
*/

/*@ requires 1 <= rows && 1 <= cols && size == nz_size(rows, cols) && size <= 281474976710656;
    requires \valid(nz + (0 .. size - 1)) && \valid_read(nd + (0 .. rows * cols - 1));
    requires \separated(nz + (0 .. size - 1), nd + (0 .. rows * cols - 1));
    assigns nz[0 .. size - 1];
*/
static void scatter_nz(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz, int64_t size)
{
    //@ assert rows <= align_up(rows, 16) && cols <= align_up(cols, 32);
    //@ ghost lemma_mul_mono(rows, (rows + 15) / 16 * 16, cols);
    //@ ghost lemma_mul_mono(cols, (cols + 31) / 32 * 32, (rows + 15) / 16 * 16);
    //@ assert rows * cols <= size;
    memset(nz, 0, (size_t)size); /* padding is zero, so it can never reach an output */
    /*@ loop invariant 0 <= h <= rows;
        loop assigns h, nz[0 .. size - 1];
        loop variant rows - h;
    */
    for (int64_t h = 0; h < rows; h++)
        /*@ loop invariant 0 <= w <= cols;
            loop assigns w, nz[0 .. size - 1];
            loop variant cols - w;
        */
        for (int64_t w = 0; w < cols; w++) {
            //@ assert align_up(w + 1, 32) <= align_up(cols, 32);
            //@ assert nz_size(rows, w + 1) <= size;
            //@ ghost lemma_mul_mono(h, rows - 1, cols);
            //@ assert h * cols + w < rows * cols;
            nz[qmar__nz_index(h, w, rows)] = nd[h * cols + w];
        }
}

qmar_status qmar_trans_matmul_weight(const int8_t *nd, int64_t rows, int64_t cols, int8_t *nz,
                                     uint64_t nz_bytes)
{
    if (nd == NULL || nz == NULL)
        return qmar__fail(QMAR_ERR_PARAM_NULLPTR, "trans_matmul_weight: %s is NULL",
                          nd == NULL ? "nd" : "nz");
    int64_t size = nz_elements(rows, cols);
    if (size < 0)
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "trans_matmul_weight: shape (%lld, %lld) must be >= 1 and the NZ size "
                          "<= 2^48", (long long)rows, (long long)cols);
    if (nz_bytes < (uint64_t)size)
        return qmar__fail(QMAR_ERR_PARAM_INVALID, "trans_matmul_weight: nz_bytes %llu < %lld",
                          (unsigned long long)nz_bytes, (long long)size);
    uintptr_t a = (uintptr_t)nd, b = (uintptr_t)nz;
    uint64_t nd_bytes = (uint64_t)rows * (uint64_t)cols;
    int overlap = a < b + (uint64_t)size && b < a + nd_bytes;
    if (overlap && a != b)
        return qmar__fail(QMAR_ERR_PARAM_INVALID,
                          "trans_matmul_weight: nd and nz overlap without being the same buffer");
    if (!overlap) {
        scatter_nz(nd, rows, cols, nz, size);
        return QMAR_SUCCESS;
    }
    /* In place: the ND matrix is read from a copy while the NZ form overwrites the buffer. */
    int8_t *copy = qmar__malloc((size_t)nd_bytes);
    if (copy == NULL)
        return qmar__fail(QMAR_ERR_INNER, "trans_matmul_weight: out of memory");
    memcpy(copy, nd, (size_t)nd_bytes);
    scatter_nz(copy, rows, cols, nz, size);
    free(copy);
    return QMAR_SUCCESS;
}
