#!/usr/bin/env bash
# The `logq power` flow end to end, against the committed measurement (results/power.csv, which
# sim's default energy table is tested against in logq_sim_tests): the embedded ResNet quantized
# W8A8 as scripts/explore.sh does it, then the int8 and universal positions on layer1.0 at gate
# level (accumulators checked against golden inside the flow) and priced by OpenSTA, without the
# cache. The pJ/MAC and idle energy must equal the committed rows to the printed digits.
# Skips (77) without the dataset, Yosys, OpenSTA, Verilator or the liberty.
# Usage: power_flow_test.sh LOGQ
set -euo pipefail
L=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
F=/usr/share/datasets/fashion-mnist
[ -d "$F" ] || { echo "SKIPPED: $F is absent (apt-get install dataset-fashion-mnist)"; exit 77; }
for t in yosys sta verilator; do command -v $t >/dev/null || { echo "SKIPPED: $t is absent (scripts/setup.sh)"; exit 77; }; done
[ -f "$root/third_party/osu018/osu018_stdcells.lib" ] || { echo "SKIPPED: the OSU 0.18 um liberty is absent (scripts/setup.sh)"; exit 77; }
w=$(mktemp -d /tmp/logq_power_flow.XXXXXX)
trap 'rm -rf "$w"' EXIT
cd "$w"
"$L" quantize --method uniform --checkpoint "$root/models/fmnist_resnet.safetensors" --calib-data "$F" --test-data "$F" \
  --test-limit 50 --no-progress --w-bit 8 --act-bits 8 --export resnet_uniform_w8a8.lqm > quantize.log 2>&1 || { cat quantize.log; exit 1; }
LOGQ_CACHE_DIR=$w/cache "$L" power resnet_uniform_w8a8.lqm --pe int8,universal --no-cache --csv power.csv > power.log 2>&1 || { cat power.log; exit 1; }
fail=0
for pe in int8 universal; do
  got=$(awk -F, -v pe=$pe 'NR > 1 && $2 == pe { printf "%s %s %s", $4, $7, $8 }' power.csv)
  want=$(awk -F, -v pe=$pe '$1 == "resnet_uniform_w8a8.lqm" && $2 == pe { printf "%s %s %s", $4, $7, $8 }' "$root/results/power.csv")
  [ -n "$want" ] || { echo "FAIL: results/power.csv has no resnet_uniform_w8a8.lqm $pe row"; fail=1; continue; }
  if [ "$got" = "$want" ]; then
    echo "ok   $pe: MACs, pJ/MAC, idle pJ/cycle = $got (results/power.csv)"
  else
    echo "FAIL $pe: measured '$got', results/power.csv '$want' (re-run scripts/power_table.sh if the RTL or flow changed on purpose)"
    fail=1
  fi
done
exit $fail
