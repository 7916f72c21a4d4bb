/* SPDX-License-Identifier: Apache-2.0 */
/* The main job: the scenario of Ascend's sample program (8 ranks, x1 32x64, x2 64x128, bias, x3,
 * FLOAT dequant + pertoken, FP16 output, both comm scales) plus one run of each other case, each
 * on the in-process communicator and checked bit for bit against the integer-exact model. */
#include <stdio.h>
#include <string.h>

#include "operator_harness.h"

typedef struct demo_row {
    const char *what;
    scenario sc;
} demo_row;

static const demo_row rows[] = {
    {"sample: int8 comm + pertoken",
     {.ranks = 8, .op_case = 3, .case3_pertoken = 1, .y = QMAR_FLOAT16, .s = 32, .k = 64, .n = 128,
      .x2_layout = MODEL_X2_ND, .bias = 1, .x3 = X3_SEPARATE, .scale_shape = SCALE_N, .seed = 1}},
    {"sample, weight in FRACTAL_NZ",
     {.ranks = 8, .op_case = 3, .case3_pertoken = 1, .y = QMAR_FLOAT16, .s = 32, .k = 64, .n = 128,
      .x2_layout = MODEL_X2_NZ, .bias = 1, .x3 = X3_SEPARATE, .scale_shape = SCALE_N, .seed = 2}},
    {"dequant (TransQuantParamV2)",
     {.ranks = 8, .op_case = 1, .y = QMAR_FLOAT16, .s = 32, .k = 64, .n = 128,
      .x2_layout = MODEL_X2_ND, .bias = 1, .x3 = X3_SEPARATE, .scale_shape = SCALE_N, .seed = 3}},
    {"dequant bf16, x2 transposed",
     {.ranks = 4, .op_case = 1, .y = QMAR_BF16, .b = 2, .s = 16, .k = 256, .n = 96,
      .x2_layout = MODEL_X2_ND_T, .bias = 1, .x3 = X3_ALIASES_OUTPUT, .scale_shape = SCALE_N,
      .seed = 4}},
    {"dequant + pertoken",
     {.ranks = 2, .op_case = 2, .y = QMAR_BF16, .s = 64, .k = 128, .n = 64,
      .x2_layout = MODEL_X2_NZ_T, .bias = 0, .x3 = X3_NONE, .scale_shape = SCALE_ROW_N,
      .seed = 5}},
    {"int8 comm, bf16, 1 rank",
     {.ranks = 1, .op_case = 3, .y = QMAR_BF16, .s = 32, .k = 64, .n = 128,
      .x2_layout = MODEL_X2_ND, .bias = 1, .x3 = X3_SEPARATE, .scale_shape = SCALE_ONE,
      .seed = 6}},
};

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: qmar-demo [--help]\n"
            "\n"
            "Runs qmar's operator (int8 matmul + dequant + all-reduce) on the in-process\n"
            "communicator, ranks as threads: the scenario of Ascend's sample program (8 ranks,\n"
            "x1 32x64, x2 64x128, bias, x3, FLOAT dequant + pertoken, FP16 output, int8\n"
            "communication), the same with the weight in FRACTAL_NZ, and one run of each other\n"
            "case. Prints, per run, the case, ranks, shape, output dtype, time and whether every\n"
            "rank's output equals the integer-exact model bit for bit. Exits 0 if all do.\n"
            "\n"
            "Environment: QMAR_ISA (scalar, avx2, avx512, amx: the GEMM kernel),\n"
            "QMAR_NUM_THREADS (threads per rank), QMAR_OVERLAP (0/1), QMAR_COMM_TIMEOUT_MS.\n"
            "The code to copy into a program of your own is in examples/ (README \"Using it\n"
            "from C\"); this demo is built on the test harness.\n");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        if (!help)
            fprintf(stderr, "qmar-demo: unknown argument '%s'\n\n", argv[1]);
        usage(help ? stdout : stderr);
        return help && argc == 2 ? 0 : 2;
    }
    int all_exact = 1;
    unsigned runs = 0, failures = 0;
    printf("qmar demo: each run on the in-process communicator (ranks = threads), every rank's "
           "output compared with the integer-exact model\n\n");
    printf("%-30s %-5s %-5s %-15s %-6s %10s  %s\n", "run", "case", "ranks", "m x k x n", "out",
           "time (ms)", "bit-exact");
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const scenario *sc = &rows[i].sc;
        harness_result res;
        int ok = harness_run(sc, -1, -1, 0, &res) == 0;
        int64_t wrong = 0;
        for (int32_t r = 0; ok && r < sc->ranks; r++) {
            ok = res.status[r] == QMAR_SUCCESS;
            wrong += res.wrong[r];
        }
        int exact = ok && wrong == 0;
        all_exact &= exact;
        runs++;
        failures += !exact;
        char shape[32];
        snprintf(shape, sizeof shape, "%lldx%lldx%lld",
                 (long long)((sc->b > 0 ? sc->b : 1) * sc->s), (long long)sc->k, (long long)sc->n);
        printf("%-30s %-5d %-5d %-15s %-6s %10.3f  %s\n", rows[i].what, (int)sc->op_case,
               (int)sc->ranks, shape, sc->y == QMAR_BF16 ? "bf16" : "fp16", res.seconds * 1e3,
               exact ? "yes" : "NO");
        if (!ok)
            printf("    failed: %s\n", res.reason);
    }
    printf("\n%s\n", all_exact ? "all runs bit-exact on every rank"
                               : "MISMATCH: some run differs from the model");
    printf("%u passed, %u failed\n", runs - failures, failures);
    return all_exact ? 0 : 1;
}
