#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The exported ABI of libqmar.so (and libqmar-mpi.so when built) against the committed baselines
# lib/abi/<lib>.abi (libabigail's abidw/abidiff: every exported function, its parameter and
# return types; lib/abi/private.suppr leaves out the QMAR_PRIVATE internals and the insides of
# the opaque handles). Any difference fails: an incompatible one is an ABI break (README
# "Versions and ABI": it needs a soname bump), a compatible one (an added function) needs the
# baseline refreshed so that it is reviewed with the change.
#   tests/check_abi.sh BUILD_DIR             check (suite unit: abi_unchanged)
#   tests/check_abi.sh --update BUILD_DIR    refresh the baselines, for an intended change only;
#                                            then review and commit `git diff lib/abi/`
# BUILD_DIR must be built with debug info (buildtype debugoptimized, the default, or debug).
set -uo pipefail
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
build=$1
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
suppr="$src/lib/abi/private.suppr"
passed=0 failed=0
for name in libqmar libqmar-mpi; do
    lib="$build/lib/$name.so"
    baseline="$src/lib/abi/$name.abi"
    if [ ! -e "$lib" ]; then
        [ "$name" = libqmar ] && { echo "no $lib"; failed=$((failed + 1)); }
        continue # libqmar-mpi: not built without MPI
    fi
    if [ "$update" = 1 ]; then
        abidw --suppressions "$suppr" --no-corpus-path --no-comp-dir-path --short-locs "$lib" \
            >"$baseline" || exit 1
        echo "wrote $baseline"
        continue
    fi
    diff=$(abidiff --suppressions "$suppr" --no-unreferenced-symbols "$baseline" "$lib" 2>&1)
    rc=$?
    # abidiff's status bits: 1 error, 2 usage, 4 ABI change, 8 incompatible ABI change
    if [ "$rc" = 0 ]; then
        echo "$name: ABI equals lib/abi/$name.abi"
        passed=$((passed + 1))
        continue
    fi
    failed=$((failed + 1))
    echo "$diff"
    if [ $((rc & 8)) != 0 ]; then
        echo "$name: INCOMPATIBLE ABI change (a function removed) against lib/abi/$name.abi."
        echo "    Undo it, or bump the soname (README \"Versions and ABI\") and refresh the baseline:"
    elif [ $((rc & 4)) != 0 ]; then
        echo "$name: ABI change against lib/abi/$name.abi (a changed type breaks callers: bump the"
        echo "    soname, README \"Versions and ABI\"; an added function does not). If intended, refresh:"
    else
        echo "$name: abidiff failed (status $rc)"
    fi
    echo "    tests/check_abi.sh --update $build && git diff lib/abi/"
done
[ "$update" = 1 ] && exit 0
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
