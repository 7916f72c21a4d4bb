#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# libqmar_compat exports CANN's names only (acl*, aclnn*, Hccl*): no qc_ internals, no qmar_
# symbols of its own, nothing else.
set -u
lib=$1
names=$(nm -D --defined-only "$lib" | awk '{print $3}')
others=$(echo "$names" | grep -v -E '^(acl|Hccl)' || true)
count=$(echo "$names" | grep -c -E '^(acl|Hccl)' || true)
if [ -n "$others" ] || [ "$count" -lt 60 ]; then
    echo "exported symbols that are not CANN's: ${others:-none}; CANN symbols: $count (want >= 60)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "$count CANN symbols exported, nothing else"
echo "1 passed, 0 failed"
