#!/usr/bin/env python3
"""The nightly fuzz campaign (run through scripts/fuzz-campaign, which installs the tools first).

Given a time budget in seconds it
  1. builds the harnesses three ways under build-fuzz/: libfuzzer (clang, -fsanitize=fuzzer +
     ASan + UBSan, every UB fatal), afl (afl-clang-fast, AFL++'s driver behind -fsanitize=fuzzer)
     and cov (gcc --coverage replay mains);
  2. gives each target an equal share of the budget, and for that time runs libFuzzer and AFL++
     side by side on it, each from a copy of corpus/<target>/, printing a progress line every few
     seconds;
  3. merges what they found into corpus/<target>/ with libFuzzer's -merge=1 (only inputs that add
     coverage; they are named auto-<sha1>);
  4. replays every crash (both engines) under ASan/UBSan, names it by what broke, minimises it
     and keeps it as corpus/<target>/regress-<what>-<n>;
  5. measures line and branch coverage of lib/src per target and for all together (gcovr), writes
     an HTML report, and prints a summary table.
Exit status: 0 when nothing crashed, 1 when anything did, 2 on a setup error.
"""
import argparse
import configparser
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TARGETS = ["fuzz_validate", "fuzz_op", "fuzz_numeric", "fuzz_api"]
# Issue 6's targets for this machine (printed by the summary).
SPEED_TARGETS = {"fuzz_validate": 100000, "fuzz_op": 2000}
LINE_TARGET = 90.0
# The kernel is chosen once per process, so the coverage replay runs fuzz_op once per
# (QMAR_ISA, QMAR_NUM_THREADS); an ISA the CPU lacks falls back to the best one, with a note.
OP_CONFIGS = [("scalar", "3"), ("avx2", "1"), ("avx512", "2"), ("amx", "1"), ("", "1")]
# Extra environment of each engine's fuzzing processes per target; for libFuzzer a list of phases
# that share its time equally. The GEMM kernel is chosen once per process, so on fuzz_op
# libFuzzer (with ASan) spends half its time on the best kernel this CPU has and half on the
# scalar reference kernel and epilogue, and AFL++ runs the scalar one throughout. fuzz_numeric
# drives every kernel's epilogue directly, under ASan, besides.
ENGINE_ENV = {"fuzz_op": {"libfuzzer": [{}, {"QMAR_ISA": "scalar"}], "afl": {"QMAR_ISA": "scalar"}}}
MAX_RESTARTS = 25  # libFuzzer stops at a crash; it is restarted (same corpus) at most this often

children = []


def log(msg=""):
    print(msg, flush=True)


