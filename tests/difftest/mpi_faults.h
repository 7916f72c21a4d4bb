/* SPDX-License-Identifier: Apache-2.0 */
/* qmar-mpi-faults: the MPI backend under hostile conditions (run under mpirun -n R). Modes:
 *   refuse          qmar_comm_init_mpi refuses what it cannot serve, with a reason
 *   late            a rank sleeps past its peers' timeout before a step: every rank fails
 *   local           a rank fails locally (short/NULL workspace, revoke): its peers fail promptly
 *   sweep           the `faults` suite: every allocation and communication step failed on purpose
 * Every rank checks its own results; rank 0 prints the group's "N passed, N failed". */
#ifndef QMAR_MPI_FAULTS_H
#define QMAR_MPI_FAULTS_H
#include <mpi.h>
#include <stdint.h>

#include "operator_harness.h"
#include "qmar/qmar_mpi.h"

typedef struct mf_ctx {
    int rank, size;
    int64_t timeout_ms;  /* the short timeout of the fault runs */
    int64_t bound_ms;    /* a prompt failure must reach every rank within this */
} mf_ctx;

/* The program's own duplicate of MPI_COMM_WORLD for its checks and barriers; the groups under
 * test are made on MPI_COMM_WORLD itself, so the test's collectives never interleave with
 * qmar_comm_init_mpi's MPI_Comm_idup on one communicator (Open MPI issue #2025: they can
 * deadlock). */
extern MPI_Comm mf_world;

double mf_now_ms(void);
void mf_sleep_ms(int64_t ms);

/* A small scenario of case op_case on R ranks (data from seed). */
scenario mf_scenario(int32_t ranks, int32_t op_case, uint64_t seed);

/* Creates a group on MPI_COMM_WORLD with the given timeout; NULL (and a message) on failure. */
qmar_comm *mf_group(const mf_ctx *c, int64_t timeout_ms);

/* Runs sc on a fresh group and compares with the model: whether every rank is bit-exact. The
 * check that a failure left nothing behind (the next group works). */
int mf_clean_run(const mf_ctx *c, int32_t op_case);

/* Whether cond holds on every rank (collective over MPI_COMM_WORLD). */
int mf_all(int cond);

/* Counts one check (check.h) and prints what failed on this rank. */
void mf_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int mf_refuse(const mf_ctx *c);
int mf_late(const mf_ctx *c);
int mf_local(const mf_ctx *c);
int mf_sweep(const mf_ctx *c);
#endif
