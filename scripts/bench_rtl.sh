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
verilator_coverage --annotate out/rtl_coverage_annotated --annotate-min 1 out/rtl_coverage.dat 2>&1 | tail -2
python3 - out/rtl_coverage.dat <<'PY'
import collections, re, sys
tot, hit = collections.Counter(), collections.Counter()
for line in open(sys.argv[1], encoding="latin1"):
    m = re.match(r"C '(.*)' (\d+)", line.strip())
    if not m:
        continue
    kind = dict(re.findall(r"\x01(\w+)\x02([^\x01]*)", m.group(1))).get("page", "?").split("/")[0]
    tot[kind] += 1
    hit[kind] += int(m.group(2)) > 0
for k in sorted(tot):
    print(f"{k:10s} {hit[k]}/{tot[k]} = {100 * hit[k] / tot[k]:.1f}%")
PY
