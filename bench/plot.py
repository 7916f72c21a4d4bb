#!/usr/bin/env python3
"""A line plot as SVG from a benchmark's CSV, with no dependency beyond Python itself.

usage: plot.py CSV SVG --title T --ylabel Y COLUMN[=LABEL] ...

The CSV's column "m" is the x axis (log scale, base 2); each COLUMN named is one line, labelled
LABEL, broken where k or n (columns "k", "n", if present) change: points of different shapes are
not joined. Rows with the same m are averaged (there is one per m in the benchmarks' CSVs).
"""
import argparse
import csv
import math

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
W, H = 720, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 40, 50


def nice_max(v):
    """The smallest 1, 2 or 5 times a power of ten at or above v."""
    if v <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(v))
    for f in (1, 2, 5, 10):
        if f * p >= v:
            return f * p
    return 10 * p


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    series = []
    for spec in args.series:
        col, _, label = spec.partition("=")
        series.append((col, label or col))
    ms = sorted({int(r["m"]) for r in rows})
    shape_of = {int(r["m"]): (r.get("k", ""), r.get("n", "")) for r in rows}
    data = {}
    for col, _ in series:
        for m in ms:
            vals = [float(r[col]) for r in rows if int(r["m"]) == m and r.get(col, "") != ""]
            if vals:
                data[(col, m)] = sum(vals) / len(vals)
    ymax = nice_max(max(data.values(), default=1.0) * 1.05)
    xlo, xhi = math.log2(ms[0]), math.log2(ms[-1])
    if xhi == xlo:
        xlo, xhi = xlo - 1, xhi + 1
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(m):
        return LEFT + (math.log2(m) - xlo) / (xhi - xlo) * pw

    def py(v):
        return TOP + ph - v / ymax * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{esc(args.title)}</text>']
    for i in range(6):  # horizontal grid and y labels
        v = ymax * i / 5
        y = py(v)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for m in ms:  # x ticks at the measured m
        x = px(m)
        out.append(f'<line x1="{x:.1f}" y1="{TOP + ph}" x2="{x:.1f}" y2="{TOP + ph + 5}" '
                   f'stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + ph + 18}" text-anchor="middle">{m}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="black"/>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 10}" text-anchor="middle">m (rows of x1, '
               f'log scale)</text>')
    out.append(f'<text x="16" y="{TOP + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {TOP + ph / 2})">{esc(args.ylabel)}</text>')
    for i, (col, label) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        pts = [(px(m), py(data[(col, m)])) for m in ms if (col, m) in data]
        if not pts:
            continue
        dash = ' stroke-dasharray="6,4"' if i % 2 else ""
        segment = []
        for m in ms + [None]:  # one polyline per run of the same (k, n)
            if segment and (m is None or shape_of[m] != shape_of[segment[-1]]):
                path = " ".join(f"{px(q):.1f},{py(data[(col, q)]):.1f}" for q in segment)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                           f'stroke-width="2"{dash}/>')
                segment = []
            if m is not None and (col, m) in data:
                segment.append(m)
        for x, y in pts:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        ly = TOP + 14 + 20 * i
        out.append(f'<line x1="{LEFT + pw + 12}" y1="{ly - 4}" x2="{LEFT + pw + 36}" '
                   f'y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{LEFT + pw + 42}" y="{ly}">{esc(label)}</text>')
    shapes = []
    for m in ms:
        if shape_of[m] != ("", "") and (not shapes or shapes[-1][1] != shape_of[m]):
            shapes.append((m, shape_of[m]))
    if shapes:
        y = TOP + 20 * len(series) + 30
        out.append(f'<text x="{LEFT + pw + 12}" y="{y}" font-size="11">k x n, from m on:</text>')
    for i, (m, (k, n)) in enumerate(shapes):
        y = TOP + 20 * len(series) + 46 + 16 * i
        out.append(f'<text x="{LEFT + pw + 12}" y="{y}" font-size="11">m = {m}: {k} x {n}'
                   f'</text>')
    out.append("</svg>")
    with open(args.svg, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
