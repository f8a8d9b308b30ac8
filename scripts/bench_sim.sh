#!/usr/bin/env bash
# Simulation speed (a benchmark, not a test): `logq sim` on DeiT-Tiny and ResNet-18 (224) with the
# fast cycle model on a 16x16 array, and the Verilated-RTL back-end on the embedded ViT (4x4).
# Prints the simulated cycles, the simulation's own wall time and cycles/s, and each command's
# whole wall time (process start, config, report). Run after scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
logq=./build/cli/logq
t=configs/topologies
run() {
  local label=$1; shift
  local s e line
  s=$(date +%s.%N)
  line=$("$logq" sim "$@" -q | tail -1)
  e=$(date +%s.%N)
  printf '%-44s %s   (whole command %.3f s)\n' "$label" "$line" "$(echo "$e - $s" | bc)"
}
for i in 1 2 3; do
  run "DeiT-Tiny, 16x16 lu, fast" $t/deit_tiny_patch16_224.csv --hw configs/hw/lu_16x16.json --clock-mhz 100
done
run "ResNet-18, 16x16 int8, fast" $t/resnet18.csv --hw configs/hw/int8_16x16.json --clock-mhz 100
run "DeiT-Tiny, 4x4 universal, fast" $t/deit_tiny_patch16_224.csv --hw configs/hw/universal_4x4.json
run "fmnist ViT, 4x4 universal, rtl" $t/fmnist_vit_adalog_w4a4.csv --hw configs/hw/universal_4x4.json --backend rtl
run "ResNet-20 CIFAR, 4x4 universal, rtl" $t/resnet20_cifar_logart_w4a8.csv --hw configs/hw/universal_4x4.json --backend rtl
