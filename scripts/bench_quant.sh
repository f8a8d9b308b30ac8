#!/usr/bin/env bash
# Quantization speed, one thread: LogART DBS and LLR on ResNet-20 (CIFAR-10, ../shared/data) and
# AdaLog W4A4 calibration and block reconstruction (1,000 iterations per block, from the saved
# calibration) on the embedded Fashion-MNIST ViT. Prints the seconds from each run's JSON / log.
#   bash scripts/bench_quant.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
logq=${LOGQ_BIN:-./build/cli/logq}
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
  --no-progress --json $tmp/adalog.json --save-calibrated $tmp/vit4.safetensors >/dev/null
python3 -c "
import json; j=json.load(open('$tmp/adalog.json'))
print(f\"AdaLog fmnist_vit W4A4 calibration: {j['calib_seconds']:.1f} s (32 images)\")"
$logq quantize --method adalog --load-calibrated $tmp/vit4.safetensors --calib-data $F --test-data $F --test-limit 100 \
  --config configs/adalog/4bit.json --optimize --optim-iters 1000 --no-progress > $tmp/recon.log
python3 - "$tmp/recon.log" <<'PY'
import re, sys
t = [float(m.group(1)) for m in re.finditer(r"^recon blocks\.\d+ .*\(([\d.]+) s\)$", open(sys.argv[1]).read(), re.M)]
print(f"AdaLog fmnist_vit W4A4 reconstruction: {sum(t)/len(t):.1f} s per 1000 iterations per block (mean of {len(t)} blocks, batch 32, 1024 images)")
PY
rm -rf "$tmp"
