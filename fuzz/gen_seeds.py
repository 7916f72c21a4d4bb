#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Generates the seed corpus of every fuzz target into corpus/<target>/seed-* (and spec-*).

* fuzz_validate: one seed per row of spec/cases/*.csv, named spec-<row id>, encoding the row's
  call exactly as fuzz/fuzz_validate.c decodes it (the row format is spec/cases/README.md).
* fuzz_op, fuzz_numeric, fuzz_api: structural seeds (every case x dtype x layout, every helper,
  every API sequence that reaches an error path), named for what they cover.

The encoding is fuzz/byte_reader.h's: parameters from the tail (the first one read is the last
in the file, each stored big-endian), payload at the head.

Usage: gen_seeds.py [--check [--verify REPLAY_FUZZ_VALIDATE]] [--root DIR]
  (no option)  rewrites every generated seed; regress-* and auto-* files are never touched
  --check      changes nothing; exits 1 if a generated seed is missing, differs, or is stale
  --verify BIN also replays every spec-* seed through BIN (a replay_fuzz_validate) and checks that
               the acceptance predicate's verdict on the decoded call is the row's rule and
               status, i.e. that each seed really is the call its row describes
"""
import argparse
import os
import re
import struct
import sys

TARGETS = ("fuzz_validate", "fuzz_op", "fuzz_numeric", "fuzz_api")
GENERATED = re.compile(r"^(spec|seed)-")  # the prefixes this script owns

# ---- fuzz/byte_reader.h -------------------------------------------------------------------------

SPECIALS = [2147483647, 2147483648, 4294967296, 8589934592, 8589934593, 140737488355328,
            281474976710656, 281474976710657, 2**63 - 1, -2**63, 65535, 65536, 32768, 16777216,
            4611686018427387904, -2147483648]


class Input:
    """Parameters in the order the harness reads them, and the payload."""

    def __init__(self):
        self.params = []
        self.payload = b""

    def uint(self, value, nbytes):
        self.params.append((value % (1 << (8 * nbytes))).to_bytes(nbytes, "big"))
        return self

    def u8(self, v):
        return self.uint(v, 1)

    def u16(self, v):
        return self.uint(v, 2)

    def u32(self, v):
        return self.uint(v, 4)

    def u64(self, v):
        return self.uint(v, 8)

    def i64v(self, v):
        if not -2**63 <= v < 2**63:
            raise ValueError("%d does not fit int64" % v)
        if 0 <= v < 0x80:
            return self.u8(v)
        if v in SPECIALS:
            return self.u8(0xC0 + SPECIALS.index(v))
        if -16 <= v <= -1:
            return self.u8(0xAF - v)
        if 0 <= v < 1 << 16:
            return self.u8(0x80).u16(v)
        if 0 <= v < 1 << 32:
            return self.u8(0x90).u32(v)
        return self.u8(0xA0).u64(v)

    def bytes(self, b):
        self.payload += b
        return self

    def data(self):
        return self.payload + b"".join(reversed(self.params))


# ---- fuzz_validate from spec/cases -------------------------------------------------------------

HEADER = ("id,rule,expect,x1,x2,bias,x3,dequant_scale,pertoken_scale,comm_quant_scale1,"
          "comm_quant_scale2,output,group,reduce_op,comm_turn,stream_mode,workspace_size,"
          "executor,note")
SLOTS = ["x1", "x2", "bias", "x3", "dequant_scale", "pertoken_scale", "comm_quant_scale1",
         "comm_quant_scale2", "output"]
DTYPES = {"int8": 2, "uint8": 4, "int16": 6, "uint16": 7, "int32": 3, "uint32": 8, "int64": 9,
          "uint64": 10, "fp16": 1, "bf16": 27, "fp32": 0, "fp64": 11, "bool": 12}
COMM_SIZES = [1, 2, 3, 4, 8, 16]


class RowError(Exception):
    pass


def ints(text):
    return [int(x) for x in text.split("x")] if text else []


def unescape(text):
    out, i = bytearray(), 0
    while i < len(text):
        if text.startswith("\\x", i):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif text.startswith("\\\\", i):
            out.append(0x5C)
            i += 2
        else:
            out.append(ord(text[i]))
            i += 1
    return bytes(out)


TENSOR = re.compile(r"^(dt-?\d+|[a-z0-9]+)\[([-0-9x]*)\]((?: \S+)*)$")
NPOOL = 8


def parse_tensor(field):
    """A slot field -> ('absent',) | ('alias', slot) | ('tensor', dict)."""
    if field == "-":
        return ("absent",)
    if field.startswith("="):
        return ("alias", SLOTS.index(field[1:]))
    m = TENSOR.match(field)
    if not m:
        raise RowError("bad tensor %r" % field)
    name, dims, attrs = m.group(1), ints(m.group(2)), m.group(3).split()
    t = {"dtype": int(name[2:]) if name.startswith("dt") else DTYPES[name], "fmt": 2,
         "dims": dims, "strides": None, "offset": 0, "storage": None, "data": ("own",)}
    for a in attrs:
        if a.startswith("s("):
            t["strides"] = ints(a[2:-1])
        elif re.match(r"^o-?\d+$", a):
            t["offset"] = int(a[1:])
        elif a == "nz":
            t["fmt"] = 29
        elif a == "nd":
            t["fmt"] = 2
        elif a.startswith("fmt"):
            t["fmt"] = int(a[3:])
        elif a.startswith("st("):
            t["storage"] = ints(a[3:-1])
        elif a == "nodata":
            t["data"] = ("null",)
        elif a.startswith("@0x"):
            t["data"] = ("abs", int(a[3:], 16))
        elif a.startswith("@"):
            mm = re.match(r"^@(\w+)([+-]\d+)$", a)
            t["data"] = ("rel", SLOTS.index(mm.group(1)), int(mm.group(2)))
        elif a.startswith("buf("):
            pass  # real buffer sizes do not matter: GetWorkspaceSize never reads data
        else:
            raise RowError("bad attribute %r" % a)
    if len(dims) > 8 or (t["strides"] is not None and len(t["strides"]) != len(dims)):
        raise RowError("bad dims/strides in %r" % field)
    return ("tensor", t)


def one_byte(v):
    """fuzz_validate.c's read_val without the pool, or None."""
    if 0 <= v < 0x80:
        return v
    if -48 <= v <= -1:
        return 0x7F - v
    if v in SPECIALS:
        return 0xB0 + SPECIALS.index(v)
    return None


def make_pool(tensors, attrs):
    """Pool words: first every value one byte cannot say (big dims, addresses, odd dtype codes),
    then the shape variables a row repeats (each value >= 2 used twice or more in dims, strides or
    storage dims), most used first."""
    must, counts = [], {}

    def need(v):
        if one_byte(v) is None and v not in must:
            must.append(v)

    for t in tensors:
        for code in (t["dtype"], t["fmt"]):
            if not 0 <= code < 0xF8 and code not in must:
                must.append(code)
        for v in t["dims"] + (t["strides"] or []) + (t["storage"] or []):
            need(v)
            if v not in (0, 1):
                counts[v] = counts.get(v, 0) + 1
        need(t["offset"])
        if t["data"][0] == "rel":
            need(t["data"][2])
        elif t["data"][0] == "abs":
            need(t["data"][1])
    for v in attrs:
        need(v)
    shared = sorted((v for v in counts if counts[v] >= 2 and v not in must),
                    key=lambda v: (-counts[v], v))
    pool = must + shared[:max(0, NPOOL - len(must))]
    if len(must) > NPOOL:
        raise RowError("needs %d pool words, the harness has %d" % (len(must), NPOOL))
    return pool


def val(inp, v, pool):
    if v in pool:
        inp.u8(0xC0 + pool.index(v))
    else:
        inp.u8(one_byte(v))


def code(inp, v, pool):
    inp.u8(v if 0 <= v < 0xF8 else 0xF8 + pool.index(v))


def vals(inp, values, pool):
    for i in range(8):
        val(inp, values[i] if i < len(values) else 0, pool)


def encode_slot(inp, parsed, pool):
    """One slot in read_slot's fixed layout."""
    kind = parsed[0]
    t = parsed[1] if kind == "tensor" else {"dtype": 0, "fmt": 0, "dims": [], "strides": None,
                                            "offset": 0, "storage": None, "data": ("own",)}
    inp.u8({"absent": 0, "tensor": 1, "alias": 2}[kind]).u8(parsed[1] if kind == "alias" else 0)
    code(inp, t["dtype"], pool)
    code(inp, t["fmt"], pool)
    inp.u8(len(t["dims"]))
    vals(inp, t["dims"], pool)
    inp.u8((1 if t["strides"] is not None else 0) | (2 if t["storage"] is not None else 0))
    vals(inp, t["strides"] or [], pool)
    val(inp, t["offset"], pool)
    inp.u8(len(t["storage"] or []))
    vals(inp, t["storage"] or [], pool)
    d = t["data"]
    if d[0] == "own":
        inp.u8(0).u8(0).u8(0)
    elif d[0] == "null":
        inp.u8(1).u8(0).u8(0)
    elif d[0] == "rel":
        inp.u8(2).u8(d[1])
        val(inp, d[2], pool)
    else:
        inp.u8(3).u8(0)
        val(inp, d[1], pool)


def text_spec(inp, length=0, fill=b"\0", payload=b""):
    """text: u16 length, u8 fill, u16 payload bytes; the bytes go to the head."""
    inp.u16(length).u8(fill[0]).u16(len(payload)).bytes(payload)


def encode_group(inp, g):
    m = re.match(r"^(prefix:|suffix:)?r(\d+)(?:\.(\d+))?$", g)
    if m:
        edit = {"prefix:": 1, "suffix:": 2}.get(m.group(1), 0)
        inp.u8(0).u8(COMM_SIZES.index(int(m.group(2)))).u8(int(m.group(3) or 0)).u8(edit)
        text_spec(inp, payload=b"x" if edit == 2 else b"")
        return
    kind, spec = {"dead": (1, {}), "null": (2, {}),
                  "unknown": (3, {"payload": b"qmar-spec-no-such-group"}),
                  "empty": (3, {})}.get(g, (None, None))
    if kind is None and g.startswith("str"):
        kind, spec = 3, {"length": int(g[3:]), "fill": b"q"}
    elif kind is None and g.startswith("long"):
        kind, spec = 4, {"length": int(g[4:]), "fill": b"q"}
    elif kind is None and g.startswith("lit:"):
        kind, spec = 3, {"payload": unescape(g[4:])}
    if kind is None:
        raise RowError("bad group %r" % g)
    if "payload" in spec:
        spec["length"] = len(spec["payload"])
    inp.u8(kind).u8(0).u8(0).u8(0)
    text_spec(inp, **spec)


def encode_row(f):
    inp = Input()
    parsed = [parse_tensor(x) for x in f[3:12]]
    attrs = [int(f[14]), int(f[15])]
    pool = make_pool([p[1] for p in parsed if p[0] == "tensor"], attrs)
    for i in range(NPOOL):
        inp.u64(pool[i] if i < len(pool) else 0)
    for p in parsed:
        encode_slot(inp, p, pool)
    encode_group(inp, f[12])
    if f[13] == "null":
        inp.u8(0)
        text_spec(inp)
    else:
        op = b"" if f[13] == "empty" else unescape(f[13])
        inp.u8(1)
        text_spec(inp, length=len(op), payload=op)
    val(inp, attrs[0], pool)
    val(inp, attrs[1], pool)
    inp.u8((1 if f[16] == "null" else 0) | (2 if f[17] == "null" else 0))
    return inp.data()


def validate_seeds(root):
    seeds, cases = {}, os.path.join(root, "spec", "cases")
    for name in sorted(os.listdir(cases)):
        if not name.endswith(".csv"):
            continue
        header_seen = False
        for n, line in enumerate(open(os.path.join(cases, name), encoding="ascii"), 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if not header_seen:
                if line != HEADER:
                    raise RowError("%s: unexpected header" % name)
                header_seen = True
                continue
            f = line.split(",")
            if len(f) != 19:
                raise RowError("%s:%d: %d fields" % (name, n, len(f)))
            try:
                seeds["spec-" + f[0]] = encode_row(f)
            except (RowError, ValueError, IndexError, KeyError) as e:
                raise RowError("%s:%d (%s): %s" % (name, n, f[0], e))
    return seeds


# ---- fuzz_op ------------------------------------------------------------------------------------


def dim_code(v):
    """fuzz_op.c's dim(): 1..48 directly, 64..124 in steps of 4."""
    if 1 <= v <= 48:
        return v - 1
    if 64 <= v <= 124 and v % 4 == 0:
        return 0xF0 + (v - 64) // 4
    raise ValueError("fuzz_op cannot express k or n = %d" % v)


def op_seed(ranks, case, y_bf16, layout, x3=0, scale=1, b=0, s=3, k=20, n=24, mode=0, seed=1,
            pertoken=0, bias=1, comm_row=0, fault=0, payload=b""):
    inp = Input().u8([1, 2, 4, 8].index(ranks)).u8(case - 1)
    inp.u8(pertoken | (2 if y_bf16 else 0) | (4 if bias else 0) | (8 if comm_row else 0))
    inp.u8(layout).u8(x3).u8(scale).u8(b)
    inp.u8(s - 1 if s <= 12 else 0xF0 + s - 28)
    inp.u8(dim_code(k)).u8(dim_code(n)).u8(mode).u64(seed).u8(fault)
    return inp.bytes(payload).data()


def op_seeds():
    seeds, i = {}, 0
    layouts = ["nd", "ndt", "nz", "nzt"]
    # Every case (3 with and without pertoken) x Y x x2 layout; the rest rotates.
    for case, pt in ((1, 0), (2, 0), (3, 0), (3, 1)):
        for y in (0, 1):
            for lay in range(4):
                ranks = [1, 2, 4, 8][i % 4]
                name = "seed-case%d%s-%s-%s-r%d" % (case, "pt" if pt else "", "bf16" if y else
                                                   "fp16", layouts[lay], ranks)
                seeds[name] = op_seed(ranks, case, y, lay, x3=i % 3, scale=(i // 3) % 3,
                                      b=(i // 2) % 3, s=1 + i % 7, k=1 + (7 * i) % 48,
                                      n=1 + (11 * i) % 48, mode=i % 3, seed=1000 + i,
                                      pertoken=pt, bias=(i // 5) % 2, comm_row=(i // 4) % 2)
                i += 1
    # A row tile boundary (m = 33 crosses the 32-row tile), NZ fractal edges, raw bits.
    seeds["seed-tile-edge-m33"] = op_seed(1, 1, 0, 0, s=33, k=33, n=40, mode=1, seed=7)
    seeds["seed-nz-edges-k32-n16"] = op_seed(2, 3, 1, 2, s=4, k=32, n=16, mode=0, seed=8)
    seeds["seed-nz-edges-k33-n31"] = op_seed(2, 2, 0, 3, b=2, s=2, k=33, n=31, mode=2, seed=9)
    seeds["seed-nz-wide-k64-n124"] = op_seed(1, 1, 1, 3, s=1, k=64, n=124, mode=0, seed=13)
    seeds["seed-raw-bits-case1"] = op_seed(2, 1, 0, 0, s=4, k=8, n=8, mode=3, seed=10,
                                           payload=bytes(range(256)) * 2)
    seeds["seed-raw-bits-case3"] = op_seed(8, 3, 1, 1, s=3, k=5, n=6, mode=3, seed=11,
                                           pertoken=1, payload=bytes(range(255, -1, -1)) * 2)
    seeds["seed-raw-bits-case2-x3"] = op_seed(1, 2, 1, 0, x3=2, s=2, k=3, n=4, mode=3, seed=12,
                                              payload=b"\x00\x80\xff\x7f\x01\xfe" * 40)
    # The overlap shape (fault 0xEE): 64 x 2048 x 65, Run's worker computes while it communicates.
    seeds["seed-overlap-case1-r2"] = op_seed(2, 1, 0, 0, x3=1, s=3, k=1, n=1, seed=14, fault=0xEE)
    seeds["seed-overlap-case3-bf16-nz"] = op_seed(1, 3, 1, 2, b=1, s=3, k=1, n=1, seed=15,
                                                  pertoken=1, fault=0xEE)
    # The packed shape (fault 0xED): 397 + seed % 6 rows x 133 x 8, x2 in ND packed whole (more
    # rows than a row tile); 397, 399 and 400 (x1 3-D) leave micro-panels of 1, 3 and 4 rows.
    seeds["seed-packed-case1-nd-r1"] = op_seed(1, 1, 0, 0, s=3, k=1, n=1, seed=18, fault=0xED)
    seeds["seed-packed-case3-bf16-nd-r2"] = op_seed(2, 3, 1, 0, x3=1, s=3, k=1, n=1, seed=20,
                                                    fault=0xED)
    seeds["seed-packed-case2-3d-r2"] = op_seed(2, 2, 0, 0, x3=2, b=1, s=3, k=1, n=1, seed=22,
                                               fault=0xED)
    # A disagreeing rank: every rank must fail with RUNTIME.
    for case in (1, 2, 3):
        seeds["seed-differ-case%d" % case] = op_seed(4, case, case == 2, 0, s=4, k=8, n=8,
                                                     seed=20 + case, fault=7 | (2 << 3))
    return seeds


# ---- fuzz_numeric -------------------------------------------------------------------------------

NUM_OPS = ["widen", "narrow", "rint_sat8", "quant_dequant", "reduce", "sum_requant", "epilogue",
           "trans_quant", "nz_size", "nz_index", "nz_convert", "dtype_size"]
ISA_NAMES = ["scalar", "avx2", "avx512", "amx", "rows"]  # epilogue choice: kernel_for(isa), rows


def num_seeds():
    seeds = {}

    def seq(name, ops, payload=b""):
        inp = Input()
        for op, params in ops:
            inp.u8(NUM_OPS.index(op))
            for width, v in params:
                if width == "v":
                    inp.i64v(v)
                else:
                    inp.uint(v, width)
        seeds["seed-" + name] = inp.bytes(payload).data()

    f16 = [0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01]
    seq("widen-specials", [("widen", [(2, h)]) for h in f16])
    f32 = [0x00000000, 0x80000000, 0x33000000, 0x33000001, 0x337FFFFF, 0x38800000, 0x387FE000,
           0x477FEFFF, 0x477FF000, 0x7F7FFFFF, 0x7F800000, 0x7FC00001, 0xFF800000, 0x3F808000,
           0x3F818000, 0x00000001, 0x807FFFFF]
    seq("narrow-ties-and-limits", [("narrow", [(4, x)]) for x in f32])
    halves = [0x3F000000, 0xBF000000, 0x3FC00000, 0x40200000, 0x42FF0000, 0x42FE0000, 0xC3000000,
              0xC3008000, 0x7FC00000, 0x7F800000, 0xFF800000, 0x4EFFFFFF, 0x3EFFFFFF]
    seq("rint-sat8-halves", [("rint_sat8", [(4, x)]) for x in halves])
    # Element-wise passes, scalar (impl 0), AVX-512 (impl 1) and AVX2 (impl 2) where the CPU has
    # them.
    for impl, iname in ((0, "scalar"), (1, "avx512"), (2, "avx2")):
        seq("reduce-fp16-8-ranks-" + iname, [("reduce", [(1, impl), (1, 0), (1, 6), (1, 39)])],
            bytes(range(256)) * 3)
        seq("reduce-bf16-3-ranks-" + iname, [("reduce", [(1, impl), (1, 1), (1, 1), (1, 17)])],
            b"\x7f\x7f\x80\x00\x01\x00\xc0\x7f" * 30)
        seq("sum-requant-" + iname, [("sum_requant", [(1, impl), (1, 7), (1, 2), (1, 39)])],
            b"\x00\x00\x50\x41\x00\x80\x4e\x41" * 20 + bytes([127, 128, 1, 255]) * 200)
        for y in (0, 1):
            seq("quant-dequant-%s-%s" % ("bf16" if y else "fp16", iname),
                [("quant_dequant", [(1, impl), (1, y), (1, 2), (1, 35)])],
                bytes((i * 29 + y) & 0xFF for i in range(600)))
    # The epilogue: every mode x Y, through every ISA's kernel on a block of columns and whole rows.
    i = 0
    for mode, y in ((0, 0), (1, 1), (2, 0), (2, 1)):
        for isa in range(5):
            flags = (0, 7, 3, 5, 6)[(i + isa) % 5]
            seq("epilogue-mode%d-%s-%s" % (mode, "bf16" if y else "fp16", ISA_NAMES[isa]),
                [("epilogue", [(1, y), (1, mode), (1, flags), (1, 3), (1, 2), (1, 39), (1, isa),
                               (1, (5 + 8 * 21 + 64 * (i % 4)) & 0xFF)])],
                bytes((j * 37 + mode + isa) & 0xFF for j in range(900)))
        i += 1
    tq = []
    for sc, wc, om in ((1, 1, 0), (3, 3, 2), (3, 3, 4), (1, 4, 5), (0, 1, 0), (3, 2, 0),
                       (2, 3, 3), (1, 1, 0x3F), (1, 1, 0xC1), (3, 3, 1)):
        tq.append(("trans_quant", [(1, sc), (1, wc), (1, om)]))
    seq("trans-quant", tq, b"\x00\x00\x80\x3f\x00\x00\xc0\x7f\x00\x00\x80\x43\x00\x00\xc0\xc3" * 8)
    nzs = []
    for d0, d1, v in ((510, 270, 0), (1, 1, 0), (0, 5, 0), (-1, 5, 0), (2**24, 2**24 + 1, 0),
                      (2**48, 1, 0), (16, 32, 3), (16, 32, 0x73), (16, 32, 0x80), (16, 32, 0x81)):
        nzs.append(("nz_size", [("v", d0), ("v", d1), (1, v)]))
    seq("nz-size", nzs)
    seq("nz-index", [("nz_index", [(2, r), (2, w), (2, h)]) for r, w, h in
                     ((15, 33, 3), (0, 0, 0), (16, 31, 15), (65535, 65535, 65535))])
    seq("nz-convert", [("nz_convert", [(1, r), (1, c), (1, m)] + ([(1, 1)] if m == 6 else []))
                       for r, c, m in ((16, 31, 0), (0, 0, 1), (15, 32, 1), (3, 4, 2), (3, 4, 3),
                                       (0, 0, 3), (3, 4, 4), (3, 4, 5), (3, 4, 6), (39, 69, 0))],
        bytes(range(256)) * 12)
    seq("dtype-size", [("dtype_size", [(4, v), (1, 0)]) for v in
                       (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 27, 29, -1, 2**31 - 1)])
    return seeds


# ---- fuzz_api -----------------------------------------------------------------------------------

# Opcodes in fuzz_api.c's order (OPS); 10 is op_plan again, which weighs it double.
API_OPS = ["init", "destroy_comm", "query", "set_timeout", "plan", "destroy_exec", "run_one",
           "run_group", "status", "tensor", "plan_again", "revoke"]
NRANKS = [1, 2, 4, 8, 3, 16, 64, 0, -1, 65, 2, 1, 4, 2, 8, 64]


def api_seeds():
    seeds = {}

    def seq(name, ops):
        inp = Input()
        for op, *params in ops:
            inp.u8(API_OPS.index(op))
            for v in params:
                inp.u8(v)
        seeds["seed-" + name] = inp.data()

    def init(n, env=0):
        return ("init", NRANKS.index(n), env)

    # One rank: plan, run with each workspace mode; Run(NULL).
    seq("lifecycle-1-rank", [init(1), ("plan", 0, 0, 0), ("run_one", 0, 0), ("plan", 0, 0, 1),
                             ("run_one", 0, 1), ("plan", 0, 0, 2), ("plan", 0, 0, 3),
                             ("run_one", 0, 0), ("run_one", 0, 0), ("run_one", 0, 5),
                             ("destroy_comm", 0, 0), ("destroy_comm", 0, 0)])
    seq("workspace-errors", [init(1)] + [x for m in (2, 3, 4) for x in
                                         (("plan", 0, 0, 0), ("run_one", 0, m))])
    # Whole groups of 2, 4 and 8 ranks on threads; one group of 2 runs twice.
    for n in (2, 4, 8):
        ops = [init(n)] + [("plan", 0, r, n % 4) for r in range(n)] + [("run_group", 0, 0)]
        seq("group-%d-ranks" % n, ops)
    # The same under contention (4 spinning threads beside the ranks), with the default timeout.
    seq("group-8-ranks-contended", [init(8)] + [("plan", 0, r, 2) for r in range(8)] +
        [("run_group", 0, 0xC3)])
    seq("group-2-twice", [init(2), ("plan", 0, 0, 1), ("plan", 0, 1, 1), ("run_group", 0, 0),
                          ("plan", 0, 0, 2), ("plan", 0, 1, 2), ("run_group", 0, 0)])
    # Ranks planned on different shapes: every rank fails, the group stays usable.
    seq("disagree", [init(2), ("plan", 0, 0, 0), ("plan", 0, 1, 1), ("run_group", 0, 0),
                     ("plan", 0, 0, 3), ("plan", 0, 1, 3), ("run_group", 0, 0)])
    # A rank missing: the other times out (short timeout from the environment), the group breaks.
    seq("timeout-breaks-group", [init(2, 1 | (2 << 3)), ("plan", 0, 0, 0), ("run_one", 0, 0),
                                 ("plan", 0, 0, 0), ("plan", 0, 1, 0), ("run_group", 0, 0)])
    seq("timeout-short-workspace", [init(2), ("plan", 0, 0, 2), ("plan", 0, 1, 2),
                                    ("run_group", 0, 7 | (1 << 3))])
    # Destroyed communicators: executors keep them alive; their names resolve no more.
    seq("destroy-while-planned", [init(1), ("plan", 0, 0, 0), ("destroy_comm", 0, 0),
                                  ("destroy_comm", 0, 0), ("plan", 0, 0, 0), ("query", 0, 0, 0),
                                  ("run_one", 0, 0), ("destroy_comm", 0, 0)])
    seq("destroy-group-then-run", [init(2), ("plan", 0, 0, 3), ("plan", 0, 1, 3),
                                   ("destroy_comm", 0, 0), ("destroy_comm", 0, 1),
                                   ("run_group", 0, 0)])
    seq("destroy-exec", [init(4), ("plan", 0, 1, 0), ("plan", 0, 2, 1), ("destroy_exec", 0),
                         ("destroy_exec", 1), ("destroy_exec", 0)])
    # Stale executor handles (run or destroyed already), run and destroyed again; a new executor
    # may take the freed slot, and the stale handle must still name nothing.
    seq("stale-executor", [init(1), ("plan", 0, 0, 0), ("run_one", 0, 0), ("run_one", 0, 6),
                           ("plan", 0, 0, 1), ("run_one", 0, 6), ("destroy_exec", 0),
                           ("run_one", 0, 6), ("plan", 0, 0, 2), ("run_one", 0, 0)])
    # Names: edited, stale, of unsupported group sizes; NULL arguments.
    seq("plan-names", [init(16), init(3), init(2), ("plan", 0, 10, 4), ("plan", 0, 1, 5),
                       ("plan", 1, 0, 0), ("plan", 0, 0, 0), ("plan", 2, 0, 6), ("plan", 2, 0, 7),
                       ("plan", 2, 0, 8), ("plan", 2, 0, 9), ("plan", 2, 0, 10)])
    seq("queries-and-timeouts", [init(8), ("query", 0, 3, 0), ("query", 0, 3, 1),
                                 ("query", 0, 3, 2), ("query", 0, 3, 4), ("query", 0, 3, 5),
                                 ("query", 0, 3, 6), ("query", 0, 3, 8)] +
        [("set_timeout", 0, 2, v) for v in (0, 1, 2, 3, 4, 5, 6, 7, 0x80)])
    # Revoked: an idle group (its runs then fail at once), a destroyed endpoint's handle, NULL;
    # and a group of 4 with the default 60 s timeout whose rank 2 revokes it 3 ms after the
    # other three started their runs: they must fail at once, not at the timeout.
    seq("revoke-idle", [init(2), ("plan", 0, 0, 1), ("plan", 0, 1, 1), ("revoke", 0, 0, 0),
                        ("run_group", 0, 0), ("revoke", 0, 1, 0x80), ("plan", 0, 1, 1),
                        ("destroy_comm", 0, 1), ("revoke", 0, 1, 0), ("run_one", 0, 0)])
    seq("revoke-during-run", [init(4)] + [("plan", 0, r, 2) for r in range(4)] +
        [("revoke", 0, 2, 0x40 | (3 << 2)), ("run_group", 0, 0)])
    seq("init-errors-and-env", [init(0), init(-1), init(65), init(2, 0x80)] +
        [init(1, e) for e in range(8)])
    seq("registry-full", [init(64)] * 65)
    # status choice 5 reads a u32 code (little-endian in read order): 12345, not a status
    seq("status-and-tensors", [("status", v) for v in range(5)] +
        [("status", 5, 0x39, 0x30, 0, 0)] + [("tensor", v) for v in range(6)])
    return seeds


# ---- Writing and checking -----------------------------------------------------------------------


def all_seeds(root):
    return {"fuzz_validate": validate_seeds(root), "fuzz_op": op_seeds(),
            "fuzz_numeric": num_seeds(), "fuzz_api": api_seeds()}


def verify(root, binary, seeds):
    """The predicate's rule and status for each decoded spec seed equal its row's."""
    import subprocess
    rows = {}
    cases = os.path.join(root, "spec", "cases")
    for name in sorted(os.listdir(cases)):
        if name.endswith(".csv"):
            for line in open(os.path.join(cases, name), encoding="ascii"):
                f = line.rstrip("\n").split(",")
                if len(f) == 19 and not line.startswith("#") and f[0] != "id":
                    rows["spec-" + f[0]] = (f[1], int(f[2]))
    paths = [os.path.join(root, "corpus", "fuzz_validate", n) for n in sorted(seeds)]
    env = dict(os.environ, QMAR_FUZZ_VERBOSE="1")
    r = subprocess.run([binary, "-v"] + paths, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, env=env)
    current, seen, problems = None, 0, []
    for line in r.stderr.splitlines():
        m = re.match(r"replay: .*/(spec-[^ /]+) \(", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"fuzz_validate: library (-?\d+) model (-?\d+) rule (\S+)", line)
        if m and current in rows:
            seen += 1
            rule, status = rows[current]
            if (m.group(3), int(m.group(2))) != (rule, status):
                problems.append("%s decodes to a call the predicate decides by %s (%s), the row "
                                "says %s (%d)" % (current, m.group(3), m.group(2), rule, status))
    if r.returncode != 0:
        problems.append("the replay failed: %s" % r.stderr[-500:])
    if seen != len(seeds):
        problems.append("%d of %d spec seeds were judged" % (seen, len(seeds)))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--verify", metavar="REPLAY_FUZZ_VALIDATE")
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   ".."))
    args = ap.parse_args()
    try:
        seeds = all_seeds(args.root)
    except RowError as e:
        print("gen_seeds: %s" % e, file=sys.stderr)
        return 1
    problems, written = [], 0
    for target, files in seeds.items():
        d = os.path.join(args.root, "corpus", target)
        os.makedirs(d, exist_ok=True) if not args.check else None
        present = set(os.listdir(d)) if os.path.isdir(d) else set()
        for name, data in sorted(files.items()):
            path = os.path.join(d, name)
            old = open(path, "rb").read() if name in present else None
            if old == data:
                continue
            if args.check:
                problems.append("%s/%s is %s" % (target, name, "missing" if old is None
                                                 else "out of date"))
            else:
                with open(path, "wb") as f:
                    f.write(data)
                written += 1
        for name in sorted(present):
            if GENERATED.match(name) and name not in files:
                if args.check:
                    problems.append("%s/%s is stale (no longer generated)" % (target, name))
                else:
                    os.remove(os.path.join(d, name))
    total = sum(len(f) for f in seeds.values())
    if args.check and args.verify and not problems:
        spec = {n: d for n, d in seeds["fuzz_validate"].items() if n.startswith("spec-")}
        problems += verify(args.root, args.verify, spec)
        total += len(spec)
    if args.check:
        for p in problems:
            print("gen_seeds --check: " + p)
        print("%d generated seeds checked, %d problems" % (total, len(problems)))
        print("%d passed, %d failed" % (total - len(problems), len(problems)))
        if problems:
            print("run fuzz/gen_seeds.py to regenerate them")
        return 1 if problems else 0
    print("%d generated seeds, %d written" % (total, written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
