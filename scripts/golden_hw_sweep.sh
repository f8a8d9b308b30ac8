#!/usr/bin/env bash
# The accuracy cost of narrower hardware (`logq golden --hw` options) on models exported by
# scripts/golden_table.sh: AdaLog ViT (+U(8) image) with fewer accumulator fraction bits F, floor
# or half-up right shifts; LogART ResNet with narrower accumulators (two's-complement wrap).
#   bash scripts/golden_hw_sweep.sh [out.csv] [images (default 1000)]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(realpath -m "${1:-results/golden_hw.csv}")
n=${2:-1000}
bin=${LOGQ_BIN:-./build/cli/logq}
F=/usr/share/datasets/fashion-mnist
echo "model,hw,images,golden_top1,overflows,seconds" > "$out"
sweep() {
  local name=$1; shift
  for hw in "$@"; do
    # shellcheck disable=SC2086
    "$bin" golden "results/logs/$name.lqm" --data $F --limit "$n" --no-progress $hw --json "$out.tmp.json" > /dev/null
    python3 - "$name" "${hw:-default}" "$out.tmp.json" "$out" <<'PY'
import json, sys
name, hw, path, out = sys.argv[1:]
g = json.load(open(path))
row = [name, hw, g["images"], f"{g['golden_top1']:.2f}", sum(l["overflows"] for l in g["layers"]), f"{g['seconds']:.1f}"]
open(out, "a").write(",".join(map(str, row)) + "\n"); print(",".join(map(str, row)))
PY
  done
}
sweep fmnist_vit_adalog_w4a4_u8 "" "--frac-bits 4" "--frac-bits 2" "--frac-bits 0" "--frac-bits 0 --rounding half_up"
sweep fmnist_resnet_logart_w4a8 "" "--acc-bits 20" "--acc-bits 18" "--acc-bits 16"
rm -f "$out.tmp.json"
echo "results: $out"
