/* SPDX-License-Identifier: Apache-2.0 */
/* Run keeps its large buffers (the packed weight, the threads' buffers) on the endpoint for the
 * next Run (lib/src/scratch.h). The rules of the keeping (a kept buffer serves any request it is
 * large enough for, a larger request replaces it, a second buffer given back is freed), then Runs
 * of growing and shrinking shapes on the same endpoints, every output checked against its closed
 * form: x1 = a (every element), x2 = 1, scale = 1, so out = k * (sum over ranks of a), exact in
 * BF16 for k a power of two. The shapes reach the packed path (more rows than any row tile,
 * k past the direct path's depth) as well as the direct one. Under ASan (scripts/test) a kept
 * buffer too small for its Run would be a heap overflow, and one never freed a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/src/scratch.h"
#include "check.h"
#include "closed_form.h"

static int allocations;

static void *counting_alloc(uint64_t bytes)
{
    allocations++;
    return malloc((size_t)bytes);
}

static void test_keeping_rules(void)
{
    qmar__scratch s = {0};
    uint64_t got = 0;
    void *a = qmar__scratch_take(&s.work, 1000, counting_alloc, &got);
    CHECK(a != NULL && got == 1000 && allocations == 1);
    qmar__scratch_give(&s.work, a, got);
    void *b = qmar__scratch_take(&s.work, 600, counting_alloc, &got);
    CHECK(b == a && got == 1000 && allocations == 1); /* the kept one, no allocation */
    CHECK(s.work.ptr == NULL);                        /* taken out while in use */
    void *c = qmar__scratch_take(&s.work, 100, counting_alloc, &got);
    CHECK(c != NULL && c != b && got == 100 && allocations == 2); /* nothing kept: a new one */
    qmar__scratch_give(&s.work, b, 1000);
    qmar__scratch_give(&s.work, c, 100); /* the slot is full: c is freed */
    CHECK(s.work.ptr == b && s.work.bytes == 1000);
    void *d = qmar__scratch_take(&s.work, 5000, counting_alloc, &got);
    CHECK(d != NULL && got == 5000 && allocations == 3 && s.work.ptr == NULL); /* b freed */
    qmar__scratch_give(&s.work, d, got);
    void *e = qmar__scratch_take(NULL, 10, counting_alloc, &got); /* nothing kept at all */
    CHECK(e != NULL && allocations == 4);
    qmar__scratch_give(NULL, e, got);
    qmar__scratch_free(&s);
    CHECK(s.work.ptr == NULL && s.weight.ptr == NULL);
}

enum { RANKS = 2 };

typedef struct shape {
    int64_t m, k, n;
} shape;

/* Growing, shrinking, then growing past every kept size. */
static const shape shapes[] = {{1600, 256, 256}, {8, 256, 64},    {1600, 512, 320},
                               {1600, 256, 256}, {2, 1024, 128}, {1700, 1024, 384},
                               {64, 256, 128},   {1600, 512, 320}};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static void rank_body(closed_form_rank *c, const char *group)
{
    for (int it = 0; it < NSHAPES; it++) {
        shape s = shapes[it];
        uint64_t ws_cap = (uint64_t)(s.m * s.n) * 2 + 64; /* Align64(m n 2), case 1 */
        int8_t *x1 = malloc((size_t)(s.m * s.k)), *x2 = malloc((size_t)(s.k * s.n));
        uint16_t *scale = malloc((size_t)s.n * 2), *out = malloc((size_t)(s.m * s.n) * 2);
        void *ws = malloc(ws_cap);
        if (x1 == NULL || x2 == NULL || scale == NULL || out == NULL || ws == NULL) {
            c->failed++;
            free(x1), free(x2), free(scale), free(out), free(ws);
            break;
        }
        for (int64_t i = 0; i < s.m * s.k; i++)
            x1[i] = (int8_t)closed_form_a(it, c->rank);
        for (int64_t i = 0; i < s.k * s.n; i++)
            x2[i] = 1;
        for (int64_t j = 0; j < s.n; j++)
            scale[j] = 0x3F80; /* bf16 1.0 */
        qmar_status st = closed_form_run(group, s.m, s.k, s.n, x1, x2, scale, out, ws, ws_cap);
        if (st != QMAR_SUCCESS) {
            fprintf(stderr, "rank %d, shape %d: status %d: %s\n", (int)c->rank, it, (int)st,
                    qmar_last_error());
            c->failed++;
        } else {
            c->wrong += closed_form_wrong(out, s.m, s.n, s.k, it, c->ranks);
        }
        free(x1), free(x2), free(scale), free(out), free(ws);
    }
}

static void test_runs_of_changing_shapes(void)
{
    int64_t failed, wrong;
    closed_form_group(RANKS, rank_body, &failed, &wrong);
    CHECK_EQ_I64(failed, 0);
    CHECK_EQ_I64(wrong, 0);
}

int main(void)
{
    test_keeping_rules();
    test_runs_of_changing_shapes();
    return check_summary();
}
