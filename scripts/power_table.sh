#!/usr/bin/env bash
# Re-measures results/power.csv, the activity energy table sim and explore use by default (it is
# compiled into sim; CTest power_flow re-measures two of its rows from scratch): `logq power` on layer1.0 of the
# embedded ResNet and blocks.0 of the embedded ViT, each PE kind on the models whose layers it
# computes (the models of scripts/explore.sh). ~20 min on 2 cores with the models made.
#   bash scripts/power_table.sh [OUT.csv]     (default results/power.csv)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=${1:-results/power.csv}
bash scripts/explore.sh --models-only
m=out/explore/models
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
runs=(resnet_uniform_w8a8:int8,universal resnet_uniform_w6a6:uu6 resnet_uniform_w4a4:uu4 resnet_logart_w4a8:lu
      resnet_logart_w4a8_exact:lu_exact vit_uniform_w8a8:int8 vit_adalog_w4a4:uu4,ua,universal vit_fulllog_w4a4:lu,la,lula,universal)
for r in "${runs[@]}"; do
  f=${r%%:*} pes=${r#*:}
  ./build/cli/logq power "$m/$f.lqm" --pe "$pes" --csv "$tmp/$f.csv"
done
{ head -n 1 "$tmp/resnet_uniform_w8a8.csv"; for r in "${runs[@]}"; do tail -n +2 "$tmp/${r%%:*}.csv"; done; } > "$out.tmp" && mv "$out.tmp" "$out"
echo "[power_table] wrote $out (sim reads it at build time); pJ per MAC above idle, idle pJ per cycle:"
awk -F, 'NR > 1 { printf "  %-11s %-10s %-4s mac %8.4f idle %8.4f\n", $NF, $2, $3, $7 - $8, $8 }' "$out" | sort
