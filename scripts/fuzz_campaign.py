#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The nightly fuzz campaign (run through scripts/fuzz-campaign, which installs the tools first).

Given a time budget in seconds it
  1. builds the harnesses three ways under the build directory (build-fuzz/): libfuzzer (clang,
     -fsanitize=fuzzer + ASan + UBSan, every UB fatal), afl (afl-clang-fast, AFL++'s driver
     behind -fsanitize=fuzzer) and cov (gcc --coverage replay mains);
  2. gives each target an equal share of the budget, and for that time runs libFuzzer and AFL++
     side by side on it, each from a copy of corpus/<target>/, printing a progress line every few
     seconds;
  3. merges what they found into corpus/<target>/ with libFuzzer's -merge=1 (only inputs that add
     coverage; they are named auto-<sha1>);
  4. replays every crash (both engines) under ASan/UBSan, names it by what broke, minimises it
     and keeps it as corpus/<target>/regress-<what>-<n>;
  5. measures line and branch coverage of lib/src per target and for all together (gcovr);
  6. writes the run's directory build-fuzz/runs/<UTC time>/ (summary.json, campaign.log, the
     report page index.html with plots over time, coverage/ and coverage-checked-in/ HTML, work/),
     points build-fuzz/latest at it, appends the summary to the history file, prints a summary.
Exit status: 0; 1 if anything crashed; 2 on a setup error (or a failure of the campaign itself); 3 if a goal was missed and
--fail-on-missed-target was given (a crash takes precedence). The parts are in fuzz/campaign/.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz"))
from campaign import summary as S  # noqa: E402
from campaign.builds import build_all  # noqa: E402
from campaign.common import ROOT, SetupError, children, corpus_dir, log, set_log_file  # noqa: E402
from campaign.coverage import coverage, summary_block  # noqa: E402
from campaign.crashes import keep_crashes, merge  # noqa: E402
from campaign.engines import engine_stats, fuzz_target, prune_work  # noqa: E402
from campaign.report import render  # noqa: E402
from campaign.targets import TARGETS  # noqa: E402


def corpus_files(target):
    d = corpus_dir(target)
    return sorted(os.path.join(d, f) for f in os.listdir(d))


