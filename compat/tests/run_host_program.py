#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a host program built against compat with the model check linked in, and judges it.

Checks: the program exits 0; each rank r in 0..ranks-1 printed the success line (--success is a
format string with {r}); the model check's summary reports exactly the expected numbers of
collective calls, bit-exact rank outputs, TransMatmulWeight and TransQuantParamV2 checks, and
nothing wrong. With --corrupt, the check's self-test: one flipped bit must be reported.
The program's output is echoed first. Ends with "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exe", required=True)
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--success", required=True, help="success line of rank {r}")
    ap.add_argument("--collectives", type=int, required=True)
    ap.add_argument("--trans-weight", type=int, default=0)
    ap.add_argument("--trans-quant", type=int, default=0)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--corrupt", action="store_true",
                    help="self-test: the check flips one output bit and must report exactly "
                         "one wrong rank and exit status 1")
    args = ap.parse_args()

    env = dict(os.environ)
    if args.corrupt:
        env["QMAR_COMPAT_CHECK_CORRUPT"] = "1"
    proc = subprocess.run([args.exe], capture_output=True, text=True, timeout=args.timeout,
                          env=env)
    sys.stdout.write("---- program stdout ----\n" + proc.stdout)
    sys.stdout.write("---- program stderr ----\n" + proc.stderr + "------------------------\n")

    results = []

    def check(ok, what):
        results.append(ok)
        print(("PASS " if ok else "FAIL ") + what)

    want_rc = 1 if args.corrupt else 0
    check(proc.returncode == want_rc, f"exit status {proc.returncode} == {want_rc}")
    lines = set(line.strip() for line in proc.stdout.splitlines())
    for r in range(args.ranks):
        line = args.success.format(r=r).strip()
        check(line in lines, f"printed '{line}'")
    m = re.search(r"compat-check summary: (.*) => (PASS|FAIL)", proc.stderr)
    check(m is not None, "the model check printed its summary")
    if m:
        got = dict(kv.split("=") for kv in m.group(1).split())
        got = {k: int(v) for k, v in got.items()}
        want = {
            "collectives": args.collectives,
            "rank_outputs": args.collectives * args.ranks,
            "bit_exact": args.collectives * args.ranks - args.corrupt,
            "wrong_ranks": int(args.corrupt),
            "trans_weight_ok": args.trans_weight,
            "trans_weight_bad": 0,
            "trans_quant_ok": args.trans_quant,
            "trans_quant_bad": 0,
            "errors": 0,
            "incomplete": 0,
        }
        for key, value in want.items():
            check(got.get(key) == value, f"model check: {key} = {got.get(key)}, want {value}")
        verdict = "FAIL" if args.corrupt else "PASS"
        check(m.group(2) == verdict, f"model check verdict {verdict}")
    passed = sum(results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