def run(cmd, **kw):
    """Runs a command, returning CompletedProcess; output captured unless told otherwise."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.STDOUT)
    kw.setdefault("text", True)
    kw.setdefault("errors", "replace")
    return subprocess.run(cmd, **kw)


def die(msg):
    log("fuzz-campaign: " + msg)
    sys.exit(2)


# ---- Builds -------------------------------------------------------------------------------------


def configure(builddir, env, options, stamp_text):
    """meson setup once; a changed stamp (compiler flags, ignorelist contents) wipes the dir."""
    stamp = os.path.join(builddir, ".fuzz-campaign-stamp")
    digest = hashlib.sha1(stamp_text.encode()).hexdigest()
    if os.path.exists(stamp) and open(stamp).read() != digest:
        shutil.rmtree(builddir)
    if not os.path.exists(os.path.join(builddir, "build.ninja")):
        r = run(["meson", "setup", builddir] + options, cwd=ROOT, env=env)
        if r.returncode != 0:
            log(r.stdout)
            die("meson setup %s failed" % builddir)
        with open(stamp, "w") as f:
            f.write(digest)


def build_all(out, only=None):
    ignorelist = os.path.join(ROOT, "fuzz", "sancov.ignorelist")
    ign_text = open(ignorelist).read()
    # No --werror: a warning must not stop a night's fuzzing (CI builds with -Werror anyway).
    common = ["-Dfuzzing=enabled", "-Dmpi=disabled", "-Dproofs=disabled"]
    base = dict(os.environ)
    builds = {
        "libfuzzer": (dict(base, CC="clang"),
                      common + ["-Db_sanitize=address,undefined", "-Db_lundef=false",
                                "-Dbuildtype=debugoptimized",
                                "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all "
                                "-fsanitize-coverage-ignorelist=" + ignorelist]),
        "afl": (dict(base, CC="afl-clang-fast", AFL_QUIET="1", AFL_LLVM_DENYLIST=ignorelist),
                common + ["-Dbuildtype=debugoptimized"]),
        # atomic counters: fuzz_op and fuzz_api run ranks on threads, and racing increments
        # leave gcov with negative counts that gcovr cannot read
        "cov": (dict(base, CC="gcc"),
                ["-Dfuzzing=auto", "-Dmpi=disabled", "-Dproofs=disabled", "-Db_coverage=true",
                 "-Dbuildtype=debug", "-Dc_args=-fprofile-update=atomic"]),
    }
    dirs = {}
    for name, (env, options) in builds.items():
        if only and name not in only:
            continue
        d = os.path.join(out, name)
        configure(d, env, options, " ".join(options) + env.get("CC", "") + ign_text)
        targets = ["fuzz/" + t for t in TARGETS] if name != "cov" else []
        targets += ["fuzz/replay_" + t for t in TARGETS]
        t0 = time.time()
        r = run(["ninja", "-C", d] + targets, env=env)
        if r.returncode != 0:
            log(r.stdout[-4000:])
            die("building %s failed" % d)
        log("  built %-9s (%s) in %.0f s" % (name, env.get("CC"), time.time() - t0))
        dirs[name] = d
    return dirs


# ---- Options files -------------------------------------------------------------------------------


def read_options(target):
    cp = configparser.ConfigParser()
    cp.read(os.path.join(ROOT, "fuzz", target + ".options"))
    lf = dict(cp["libfuzzer"]) if cp.has_section("libfuzzer") else {}
    afl = dict(cp["afl"]) if cp.has_section("afl") else {}
    if "dict" in lf:
        lf["dict"] = os.path.join(ROOT, "fuzz", lf["dict"])
    return lf, afl


# ---- Running the engines ------------------------------------------------------------------------


class LibFuzzer:
    """libFuzzer on one target, restarted after each crash until the time is up. An input of the
    working corpus that crashes at load time is moved aside (it is kept as a crash), so a crashing
    seed cannot stall the run."""

    def __init__(self, binary, target, work, seconds):
        self.binary, self.target, self.seconds = binary, target, seconds
        self.corpus = os.path.join(work, "libfuzzer-corpus")
        self.crashes = os.path.join(work, "libfuzzer-crashes")
        self.logpath = os.path.join(work, "libfuzzer.log")
        os.makedirs(self.crashes, exist_ok=True)
        shutil.copytree(os.path.join(ROOT, "corpus", target), self.corpus)
        self.opts, _ = read_options(target)
        self.cpu_done, self.cpu_now = 0.0, 0.0
        self.t0 = time.time()
        self.phases = ENGINE_ENV.get(target, {}).get("libfuzzer", [{}])
        self.deadline = time.time() + seconds
        self.proc, self.execs_done, self.cpu = None, 0, 0.0
        self.last = {}
        self.restarts = 0
        self.log = open(self.logpath, "w")

    def set_aside_crashing_seeds(self, replay):
        """Replays the working corpus once (forking per input) and moves every input that fails
        into the crash directory: libFuzzer stops at the first crash of its initial corpus, so a
        bug that many seeds reach would otherwise cost a restart per seed."""
        moved = 0
        for extra in self.phases:
            env = dict(os.environ, UBSAN_OPTIONS="halt_on_error=1",
                       ASAN_OPTIONS="malloc_context_size=0:detect_leaks=0",  # libFuzzer finds leaks
                       **extra)
            r = run([replay, "-k", self.corpus], env=env)
            for m in re.finditer(r"replay: FAILED on input (\S+) \(", r.stdout):
                if os.path.exists(m.group(1)):
                    shutil.move(m.group(1), os.path.join(self.crashes, "seed-" +
                                                         os.path.basename(m.group(1))))
                    moved += 1
        return moved

    def cpu_seconds(self):
        """utime + stime of the running libFuzzer process (it is single-threaded)."""
        try:
            fields = open("/proc/%d/stat" % self.proc.pid).read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return self.cpu_now

    def phase(self, when):
        """Index of the environment phase at time `when`, and the end of that phase."""
        n = len(self.phases)
        i = min(n - 1, int((when - self.t0) * n / max(1.0, self.seconds)))
        return i, self.t0 + self.seconds * (i + 1) / n

    def start(self):
        now = time.time()
        i, end = self.phase(now)
        left = int(min(self.deadline, end) - now)
        if left < 2:
            if end >= self.deadline:
                return False
            i, end = self.phase(end + 0.01)
            left = int(min(self.deadline, end) - now)
        self.current_phase = i
        flags = ["-%s=%s" % (k, v) for k, v in self.opts.items()]
        cmd = [self.binary, "-max_total_time=%d" % left, "-print_final_stats=1",
               "-artifact_prefix=%s/" % self.crashes, "-close_fd_mask=0"] + flags + [self.corpus]
        # malloc_context_size=0: no stack capture on every malloc/free (a sixth of fuzz_validate's
        # time); triage replays each crash with full ASan reports.
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:malloc_context_size=0",
                   UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1", **self.phases[i])
        self.log.write("\n$ %s\n" % " ".join(cmd))
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        children.append(self.proc)
        self.started = time.time()
        self.offset = self.log.tell()
        return True

    def status_line(self):
        """Latest '#N ... exec/s' line of the running process."""
        try:
            with open(self.logpath, "rb") as f:
                f.seek(max(0, os.path.getsize(self.logpath) - 4000))
                tail = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return
        for line in reversed(tail):
            m = re.match(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+.*exec/s: (\d+)",
                         line)
            if m:
                self.last = {"execs": self.execs_done + int(m.group(1)), "cov": int(m.group(2)),
                             "corp": int(m.group(4)), "eps": int(m.group(5))}
                return

    def poll(self):
        """Returns False once libFuzzer is finished for good."""
        if self.proc is None:
            return self.start()
        if not self.reap():
            self.status_line()
            self.cpu_now = self.cpu_seconds()
            return True
        self.status_line()
        self.collect_stats()
        crashed = self.proc.returncode != 0  # else the end of a phase
        self.proc = None
        if time.time() >= self.deadline - 2:
            return False
        if crashed:
            if self.restarts >= MAX_RESTARTS:
                return False
            self.restarts += 1
            self.quarantine_crashing_seeds()
        return self.start()

    def collect_stats(self):
        with open(self.logpath, errors="replace") as f:
            text = f.read()
        m = re.findall(r"stat::number_of_executed_units: (\d+)", text)
        self.execs_done = sum(int(x) for x in m)
        self.last["execs"] = max(self.last.get("execs", 0), self.execs_done)

    def quarantine_crashing_seeds(self):
        """A crash whose input is still in the working corpus came from loading it: move it."""
        digests = {}
        for name in os.listdir(self.corpus):
            p = os.path.join(self.corpus, name)
            digests[hashlib.sha1(open(p, "rb").read()).hexdigest()] = p
        for name in os.listdir(self.crashes):
            h = hashlib.sha1(open(os.path.join(self.crashes, name), "rb").read()).hexdigest()
            if h in digests:
                os.remove(digests[h])

    def reap(self, block=False):
        """True once the process ended; its CPU time (from wait4, exact even for a process that
        lived less than a poll interval) is added to cpu_done."""
        if self.proc.returncode is not None:
            return True
        pid, status, usage = os.wait4(self.proc.pid, 0 if block else os.WNOHANG)
        if pid == 0:
            return False
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_done += usage.ru_utime + usage.ru_stime
        self.cpu_now = 0.0
        return True

    def reports(self):
        """{crash file: the sanitizer or oracle report libFuzzer printed just before writing it}
        (libFuzzer runs one input at a time, so the report belongs to that input even when it
        does not fail again alone, e.g. a race between rank threads)."""
        out, block = {}, []
        for line in open(self.logpath, errors="replace"):
            m = re.search(r"Test unit written to (\S+)", line)
            if m:
                out[os.path.abspath(m.group(1))] = "".join(block)
                block = []
            elif line.startswith("$ "):
                block = []
            else:
                block.append(line)
                block = block[-400:]
        return out

    def first_crash(self):
        """Seconds from the start to the first crash file found by fuzzing (not a seed)."""
        times = [os.path.getmtime(os.path.join(self.crashes, f)) for f in os.listdir(self.crashes)
                 if not f.startswith("seed-")]
        return min(times) - self.t0 if times else None

    def stop(self):
        if self.proc is not None and not self.reap():
            self.proc.send_signal(signal.SIGINT)
            for _ in range(200):
                if self.reap():
                    break
                time.sleep(0.1)
            else:
                self.proc.kill()
                self.reap(block=True)
        if self.proc is not None:
            self.collect_stats()
        self.log.close()


class AFL:
    def __init__(self, binary, target, work, seconds):
        self.target = target
        self.out = os.path.join(work, "afl")
        _, opts = read_options(target)
        lf, _ = read_options(target)
        cmd = ["afl-fuzz", "-i", os.path.join(ROOT, "corpus", target), "-o", self.out,
               "-V", str(max(1, int(seconds))), "-m", "none",
               "-t", opts.get("timeout_ms", "1000")]
        if "dict" in lf:
            cmd += ["-x", lf["dict"]]
        cmd += ["--", binary]
        env = dict(os.environ, AFL_SKIP_CPUFREQ="1", AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES="1",
                   AFL_NO_UI="1", AFL_SKIP_CRASHES="1", AFL_NO_AFFINITY="1", AFL_QUIET="1",
                   **ENGINE_ENV.get(target, {}).get("afl", {}))
        self.logpath = os.path.join(work, "afl.log")
        self.log = open(self.logpath, "w")
        self.log.write("$ %s\n" % " ".join(cmd))
        self.log.flush()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        children.append(self.proc)
        self.last = {}

    def stats(self):
        p = os.path.join(self.out, "default", "fuzzer_stats")
        if not os.path.exists(p):
            return self.last
        s = {}
        for line in open(p, errors="replace"):
            k, _, v = line.partition(":")
            s[k.strip()] = v.strip()
        runtime = int(s.get("run_time", 0) or 0)
        execs = int(s.get("execs_done", 0))
        self.last = {"execs": execs,
                     "eps": execs / runtime if runtime else 0.0,
                     "corp": int(s.get("corpus_count", 0)),
                     "crashes": int(s.get("saved_crashes", s.get("unique_crashes", 0))),
                     "hangs": int(s.get("saved_hangs", s.get("unique_hangs", 0))),
                     "runtime": runtime,
                     "cvg": s.get("bitmap_cvg", "")}
        return self.last

    def progress(self):
        """Without its UI, AFL++ 4.04c writes fuzzer_stats and plot_data rarely (at the end of a
        short run): until then the queue and crash directories say how it is doing."""
        queue = os.path.join(self.out, "default", "queue")
        if os.path.isdir(queue):
            self.last = dict(self.last,
                             corp=len([f for f in os.listdir(queue) if f.startswith("id:")]),
                             crashes=len(self.crash_files()), hangs=len(self.crash_files("hangs")))
        p = os.path.join(self.out, "default", "plot_data")
        try:
            last = open(p, errors="replace").read().strip().splitlines()[-1]
        except (OSError, IndexError):
            return self.last
        if last.startswith("#"):
            return self.last
        f = [x.strip() for x in last.split(",")]
        try:  # relative_time, cycles_done, cur_item, corpus_count, pending_total, pending_favs,
            # map_size, saved_crashes, saved_hangs, max_depth, execs_per_sec, total_execs, ...
            t, execs = int(f[0]), int(f[11])
            self.last = dict(self.last, execs=execs, eps=execs / t if t else 0.0,
                             corp=int(f[3]), crashes=int(f[7]), hangs=int(f[8]), runtime=t)
        except (IndexError, ValueError):
            pass
        return self.last

    def first_crash(self):
        """Seconds to the first crash, from AFL++'s file names (time:<ms>)."""
        ts = [int(m.group(1)) / 1000.0 for f in self.crash_files()
              for m in [re.search(r"time:(\d+)", f)] if m]
        return min(ts) if ts else None

    def poll(self):
        self.progress()
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.stats()

    def crash_files(self, sub="crashes"):
        d = os.path.join(self.out, "default", sub)
        if not os.path.isdir(d):
            return []
        return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.startswith("id:")]

    def queue(self):
        return os.path.join(self.out, "default", "queue")