def fuzz_all(args, targets, dirs, run_dir):
    """Fuzzes, merges and triages every target; returns the summary's per-target entries."""
    share = max(10, args.budget // len(targets))
    per_target = {}
    for t in targets:
        log("== fuzzing %s for %d s" % (t, share))
        work = os.path.join(run_dir, "work", t)
        before = len(os.listdir(corpus_dir(t)))
        lf, afl, elapsed = fuzz_target(t, dirs, work, share, args.interval, not args.no_afl)
        added = 0 if args.no_merge else merge(t, dirs, work, lf, afl)
        raw, kept = keep_crashes(t, dirs, work, lf, afl)
        for kind, name, text in kept:
            if kind == "open-bug":
                log("  CRASH again (regress files of its kind already fail: not kept): %s  %s" % (
                    name, text.splitlines()[0][:120] if text else ""))
            elif kind != "not-reproduced":
                log("  CRASH %s: %s  %s" % (kind, name, text.splitlines()[0][:160] if text else ""))
        nr = [k for k in kept if k[0] == "not-reproduced"]
        if nr:
            log("  %d crash files of %s do not fail when replayed alone under ASan/UBSan (e.g. "
                "heap damage that surfaced in a later input of AFL++'s persistent loop): %s" % (
                    len(nr), t, os.path.dirname(nr[0][1])))
        log("  %s done: %d new inputs merged, %d crash files (%d distinct kept)" % (
            t, added, len(raw), len([k for k in kept
                                     if k[0] not in ("not-reproduced", "open-bug")])))
        per_target[t] = S.target_entry(share, engine_stats(lf, afl, elapsed), before,
                                       len(os.listdir(corpus_dir(t))), added, len(raw), kept, None)
    return per_target


def measure_coverage(args, targets, dirs, run_dir, checked_in):
    log("== coverage of lib/src (gcc --coverage, replaying the corpus; fuzz_op once per kernel)")
    per, total, _ = coverage(dirs, os.path.join(run_dir, "coverage"),
                             {t: [corpus_dir(t)] for t in targets})
    if checked_in is None:  # the corpus is the checked-in one
        return summary_block(per, None, None, total, "coverage/index.html")
    _, base, _ = coverage(dirs, os.path.join(run_dir, "coverage-checked-in"), checked_in)
    return summary_block(per, total, "coverage/index.html", base,
                         "coverage-checked-in/index.html")


def campaign(args, targets, out, history):
    start = time.time()
    run_dir = S.new_run_dir(out, start)
    set_log_file(os.path.join(run_dir, "campaign.log"))
    # what is built and run: taken at the start, before anything (a commit meanwhile) changes it
    machine, git, tools = S.machine_info(), S.git_info(), S.tool_versions()
    mode = "coverage-only" if args.coverage_only else "fuzz"
    if args.coverage_only:
        log("fuzz-campaign --coverage-only: lib/src coverage of corpus/ as it is; run %s" % run_dir)
    else:
        log("fuzz-campaign: %d s over %d targets (%d s each), libFuzzer%s side by side; %d CPUs, "
            "load %.1f; run %s" % (args.budget, len(targets), max(10, args.budget // len(targets)),
                                   "" if args.no_afl else " and AFL++", machine["cores"] or 0,
                                   (machine["load_average"] or [0])[0], run_dir))
    log("== building (%s)" % out)
    dirs = build_all(out, only=("cov",) if args.coverage_only else None)
    per_target, checked_in = {}, None
    if not args.coverage_only:
        if not args.no_merge:
            checked_in = {t: corpus_files(t) for t in targets}
        per_target = fuzz_all(args, targets, dirs, run_dir)
    cov = measure_coverage(args, targets, dirs, run_dir, checked_in)
    if not args.keep_work:
        for t in per_target:
            prune_work(os.path.join(run_dir, "work", t))
    for t, entry in per_target.items():
        entry["coverage"] = cov["per_target"].get(t)
    machine["load_average_end"] = S.load_average()
    s = S.build_summary(
        mode=mode, start=start, end=time.time(), budget=None if args.coverage_only else args.budget,
        targets=targets, options={"afl": not args.no_afl, "merge": not args.no_merge,
                                  "interval_s": args.interval},
        tool_versions=tools, git=git, machine=machine,
        per_target=per_target, coverage=cov, run_dir=run_dir, history=history)
    return publish(s, run_dir, out, history, args.fail_on_missed_target, append=True)


def publish(s, run_dir, out, history, fail_on_missed, append):
    """Goals and exit status, summary.json, the history line, the report page, `latest`."""
    status = S.finish(s, fail_on_missed)
    S.write_json(os.path.join(run_dir, "summary.json"), s)
    if append:
        S.append_history(history, s)
    runs, bad = S.read_history(history)
    if not any(r.get("run_id") == s["run_id"] and r.get("start") == s["start"] for r in runs):
        runs.append(s)  # --render of a run the history does not hold
    render(run_dir, s, runs, bad)
    if out:
        S.link_latest(out, run_dir)
    S.print_summary(s)
    return status


def rerender(args):
    """--render RUN_DIR: goals, exit status and report page again from the run's summary.json."""
    run_dir = os.path.abspath(args.render)
    try:
        s = json.load(open(os.path.join(run_dir, "summary.json"), encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SetupError("cannot read %s/summary.json: %s" % (run_dir, e))
    if s.get("schema") != S.SCHEMA:
        raise SetupError("%s/summary.json is not a %s summary" % (run_dir, S.SCHEMA))
    history = os.path.abspath(args.history) if args.history else s["history"]
    s["history"], s["run_dir"] = history, run_dir  # the run may have been moved since
    return publish(s, run_dir, None, history, args.fail_on_missed_target, append=False)


def main():
    ap = argparse.ArgumentParser(
        description="qmar's nightly fuzz campaign",
        epilog="exit status: 0 ok; 1 a crash; 2 a setup error; 3 a missed goal (with "
               "--fail-on-missed-target; a crash takes precedence)")
    ap.add_argument("budget", type=int, nargs="?", default=600,
                    help="seconds of fuzzing in all (split equally over the targets)")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--out", default=os.path.join(ROOT, "build-fuzz"),
                    help="build dirs, runs/<UTC time>/ of each run and `latest` go here")
    ap.add_argument("--history", help="the JSON-lines file each run's summary is appended to "
                    "(default: OUT/history.jsonl)")
    ap.add_argument("--interval", type=int, default=10, help="seconds between progress lines")
    ap.add_argument("--no-afl", action="store_true", help="libFuzzer only")
    ap.add_argument("--no-merge", action="store_true", help="leave corpus/ as it is")
    ap.add_argument("--coverage-only", action="store_true",
                    help="no fuzzing: coverage of lib/src from the corpus as it is, and the report")
    ap.add_argument("--keep-work", action="store_true",
                    help="keep the engines' working corpora and queues in the run's work/ "
                         "(by default only their logs, crash and hang files stay)")
    ap.add_argument("--fail-on-missed-target", action="store_true",
                    help="exit with status 3 if a rate or coverage goal was missed")
    ap.add_argument("--render", metavar="RUN_DIR",
                    help="no campaign: evaluate the goals of RUN_DIR/summary.json again, rewrite "
                         "its report page from the history, exit with its status")
    args = ap.parse_args()
    if args.render:
        return rerender(args)
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        if t not in TARGETS:
            raise SetupError("unknown target %s (known: %s)" % (t, ", ".join(TARGETS)))
    if not targets:
        raise SetupError("no targets")
    out = os.path.abspath(args.out)
    history = os.path.abspath(args.history) if args.history else os.path.join(out, "history.jsonl")
    if shutil.which("gcovr") is None:
        raise SetupError("gcovr is missing (scripts/fuzz-campaign installs it)")
    return campaign(args, targets, out, history)


def on_signal(sig, frame):
    for p in children:
        if p.poll() is None:
            p.kill()
    sys.exit(130)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        status = main()
    except SetupError as e:
        log("fuzz-campaign: %s" % e)
        status = S.EXIT_SETUP
    except Exception:  # a bug of the campaign itself is no crash of a target: status 2 too
        log(traceback.format_exc())
        log("fuzz-campaign: the campaign failed (above)")
        status = S.EXIT_SETUP
    finally:  # whatever happened, no engine outlives the campaign
        for p in children:
            if p.returncode is None and p.poll() is None:
                p.kill()
    sys.exit(status)
