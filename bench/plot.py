#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A line plot as SVG from a benchmark's CSV, drawn by scripts/svgplot.py (no other dependency).

usage: plot.py CSV SVG --title T --ylabel Y COLUMN[=LABEL] ...

The CSV's column "m" is the x axis (log scale); each COLUMN named is one line, labelled LABEL.
Where k or n (columns "k", "n", if present) change between two m, the line is broken (a gap):
points of different shapes are not joined, and the shapes are named under the x axis. Rows with the
same m are averaged (there is one per m in the benchmarks' CSVs).
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import svgplot  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("svg")
    ap.add_argument("--title", default="")
    ap.add_argument("--ylabel", default="")
    ap.add_argument("series", nargs="+")
    args = ap.parse_args()
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    ms = sorted({int(r["m"]) for r in rows})
    shape_of = {int(r["m"]): (r.get("k", ""), r.get("n", "")) for r in rows}
    series = {}
    for spec in args.series:
        col, _, label = spec.partition("=")
        points = []
        for i, m in enumerate(ms):
            if i > 0 and shape_of[m] != shape_of[ms[i - 1]]:
                points.append((m, None))  # a new shape: break the line here
            vals = [float(r[col]) for r in rows if int(r["m"]) == m and r.get(col, "") != ""]
            if vals:
                points.append((m, sum(vals) / len(vals)))
        series[label or col] = points
    shapes = []
    for m in ms:
        if shape_of[m] != ("", "") and (not shapes or shapes[-1][1] != shape_of[m]):
            shapes.append((m, shape_of[m]))
    xlabel = "m (rows of x1)"
    if shapes:
        xlabel += "; k x n: " + ", ".join(f"{k}x{n} from {m}" for m, (k, n) in shapes)
    svgplot.line_plot(args.svg, args.title, xlabel, args.ylabel, series, logx=True)


if __name__ == "__main__":
    main()
