/* SPDX-License-Identifier: Apache-2.0 */
/* qmar-difftest's report: the nccl-tests-style table on rank 0, a summary, optional JSON. */
#ifndef QMAR_DIFFTEST_REPORT_H
#define QMAR_DIFFTEST_REPORT_H
#include <stdio.h>

#include "difftest.h"

typedef struct row_result {
    int64_t index;
    scenario sc;
    double seconds, max_seconds; /* this rank's mean Run time; the slowest rank's */
    int64_t wrong;               /* elements differing from the model, summed over ranks */
    int failed_ranks;            /* ranks whose Run did not succeed */
    qmar_status status;          /* this rank's */
    int inproc_ran, inproc_bad;  /* --inproc on rank 0: ranks wrong or failed in-process */
    char reason[256];
} row_result;

typedef struct report {
    const difftest_options *o;
    int rank, size;
    FILE *json;
    int64_t rows, bad_rows, wrong;
} report;

void report_begin(report *r, const difftest_options *o, int rank, int size);
void report_row(report *r, const row_result *row);
/* Prints the summary; returns the exit status (0: every row ran and matched). */
int report_end(report *r);
#endif
