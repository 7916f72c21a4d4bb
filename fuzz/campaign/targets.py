# SPDX-License-Identifier: Apache-2.0
"""The fuzz targets, how the engines run them, and the campaign's goals: the one place they are
defined (the summary, the report page and --fail-on-missed-target all read GOALS)."""
from collections import namedtuple

TARGETS = ["fuzz_validate", "fuzz_op", "fuzz_numeric", "fuzz_api"]

# The kernel is chosen once per process, so the coverage replay runs fuzz_op once per
# (QMAR_ISA, QMAR_NUM_THREADS, QMAR_OVERLAP); an ISA the CPU lacks falls back to the best one,
# with a note; "" leaves the variable empty, which is the default. The last one is what a user
# gets (the best kernel, the threads of the CPUs free for the rank) with Run's overlap forced on:
# by default it needs 2 CPUs per rank of the group, which a small machine's in-process groups lack.
OP_CONFIGS = [("scalar", "3", ""), ("avx2", "1", ""), ("avx512", "2", ""), ("amx", "1", ""),
              ("", "1", ""), ("", "", "1")]
# Extra environment of each engine's fuzzing processes per target; for libFuzzer a list of phases
# that share its time equally. The GEMM kernel is chosen once per process, so on fuzz_op
# libFuzzer (with ASan) spends half its time on the best kernel this CPU has and half on the
# scalar reference kernel and epilogue, and AFL++ runs the scalar one throughout. fuzz_numeric
# drives every kernel's epilogue directly, under ASan, besides.
ENGINE_ENV = {"fuzz_op": {"libfuzzer": [{}, {"QMAR_ISA": "scalar"}], "afl": {"QMAR_ISA": "scalar"}}}

# A goal is a minimum. kind "rate": the target's executions per wall-clock second, both engines
# side by side (summary: targets.<target>.execs_per_s). kind "lines": line coverage of lib/src in
# percent from the checked-in corpus, all targets together (coverage.checked_in.lines_pct); it is
# measured only when the campaign ran every target.
Goal = namedtuple("Goal", "kind target minimum")
GOALS = [
    Goal("rate", "fuzz_validate", 100000),
    Goal("rate", "fuzz_op", 2000),
    Goal("lines", None, 90.0),
]


def short_number(v):
    """100000 -> 100k, 2000 -> 2k, 1500 -> 1.5k."""
    if v >= 1000:
        return ("%g" % (v / 1000.0)) + "k"
    return "%g" % v


def goal_name(goal):
    """What the summary and the report call a goal, e.g. "fuzz_validate ≥ 100k execs/s"."""
    if goal.kind == "rate":
        return "%s ≥ %s execs/s" % (goal.target, short_number(goal.minimum))
    return "lib/src line coverage from the checked-in corpus ≥ %g %%" % goal.minimum
