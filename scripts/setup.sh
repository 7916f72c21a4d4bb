#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing (Debian packages), then configures and builds the main build in
# build/. Sourced by scripts/demo and scripts/test; safe to run again (it only does what is missing).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Every Debian package the project's commands use. Kept in one place.
QMAR_PACKAGES=(gcc g++ clang meson ninja-build pkg-config python3 valgrind
               libopenmpi-dev openmpi-bin
               libdnnl-dev  # oneDNN: the comparison in bench/ (scripts/bench)
               afl++ libclang-rt-14-dev gcovr # fuzzers: AFL++, libFuzzer for clang 14, coverage
               frama-c-base why3 z3 cvc4) # proofs: Frama-C/WP, Why3, its two provers (suite proofs)

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

# configure DIR [meson options...]: sets up DIR once, reconfigures it when options change.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null
    else
        meson setup "$dir" "$@" >/dev/null
    fi
}

install_missing "${QMAR_PACKAGES[@]}"
# QMAR_SETUP_PACKAGES_ONLY=1: tools only, no main build (scripts/fuzz-campaign builds its own).
if [ -z "${QMAR_SETUP_PACKAGES_ONLY:-}" ]; then
    configure build --werror
    ninja -C build >/dev/null
fi
