#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing (Debian packages), then configures and builds the main build in
# build/. Sourced by the scripts/ commands; safe to run again (it only does what is missing).
#
# What it installs: the base packages (what building and running the demo needs), plus the
# groups the sourcing command names in QMAR_NEEDS (space-separated):
#   test   everything scripts/test's suites and checks use    bench  oneDNN and MPI (scripts/bench*)
#   fuzz   the fuzzers and coverage (scripts/fuzz-campaign)
# QMAR_SETUP_PACKAGES_ONLY=1: packages only, no build. QMAR_SETUP_TARGETS: ninja targets to build
# (default: all).
# An existing build/ keeps its options (prefix, -D...): it is reconfigured with `meson setup
# --reconfigure`, which also finds what was installed since.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Every Debian package the project's commands use, by group. Kept in one place.
QMAR_BASE_PACKAGES=(gcc meson ninja-build pkg-config python3)
declare -A QMAR_GROUP_PACKAGES=(
    [test]="g++ valgrind libopenmpi-dev openmpi-bin cmake abigail-tools
            frama-c-base why3 z3 cvc4" # compat (C++), valgrind runs, mpi suite and examples, the
                                       # install check's CMake consumer, the ABI check, proofs
    [fuzz]="clang afl++ libclang-rt-14-dev gcovr" # AFL++, libFuzzer for clang 14, coverage
    [bench]="libdnnl-dev libopenmpi-dev openmpi-bin" # oneDNN: the comparison in bench/
)

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
    done
}

install_missing() {
    local missing
    missing=$(missing_packages "$@")
    [ -z "$missing" ] && return 0
    echo "setup: installing missing packages: $(echo $missing)"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing \
        >/tmp/qmar-apt.log 2>&1 || { cat /tmp/qmar-apt.log; exit 1; }
}

# configure DIR [meson options...]: sets up DIR, or reconfigures it keeping the options it has
# (the given ones applied on top) and detecting packages installed since.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

qmar_packages=("${QMAR_BASE_PACKAGES[@]}")
for group in ${QMAR_NEEDS:-}; do
    [ -n "${QMAR_GROUP_PACKAGES[$group]:-}" ] || { echo "setup: unknown group '$group'"; exit 2; }
    # shellcheck disable=SC2206
    qmar_packages+=(${QMAR_GROUP_PACKAGES[$group]})
done
install_missing "${qmar_packages[@]}"
if [ -z "${QMAR_SETUP_PACKAGES_ONLY:-}" ]; then
    configure build --werror
    # shellcheck disable=SC2086
    ninja -C build ${QMAR_SETUP_TARGETS:-} >/dev/null
fi