def fmt_rate(v):
    if v is None:
        return "-"
    return "%.1fk" % (v / 1000.0) if v >= 10000 else "%d" % v


def fuzz_target(target, dirs, work, seconds, interval, use_afl):
    os.makedirs(work, exist_ok=True)
    lf = LibFuzzer(os.path.join(dirs["libfuzzer"], "fuzz", target), target, work, seconds)
    afl = AFL(os.path.join(dirs["afl"], "fuzz", target), target, work, seconds) if use_afl \
        else None
    t0 = time.time()
    aside = lf.set_aside_crashing_seeds(os.path.join(dirs["libfuzzer"], "fuzz", "replay_" + target))
    if aside:
        log("  %d corpus inputs crash before any fuzzing: set aside as crashes" % aside)
    lf.start()
    next_report = t0 + interval
    lf_alive = afl_alive = True
    while lf_alive or (afl and afl_alive):
        time.sleep(0.5)
        if lf_alive:
            lf_alive = lf.poll()
        if afl and afl_alive:
            afl_alive = afl.poll()
        if time.time() > t0 + seconds + 60:
            log("  %s: engines overran their time by a minute; stopping them" % target)
            break
        if time.time() >= next_report:
            next_report += interval
            a = afl.progress() if afl else {}
            log("  [%4.0fs/%ds] %-13s libFuzzer %7s ex/s cov %5s corp %5s crashes %d%s | "
                "AFL++ %7s ex/s corp %5s crashes %d" % (
                    time.time() - t0, seconds, target, fmt_rate(lf.last.get("eps")),
                    lf.last.get("cov", "-"), lf.last.get("corp", "-"),
                    len(os.listdir(lf.crashes)),
                    " (restarts %d)" % lf.restarts if lf.restarts else "",
                    fmt_rate(a.get("eps")) if afl else "off", a.get("corp", "-"),
                    a.get("crashes", 0) + a.get("hangs", 0)))
    lf.stop()
    if afl:
        afl.stop()
    elapsed = time.time() - t0
    return lf, afl, elapsed


