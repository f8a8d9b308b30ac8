#!/usr/bin/env bash
# The DeiT-Tiny rows of the AdaLog table in docs/results.md: plumbing at full ImageNet size (224,
# 197 tokens, 12 blocks) with random weights, since no pretrained DeiT is available offline.
# W3A3 and W4A4 calibrate then --optimize (one run gives both columns), W6A6 calibrate-only;
# the three jobs run at once. With the reference's 32 calibration images each calibration is
# 80–130 min of one core (3.4 h wall for the three on 2 cores), so the default here is 8 images
# (~1 h wall for the three); pass 32 for the reference's size.
#   bash scripts/adalog_deit.sh [out.csv] [optim-iters (default 100; the reference uses 20000)] [calib-size (default 8)]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
out=$(realpath -m "${1:-results/adalog.csv}")
iters=${2:-100}
calib=${3:-8}
mkdir -p "$(dirname "$out")" results/logs
F=/usr/share/datasets/fashion-mnist
logq=${LOGQ_BIN:-./build/cli/logq}
# CPU time and peak memory from GNU time (Debian package `time`) where it is installed
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -v)
common="--method adalog --model deit_tiny_patch16_224 --calib-data $F --test-data $F --test-limit 100 --calib-size $calib --results $out"
pids=()
for b in 3 4 6; do
  opt=""
  [[ $b != 6 ]] && opt="--optimize --optim-iters $iters"
  log=results/logs/adalog-deit-w${b}a${b}.log
  echo "start W${b}A${b} ($log)"
  # shellcheck disable=SC2086
  "${timer[@]}" $logq quantize $common --config configs/adalog/${b}bit.json $opt >"$log" 2>&1 &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
grep -h -E "Maximum resident|User time|System time|Elapsed" results/logs/adalog-deit-w*.log || true
echo "results: $out"
exit $rc
