/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the int8 GEMM kernels and their vectorised epilogues. Every ISA variant gives the same
 * int32 accumulators and the same output bits as the portable one (tests/test_kernels.c checks
 * it); which one runs is chosen at run time (dispatch.c, QMAR_ISA).
 *
 * A kernel works on its own layouts: x2 is packed once per Run into the kernel's packed-B layout
 * (qmar__bfmt, filled by pack.c from any stored layout), each row tile of x1 is packed into the
 * kernel's packed-A layout (pack_a), and gemm writes int32 sums of whole mr x nr blocks into a
 * caller's buffer, from which the epilogue makes Y bits. compute.c drives them.
 *
 * A kernel may also have a direct path (gemm_direct): x2 is read where it lies, in any stored
 * layout, rearranged in registers and an L1-sized buffer, and no packed B exists. It serves few
 * rows (LLM decode shapes: packing would cost more than a GEMM in which each byte of x2 meets m
 * rows) and, for any m, the layouts a user prepared once (FRACTAL_NZ), which Run never copies. */
#ifndef QMAR_SRC_KERNELS_KERNEL_H
#define QMAR_SRC_KERNELS_KERNEL_H
#include <stdint.h>

#include "epilogue.h"

/* The packed-B layout: column panels of nr columns (n padded up to a multiple of nr), each panel
 * kp = Align(k, kalign) deep, k grouped by `group` (the VNNI order: `group` consecutive k values of
 * one column are adjacent). Element (t, j) of the k x n matrix x2 lives at byte
 *   (j / nr) * kp * nr + (t / group) * nr * group + (j % nr) * group + t % group
 * and holds x2[t][j] XOR xor_mask (0x80 turns int8 into the uint8 value + 128 that VPDPBUSD
 * wants). Padding holds the encoding of 0; no output ever depends on it. */
typedef struct qmar__bfmt {
    int32_t nr;
    int32_t group;
    int32_t kalign;
    uint8_t xor_mask;
} qmar__bfmt;

/* A rectangle [t0, t1) x [j0, j1) of x2 (the k x n matrix) as stored: element (t, j) is at
 * src[(t - t0) * st + (j - j0) * sj]. Every stored layout is a sequence of such rectangles. */
typedef struct qmar__b_rect {
    const int8_t *src;
    int64_t t0, t1, j0, j1;
    int64_t st, sj;
} qmar__b_rect;

/* x2 as the user stored it: the k x n matrix in layout enum qmar__x2_layout (validate.h;
 * numerics.md §7): 0 ND (row-major), 1 ND transposed (n x k row-major), 2 FRACTAL_NZ,
 * 3 FRACTAL_NZ of the transposed (n x k) matrix. */
typedef struct qmar__b_src {
    const int8_t *x2;
    int32_t layout;
    int64_t k, n;
} qmar__b_src;

