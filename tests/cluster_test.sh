#!/usr/bin/env bash
# A small explore study, an RTL regression over a seed range and a golden test-set run, each run
# once on this machine and once split into tasks (--plan), run, and merged (--merge): the merged
# outputs must equal the single-machine outputs byte for byte (golden's JSON: but its "seconds").
#   local: the tasks run as processes here (`logq tasks run`); also bad plans and parameters.
#   Both: a failed task named with its log, --merge refusing an unfinished plan, a resume.
#   slurm: the tasks run through a real single-node Slurm (scripts/slurm_local.sh); skipped (77)
#          where Slurm cannot start.
# Usage: cluster_test.sh LOGQ LOGQ_RTL_REGRESS local|slurm
set -euo pipefail
L=$(realpath "$1") R=$(realpath "$2") mode=$3
root=$(cd "$(dirname "$0")/.." && pwd)
F=/usr/share/datasets/fashion-mnist
[ -d "$F" ] || { echo "SKIPPED: $F is absent (apt-get install dataset-fashion-mnist)"; exit 77; }
w=$(mktemp -d /tmp/logq_cluster_test.XXXXXX)
cleanup() {
  if [ "$mode" = slurm ]; then bash "$root/scripts/slurm_local.sh" stop "$w/slurm" || true; fi
  rm -rf "$w"
}
trap cleanup EXIT
cd "$w"
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "$mode" = slurm ]; then
  rc=0
  conf=$(bash "$root/scripts/slurm_local.sh" start "$w/slurm") || rc=$?
  if [ "$rc" = 77 ]; then echo "SKIPPED: Slurm cannot start on this machine (see above)"; exit 77; fi
  [ "$rc" = 0 ] || fail "scripts/slurm_local.sh start failed ($rc)"
  export SLURM_CONF=$conf
  run_tasks() { "$L" tasks submit "$1" --wait; }
else
  run_tasks() { "$L" tasks run "$1" -j 2; }
fi

for b in 8 4; do
  "$L" quantize --method uniform --checkpoint "$root/models/fmnist_resnet.safetensors" --calib-data "$F" --test-data "$F" \
    --test-limit 50 --no-progress --w-bit $b --act-bits $b --export "w$b.lqm" > "quantize$b.log" 2>&1 || { cat "quantize$b.log"; fail "quantize W$b"; }
done

explore_args=(w8.lqm w4.lqm --data "$F" --images 40 --arrays 4x4,8x8 --pe int8,uu4)
regress_args=(--seeds 1:6 --jobs 4 --max-k 300)
golden_args=(w4.lqm --data "$F" --limit 300)

# Single machine.
"$L" explore "${explore_args[@]}" -j 2 -o one_explore > one_explore.log
"$R" "${regress_args[@]}" --json one_regress.json > one_regress.txt
"$L" golden "${golden_args[@]}" -j 2 --json one_golden.json --csv one_golden.csv > one_golden.txt

# Split into tasks, run, merged.
"$L" explore "${explore_args[@]}" --plan "$w/p_explore" | tee plan_explore.txt
grep -q "logq tasks submit $w/p_explore" plan_explore.txt || fail "the plan message does not say how to submit"
[ -f p_explore/job.sbatch ] && grep -q '^#SBATCH --array=0-' p_explore/job.sbatch || fail "no job array script"
"$R" "${regress_args[@]}" --plan "$w/p_regress" --tasks 3
"$L" golden "${golden_args[@]}" --plan "$w/p_golden" --tasks 3
for p in p_explore p_regress p_golden; do run_tasks "$w/$p"; done
"$L" explore "${explore_args[@]}" --merge "$w/p_explore" -o merged_explore > merged_explore.log
"$R" "${regress_args[@]}" --merge "$w/p_regress" --json merged_regress.json > merged_regress.txt
"$L" golden "${golden_args[@]}" --merge "$w/p_golden" --json merged_golden.json --csv merged_golden.csv > merged_golden.txt

for f in explore.csv accuracy_vs_area.png.dat throughput_per_area_vs_accuracy.png.dat energy_vs_accuracy.png.dat; do
  cmp "one_explore/$f" "merged_explore/$f" || fail "explore $f differs between one machine and the merged tasks"
