/* Internal: FRACTAL_NZ layout of int8 matrices (spec/numerics.md §7). */
#ifndef QMAR_SRC_NZ_H
#define QMAR_SRC_NZ_H
#include <stdint.h>

/* Index of element (h, w) of an H x W matrix stored as FRACTAL_NZ (16 x 32 int8 fractals, the
 * fractal columns of Align(H,16) rows each). */
static inline int64_t qmar__nz_index(int64_t h, int64_t w, int64_t rows)
{
    int64_t aligned_rows = (rows + 15) / 16 * 16;
    return (w / 32) * (aligned_rows * 32) + h * 32 + (w % 32);
}
#endif
