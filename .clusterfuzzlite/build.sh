#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: $CC/$CFLAGS carry the sanitizer and coverage flags,
# $LIB_FUZZING_ENGINE the engine (fuzz/CMakeLists.txt links it into the fuzz targets only).
targets="walk walk_diff maps dump symbols kpgd"
cmake -S "$SRC/ptlab" -B build -DCMAKE_C_COMPILER="$CC" -DCMAKE_LINKER="$(command -v ld.bfd || command -v ld)" \
  -DCMAKE_C_FLAGS="$CFLAGS" -DPTLAB_FUZZ=ON -DPTLAB_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
for t in $targets; do
  cmake --build build -j"$(nproc)" --target "fuzz-$t"
  cp "build/fuzz/fuzz-$t" "$OUT/$t"
  (cd "$SRC/ptlab/corpora/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  printf '[libfuzzer]\nmax_len = 16384\nrss_limit_mb = 2048\n' >"$OUT/$t.options"
done
