#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that the key of a result record (run_wp.py, proofs/README.md "The cache") changes with
every input it must cover, so that a recorded result is never replayed for a changed unit:
an ACSL comment in an included header, a header included from a header, a preprocessor flag, a
frama-c flag, a tool version; and that a record whose key differs is not used. Also that the
frama-c command run_wp.py builds from proofs/wp.flags runs one prover per pass (Frama-C 25 adds
-wp-prover across -then: proofs/README.md, "How long the suite takes"), the lemma passes the
provers of the earlier passes, and a unit's -cpp-extra-args only in the first preprocessing.
And that the mutants' shards (run_wp.py mutants --shard I/N) hold every mutant exactly once, about
equally long and the same in every test, and that tests finishing at the same moment leave a
summary with every result; and that the summary attributes a goal to its function under each
memory model's goal prefix (typed_, typed_real_, typed_cast_).

  test_result_key.py   (needs frama-c for -print-cpp-commands; part of the proofs suite)
Ends with "N passed, N failed"; exit status 1 on any failure.
"""
import json
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_wp  # noqa: E402

PASSED, FAILED = 0, 0


def check(what, ok):
    global PASSED, FAILED
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    PASSED, FAILED = PASSED + ok, FAILED + (not ok)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def provers_per_pass(cmd):
    """The provers each -then pass of a frama-c command runs, as Frama-C 25 reads -wp-prover: the
    selection carries over -then; `-wp-prover X` and `-wp-prover=X,+Y` add, `=-X` removes."""
    selected, out = [], []
    for i, a in enumerate(cmd + ["-then"]):
        if a == "-then":
            out.append(list(selected))
            continue
        value = a.split("=", 1)[1] if a.startswith("-wp-prover=") else \
            cmd[i + 1] if a == "-wp-prover" else None
        for p in (value.split(",") if value else []):
            if p.startswith("-"):
                selected = [q for q in selected if q != p[1:]]
            elif p.lstrip("+") not in selected:
                selected.append(p.lstrip("+"))
    return out


def split_passes(cmd):
    """A frama-c command's -then passes."""
    out = [[]]
    for a in cmd:
        if a == "-then":
            out.append([])
        else:
            out[-1].append(a)
    return out


def built_command(src, unit, functions, **kw):
    """The command run_wp.run_wp builds for `unit` (compile flags and the record stubbed out)."""
    seen = {}
    saved = run_wp.compile_flags, run_wp.load_result_record
    def record(_src, _name, inputs):
        seen["command"] = inputs["command"]
        return run_wp.Run()
    run_wp.compile_flags = lambda *a: []
    run_wp.load_result_record = record
    try:
        run_wp.run_wp(src, os.path.join(src, "build"), unit, unit["path"], functions,
                      os.path.join(src, "build", "cmd"), "cmd", mode="result",
                      versions={"frama-c": "25.0"}, **kw)
    finally:
        run_wp.compile_flags, run_wp.load_result_record = saved
    return seen["command"]


def check_command():
    real = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wp.flags")
    _, passes, _ = run_wp.read_flags(real)
    with tempfile.TemporaryDirectory() as src:
        os.makedirs(os.path.join(src, "proofs"))
        with open(real) as f:
            write(os.path.join(src, "proofs", "wp.flags"), f.read())
        source = os.path.join(src, "u.c")
        write(source, "int f(int x) { return x; }\n")
        unit = {"source": "u.c", "path": source, "name": "u",
                "flags": ["-cpp-extra-args=-DQMAR_X=1"], "lemmas": ["l1", "l2"]}
        cmd = built_command(src, unit, ["f"])
        per_pass = provers_per_pass(cmd)
        main_passes = per_pass[:len(passes)]
        check("each pass of wp.flags runs exactly its own prover",
              main_passes == [provers_per_pass(p)[0] for p in passes]
              and all(len(p) == 1 for p in main_passes))
        every = []
        for p in main_passes:
            every += [q for q in p if q not in every]
        lemma_passes = per_pass[len(passes):]
        check("the last lemma pass runs every prover pass's prover",
              len(lemma_passes) >= 2 and sorted(lemma_passes[-1]) == sorted(every)
              and all(len(a) <= len(b) for a, b in zip(lemma_passes, lemma_passes[1:])))
        check("a unit's -cpp-extra-args are in the first preprocessing only",
              [a for a in cmd if a.startswith("-cpp-extra-args")] == [cmd[1]]
              and "-DQMAR_X=1" in cmd[1])
        # A mutant with a selection: each prover pass proves only it, its exclusions after it.
        mutant = built_command(src, dict(unit, lemmas=[]), ["f"], mutant=True, smoke=False,
                               select="@ensures")
        props = [[a for a in p if a.startswith("-wp-prop")] for p in split_passes(mutant)]
        wanted = [["-wp-prop=" + ",".join(["@ensures"] + own)] for own in
                  ([i for a in p if a.startswith("-wp-prop=")
                    for i in a.split("=", 1)[1].split(",") if i.startswith("-")]
                   for p in passes if "-wp-smoke-tests" not in p)]
        check("a mutant's selection replaces each prover pass's -wp-prop, exclusions kept after it",
              props == wanted and any(len(w[0].split(",")) > 1 for w in wanted))
        whole = built_command(src, dict(unit, lemmas=[]), ["f"], mutant=True, smoke=False)
        check("a mutant without a selection keeps the passes' own -wp-prop",
              [a for a in whole if a.startswith("-wp-prop")] ==
              [a for p in passes if "-wp-smoke-tests" not in p for a in p
               if a.startswith("-wp-prop")])