done
cmp one_regress.json merged_regress.json || fail "regression JSON differs"
cmp one_regress.txt merged_regress.txt || fail "regression summary differs"
cmp one_golden.csv merged_golden.csv || fail "golden CSV differs"
strip_seconds() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("seconds"); print(json.dumps(d, sort_keys=True))' "$1"; }
[ "$(strip_seconds one_golden.json)" = "$(strip_seconds merged_golden.json)" ] || fail "golden JSON differs"
[ "$(wc -l < one_explore/explore.csv)" -eq 7 ] || fail "explore.csv should have 6 points"
echo "merged outputs equal the single-machine run ($mode)"

# Re-running skips finished tasks.
run_tasks "$w/p_golden" > rerun.txt
if [ "$mode" = slurm ]; then grep -q "nothing to submit" rerun.txt || fail "resubmitting a finished plan ran tasks again"
else grep -q "3 done already, 0 to run" rerun.txt || fail "re-running a finished plan ran tasks again"; fi

# A failed task is named with its log; --merge refuses; a re-run runs only what is not done.
cp w4.lqm gone.lqm
"$L" golden gone.lqm --data "$F" --limit 300 --plan "$w/p_fail" --tasks 3 > /dev/null
"$L" tasks run "$w/p_fail" --index 0 > /dev/null
rm gone.lqm
if run_tasks "$w/p_fail" > fail_run.txt 2>&1; then fail "running the tasks succeeded with a missing model"; fi
if [ "$mode" = local ]; then
  grep -q "task 0001 golden images 100..199: FAILED (exit status 1); log $w/p_fail/logs/0001.log" fail_run.txt || { cat fail_run.txt; fail "the failed task is not named with its log"; }
else
  grep -q "0001 golden images 100..199: exit status 1; log $w/p_fail/logs/0001.log" fail_run.txt || { cat fail_run.txt; fail "the failed task is not named with its log"; }
fi
grep -q "gone.lqm" p_fail/logs/0001.log || fail "the task log lacks the error"
if "$L" tasks status "$w/p_fail" > status.txt; then fail "status of an unfinished plan exited 0"; fi
grep -q "1 done, 2 failed, 0 not run" status.txt && grep -q "gone.lqm" status.txt || { cat status.txt; fail "status does not show the failures and their log lines"; }
cp w4.lqm gone.lqm
if "$L" golden gone.lqm --data "$F" --limit 300 --merge "$w/p_fail" > merge_fail.txt 2>&1; then fail "--merge of an unfinished plan succeeded"; fi
grep -q "2 of 3 task(s) unfinished" merge_fail.txt && grep -q "0002 golden images 200..299 failed: log" merge_fail.txt || { cat merge_fail.txt; fail "--merge does not name the unfinished tasks"; }
run_tasks "$w/p_fail" > resume.txt
if [ "$mode" = local ]; then grep -q "1 done already, 2 to run" resume.txt || { cat resume.txt; fail "the resume did not skip the finished task"; }
else grep -q -- "--array=1-2 " resume.txt || { cat resume.txt; fail "the resubmission did not skip the finished task"; }; fi
"$L" golden gone.lqm --data "$F" --limit 300 --merge "$w/p_fail" --csv resumed.csv > /dev/null
cmp one_golden.csv resumed.csv || fail "the resumed plan's CSV differs"
[ "$mode" = local ] || { echo "failed tasks and resume behave (slurm)"; exit 0; }
# Another study in the same directory, a bad plan file, and a merge with other parameters are errors.
if "$L" golden w4.lqm --data "$F" --limit 200 --plan "$w/p_fail" > other.txt 2>&1; then fail "re-planning another study over a plan succeeded"; fi
grep -q "holds the plan of another study" other.txt || fail "no message for another study's plan"
if "$R" --seeds 1:6 --jobs 5 --max-k 300 --merge "$w/p_regress" > other.txt 2>&1; then fail "merge with other parameters succeeded"; fi
grep -q "the plan has '--jobs 4' where this command has '--jobs 5'" other.txt || { cat other.txt; fail "no message naming the differing parameter"; }
echo '{"logq_plan": 1, "command": "golden", "study": [], "programs": {"logq": "/bin/sh"}, "cluster": {}, "tasks": [{"id": "0000", "label": "x", "argv": ["sh", "-c"], "result": "../x"}]}' > p_fail/plan.json
if "$L" tasks run "$w/p_fail" > bad.txt 2>&1; then fail "a hostile plan ran"; fi
grep -q "argv\[0\] must name one of the plan's programs\|result '../x' is not a plain file name" bad.txt || { cat bad.txt; fail "the hostile plan's error is not named"; }
echo "failed tasks, resume and bad plans behave"
