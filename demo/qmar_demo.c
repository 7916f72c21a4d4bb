/* SPDX-License-Identifier: Apache-2.0 */
/* The main job: the scenario of Ascend's sample program (8 ranks, x1 32x64, x2 64x128, bias, x3,
 * FLOAT dequant + pertoken, FP16 output, both comm scales) plus one run of each other case, each
 * on the in-process communicator and checked bit for bit against the integer-exact model. */
#include <stdio.h>

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

int main(void)
{
    int all_exact = 1;
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
    return all_exact ? 0 : 1;
}
