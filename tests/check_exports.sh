#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The shared library exports only qmar_ symbols (api.md): lists any other defined dynamic symbol.
set -u
lib=$1
others=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^qmar_' || true)
count=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -c '^qmar_' || true)
if [ -n "$others" ] || [ "$count" -lt 17 ]; then
    echo "exported symbols that are not qmar_: ${others:-none}; qmar_ symbols: $count (want >= 17)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "$count qmar_ symbols exported, nothing else"
echo "1 passed, 0 failed"
