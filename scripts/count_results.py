#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Adds up meson's testlog.json files into one closing line: 'tests: N passed, N failed'."""
import json
import sys

passed = failed = skipped = 0
args = sys.argv[1:]
while args and args[0] == "--extra":  # --extra NAME 1|0: a check run outside meson
    passed += args[2] == "1"
    failed += args[2] != "1"
    args = args[3:]
for path in args:
    with open(path) as log:
        for line in log:
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
line = f"tests: {passed} passed, {failed} failed"
print(line + (f", {skipped} skipped" if skipped else ""))
