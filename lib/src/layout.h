/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: where Run puts its rows in the caller's workspace (qmar.h, "layout"), and the row
 * blocks it walks, as pure functions apart from the threads and backends that use them, so that
 * proofs/units/layout proves them: every region lies inside the workspace of
 * qmar__workspace_size bytes (spec/acsl/workspace.acsl) and no two regions overlap. */
#ifndef QMAR_SRC_LAYOUT_H
#define QMAR_SRC_LAYOUT_H
#include <stdint.h>

#include "plan.h"

/* Byte offsets into the workspace. e rows (m x n of Y) at [0, e_bytes); in case 3 the quantized
 * int8 rows q1 at [q1, q1 + q_bytes) and the reduced ones q2 at [q2, q2 + q_bytes), each at a
 * 64-byte boundary. In cases 1 and 2 q_bytes is 0 and q1 == q2 == the workspace's end. */
typedef struct qmar__layout {
    uint64_t e_bytes, q1, q2, q_bytes;
} qmar__layout;

/*@ requires \valid_read(f) && facts_in_range(*f);
    assigns \nothing;
    ensures \result.e_bytes == f->m * f->n * elem_size(f->y);
    ensures \result.e_bytes <= \result.q1 && \result.q1 % 64 == 0;
    ensures \result.q1 + \result.q_bytes <= \result.q2 && \result.q2 % 64 == 0;
    ensures \result.q2 + \result.q_bytes <= workspace_bytes(f->m, f->n, f->y, f->op_case);
    ensures f->op_case == 3 ==> \result.q_bytes == f->m * f->n;
    ensures f->op_case != 3 ==> \result.q_bytes == 0;
*/
static inline qmar__layout qmar__workspace_layout(const qmar__facts *f)
{
    uint64_t cells = (uint64_t)f->m * (uint64_t)f->n; /* <= 2^48 (rule L1) */
    qmar__layout l;
    l.e_bytes = cells * 2u; /* Y is FLOAT16 or BF16 */
    l.q1 = (l.e_bytes + 63u) / 64u * 64u;
    l.q_bytes = f->op_case == 3 ? cells : 0u;
    l.q2 = l.q1 + (l.q_bytes + 63u) / 64u * 64u;
    return l;
}

/* Rows of the block that starts at row0 of m rows, blocks of `block` rows: the last one is short.
 * So for rows of any width n, its elements [row0 * n, (row0 + rows) * n) lie inside the m x n. */
/*@ requires 0 <= row0 < m && 1 <= block;
    assigns \nothing;
    ensures 1 <= \result <= block && row0 + \result <= m;
    ensures \forall integer n; 0 <= n ==> 0 <= row0 * n && (row0 + \result) * n <= m * n;
*/
static inline int64_t qmar__block_rows(int64_t m, int64_t row0, int64_t block)
{
    int64_t rows = m - row0 < block ? m - row0 : block;
    /*@ assert block_end:
            \forall integer n; 0 <= n ==> 0 <= row0 * n && (row0 + rows) * n <= m * n; */
    return rows;
}
#endif
