#!/bin/bash -eu
# SPDX-License-Identifier: Apache-2.0
# Builds the four harnesses of fuzz/ for ClusterFuzzLite / OSS-Fuzz (fuzz/README.md,
# "ClusterFuzzLite and OSS-Fuzz"): with their compiler and flags ($CC $CFLAGS $CXX $CXXFLAGS),
# linked with $LIB_FUZZING_ENGINE by $CXX, into $OUT with each target's dictionary, options and
# seed corpus (<target>_seed_corpus.zip of corpus/<target>/). Intermediate files go to $WORK.
# In the builder image it runs as $SRC/build.sh from $SRC/qmar (the Dockerfile's WORKDIR); the
# tools suite runs it from the source tree with clang and libFuzzer (fuzz/campaign/test_clusterfuzzlite.sh).

# The source tree: the parent of this script's directory when it holds the project (a checkout),
# else the working directory (the builder image copies this script to $SRC/).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -f "$here/../meson.build" && -d "$here/../fuzz" ]]; then
    src=$(cd "$here/.." && pwd)
else
    src=$PWD
fi
: "${CXX:=clang++}" "${CXXFLAGS:=$CFLAGS}"

# The harnesses' oracle and byte reader stay out of the coverage map (fuzz/sancov.ignorelist),
# as in scripts/fuzz-campaign's builds; only where sanitizer coverage is on.
cflags=$CFLAGS
if [[ "$CFLAGS" == *fuzzer-no-link* || "$CFLAGS" == *sanitize-coverage* ]]; then
    cflags="$cflags -fsanitize-coverage-ignorelist=$src/fuzz/sancov.ignorelist"
fi

# The targets: every fuzz/<target>.options (one per harness fuzz/<target>.c).
targets=()
for opt in "$src"/fuzz/fuzz_*.options; do
    targets+=("$(basename "$opt" .options)")
done

# meson reads CFLAGS/CXXFLAGS/LDFLAGS at setup; the link needs the sanitizer flags too. buildtype
# plain: the optimisation and debug flags are the ones given. The MPI communicator needs mpirun
# and the proofs Frama-C: neither is part of what is fuzzed.
build="$WORK/qmar-build"
rm -rf "$build"
CC="$CC" CXX="$CXX" CFLAGS="$cflags" CXXFLAGS="$CXXFLAGS" LDFLAGS="$CXXFLAGS" \
    meson setup "$build" "$src" --buildtype=plain -Db_lundef=false -Dfuzzing=enabled \
    -Dfuzzing_engine="$LIB_FUZZING_ENGINE" -Dmpi=disabled -Dproofs=disabled \
    >"$WORK/meson-setup.log" 2>&1 || {
    cat "$WORK/meson-setup.log"
    exit 1
}
ninja -C "$build" "${targets[@]/#/fuzz/}"

for t in "${targets[@]}"; do
    cp "$build/fuzz/$t" "$OUT/$t"
    cp "$src/fuzz/$t.options" "$OUT/$t.options"
    if [[ -f "$src/fuzz/$t.dict" ]]; then
        cp "$src/fuzz/$t.dict" "$OUT/$t.dict"
    fi
    # the seed corpus, flat (python3 is in the builder image; zip may not be)
    python3 - "$OUT/${t}_seed_corpus.zip" "$src/corpus/$t" <<'PY'
import os, sys, zipfile
out, corpus = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(corpus)):
        z.write(os.path.join(corpus, name), name)
os.replace(out + ".tmp", out)
PY
done
echo "built ${targets[*]} into $OUT"
