# SPDX-License-Identifier: Apache-2.0
"""The three builds of the harnesses under the campaign's build directory: libfuzzer (clang,
-fsanitize=fuzzer + ASan + UBSan, every UB fatal), afl (afl-clang-fast) and cov (gcc --coverage
replay mains); and the engine options of fuzz/<target>.options."""
import configparser
import hashlib
import os
import shutil
import time

from .common import ROOT, SetupError, log, run
from .targets import TARGETS


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
            raise SetupError("meson setup %s failed" % builddir)
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
        # leave gcov with negative counts that gcovr cannot read. Without the fault-injection
        # hooks (lib/src/fault.c, compiled out of release builds): no harness arms them, and the
        # coverage measured is of the code a release ships.
        "cov": (dict(base, CC="gcc"),
                ["-Dfuzzing=auto", "-Dmpi=disabled", "-Dproofs=disabled", "-Db_coverage=true",
                 "-Dbuildtype=debug", "-Dc_args=-fprofile-update=atomic",
                 "-Dfault_injection=disabled"]),
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
            raise SetupError("building %s failed" % d)
        log("  built %-9s (%s) in %.0f s" % (name, env.get("CC"), time.time() - t0))
        dirs[name] = d
    return dirs



def read_options(target):
    cp = configparser.ConfigParser()
    cp.read(os.path.join(ROOT, "fuzz", target + ".options"))
    lf = dict(cp["libfuzzer"]) if cp.has_section("libfuzzer") else {}
    afl = dict(cp["afl"]) if cp.has_section("afl") else {}
    if "dict" in lf:
        lf["dict"] = os.path.join(ROOT, "fuzz", lf["dict"])
    return lf, afl

