#!/usr/bin/env bash
# The LogART results table of docs/results.md: CIFAR-10 ResNet-20/56 (../shared/data) ablation rows
# and the embedded Fashion-MNIST models, appended to a CSV (default results/logart.csv), two jobs
# at a time (one torch thread each).
#   bash scripts/logart_table.sh [cifar|fmnist|all] [out.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
what=${1:-all}
out=$(realpath -m "${2:-results/logart.csv}")
mkdir -p "$(dirname "$out")" results/logs
logq=./build/cli/logq
D=../shared/data/cifar10
F=/usr/share/datasets/fashion-mnist
jobs=()
if [[ $what == cifar || $what == all ]]; then
  for net in 20 56; do
    ckpt=$(ls $D/models/resnet$net-*.th)
    for bits in 4 3; do
      for hw in 0 1; do
        hwf=$([[ $hw == 1 ]] && echo --hardware-approx || true)
        base="--method logart --model resnet${net}_cifar --checkpoint $ckpt --calib-data $D/train-jpeg-subset --test-data $D/test-jpeg --test-data $D/test-lossless-200 --w-bit $bits --act-bits 8 $hwf --results $out --no-progress"
        jobs+=("r$net-w$bits-hw$hw-log2|$base --scale-method log_2 --no-llr")
        jobs+=("r$net-w$bits-hw$hw-logsqrt2|$base --scale-method log_sqrt2 --no-llr")
        jobs+=("r$net-w$bits-hw$hw-dlog-tw|$base --search-method tensor_wise --no-llr")
        jobs+=("r$net-w$bits-hw$hw-dlog-lw|$base --no-llr")
        jobs+=("r$net-w$bits-hw$hw-dlog-lw-llr|$base --save results/logs/r$net-w$bits-hw$hw.logart.safetensors")
      done
    done
  done
fi
if [[ $what == fmnist || $what == all ]]; then
  for bits in 4 3; do
    for m in resnet mobilenetv2; do
      jobs+=("fmnist-$m-w$bits|--method logart --checkpoint models/fmnist_$m.safetensors --calib-data $F --calib-split train --test-data $F --w-bit $bits --act-bits 8 --results $out --no-progress")
    done
    jobs+=("fmnist-vit-w$bits|--method logart --checkpoint models/fmnist_vit.safetensors --config configs/logart/${bits}bit/best.json --calib-data $F --calib-split train --test-data $F --act-bits 8 --results $out --no-progress")
  done
fi
run_one() {
  local name=${1%%|*} args=${1#*|}
  echo "start $name"
  # shellcheck disable=SC2086
  if $logq quantize $args >"results/logs/$name.log" 2>&1; then echo "done  $name"; else echo "FAIL  $name (results/logs/$name.log)"; fi
}
export -f run_one
export logq
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {}
echo "results: $out"
