#!/usr/bin/env bash
# scripts/area_noise.sh: its sample 0 is scripts/area.sh's run to the digit (the noise it reports is
# around the numbers logq prints), and the universal PE's second sample is mapped differently, the
# ABC noise docs/results.md ("How much is ABC's luck") reports. Skips (77) without Yosys, OpenSTA
# or the liberty.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for t in yosys sta; do command -v $t >/dev/null || { echo "SKIPPED: $t is absent (scripts/setup.sh)"; exit 77; }; done
[ -f "$root/third_party/osu018/osu018_stdcells.lib" ] || { echo "SKIPPED: the OSU 0.18 um liberty is absent (scripts/setup.sh)"; exit 77; }
w=$(mktemp -d /tmp/logq_area_noise.XXXXXX)
trap 'rm -rf "$w"' EXIT
bash "$root/scripts/area.sh" "$w/area.csv" pe_universal 2> "$w/area.log"
bash "$root/scripts/area_noise.sh" 2 "$w/noise.csv" pe_universal 2> "$w/noise.log"
want=$(awk -F, 'NR == 2 { print $(NF-4), $(NF-3), $(NF-1) }' "$w/area.csv")   # cells, area, crit
s0=$(awk -F, '$2 == 0 { print $3, $4, $5 }' "$w/noise.csv")
s1=$(awk -F, '$2 == 1 { print $3, $4, $5 }' "$w/noise.csv")
echo "area.sh: $want; sample 0: $s0; sample 1: $s1 (cells, area um^2, critical path ns)"
[ "$(head -1 "$w/noise.csv")" = "unit,sample,cells,area_um2,crit_path_ns" ] || { echo "FAIL: header"; exit 1; }
[ -n "$want" ] && [ "$s0" = "$want" ] || { echo "FAIL: sample 0 is not area.sh's run"; exit 1; }
[ -n "$s1" ] && [ "$s1" != "$s0" ] || { echo "FAIL: sample 1 mapped as sample 0: the noise docs/results.md reports is gone; re-measure it"; exit 1; }
echo "ok"