def check_shards():
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    names = run_wp.mutant_names(src)
    cpu = {m: run_wp.recorded_cpu(src, m) for m in names}
    for n in (1, 2, 3, 4, 7):
        shards = run_wp.mutant_shards(cpu, n)
        flat = [m for s in shards for m in s]
        check("%d shards: every mutant in exactly one" % n,
              len(shards) == n and sorted(flat) == sorted(names) and len(set(flat)) == len(flat))
        # greedy, longest first: no shard exceeds another by more than the longest mutant
        cost = run_wp.shard_costs(cpu)
        load = [sum(cost[m] for m in s) for s in shards]
        check("%d shards: balanced (loads %s s)" % (n, "/".join("%.0f" % x for x in load)),
              max(load) - min(load) <= max(cost.values()))
        again = run_wp.mutant_shards(dict(reversed(list(cpu.items()))), n)
        check("%d shards: the same split whatever the order read" % n, again == shards)
    ties = run_wp.mutant_shards({"a": 5, "b": 5, "c": 5, "d": None}, 2)
    check("equal times and a new mutant (no record) split deterministically",
          ties == [["a", "c"], ["b", "d"]])


def finish(src, build, name, i, barrier):
    """Test i finishing: its result written and the summary rebuilt. The tests write their
    results one after the other, each reading the results more slowly than the next, so that
    without the lock the first one, which saw only its own result, would write the summary
    last."""
    read = run_wp.read_results
    def slow(root, names):
        out = read(root, names)
        time.sleep(0.4 - 0.04 * i)
        return out
    run_wp.read_results = slow
    barrier.wait()
    time.sleep(0.02 * i)
    if name.startswith("mutants/"):
        run_wp.write_result(src, build, name, {"kind": "mutant", "name": name[8:], "unit": "u",
                                               "mutation": "m", "killed": True})
    else:
        run_wp.write_result(src, build, name, {
            "unit": name, "total": 1, "proved": 1, "smoke_total": 0, "smoke_failed": [],
            "seconds": 1, "functions": [], "ok": True})


