/* SPDX-License-Identifier: Apache-2.0 */
/* Back-to-back Runs on one in-process group whose every output has a closed form: x1 = a (every
 * element, a of the call and the rank), x2 = 1, scale = 1 (BF16), so e = k * a exactly and
 * out = k * (sum over ranks of a), exact in BF16 for the small a and the k the tests use. Shared
 * by test_back_to_back and test_kept_buffers. */
#ifndef QMAR_TESTS_CLOSED_FORM_H
#define QMAR_TESTS_CLOSED_FORM_H
#include <stdint.h>

#include "qmar/qmar.h"

/* One rank's thread: body runs the rank's calls and counts what failed or came out wrong. */
typedef struct closed_form_rank {
    qmar_comm *comm;
    int32_t rank, ranks;
    int64_t wrong, failed;
    void (*body)(struct closed_form_rank *self, const char *group);
} closed_form_rank;

/* a of call `it` on rank r, in [-3, 3]. */
int closed_form_a(int it, int32_t r);

/* Plans and runs case 1 (BF16 out, BF16 scale) at (m, k, n) on `group`, the workspace at ws
 * (QMAR_ERR_INNER without running when it needs more than ws_cap bytes). */
qmar_status closed_form_run(const char *group, int64_t m, int64_t k, int64_t n, int8_t *x1,
                            int8_t *x2, uint16_t *scale, uint16_t *out, void *ws,
                            uint64_t ws_cap);

/* How many of call `it`'s m x n outputs differ from k * (sum over `ranks` ranks of a). */
int64_t closed_form_wrong(const uint16_t *out, int64_t m, int64_t n, int64_t k, int it,
                          int32_t ranks);

/* Runs body on each rank's thread of a new in-process group of `ranks` (at most 64), then
 * destroys it; *failed and *wrong sum the ranks' counts (a group or thread that could not be made
 * counts as failed). */
void closed_form_group(int32_t ranks, void (*body)(closed_form_rank *, const char *),
                       int64_t *failed, int64_t *wrong);
#endif
