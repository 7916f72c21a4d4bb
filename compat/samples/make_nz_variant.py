#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Makes the FRACTAL_NZ copy of the seed's sample: one inserted line, nothing else.

The sample never sets Args::format, so it always takes the ND path; its NZ path
(CreateWeightNzAclTensor: aclnnCalculateMatmulWeightSizeV2 + aclnnTransMatmulWeight) runs when
args.format == "NZ". The copy inserts

    args[rankId].format = "NZ";

right after the line `args[rankId].context = context[rankId];` of main's thread loop (the seed's
code is unindented, so the new line is too). Usage: make_nz_variant.py SAMPLE OUTPUT
"""
import sys

ANCHOR = b"args[rankId].context = context[rankId];\n"
INSERTED = b'args[rankId].format = "NZ";\n'


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], "rb") as f:
        src = f.read()
    if src.count(ANCHOR) != 1:
        raise SystemExit(f"{sys.argv[1]}: the anchor line must occur exactly once")
    out = src.replace(ANCHOR, ANCHOR + INSERTED)
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
