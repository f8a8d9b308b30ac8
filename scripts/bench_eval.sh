#!/usr/bin/env bash
# Float-inference benchmark (not a test): images/s of `logq eval`, one thread, for DeiT-Tiny at
# 224x224 (random weights; Fashion-MNIST images upscaled, so preprocessing is included) and for
# each embedded Fashion-MNIST model on the 10k test set. Prints one CSV row per model.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bash scripts/build.sh >/dev/null
fm=/usr/share/datasets/fashion-mnist
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "model,checkpoint,dataset,images,top1,top5,seconds,images_per_s"
./build/cli/logq eval --model deit_tiny_patch16_224 --data "$fm" --limit 256 --batch 32 --no-progress --csv "$out" >/dev/null
tail -n 1 "$out"
for m in fmnist_vit fmnist_swin fmnist_resnet fmnist_mobilenetv2; do
  [ -f "models/$m.safetensors" ] || continue
  ./build/cli/logq eval --checkpoint "models/$m.safetensors" --data "$fm" --batch 100 --no-progress --csv "$out" >/dev/null
  tail -n 1 "$out"
done
