#!/usr/bin/env bash
# Sets everything up (apt-get, idempotent), builds, and runs logq's main job on the embedded
# default: the float accuracy of the four Fashion-MNIST models logq trained (models/), LogART W4
# (DBS + LLR, with and without U(8) activations) of the embedded ResNet and AdaLog W4A4
# calibration of the embedded ViT, inspecting a bundled checkpoint with logq's own safe
# unpickler, random GEMMs of every operand pairing run on the Verilated PE array and checked bit
# for bit against the golden integer model, and the area/timing of the PE kinds on the OSU
# 0.18 um cells. Both quantized models are exported (.lqm) and run through the golden integer
# network on the whole test set, next to their fake-quant accuracy, and simulated on the SystemC
# accelerator model (cycles, DRAM traffic, images/s and energy per image at the synthesized array's fmax).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build.sh logq logq_rtl_regress  # the main job's programs; scripts/test.sh builds the rest
mkdir -p out
fm=/usr/share/datasets/fashion-mnist
echo "[main] float top-1 of the embedded Fashion-MNIST models on the 10k test set (models/README.md)"
for m in fmnist_vit fmnist_swin fmnist_resnet fmnist_mobilenetv2; do
  ./build/cli/logq eval --checkpoint "models/$m.safetensors" --data "$fm" --batch 100 --no-progress --json "out/eval_$m.json"
done
echo "[main] wrote out/eval_*.json"
echo "[main] LogART W4 of fmnist_resnet: layer-wise DBS + LLR, 1+1/2 mantissa (the RTL's), weights only and with U(8) activations (~2 min)"
rm -f out/quantize.csv
./build/cli/logq quantize --method logart --checkpoint models/fmnist_resnet.safetensors --calib-data "$fm" --test-data "$fm" \
  --w-bit 4 --act-bits 8 --hardware-approx --no-progress --results out/quantize.csv --json out/logart_fmnist_resnet.json \
  --export out/fmnist_resnet_logart_w4a8.lqm | grep -v '^DBS lw'
echo "[main] AdaLog W4A4 calibration (FPCS) of fmnist_vit, then the patch-embed image as U(8) (the hardware path) (~2 min)"
./build/cli/logq quantize --method adalog --checkpoint models/fmnist_vit.safetensors --config configs/adalog/4bit.json \
  --calib-data "$fm" --test-data "$fm" --act-bits 8 --no-progress --json out/adalog_fmnist_vit.json \
  --export out/fmnist_vit_adalog_w4a4.lqm | grep -v '^calib '
echo "[main] wrote out/quantize.csv, out/logart_fmnist_resnet.json, out/adalog_fmnist_vit.json"
for m in fmnist_resnet_logart_w4a8 fmnist_vit_adalog_w4a4; do
  echo "[main] logq golden out/$m.lqm: integer MAC/dequant network on the 10k test set (2 processes)"
  ./build/cli/logq golden "out/$m.lqm" --data "$fm" -j 2 --no-progress --json "out/golden_$m.json" --csv "out/golden_$m.csv"
done
for m in fmnist_resnet_logart_w4a8 fmnist_vit_adalog_w4a4; do
  echo "[main] logq verify out/$m.lqm: one block's GEMMs on the Verilated PE array vs the golden model"
  ./build/cli/logq verify "out/$m.lqm" --json "out/verify_$m.json"
done
echo "[main] logq sim: the ResNet on a 16x16 L(4)xU(8) array, the ViT on a 16x16 universal array (SystemC model, clock = the synthesized array's fmax)"
./build/cli/logq sim out/fmnist_resnet_logart_w4a8.lqm --hw configs/hw/lu_16x16.json --json out/sim_fmnist_resnet_logart_w4a8.json --csv out/sim_fmnist_resnet_logart_w4a8.csv
./build/cli/logq sim out/fmnist_vit_adalog_w4a4.lqm --hw configs/hw/lu_16x16.json --pe universal --json out/sim_fmnist_vit_adalog_w4a4.json --csv out/sim_fmnist_vit_adalog_w4a4.csv
python3 - <<'PY'
import json
print("\n[main] summary (Fashion-MNIST test, 10k images; throughput and energy per image from logq sim)")
print(f"{'model':<28} {'method':<8} {'FP':>7} {'fake-quant':>11} {'golden':>8} {'delta pp':>9} {'code agr. (worst layer)':>24} {'RTL block':>10} {'array':>14} {'images/s':>9} {'uJ/image':>9}")
fp = {m: json.load(open(f"out/eval_{m}.json"))["top1"] for m in ("fmnist_resnet", "fmnist_vit")}
for m, net in (("fmnist_resnet_logart_w4a8", "fmnist_resnet"), ("fmnist_vit_adalog_w4a4", "fmnist_vit")):
    g = json.load(open(f"out/golden_{m}.json"))
    v = json.load(open(f"out/verify_{m}.json"))
    s = json.load(open(f"out/sim_{m}.json"))
    rtl = f"{v['passed']} PASS" if v["failed"] == 0 else f"{v['failed']} FAIL"
    arr = f"{s['hw']['array']['rows']}x{s['hw']['array']['cols']} {s['hw']['array']['pe']}"
    print(f"{m:<28} {g['method']:<8} {fp[net]:>6.2f}% {g['fake_quant_top1']:>10.2f}% {g['golden_top1']:>7.2f}% "
          f"{g.get('delta_pp', float('nan')):>+9.2f} {g['agreement']['worst_code_agreement_pct']:>23.3f}% {rtl:>10} {arr:>14} "
          f"{s['images_per_s']:>9.0f} {s['total']['energy_pj']['total'] * 1e-6:>9.1f}")
PY
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
