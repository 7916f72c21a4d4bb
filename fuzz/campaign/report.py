# SPDX-License-Identifier: Apache-2.0
"""The report page of a run (index.html in its run directory, beside the coverage reports): the
goals, this run's table, crashes, and plots over time from the history file (execs/s, coverage and
corpus size per target), drawn with scripts/svgplot.py."""
import datetime
import html
import os
import sys

from .common import ROOT
from .targets import GOALS, TARGETS, goal_name

sys.path.insert(0, os.path.join(ROOT, "scripts"))
import svgplot  # noqa: E402  (scripts/ is not a package)

ENGINE_NAMES = {"libfuzzer": "libFuzzer", "afl": "AFL++"}
MAX_RUNS = 400  # plots show at most the latest this many runs of the history
STYLE = """body{font-family:sans-serif;margin:1.5em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.met{color:#070}.missed{color:#b00;font-weight:bold}.crash{color:#b00;font-weight:bold}
img{display:block;margin:.5em 0;border:1px solid #ddd}code{background:#f6f6f6}"""


def _e(x):
    return html.escape("" if x is None else str(x))


def _num(v, fmt="%.0f"):
    return "-" if v is None else fmt % v


def time_axis(runs):
    """(x of each run, x label, formatter): hours since the first run if the history spans less
    than three days, else days."""
    t0 = runs[0]["start_unix"]
    span = runs[-1]["start_unix"] - t0
    unit, name = (3600.0, "hours") if span < 3 * 86400 else (86400.0, "days")
    first = datetime.datetime.fromtimestamp(t0, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    xs = [(r["start_unix"] - t0) / unit for r in runs]
    return xs, "%s since the first run of the history (%s UTC)" % (name, first)


def history_plots(runs, plot_dir):
    """Writes the plots; returns [(file name relative to the run dir, caption)]."""
    runs = sorted(runs, key=lambda r: r["start_unix"])[-MAX_RUNS:]
    os.makedirs(plot_dir, exist_ok=True)
    out = []
    if not runs:
        return out
    xs, xlabel = time_axis(runs)
    names = [t for t in TARGETS if any(t in r.get("targets", {}) for r in runs)]
    names += sorted({t for r in runs for t in r.get("targets", {})} - set(names))

    def series(getter):
        pts = [(x, getter(r)) for x, r in zip(xs, runs)]
        return pts if any(y is not None for _, y in pts) else None

    def engine(r, t, eng, key):
        return r.get("targets", {}).get(t, {}).get("engines", {}).get(eng, {}).get(key)

    def add(fname, title, ylabel, ser, logy=False):
        ser = {k: v for k, v in ser.items() if v}
        if not ser:
            return
        svgplot.line_plot(os.path.join(plot_dir, fname), title, xlabel, ylabel, ser, logy=logy)
        out.append(("plots/" + fname, title))

    fuzzed = [r for r in runs if r.get("targets")]
    for t in names:
        ser = {}
        for eng, label in ENGINE_NAMES.items():
            ser[label + " (wall clock)"] = series(lambda r: engine(r, t, eng, "execs_per_s"))
        ser["libFuzzer per CPU second"] = series(lambda r: engine(r, t, "libfuzzer", "execs_per_cpu_s"))
        ser["both engines (wall clock)"] = series(
            lambda r: r.get("targets", {}).get(t, {}).get("execs_per_s"))
        for g in GOALS:
            if g.kind == "rate" and g.target == t and fuzzed:
                ser["goal: " + goal_name(g)] = [(xs[0], g.minimum), (xs[-1], g.minimum)]
        add("execs-%s.svg" % t, "%s: executions per second" % t, "execs/s", ser)

    def every_target(r, key, kind):
        """All targets' coverage together, from a run that measured every one (else a gap)."""
        if not set(TARGETS) <= set(r.get("targets_run") or []):
            return None
        return ((r.get("coverage") or {}).get(key) or {}).get(kind)

    cov_names = names + sorted({t for r in runs for t in (r.get("coverage") or {})
                                .get("per_target", {})} - set(names))
    for kind, label in (("lines_pct", "line"), ("branches_pct", "branch")):
        ser = {t: series(lambda r: (((r.get("coverage") or {}).get("per_target") or {})
                                    .get(t) or {}).get(kind))
               for t in cov_names}
        ser["all targets, corpus after the run"] = series(
            lambda r: every_target(r, "after_campaign", kind))
        ser["all targets, checked-in corpus"] = series(lambda r: every_target(r, "checked_in", kind))
        if kind == "lines_pct":
            for g in GOALS:
                if g.kind == "lines":
                    ser["goal: ≥ %g %%" % g.minimum] = [(xs[0], g.minimum), (xs[-1], g.minimum)]
        add("coverage-%s.svg" % label, "lib/src %s coverage" % label, "%s coverage (%%)" % label, ser)

    ser = {t: series(lambda r: (r.get("targets", {}).get(t) or {}).get("corpus", {}).get("after"))
           for t in names}
    sizes = [y for pts in ser.values() if pts for _, y in pts if y]
    add("corpus.svg", "corpus size per target (after merging)", "inputs in corpus/<target>/", ser,
        logy=bool(sizes) and max(sizes) > 20 * min(sizes))
    return out


def _goals_table(s):
    rows = []
    for g in s.get("goals", []):
        if g["met"] is None:
            state = "<td>not measured</td>"
        elif g["met"]:
            state = "<td class='met'>met</td>"
        else:
            state = "<td class='missed'>MISSED</td>"
        value = "-" if g["value"] is None else (
            "%.0f execs/s" % g["value"] if g["kind"] == "rate" else "%.1f %%" % g["value"])
        rows.append("<tr><td>%s</td><td class='n'>%s</td>%s<td>%s</td></tr>"
                    % (_e(g["name"]), value, state, _e(g["detail"])))
    return ("<table><tr><th>goal</th><th>this run</th><th></th><th>measured</th></tr>%s</table>"
            % "".join(rows))


def _targets_table(s):
    head = ("<tr><th rowspan=2>target</th><th rowspan=2>s</th><th colspan=5>libFuzzer</th>"
            "<th colspan=3>AFL++</th><th rowspan=2>execs/s<br>together</th>"
            "<th colspan=3>corpus</th><th colspan=2>crashes</th><th colspan=2>lib/src coverage</th></tr>"
            "<tr><th>execs</th><th>execs/s</th><th>per CPU s</th><th>edges</th><th>corpus</th>"
            "<th>execs</th><th>execs/s</th><th>queue</th><th>before</th><th>after</th><th>new</th>"
            "<th>files</th><th>first</th><th>lines</th><th>branches</th></tr>")
    rows = []
    for name, t in s.get("targets", {}).items():
        lf = t["engines"].get("libfuzzer", {})
        afl = t["engines"].get("afl")
        c, cov = t["crashes"], t["coverage"] or {}
        cells = [_e(name), _num(t["seconds"]), _num(lf.get("execs")), _num(lf.get("execs_per_s")),
                 _num(lf.get("execs_per_cpu_s")), _num(lf.get("edges")), _num(lf.get("corpus"))]
        cells += ([_num(afl.get("execs")), _num(afl.get("execs_per_s")), _num(afl.get("corpus"))]
                  if afl else ["off", "", ""])
        cells += [_num(t["execs_per_s"]), _num(t["corpus"]["before"]), _num(t["corpus"]["after"]),
                  _num(t["corpus"]["new"])]
        crash_cell = ("<span class='crash'>%d</span>" % c["files"]) if c["files"] else "0"
        first = _num(c["first_s"], "%.0f s") if c["first_s"] is not None else (
            "seed" if c["files"] else "-")
        row = "<td>%s</td>" % cells[0] + "".join("<td class='n'>%s</td>" % x for x in cells[1:])
        row += "<td class='n'>%s</td><td class='n'>%s</td>" % (crash_cell, first)
        row += "<td class='n'>%s</td><td class='n'>%s</td>" % (
            _num(cov.get("lines_pct"), "%.1f %%"), _num(cov.get("branches_pct"), "%.1f %%"))
        rows.append("<tr>%s</tr>" % row)
    return "<table>%s%s</table>" % (head, "".join(rows))


def _coverage_section(s, run_dir):
    cov = s.get("coverage") or {}
    items = []
    for key, label in (("after_campaign", "the corpus after this run"),
                       ("checked_in", "the checked-in corpus (before this run)")):
        c = cov.get(key)
        if not c:
            continue
        link = _e(c["html"]) if c.get("html") and os.path.exists(os.path.join(run_dir, c["html"])) \
            else None
        items.append("<li>%s: lines %.1f %% (%d/%d), branches %.1f %% (%d/%d)%s</li>" % (
            label, c["lines_pct"], c["lines_covered"], c["lines_total"], c["branches_pct"],
            c["branches_covered"], c["branches_total"],
            " — <a href='%s'>coverage report</a>" % link if link else ""))
    lacking = cov.get("without_kernels_cpu_lacks")
    if lacking:
        items.append("<li>without the kernels this CPU cannot run (%s; it lacks %s): lines %.1f %%, "
                     "branches %.1f %%</li>" % (_e(", ".join(lacking["files"])),
                                                _e(", ".join(lacking["cpu_lacks"])),
                                                lacking["lines_pct"], lacking["branches_pct"]))
    if cov.get("not_compiled"):
        items.append("<li>not in the coverage build, so not counted: %s</li>"
                     % _e(", ".join(cov["not_compiled"])))
    return "<ul>%s</ul>" % "".join(items) if items else "<p>No coverage was measured.</p>"


def _crashes_section(s):
    rows = []
    for name, t in s.get("targets", {}).items():
        c = t["crashes"]
        for k in c["kept"]:
            rows.append("<tr><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td></tr>"
                        % (_e(name), _e(k["kind"]), _e(k["regress_file"]), _e(k["report"])))
        for k in c["open_bug"]:
            rows.append("<tr><td>%s</td><td>again (its kind's regress files already fail)</td>"
                        "<td><code>%s</code></td><td>%s</td></tr>" % (_e(name), _e(k["file"]),
                                                                      _e(k["report"])))
        if c["not_reproduced"]:
            rows.append("<tr><td>%s</td><td>did not fail alone</td><td>%d files</td><td>see the "
                        "run's work/%s/</td></tr>" % (_e(name), c["not_reproduced"], _e(name)))
    if not rows:
        return "<p>No crashes.</p>"
    return ("<table><tr><th>target</th><th>kind</th><th>kept as</th><th>report</th></tr>%s</table>"
            % "".join(rows))


def _history_table(runs, limit=15):
    rows = []
    for r in sorted(runs, key=lambda r: r["start_unix"])[-limit:][::-1]:
        rates = ", ".join("%s %.0f" % (t, v["execs_per_s"]) for t, v in r.get("targets", {}).items())
        ci = ((r.get("coverage") or {}).get("checked_in") or {}).get("lines_pct")
        rows.append("<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td class='n'>%s</td>"
                    "<td>%s</td><td class='n'>%s</td><td>%s</td></tr>" % (
                        _e(r["start"]), _e((r.get("git", {}).get("commit") or "?")[:10]),
                        _e(r["mode"]), _num(r.get("budget_s")), _e(rates) or "-",
                        _num(ci, "%.1f %%"), _e(r.get("verdict"))))
    return ("<table><tr><th>start (UTC)</th><th>commit</th><th>mode</th><th>budget s</th>"
            "<th>execs/s (both engines)</th><th>lines, checked-in</th><th>verdict</th></tr>%s"
            "</table>" % "".join(rows))


def render(run_dir, s, runs, bad_history_lines=0):
    """Writes <run_dir>/index.html and <run_dir>/plots/*.svg; returns the page's path."""
    plots = history_plots(runs, os.path.join(run_dir, "plots"))
    m, tools, git = s["machine"], s["tools"], s["git"]
    missed = any(g["met"] is False for g in s.get("goals", []))
    verdict_class = "crash" if s["exit_status"] == 1 else ("missed" if missed else "met")
    files = [(f, f) for f in ("summary.json", "campaign.log") if os.path.exists(os.path.join(run_dir, f))]
    if os.path.isdir(os.path.join(run_dir, "work")):
        files.append(("work/", "work/ (engine logs, crash files)"))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>qmar fuzz campaign %s</title>"
        "<style>%s</style></head><body>" % (_e(s["run_id"]), STYLE),
        "<h1>qmar fuzz campaign %s</h1>" % _e(s["run_id"]),
        "<p class='%s'>%s — exit status %d</p>" % (verdict_class, _e(s["verdict"]), s["exit_status"]),
        "<p>Started %s, %s s of fuzzing budget (%s mode), took %s s. Commit <code>%s</code>%s "
        "(%s). Machine: %s, %s cores (%s usable), load %s, %s.</p>" % (
            _e(s["start"]), _num(s["budget_s"]), _e(s["mode"]), _num(s["duration_s"]),
            _e(git.get("commit")), " with local changes" if git.get("dirty") else "",
            _e(git.get("branch")), _e(m.get("cpu_model")), _e(m.get("cores")),
            _e(m.get("usable_cores")), _e(" ".join("%.1f" % x for x in m.get("load_average") or [])),
            _e(m.get("system"))),
        "<p>Tools: %s.</p>" % _e("; ".join("%s: %s" % (k, v) for k, v in tools.items())),
        "<p>%s</p>" % " · ".join("<a href='%s'>%s</a>" % (_e(f), _e(label)) for f, label in files),
        "<h2>Goals</h2>", _goals_table(s),
    ]
    if s.get("targets"):
        parts += ["<h2>Targets</h2>", _targets_table(s),
                  "<p>execs/s: wall-clock rates while both engines shared the machine with "
                  "everything else; per CPU s: libFuzzer's executions per second of its own CPU "
                  "time. Coverage per target: the corpus after this run.</p>",
                  "<h2>Crashes</h2>", _crashes_section(s)]
    parts += ["<h2>Coverage of lib/src</h2>", _coverage_section(s, run_dir),
              "<h2>Over time</h2>",
              "<p>From the history file <code>%s</code> (runs: %d%s).</p>" % (
                  _e(s["history"]), len(runs),
                  ", %d lines skipped: not a summary of this schema" % bad_history_lines
                  if bad_history_lines else "")]
    for f, caption in plots:
        parts.append("<img src='%s' alt='%s' width='800' height='450'>" % (_e(f), _e(caption)))
    parts += ["<h3>The latest runs</h3>", _history_table(runs), "</body></html>"]
    page = os.path.join(run_dir, "index.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
    return page
