# SPDX-License-Identifier: Apache-2.0
"""A run's machine-readable summary (summary.json in its run directory; the schema is in
fuzz/README.md), the history file every run appends it to (JSON lines), the goals, the exit status
and the summary printed at the end."""
import datetime
import json
import os
import platform
import re
import subprocess

from .common import ROOT, log
from .targets import GOALS, TARGETS, goal_name

SCHEMA = "qmar-fuzz-campaign/1"
EXIT_OK, EXIT_CRASH, EXIT_SETUP, EXIT_MISSED = 0, 1, 2, 3


# ---- Run directories -----------------------------------------------------------------------------


def run_id(unix_time):
    return datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def iso(unix_time):
    return datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def new_run_dir(out, unix_time):
    """<out>/runs/<UTC time>, a new directory (never an earlier run's: -2, -3... if taken)."""
    base = os.path.join(out, "runs", run_id(unix_time))
    path, n = base, 1
    while True:
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            n += 1
            path = "%s-%d" % (base, n)


def link_latest(out, run_dir):
    """<out>/latest -> runs/<id>, replaced atomically."""
    link = os.path.join(out, "latest")
    tmp = link + ".new"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(os.path.relpath(run_dir, out), tmp)
    os.replace(tmp, link)


# ---- Where and with what it ran ------------------------------------------------------------------


def _first_line(cmd, pattern=None):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = re.sub(r"\x1b\[[0-9;]*m", "", r.stdout)  # afl-fuzz colours its banner
    if pattern:
        m = re.search(pattern, text)
        return m.group(1) if m else None
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else None


def tool_versions():
    return {"clang": _first_line(["clang", "--version"]),
            "afl++": _first_line(["afl-fuzz", "-h"], r"afl-fuzz\+*\s*([0-9][\w.]*)"),
            "gcovr": _first_line(["gcovr", "--version"], r"gcovr ([\w.]+)"),
            "gcc": _first_line(["gcc", "--version"]),
            "meson": _first_line(["meson", "--version"]),
            "python": platform.python_version()}


