#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of ptlab's fuzz targets: every target of fuzz/targets.txt (the one
# list) into $OUT, each with
#   $OUT/<target>                   linked with $CC $CFLAGS ... $LIB_FUZZING_ENGINE
#   $OUT/<target>_seed_corpus.zip   corpora/<target>/
#   $OUT/<target>.dict              fuzz/<target>.dict, when there is one
#   $OUT/<target>.options           libFuzzer options
# The builder image sets CC, CFLAGS (the sanitizer and -fsanitize=fuzzer-no-link), LIB_FUZZING_ENGINE,
# SRC, OUT and WORK; CFLAGS is used as it is (build type None: CMake adds no flags of its own).
# The fuzz targets link Unicorn statically: the image that runs them has no Unicorn.
# ci/oss-fuzz-check runs this script outside Docker with OSS-Fuzz's variables and runs the targets.
set -euo pipefail
src=${PTLAB_SRC:-$SRC/ptlab}
build=$WORK/ptlab-build
targets=$(bash "$src/ci/fuzz-targets")
[ -n "$targets" ] || { echo "build.sh: no targets in $src/fuzz/targets.txt" >&2; exit 1; }

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=None -DCMAKE_C_COMPILER="$CC" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_LINKER="$(command -v ld.bfd || command -v ld)" \
  -DPTLAB_FUZZ=ON -DPTLAB_TESTS=OFF -DPTLAB_UNICORN_STATIC=ON
build_args=()
for t in $targets; do build_args+=(--target "fuzz-$t"); done
cmake --build "$build" -j"$(nproc)" "${build_args[@]}"

for t in $targets; do
  cp "$build/fuzz/fuzz-$t" "$OUT/$t"
  seeds=$src/corpora/$t
  if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
    echo "build.sh: $t has no seeds in $seeds" >&2
    exit 1
  fi
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$seeds" && zip -q -X -r "$OUT/${t}_seed_corpus.zip" .)
  if [ -f "$src/fuzz/$t.dict" ]; then
    cp "$src/fuzz/$t.dict" "$OUT/$t.dict"
  fi
  # The inputs: a paging header and memory records, dumps or symbol text (fuzz/input.h), up to
  # 16 KiB; walk_diff's Unicorn takes about 1.4 GB (../shared/notes/fuzzing.md).
  printf '[libfuzzer]\nmax_len = 16384\nrss_limit_mb = 2560\ntimeout = 25\n' >"$OUT/$t.options"
  # a target's own fuzz/NAME.options wins (kdump: 16 KiB of headers before its first page)
  if [ -f "$src/fuzz/$t.options" ]; then
    cp "$src/fuzz/$t.options" "$OUT/$t.options"
  fi
done
echo "build.sh: $(echo $targets | wc -w) targets in $OUT: $(echo $targets)"
