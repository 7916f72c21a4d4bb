#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Tests the campaign's summary, history, report page and exit statuses on synthetic runs (no
fuzzing): the summary's fields, the history appended and never rewritten, a new directory per run
and `latest`, the page and its plots, the goals' wording, and scripts/fuzz_campaign.py --render's
exit status with and without --fail-on-missed-target. Ends with "N passed, N failed"."""
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "fuzz_campaign.py")
sys.path.insert(0, os.path.join(ROOT, "fuzz"))
from campaign import summary as S  # noqa: E402
from campaign.engines import prune_work  # noqa: E402
from campaign.targets import GOALS, TARGETS, goal_name  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)


def load_script():
    spec = importlib.util.spec_from_file_location("fuzz_campaign", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def synthetic(run_dir, history, start, rates, lines=93.9, crash_in=None, targets=TARGETS):
    """A summary as campaign() builds it, from made-up measurements: rates[target] = libFuzzer's
    wall-clock execs/s (AFL++ gets a third of it)."""
    per = {}
    for i, t in enumerate(targets):
        r = rates[t]
        engines = {
            "libfuzzer": {"execs": int(r * 60), "execs_per_s": r, "execs_per_cpu_s": r * 1.1,
                          "cpu_s": 54.0, "edges": 1000 + i, "corpus": 100 + i, "crash_files": 0,
                          "crashing_seeds": 0, "first_crash_s": None, "restarts": 0},
            "afl": {"execs": int(r * 20), "execs_per_s": r / 3, "corpus": 90, "crash_files": 0,
                    "hangs": 0, "first_crash_s": None, "bitmap_coverage": "3.10%"}}
        kept = []
        if t == crash_in:
            engines["libfuzzer"].update(crash_files=2, first_crash_s=12.5)
            kept = [("asan-heap-buffer-overflow", "corpus/%s/regress-asan-heap-buffer-overflow-1" % t,
                     "ERROR: AddressSanitizer: heap-buffer-overflow\nmore"),
                    ("not-reproduced", "build-fuzz/x/afl/crashes/id:0", "")]
        per[t] = S.target_entry(60, engines, 50 + i, 53 + i, 3, 2 if t == crash_in else 0, kept,
                                (lines - i, lines - 10 - i))
    tot = lambda pct: {"line_percent": pct, "branch_percent": pct - 8, "line_covered": int(pct * 30),
                       "line_total": 3000, "branch_covered": int((pct - 8) * 20),
                       "branch_total": 2000}
    cov = {"after_campaign": S.coverage_entry(tot(lines + 0.5), "coverage/index.html"),
           "checked_in": S.coverage_entry(tot(lines), "coverage-checked-in/index.html"),
           "per_target": {t: per[t]["coverage"] for t in targets},
           "without_kernels_cpu_lacks": None, "not_compiled": ["lib/src/comm/mpi.c"]}
    os.makedirs(os.path.join(run_dir, "coverage"), exist_ok=True)
    open(os.path.join(run_dir, "coverage", "index.html"), "w").write("<html>gcovr</html>")
    return S.build_summary(
        mode="fuzz", start=start, end=start + 300, budget=240, targets=list(targets),
        options={"afl": True, "merge": True, "interval_s": 10},
        tool_versions={"clang": "clang 14", "afl++": "4.04c", "gcovr": "5.2"},
        git={"commit": "a" * 40, "branch": "main", "dirty": False},
        machine={"cpu_model": "Test CPU", "cores": 2, "usable_cores": 2,
                 "load_average": [1.0, 1.0, 1.0], "system": "Linux"},
        per_target=per, coverage=cov, run_dir=run_dir, history=history)


def render_cli(run_dir, history, *flags):
    r = subprocess.run([sys.executable, SCRIPT, "--render", run_dir, "--history", history] +
                       list(flags), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def main():
    fc = load_script()
    good = {"fuzz_validate": 90000, "fuzz_op": 1800, "fuzz_numeric": 30000, "fuzz_api": 400}
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "build-fuzz")
        history = os.path.join(d, "nightly", "history.jsonl")  # outside the build dir
        t0 = 1764950400.0  # 2025-12-05T16:00:00Z
        run_dirs = []
        for night in range(3):
            start = t0 + night * 86400
            run_dir = S.new_run_dir(out, start)
            run_dirs.append(run_dir)
            rates = {t: v * (1 + 0.1 * night) for t, v in good.items()}
            s = synthetic(run_dir, history, start, rates, lines=92.0 + night)
            with open(os.devnull, "w") as null:
                stdout, sys.stdout = sys.stdout, null
                try:
                    status = fc.publish(s, run_dir, out, history, False, append=True)
                finally:
                    sys.stdout = stdout
            check(status == S.EXIT_OK, "night %d: status 0" % night)
            if night == 0:
                first_line = open(history).readline()

        # ---- one directory per run, `latest`, the history appended
        check(len(set(run_dirs)) == 3 and all(os.path.isfile(os.path.join(r, "summary.json"))
                                              for r in run_dirs), "a directory per run")
        check(os.path.realpath(os.path.join(out, "latest")) == os.path.realpath(run_dirs[-1]),
              "latest points at the last run")
        same_second = [S.new_run_dir(out, t0) for _ in range(2)]
        check(len(set(same_second + run_dirs[:1])) == 3, "runs in the same second get new dirs")
        lines = open(history).read().splitlines()
        check(len(lines) == 3, "history has 3 lines (got %d)" % len(lines))
        check(lines[0] + "\n" == first_line, "the first run's history line is unchanged")
        runs, bad = S.read_history(history)
        check(len(runs) == 3 and bad == 0, "history reads back as 3 summaries")
        with open(history, "a") as f:
            f.write("not json\n")
        check(S.read_history(history) == (runs, 1), "a bad history line is skipped and counted")

        # ---- the summary's fields
        s = json.load(open(os.path.join(run_dirs[0], "summary.json")))
        for key in ("schema", "run_id", "mode", "start", "start_unix", "end", "budget_s", "git",
                    "machine", "tools", "targets", "coverage", "goals", "exit_status", "verdict"):
            check(key in s, "summary has %s" % key)
        check(s["schema"] == S.SCHEMA and s["git"]["commit"] == "a" * 40, "schema and commit")
        check({"cpu_model", "cores"} <= set(s["machine"]), "machine: CPU model and cores")
        check({"clang", "afl++", "gcovr"} <= set(s["tools"]), "tool versions")
        t = s["targets"]["fuzz_validate"]
        check(set(t["engines"]) == {"libfuzzer", "afl"}, "per target and engine")
        for key in ("execs", "execs_per_s", "execs_per_cpu_s", "corpus", "crash_files",
                    "first_crash_s"):
            check(key in t["engines"]["libfuzzer"], "libFuzzer's %s" % key)
        check(abs(t["execs_per_s"] - 120000) < 1e-6, "execs/s of both engines together")
        check(set(t["corpus"]) == {"before", "after", "new"} and t["corpus"]["new"] == 3, "corpus")
        check({"lines_pct", "branches_pct"} == set(t["coverage"]), "per-target coverage")
        check(set(t["crashes"]) >= {"files", "first_s", "kept"}, "crash fields")
        check(s["coverage"]["checked_in"]["lines_pct"] == 92.0, "checked-in coverage")
        check([g["name"] for g in s["goals"]] == [goal_name(g) for g in GOALS], "goals, in order")

        # ---- the report page and its plots
        page = open(os.path.join(run_dirs[-1], "index.html"), encoding="utf-8").read()
        check("fuzz_validate ≥ 100k execs/s" in page and "fuzz_op ≥ 2k execs/s" in page,
              "the page names the goals by target")
        check(not re.search(r"issue", page, re.I), "no issue numbers on the page")
        check("href='coverage/index.html'" in page, "the page links the coverage report")
        check("href='summary.json'" in page, "the page links the summary")
        imgs = re.findall(r"<img src='([^']+)'", page)
        want = ["plots/execs-%s.svg" % t for t in TARGETS] + \
            ["plots/coverage-line.svg", "plots/coverage-branch.svg", "plots/corpus.svg"]
        check(imgs == want, "the page shows the plots %s (got %s)" % (want, imgs))
        for img in imgs:
            try:
                root = ET.parse(os.path.join(run_dirs[-1], img)).getroot()
            except (OSError, ET.ParseError) as e:
                check(False, "%s: %s" % (img, e))
                continue
            lines3 = [p for p in root.iter(SVG + "polyline") if len(p.get("points").split()) == 3]
            check(len(lines3) >= 3, "%s: series over the 3 runs" % img)
        rate = ET.parse(os.path.join(run_dirs[-1], "plots/execs-fuzz_validate.svg")).getroot()
        texts = [x.text for x in rate.iter(SVG + "text")]
        check("goal: fuzz_validate ≥ 100k execs/s" in texts and "libFuzzer per CPU second" in texts,
              "the rate plot shows the goal and the per-CPU rate")

        # ---- exit statuses through the command line (--render)
        rc, text = render_cli(run_dirs[-1], history)
        check(rc == 0, "goals met: status 0 (got %d)" % rc)
        check("issue" not in text.lower(), "no issue numbers in the printed summary")
        check(re.search(r"fuzz_validate ≥ 100k execs/s\s+\d+ execs/s\s+met", text) is not None,
              "the printed summary names the goal by target")
        rc, text = render_cli(run_dirs[0], history, "--fail-on-missed-target")
        check(rc == 0, "night 0 met every goal: 120k and 2.4k execs/s, 92 %% (got %d)" % rc)

        slow = os.path.join(d, "slow")
        os.makedirs(slow)
        S.write_json(os.path.join(slow, "summary.json"),
                     synthetic(slow, history, t0 + 4 * 86400, dict(good, fuzz_validate=50000)))
        rc, text = render_cli(slow, history)
        check(rc == 0 and "MISSED" in text, "a missed rate without the flag: reported, status 0")
        rc, text = render_cli(slow, history, "--fail-on-missed-target")
        check(rc == S.EXIT_MISSED, "a missed rate with the flag: status 3 (got %d)" % rc)
        check("fuzz_validate ≥ 100k execs/s" in json.load(open(os.path.join(slow, "summary.json")))
              ["verdict"], "the verdict names the missed goal")

        low = os.path.join(d, "low")
        os.makedirs(low)
        S.write_json(os.path.join(low, "summary.json"),
                     synthetic(low, history, t0 + 5 * 86400, good, lines=85.0))
        rc, _ = render_cli(low, history, "--fail-on-missed-target")
        check(rc == S.EXIT_MISSED, "missed line coverage with the flag: status 3 (got %d)" % rc)

        part = os.path.join(d, "part")
        os.makedirs(part)
        S.write_json(os.path.join(part, "summary.json"),
                     synthetic(part, history, t0 + 6 * 86400, good, lines=85.0,
                               targets=["fuzz_validate", "fuzz_op"]))
        rc, _ = render_cli(part, history, "--fail-on-missed-target")
        s = json.load(open(os.path.join(part, "summary.json")))
        check(rc == 0 and s["goals"][2]["met"] is None,
              "coverage of two targets is no measure of the goal, and no miss (status %d)" % rc)

        def markers(svg, series_name):
            root = ET.parse(svg).getroot()
            for g in root.iter(SVG + "g"):
                if g.findtext(SVG + "title") == series_name:
                    return len(g.findall(SVG + "circle"))
            return None

        svg = os.path.join(part, "plots", "coverage-line.svg")
        check(markers(svg, "all targets, checked-in corpus") == 3,
              "all targets' coverage is plotted for the 3 nights, not the two-target run (%s)"
              % markers(svg, "all targets, checked-in corpus"))
        check(markers(svg, "fuzz_op") == 4, "per-target coverage plotted for the 4 runs")

        covonly = os.path.join(d, "covonly")
        os.makedirs(covonly)
        s = synthetic(covonly, os.path.join(d, "h2.jsonl"), t0, good)
        s.update(mode="coverage-only", budget_s=None, targets={})
        S.write_json(os.path.join(covonly, "summary.json"), s)
        rc, text = render_cli(covonly, os.path.join(d, "h2.jsonl"), "--fail-on-missed-target")
        s = json.load(open(os.path.join(covonly, "summary.json")))
        check(rc == 0 and [g["met"] for g in s["goals"]] == [None, None, True],
              "coverage-only: rates not measured, coverage met (status %d)" % rc)
        svg = os.path.join(covonly, "plots", "coverage-line.svg")
        check(markers(svg, "fuzz_api") == 1, "coverage-only: per-target coverage plotted")
        check(not os.path.exists(os.path.join(covonly, "plots", "execs-fuzz_op.svg")),
              "coverage-only: no rate plots")

        crash = os.path.join(d, "crash")
        os.makedirs(crash)
        S.write_json(os.path.join(crash, "summary.json"),
                     synthetic(crash, history, t0 + 7 * 86400, dict(good, fuzz_op=100),
                               crash_in="fuzz_op"))
        rc, text = render_cli(crash, history, "--fail-on-missed-target")
        check(rc == S.EXIT_CRASH, "a crash (and a miss): status 1 (got %d)" % rc)
        check("corpus/fuzz_op/regress-asan-heap-buffer-overflow-1" in text,
              "the crash's regress file is printed")
        page = open(os.path.join(crash, "index.html"), encoding="utf-8").read()
        check("regress-asan-heap-buffer-overflow-1" in page, "the crash is on the page")

        rc, _ = render_cli(os.path.join(d, "nothing-here"), history)
        check(rc == S.EXIT_SETUP, "no summary to render: status 2 (got %d)" % rc)
        check(len(open(history).read().splitlines()) == 4, "--render never appends to the history")

        # ---- a run's work directory keeps logs and crashes, not the engines' corpora
        w = os.path.join(d, "work", "fuzz_op")
        keep = ["libfuzzer.log", "libfuzzer-crashes/crash-1", "afl/default/crashes/id:0",
                "afl/default/fuzzer_stats"]
        for f in keep + ["libfuzzer-corpus/a", "afl/default/queue/id:1"]:
            os.makedirs(os.path.dirname(os.path.join(w, f)), exist_ok=True)
            open(os.path.join(w, f), "w").close()
        prune_work(w)
        check(all(os.path.exists(os.path.join(w, f)) for f in keep) and
              not os.path.exists(os.path.join(w, "libfuzzer-corpus")) and
              not os.path.exists(os.path.join(w, "afl/default/queue")),
              "prune_work keeps logs and crashes, removes the corpora")

        # ---- the real probes of the machine, the tools and git
        m, g, tv = S.machine_info(), S.git_info(), S.tool_versions()
        check(isinstance(m["cores"], int) and m["cores"] > 0, "machine_info: cores")
        check(set(tv) >= {"clang", "afl++", "gcovr"}, "tool_versions: the three tools")
        if os.path.exists(os.path.join(ROOT, ".git")):
            check(re.fullmatch(r"[0-9a-f]{40}", g["commit"] or "") is not None, "git_info: commit")

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
