#!/usr/bin/env bash
# The default explore study (scripts/explore.sh) split into tasks and run through Slurm, next to
# the same study on this machine in the same run: wall times, the merged CSVs compared byte for
# byte, and Slurm's per-task overhead (a plan of tiny tasks). Numbers for docs/results.md.
#   bash scripts/explore_slurm.sh [IMAGES]
# Needs the models of scripts/explore.sh (run it once) and a Slurm: SLURM_CONF set, or as root a
# single-node one started here (scripts/slurm_local.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
images=${1:-1000}
logq=./build/cli/logq
fm=/usr/share/datasets/fashion-mnist
m=out/explore/models
o=out/explore_slurm
[ -f $m/vit_adalog_w4a4.lqm ] || { echo "run scripts/explore.sh first (it quantizes the models)"; exit 1; }
rm -rf $o && mkdir -p $o
if [ -z "${SLURM_CONF:-}" ]; then
  export SLURM_CONF=$(bash scripts/slurm_local.sh start "$PWD/$o/slurm")
  trap 'bash scripts/slurm_local.sh stop "$PWD/$o/slurm"' EXIT
fi
# t CMD...: runs CMD (its stdout as redirected by the caller) and prints its wall seconds on fd 3.
t() { local s=$(date +%s.%N); "$@"; awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }' >&3; }
for fam in resnet vit; do
  args=($m/${fam}_*.lqm --data "$fm" --images "$images" --arrays 8x8,16x16 --acc-bits 0,20)
  local_s=$({ t "$logq" explore "${args[@]}" -j 2 -o $o/local_$fam >$o/local_$fam.log 2>&1; } 3>&1)
  "$logq" explore "${args[@]}" --plan "$PWD/$o/tasks_$fam" > $o/plan_$fam.log
  slurm_s=$({ t "$logq" tasks submit "$PWD/$o/tasks_$fam" --wait >$o/submit_$fam.log 2>&1; } 3>&1)
  merge_s=$({ t "$logq" explore "${args[@]}" --merge "$PWD/$o/tasks_$fam" -o $o/merged_$fam >$o/merge_$fam.log 2>&1; } 3>&1)
  same=$(cmp -s $o/local_$fam/explore.csv $o/merged_$fam/explore.csv && echo identical || echo DIFFERENT)
  tasks=$(grep -c '"id"' $o/tasks_$fam/plan.json)
  echo "$fam: $(($(wc -l < $o/local_$fam/explore.csv) - 1)) points, $tasks tasks: local -j 2 ${local_s} s; Slurm ${slurm_s} s + merge ${merge_s} s; CSV $same"
done
# Per-task overhead: 40 one-job regression seeds as 40 tasks, through Slurm and as local processes.
R=./build/testbenches/logq_rtl_regress
$R --seeds 1:40 --jobs 1 --max-k 50 --plan "$PWD/$o/tiny_slurm" --tasks 40 > /dev/null
$R --seeds 1:40 --jobs 1 --max-k 50 --plan "$PWD/$o/tiny_local" --tasks 40 > /dev/null
s=$({ t "$logq" tasks submit "$PWD/$o/tiny_slurm" --wait >/dev/null 2>&1; } 3>&1)
l=$({ t "$logq" tasks run "$PWD/$o/tiny_local" -j 2 >/dev/null 2>&1; } 3>&1)
echo "40 tiny tasks on 2 CPUs: Slurm ${s} s, local processes ${l} s"
