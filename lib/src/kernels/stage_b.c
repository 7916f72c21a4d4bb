// SPDX-License-Identifier: Apache-2.0
/* A block of x2, read where it lies in any stored layout, into a kernel's packed-B layout: the
 * staged paths of kernels without their own vector staging (avx2.c, amx.c) rearrange x2 one
 * L1/L2-sized slice at a time with it, so that a layout Run must not copy (FRACTAL_NZ) is never
 * packed whole. pack.c's rectangle packer does the work, on the rectangles of the stored layout
 * that meet the block. */
#include "kernel.h"
#include "validate.h"

static int64_t align_up(int64_t v, int64_t a)
{
    return (v + a - 1) / a * a;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

void qmar__stage_b(const qmar__bfmt *f, const qmar__b_src *b, int64_t t0, int64_t t1, int64_t j,
                   int64_t j1, uint8_t *dst)
{
    int64_t kk = t1 - t0, w = j1 - j, k = b->k, n = b->n;
    const int8_t *x2 = b->x2;
    switch (b->layout) {
    case QMAR__X2_ND: {
        qmar__b_rect r = {x2 + t0 * n + j, 0, kk, 0, w, n, 1};
        qmar__pack_b_rect(f, kk, w, &r, 0, w, dst);
        break;
    }
    case QMAR__X2_ND_T: {
        qmar__b_rect r = {x2 + j * k + t0, 0, kk, 0, w, 1, k};
        qmar__pack_b_rect(f, kk, w, &r, 0, w, dst);
        break;
    }
    case QMAR__X2_NZ: /* strips of 32 columns, each Align(k, 16) x 32 row-major */
        for (int64_t s = j / 32; s * 32 < j1; s++) {
            int64_t ja = s * 32 > j ? s * 32 : j, jb = min64(s * 32 + 32, j1);
            qmar__b_rect r = {x2 + s * align_up(k, 16) * 32 + t0 * 32 + (ja - s * 32), 0, kk,
                              ja - j, jb - j, 32, 1};
            qmar__pack_b_rect(f, kk, w, &r, 0, w, dst);
        }
        break;
    default: /* NZ_T: strips of 32 k values, each Align(n, 16) x 32 row-major */
        for (int64_t s = t0 / 32; s * 32 < t1; s++) {
            int64_t ta = s * 32, tb = min64(s * 32 + 32, t1);
            qmar__b_rect r = {x2 + s * align_up(n, 16) * 32 + j * 32, ta - t0, tb - t0, 0, w, 1,
                              32};
            qmar__pack_b_rect(f, kk, w, &r, 0, w, dst);
        }
        break;
    }
    qmar__pack_b_pad(f, kk, w, 0, align_up(w, f->nr), dst);
}
