#!/usr/bin/env python3
"""Runs the Frama-C/WP proof units of proofs/ and compares them with proofs/oracle/.

  run_wp.py --source-root S --build-root B unit NAME [--update-oracle]
  run_wp.py --source-root S --build-root B mutants [NAME...] [--full-timeouts]

A unit (proofs/units/NAME.json) proves one source file of the library, preprocessed with the very
flags the library is compiled with (read from B/compile_commands.json). Its result must equal
proofs/oracle/NAME.json exactly: the same total number of goals, the same number proved, the same
list of goals left unknown (empty is the goal). Any difference, in either direction, fails.

A mutant (proofs/mutants/*.sed) is a copy of a unit's source with one rule removed or weakened; it
is proven with the same flags (plus the [mutant] flags of wp.flags: short timeouts; only the
functions it names) and must FAIL: at least the goals it names stay unproved. So the suite cannot
pass because the contracts have stopped saying anything.

Exit status: 0 all as expected, 1 a difference or a missing tool. Whether the suite exists at all is
decided by meson (option `proofs`: auto builds it when frama-c, why3, z3 and cvc4 are found), so a
tool missing here is a broken setup and fails rather than skips.
Every run ends with the line "N passed, N failed".
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

INSTALL_HINT = ("Frama-C or a prover is not installed. Install them with scripts/setup.sh (Debian: "
                "apt-get install frama-c-base why3 z3 cvc4), then re-run: meson test --suite proofs "
                "(or configure with -Dproofs=disabled to drop the suite)")

# Tools whose versions the oracle records; the command and how to read the version.
TOOLS = {
    "frama-c": (["frama-c", "-version"], r"(\S.*)"),
    "why3": (["why3", "--version"], r"version (\S+)"),
    "z3": (["z3", "--version"], r"version (\S+)"),
    "cvc4": (["cvc4", "--version"], r"version (\S+)"),
}


def log(msg):
    print(msg, flush=True)


# ---- configuration -------------------------------------------------------------------------------

def read_flags(path):
    """proofs/wp.flags -> (common flags, [flags of each pass], flags added to each pass of a
    mutant)."""
    common, passes, mutant, cur = [], [], [], None
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if line == "[common]":
                cur = common
            elif line == "[pass]":
                passes.append([])
                cur = passes[-1]
            elif line == "[mutant]":
                cur = mutant
            else:
                cur.append(line)
    return common, passes, mutant


def load_unit(src_root, name):
    with open(os.path.join(src_root, "proofs", "units", name + ".json")) as f:
        unit = json.load(f)
    unit["name"] = name
    return unit


def tool_versions():
    versions = {}
    for tool, (cmd, pattern) in TOOLS.items():
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            versions[tool] = None
            continue
        m = re.search(pattern, out.strip().splitlines()[0] if out.strip() else "")
        versions[tool] = m.group(1).strip() if m else None
    return versions


def why3_config(build_root):
    """A Why3 configuration of our own (never ~/.why3.conf), detected once per build dir and again
    whenever a tool's version changes (a stale configuration would name provers that are gone)."""
    path = os.path.join(build_root, "proofs", "why3.conf")
    stamp = path + ".versions"
    versions = json.dumps(tool_versions(), sort_keys=True)
    try:
        with open(stamp) as f:
            fresh = f.read() == versions
    except FileNotFoundError:
        fresh = False
    if not fresh or not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".%d.tmp" % os.getpid()
        env = dict(os.environ, WHY3CONFIG=tmp)
        r = subprocess.run(["why3", "config", "detect"], env=env, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(tmp):
            raise SystemExit("why3 config detect failed:\n" + r.stdout + r.stderr)
        os.replace(tmp, path)
        with open(stamp, "w") as f:
            f.write(versions)
    return path


def compile_flags(src_root, build_root, source):
    """-I/-D/-U/-std flags the library compiles `source` with (B/compile_commands.json)."""
    db_path = os.path.join(build_root, "compile_commands.json")
    with open(db_path) as f:
        db = json.load(f)
    want = os.path.realpath(os.path.join(src_root, source))
    for entry in db:
        path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        args = entry.get("arguments") or shlex.split(entry["command"])
        out = args[args.index("-o") + 1] if "-o" in args else ""
        if path != want or "libqmar" not in out:
            continue
        flags, i = [], 0
        while i < len(args):
            a = args[i]
            if a in ("-I", "-D", "-U", "-include"):
                a, i = a + args[i + 1], i + 1
            if a.startswith("-I"):
                flags.append("-I" + os.path.normpath(os.path.join(entry["directory"], a[2:])))
            elif a.startswith(("-D", "-U", "-std=")):
                flags.append(a)
            i += 1
        return flags
    raise SystemExit("%s is not compiled into libqmar according to %s: the proofs only prove code "
                     "that is linked into the library" % (source, db_path))


# ---- running WP ----------------------------------------------------------------------------------

GOAL_RE = re.compile(r"^\[wp\] \[([^\]]+)\] Goal (\S+) : (\S+)")
FAILED_RE = re.compile(r"^\[wp\] \[Failed\] Goal (\S+)")
SCHEDULED_RE = re.compile(r"^\[wp\] (\d+) goals? scheduled")


def run_wp(src_root, build_root, unit, source_path, functions, workdir, label, mutant=False):
    """Runs every pass of wp.flags on one file; returns ({goal: proved?}, seconds, log path).
    A mutant's passes get the [mutant] flags of wp.flags too (unless full_mutants is set)."""
    common, passes, mutant_flags = read_flags(os.path.join(src_root, "proofs", "wp.flags"))
    if not mutant or unit.get("full_mutants"):
        mutant_flags = []
    cpp = compile_flags(src_root, build_root, unit["source"])
    cmd = ["frama-c", "-cpp-extra-args=" + " ".join(shlex.quote(f) for f in cpp), source_path]
    fct = [] if functions == "all" else ["-wp-fct", ",".join(functions)]
    for i, p in enumerate(passes):
        if i:
            cmd.append("-then")
        cmd += common + fct + list(unit.get("flags", [])) + p + mutant_flags
    env = dict(os.environ, WHY3CONFIG=why3_config(build_root))
    os.makedirs(workdir, exist_ok=True)
    log_path = os.path.join(workdir, label + ".log")
    start = time.time()
    with open(log_path, "w") as out:
        out.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        out.flush()
        r = subprocess.run(cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.time() - start
    goals, scheduled = {}, None
    with open(log_path) as f:
        for line in f:
            m = SCHEDULED_RE.match(line)
            if m and scheduled is None:
                scheduled = int(m.group(1))
            m = GOAL_RE.match(line)
            if m and m.group(1) != "Failed":
                goals[m.group(2)] = goals.get(m.group(2), False) or m.group(3) == "Valid"
                continue
            m = FAILED_RE.match(line)
            if m:
                goals.setdefault(m.group(1), False)
    if r.returncode != 0 or scheduled is None:
        raise SystemExit("frama-c failed (exit %d) on %s; see %s" % (r.returncode, label, log_path))
    return goals, seconds, log_path


# ---- a unit against its oracle -------------------------------------------------------------------

def check_tools(expected):
    actual = tool_versions()
    bad = ["%s %s (oracle: %s)" % (t, actual.get(t), v) for t, v in expected.items()
           if actual.get(t) != v]
    return actual, bad


def cmd_unit(args):
    src, build = args.source_root, args.build_root
    unit = load_unit(src, args.name)
    oracle_path = os.path.join(src, "proofs", "oracle", args.name + ".json")
    actual_tools = tool_versions()
    workdir = os.path.join(build, "proofs", args.name)
    log("unit %s: %s (%s)" % (args.name, unit["source"], unit["what"]))
    goals, seconds, log_path = run_wp(src, build, unit, os.path.join(src, unit["source"]),
                                      unit["functions"], workdir, args.name)
    proved = sorted(g for g, ok in goals.items() if ok)
    unknown = sorted(g for g, ok in goals.items() if not ok)
    log("unit %s: %d / %d goals proved in %.0f s (log: %s)"
        % (args.name, len(proved), len(goals), seconds, log_path))
    result = {"unit": args.name, "source": unit["source"], "total": len(goals),
              "proved": len(proved), "unknown": unknown, "tools": actual_tools}
    if args.update_oracle:
        with open(oracle_path, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        log("wrote %s" % oracle_path)
        log("%d passed, 0 failed" % len(goals))
        return 0
    try:
        with open(oracle_path) as f:
            oracle = json.load(f)
    except FileNotFoundError:
        log("FAIL: no oracle %s (create it with --update-oracle, CONTRIBUTING.md)" % oracle_path)
        log("0 passed, 1 failed")
        return 1
    failed = []
    _, bad_tools = check_tools(oracle["tools"])
    failed += ["tool version differs: " + b for b in bad_tools]
    if len(goals) != oracle["total"]:
        failed.append("total goals %d, oracle %d" % (len(goals), oracle["total"]))
    if len(proved) != oracle["proved"]:
        failed.append("proved goals %d, oracle %d" % (len(proved), oracle["proved"]))
    allowed = set(oracle["unknown"])
    failed += ["unproved, not allowed by the oracle: " + g for g in unknown if g not in allowed]
    failed += ["proved now, but listed as unknown in the oracle: " + g
               for g in sorted(allowed) if goals.get(g)]
    failed += ["listed as unknown in the oracle, no longer exists: " + g
               for g in sorted(allowed) if g not in goals]
    for f in failed:
        log("FAIL: " + f)
    if failed:
        log("(refresh the oracle only for an intended change: CONTRIBUTING.md, 'Proofs')")
    passed = sum(1 for g, ok in goals.items() if ok == (g not in allowed))
    log("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


# ---- mutants -------------------------------------------------------------------------------------

def read_mutant(path):
    meta = {"name": os.path.splitext(os.path.basename(path))[0], "path": path}
    with open(path) as f:
        for line in f:
            m = re.match(r"#\s*(\w+):\s*(.*)", line)
            if m:
                meta[m.group(1)] = m.group(2).strip()
    for key in ("unit", "functions", "expect", "mutation"):
        if key not in meta:
            raise SystemExit("%s: missing '# %s:' header line" % (path, key))
    meta["functions"] = meta["functions"].split()
    meta["expect"] = meta["expect"].split()
    return meta


def cmd_mutants(args):
    src, build = args.source_root, args.build_root
    mdir = os.path.join(src, "proofs", "mutants")
    paths = sorted(os.path.join(mdir, f) for f in os.listdir(mdir) if f.endswith(".sed"))
    if args.names:
        known = {os.path.splitext(os.path.basename(p))[0] for p in paths}
        unknown = [n for n in args.names if n not in known]
        if unknown:
            raise SystemExit("no mutant %s in %s" % (" ".join(unknown), mdir))
        paths = [p for p in paths if os.path.splitext(os.path.basename(p))[0] in args.names]
    passed, failed = 0, 0
    for path in paths:
        meta = read_mutant(path)
        unit = load_unit(src, meta["unit"])
        workdir = os.path.join(build, "proofs", "mutants", meta["name"])
        os.makedirs(workdir, exist_ok=True)
        original = os.path.join(src, unit["source"])
        copy = os.path.join(workdir, os.path.basename(unit["source"]))
        with open(copy, "w") as out:
            r = subprocess.run(["sed", "-f", path, original], stdout=out)
        with open(original) as a, open(copy) as b:
            changed = a.read() != b.read()
        if r.returncode != 0 or not changed:
            log("FAIL %s: the sed script no longer changes %s (update the mutant)"
                % (meta["name"], unit["source"]))
            failed += 1
            continue
        if args.full_timeouts:
            unit["full_mutants"] = True
        goals, seconds, log_path = run_wp(src, build, unit, copy, meta["functions"], workdir,
                                          meta["name"], mutant=True)
        unproved = sorted(g for g, ok in goals.items() if not ok)
        missing = [g for g in meta["expect"] if goals.get(g, True)]
        if unproved and not missing:
            log("killed   %-28s %s: %s unproved (%.0f s)"
                % (meta["name"], meta["mutation"], ", ".join(unproved), seconds))
            passed += 1
        else:
            log("FAIL %s: %s; expected unproved %s, unproved were [%s] (log: %s)"
                % (meta["name"], meta["mutation"], " ".join(meta["expect"]),
                   ", ".join(unproved), log_path))
            failed += 1
    log("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unit")
    u.add_argument("name")
    u.add_argument("--update-oracle", action="store_true",
                   help="write proofs/oracle/NAME.json from this run instead of checking it")
    m = sub.add_parser("mutants")
    m.add_argument("names", nargs="*")
    m.add_argument("--full-timeouts", action="store_true",
                   help="leave out the [mutant] flags of wp.flags: prove each mutant with the "
                        "timeouts of the units (slow; to check that a new mutant is not killed "
                        "by a timeout alone)")
    args = ap.parse_args()
    args.source_root = os.path.abspath(args.source_root)
    args.build_root = os.path.abspath(args.build_root)
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        log("missing: " + " ".join(missing))
        log(INSTALL_HINT)
        log("0 passed, 1 failed")
        return 1
    return cmd_unit(args) if args.cmd == "unit" else cmd_mutants(args)


if __name__ == "__main__":
    sys.exit(main())
