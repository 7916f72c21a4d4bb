# SPDX-License-Identifier: Apache-2.0
"""After fuzzing a target: merge new inputs into corpus/<target>/, triage every crash and keep
it, minimised, as corpus/<target>/regress-<what>-<n>."""
import hashlib
import os
import re
import shutil
import subprocess

from .builds import read_options
from .common import ROOT, corpus_dir, run
from .targets import ENGINE_ENV


def merge(target, dirs, work, lf, afl):
    """libFuzzer -merge=1 into corpus/<target>: only inputs that add coverage are copied; they are
    renamed auto-<sha1>. Returns the number of new inputs."""
    corpus = corpus_dir(target)
    before = set(os.listdir(corpus))
    sources = [lf.corpus] + ([afl.queue()] if afl and os.path.isdir(afl.queue()) else [])
    opts, _ = read_options(target)
    # -use_counters=0: an input is new only if it reaches a new edge (or comparison), not merely
    # a new hit count of one; the corpus then stays small enough for the replay suite.
    cmd = [os.path.join(dirs["libfuzzer"], "fuzz", target), "-merge=1", "-use_counters=0",
           "-merge_control_file=%s" % os.path.join(work, "merge-control"),
           "-max_len=%s" % opts.get("max_len", "4096"),
           "-timeout=%s" % opts.get("timeout", "30"), corpus] + sources
    r = run(cmd, env=dict(os.environ, UBSAN_OPTIONS="halt_on_error=1"))
    with open(os.path.join(work, "merge.log"), "w") as f:
        f.write(r.stdout)
    added = 0
    for name in sorted(set(os.listdir(corpus)) - before):
        p = os.path.join(corpus, name)
        if re.fullmatch(r"[0-9a-f]{40}", name):
            os.rename(p, os.path.join(corpus, "auto-" + name))
        added += 1
    return added


def engine_envs(target):
    """The distinct extra environments the engines ran this target with ({} first)."""
    envs = [{}]
    for e in ENGINE_ENV.get(target, {}).values():
        for x in e if isinstance(e, list) else [e]:
            if x not in envs:
                envs.append(x)
    return envs


def triage(target, dirs, path):
    """Replays one crashing input under ASan/UBSan, in each engine's environment until it fails;
    returns (kind, signature, text, extra env) or None."""
    for extra in engine_envs(target):
        t = triage_in(target, dirs, path, extra)
        if t is not None:
            return t + (extra,)
    return None


def classify(out):
    """(kind, signature, first line) of a failure report, or None."""
    m = re.search(r"qmar-fuzz: FAIL \S+ ([a-z0-9-]+): (.*)", out)
    if m:
        rule = re.search(r"\(rule (\w+)\)", m.group(2))
        sig = m.group(1) + ("-" + rule.group(1) if rule else "")
        return sig, sig, m.group(0)
    m = re.search(r"ERROR: (AddressSanitizer|LeakSanitizer): ([a-zA-Z-]+)", out)
    if m:
        kind = "asan-" + m.group(2).lower() if m.group(1) == "AddressSanitizer" else "leak"
        frames = [f for f in re.findall(r"#\d+ 0x[0-9a-f]+ in (\w+)", out[m.end():])
                  if not f.startswith(("__asan", "__interceptor", "__sanitizer", "__lsan"))]
        return kind, kind + ":" + (frames[0] if frames else "?"), m.group(0)
    m = re.search(r"(\S+:\d+:\d+): runtime error: (.*)", out)
    if m:
        return "ubsan", "ubsan:" + m.group(1), m.group(0)
    m = re.search(r"ERROR: libFuzzer: (timeout|out-of-memory|deadly signal)", out)
    if m:
        kind = {"deadly signal": "signal"}.get(m.group(1), m.group(1))
        return kind, kind, m.group(0)
    return None


def triage_in(target, dirs, path, extra):
    binary = os.path.join(dirs["libfuzzer"], "fuzz", "replay_" + target)
    env = dict(os.environ, UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
               ASAN_OPTIONS="detect_leaks=1", **extra)
    try:
        r = run([binary, path], env=env, timeout=120)
        out, rc = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) \
            else (e.stdout or ""), -1
        return "timeout", "timeout", out[-2000:]
    if rc == 0:
        return None
    return classify(out) or ("crash", "crash-rc%d" % rc, out[-400:])


def next_regress_name(corpus, kind):
    n = 1
    while os.path.exists(os.path.join(corpus, "regress-%s-%d" % (kind, n))):
        n += 1
    return os.path.join(corpus, "regress-%s-%d" % (kind, n))


def keep_crashes(target, dirs, work, lf, afl):
    """Triage, dedupe by signature, minimise, keep as regress-*. Returns (crashes, kept list):
    every crash file of either engine counts; an AFL++ hang counts only if it reproduces (a
    loaded machine makes spurious ones)."""
    raw = [os.path.join(lf.crashes, f) for f in sorted(os.listdir(lf.crashes))]
    raw += afl.crash_files() if afl else []
    hangs = afl.crash_files("hangs") if afl else []
    seen, kept, crashes = set(), [], list(raw)
    corpus = corpus_dir(target)
    reports = lf.reports()
    known = {hashlib.sha1(open(os.path.join(corpus, f), "rb").read()).hexdigest()
             for f in os.listdir(corpus)}
    # Kinds of the regress files that failed again at load: bugs still open. A new crash of such
    # a kind is counted, not kept, so an open bug does not add a regress file every night.
    open_kinds = {re.sub(r"-\d+$", "", f[len("seed-regress-"):])
                  for f in os.listdir(lf.crashes) if f.startswith("seed-regress-")}
    for path in raw + hangs:
        if hashlib.sha1(open(path, "rb").read()).hexdigest() in known:
            continue  # a corpus file (a regress file of a bug still open): counted, not copied
        t = triage(target, dirs, path)
        report = reports.get(os.path.abspath(path), "")
        if t is None and classify(report):
            # libFuzzer saw it fail under ASan; alone it passes (a race): keep it all the same
            kind, sig, text = classify(report)
            t = (kind, sig, text + "  [did not fail again alone: timing-dependent]", {})
        if t is None:
            if path not in hangs:
                kept.append(("not-reproduced", os.path.relpath(path, ROOT), ""))
            continue
        if path in hangs:
            crashes.append(path)
        kind, sig, text, extra = t
        if sig in seen:
            continue
        if re.sub(r"[^a-z0-9-]", "-", kind.lower()) in open_kinds:
            kept.append(("open-bug", os.path.relpath(path, ROOT), text))
            seen.add(sig)
            continue
        seen.add(sig)
        dest = next_regress_name(corpus, re.sub(r"[^a-z0-9-]", "-", kind.lower()))
        minimized = os.path.join(work, "min-" + os.path.basename(dest))
        if kind != "timeout":
            # its intermediate artifacts go to the work dir, never to the source tree
            run([os.path.join(dirs["libfuzzer"], "fuzz", target), "-minimize_crash=1",
                 "-runs=20000", "-max_total_time=60", "-exact_artifact_path=" + minimized,
                 "-artifact_prefix=" + work + "/", path],
                env=dict(os.environ, UBSAN_OPTIONS="halt_on_error=1", **extra), cwd=work)
        src = path
        if os.path.exists(minimized):
            t2 = triage_in(target, dirs, minimized, extra)
            if t2 is not None and t2[1] == sig:
                src = minimized
        if extra:
            text += "  [with %s]" % " ".join("%s=%s" % kv for kv in sorted(extra.items()))
        shutil.copyfile(src, dest)
        kept.append((kind, os.path.relpath(dest, ROOT), text))
    return crashes, kept

