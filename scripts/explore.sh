#!/usr/bin/env bash
# The default `logq explore` sweep (a study, not a test; timing in docs/results.md):
# the embedded Fashion-MNIST ResNet as uniform W8A8 (the INT8 baseline), W6A6, W4A4 and LogART
# W4A8 (1+1/2 and exact sqrt2 mantissa) and W3A8; the embedded ViT as uniform W8A8 and AdaLog W4A4
# (+ U(8) patch-embed image) and fully-log W4A4 (LogART weights x AdaLog activations). Each family is swept over PE kinds, 8x8 / 16x16 arrays and the
# accumulator width (the no-overflow width and 20 bits). Models and results in out/explore/.
#   bash scripts/explore.sh [IMAGES]      (default 1000 test images per accuracy point)
#   bash scripts/explore.sh --models-only (quantize the models only; scripts/power_table.sh uses them)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
models_only=0
if [ "${1:-}" = --models-only ]; then models_only=1; shift; fi
images=${1:-1000}
logq=./build/cli/logq
fm=/usr/share/datasets/fashion-mnist
m=out/explore/models
mkdir -p "$m"
q() {  # q OUT.lqm ARGS...: quantize once, keep the export
  local out=$1; shift
  [ -f "$out" ] || { echo "[explore] $out"; "$logq" quantize "$@" --calib-data "$fm" --test-data "$fm" --no-progress --export "$out" > "$out.log"; }
}
r=models/fmnist_resnet.safetensors
q $m/resnet_uniform_w8a8.lqm --method uniform --checkpoint $r --w-bit 8 --act-bits 8
q $m/resnet_uniform_w6a6.lqm --method uniform --checkpoint $r --w-bit 6 --act-bits 6
q $m/resnet_uniform_w4a4.lqm --method uniform --checkpoint $r --w-bit 4 --act-bits 4
q $m/resnet_logart_w4a8.lqm --method logart --checkpoint $r --w-bit 4 --act-bits 8 --hardware-approx
q $m/resnet_logart_w4a8_exact.lqm --method logart --checkpoint $r --w-bit 4 --act-bits 8
q $m/resnet_logart_w3a8.lqm --method logart --checkpoint $r --w-bit 3 --act-bits 8 --hardware-approx
v=models/fmnist_vit.safetensors
q $m/vit_uniform_w8a8.lqm --method uniform --checkpoint $v --w-bit 8 --act-bits 8
q $m/vit_adalog_w4a4.lqm --method adalog --checkpoint $v --config configs/adalog/4bit.json --act-bits 8
# The fully-log ViT (LogART W4 x AdaLog A4, 1+1/2): the same command as its row of scripts/fulllog_table.sh.
q $m/vit_fulllog_w4a4.lqm --method fulllog --checkpoint $v --config configs/fulllog/4bit.json --hardware-approx --approx-everywhere --act-bits 8 --no-fp-eval
[ $models_only = 0 ] || { echo "[explore] models in $m"; exit 0; }
"$logq" explore $m/resnet_*.lqm --data "$fm" --images "$images" --arrays 8x8,16x16 --acc-bits 0,20 -j 2 -o out/explore/resnet
"$logq" explore $m/vit_*.lqm --data "$fm" --images "$images" --arrays 8x8,16x16 --acc-bits 0,20 -j 2 -o out/explore/vit
echo "[explore] out/explore/{resnet,vit}/explore.csv and *.png"