# ---- Merge, crashes ------------------------------------------------------------------------------


def merge(target, dirs, work, lf, afl):
    """libFuzzer -merge=1 into corpus/<target>: only inputs that add coverage are copied; they are
    renamed auto-<sha1>. Returns the number of new inputs."""
    corpus = os.path.join(ROOT, "corpus", target)
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
    corpus = os.path.join(ROOT, "corpus", target)
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


# ---- Coverage ------------------------------------------------------------------------------------


def replay_for_coverage(covdir, target, files_or_dirs):
    binary = os.path.join(covdir, "fuzz", "replay_" + target)
    for isa, threads in OP_CONFIGS if target == "fuzz_op" else [("", "1")]:
        env = dict(os.environ, QMAR_ISA=isa, QMAR_NUM_THREADS=threads)
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


# ---- Main ----------------------------------------------------------------------------------------


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


def coverage_lines(per, total, html):
    for t, (lp, bp) in per.items():
        log("  %-14s lines %5.1f%%  branches %5.1f%%" % (t, lp, bp))
    if total:
        log("  %-14s lines %5.1f%%  branches %5.1f%%  (%d/%d lines, %d/%d branches)" % (
            "all targets", total["line_percent"], total["branch_percent"],
            total["line_covered"], total["line_total"], total["branch_covered"],
            total["branch_total"]))
        log("  HTML report: %s" % os.path.relpath(html, ROOT))
        lacks = cpu_lacks()
        if lacks:
            lp, bp = excluding(total, lacks)
            log("  %-14s lines %5.1f%%  branches %5.1f%%  without %s (this CPU lacks %s; the "
                "kernels suite runs AMX with its tile instructions emulated)" % (
                    "", lp, bp, ", ".join(sorted(lacks)),
                    ", ".join(sorted({x for v in lacks.values() for x in v}))))


