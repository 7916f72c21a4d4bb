#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that the key of a result record (run_wp.py, proofs/README.md "The cache") changes with
every input it must cover, so that a recorded result is never replayed for a changed unit:
an ACSL comment in an included header, a header included from a header, a preprocessor flag, a
frama-c flag, a tool version; and that a record whose key differs is not used.

  test_result_key.py   (needs frama-c for -print-cpp-commands; part of the proofs suite)
Ends with "N passed, N failed"; exit status 1 on any failure.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_wp  # noqa: E402

PASSED, FAILED = 0, 0


def check(what, ok):
    global PASSED, FAILED
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    PASSED, FAILED = PASSED + ok, FAILED + (not ok)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    with tempfile.TemporaryDirectory() as src:
        build = os.path.join(src, "build")
        work = os.path.join(build, "unit")
        os.makedirs(work)
        source = os.path.join(src, "unit.c")
        write(source, '#include "a.h"\nint f(int x) { return g(x); }\n')
        write(os.path.join(src, "a.h"), '#include "b.h"\n/*@ requires x >= 0; */\nint g(int x);\n')
        write(os.path.join(src, "b.h"), '/*@ logic integer h(integer x) = x; */\n')
        cpp_args = "-cpp-extra-args=-I" + src
        cmd = ["frama-c", cpp_args, source, "-wp", "-wp-timeout", "10"]
        tools = {"frama-c": "25.0", "why3": "1.5.1"}

        def key(cpp=cpp_args, command=cmd, versions=tools):
            inputs = run_wp.result_inputs(src, build, command, cpp, source, work, versions)
            return run_wp.inputs_key(inputs), inputs

        k0, inputs0 = key()
        check("the same inputs give the same key", key()[0] == k0)
        check("the key lists the header included from a header",
              "<source>/b.h" in inputs0["files"])
        write(os.path.join(src, "a.h"), '#include "b.h"\n/*@ requires x > 0; */\nint g(int x);\n')
        k1, _ = key()
        check("an ACSL comment changed in a header changes the key", k1 != k0)
        write(os.path.join(src, "b.h"), '/*@ logic integer h(integer x) = x + 1; */\n')
        k2, _ = key()
        check("a header included from a header changes the key", k2 != k1)
        write(os.path.join(src, "c.h"), "/*@ logic integer c = 0; */\n")
        write(os.path.join(src, "b.h"), '#include "c.h"\n#include <stdint.h>\n'
                                         '/*@ logic integer h(integer x) = x + 1; */\n')
        k3, inputs3 = key()
        check("a newly included header is in the key", "<source>/c.h" in inputs3["files"]
              and k3 != k2)
        check("Frama-C's libc headers are in the key",
              any(f.endswith("/libc/stdint.h") for f in inputs3["files"]))
        k4, _ = key(cpp=cpp_args + " -DQMAR_X=1",
                    command=["frama-c", cpp_args + " -DQMAR_X=1"] + cmd[2:])
        check("a preprocessor flag changes the key", k4 != k3)
        k5, _ = key(command=cmd[:-1] + ["20"])
        check("a frama-c flag (a timeout) changes the key", k5 != k3)
        k6, _ = key(versions=dict(tools, why3="1.6.0"))
        check("a tool version changes the key", k6 != k3)

        # The same unit in another checkout has the same key, even through a file the runner
        # writes into the build dir that names the source by its absolute path.
        keys = []
        for root in ("a", "bb"):
            other = os.path.join(src, root)
            os.makedirs(os.path.join(other, "build"))
            write(os.path.join(other, "h.h"), "/*@ logic integer one = 1; */\n")
            wrapper = os.path.join(other, "build", "unit_h.c")
            write(wrapper, '#include "%s"\n' % os.path.join(other, "h.h"))
            inputs = run_wp.result_inputs(other, os.path.join(other, "build"),
                                          ["frama-c", wrapper], "-cpp-extra-args=", wrapper,
                                          os.path.join(other, "build"), tools)
            keys.append(run_wp.inputs_key(inputs))
        check("a unit has the same key in two checkouts", keys[0] == keys[1])

        # A record is replayed only for its own key.
        run = run_wp.Run()
        run.goals, run.prover, run.time = {"typed_f_ensures": True}, {"typed_f_ensures": "Qed"}, {}
        run.cache_name, run.how = "unit", "WP cache"
        run.key, run.inputs = k3, inputs3
        run_wp.save_result_record(src, run)
        check("a record is replayed when the inputs are unchanged",
              run_wp.load_result_record(src, "unit", inputs3) is not None)
        write(os.path.join(src, "c.h"), "/*@ logic integer c = 1; */\n")
        _, inputs7 = key()
        check("a record is not replayed once an input changed",
              run_wp.load_result_record(src, "unit", inputs7) is None)
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
