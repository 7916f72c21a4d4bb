/* SPDX-License-Identifier: Apache-2.0 */
/* The table: size, time, algbw, busbw (factor 2(R-1)/R) and #wrong per row, as nccl-tests do. */
#include "difftest_report.h"

#include <string.h>

static const char *const layouts[] = {"nd", "nd-t", "nz", "nz-t"};

void report_begin(report *r, const difftest_options *o, int rank, int size)
{
    memset(r, 0, sizeof *r);
    r->o = o, r->rank = rank, r->size = size;
    if (rank != 0)
        return;
    if (o->json != NULL && (r->json = fopen(o->json, "w")) != NULL)
        fprintf(r->json, "{\"ranks\": %d, \"seed\": %llu, \"rows\": [\n", size,
                (unsigned long long)o->seed);
    printf("# qmar-difftest: R = %d, seed = %llu, k = %lld, n = %lld, %d timed + %d warm-up runs, "
           "check %s\n", size, (unsigned long long)o->seed, (long long)o->k, (long long)o->n,
           o->iters, o->warmup, o->check ? "on" : "off");
    printf("#%5s %5s %5s %5s %8s %6s %6s %3s %10s %9s %9s %7s %7s\n", "row", "case", "dtype",
           "x2", "m", "k", "n", "R", "time(us)", "algbw", "busbw", "#wrong", "inproc");
    printf("#%5s %5s %5s %5s %8s %6s %6s %3s %10s %9s %9s %7s %7s\n", "", "", "", "", "", "",
           "", "", "", "(GB/s)", "(GB/s)", "", "");
}

static void json_row(report *r, const row_result *row, double algbw, double busbw)
{
    const scenario *sc = &row->sc;
    fprintf(r->json,
            "%s  {\"row\": %lld, \"case\": %d, \"dtype\": \"%s\", \"x2\": \"%s\", \"m\": %lld, "
            "\"k\": %lld, \"n\": %lld, \"ranks\": %d, \"time_us\": %.3f, \"algbw_gbs\": %.4f, "
            "\"busbw_gbs\": %.4f, \"wrong\": %lld, \"failed_ranks\": %d, \"inproc_bad\": %d, "
            "\"seed\": %llu}",
            r->rows ? ",\n" : "", (long long)row->index, (int)sc->op_case,
            sc->y == QMAR_BF16 ? "bf16" : "fp16", layouts[sc->x2_layout],
            (long long)((sc->b > 0 ? sc->b : 1) * sc->s), (long long)sc->k, (long long)sc->n,
            (int)sc->ranks, row->max_seconds * 1e6, algbw, busbw, (long long)row->wrong,
            row->failed_ranks, row->inproc_bad, (unsigned long long)sc->seed);
}

void report_row(report *r, const row_result *row)
{
    int bad = row->wrong != 0 || row->failed_ranks != 0 || row->inproc_bad != 0;
    if (row->status != QMAR_SUCCESS) /* every failing rank says why */
        fprintf(stderr, "row %lld: %s\n", (long long)row->index, row->reason);
    if (r->rank == 0) {
        const scenario *sc = &row->sc;
        int64_t m = (sc->b > 0 ? sc->b : 1) * sc->s;
        double bytes = (double)(m * sc->n * 2);
        double algbw = row->max_seconds > 0 ? bytes / row->max_seconds / 1e9 : 0;
        double busbw = algbw * 2.0 * (r->size - 1) / r->size;
        char inproc[16] = "-";
        if (row->inproc_ran)
            snprintf(inproc, sizeof inproc, "%s", row->inproc_bad ? "DIFF" : "same");
        printf(" %5lld %5d %5s %5s %8lld %6lld %6lld %3d %10.1f %9.3f %9.3f %7lld %7s%s\n",
               (long long)row->index, (int)sc->op_case, sc->y == QMAR_BF16 ? "bf16" : "fp16",
               layouts[sc->x2_layout], (long long)m, (long long)sc->k, (long long)sc->n,
               r->size, row->max_seconds * 1e6, algbw, busbw, (long long)row->wrong, inproc,
               row->failed_ranks ? "  FAILED" : "");
        fflush(stdout);
        if (r->json)
            json_row(r, row, algbw, busbw);
    }
    r->rows++;
    r->bad_rows += bad;
    r->wrong += row->wrong;
}

int report_end(report *r)
{
    int ok = r->bad_rows == 0 && r->rows > 0;
    if (r->rank == 0) {
        printf("# rows: %lld, rows with a wrong bit or a failure: %lld, wrong elements: %lld\n",
               (long long)r->rows, (long long)r->bad_rows, (long long)r->wrong);
        printf("# reproduce a row: --seed %llu --row INDEX (same -b/-e/-f/-K/-N and filters)\n",
               (unsigned long long)r->o->seed);
        printf("%lld passed, %lld failed\n", (long long)(r->rows - r->bad_rows),
               (long long)r->bad_rows);
        if (r->json) {
            fprintf(r->json, "\n], \"summary\": {\"rows\": %lld, \"bad_rows\": %lld, "
                    "\"wrong\": %lld}}\n", (long long)r->rows, (long long)r->bad_rows,
                    (long long)r->wrong);
            fclose(r->json);
        }
    }
    return ok ? 0 : 1;
}
