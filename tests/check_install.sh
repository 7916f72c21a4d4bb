#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedding as a user would: install into a scratch prefix, then compile and run a program found
# through pkg-config alone.
set -euo pipefail
build=$1
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null
pc=$(dirname "$(find "$dest" -name qmar.pc | head -n 1)")
prefix=$(sed -n 's/^prefix=//p' "$pc/qmar.pc")
cat > "$dest/use.c" <<'C'
#include <qmar/qmar.h>
#include <stdio.h>
int main(void)
{
    uint64_t n = 0;
    int64_t d[2] = {510, 270};
    qmar_status s = qmar_calculate_matmul_weight_size_v2(d, 2, QMAR_INT8, &n);
    printf("%s %llu\n", qmar_status_string(s), (unsigned long long)n);
    return s == QMAR_SUCCESS && n == 147456 ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH="$pc" PKG_CONFIG_SYSROOT_DIR="$dest" pkg-config --cflags --libs qmar)
cc -std=c11 "$dest/use.c" $flags -o "$dest/use"
LD_LIBRARY_PATH="$dest$prefix/lib:$(dirname "$(find "$dest" -name 'libqmar.so' | head -n 1)")" \
    "$dest/use"
echo "1 passed, 0 failed"
