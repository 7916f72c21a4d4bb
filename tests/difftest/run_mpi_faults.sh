#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One test of qmar-mpi-faults under mpirun over shared memory (vader):
#   run_mpi_faults.sh BIN R MODE [timeout_ms [bound_ms]]
# The program checks every rank and exits non-zero on any failure; rank 0 prints the summary.
set -u
bin=$1 ranks=$2
shift 2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# As in run_mpi_suite.sh: OpenMPI itself leaks at exit; memory errors are still caught.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# How many injection points each process reached, at its exit.
export QMAR_FAULT_REPORT=1
forward=(-x QMAR_FAULT_REPORT)
[ -n "${QMAR_MPI_SHM:-}" ] && forward+=(-x QMAR_MPI_SHM) # 0: the point-to-point path
exec mpirun -n "$ranks" --oversubscribe --mca btl self,vader \
    --mca btl_vader_single_copy_mechanism none "${forward[@]}" "$bin" "$@"