def git_info():
    def git(*args):
        try:
            r = subprocess.run(["git", "-C", ROOT] + list(args), stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout.strip() if r.returncode == 0 else None
    status = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!corpus")
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": None if status is None else bool(status)}


def machine_info():
    model = None
    try:
        m = re.search(r"^model name\s*:\s*(.*)$", open("/proc/cpuinfo").read(), re.M)
        model = m.group(1).strip() if m else None
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = None
    return {"cpu_model": model or platform.processor() or None, "cores": os.cpu_count(),
            "usable_cores": usable, "load_average": load_average(),
            "system": "%s %s %s" % (platform.system(), platform.release(), platform.machine())}


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# ---- The summary ---------------------------------------------------------------------------------


def coverage_entry(total, html=None):
    """The summary's form of a gcovr JSON summary (None stays None)."""
    if not total:
        return None
    return {"lines_pct": round(total["line_percent"], 2),
            "branches_pct": round(total["branch_percent"], 2),
            "lines_covered": total["line_covered"], "lines_total": total["line_total"],
            "branches_covered": total["branch_covered"], "branches_total": total["branch_total"],
            "html": html}


def target_entry(seconds, engines, corpus_before, corpus_after, new_inputs, crash_files, kept,
                 coverage):
    """One target's part of the summary. engines: engines.engine_stats(); kept: crashes.py's
    (kind, file, report) list; coverage: (lines %, branches %) or None."""
    rates = [e["execs_per_s"] for e in engines.values()]
    firsts = [e["first_crash_s"] for e in engines.values() if e.get("first_crash_s") is not None]
    first_line = lambda text: text.splitlines()[0][:300] if text else ""
    return {
        "seconds": seconds,
        "engines": engines,
        "execs": sum(e["execs"] for e in engines.values()),
        "execs_per_s": sum(rates),
        "corpus": {"before": corpus_before, "after": corpus_after, "new": new_inputs},
        "crashes": {
            "files": crash_files,
            "first_s": min(firsts) if firsts else None,
            "kept": [{"kind": k, "regress_file": f, "report": first_line(t)}
                     for k, f, t in kept if k not in ("not-reproduced", "open-bug")],
            "open_bug": [{"file": f, "report": first_line(t)} for k, f, t in kept if k == "open-bug"],
            "not_reproduced": len([1 for k, f, t in kept if k == "not-reproduced"])},
        "coverage": None if coverage is None else {"lines_pct": round(coverage[0], 2),
                                                   "branches_pct": round(coverage[1], 2)},
    }


def build_summary(*, mode, start, end, budget, targets, options, tool_versions, git, machine,
                  per_target, coverage, run_dir, history):
    """The whole summary; goals and exit status are filled in by finish()."""
    return {"schema": SCHEMA, "run_id": os.path.basename(run_dir), "mode": mode,
            "start": iso(start), "start_unix": round(start, 3), "end": iso(end),
            "duration_s": round(end - start, 1), "budget_s": budget,
            "targets_run": targets, "options": options, "git": git, "machine": machine,
            "tools": tool_versions, "targets": per_target, "coverage": coverage,
            "run_dir": run_dir, "history": history,
            "report": "index.html"}


def evaluate_goals(summary):
    """[{name, kind, target, minimum, value, met, detail}] — met is None when the run did not
    measure the goal (its target not fuzzed; coverage only when every target ran)."""
    out = []
    for g in GOALS:
        value, detail = None, ""
        if g.kind == "rate":
            t = summary.get("targets", {}).get(g.target)
            if t and t.get("engines"):
                value = t["execs_per_s"]
                e = t["engines"]
                parts = ["%s %.0f" % (name, e[k]["execs_per_s"])
                         for k, name in (("libfuzzer", "libFuzzer"), ("afl", "AFL++")) if k in e]
                detail = " + ".join(parts) + " execs/s (wall clock)"
                if "libfuzzer" in e:
                    detail += "; libFuzzer %.0f per CPU second" % e["libfuzzer"]["execs_per_cpu_s"]
        elif g.kind == "lines":  # of all targets together: measured when every one ran
            c = (summary.get("coverage") or {}).get("checked_in")
            if c and set(TARGETS) <= set(summary.get("targets_run") or []):
                value = c["lines_pct"]
                detail = "%d of %d lines" % (c["lines_covered"], c["lines_total"])
        else:
            raise ValueError("unknown goal kind %r" % g.kind)
        out.append({"name": goal_name(g), "kind": g.kind, "target": g.target,
                    "minimum": g.minimum, "value": value,
                    "met": None if value is None else value >= g.minimum, "detail": detail})
    return out


def crashed(summary):
    return any(t["crashes"]["files"] > 0 for t in summary.get("targets", {}).values())


def finish(summary, fail_on_missed):
    """Evaluates the goals and sets exit_status and verdict: 1 if anything crashed, else 3 if a
    goal was missed and fail_on_missed, else 0."""
    summary["goals"] = evaluate_goals(summary)
    missed = [g["name"] for g in summary["goals"] if g["met"] is False]
    if crashed(summary):
        status, verdict = EXIT_CRASH, "CRASHES FOUND"
    elif missed and fail_on_missed:
        status, verdict = EXIT_MISSED, "MISSED: " + "; ".join(missed)
    else:
        status = EXIT_OK
        verdict = "no crashes" + ("; missed: " + "; ".join(missed) if missed else "")
    summary["fail_on_missed_target"] = fail_on_missed
    summary["exit_status"], summary["verdict"] = status, verdict
    return status


def write_json(path, summary):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def append_history(path, summary):
    """One line per run, appended (earlier lines are never rewritten)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(summary, ensure_ascii=False, separators=(",", ":")) + "\n")


def read_history(path):
    """(summaries in file order, number of lines that were not a summary of this schema)."""
    runs, bad = [], 0
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return runs, 0
    with f:
        for line in f:
            if not line.strip():
                continue
            try:
                s = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(s, dict) and s.get("schema") == SCHEMA:
                runs.append(s)
            else:
                bad += 1
    return runs, bad


# ---- The printed summary -------------------------------------------------------------------------


def print_summary(s):
    log("")
    m = s["machine"]
    log("== summary of run %s (%s, %s cores, load %s; commit %s)" % (
        s["run_id"], m.get("cpu_model"), m.get("cores"),
        " ".join("%.1f" % x for x in m.get("load_average") or []),
        (s["git"].get("commit") or "?")[:12]))
    if s["targets"]:
        cols = "%-14s %10s %8s %8s %10s %8s %8s %7s %5s %7s %9s %7s %8s"
        log(cols % ("target", "libFuzzer", "execs/s", "per CPU", "AFL++", "execs/s", "together",
                    "corpus", "new", "crashes", "1st crash", "lines", "branches"))
        log(cols % ("", "execs", "", "second", "execs", "", "execs/s", "", "", "", "",
                    "lib/src", "lib/src"))
        rule = "-" * 128
        log(rule)
        for name, t in s["targets"].items():
            lf = t["engines"].get("libfuzzer", {})
            afl = t["engines"].get("afl", {})
            c = t["crashes"]
            first = "%.0f s" % c["first_s"] if c["first_s"] is not None else \
                ("seed" if c["files"] else "-")
            cov = t["coverage"] or {}
            log("%-14s %10d %8.0f %8.0f %10d %8.0f %8.0f %7d %5d %7d %9s %6.1f%% %7.1f%%" % (
                name, lf.get("execs", 0), lf.get("execs_per_s", 0), lf.get("execs_per_cpu_s", 0),
                afl.get("execs", 0), afl.get("execs_per_s", 0), t["execs_per_s"],
                t["corpus"]["after"], t["corpus"]["new"], c["files"], first,
                cov.get("lines_pct", float("nan")), cov.get("branches_pct", float("nan"))))
        log(rule)
    cov = s["coverage"] or {}
    if not s["targets"]:
        for t, c in cov.get("per_target", {}).items():
            log("  %-14s lines %5.1f%%  branches %5.1f%%" % (t, c["lines_pct"], c["branches_pct"]))
    together = "all targets" if set(TARGETS) <= set(s.get("targets_run") or []) else \
        " + ".join(s.get("targets_run") or [])
    for key, what in (("after_campaign", "the corpus after the run"),
                      ("checked_in", "the checked-in corpus")):
        c = cov.get(key)
        if c:
            log("  %s, %s: lines %.1f%% (%d/%d), branches %.1f%% (%d/%d) of lib/src; "
                "coverage report: %s" % (together, what, c["lines_pct"], c["lines_covered"],
                                         c["lines_total"], c["branches_pct"], c["branches_covered"],
                                         c["branches_total"], c["html"]))
    lacking = cov.get("without_kernels_cpu_lacks")
    if lacking:
        log("  without the kernels this CPU cannot run (%s: it lacks %s): lines %.1f%%, "
            "branches %.1f%%" % (", ".join(lacking["files"]), ", ".join(lacking["cpu_lacks"]),
                                 lacking["lines_pct"], lacking["branches_pct"]))
    if cov.get("not_compiled"):
        log("  not compiled in the coverage build, so not counted: %s (the MPI backend needs "
            "mpirun: suite mpi; the fault-injection hooks are compiled out of releases: suite "
            "faults)" % ", ".join(cov["not_compiled"]))
    if s["targets"]:
        log("  execs/s are wall-clock rates while both engines shared the machine with everything "
            "else; per CPU second is libFuzzer's rate per second of its own CPU time")
    log("")
    log("goals (--fail-on-missed-target makes a missed one fail the run with status 3):")
    for g in s["goals"]:
        if g["met"] is None:
            state, value = "not measured", "-"
        else:
            state = "met" if g["met"] else "MISSED"
            value = ("%.0f execs/s" % g["value"]) if g["kind"] == "rate" else "%.1f %%" % g["value"]
        log("  %-58s %-16s %-12s %s" % (g["name"], value, state, g["detail"]))
    kept = [(n, k) for n, t in s["targets"].items() for k in t["crashes"]["kept"]]
    if kept:
        log("")
        log("crashes kept (corpus/<target>/regress-*; commit them, never delete them):")
        for n, k in kept:
            log("  %-14s %-26s %s" % (n, k["kind"], k["regress_file"]))
            if k["report"]:
                log("  %-14s %-26s   %s" % ("", "", k["report"][:150]))
    log("")
    log("  summary: %s" % os.path.join(s["run_dir"], "summary.json"))
    log("  report:  %s" % os.path.join(s["run_dir"], s["report"]))
    log("  history: %s" % s["history"])
    log("fuzz-campaign: %s (exit status %d)" % (s["verdict"], s["exit_status"]))
