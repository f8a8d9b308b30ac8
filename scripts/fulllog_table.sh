#!/usr/bin/env bash
# The fully-log transformer table of docs/results.md ("Fully-log transformers", issue 19) on the
# embedded Fashion-MNIST ViT and Swin, 10k test images, two jobs at a time:
#   order    fulllog W4A4 / W3A3, both orders (acts-first, weights-first), 1+1/2 everywhere
#   exact    fulllog W4A4 / W3A3 in the default order with exact sqrt2 (no --hardware-approx)
#   logart   LogART-only W4 / W3 with U(8) activations on every GEMM input, 1+1/2 everywhere
# The AdaLog-only model at the same bits is each fulllog row's adalog_top1 (its step 1); Swin
# runs take --weight-zero-from-range (docs/results.md, AdaLog: the reference grid cannot
# represent its 4-weight patch-embed rows). Seeds: AdaLog calibration --adalog-seed 5, LogART
# search --seed 0, LLR seed 1 (the defaults). The 1+1/2 fulllog rows keep their .lqm for
# `logq golden` / `verify` (out/fulllog/).
#   bash scripts/fulllog_table.sh [--list] [order|exact|logart ...]   (default: all three; rows in results/fulllog.csv)
# --list prints the runs (name|arguments of logq quantize) instead of running them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
list=0
if [ "${1:-}" = --list ]; then list=1; shift; fi
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(order exact logart)
F=/usr/share/datasets/fashion-mnist
mkdir -p out/fulllog results/logs
csv=$(realpath -m results/fulllog.csv)
common="--calib-data $F --test-data $F --no-progress --no-fp-eval"
zero() { [ "$1" = swin ] && echo --weight-zero-from-range || true; }
jobs=()
for part in "${parts[@]}"; do
  for b in 4 3; do
    for m in vit swin; do
      case $part in
        order)
          for ord in acts-first weights-first; do
            n=fulllog-$m-w${b}a${b}-$ord-approx
            jobs+=("$n|--method fulllog --checkpoint models/fmnist_$m.safetensors --config configs/fulllog/${b}bit.json --fulllog-order $ord --hardware-approx --approx-everywhere --act-bits 8 $(zero $m) --export out/fulllog/$n.lqm --results $csv $common")
          done ;;
        exact)
          n=fulllog-$m-w${b}a${b}-exact
          jobs+=("$n|--method fulllog --checkpoint models/fmnist_$m.safetensors --config configs/fulllog/${b}bit.json --act-bits 8 $(zero $m) --results $csv $common") ;;
        logart)
          n=logart-$m-w${b}-u8-approx
          jobs+=("$n|--method logart --checkpoint models/fmnist_$m.safetensors --config configs/logart/${b}bit/best.json --hardware-approx --approx-everywhere --act-bits 8 --no-dbs-eval --results $(realpath -m results/fulllog_logart.csv) $common") ;;
        *) echo "unknown part '$part' (order | exact | logart)" >&2; exit 2 ;;
      esac
    done
  done
done
if [ $list = 1 ]; then printf '%s\n' "${jobs[@]}"; exit 0; fi
run_one() {
  local name=${1%%|*} args=${1#*|}
  echo "start $name $(date +%T)"
  # shellcheck disable=SC2086
  if /usr/bin/time -f "cpu %U user %S sys, %M KiB" "${LOGQ_BIN:-./build/cli/logq}" quantize $args >"results/logs/$name.log" 2>&1; then
    echo "done  $name $(date +%T)"; else echo "FAIL  $name (results/logs/$name.log)"; fi
}
export -f run_one
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {}
echo "results: $csv, results/fulllog_logart.csv"
