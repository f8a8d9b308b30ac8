#!/usr/bin/env bash
# RTL benchmark and coverage (not CI): Verilator cycles/s of the 8x8 and 16x16 arrays, and a
# coverage run of the regression array summarized with verilator_coverage.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/build.sh >/dev/null
ninja -C build logq_bench_rtl logq_rtl_coverage
echo "== Verilator throughput (one thread)"
./build/testbenches/logq_bench_rtl
echo "== Coverage (200 random jobs on the 4x4 universal array)"
mkdir -p out
./build/testbenches/logq_rtl_coverage -o out/rtl_coverage.dat --jobs 200
verilator_coverage --write-info out/rtl_coverage.info out/rtl_coverage.dat >/dev/null 2>&1 || true
verilator_coverage --annotate out/rtl_coverage_annotated --annotate-min 1 out/rtl_coverage.dat 2>&1 | tail -3
