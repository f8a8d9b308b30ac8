#!/usr/bin/env bash
# The AdaLog results table of docs/results.md on the embedded Fashion-MNIST ViT and Swin:
# W3A3/W4A4 calibrate-only and --optimize (one run gives both), W6A6 calibrate-only; two jobs at
# a time, rows appended to a CSV (default results/adalog.csv).
#   bash scripts/adalog_table.sh [out.csv] [optim-iters (default 2000; the reference uses 20000)]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(realpath -m "${1:-results/adalog.csv}")
iters=${2:-2000}
mkdir -p "$(dirname "$out")" results/logs
F=/usr/share/datasets/fashion-mnist
jobs=()
for m in vit swin; do
  for b in 3 4; do
    jobs+=("adalog-$m-w${b}a${b}-opt|--method adalog --checkpoint models/fmnist_$m.safetensors --config configs/adalog/${b}bit.json --calib-data $F --test-data $F --optimize --optim-iters $iters --results $out --no-progress")
  done
  jobs+=("adalog-$m-w6a6|--method adalog --checkpoint models/fmnist_$m.safetensors --config configs/adalog/6bit.json --calib-data $F --test-data $F --results $out --no-progress")
done
run_one() {
  local name=${1%%|*} args=${1#*|}
  echo "start $name"
  # shellcheck disable=SC2086
  if "${LOGQ_BIN:-./build/cli/logq}" quantize $args >"results/logs/$name.log" 2>&1; then echo "done  $name"; else echo "FAIL  $name (results/logs/$name.log)"; fi
}
export -f run_one
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {}
echo "results: $out"
