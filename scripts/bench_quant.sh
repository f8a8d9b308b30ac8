#!/usr/bin/env bash
# Quantization speed, each job next to a baseline measured in the same run (docs/results.md,
# "Quantization speed"). The baseline is logq as it ran before issue 22's CPU work: OpenBLAS's
# Prescott kernels (what OpenBLAS 0.3.21 falls back to on CPUs it does not know) and one job.
# Every job runs alone, one after the other; CPU = user + system of the process.
#   bash scripts/bench_quant.sh [--quick]     (--quick: the AdaLog jobs only, ~3 min)
# Jobs (../shared/data for the LogART ones; skipped with a message where it is absent):
#   1. LogART ResNet-20 W4, the references' settings: layer-wise DBS (32 images) + LLR (2,000
#      iterations per unit, 2,048 images); no evaluation passes. Reference: DBS 27 s + LLR 252 s
#      CPU (issue 22, measured side by side on this machine type).
#   2. LogART ResNet-56 W4 (500 iterations per unit, 512 images), -j 1 and -j 2.
#   3. AdaLog W4A4 calibration of the embedded ViT (32 images), -j 1 and -j 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
logq=$(realpath "${LOGQ_BIN:-./build/cli/logq}")
quick=0
[[ ${1:-} == --quick ]] && quick=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S=../shared/data/cifar10
F=/usr/share/datasets/fashion-mnist
rows=$tmp/rows.tsv

# run NAME CORE ARGS...: one logq run under /usr/bin/time; CORE "" = logq's own choice.
run() {
  local name=$1 core=$2
  shift 2
  echo "== $name ${core:+(OPENBLAS_CORETYPE=$core)}" >&2
  local env=()
  [[ -n $core ]] && env=(OPENBLAS_CORETYPE="$core")
  if ! env "${env[@]}" /usr/bin/time -f "%e %U %S" -o "$tmp/t" "$logq" "$@" --no-progress > "$tmp/$name.log" 2>&1; then
    tail -n 20 "$tmp/$name.log" >&2
    echo "bench_quant: $name failed" >&2
    exit 1
  fi
  read -r wall user sys < "$tmp/t"
  printf '%s\t%s\t%s\t%s\n' "$name" "$wall" "$user" "$sys" >> "$rows"
}

logart20=(quantize --method logart --model resnet20_cifar --checkpoint $S/models/resnet20-12fca82f.th --calib-data $S/train-jpeg-subset
  --test-data $S/test-lossless-200 --w-bit 4 --no-fp-eval --no-dbs-eval)
logart56=(quantize --method logart --model resnet56_cifar --checkpoint $S/models/resnet56-4bfd9763.th --calib-data $S/train-jpeg-subset
  --test-data $S/test-lossless-200 --w-bit 4 --iters-w 500 --calib-samples 512 --no-fp-eval --no-dbs-eval)
adalog=(quantize --method adalog --checkpoint models/fmnist_vit.safetensors --calib-data $F --test-data $F --test-limit 100 --w-bit 4
  --no-fp-eval)

if [[ $quick == 0 && -d $S ]]; then
  run resnet20_base Prescott "${logart20[@]}" -j 1 --json "$tmp/r20_base.json"
  run resnet20_new "" "${logart20[@]}" -j 1 --json "$tmp/r20_new.json"
  run resnet56_j1 "" "${logart56[@]}" -j 1 --save "$tmp/r56_j1.st"
  run resnet56_j2 "" "${logart56[@]}" -j 2 --save "$tmp/r56_j2.st"
elif [[ $quick == 0 ]]; then
  echo "skipped LogART: $S is absent" >&2
fi
run adalog_base Prescott "${adalog[@]}" -j 1
run adalog_j1 "" "${adalog[@]}" -j 1 --save-calibrated "$tmp/vit_j1.st"
run adalog_j2 "" "${adalog[@]}" -j 2 --save-calibrated "$tmp/vit_j2.st"

python3 - "$tmp" <<'PY'
import json, os, struct, sys
tmp = sys.argv[1]
t = {}
for line in open(os.path.join(tmp, "rows.tsv")):
    n, wall, user, sys_ = line.split("\t")
    t[n] = (float(wall), float(user) + float(sys_))

def tensors(path):  # safetensors tensor bytes, metadata left out (it holds the command line)
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items()}

def same(a, b):
    return "same tensors" if tensors(os.path.join(tmp, a)) == tensors(os.path.join(tmp, b)) else "DIFFERENT tensors"

def row(job, base, new, note=""):
    bw, bc = t[base]
    nw, nc = t[new]
    print(f"| {job} | {bw:.1f} s wall, {bc:.1f} s CPU | {nw:.1f} s wall, {nc:.1f} s CPU | {bw / nw:.2f}x | {bc / nc:.2f}x | {note} |")

print("| job | baseline | now | wall ratio | CPU ratio | note |")
print("|---|---|---|---|---|---|")
if "resnet20_base" in t:
    js = {k: json.load(open(os.path.join(tmp, f"r20_{k}.json"))) for k in ("base", "new")}
    for k in ("base", "new"):
        j = js[k]
        print(f"| ResNet-20 {k}: DBS {j['search_seconds']:.1f} s, LLR {j['llr_seconds']:.1f} s (wall), q_top1 {j['results'][0]['q_top1']} % on {j['results'][0].get('images', '?')} images | | | | | |")
    row("LogART ResNet-20 W4 DBS + LLR, references' settings, Prescott -> CPU's kernels", "resnet20_base", "resnet20_new",
        f"reference 279 s CPU: {279 / t['resnet20_new'][1]:.2f}x less")
    row("LogART ResNet-56 W4 (500 it, 512 img), -j 1 -> -j 2", "resnet56_j1", "resnet56_j2", same("r56_j1.st", "r56_j2.st"))
row("AdaLog embedded ViT W4A4 calibration (32 img), Prescott -j 1 -> CPU's kernels -j 1", "adalog_base", "adalog_j1")
row("AdaLog embedded ViT W4A4 calibration (32 img), -j 1 -> -j 2", "adalog_j1", "adalog_j2", same("vit_j1.st", "vit_j2.st"))
row("AdaLog embedded ViT W4A4 calibration (32 img), baseline -> -j 2", "adalog_base", "adalog_j2")
PY
