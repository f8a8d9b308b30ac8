#!/usr/bin/env bash
# Builds the libFuzzer targets of logq's input boundary with clang (ASan + UBSan) and runs them
# on the committed seed corpora (tests/fuzz/corpus/) with the dictionaries of tests/fuzz/,
# inputs up to 1 MiB. CTest builds them (fuzz_targets_build) and runs each for 60 s (fuzz_<target>).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]          build + run every target (default 60 s each)
#   scripts/fuzz.sh --build-only [DIR]           build into DIR (default build-fuzz/) and stop
#   scripts/fuzz.sh --run TARGET SECONDS [DIR]   run one built target; exit non-zero on a crash
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=(fuzz_safetensors fuzz_lqm fuzz_lqm_network fuzz_sim_workload fuzz_checkpoint fuzz_pickle fuzz_dataset fuzz_hw_config)

dict_of() {
  case $1 in
    fuzz_checkpoint|fuzz_pickle) echo "$root/tests/fuzz/pickle.dict" ;;
    fuzz_dataset) echo "" ;;
    *) echo "$root/tests/fuzz/json.dict" ;;
  esac
}

# Runs one target for $2 seconds on a scratch copy of its corpus (the source tree stays clean).
run_target() {
  local t=$1 seconds=$2 out=$3 kind=${1#fuzz_}
  local corpus="$out/corpus/$kind"
  mkdir -p "$corpus"
  cp -n "$root/tests/fuzz/corpus/$kind"/* "$corpus/" 2>/dev/null || true
  case $kind in  # the reader tests' own small files seed these too
    checkpoint) cp -n "$root"/tests/data/pickle/*.pt "$corpus/" ;;
    safetensors) cp -n "$root"/tests/data/pickle/*.safetensors "$corpus/" ;;
  esac
  local dict; dict=$(dict_of "$t")
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=1048576 -print_final_stats=1
              -artifact_prefix="$out/crash-$kind-")
  [ -n "$dict" ] && args+=(-dict="$dict")
  echo "fuzz.sh: running $t for ${seconds}s (corpus $corpus)"
  local log="$out/$t.log" rc=0
  "$out/$t" "${args[@]}" "$corpus" > "$log" 2>&1 || rc=$?
  grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|.*Test unit written)" "$log" || true
  if [ "$rc" != 0 ]; then
    echo "fuzz.sh: $t FAILED (exit $rc); log $log, reproducer $out/crash-$kind-*" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
  echo "fuzz.sh: $t: 0 crashes"
}

if [ "${1:-}" = "--run" ]; then
  run_target "$2" "$3" "${4:-$root/build-fuzz}"
  exit $?
fi

build_only=0
if [ "${1:-}" = "--build-only" ]; then build_only=1; shift; out=${1:-$root/build-fuzz}
else seconds=${1:-60}; out=$root/build-fuzz; fi

CXX=${CXX_FUZZ:-clang++}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
launcher=(); command -v ccache >/dev/null && launcher=(ccache)  # ccache tracks headers for us
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -I"$root" -isystem /usr/include/eigen3)
lib_srcs=($(cd "$root" && ls io/*.cpp golden/*.cpp)  # all of logq_io and logq_golden
          sim/hw_config.cpp sim/workload.cpp sim/vector_unit.cpp sim/tiling.cpp)

mkdir -p "$out/obj"
bash "$root/scripts/gen_power_table.sh" "$out/obj/power_table.cpp"  # sim/hw_config.cpp's table
lib_srcs+=("$out/obj/power_table.cpp")
objs=()
pids=()
for s in "${lib_srcs[@]}"; do  # library objects once, shared by every target; two compilers at a time
  src=$s; [ "${s:0:1}" = / ] || src=$root/$s
  o="$out/obj/$(basename "$(dirname "$s")")_$(basename "$s").o"; objs+=("$o")
  rm -f "$o"
  "${launcher[@]}" "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$o" &
  pids+=($!)
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
done
wait
pids=()
for o in "${objs[@]}"; do [ -f "$o" ] || { echo "fuzz.sh: failed to compile $o" >&2; exit 1; }; done
for t in "${targets[@]}"; do
  rm -f "$out/$t"
  "${launcher[@]}" "$CXX" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/$t.cpp" "${objs[@]}" -lfmt -lz -lturbojpeg -o "$out/$t" &
  pids+=($!)
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}" || true; pids=("${pids[@]:1}"); fi
done
wait
for t in "${targets[@]}"; do [ -x "$out/$t" ] || { echo "fuzz.sh: $t failed to build" >&2; exit 1; }; done
echo "fuzz.sh: built ${targets[*]} in $out"
[ "$build_only" = 1 ] && exit 0

failed=0
for t in "${targets[@]}"; do run_target "$t" "$seconds" "$out" || failed=1; done
exit $failed