typedef struct qmar__kernel {
    const char *name; /* "scalar", "avx2", "avx512", "amx" (QMAR_ISA values) */
    qmar__bfmt bfmt;
    int32_t mr;       /* rows per micro-panel: c has room for round_up(rows, mr) rows */
    int32_t mc, nc;   /* the driver's row tile and column block (nc: a multiple of bfmt.nr) */
    /* Optional: sets the kernel's blocking from the CPU's facts (cpu.h), once, before any use
     * (dispatch.c); fills mc and nc of *self, a copy of the kernel the driver then uses. */
    void (*tune)(struct qmar__kernel *self);
    int32_t kc;          /* k block of the packed path, in k values (tune sets it; 0: none) */
    int32_t stage_bytes; /* the direct path's staging buffer (tune sets it; 0: none) */
    int32_t full_width;  /* 1 if tune timed its widest multiply-adds running at full width
                          * (avx512_width.h), else 0 (split in halves, or not timed) */
    /* Bytes of packed A for `rows` (<= mc) rows of depth k. */
    uint64_t (*a_bytes)(int64_t rows, int64_t k);
    /* Packs rows x k of a (row stride lda) into dst (a_bytes(rows, k) bytes, 64-byte aligned). */
    void (*pack_a)(const int8_t *a, int64_t lda, int64_t rows, int64_t k, void *dst);
    /* c[r*ldc + (j - j0)] = sum over t < k of x1[r][t] * x2[t][j], exact in int32, for
     * r < rows and j0 <= j < j0 + round_up(j1 - j0, nr) (padding columns get some value, the
     * padding rows up to round_up(rows, mr), which c has room for, some value or none).
     * pa: packed A of `rows` rows; pb: packed B of (k, n); j0 a multiple of nr; c 64-byte
     * aligned, ldc a multiple of 16. */
    void (*gemm)(const void *pa, int64_t rows, const void *pb, int64_t k, int64_t n, int64_t j0,
                 int64_t j1, int32_t *c, int64_t ldc);
    /* Optional (NULL if the kernel has none): the direct path, x2 read where it lies (b), with no
     * packed B: c[r*ldc + (j - j0)] = sum over t < k of a[r*lda + t] * x2[t][j], exact in int32,
     * for r < rows and j0 <= j < j1 (columns up to j0 + round_up(j1 - j0, nr) get some value);
     * j0 a multiple of nr; c 64-byte aligned, ldc a multiple of 16; scratch: direct_scratch(rows)
     * bytes, 64-byte aligned (the driver's, not the stack: a library must not assume its
     * callers' thread stacks are big). */
    void (*gemm_direct)(const int8_t *a, int64_t lda, int64_t rows, const qmar__b_src *b,
                        int64_t j0, int64_t j1, int32_t *c, int64_t ldc, void *scratch);
    uint64_t (*direct_scratch)(int64_t rows);
    /* Optional: the depth of the direct path's k blocks for x2 in `layout` and `rows` rows. Up to
     * it the direct path multiplies in one block (no round trip of the int32 block, no packed
     * rows), so the driver takes it at any m. */
    int64_t (*direct_depth)(int32_t layout, int64_t rows);
    /* Optional (NULL: pack.c's qmar__pack_b_rect does it): columns [jlo, jhi) of x2 as stored
     * (b; jlo a multiple of bfmt.nr, jhi of it or n) into dst as the packed B of that k x
     * (jhi - jlo) matrix, padding included (which is also where they sit in the packed B of all
     * of x2). */
    void (*pack_b)(const qmar__b_src *b, int64_t jlo, int64_t jhi, uint8_t *dst);
    /* Optional (NULL if none): the staged path, packed A (pack_a) times x2 read where it lies
     * (b): the same contract as gemm, with x2 rearranged slice by slice into scratch
     * (staged_scratch(k) bytes, 64-byte aligned) instead of read from a packed B. */
    void (*gemm_staged)(const void *pa, int64_t rows, const qmar__b_src *b, int64_t j0,
                        int64_t j1, int32_t *c, int64_t ldc, void *scratch);
    uint64_t (*staged_scratch)(int64_t k);
    /* The driver takes the direct path for m up to direct_rows[layout] (enum qmar__x2_layout,
     * validate.h), and for any m when bit (1 << layout) of inplace_layouts is set: those layouts
     * are never packed. */
    int32_t direct_rows[4];
    uint32_t inplace_layouts;
    /* numerics.md §1-§3 for rows row0 .. row0+rows-1 (global row numbers, for pertoken and x3)
     * and columns [j0, j1): e[r*lde + (j - j0)] from acc[r*ldacc + (j - j0)]. */
    void (*epilogue)(const qmar__epilogue *p, const int32_t *acc, int64_t ldacc, int64_t row0,
                     int64_t rows, int64_t j0, int64_t j1, uint16_t *e, int64_t lde);
} qmar__kernel;

extern const qmar__kernel qmar__kernel_portable;
#if QMAR_HAVE_AVX2
extern const qmar__kernel qmar__kernel_avx2;
#endif
#if QMAR_HAVE_AVX512
extern const qmar__kernel qmar__kernel_avx512;
#endif
#if QMAR_HAVE_AMX
extern const qmar__kernel qmar__kernel_amx;
#endif

/* ---- packed B (pack.c) ---- */
uint64_t qmar__packed_b_bytes(const qmar__bfmt *f, int64_t k, int64_t n);
/* Writes the elements of one rectangle with columns in [jlo, jhi) (a thread's share) into the
 * packed buffer of (k, n); jlo and jhi are multiples of f->nr or n. */
void qmar__pack_b_rect(const qmar__bfmt *f, int64_t k, int64_t n, const qmar__b_rect *r,
                       int64_t jlo, int64_t jhi, uint8_t *packed);
/* Writes the padding (k .. kp, n .. round_up(n, nr)) of columns [jlo, jhi). */
void qmar__pack_b_pad(const qmar__bfmt *f, int64_t k, int64_t n, int64_t jlo, int64_t jhi,
                      uint8_t *packed);

/* ---- stage_b.c ---- */
/* Rows [t0, t1) x columns [j, j1) of x2 as stored (b) into dst as the packed B (format f) of that
 * (t1 - t0) x (j1 - j) matrix, padding included. t0 a multiple of 32 and of f->group. */
void qmar__stage_b(const qmar__bfmt *f, const qmar__b_src *b, int64_t t0, int64_t t1, int64_t j,
                   int64_t j1, uint8_t *dst);

/* ---- dispatch.c ---- */
enum qmar__isa { QMAR__ISA_SCALAR, QMAR__ISA_AVX2, QMAR__ISA_AVX512, QMAR__ISA_AMX, QMAR__NISA };

/* The kernel of an ISA if this build has it and this CPU and OS run it (for AMX: once the tile
 * data permission was granted), else NULL. */
const qmar__kernel *qmar__kernel_for(int32_t isa);
/* The kernel for this process, chosen once: QMAR_ISA if it names a supported ISA, else the best
 * one supported (an unknown or unsupported QMAR_ISA is reported once on stderr). */
const qmar__kernel *qmar__kernel_select(void);
/* Threads per rank for the GEMM: QMAR_NUM_THREADS (1 .. 64) if set (read once), else the CPUs of
 * this process's affinity mask divided by the ranks_sharing them (cpu.h), at least 1. */
int32_t qmar__num_threads(int32_t ranks_sharing);
#endif