def check_concurrent_summary():
    with tempfile.TemporaryDirectory() as src:
        build = os.path.join(src, "build")
        os.makedirs(os.path.join(src, "proofs", "mutants"))
        os.makedirs(os.path.join(build, "proofs"))
        names = ["u%d" % i for i in range(4)] + ["mutants/m%d" % i for i in range(4)]
        for n in names[4:]:
            write(os.path.join(src, "proofs", n + ".sed"), "")
        ctx = multiprocessing.get_context("fork")
        barrier = ctx.Barrier(len(names))
        procs = [ctx.Process(target=finish, args=(src, build, n, i, barrier))
                 for i, n in enumerate(names)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        with open(os.path.join(build, "proofs", "summary.json")) as f:
            summary = json.load(f)
        got = sorted(r.get("unit") if "kind" not in r else "mutants/" + r["name"]
                     for r in summary)
        with open(os.path.join(build, "proofs", "summary.txt")) as f:
            text = f.read()
        check("tests finishing at once: the summary holds every result",
              all(p.exitcode == 0 for p in procs) and got == sorted(names)
              and "mutants: 4 killed" in text)


def check_function_of():
    """The summary's table attributes each goal to its function, whatever WP's model prefix."""
    fs = ["at", "qmar__pack_b_pad", "cols", "col_group", "cast_x"]
    cases = {"typed_at_ensures": "at", "typed_real_at_ensures": "at",
             "typed_cast_at_ensures": "at",
             "typed_cast_qmar_pack_b_pad_loop_invariant_4_preserved": "qmar__pack_b_pad",
             "typed_cast_col_group_assigns": "col_group", "typed_cast_x_ensures": "cast_x",
             "typed_cast_cast_x_ensures": "cast_x", "typed_cast_lemma_foo": "(lemmas)"}
    got = {g: run_wp.function_of(g, fs) for g in cases}
    check("goal names of the Typed, Typed+real and Typed+cast models name their function",
          got == cases)


def main():
    check_function_of()
    check_command()
    check_shards()
    check_concurrent_summary()
    with tempfile.TemporaryDirectory() as src:
        build = os.path.join(src, "build")
        work = os.path.join(build, "unit")
        os.makedirs(work)
        source = os.path.join(src, "unit.c")
        write(source, '#include "a.h"\nint f(int x) { return g(x); }\n')
        write(os.path.join(src, "a.h"), '#include "b.h"\n/*@ requires x >= 0; */\nint g(int x);\n')
        write(os.path.join(src, "b.h"), '/*@ logic integer h(integer x) = x; */\n')
        cpp_args = "-cpp-extra-args=-I" + src
        cmd = ["frama-c", cpp_args, source, "-wp", "-wp-timeout", "10"]
        tools = {"frama-c": "25.0", "why3": "1.5.1"}

        def key(cpp=cpp_args, command=cmd, versions=tools):
            inputs = run_wp.result_inputs(src, build, command, cpp, source, work, versions)
            return run_wp.inputs_key(inputs), inputs

        k0, inputs0 = key()
        check("the same inputs give the same key", key()[0] == k0)
        check("the key lists the header included from a header",
              "<source>/b.h" in inputs0["files"])
        write(os.path.join(src, "a.h"), '#include "b.h"\n/*@ requires x > 0; */\nint g(int x);\n')
        k1, _ = key()
        check("an ACSL comment changed in a header changes the key", k1 != k0)
        write(os.path.join(src, "b.h"), '/*@ logic integer h(integer x) = x + 1; */\n')
        k2, _ = key()
        check("a header included from a header changes the key", k2 != k1)
        write(os.path.join(src, "c.h"), "/*@ logic integer c = 0; */\n")
        write(os.path.join(src, "b.h"), '#include "c.h"\n#include <stdint.h>\n'
                                         '/*@ logic integer h(integer x) = x + 1; */\n')
        k3, inputs3 = key()
        check("a newly included header is in the key", "<source>/c.h" in inputs3["files"]
              and k3 != k2)
        check("Frama-C's libc headers are in the key",
              any(f.endswith("/libc/stdint.h") for f in inputs3["files"]))
        k4, _ = key(cpp=cpp_args + " -DQMAR_X=1",
                    command=["frama-c", cpp_args + " -DQMAR_X=1"] + cmd[2:])
        check("a preprocessor flag changes the key", k4 != k3)
        k5, _ = key(command=cmd[:-1] + ["20"])
        check("a frama-c flag (a timeout) changes the key", k5 != k3)
        k6, _ = key(versions=dict(tools, why3="1.6.0"))
        check("a tool version changes the key", k6 != k3)

        # The same unit in another checkout has the same key, even through a file the runner
        # writes into the build dir that names the source by its absolute path.
        keys = []
        for root in ("a", "bb"):
            other = os.path.join(src, root)
            os.makedirs(os.path.join(other, "build"))
            write(os.path.join(other, "h.h"), "/*@ logic integer one = 1; */\n")
            wrapper = os.path.join(other, "build", "unit_h.c")
            write(wrapper, '#include "%s"\n' % os.path.join(other, "h.h"))
            inputs = run_wp.result_inputs(other, os.path.join(other, "build"),
                                          ["frama-c", wrapper], "-cpp-extra-args=", wrapper,
                                          os.path.join(other, "build"), tools)
            keys.append(run_wp.inputs_key(inputs))
        check("a unit has the same key in two checkouts", keys[0] == keys[1])

        # A record is replayed only for its own key.
        run = run_wp.Run()
        run.goals, run.prover, run.time = {"typed_f_ensures": True}, {"typed_f_ensures": "Qed"}, {}
        run.cache_name, run.how = "unit", "WP cache"
        run.key, run.inputs = k3, inputs3
        run_wp.save_result_record(src, run)
        check("a record is replayed when the inputs are unchanged",
              run_wp.load_result_record(src, "unit", inputs3) is not None)
        run.cpu, run.cache_name = 12.4, "mutant-m"
        run_wp.save_result_record(src, run)
        with open(run_wp.result_record_path(src, "mutant-m")) as f:
            rec = json.load(f)
        check("a record keeps its run's CPU time outside its key and result (shard balance)",
              run_wp.recorded_cpu(src, "m") == 12 and rec["key"] == k3
              and "cpu_seconds" not in rec["result"] and "cpu_seconds" not in rec["inputs"])
        write(os.path.join(src, "c.h"), "/*@ logic integer c = 1; */\n")
        _, inputs7 = key()
        check("a record is not replayed once an input changed",
              run_wp.load_result_record(src, "unit", inputs7) is None)
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
