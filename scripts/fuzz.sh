#!/usr/bin/env bash
# Builds the libFuzzer targets of logq's file parsers with clang (ASan + UBSan) and runs each
# for a bounded time, seeded from tests/data. Not part of CI: CI only checks that they build.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      build + run (default 60 s each), corpora in fuzz-out/
#   scripts/fuzz.sh --build-only [DIR]       build into DIR (default build-fuzz/) and stop
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_only=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; shift; out=${1:-$root/build-fuzz}; seconds=0
else seconds=${1:-60}; out=$root/build-fuzz; fi

CXX=${CXX_FUZZ:-clang++}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
launcher=(); command -v ccache >/dev/null && launcher=(ccache)  # ccache tracks headers for us
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -I"$root")
lib_srcs=(golden/dtype.cpp golden/file_io.cpp golden/safetensors.cpp golden/lqm.cpp
          quant/io/zip.cpp quant/io/pickle.cpp quant/io/checkpoint.cpp)
targets=(fuzz_safetensors fuzz_lqm fuzz_checkpoint fuzz_pickle)

mkdir -p "$out/obj"
objs=()
for s in "${lib_srcs[@]}"; do  # library objects once, shared by every target; parallel by process
  o="$out/obj/$(echo "$s" | tr / _).o"; objs+=("$o")
  rm -f "$o"
  "${launcher[@]}" "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$root/$s" -o "$o" &
done
wait
for o in "${objs[@]}"; do [ -f "$o" ] || { echo "fuzz.sh: failed to compile $o" >&2; exit 1; }; done
for t in "${targets[@]}"; do
  rm -f "$out/$t"
  "${launcher[@]}" "$CXX" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/$t.cpp" "${objs[@]}" -lfmt -lz -o "$out/$t" &
done
wait
for t in "${targets[@]}"; do [ -x "$out/$t" ] || { echo "fuzz.sh: $t failed to build" >&2; exit 1; }; done
echo "fuzz.sh: built ${targets[*]} in $out"
[ "$build_only" = 1 ] && exit 0

seeds=$root/fuzz-out/seeds
mkdir -p "$seeds"/{safetensors,lqm,checkpoint,pickle}
cp "$root"/tests/data/pickle/*.pt "$seeds/checkpoint/"
cp "$root"/tests/data/pickle/*.safetensors "$seeds/safetensors/"
cp "$root"/tests/data/pickle/*.safetensors "$seeds/lqm/"
python3 - "$root/tests/data/pickle/zip_p2.pt" "$seeds/pickle/data.pkl" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
open(sys.argv[2], "wb").write(z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0]))
PY
for t in "${targets[@]}"; do
  kind=${t#fuzz_}
  mkdir -p "$root/fuzz-out/corpus/$kind"
  echo "fuzz.sh: running $t for ${seconds}s"
  "$out/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    "$root/fuzz-out/corpus/$kind" "$seeds/$kind" 2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)" || true
done
