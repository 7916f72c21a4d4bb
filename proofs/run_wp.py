#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the Frama-C/WP proof units of proofs/ and compares them with proofs/oracle/.

  run_wp.py --source-root S --build-root B unit NAME [--update-oracle] [--save-cache] [--cache M]
  run_wp.py --source-root S --build-root B mutants [NAME...] [--full-timeouts] [--save-cache]
                                                   [--cache M] [--shard I/N]

A unit (proofs/units/NAME.json) proves one source file of the library, preprocessed with the very
flags the library is compiled with (read from B/compile_commands.json). Its result must equal
proofs/oracle/NAME.json exactly: the same total number of goals, the same number proved, the same
list of goals left unknown (empty is the goal). Any difference, in either direction, fails.

A mutant (proofs/mutants/*.sed) is a copy of a unit's source with one rule removed or weakened; it
is proven with the same flags (plus the [mutant] flags of wp.flags: short timeouts; only the
functions it names; only the properties it selects, when it names a selection; no smoke pass unless
it expects a failed smoke test) and must FAIL: at least the goals it names stay unproved. So the
suite cannot
pass because the contracts have stopped saying anything.

What is reused from an earlier run (proofs/README.md, "The cache"), --cache M or the environment
variable QMAR_PROOFS_CACHE (the option wins):
  result  (default) a unit or mutant whose inputs (every file the preprocessor reads, the complete
          frama-c command, the tool versions, this runner) hash to the key of its committed result
          (proofs/cache/results/) takes that result without starting frama-c; otherwise as `wp`.
  wp      frama-c runs and every goal is generated again; a goal whose text is in the committed
          WP cache (proofs/cache/NAME.json) takes its recorded prover verdict.
  none    from scratch: every goal goes to the provers (a release check).
--save-cache and --update-oracle always run frama-c (at least `wp`).

Exit status: 0 all as expected, 1 a difference or a missing tool. Whether the suite exists at all is
decided by meson (option `proofs`: auto builds it when frama-c, why3, z3 and cvc4 are found), so a
tool missing here is a broken setup and fails rather than skips.
Every run ends with the line "N passed, N failed".
"""
import argparse
import fcntl
import hashlib
import json
import os
import re
import resource
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


# --cache: what a run may reuse (module docstring; proofs/README.md, "The cache").
CACHE_MODES = ("result", "wp", "none")


def log(msg):
    print(msg, flush=True)


def write_atomic(path, text):
    """Writes a file that another test may be reading or writing at the same moment (the suite's
    tests run side by side: the summary, the Why3 configuration's stamp): a reader sees the old
    text or the new one, never half of it, and of two writers the last one wins whole."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


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


def unit_file(src_root, unit, workdir, header=None):
    """The file frama-c parses. A unit of a header's static inline functions ("header") is proven
    through a one-line file that includes it (or the mutated copy `header`), preprocessed with the
    flags of "source", a library file that includes that header too."""
    if "header" not in unit:
        return os.path.join(src_root, unit["source"])
    with open(os.path.join(src_root, unit["source"])) as f:
        if os.path.basename(unit["header"]) not in f.read():
            raise SystemExit("%s does not include %s" % (unit["source"], unit["header"]))
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "unit_" + os.path.basename(unit["header"]).replace(".", "_") + ".c")
    with open(path, "w") as f:
        f.write('#include "%s"\n' % (header or os.path.join(src_root, unit["header"])))
    return path


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
        write_atomic(stamp, versions)
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
        # the library's objects, or the model's (spec/model, the tests' oracle: unit accept)
        if path != want or not re.search(r"(^|/)libqmar(_model)?\.(a|so)[^/]*\.p/", out):
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
    raise SystemExit("%s is not compiled into libqmar or qmar_model according to %s: the proofs "
                     "only prove code that is linked into them" % (source, db_path))


# ---- running WP ----------------------------------------------------------------------------------

GOAL_RE = re.compile(r"^\[wp\] \[([^\]]+)\] Goal (\S+) : (\S+)(.*)$")
FAILED_RE = re.compile(r"^\[wp\] \[Failed\] Goal (\S+)")
SMOKE_RE = re.compile(r"^\[wp\] \[(Passed|Failed|Unknown)\] Smoke-test (\S+)")
SCHEDULED_RE = re.compile(r"^\[wp\] (\d+) goals? scheduled")
CACHE_RE = re.compile(r"^\[wp\] \[Cache\] (.*)")
FUNCTION_RE = re.compile(r"^\[rte:annot\] annotating function (\S+)")
TIME_RE = re.compile(r"\((\d+(?:\.\d+)?)(ms|s)\)")


def prover_seconds(rest):
    """Prover time of a goal line ("(Qed:2ms) (60ms) (10361) (cached)" -> 0.06); 0 for Qed."""
    times = TIME_RE.findall(rest.replace("(Qed:", "(qed:"))
    return sum(float(v) / (1000 if u == "ms" else 1) for v, u in times)


def cache_pack_path(src_root, cache_name):
    return os.path.join(src_root, "proofs", "cache", cache_name + ".json")


def load_cache_pack(src_root, cache_name):
    try:
        with open(cache_pack_path(src_root, cache_name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save_cache_pack(src_root, cache_name, entries):
    """One line per entry, sorted: a refreshed cache diffs by the goals that changed."""
    path = cache_pack_path(src_root, cache_name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("{\n")
        items = sorted(entries.items())
        for i, (k, v) in enumerate(items):
            f.write("%s: %s%s\n" % (json.dumps(k), json.dumps(v),
                                    "," if i + 1 < len(items) else ""))
        f.write("}\n")


def prepare_cache(src_root, session, cache_name, from_scratch=False):
    """The WP cache of one run: a fresh <session>/cache holding the committed pack
    (proofs/cache/<name>.json), one <digest>.json per prover result (README.md, 'The cache').
    from_scratch: an empty cache, so that every goal goes to the provers."""
    cdir = os.path.join(session, "cache")
    os.makedirs(cdir, exist_ok=True)
    # What an earlier run in this build dir proved stays (an interrupted run resumes); anything
    # else it left (a failure, perhaps a timeout on a loaded machine) is tried again.
    for name in os.listdir(cdir):
        with open(os.path.join(cdir, name)) as f:
            if from_scratch or '"verdict": "valid"' not in f.read():
                os.remove(os.path.join(cdir, name))
    if from_scratch:
        return {}
    pack = load_cache_pack(src_root, cache_name)
    for digest, entry in pack.items():
        with open(os.path.join(cdir, digest + ".json"), "w") as f:
            f.write(entry)
    return pack


def read_cache_dir(session):
    cdir = os.path.join(session, "cache")
    out = {}
    for name in os.listdir(cdir):
        if name.endswith(".json"):
            with open(os.path.join(cdir, name)) as f:  # WP's text (not always strict JSON)
                out[name[:-5]] = f.read().strip()
    return out


class Run:
    """What one frama-c run found: goals (name -> proved?), the prover and time of each, the
    smoke tests (name -> passed?), the functions, the cache counts, the wall time."""
    def __init__(self):
        self.goals, self.prover, self.time, self.smoke = {}, {}, {}, {}
        self.functions, self.cache, self.seconds, self.log = [], [], 0.0, ""
        self.cache_new = self.cache_dropped = self.cache_changed = 0
        self.cache_entries, self.cache_name = {}, None
        # cpu: CPU seconds of frama-c and its provers (a loaded machine stretches the wall time,
        # not this); key/inputs: what the result depends on (result records); how: where the
        # result came from ("recorded result", "WP cache", "from scratch").
        self.cpu, self.key, self.inputs, self.how = 0.0, None, None, ""


def function_of(goal, functions):
    """The function a goal belongs to: typed_[real_|cast_]<function>_<property> (the prefix of
    WP's model: Typed, Typed+real, Typed+cast), longest match. The goal is matched both with and
    without the model's word, so that a function named cast_... or real_... is still found."""
    names = {re.sub(r"^typed_", "", goal), re.sub(r"^typed_(real_|cast_)?", "", goal)}
    best = ""
    for f in functions:
        g = re.sub(r"_+", "_", f).strip("_")  # WP's goal names squeeze qmar__chunk to qmar_chunk
        if any(name == g or name.startswith(g + "_") for name in names) and len(f) > len(best):
            best = f
    return best or "(lemmas)"


def save_cache(src_root, run):
    """Commits a run's prover results and its result record (called only for a run that ended as
    expected: a timeout on a loaded machine must never become a cached failure)."""
    if run.how == "recorded result":
        return  # nothing was proven; the record and the WP cache already hold this result
    if run.cache_new or run.cache_dropped or run.cache_changed or \
            not os.path.exists(cache_pack_path(src_root, run.cache_name)):
        save_cache_pack(src_root, run.cache_name, run.cache_entries)
        log("wrote %s (%d new results, %d proven again, %d unused removed)"
            % (cache_pack_path(src_root, run.cache_name), run.cache_new, run.cache_changed,
               run.cache_dropped))
    save_result_record(src_root, run)


# ---- result records: a run's result, keyed by everything that determines it -----------------------

def result_record_path(src_root, cache_name):
    return os.path.join(src_root, "proofs", "cache", "results", cache_name + ".json")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def placeholders(text, src_root, build_root):
    """A path or flag with the two roots replaced, so that the key is the same in any checkout."""
    return text.replace(build_root, "<build>").replace(src_root, "<source>")


def preprocessor_inputs(src_root, build_root, cpp_args, source_path, workdir):
    """{file: sha256} of every file the preprocessor reads for this unit: the source (or mutated
    copy), every header and spec/acsl file it includes, Frama-C's libc headers. The list is the
    preprocessor's own (-M), run as Frama-C runs it (frama-c -print-cpp-commands), so an #include
    added anywhere adds its file; ACSL lives in comments, so the files' full text is hashed."""
    r = subprocess.run(["frama-c", cpp_args, source_path, "-print-cpp-commands"], cwd=workdir,
                       capture_output=True, text=True)
    lines = (r.stdout + r.stderr).splitlines()
    try:
        cpp = shlex.split(lines[[l.strip() for l in lines].index("[kernel] Preprocessing command:")
                                + 1])
    except (ValueError, IndexError):
        raise SystemExit("frama-c -print-cpp-commands printed no command:\n" + r.stdout + r.stderr)
    if "-o" in cpp:
        i = cpp.index("-o")
        del cpp[i:i + 2]
    cpp = ["-M" if a == "-E" else a for a in cpp]
    r = subprocess.run(cpp, cwd=workdir, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("preprocessing %s failed:\n%s" % (source_path, r.stderr))
    deps = r.stdout.replace("\\\n", " ").split(":", 1)[1].split()
    files = {}
    for d in deps:
        path = os.path.realpath(os.path.join(workdir, d))
        if path.startswith(build_root + os.sep):
            # Made by this runner (a mutant's copy, the one-line file of a header unit, which
            # names the header by its absolute path): hashed with the roots as placeholders.
            with open(path) as f:
                digest = hashlib.sha256(
                    placeholders(f.read(), src_root, build_root).encode()).hexdigest()
        else:
            digest = sha256_file(path)
        files[placeholders(path, src_root, build_root)] = digest
    files["<preprocessor>"] = hashlib.sha256(
        placeholders(" ".join(cpp), src_root, build_root).encode()).hexdigest()
    return files


def result_inputs(src_root, build_root, cmd, cpp_args, source_path, workdir, versions):
    """Everything a run's result depends on (proofs/README.md, "The cache", lists it)."""
    env = {k: v for k, v in sorted(os.environ.items())
           if k.startswith(("FRAMAC", "WHY3")) and k not in ("FRAMAC_WP_CACHE",
                                                             "FRAMAC_WP_CACHEDIR", "WHY3CONFIG")}
    return {"files": preprocessor_inputs(src_root, build_root, cpp_args, source_path, workdir),
            "command": [placeholders(c, src_root, build_root) for c in cmd],
            "tools": versions, "environment": env,
            "runner": sha256_file(os.path.abspath(__file__))}


def inputs_key(inputs):
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def what_changed(old, new):
    """The inputs that differ between a record and now, for the log (at most a few)."""
    changed = []
    for part in ("command", "tools", "environment", "runner"):
        if old.get(part) != new.get(part):
            changed.append(part)
    of, nf = old.get("files", {}), new.get("files", {})
    changed += [f for f in sorted(set(of) | set(nf)) if of.get(f) != nf.get(f)]
    return changed[:5] + (["..."] if len(changed) > 5 else [])


def load_result_record(src_root, cache_name, inputs):
    """A Run rebuilt from the committed record when its key is this run's key, else None."""
    try:
        with open(result_record_path(src_root, cache_name)) as f:
            rec = json.load(f)
    except FileNotFoundError:
        log("no recorded result (proofs/cache/results/%s.json): running frama-c" % cache_name)
        return None
    key = inputs_key(inputs)
    if rec.get("key") != key or inputs_key(rec.get("inputs", {})) != key:
        log("recorded result is for other inputs (changed: %s): running frama-c"
            % ", ".join(what_changed(rec.get("inputs", {}), inputs)))
        return None
    run = Run()
    res = rec["result"]
    for g, (ok, prover, secs) in res["goals"].items():
        run.goals[g], run.prover[g], run.time[g] = ok, prover, secs
    run.smoke = dict(res["smoke"])
    run.functions = list(res["functions"])
    run.cache = ["result recorded %s, key %s" % (rec.get("recorded", "?"), key[:12])]
    run.log = result_record_path(src_root, cache_name)
    run.key, run.inputs, run.cache_name, run.how = key, inputs, cache_name, "recorded result"
    return run


def save_result_record(src_root, run):
    """proofs/cache/results/<name>.json: the run's goals (proved?, prover, prover seconds), smoke
    tests and functions, with the inputs they were obtained from and their key."""
    if run.inputs is None:
        return
    path = result_record_path(src_root, run.cache_name)
    rec = {"key": run.key, "recorded": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "how": run.how, "inputs": run.inputs,
           "result": {"goals": {g: [run.goals[g], run.prover.get(g, ""), run.time.get(g, 0.0)]
                                for g in sorted(run.goals)},
                      "smoke": {g: run.smoke[g] for g in sorted(run.smoke)},
                      "functions": run.functions},
           # Outside the key and the result: what the run cost, by how it ran ("from scratch",
           # "WP cache"), an estimate that only balances the mutant shards (mutant_shards). A
           # value for the other mode is kept from the old record.
           "cpu_seconds": {run.how: round(run.cpu)}}
    try:
        with open(path) as f:
            old = json.load(f)
        cpu = dict(old.get("cpu_seconds", {}), **rec["cpu_seconds"])
        if old.get("key") == rec["key"] and old.get("result") == rec["result"] \
                and run.how in old.get("cpu_seconds", {}):
            return  # unchanged: keep the file (and its date and times) as it is
        rec["cpu_seconds"] = cpu
    except (FileNotFoundError, ValueError):
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(rec, f, indent=1, sort_keys=True)
        f.write("\n")
    log("wrote %s" % path)


def selected_provers(flags):
    """The provers a pass of wp.flags adds: `-wp-prover=-z3,cvc4` -> ["cvc4"] (in Frama-C 25 the
    selection carries over -then, so each pass removes the others and adds its own, wp.flags)."""
    out = []
    for i, f in enumerate(flags):
        value = f.split("=", 1)[1] if f.startswith("-wp-prover=") else \
            flags[i + 1] if f == "-wp-prover" and i + 1 < len(flags) else None
        if value is not None:
            out += [p.lstrip("+") for p in value.split(",") if p and not p.startswith("-")]
    return out


def prover_selection(provers, passes):
    """The -wp-prover flag that selects exactly `provers`, whatever the earlier passes chose."""
    every = []
    for p in passes:
        every += [q for q in selected_provers(p) if q not in every]
    return "-wp-prover=" + ",".join(["-" + q for q in every if q not in provers] + provers)


def restrict_selection(flags, select):
    """A prover pass's flags with its -wp-prop replaced by a mutant's selection (`select`, WP
    property names or @categories), the pass's own exclusions (its "-name" items) kept after it.
    Replaced, not appended: Frama-C 25 reads the items in order, and "-nonlinear,@ensures" selects
    every goal but the nonlinear ones, while "@ensures,-nonlinear" selects the ensures only."""
    out, found = [], False
    for f in flags:
        if f.startswith("-wp-prop="):
            own = [i for i in f.split("=", 1)[1].split(",") if i.startswith("-")]
            f, found = "-wp-prop=" + ",".join([select] + own), True
        out.append(f)
    return out if found else out + ["-wp-prop=" + select]


def run_wp(src_root, build_root, unit, source_path, functions, workdir, label, mutant=False,
           cache_name=None, mode="wp", versions=None, smoke=True, select=None):
    """Runs every pass of wp.flags on one file, through the WP cache of cache_name; returns a
    Run. A mutant's passes get the [mutant] flags of wp.flags too (unless full_mutants is set).
    mode: "result" takes the committed result record when the inputs' key matches, "wp" the WP
    cache, "none" neither (module docstring). smoke=False leaves out the smoke-test pass (a
    mutant that is not about smoke tests: it is killed by its goals alone). select: a mutant's
    property selection (its "# select:" line): each prover pass proves only those properties. A
    goal's verdict does not depend on which others are selected (every annotation stays a
    hypothesis), so the expected goals fail or prove exactly as in the whole functions' run."""
    common, passes, mutant_flags = read_flags(os.path.join(src_root, "proofs", "wp.flags"))
    if not mutant or unit.get("full_mutants"):
        mutant_flags = []
    if not smoke:
        passes = [p for p in passes if "-wp-smoke-tests" not in p]
    if mutant and select:
        passes = [p if "-wp-smoke-tests" in p else restrict_selection(p, select) for p in passes]
    cpp = compile_flags(src_root, build_root, unit["source"])
    # a unit's own preprocessor flags belong to every preprocessing, the result key's too
    for f in unit.get("flags", []):
        if f.startswith("-cpp-extra-args="):
            cpp += shlex.split(f.split("=", 1)[1])
    if mutant:  # the copy lives in the build dir: its #include "sibling.h" needs the original's dir
        cpp.append("-I" + os.path.dirname(os.path.join(src_root, unit["source"])))
    os.makedirs(workdir, exist_ok=True)
    session = os.path.join(workdir, "session")
    cache_name = cache_name or label
    # cleanup: a cached result is used, a missing one is proven and stored, and at exit every
    # entry this run did not use is removed, so the directory is exactly this run's results.
    cache = ["-wp-session", session, "-wp-cache", "cleanup"]
    cpp_args = "-cpp-extra-args=" + " ".join(shlex.quote(f) for f in cpp)
    cmd = ["frama-c", cpp_args, source_path]
    fct = [] if functions == "all" else ["-wp-fct", ",".join(functions)]
    # The unit's -cpp-extra-args are in cpp_args already: repeated in a -then pass, they would add
    # to the kernel's list and make frama-c parse the file again, so that the pass proved a second
    # copy of every goal (under new names) instead of the goals the earlier passes left.
    unit_flags = [f for f in unit.get("flags", []) if not f.startswith("-cpp-extra-args=")]
    for i, p in enumerate(passes):
        if i:
            cmd.append("-then")
        cmd += common + cache + fct + unit_flags + p + mutant_flags
    # ACSL lemmas of the unit's .acsl files: WP proves a global lemma only when no -wp-fct
    # restricts it, so each prover pass is run once more, at the end, on just those lemmas (by
    # name; the pass's own -wp-prop is left out, since occurrences of it add up).
    # A lemma proven in one of these passes is tried again in the next (unlike a function's goal),
    # so each lemma pass runs the provers of its own and every earlier prover pass: WP stops the
    # others when one proves the goal, and the earlier prover's proof is a hit in this run's WP
    # cache (a later prover alone would spend its whole timeout on a lemma only an earlier one
    # proves: Z3 on chunk_covers, 120 s).
    earlier = []
    for p in passes if unit.get("lemmas") and not mutant else []:
        if "-wp-smoke-tests" not in p:
            earlier += [q for q in selected_provers(p) if q not in earlier]
            cmd += ["-then"] + common + cache + unit_flags + \
                [f for f in p if not f.startswith(("-wp-prop", "-wp-prover"))] + \
                [prover_selection(earlier, passes), "-wp-prop=" + ",".join(unit["lemmas"])]
    start = time.time()
    inputs = result_inputs(src_root, build_root, cmd, cpp_args, source_path, workdir,
                           versions or tool_versions())
    if mode == "result":
        run = load_result_record(src_root, cache_name, inputs)
        if run is not None:
            run.seconds = time.time() - start
            return run
    pack = prepare_cache(src_root, session, cache_name, from_scratch=mode == "none")
    env = dict(os.environ, WHY3CONFIG=why3_config(build_root))
    for var in ("FRAMAC_WP_CACHE", "FRAMAC_WP_CACHEDIR"):  # the flags above decide, not these
        env.pop(var, None)
    log_path = os.path.join(workdir, label + ".log")
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log_path, "w") as out:
        out.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        out.flush()
        r = subprocess.run(cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = Run()
    run.seconds, run.log = time.time() - start, log_path
    run.cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    run.key, run.inputs = inputs_key(inputs), inputs
    run.how = "from scratch" if mode == "none" else "WP cache"
    scheduled = None
    with open(log_path) as f:
        for line in f:
            m = SCHEDULED_RE.match(line)
            if m and scheduled is None:
                scheduled = int(m.group(1))
            m = FUNCTION_RE.match(line)
            if m and m.group(1) not in run.functions:
                run.functions.append(m.group(1))
            m = SMOKE_RE.match(line)
            if m:
                run.smoke[m.group(2)] = m.group(1) == "Passed"
                continue
            m = CACHE_RE.match(line)
            if m:
                run.cache.append(m.group(1))
                continue
            m = GOAL_RE.match(line)
            if m and m.group(1) != "Failed":
                g, ok = m.group(2), m.group(3) == "Valid"
                if ok or g not in run.goals:
                    run.prover[g] = m.group(1).split()[0]
                    run.time[g] = prover_seconds(m.group(4))
                run.goals[g] = run.goals.get(g, False) or ok
                continue
            m = FAILED_RE.match(line)
            if m:
                run.goals.setdefault(m.group(1), False)
    if r.returncode != 0 or scheduled is None:
        raise SystemExit("frama-c failed (exit %d) on %s; see %s" % (r.returncode, label, log_path))
    used = read_cache_dir(session)
    run.cache_new = len(set(used) - set(pack))
    run.cache_dropped = len(set(pack) - set(used))
    # a cached failure tried again under a larger limit (a longer smoke timeout, ...) keeps its
    # digest (the goal's text) and gets a new entry
    run.cache_changed = sum(1 for d in used if d in pack and used[d] != pack[d].strip())
    run.cache_entries, run.cache_name = used, cache_name
    if (run.cache_new or run.cache_dropped) and mode != "none":
        log("cache: %d goals proven again (not in proofs/cache/%s.json), %d cached results unused; "
            "refresh with --save-cache (proofs/README.md, 'The cache')"
            % (run.cache_new, cache_name, run.cache_dropped))
    return run


# ---- a unit against its oracle -------------------------------------------------------------------

def check_tools(expected):
    actual = tool_versions()
    bad = ["%s %s (oracle: %s)" % (t, actual.get(t), v) for t, v in expected.items()
           if actual.get(t) != v]
    return actual, bad


def function_table(run):
    """Per function: goals, proved, provers that proved them, prover seconds, smoke tests."""
    rows = {}
    def row(fn):
        return rows.setdefault(fn, {"function": fn, "goals": 0, "proved": 0, "provers": {},
                                    "seconds": 0.0, "smoke": 0, "smoke_failed": 0})
    for g, ok in run.goals.items():
        r = row(function_of(g, run.functions))
        r["goals"] += 1
        r["proved"] += ok
        if ok:
            r["provers"][run.prover[g]] = r["provers"].get(run.prover[g], 0) + 1
        r["seconds"] = round(r["seconds"] + run.time.get(g, 0.0), 3)
    for g, ok in run.smoke.items():
        r = row(function_of(g, run.functions))
        r["smoke"] += 1
        r["smoke_failed"] += not ok
    return [rows[k] for k in sorted(rows)]


def write_result(src, build, name, result):
    """<build>/proofs/<name>/result.json (a unit, or mutants/<mutant>), then the summary rebuilt
    from every result. Several tests may finish at the same moment: under the lock the result is
    written and the summary rebuilt from all the files, so the last test to take it sees every
    result (without it, a test that read the results just before another wrote its own would
    write a summary without that one, and might write it last)."""
    root = os.path.join(build, "proofs")
    os.makedirs(os.path.join(root, name), exist_ok=True)
    with open(os.path.join(root, "summary.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        write_atomic(os.path.join(root, name, "result.json"), json.dumps(result, indent=1))
        write_summary(src, build)


def read_results(root, names):
    out = []
    for name in names:
        path = os.path.join(root, name, "result.json")
        if os.path.isfile(path):
            with open(path) as f:
                out.append(json.load(f))
    return out


def write_summary(src, build):
    """<build>/proofs/summary.json and summary.txt: every unit and every mutant run in this build
    dir so far (each test rewrites it, so after the suite it holds all of them). Called under the
    lock of write_result."""
    root = os.path.join(build, "proofs")
    results = read_results(root, sorted(d for d in os.listdir(root) if d != "mutants"))
    # the mutants of this tree: a result left by a mutant since removed is not listed
    mutants = read_results(os.path.join(root, "mutants"), mutant_names(src))
    write_atomic(os.path.join(root, "summary.json"), json.dumps(results + mutants, indent=1))
    lines = ["%-12s %-40s %6s %6s  %-22s %8s  %s" % ("unit", "function", "goals", "proved",
                                                    "prover (goals)", "time s", "smoke"),
             "-" * 112]
    for res in results:
        for r in res["functions"]:
            provers = " ".join("%s:%d" % kv for kv in sorted(r["provers"].items()))
            smoke = ("%d/%d passed" % (r["smoke"] - r["smoke_failed"], r["smoke"])
                     if r["smoke"] else "-")
            lines.append("%-12s %-40s %6d %6d  %-22s %8.2f  %s" % (
                res["unit"], r["function"][:40], r["goals"], r["proved"], provers, r["seconds"],
                smoke))
        lines.append("%-12s %-40s %6d %6d  %-22s %8.0f  %s   [%s]" % (
            res["unit"], "= unit (wall time)", res["total"], res["proved"], "", res["seconds"],
            "%d/%d passed" % (res["smoke_total"] - len(res["smoke_failed"]), res["smoke_total"]),
            "as oracle" if res["ok"] else "DIFFERS FROM ORACLE"))
        lines.append("%-12s %-40s %s, CPU %.0f s; %s" % (
            res["unit"], "= how", res.get("how", "?"), res.get("cpu_seconds", 0),
            "; ".join(res.get("cache", []))))
        lines.append("")
    if mutants:
        killed = sum(1 for m in mutants if m["killed"])
        lines.append("mutants: %d killed, %d survived or broken (of %d run), %.0f s (CPU %.0f s) "
                     "in all shards" % (killed, len(mutants) - killed, len(mutants),
                                        sum(m.get("seconds", 0) for m in mutants),
                                        sum(m.get("cpu_seconds", 0) for m in mutants)))
    for m in mutants:
        lines.append("  %-8s %-32s %-10s %-16s %5.0f s  %s" % (
            "killed" if m["killed"] else "FAILED", m["name"], m.get("unit", ""),
            m.get("how", ""), m.get("seconds", 0), m["mutation"]))
    write_atomic(os.path.join(root, "summary.txt"), "\n".join(lines) + "\n")


def cmd_unit(args):
    src, build = args.source_root, args.build_root
    unit = load_unit(src, args.name)
    oracle_path = os.path.join(src, "proofs", "oracle", args.name + ".json")
    actual_tools = tool_versions()
    workdir = os.path.join(build, "proofs", args.name)
    log("unit %s: %s (%s)" % (args.name, unit.get("header", unit["source"]), unit["what"]))
    mode = "wp" if args.cache == "result" and (args.update_oracle or args.save_cache) \
        else args.cache
    run = run_wp(src, build, unit, unit_file(src, unit, workdir), unit["functions"], workdir,
                 args.name, mode=mode, versions=actual_tools)
    goals = run.goals
    proved = sorted(g for g, ok in goals.items() if ok)
    unknown = sorted(g for g, ok in goals.items() if not ok)
    smoke_failed = sorted(g for g, ok in run.smoke.items() if not ok)
    log("unit %s: %d/%d proved, smoke tests %d/%d passed, %s, %.0f s (CPU %.0f s) (log: %s)"
        % (args.name, len(proved), len(goals), len(run.smoke) - len(smoke_failed),
           len(run.smoke), run.how, run.seconds, run.cpu, run.log))
    result = {"unit": args.name, "source": unit["source"], "total": len(goals),
              "proved": len(proved), "unknown": unknown,
              "smoke": {"total": len(run.smoke), "failed": smoke_failed},
              "tools": actual_tools}
    summary = {"unit": args.name, "source": unit["source"], "total": len(goals),
               "proved": len(proved), "smoke_total": len(run.smoke),
               "smoke_failed": smoke_failed, "seconds": round(run.seconds, 1),
               "cpu_seconds": round(run.cpu, 1), "how": run.how,
               "cache": run.cache, "functions": function_table(run), "ok": False}
    if args.update_oracle:
        if smoke_failed:
            # Recorded, never silently: the oracle's "smoke.failed" lists them and its
            # "smoke.why" must say why each is expected (proofs/README.md, "Smoke tests").
            log("WARNING: failed smoke tests recorded in the oracle; write why into its "
                "smoke.why: " + " ".join(smoke_failed))
            try:
                with open(oracle_path) as f:
                    result["smoke"]["why"] = json.load(f).get("smoke", {}).get("why", "")
            except FileNotFoundError:
                pass
        with open(oracle_path, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        log("wrote %s" % oracle_path)
        if unknown:  # a timeout on a loaded machine must not become a cached failure
            log("WARNING: %d goals unproved (listed in the oracle); cache not saved" % len(unknown))
        else:
            save_cache(src, run)
        log("%d passed, 0 failed" % len(goals))
        summary["ok"] = True
        write_result(src, build, args.name, summary)
        return 0
    try:
        with open(oracle_path) as f:
            oracle = json.load(f)
    except FileNotFoundError:
        log("FAIL: no oracle %s (create it with --update-oracle, CONTRIBUTING.md)" % oracle_path)
        log("0 passed, 1 failed")
        write_result(src, build, args.name, summary)
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
    # Smoke tests: WP tries to prove each assumption set false and each block unreachable; a
    # "proved" smoke test is an inconsistent contract or dead code, and is never allowed.
    expected_smoke = oracle.get("smoke", {}).get("total")
    known_dead = set(oracle.get("smoke", {}).get("failed", []))
    if expected_smoke != len(run.smoke):
        failed.append("smoke tests %d, oracle %s" % (len(run.smoke), expected_smoke))
    failed += ["smoke test failed (inconsistent assumptions or dead code): " + g
               for g in smoke_failed if g not in known_dead]
    failed += ["smoke test listed as failing in the oracle now passes (refresh it): " + g
               for g in sorted(known_dead) if g not in smoke_failed]
    for f in failed:
        log("FAIL: " + f)
    if failed:
        log("(refresh the oracle only for an intended change: CONTRIBUTING.md, 'Proofs')")
    summary["ok"] = not failed
    write_result(src, build, args.name, summary)
    if args.save_cache and not failed:
        save_cache(src, run)
    passed = sum(1 for g, ok in goals.items() if ok == (g not in allowed))
    passed += len(run.smoke) - len(smoke_failed)
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
    # "expect: smoke" (a planted contradiction): the run must report a failed smoke test.
    meta["smoke"] = meta["expect"] == ["smoke"]
    return meta


def mutant_names(src):
    mdir = os.path.join(src, "proofs", "mutants")
    return sorted(f[:-4] for f in os.listdir(mdir) if f.endswith(".sed"))


def recorded_cpu(src, name):
    """The CPU seconds of mutant `name`'s committed result record (from scratch if recorded, else
    through the WP cache), or None: an estimate, outside the record's key."""
    try:
        with open(result_record_path(src, "mutant-" + name)) as f:
            cpu = json.load(f).get("cpu_seconds", {})
    except (FileNotFoundError, ValueError):
        return None
    return cpu.get("from scratch", cpu.get("WP cache"))


def shard_costs(cpu):
    known = [c for c in cpu.values() if c is not None]
    guess = max(known) if known else 1
    return {m: guess if c is None else c for m, c in cpu.items()}


def mutant_shards(cpu, n):
    """Splits the mutants ({name: CPU seconds or None}) into n shards of about equal CPU time:
    longest first, each to the shard with the least so far (ties: the lower shard), names
    breaking ties, so every test of the suite computes the same split from the same tree. A
    mutant without a recorded time (a new one) counts as the longest recorded: a guess on the
    safe side."""
    cost = shard_costs(cpu)
    shards, load = [[] for _ in range(n)], [0] * n
    for m in sorted(cost, key=lambda m: (-cost[m], m)):
        i = load.index(min(load))
        shards[i].append(m)
        load[i] += cost[m]
    return [sorted(s) for s in shards]


def parse_shard(text):
    m = re.fullmatch(r"(\d+)/(\d+)", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise argparse.ArgumentTypeError("--shard I/N with 1 <= I <= N, not %r" % text)
    return int(m.group(1)), int(m.group(2))


def cmd_mutants(args):
    src, build = args.source_root, args.build_root
    mdir = os.path.join(src, "proofs", "mutants")
    names = mutant_names(src)
    if args.names:
        unknown = [n for n in args.names if n not in names]
        if unknown:
            raise SystemExit("no mutant %s in %s" % (" ".join(unknown), mdir))
        names = [n for n in names if n in args.names]
    if args.shard:
        i, n = args.shard
        names = mutant_shards({m: recorded_cpu(src, m) for m in names}, n)[i - 1]
        log("shard %d/%d: %s" % (i, n, " ".join(names)))
    passed, failed = 0, 0
    versions = tool_versions()
    mode = "wp" if args.cache == "result" and args.save_cache else args.cache
    for name in names:
        path = os.path.join(mdir, name + ".sed")
        meta = read_mutant(path)
        unit = load_unit(src, meta["unit"])
        workdir = os.path.join(build, "proofs", "mutants", name)
        os.makedirs(workdir, exist_ok=True)
        original = os.path.join(src, unit.get("header", unit["source"]))
        copy = os.path.join(workdir, os.path.basename(original))
        with open(copy, "w") as out:
            r = subprocess.run(["sed", "-f", path, original], stdout=out)
        with open(original) as a, open(copy) as b:
            changed = a.read() != b.read()
        row = {"kind": "mutant", "name": name, "unit": meta["unit"],
               "mutation": meta["mutation"], "killed": False}
        if r.returncode != 0 or not changed:
            log("FAIL %s: the sed script no longer changes %s (update the mutant)"
                % (name, unit["source"]))
            failed += 1
            write_result(src, build, "mutants/" + name, row)
            continue
        if args.full_timeouts:
            unit["full_mutants"] = True
        # A mutated header is included from the build dir: its #include "x.h" and
        # "../../spec/acsl/..." are found through the library's -I<source>/lib/src.
        target = unit_file(src, unit, workdir, header=copy) if "header" in unit else copy
        run = run_wp(src, build, unit, target, meta["functions"], workdir, name,
                     mutant=True, cache_name="mutant-" + name, mode=mode,
                     versions=versions, smoke=meta["smoke"], select=meta.get("select"))
        goals, seconds, log_path = run.goals, run.seconds, run.log
        row.update({"seconds": round(seconds, 1), "cpu_seconds": round(run.cpu, 1),
                    "how": run.how})
        unproved = sorted(g for g, ok in goals.items() if not ok)
        if meta["smoke"]:
            unproved = sorted(g for g, ok in run.smoke.items() if not ok)
            missing = [] if unproved else ["a failed smoke test"]
        else:
            missing = [g for g in meta["expect"] if goals.get(g, True)]
        if unproved and not missing:
            log("killed   %-28s %s: %s %s (%s, %.0f s, CPU %.0f s)"
                % (name, meta["mutation"], ", ".join(unproved),
                   "failed as smoke tests" if meta["smoke"] else "unproved", run.how, seconds,
                   run.cpu))
            row["killed"] = True
            passed += 1
            if args.save_cache:
                save_cache(src, run)
        else:
            log("FAIL %s: %s; expected %s, unproved were [%s] (log: %s)"
                % (name, meta["mutation"], " ".join(meta["expect"]),
                   ", ".join(unproved), log_path))
            failed += 1
        write_result(src, build, "mutants/" + name, row)
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
                   help="write proofs/oracle/NAME.json (and the cache) from this run instead "
                        "of checking it")
    u.add_argument("--save-cache", action="store_true",
                   help="write this run's prover results to proofs/cache/NAME.json and its "
                        "result to proofs/cache/results/NAME.json")
    cache_help = ("what to reuse: 'result' (default: the committed result when its inputs are "
                  "unchanged, else as 'wp'), 'wp' (run frama-c through the committed WP cache), "
                  "'none' (from scratch); default from $QMAR_PROOFS_CACHE")
    default_cache = os.environ.get("QMAR_PROOFS_CACHE") or "result"
    u.add_argument("--cache", choices=CACHE_MODES, default=default_cache, help=cache_help)
    m = sub.add_parser("mutants")
    m.add_argument("names", nargs="*")
    m.add_argument("--full-timeouts", action="store_true",
                   help="leave out the [mutant] flags of wp.flags: prove each mutant with the "
                        "timeouts of the units (slow; to check that a new mutant is not killed "
                        "by a timeout alone)")
    m.add_argument("--save-cache", action="store_true",
                   help="write each mutant's prover results to proofs/cache/mutant-NAME.json")
    m.add_argument("--cache", choices=CACHE_MODES, default=default_cache, help=cache_help)
    m.add_argument("--shard", type=parse_shard, metavar="I/N",
                   help="prove only shard I of N: the mutants split into N shards of about "
                        "equal recorded CPU time (the suite runs each shard as its own test)")
    if os.environ.get("QMAR_PROOFS_CACHE", "result") not in CACHE_MODES:
        log("QMAR_PROOFS_CACHE=%s: must be one of %s" % (os.environ["QMAR_PROOFS_CACHE"],
                                                         ", ".join(CACHE_MODES)))
        log("0 passed, 1 failed")
        return 1
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
