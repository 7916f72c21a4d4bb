#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs .clusterfuzzlite/build.sh as the ClusterFuzzLite/OSS-Fuzz builder would (CC/CXX clang,
their ASan + libFuzzer flags, LIB_FUZZING_ENGINE=-fsanitize=fuzzer, SRC/OUT/WORK temporary
directories) and checks $OUT: one fuzzer per fuzz/<target>.options, ASan-instrumented with
libFuzzer's driver; its .options and .dict; a seed zip holding exactly corpus/<target>/; and that
each fuzzer runs its seeds and a few mutations with its options as ClusterFuzz passes them.
Ends with "N passed, N failed"."""
import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FLAGS = ("-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address "
         "-fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link")
SEEDS_RUN = 6  # seed files each fuzzer runs (plus as many mutations)
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, flush=True)


def main():
    targets = sorted(f[:-len(".options")] for f in os.listdir(os.path.join(ROOT, "fuzz"))
                     if f.startswith("fuzz_") and f.endswith(".options"))
    check(targets == ["fuzz_api", "fuzz_numeric", "fuzz_op", "fuzz_validate"],
          "the four targets (got %s)" % targets)
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, CC="clang", CXX="clang++", CFLAGS=FLAGS, CXXFLAGS=FLAGS,
                   LIB_FUZZING_ENGINE="-fsanitize=fuzzer", SRC=os.path.join(d, "src"),
                   OUT=os.path.join(d, "out"), WORK=os.path.join(d, "work"))
        for k in ("SRC", "OUT", "WORK"):
            os.makedirs(env[k])
        r = subprocess.run(["bash", os.path.join(ROOT, ".clusterfuzzlite", "build.sh")], cwd=ROOT,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        check(r.returncode == 0, "build.sh exits 0 (got %d)" % r.returncode)
        if r.returncode != 0:
            print(r.stdout[-6000:])
        out = env["OUT"]
        for t in targets:
            binary = os.path.join(out, t)
            if not os.access(binary, os.X_OK):
                check(False, "%s: no fuzzer in $OUT" % t)
                continue
            symbols = subprocess.run(["nm", binary], stdout=subprocess.PIPE, text=True).stdout
            check("__asan_init" in symbols and "LLVMFuzzerRunDriver" in symbols,
                  "%s: ASan and libFuzzer's driver linked in" % t)
            opts = os.path.join(out, t + ".options")
            check(os.path.isfile(opts) and open(opts, "rb").read() ==
                  open(os.path.join(ROOT, "fuzz", t + ".options"), "rb").read(),
                  "%s: .options copied" % t)
            cp = configparser.ConfigParser()
            cp.read(opts)
            lf = dict(cp["libfuzzer"]) if cp.has_section("libfuzzer") else {}
            if "dict" in lf:
                check(os.path.isfile(os.path.join(out, lf["dict"])),
                      "%s: its dictionary %s is in $OUT" % (t, lf["dict"]))
            corpus = os.path.join(ROOT, "corpus", t)
            zpath = os.path.join(out, t + "_seed_corpus.zip")
            try:
                z = zipfile.ZipFile(zpath)
            except (OSError, zipfile.BadZipFile) as e:
                check(False, "%s: seed zip: %s" % (t, e))
                continue
            with z:
                names = sorted(z.namelist())
                check(names == sorted(os.listdir(corpus)), "%s: the zip holds corpus/%s/" % (t, t))
                few = names[:SEEDS_RUN]
                check(all(z.read(n) == open(os.path.join(corpus, n), "rb").read() for n in few),
                      "%s: zipped seeds are the corpus files" % t)
                seeds = os.path.join(d, "seeds-" + t)
                os.makedirs(seeds)
                for n in few:
                    z.extract(n, seeds)
            # as ClusterFuzz runs it: from $OUT, the options as flags, a scratch corpus first
            work_corpus = os.path.join(d, "corpus-" + t)
            os.makedirs(work_corpus)
            flags = ["-%s=%s" % kv for kv in lf.items()]
            cmd = [binary, "-runs=%d" % (2 * SEEDS_RUN), "-seed=1", "-max_total_time=60"] + \
                flags + [work_corpus, seeds]
            r = subprocess.run(cmd, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, errors="replace", timeout=300,
                               env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
            ok = r.returncode == 0 and "Done %d runs" % (2 * SEEDS_RUN) in r.stdout
            check(ok, "%s: runs %d seeds and mutations (rc %d)" % (t, len(few), r.returncode))
            if not ok:
                print(r.stdout[-3000:])
            check(("Dictionary: " in r.stdout) == ("dict" in lf), "%s: its dictionary loads" % t)
            shutil.rmtree(seeds)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
