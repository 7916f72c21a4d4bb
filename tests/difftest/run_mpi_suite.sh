#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One test of the `mpi` suite: qmar-difftest under mpirun.
#   run_mpi_suite.sh BIN R sm|tcp [ARGS]   the default sweep (or ARGS' sweep) over the shared-memory
#                                          or TCP transport
#   run_mpi_suite.sh BIN R stall|differ|die  a fault: every surviving rank must get 361001 in time
set -u
bin=$1 ranks=$2 mode=$3
shift 3
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# In the sanitizer build: OpenMPI itself leaks at exit (its MCA plugins are unloaded, so the
# reports cannot even be suppressed by name). Memory errors are still caught here; qmar's own
# leaks are checked by the in-process suites under LeakSanitizer and valgrind.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
# Containers often forbid cross-process memory access; plain copies work everywhere.
mpirun=(mpirun -n "$ranks" --oversubscribe --mca btl_vader_single_copy_mechanism none)
[ -n "${QMAR_OVERLAP:-}" ] && mpirun+=(-x QMAR_OVERLAP) # forwarded to every rank
[ -n "${QMAR_MPI_SHM:-}" ] && mpirun+=(-x QMAR_MPI_SHM)   # 0: the point-to-point path

case $mode in
sm | tcp)
    btl=self,vader
    [ "$mode" = tcp ] && btl=self,tcp
    seed=${QMAR_DIFFTEST_SEED:-$((RANDOM * 32768 + RANDOM))}
    echo "transport btl=$btl, seed $seed (set QMAR_DIFFTEST_SEED to reproduce)"
    exec "${mpirun[@]}" --mca btl "$btl" "$bin" --seed "$seed" --inproc "$@"
    ;;
stall | differ | die)
    extra=()
    [ "$mode" = die ] && extra=(--mca orte_enable_recovery 1)
    out=$("${mpirun[@]}" --mca btl self,vader "${extra[@]}" "$bin" --fault "$mode:2" \
        --timeout-ms 1500 --expect-status 361001 2>&1)
    echo "$out"
    want=$ranks
    [ "$mode" = die ] && want=$((ranks - 1))
    got=$(grep -c "^fault $mode: rank [0-9]* returned .*: ok" <<<"$out" || true)
    grep -q "^fault .*: FAIL" <<<"$out" && got=-1
    if [ "$got" = "$want" ]; then
        echo "1 passed, 0 failed"
        exit 0
    fi
    echo "expected $want ranks to report ok, got $got"
    echo "0 passed, 1 failed"
    exit 1
    ;;
esac
echo "unknown mode $mode"
exit 2
