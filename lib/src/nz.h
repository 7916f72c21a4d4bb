/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: FRACTAL_NZ layout of int8 matrices (spec/numerics.md §7). */
#ifndef QMAR_SRC_NZ_H
#define QMAR_SRC_NZ_H
#include <stdint.h>

#include "error.h"

/* Align and the NZ size and offset of spec/numerics.md §7 as ACSL logic. */
#include "../../spec/acsl/arith.acsl"

/* Index of element (h, w) of an H x W matrix stored as FRACTAL_NZ (16 x 32 int8 fractals, the
 * fractal columns of Align(H,16) rows each). Proven (proofs/units/nz): it is the spec's offset and
 * lies inside the NZ form of any matrix of those rows with more than w columns. */
/*@ requires 0 <= h < rows && 0 <= w;
    requires nz_size(rows, w + 1) <= 281474976710656;
    assigns \nothing;
    ensures \result == nz_offset(h, w, rows);
    ensures 0 <= \result < nz_size(rows, w + 1);
*/
static inline int64_t qmar__nz_index(int64_t h, int64_t w, int64_t rows)
{
    int64_t aligned_rows = (rows + 15) / 16 * 16;
    int64_t block = w / 32, lane = w % 32;
    //@ assert aligned_rows == align_up(rows, 16) && h < aligned_rows;
    //@ assert align_up(w + 1, 32) == (block + 1) * 32 && 0 <= lane < 32;
    //@ assert nz_size(rows, w + 1) == block * (aligned_rows * 32) + aligned_rows * 32;
    //@ assert 0 <= h * 32 + lane < aligned_rows * 32;
    return block * (aligned_rows * 32) + (h * 32 + lane);
}

/* Contract of the public qmar_calculate_matmul_weight_size_v2 (qmar.h), proven in nz.c: the NZ
 * size of spec/numerics.md §7 for an int8 2-D weight whose NZ form fits the element limit. */
/*@ requires dims != \null && ndim == 2 ==> \valid_read(dims + (0 .. 1));
    requires elements != \null ==> \valid(elements);
    requires dims != \null && elements != \null && ndim == 2 ==>
             \separated(elements, dims + (0 .. 1));
    assigns *elements, qmar__reason_state;
    behavior null_pointer:
      assumes dims == \null || elements == \null;
      ensures \result == QMAR_ERR_PARAM_NULLPTR;
    behavior accepted:
      assumes dims != \null && elements != \null;
      assumes ndim == 2 && dtype == QMAR_INT8 && dims[0] >= 1 && dims[1] >= 1 &&
              nz_size(dims[0], dims[1]) <= 281474976710656;
      ensures \result == QMAR_SUCCESS && *elements == nz_size(\old(dims[0]), \old(dims[1]));
    behavior rejected:
      assumes dims != \null && elements != \null;
      assumes !(ndim == 2 && dtype == QMAR_INT8 && dims[0] >= 1 && dims[1] >= 1 &&
                nz_size(dims[0], dims[1]) <= 281474976710656);
      ensures \result == QMAR_ERR_PARAM_INVALID && *elements == \old(*elements);
    complete behaviors;
    disjoint behaviors;
*/
qmar_status qmar_calculate_matmul_weight_size_v2(const int64_t *dims, uint64_t ndim,
                                                 qmar_dtype dtype, uint64_t *elements);
#endif
