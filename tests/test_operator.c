/* SPDX-License-Identifier: Apache-2.0 */
/* Run == model, bit for bit, on every rank: R in {1,2,4,8} x every case, dtype, x2 layout, x1 rank,
 * bias/x3 (also aliasing the output), dequant shape, on random and adversarial data; plus a
 * stalled rank and disagreeing ranks, which must fail on every rank within the timeout. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "operator_harness.h"

static int64_t runs;

static void check_scenario(const scenario *sc)
{
    harness_result res;
    char what[256];
    harness_describe(sc, what, sizeof what);
    CHECK(harness_run(sc, -1, -1, 0, &res) == 0);
    int bad = 0;
    for (int32_t r = 0; r < sc->ranks; r++)
        bad |= res.status[r] != QMAR_SUCCESS || res.wrong[r] != 0;
    CHECK(!bad);
    if (bad)
        fprintf(stderr, "  %s: status %d, %lld wrong on rank 0; %s\n", what, (int)res.status[0],
                (long long)res.wrong[0], res.reason);
    runs++;
}

/* Every structural combination once, with shapes and data drawn from the seed. */
static void sweep(uint64_t seed)
{
    static const int32_t ranks[] = {1, 2, 4, 8};
    uint64_t st = seed;
    for (int ri = 0; ri < 4; ri++)
        for (int c = 1; c <= 3; c++)
            for (int yi = 0; yi < 2; yi++)
                for (int l = 0; l < 4; l++)
                    for (int x3 = 0; x3 < 3; x3++) {
                        uint64_t r = harness_next(&st);
                        scenario sc = {
                            .ranks = ranks[ri], .op_case = c, .case3_pertoken = (int)(r & 1),
                            .y = yi ? QMAR_BF16 : QMAR_FLOAT16,
                            .b = (r >> 1) % 3 == 0 ? (int64_t)((r >> 8) % 3 + 1) : 0,
                            .s = (int64_t)((r >> 12) % 19 + 1),
                            .k = (int64_t)((r >> 20) % 70 + 1),
                            .n = (int64_t)((r >> 28) % 45 + 1),
                            .x2_layout = (model_x2_layout)l, .bias = (int)((r >> 36) & 1),
                            .x3 = x3, .scale_shape = (int)((r >> 37) % 3),
                            .comm_scale_row = (int)((r >> 40) & 1), .seed = r,
                            .data_mode = (int)((r >> 41) % 3),
                        };
                        check_scenario(&sc);
                    }
}

/* Sizes at the NZ fractal edges (16 rows, 32 columns) and one longer k. */
static void edges(void)
{
    static const int64_t dims[][3] = {{1, 1, 1}, {16, 32, 16}, {17, 33, 31}, {15, 31, 33},
                                      {33, 64, 65}, {5, 1000, 7}};
    for (unsigned i = 0; i < sizeof dims / sizeof dims[0]; i++)
        for (int l = 0; l < 4; l++)
            for (int c = 1; c <= 3; c++) {
                scenario sc = {.ranks = 2, .op_case = c, .y = c == 2 ? QMAR_BF16 : QMAR_FLOAT16,
                               .s = dims[i][0], .k = dims[i][1], .n = dims[i][2],
                               .x2_layout = (model_x2_layout)l, .bias = 1, .x3 = X3_SEPARATE,
                               .scale_shape = SCALE_N, .seed = 77 + i, .data_mode = 1};
                check_scenario(&sc);
            }
}

/* Runs big enough (m*k*n >= 8M) for Run to compute row blocks on a worker thread while it
 * communicates finished ones: the overlap path, for every case and both x3 forms. */
static void overlapped(void)
{
    setenv("QMAR_OVERLAP", "1", 1); /* whatever this machine's cores, take the threaded path */
    for (int c = 1; c <= 3; c++)
        for (int x3 = X3_SEPARATE; x3 <= X3_ALIASES_OUTPUT; x3++) {
            scenario sc = {.ranks = c == 2 ? 4 : 2, .op_case = c, .case3_pertoken = 1,
                           .y = c == 1 ? QMAR_FLOAT16 : QMAR_BF16, .b = 2, .s = 150, .k = 256,
                           .n = 136, .x2_layout = (model_x2_layout)(c + x3) % 4, .bias = 1,
                           .x3 = x3, .scale_shape = SCALE_N, .seed = 900 + c, .data_mode = 0};
            check_scenario(&sc);
        }
    unsetenv("QMAR_OVERLAP");
}

static void faults(void)
{
    for (int c = 1; c <= 3; c++) {
        scenario sc = {.ranks = 4, .op_case = c, .y = QMAR_BF16, .s = 8, .k = 16, .n = 8,
                       .x2_layout = MODEL_X2_ND, .scale_shape = SCALE_N, .seed = 5};
        harness_result res;
        /* A rank that never arrives: every other rank gets RUNTIME after the 200 ms timeout. */
        CHECK(harness_run(&sc, 2, -1, 200, &res) == 0);
        for (int32_t r = 0; r < 4; r++)
            if (r != 2)
                CHECK_EQ_I64(res.status[r], QMAR_ERR_RUNTIME);
        /* A rank whose shapes (cases 1-2) or comm scales (case 3) differ: all ranks fail. */
        CHECK(harness_run(&sc, -1, 3, 5000, &res) == 0);
        for (int32_t r = 0; r < 4; r++)
            CHECK_EQ_I64(res.status[r], QMAR_ERR_RUNTIME);
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 20261124;
    sweep(seed);
    edges();
    overlapped();
    faults();
    printf("scenarios run: %lld (seed %llu)\n", (long long)runs, (unsigned long long)seed);
    return check_summary();
}
