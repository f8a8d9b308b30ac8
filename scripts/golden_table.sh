#!/usr/bin/env bash
# The golden-network table of docs/results.md: each model quantized with its method and
# exported (.lqm), run by `logq golden` on the whole test set (one CSV row per model: fake-quant
# and golden top-1, their difference, the agreement report), then every GEMM of the network for 2
# images on the Verilated array (`logq verify --all`, its wall time in the row). LogART uses the
# 1+1/2 mantissa (--hardware-approx), the one the RTL implements.
#   bash scripts/golden_table.sh [out.csv] [jobs per golden run (default 2)]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(realpath -m "${1:-results/golden.csv}")
jobs=${2:-2}
bin=${LOGQ_BIN:-./build/cli/logq}
mkdir -p results/logs "$(dirname "$out")"
F=/usr/share/datasets/fashion-mnist
D=../shared/data/cifar10
runs=(
  "fmnist_resnet_logart_w4a8|$F|--method logart --checkpoint models/fmnist_resnet.safetensors --calib-data $F --test-data $F --w-bit 4 --act-bits 8 --hardware-approx"
  "fmnist_vit_adalog_w4a4|$F|--method adalog --checkpoint models/fmnist_vit.safetensors --config configs/adalog/4bit.json --calib-data $F --test-data $F"
  "fmnist_vit_adalog_w4a4_u8|$F|--method adalog --checkpoint models/fmnist_vit.safetensors --config configs/adalog/4bit.json --calib-data $F --test-data $F --act-bits 8"
)
if [[ -d $D ]]; then
  runs+=("resnet20_cifar_logart_w4a8|$D/test-jpeg|--method logart --model resnet20_cifar --checkpoint $D/models/resnet20-12fca82f.th --calib-data $D/train-jpeg-subset --test-data $D/test-jpeg --w-bit 4 --act-bits 8 --hardware-approx")
else
  echo "golden_table: $D is absent (../shared beside the project): CIFAR-10 row skipped"
fi
[[ -f $out ]] || echo "model,method,dataset,images,fake_quant_top1,golden_top1,delta_pp,worst_code_agreement_pct,worst_drift_code_agreement_pct,logit_max_err,sample_top1_same,golden_s,jobs,verify_all_2img,verify_s" > "$out"
for r in "${runs[@]}"; do
  IFS='|' read -r name data args <<< "$r"
  echo "[golden_table] $name: quantize + export"
  # shellcheck disable=SC2086
  "$bin" quantize $args --no-progress --export "results/logs/$name.lqm" > "results/logs/$name.quantize.log" 2>&1
  echo "[golden_table] $name: logq golden ($jobs processes)"
  "$bin" golden "results/logs/$name.lqm" --data "$data" -j "$jobs" --no-progress --json "results/logs/$name.golden.json" \
    --csv "results/logs/$name.layers.csv" > "results/logs/$name.golden.log" 2>&1
  echo "[golden_table] $name: logq verify --all --images 2 ($jobs processes)"
  "$bin" verify "results/logs/$name.lqm" --all --images 2 -j "$jobs" --json "results/logs/$name.verify.json" > "results/logs/$name.verify.log" 2>&1 || true
  python3 - "$name" "results/logs/$name.golden.json" "$out" "$jobs" "results/logs/$name.verify.json" <<'PY'
import json, sys
name, path, out, jobs, vpath = sys.argv[1:]
v = json.load(open(vpath))
g = json.load(open(path)); a = g["agreement"]
row = [name, g["method"], g["dataset"], g["images"], f"{g['fake_quant_top1']:.2f}", f"{g['golden_top1']:.2f}", f"{g.get('delta_pp', float('nan')):+.2f}",
       f"{a['worst_code_agreement_pct']:.3f}", f"{a['worst_drift_code_agreement_pct']:.3f}", f"{a['logit_max_err']:.4g}", f"{a['top1_same']}/{a['images']}", f"{g['seconds']:.1f}", jobs,
       f"{v['passed']} pass {v['failed']} fail {v['skipped']} skip", f"{v['seconds']:.1f}"]
open(out, "a").write(",".join(map(str, row)) + "\n")
print(",".join(map(str, row)))
PY
done
echo "results: $out"
