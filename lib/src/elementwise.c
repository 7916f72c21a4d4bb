/* SPDX-License-Identifier: Apache-2.0 */
/* The scalar element-wise passes: the reference the vector versions are tested against. The
 * per-element formulas are elementwise_scalar.h's. */
#include "elementwise.h"

#include <string.h>

#include "elementwise_scalar.h"
#include "kernels/kernel.h"

/* The contracts (proofs/units/elementwise: no run-time error) take what the collectives pass:
 * nranks ranks of a group (1 .. QMAR_COMM_MAX_RANKS; reduce_y is not called for one rank), rows of
 * n elements of an accepted call (n >= 1, rows * n <= m * n <= 2^48, facts_in_range of
 * spec/acsl/validation.acsl), each rank's part holding the whole chunk. */

/*@ ghost
  /@ requires 0 <= a <= b && 0 <= c;
     assigns \nothing;
     ensures a * c <= b * c;
  @/
  static void lemma_mul_mono(int64_t a, int64_t b, int64_t c)
  {
  }
*/

/*@ requires 2 <= nranks <= QMAR_COMM_MAX_RANKS && 0 <= count <= 281474976710656;
    requires \valid_read(rows + (0 .. nranks - 1));
    requires \forall integer r; 0 <= r < nranks ==> \valid_read(rows[r] + (0 .. count - 1));
    requires \valid(out + (0 .. count - 1));
    assigns out[0 .. count - 1];
*/
static void reduce_y(const uint16_t *const *rows, int32_t nranks, int64_t count, int32_t y,
                     uint16_t *out)
{
    /*@ loop invariant 0 <= c <= count;
        loop assigns c, out[0 .. count - 1];
        loop variant count - c;
    */
    for (int64_t c = 0; c < count; c++)
        out[c] = qmar__ew_reduce_one(rows, nranks, c, y);
}

/*@ requires 0 <= rows && 1 <= n && rows * n <= 281474976710656;
    requires \valid_read(e + (0 .. rows * n - 1)) && \valid_read(s1 + (0 .. n - 1));
    requires \valid(q1 + (0 .. rows * n - 1));
    assigns q1[0 .. rows * n - 1];
*/
static void quantize(const uint16_t *e, const uint16_t *s1, int64_t rows, int64_t n, int32_t y,
                     int8_t *q1)
{
    /*@ loop invariant 0 <= i <= rows;
        loop assigns i, q1[0 .. rows * n - 1];
        loop variant rows - i;
    */
    for (int64_t i = 0; i < rows; i++) {
        //@ ghost lemma_mul_mono(i, rows - 1, n); // row i lies inside: i * n + n <= rows * n
        /*@ loop invariant 0 <= j <= n;
            loop assigns j, q1[0 .. rows * n - 1];
            loop variant n - j;
        */
        for (int64_t j = 0; j < n; j++)
            q1[i * n + j] = qmar__ew_quantize_one(e[i * n + j], s1[j], y);
    }
}

/*@ requires 1 <= nranks <= QMAR_COMM_MAX_RANKS;
    requires 0 <= nrows && 1 <= n && nrows * n <= 281474976710656;
    requires \valid_read(rows + (0 .. nranks - 1));
    requires \forall integer r; 0 <= r < nranks ==> \valid_read(rows[r] + (0 .. nrows * n - 1));
    requires \valid_read(ratio + (0 .. n - 1)) && \valid(out + (0 .. nrows * n - 1));
    assigns out[0 .. nrows * n - 1];
*/
static void sum_requant(const int8_t *const *rows, int32_t nranks, int64_t nrows, int64_t n,
                        const float *ratio, int8_t *out)
{
    /*@ loop invariant 0 <= i <= nrows;
        loop assigns i, out[0 .. nrows * n - 1];
        loop variant nrows - i;
    */
    for (int64_t i = 0; i < nrows; i++) {
        //@ ghost lemma_mul_mono(i, nrows - 1, n);
        /*@ loop invariant 0 <= j <= n;
            loop assigns j, out[0 .. nrows * n - 1];
            loop variant n - j;
        */
        for (int64_t j = 0; j < n; j++)
            out[i * n + j] = qmar__ew_sum_requant_one(rows, nranks, i * n + j, ratio[j]);
    }
}

/*@ requires 0 <= rows && 1 <= n && rows * n <= 281474976710656;
    requires \valid_read(q2 + (0 .. rows * n - 1)) && \valid_read(s2 + (0 .. n - 1));
    requires \valid(out + (0 .. rows * n - 1));
    assigns out[0 .. rows * n - 1];
*/
static void dequantize(const int8_t *q2, const uint16_t *s2, int64_t rows, int64_t n, int32_t y,
                       uint16_t *out)
{
    /*@ loop invariant 0 <= i <= rows;
        loop assigns i, out[0 .. rows * n - 1];
        loop variant rows - i;
    */
    for (int64_t i = 0; i < rows; i++) {
        //@ ghost lemma_mul_mono(i, rows - 1, n);
        /*@ loop invariant 0 <= j <= n;
            loop assigns j, out[0 .. rows * n - 1];
            loop variant n - j;
        */
        for (int64_t j = 0; j < n; j++)
            out[i * n + j] = qmar__ew_dequantize_one(q2[i * n + j], s2[j], y);
    }
}

const qmar__elementwise qmar__elementwise_scalar = {"scalar", reduce_y, quantize, sum_requant,
                                                    dequantize};

/* Follows the GEMM kernel, which dispatch.c chose only if this CPU and OS run its ISA: the AVX2
 * kernel needs AVX2 + F16C, the AVX-512 and AMX ones everything elementwise_avx512.c uses. */
const qmar__elementwise *qmar__elementwise_select(void)
{
    const char *isa = qmar__kernel_select()->name;
    (void)isa;
#if QMAR_HAVE_AVX512
    if (strcmp(isa, "avx512") == 0 || strcmp(isa, "amx") == 0)
        return &qmar__elementwise_avx512;
#endif
#if QMAR_HAVE_AVX2
    if (strcmp(isa, "avx2") == 0)
        return &qmar__elementwise_avx2;
#endif
    return &qmar__elementwise_scalar;
}