def coverage_only(args, targets):
    log("fuzz-campaign --coverage-only: lib/src coverage of corpus/ as it is")
    dirs = build_all(args.out, only=("cov",))
    per, total, html = coverage(dirs, os.path.join(args.out, "report"),
                                {t: [os.path.join(ROOT, "corpus", t)] for t in targets})
    coverage_lines(per, total, html)
    ok = total is not None and total["line_percent"] >= LINE_TARGET
    log("line coverage of lib/src >= %.0f%%: %s" % (LINE_TARGET, "met" if ok else "MISSED"))
    return 0 if ok else 1


def machine_note():
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return "%d CPUs, load average %.1f" % (os.cpu_count() or 0, load)


def main():
    ap = argparse.ArgumentParser(description="qmar's nightly fuzz campaign")
    ap.add_argument("budget", type=int, nargs="?", default=600,
                    help="seconds of fuzzing in all (split equally over the targets)")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--out", default=os.path.join(ROOT, "build-fuzz"),
                    help="build dirs, work dirs and the report go here")
    ap.add_argument("--interval", type=int, default=10, help="seconds between progress lines")
    ap.add_argument("--no-afl", action="store_true", help="libFuzzer only")
    ap.add_argument("--no-merge", action="store_true", help="leave corpus/ as it is")
    ap.add_argument("--coverage-only", action="store_true",
                    help="no fuzzing: coverage of lib/src from the corpus as it is, and the report")
    args = ap.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    for t in targets:
        if t not in TARGETS:
            die("unknown target %s (known: %s)" % (t, ", ".join(TARGETS)))
    if args.coverage_only:
        return coverage_only(args, targets)
    share = max(10, args.budget // len(targets))
    log("fuzz-campaign: %d s over %d targets (%d s each), libFuzzer%s side by side; %s" % (
        args.budget, len(targets), share, "" if args.no_afl else " and AFL++", machine_note()))
    log("== building (%s)" % args.out)
    dirs = build_all(args.out)
    work_root = os.path.join(args.out, "work")
    shutil.rmtree(work_root, ignore_errors=True)
    checked_in = {t: sorted(os.path.join(ROOT, "corpus", t, f)
                            for f in os.listdir(os.path.join(ROOT, "corpus", t))) for t in targets}
    results = {}
    for t in targets:
        log("== fuzzing %s for %d s" % (t, share))
        work = os.path.join(work_root, t)
        lf, afl, elapsed = fuzz_target(t, dirs, work, share, args.interval, not args.no_afl)
        added = 0 if args.no_merge else merge(t, dirs, work, lf, afl)
        raw, kept = keep_crashes(t, dirs, work, lf, afl)
        a = afl.last if afl else {}
        lf_execs = lf.last.get("execs", lf.execs_done)
        firsts = [x for x in (lf.first_crash(), afl.first_crash() if afl else None)
                  if x is not None]
        results[t] = {"lf_execs": lf_execs, "lf_eps": lf_execs / elapsed if elapsed else 0,
                      "lf_cpu_eps": lf_execs / lf.cpu_done if lf.cpu_done else 0,
                      "first_crash": min(firsts) if firsts else None,
                      "afl_execs": a.get("execs", 0),
                      "afl_eps": a.get("execs", 0) / max(1, a.get("runtime", 0) or elapsed),
                      "new": added, "raw_crashes": len(raw), "kept": kept,
                      "corpus": len(os.listdir(os.path.join(ROOT, "corpus", t)))}
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

    log("== coverage of lib/src (gcc --coverage, replaying the corpus; fuzz_op once per kernel)")
    per, total, html = coverage(dirs, os.path.join(args.out, "report"),
                                {t: [os.path.join(ROOT, "corpus", t)] for t in targets})
    if args.no_merge:  # the corpus is the checked-in one
        base_total = total
    else:
        _, base_total, _ = coverage(dirs, os.path.join(args.out, "report-checked-in"), checked_in)

    # ---- Summary
    log("")
    log("== summary (%s)" % machine_note())
    cols = ("%-14s %10s %8s %8s %10s %8s %8s %7s %5s %7s %9s %7s %8s")
    log(cols % ("target", "libFuzzer", "execs/s", "per CPU", "AFL++", "execs/s", "together",
                "corpus", "new", "crashes", "1st crash", "lines", "branches"))
    log(cols % ("", "execs", "", "second", "execs", "", "execs/s", "", "", "", "", "lib/src",
                "lib/src"))
    rule = "-" * 128
    log(rule)
    any_crash = False
    for t in targets:
        r = results[t]
        crashes = r["raw_crashes"]
        any_crash |= crashes > 0
        lp, bp = per.get(t, (float("nan"), float("nan")))
        first = "%.0f s" % r["first_crash"] if r["first_crash"] is not None else \
            ("seed" if crashes else "-")
        log("%-14s %10d %8.0f %8.0f %10d %8.0f %8.0f %7d %5d %7d %9s %6.1f%% %7.1f%%" % (
            t, r["lf_execs"], r["lf_eps"], r["lf_cpu_eps"], r["afl_execs"], r["afl_eps"],
            r["lf_eps"] + r["afl_eps"], r["corpus"], r["new"], crashes, first, lp, bp))
    log(rule)
    if total:
        log("%-14s %104.1f%% %7.1f%%" % ("all targets", total["line_percent"],
                                         total["branch_percent"]))
        log("  lines %d/%d, branches %d/%d of lib/src; HTML report: %s" % (
            total["line_covered"], total["line_total"], total["branch_covered"],
            total["branch_total"], os.path.relpath(html, ROOT)))
        lacks = cpu_lacks()
        if lacks:
            lp, bp = excluding(total, lacks)
            log("  without the kernels this CPU cannot run (%s: it lacks %s): lines %.1f%%, "
                "branches %.1f%%" % (", ".join(sorted(lacks)),
                                     ", ".join(sorted({x for v in lacks.values() for x in v})),
                                     lp, bp))
        present = {f["filename"] for f in total.get("files", [])}
        missing = [os.path.relpath(os.path.join(dp, f), ROOT)
                   for dp, _, fs in os.walk(os.path.join(ROOT, "lib", "src")) for f in fs
                   if f.endswith(".c") and os.path.relpath(os.path.join(dp, f), ROOT)
                   not in present]
        if missing:
            log("  not compiled in the coverage build, so not counted: %s (the MPI backend needs "
                "mpirun and is tested by suite mpi)" % ", ".join(sorted(missing)))
    log("  execs/s are wall-clock rates while both engines shared the machine with everything "
        "else; per CPU second is libFuzzer's rate per second of its own CPU time")
    log("")
    log("issue 6 targets on this machine:")
    for t, want in SPEED_TARGETS.items():
        if t in results:
            r = results[t]
            log("  %-14s >= %6d execs/s: libFuzzer %.0f (%.0f per CPU second), AFL++ %.0f, "
                "together %.0f  %s" % (
                    t, want, r["lf_eps"], r["lf_cpu_eps"], r["afl_eps"],
                    r["lf_eps"] + r["afl_eps"],
                    "met" if r["lf_eps"] + r["afl_eps"] >= want else "MISSED"))
    if base_total and set(targets) == set(TARGETS):
        log("  line coverage of lib/src from the checked-in corpus >= %.0f%%: %.1f%%  %s" % (
            LINE_TARGET, base_total["line_percent"],
            "met" if base_total["line_percent"] >= LINE_TARGET else "MISSED"))
    kept_all = [(t, k) for t in targets for k in results[t]["kept"]
                if k[0] not in ("not-reproduced", "open-bug")]
    if kept_all:
        log("")
        log("crashes kept (corpus/<target>/regress-*; never delete them):")
        for t, (kind, name, text) in kept_all:
            log("  %-14s %-26s %s" % (t, kind, name))
            if text:
                log("  %-14s %-26s   %s" % ("", "", text.splitlines()[0][:150]))
    log("")
    log("fuzz-campaign: %s" % ("CRASHES FOUND" if any_crash else "no crashes"))
    return 1 if any_crash else 0


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
    finally:  # whatever happened, no engine outlives the campaign
        for p in children:
            if p.returncode is None and p.poll() is None:
                p.kill()
    sys.exit(status)
