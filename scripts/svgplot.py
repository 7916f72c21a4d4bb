#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A small, dependency-free SVG line plot (for reports that must render without matplotlib).

    import svgplot
    svgplot.line_plot("rate.svg", "fuzz_validate", "run", "execs/s",
                      {"libFuzzer": [(1, 98000), (2, 104000)], "AFL++": [(1, 31000), (2, 33000)]})

Each series is a list of (x, y) pairs, drawn in the order given, with a marker on every point; a
pair whose y is None leaves a gap. On a log axis, points <= 0 cannot be drawn and are left out.
Axes get "nice" ticks (1, 2, 5 x 10^k, or decades on a log axis), labels, a title and a legend;
the colours are the Okabe-Ito palette (told apart with colour blindness too), and beyond eight
series the dash pattern changes as well.

python3 scripts/svgplot.py --self-test   writes plots of awkward data into a temporary directory and
                                         checks that each parses as XML and holds what it should.
"""
import math
from xml.sax.saxutils import escape

__all__ = ["line_plot"]

COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
DASHES = ["", "6,3", "2,3", "8,3,2,3"]
FONT = "font-family='sans-serif'"
CHAR_WIDTH = 7.0  # approximate width of a 12 px sans-serif character, for the legend's size


def _nice_step(span, want):
    """The 1, 2 or 5 x 10^k step that splits span into about `want` intervals."""
    raw = span / max(want, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * mag * 1.0000001:
            return mult * mag
    return 10 * mag


def _linear_axis(lo, hi, want=6):
    """(lo, hi, ticks) rounded outwards to a nice step; a zero-width range is widened."""
    if lo == hi:
        pad = abs(lo) * 0.1 if lo != 0 else 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo, want)
    lo2 = math.floor(lo / step + 1e-9) * step
    hi2 = math.ceil(hi / step - 1e-9) * step
    ticks, i = [], 0
    while lo2 + i * step <= hi2 + step * 1e-6:
        ticks.append(round(lo2 + i * step, 12))
        i += 1
    return lo2, hi2, ticks


def _log_axis(lo, hi):
    """(lo, hi, ticks) in data units, whole decades; 2 and 5 as well when there are few."""
    elo, ehi = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if elo == ehi:
        ehi += 1
    ticks = []
    for e in range(elo, ehi + 1):
        for mult in ((1, 2, 5) if ehi - elo <= 2 else (1,)):
            v = mult * 10.0 ** e
            if v <= 10.0 ** ehi * 1.0000001:
                ticks.append(v)
    return 10.0 ** elo, 10.0 ** ehi, ticks


def _format_number(v):
    """A short tick label: 1.5k, 2M, 0.25, 1e-05."""
    if v == 0:
        return "0"
    a = abs(v)
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= limit:
            return ("%.3g" % (v / limit)) + suffix
    if a >= 1e-3:
        return "%.3g" % v
    return "%.0e" % v


def line_plot(path, title, xlabel, ylabel, series, logx=False, logy=False, *,
              xformat=None, yformat=None, width=800, height=450):
    """Writes an SVG line plot of `series` (name -> list of (x, y)) to `path`.

    xformat/yformat, if given, turn a tick value into its label (e.g. a date from a timestamp).
    """
    fx = xformat or _format_number
    fy = yformat or _format_number
    clean = {}
    for name, points in series.items():
        kept = []
        for x, y in points:
            if x is None or (logx and x <= 0):
                continue
            if y is not None and logy and y <= 0:
                y = None  # cannot be drawn on a log axis: a gap
            kept.append((float(x), None if y is None else float(y)))
        clean[str(name)] = kept
    xs = [x for pts in clean.values() for x, y in pts if y is not None]
    ys = [y for pts in clean.values() for x, y in pts if y is not None]

    legend_chars = max([len(n) for n in clean] + [6])
    legend_w = min(260.0, 36 + CHAR_WIDTH * legend_chars)
    left, top, bottom = 78.0, 42.0, 58.0
    right = legend_w + 20
    pw, ph = width - left - right, height - top - bottom

    if xs:
        x0, x1, xticks = _log_axis(min(xs), max(xs)) if logx else _linear_axis(min(xs), max(xs))
        y0, y1, yticks = _log_axis(min(ys), max(ys)) if logy else _linear_axis(min(ys), max(ys))
    else:
        x0, x1, xticks = 0.0, 1.0, []
        y0, y1, yticks = 0.0, 1.0, []

    def tx(v):
        if logx:
            return left + pw * (math.log10(v) - math.log10(x0)) / (math.log10(x1) - math.log10(x0))
        return left + pw * (v - x0) / (x1 - x0)

    def ty(v):
        if logy:
            return top + ph * (1 - (math.log10(v) - math.log10(y0)) / (math.log10(y1) - math.log10(y0)))
        return top + ph * (1 - (v - y0) / (y1 - y0))

    out = ["<?xml version='1.0' encoding='UTF-8'?>",
           "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>"
           % (width, height, width, height),
           "<rect x='0' y='0' width='%d' height='%d' fill='white'/>" % (width, height),
           "<text x='%.1f' y='24' text-anchor='middle' font-size='16' font-weight='bold' %s>%s</text>"
           % (left + pw / 2, FONT, escape(title))]

    # Grid and ticks.
    for v in xticks:
        X = tx(v)
        out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e4e4e4'/>" % (X, top, X, top + ph))
        out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>"
                   % (X, top + ph, X, top + ph + 5))
        out.append("<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12' %s>%s</text>"
                   % (X, top + ph + 19, FONT, escape(fx(v))))
    for v in yticks:
        Y = ty(v)
        out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e4e4e4'/>" % (left, Y, left + pw, Y))
        out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333'/>" % (left - 5, Y, left, Y))
        out.append("<text x='%.1f' y='%.1f' text-anchor='end' font-size='12' %s>%s</text>"
                   % (left - 8, Y + 4, FONT, escape(fy(v))))
    out.append("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#333'/>"
               % (left, top, pw, ph))
    out.append("<text x='%.1f' y='%.1f' text-anchor='middle' font-size='13' %s>%s</text>"
               % (left + pw / 2, height - 14, FONT, escape(xlabel)))
    out.append("<text x='18' y='%.1f' text-anchor='middle' font-size='13' transform='rotate(-90 18 %.1f)' %s>%s</text>"
               % (top + ph / 2, top + ph / 2, FONT, escape(ylabel)))
    if not xs:
        out.append("<text x='%.1f' y='%.1f' text-anchor='middle' font-size='14' fill='#777' %s>no data</text>"
                   % (left + pw / 2, top + ph / 2, FONT))

    # Lines, markers and the legend.
    lx, ly = left + pw + 16, top + 8
    for i, (name, points) in enumerate(clean.items()):
        colour = COLOURS[i % len(COLOURS)]
        dash = DASHES[(i // len(COLOURS)) % len(DASHES)]
        dash_attr = " stroke-dasharray='%s'" % dash if dash else ""
        out.append("<g class='series'><title>%s</title>" % escape(name))
        runs, run = [], []
        for x, y in points:
            if y is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((tx(x), ty(y)))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                out.append("<polyline fill='none' stroke='%s' stroke-width='2'%s points='%s'/>"
                           % (colour, dash_attr, " ".join("%.1f,%.1f" % p for p in r)))
            for X, Y in r:
                out.append("<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>" % (X, Y, colour))
        out.append("</g>")
        Y = ly + 20 * i
        out.append("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>"
                   % (lx, Y, lx + 22, Y, colour, dash_attr))
        out.append("<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>" % (lx + 11, Y, colour))
        out.append("<text x='%.1f' y='%.1f' font-size='12' %s>%s</text>"
                   % (lx + 28, Y + 4, FONT, escape(name)))
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def _self_test():
    """Plots awkward data and checks the files. Returns the number of failed checks."""
    import os
    import tempfile
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL: " + what)

    with tempfile.TemporaryDirectory() as d:
        cases = {
            "linear": (dict(series={"libFuzzer": [(1, 98000), (2, 104000), (3, 110000)],
                                    "AFL++ <&>": [(1, 31000), (2, None), (3, 34000)]}), 1, 5),
            "loglog": (dict(series={"a": [(1, 0.001), (10, 0.1), (1000, 50)],
                                    "b": [(1, 0), (100, 2)]}, logx=True, logy=True), 1, 4),
            "constant": (dict(series={"only": [(5, 7), (5, 7)]}), 1, 2),
            "empty": (dict(series={"none": []}), 0, 0),
            "many": (dict(series={"s%d" % i: [(0, i), (1, i * i)] for i in range(11)}), 11, 22),
        }
        # (keyword arguments, polylines, markers): a gap splits a line, a lone point is a marker only
        for name, (kw, lines, markers) in cases.items():
            path = os.path.join(d, name + ".svg")
            line_plot(path, "test <%s>" % name, "x & more", "y", **kw)
            try:
                root = ET.parse(path).getroot()
            except ET.ParseError as e:
                check(False, "%s: not XML: %s" % (name, e))
                continue
            check(root.tag == ns + "svg" and root.get("width") == "800", name + ": an 800 px <svg>")
            check(len(root.findall(".//%sg/%spolyline" % (ns, ns))) == lines, name + ": polylines")
            check(len(root.findall(".//%sg/%scircle" % (ns, ns))) == markers, name + ": markers")
            texts = [t.text for t in root.iter(ns + "text")]
            check("test <%s>" % name in texts and "x & more" in texts, name + ": title and label")
            check(all(n in texts for n in kw["series"]), name + ": every series in the legend")
            if name == "loglog":
                check("1k" in texts and "0.001" in texts, "loglog: decade ticks 0.001 .. 1k")
            if name == "linear":
                check("100k" in texts, "linear: a 100k tick")
            if name == "many":
                colours = {c.get("fill") for c in root.findall(".//%sg/%scircle" % (ns, ns))}
                check(len(colours) == len(COLOURS), "many: the whole palette is used")
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    import sys
    if sys.argv[1:] != ["--self-test"]:
        print("usage: svgplot.py --self-test   (the module's use: import svgplot; svgplot.line_plot(...))")
        sys.exit(2)
    sys.exit(1 if _self_test() else 0)
