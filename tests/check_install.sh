#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedding as a user would: `meson install` into a scratch prefix, then build the examples
# against that install alone and run them —
#   qmar:     pkg-config --cflags has no MPI path; the in-process example links and runs; ldd of
#             it and NEEDED of libqmar.so list no MPI library; linked -static with
#             `pkg-config --static` it runs; qmar_version() is the package's version;
#   qmar-mpi: (when built) the MPI example, compiled with plain cc and `pkg-config qmar-mpi`,
#             runs under mpirun -n 2;
#   CMake:    a CMake project (tests/cmake_consumer) finds the package, builds the examples through
#             qmar::qmar (and qmar::qmar_mpi) and they run.
# Usage: check_install.sh BUILD_DIR. Ends with "N passed, N failed".
set -uo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

passed=0 failed=0
check() { # name, command...: runs the command, counts and reports the outcome
    local name=$1
    shift
    if "$@" >"$work/log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed 's/^/     /' "$work/log" | tail -n 20
    fi
}

# The .pc and CMake files are relocatable, so the DESTDIR copy of the prefix is a prefix itself.
meson install -C "$build" --no-rebuild --destdir "$work/root" --quiet >/dev/null || {
    echo "meson install failed"; echo "0 passed, 1 failed"; exit 1; }
pc=$(dirname "$(find "$work/root" -name qmar.pc | head -n 1)")
prefix=$(cd "$pc/../../.." && pwd)
[ -d "$prefix/include/qmar" ] || prefix=$(cd "$pc/../.." && pwd) # libdir "lib" rather than lib/<triplet>
libdir=$(dirname "$pc")
export PKG_CONFIG_PATH="$pc" LD_LIBRARY_PATH="$libdir"
echo "installed into $prefix"
mpi_built=$(grep -q "^Name: qmar-mpi" "$pc/qmar-mpi.pc" 2>/dev/null && echo 1 || echo 0)

no_mpi_cflags() {
    local flags
    flags=$(pkg-config --cflags qmar) || return 1
    echo "pkg-config --cflags qmar: $flags"
    ! grep -qi mpi <<<"$flags"
}
check "pkg-config --cflags qmar has no MPI path" no_mpi_cflags

build_run() { # output, source, flags...: compiles with plain cc and runs it
    local out=$1 source=$2
    shift 2
    cc -std=c11 -O2 "$source" "$@" -o "$work/$out" && "$work/$out"
}
check "in-process example via pkg-config qmar" \
    build_run tp_linear "$src/examples/tp_linear.c" $(pkg-config --cflags --libs qmar) -pthread -lm
check "NZ example via pkg-config qmar" \
    build_run nz_weight "$src/examples/nz_weight.c" $(pkg-config --cflags --libs qmar) -lm

mpi_libs='libmpi|libopen-rte|libopen-pal|libhwloc|libevent|libpmix|libucx|libfabric'
no_mpi_loaded() {
    ldd "$work/tp_linear" && readelf -d "$libdir/libqmar.so" | grep NEEDED &&
        ! ldd "$work/tp_linear" | grep -Ei "$mpi_libs" &&
        ! readelf -d "$libdir/libqmar.so" | grep NEEDED | grep -Ei "$mpi_libs"
}
check "ldd of an in-process program lists no MPI library" no_mpi_loaded

static_run() {
    cc -std=c11 -O2 -static "$src/examples/tp_linear.c" $(pkg-config --static --cflags --libs qmar) \
        -pthread -o "$work/tp_linear_static" &&
        ! ldd "$work/tp_linear_static" >/dev/null 2>&1 && "$work/tp_linear_static"
}
check "static link with pkg-config --static qmar" static_run

version_matches() {
    cat >"$work/version.c" <<'C'
#include <qmar/qmar.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    char header[32];
    snprintf(header, sizeof header, "%d.%d.%d", QMAR_VERSION_MAJOR, QMAR_VERSION_MINOR,
             QMAR_VERSION_PATCH);
    printf("header %s, library %s\n", header, qmar_version());
    return strcmp(header, qmar_version()) != 0 || QMAR_VERSION != QMAR_VERSION_OF(
        QMAR_VERSION_MAJOR, QMAR_VERSION_MINOR, QMAR_VERSION_PATCH);
}
C
    build_run version "$work/version.c" $(pkg-config --cflags --libs qmar) &&
        [ "$("$work/version")" = "header $(pkg-config --modversion qmar), library $(pkg-config --modversion qmar)" ]
}
check "qmar_version() and QMAR_VERSION_* equal the package version" version_matches

mpirun_n2() { mpirun -n 2 --oversubscribe --mca btl_vader_single_copy_mechanism none -x LD_LIBRARY_PATH "$@"; }
if [ "$mpi_built" = 1 ]; then
    mpi_example() {
        cc -std=c11 -O2 "$src/examples/tp_linear_mpi.c" $(pkg-config --cflags --libs qmar-mpi) -lm \
            -o "$work/tp_linear_mpi" && mpirun_n2 "$work/tp_linear_mpi"
    }
    check "MPI example: plain cc + pkg-config qmar-mpi, mpirun -n 2" mpi_example
elif [ -n "$(find "$build" -name 'libqmar-mpi.so*' -print -quit)" ]; then
    check "qmar-mpi.pc installed (libqmar-mpi was built)" false
fi

cmake_consumer() {
    local with_mpi=OFF
    [ "$mpi_built" = 1 ] && with_mpi=ON
    cmake -S "$src/tests/cmake_consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
        -DWITH_MPI=$with_mpi -DCMAKE_BUILD_TYPE=Release &&
        cmake --build "$work/cmake" -j 2 &&
        "$work/cmake/tp_linear" && "$work/cmake/nz_weight" &&
        { [ $with_mpi = OFF ] || mpirun_n2 "$work/cmake/tp_linear_mpi"; }
}
check "CMake: find_package(qmar) -> qmar::qmar$([ "$mpi_built" = 1 ] && echo ", qmar::qmar_mpi")" \
    cmake_consumer

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
