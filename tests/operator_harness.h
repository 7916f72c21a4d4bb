/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the operator tests (and later the fuzzers and the demo): builds every rank's inputs of
 * one scenario, runs the library with one thread per rank on the in-process communicator, runs
 * the integer-exact model on the same inputs, and compares every rank's output bit for bit. */
#ifndef QMAR_TESTS_OPERATOR_HARNESS_H
#define QMAR_TESTS_OPERATOR_HARNESS_H
#include <stdint.h>

#include "model.h"
#include "qmar/qmar.h"

enum harness_x3 { X3_NONE, X3_SEPARATE, X3_ALIASES_OUTPUT };
enum harness_scale_shape { SCALE_ONE, SCALE_N, SCALE_ROW_N }; /* (1), (n), (1, n) */

/* What one run looks like; the data come from `seed`. */
typedef struct scenario {
    int32_t ranks;
    int32_t op_case;   /* 1, 2 or 3 */
    int32_t case3_pertoken; /* case 3 with pertoken too */
    qmar_dtype y;
    int64_t b, s, k, n; /* x1 is (b, s, k) when b > 0, else (s, k); m = b*s or s */
    model_x2_layout x2_layout;
    int32_t bias;
    int32_t x3;         /* enum harness_x3 */
    int32_t scale_shape; /* enum harness_scale_shape */
    int32_t comm_scale_row; /* comm scales as (1, n) instead of (n) */
    uint64_t seed;
    int32_t data_mode;  /* 0 random, 1 extremes (int8 +-127/-128), 2 special floats heavy,
                           3 raw: every value is arbitrary bits (any NaN, inf, denormal, int) */
    /* Optional (fuzzers): data values are drawn from these bytes first, then from `seed` (the
     * comm scales from the first of ranks + 1 equal slices, rank r from slice r + 1). With
     * payload NULL the data depend on `seed` alone, exactly as before payloads existed. */
    const uint8_t *payload;
    uint64_t payload_len;
} scenario;

typedef struct harness_result {
    qmar_status status[QMAR_COMM_MAX_RANKS];
    int64_t wrong[QMAR_COMM_MAX_RANKS]; /* elements that differ from the model (NaN == NaN) */
    double seconds;                      /* wall time of the slowest rank's Run */
    char reason[256];                    /* first failing rank's qmar_last_error() */
} harness_result;

/* Runs the scenario. Returns 0 when it could be set up (the result says how it went). Faults:
 * stall_rank >= 0 makes that rank never call Run; differ_rank >= 0 gives that rank different
 * comm scales (case 3) or a different n (others). timeout_ms > 0 overrides the comm timeout. */
int harness_run(const scenario *sc, int32_t stall_rank, int32_t differ_rank, int64_t timeout_ms,
                harness_result *res);

/* The same in pieces, for drivers that run ranks elsewhere (e.g. one MPI process per rank). */
typedef struct harness_world harness_world;
/* Every rank's inputs and descriptors; rank r's data depend only on (seed, r). NULL if out of
 * memory. differ_rank as for harness_run. */
harness_world *harness_build(const scenario *sc, int32_t differ_rank);
/* Plans rank r's call on `group` (GetWorkspaceSize). */
qmar_status harness_plan_rank(harness_world *w, int32_t r, const char *group, uint64_t *ws_size,
                              qmar_executor **ex);
/* Plans and runs rank r on `group`; returns the status of whichever step failed. */
qmar_status harness_run_rank(harness_world *w, int32_t r, const char *group, double *seconds);
/* The model's output for every rank (after the library ran: x3 may alias the output). */
void harness_model(harness_world *w);
/* Elements of rank r's library output that differ from the model (NaN == NaN). */
int64_t harness_wrong(const harness_world *w, int32_t r);
const uint16_t *harness_output(const harness_world *w, int32_t r);
/* Puts rank r's output back to its state before Run (it holds x3 when x3 aliases it). */
void harness_reset_output(harness_world *w, int32_t r);
int64_t harness_m(const harness_world *w);
/* Each output sits between two guard zones of HARNESS_GUARD bytes; 1 if both are untouched. */
#define HARNESS_GUARD 64
int harness_guards_intact(const harness_world *w, int32_t r);
void harness_free(harness_world *w);

/* One line describing the scenario, for failure messages. */
void harness_describe(const scenario *sc, char *buf, int len);

/* Deterministic 64-bit generator (splitmix64). */
uint64_t harness_next(uint64_t *state);
#endif
