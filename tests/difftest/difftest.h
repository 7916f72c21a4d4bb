/* SPDX-License-Identifier: Apache-2.0 */
/* The multi-rank differential tester (qmar-difftest): options and configuration rows. */
#ifndef QMAR_DIFFTEST_H
#define QMAR_DIFFTEST_H
#include <stdint.h>

#include "operator_harness.h"

enum fault_kind { FAULT_NONE, FAULT_STALL, FAULT_DIE, FAULT_DIFFER };

typedef struct difftest_options {
    int64_t m_begin, m_end, m_factor; /* -b -e -f: sweep of m */
    int64_t k, n;                     /* -K -N */
    int32_t iters, warmup;            /* -n -w */
    int32_t check;                    /* -c */
    uint64_t seed;                    /* --seed */
    int64_t only_row;                 /* --row: run this row only (-1: all) */
    uint32_t cases, dtypes, layouts;  /* bit sets: --cases 1,2,3 --dtypes fp16,bf16 --layouts ... */
    const char *json;                 /* --json FILE */
    int32_t inproc;                   /* --inproc: also run the in-process backend and compare */
    int64_t timeout_ms;               /* --timeout-ms */
    int32_t fault, fault_rank;        /* --fault stall:R | die:R | differ:R */
    int64_t expect_status;            /* --expect-status: what every surviving rank must return */
} difftest_options;

/* Parses argv; prints usage and returns -1 on a bad option, 1 for --help, 0 otherwise. */
int difftest_parse(int argc, char **argv, difftest_options *o);

/* The scenario of row `index` of the sweep (index counts rows in sweep order), or 0 when the index
 * is past the end. Rows vary case, dtype, layout, then m; the rest (bias, x3, scale shapes,
 * 2-D/3-D, data mode) rotate with the index, and the seed mixes --seed with the index. */
int difftest_row(const difftest_options *o, int32_t ranks, int64_t index, scenario *sc);
#endif
