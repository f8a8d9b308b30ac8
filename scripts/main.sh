#!/usr/bin/env bash
# Sets everything up (apt-get, idempotent), builds, and runs logq's main job on the embedded
# default. Today that is what exists: the float accuracy of the four Fashion-MNIST models logq
# trained (models/), inspecting a bundled checkpoint with logq's own safe unpickler, random GEMMs
# of every operand pairing run on the Verilated PE array and checked bit for bit against the
# golden integer model, and the area/timing of the PE kinds on the OSU 0.18 um cells.
# Quantizing the embedded models joins here as those parts land.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build.sh
mkdir -p out
fm=/usr/share/datasets/fashion-mnist
echo "[main] float top-1 of the embedded Fashion-MNIST models on the 10k test set (models/README.md)"
for m in fmnist_vit fmnist_swin fmnist_resnet fmnist_mobilenetv2; do
  ./build/cli/logq eval --checkpoint "models/$m.safetensors" --data "$fm" --batch 100 --no-progress --json "out/eval_$m.json"
done
echo "[main] wrote out/eval_*.json"
ckpt=tests/data/pickle/wrapped_module_prefix.pt
echo "[main] logq inspect $ckpt"
./build/cli/logq inspect "$ckpt"
./build/cli/logq inspect --json "$ckpt" > out/inspect.json.tmp && mv out/inspect.json.tmp out/inspect.json
echo "[main] wrote out/inspect.json"
echo "[main] RTL array vs golden model: 40 random GEMMs (U x U, U x A, L x U, L x A)"
./build/testbenches/logq_rtl_regress --seed 1 --jobs 40 --max-k 512
echo "[main] logq area (PE kinds; add --arrays lu:16:16 for a whole array, ~10 min)"
./build/cli/logq area --arrays '' --csv out/area.csv
echo "[main] wrote out/area.csv"
