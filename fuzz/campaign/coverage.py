# SPDX-License-Identifier: Apache-2.0
"""Line and branch coverage of lib/src from a corpus: the gcc --coverage replay mains, gcovr."""
import json
import os
import re

from .common import ROOT, log, run
from .targets import OP_CONFIGS


def replay_for_coverage(covdir, target, files_or_dirs):
    binary = os.path.join(covdir, "fuzz", "replay_" + target)
    for isa, threads, overlap in OP_CONFIGS if target == "fuzz_op" else [("", "1", "")]:
        env = dict(os.environ, QMAR_ISA=isa, QMAR_NUM_THREADS=threads, QMAR_OVERLAP=overlap)
        run([binary, "-k"] + files_or_dirs, env=env, cwd=ROOT)


def zero_counters(covdir):
    for dirpath, _, files in os.walk(covdir):
        for f in files:
            if f.endswith(".gcda"):
                os.remove(os.path.join(dirpath, f))


def gcovr_summary(covdir, extra=()):
    out = os.path.join(covdir, "coverage-summary.json")
    if os.path.exists(out):
        os.remove(out)
    r = run(["gcovr", "-r", ROOT, "--object-directory", covdir, "--filter", "lib/src/",
             "--gcov-ignore-parse-errors", "--json-summary", out] + list(extra), cwd=ROOT)
    try:
        return json.load(open(out))
    except (OSError, ValueError):
        log("  gcovr failed: %s" % r.stdout[-600:])
        return None


def coverage(dirs, report_dir, corpus_lists):
    covdir = dirs["cov"]
    per = {}
    for target, inputs in corpus_lists.items():
        zero_counters(covdir)
        replay_for_coverage(covdir, target, inputs)
        j = gcovr_summary(covdir)
        if j:
            per[target] = (j["line_percent"], j["branch_percent"])
    zero_counters(covdir)
    for target, inputs in corpus_lists.items():
        replay_for_coverage(covdir, target, inputs)
    os.makedirs(report_dir, exist_ok=True)
    html = os.path.join(report_dir, "index.html")
    j = gcovr_summary(covdir, ["--html-details", html,
                               "--html-title", "qmar lib/src coverage from the fuzz corpus"])
    return per, j, html



def cpu_lacks():
    """lib/src files of kernels this CPU cannot execute (their coverage is then zero)."""
    try:
        flags = set(re.search(r"^flags\s*:(.*)$", open("/proc/cpuinfo").read(), re.M)
                    .group(1).split())
    except (OSError, AttributeError):
        return {}
    need = {"lib/src/kernels/amx.c": {"amx_tile", "amx_int8"},
            "lib/src/kernels/avx512.c": {"avx512f", "avx512bw", "avx512vl", "avx512_vnni"},
            "lib/src/kernels/epilogue_avx512.c": {"avx512f", "avx512bw"},
            "lib/src/kernels/elementwise_avx512.c": {"avx512f", "avx512bw"},
            "lib/src/kernels/avx2.c": {"avx2", "f16c"},
            "lib/src/kernels/epilogue_avx2.c": {"avx2", "f16c"}}
    return {f: sorted(n - flags) for f, n in need.items() if not n <= flags}


def excluding(total, files):
    """Line and branch percentages of `total` without `files`."""
    lc, lt, bc, bt = (total["line_covered"], total["line_total"], total["branch_covered"],
                      total["branch_total"])
    for f in total.get("files", []):
        if f["filename"] in files:
            lc -= f["line_covered"]
            lt -= f["line_total"]
            bc -= f["branch_covered"]
            bt -= f["branch_total"]
    return 100.0 * lc / max(1, lt), 100.0 * bc / max(1, bt)



def not_compiled(total):
    """lib/src .c files the coverage build did not compile (the MPI backend: suite mpi)."""
    present = {f["filename"] for f in total.get("files", [])}
    found = []
    for dp, _, fs in os.walk(os.path.join(ROOT, "lib", "src")):
        for f in fs:
            rel = os.path.relpath(os.path.join(dp, f), ROOT)
            if f.endswith(".c") and rel not in present:
                found.append(rel)
    return sorted(found)


def summary_block(per, total, html, base_total, base_html):
    """The summary's "coverage": the corpus after the run and the checked-in one (gcovr totals,
    either may be None), per target, and without the kernels this CPU cannot run."""
    from .summary import coverage_entry
    block = {"after_campaign": coverage_entry(total, html),
             "checked_in": coverage_entry(base_total, base_html),
             "per_target": {t: {"lines_pct": round(lp, 2), "branches_pct": round(bp, 2)}
                            for t, (lp, bp) in per.items()},
             "without_kernels_cpu_lacks": None, "not_compiled": []}
    ref = total or base_total
    if ref:
        lacks = cpu_lacks()
        if lacks:
            lp, bp = excluding(ref, lacks)
            block["without_kernels_cpu_lacks"] = {
                "files": sorted(lacks), "cpu_lacks": sorted({x for v in lacks.values() for x in v}),
                "lines_pct": round(lp, 2), "branches_pct": round(bp, 2)}
        block["not_compiled"] = not_compiled(ref)
    return block
