#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What a shared library exports (lib/qmar.map, api.md): check_exports.sh LIB MAP HEADER...
#  * every function the headers declare QMAR_API is exported, at version QMAR_0;
#  * every other exported symbol is an internal the map lists under QMAR_PRIVATE, at that version
#    (so nothing leaks: no helper, no kernel, no symbol of a static library linked in).
set -u
lib=$1 map=$2
shift 2
exported=$(nm -D --defined-only --with-symbol-versions "$lib" | awk '$2 != "A" {print $3}')
private=$(sed -n '/^QMAR_PRIVATE {/,/^}/p' "$map" | sed -n 's/^ *\(qmar__[a-z_0-9]*\);.*/\1/p')
api=$(grep -h '^QMAR_API' "$@" | sed 's/(.*//; s/.*[ *]//' | sort -u)
failed=0
for f in $api; do
    grep -qx "$f@@QMAR_0" <<<"$exported" || { echo "not exported at QMAR_0: $f"; failed=1; }
done
while read -r sym; do
    name=${sym%%@*} version=${sym##*@}
    if [ "$version" = QMAR_0 ] && grep -qx "$name" <<<"$api"; then continue; fi
    if [ "$version" = QMAR_PRIVATE ] && grep -qx "$name" <<<"$private"; then continue; fi
    echo "exported but neither declared QMAR_API nor listed under QMAR_PRIVATE: $sym"
    failed=1
done <<<"$exported"
echo "$(basename "$lib"): $(wc -w <<<"$api") API functions at QMAR_0," \
     "$(grep -c '@@QMAR_PRIVATE' <<<"$exported") private (QMAR_PRIVATE), nothing else"
[ "$failed" = 0 ] && { echo "1 passed, 0 failed"; exit 0; }
echo "0 passed, 1 failed"
exit 1
