# SPDX-License-Identifier: Apache-2.0
"""libFuzzer and AFL++ side by side on one target, with progress lines and their statistics."""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import time

from .builds import read_options
from .common import children, corpus_dir, log, run
from .targets import ENGINE_ENV

MAX_RESTARTS = 25  # libFuzzer stops at a crash; it is restarted (same corpus) at most this often


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
        shutil.copytree(corpus_dir(target), self.corpus)
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
        cmd = ["afl-fuzz", "-i", corpus_dir(target), "-o", self.out,
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
    # libFuzzer's share starts now: replaying the seeds is no fuzzing (on a loaded machine it took
    # a 15 s share whole), and its wall-clock rate is over its own fuzzing time
    lf.t0 = time.time()
    lf.deadline = lf.t0 + seconds
    lf.start()
    next_report = t0 + interval
    lf_alive = afl_alive = True
    while lf_alive or (afl and afl_alive):
        time.sleep(0.5)
        if lf_alive:
            lf_alive = lf.poll()
        if afl and afl_alive:
            afl_alive = afl.poll()
        if time.time() > max(t0, lf.t0) + seconds + 60:
            log("  %s: engines overran their time by a minute; stopping them" % target)
            break
        if time.time() >= next_report:
            while next_report <= time.time():  # one line, however long a poll was held up
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
    lf.elapsed = time.time() - lf.t0
    if afl:
        afl.stop()
    elapsed = time.time() - t0
    return lf, afl, elapsed



def engine_stats(lf, afl, elapsed):
    """{engine: its statistics} of one target's run, as the summary records them."""
    lf_execs = lf.last.get("execs", lf.execs_done)
    crash_names = os.listdir(lf.crashes)
    out = {"libfuzzer": {
        "execs": lf_execs,
        "execs_per_s": round(lf_execs / lf.elapsed, 1) if lf.elapsed else 0.0,
        "execs_per_cpu_s": round(lf_execs / lf.cpu_done, 1) if lf.cpu_done else 0.0,
        "cpu_s": round(lf.cpu_done, 2),
        "edges": lf.last.get("cov"),
        "corpus": len(os.listdir(lf.corpus)),
        "crash_files": len(crash_names),
        "crashing_seeds": len([f for f in crash_names if f.startswith("seed-")]),
        "first_crash_s": lf.first_crash(),
        "restarts": lf.restarts}}
    if afl:
        a = afl.last
        out["afl"] = {
            "execs": a.get("execs", 0),
            "execs_per_s": round(a.get("execs", 0) / max(1, a.get("runtime", 0) or elapsed), 1),
            "corpus": a.get("corp", 0),
            "crash_files": len(afl.crash_files()),
            "hangs": len(afl.crash_files("hangs")),
            "first_crash_s": afl.first_crash(),
            "bitmap_coverage": a.get("cvg") or None}
    return out


def prune_work(work):
    """Removes the bulk of a target's work directory once its new inputs are merged: libFuzzer's
    working corpus and AFL++'s queue (tens of MB a night). Logs, crash and hang files and AFL++'s
    statistics stay with the run."""
    for sub in ("libfuzzer-corpus", os.path.join("afl", "default", "queue")):
        shutil.rmtree(os.path.join(work, sub), ignore_errors=True)
