#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The seed's sample program, byte for byte.

The original API document (../shared/seed/000_602c809a5dc84f3b.txt from the repository root)
ends with a section "调用示例" whose code runs from its first "#include" line to the end of the
file. This script extracts it (--write FILE) or checks that FILE is exactly it (--check FILE).
Without the seed at hand, --check compares FILE with the SHA-256 recorded below, which was taken
from the seed. Prints a closing "N passed, N failed" line; exit status 1 on any mismatch.
"""
import argparse
import hashlib
import os
import sys

HEADING = "调用示例".encode("utf-8")
# SHA-256 of the extracted code (no trailing newline: the seed ends with "}").
RECORDED_SHA256 = "f5e01570c7069d4759983b7b3c63a08b5acfdef26ff72923b2d1c5235f0f0fb7"


def extract(seed_bytes):
    at = seed_bytes.rfind(b"\n" + HEADING + b"\n")
    if at < 0:
        raise SystemExit("seed: no '调用示例' section")
    start = seed_bytes.find(b"\n#include", at)
    if start < 0:
        raise SystemExit("seed: no code after '调用示例'")
    return seed_bytes[start + 1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", help="path of the seed document")
    ap.add_argument("--write", metavar="FILE", help="write the extracted code to FILE")
    ap.add_argument("--check", metavar="FILE", help="check that FILE is the extracted code")
    args = ap.parse_args()
    seed = None
    if args.seed and os.path.exists(args.seed):
        with open(args.seed, "rb") as f:
            seed = extract(f.read())
    if args.write:
        if seed is None:
            raise SystemExit("--write needs --seed")
        with open(args.write, "wb") as f:
            f.write(seed)
        print(f"wrote {args.write}: {len(seed)} bytes, sha256 {hashlib.sha256(seed).hexdigest()}")
        return 0
    if not args.check:
        ap.error("--write or --check")
    with open(args.check, "rb") as f:
        have = f.read()
    passed = failed = 0
    digest = hashlib.sha256(have).hexdigest()
    if digest == RECORDED_SHA256:
        passed += 1
        print(f"{args.check}: sha256 {digest} is the recorded one")
    else:
        failed += 1
        print(f"{args.check}: sha256 {digest} != recorded {RECORDED_SHA256}")
    if seed is None:
        print(f"seed not found ({args.seed}); checked against the recorded SHA-256 only")
    elif seed == have:
        passed += 1
        print(f"{args.check}: identical to the code of the seed's 调用示例 section "
              f"({len(have)} bytes)")
    else:
        failed += 1
        n = next((i for i, (a, b) in enumerate(zip(seed, have)) if a != b), min(len(seed), len(have)))
        print(f"{args.check}: differs from the seed's code at byte {n} "
              f"(seed {len(seed)} bytes, file {len(have)} bytes)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
