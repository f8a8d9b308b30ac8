#!/usr/bin/env bash
# Quantization speed, one thread: LogART DBS and LLR on ResNet-20 (CIFAR-10, ../shared/data) and
# AdaLog W4A4 calibration on the embedded Fashion-MNIST ViT. Prints the seconds from each run's JSON.
#   bash scripts/bench_quant.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
logq=./build/cli/logq
tmp=$(mktemp -d)
D=../shared/data/cifar10
F=/usr/share/datasets/fashion-mnist
if [[ -d $D ]]; then
  $logq quantize --method logart --model resnet20_cifar --checkpoint $D/models/resnet20-12fca82f.th --calib-data $D/train-jpeg-subset \
    --test-data $D/test-lossless-200 --iters-w 1000 --no-progress --json $tmp/logart.json >/dev/null
  python3 -c "
import json; j=json.load(open('$tmp/logart.json'))
units=11  # conv1, 9 blocks, linear
print(f\"LogART ResNet-20 W4: DBS layer-wise {j['search_seconds']:.1f} s (32 images, 500 candidates x 19 convs + fc); LLR {j['llr_seconds']/units:.1f} s per 1000 iterations per unit (mean over {units} units, batch 32)\")"
else
  echo "skipped LogART: $D is absent"
fi
$logq quantize --method adalog --checkpoint models/fmnist_vit.safetensors --calib-data $F --test-data $F --test-limit 100 --w-bit 4 \
  --no-progress --json $tmp/adalog.json >/dev/null
python3 -c "
import json; j=json.load(open('$tmp/adalog.json'))
print(f\"AdaLog fmnist_vit W4A4 calibration: {j['calib_seconds']:.1f} s (32 images)\")"
rm -rf "$tmp"
