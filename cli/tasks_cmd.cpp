// `logq tasks run|submit|status DIR`: the plans of `logq explore --plan`, `logq golden --plan` and
// `logq_rtl_regress --plan` (batch/plan.h), run here as processes or on Slurm as a job array.
#include "cli/tasks_cmd.h"

#include <fmt/format.h>

#include "batch/runner.h"
#include "io/error.h"

namespace logq::cli {

void add_tasks(CLI::App& app) {
  auto* c = app.add_subcommand("tasks",
                               "Run a study split into tasks by --plan DIR (explore, golden, logq_rtl_regress): on Slurm as a job\n"
                               "array (submit) or as processes on this machine (run), resumable; then --merge DIR on the same\n"
                               "command writes what the single-machine run writes. See docs/cluster.md.");
  c->require_subcommand(1);
  static std::string dir;
  static int64_t index = -1, jobs = 2;
  static bool wait = false, dry_run = false;
  auto* run = c->add_subcommand("run", "run the unfinished tasks of DIR here, -j at a time (or one: --index, as each Slurm array task does)");
  run->add_option("dir", dir, "the plan directory")->required();
  run->add_option("--index", index, "only this task (its Slurm array index)")->check(CLI::NonNegativeNumber);
  run->add_option("-j,--jobs", jobs, "tasks at a time")->capture_default_str()->check(CLI::Range(1, 256));
  run->callback([] {
    const int64_t failed = batch::run_tasks(dir, index, jobs);
    if (failed) throw Error(fmt::format("{} task(s) failed (their logs are named above); `logq tasks run {}` runs them again", failed, dir));
  });
  auto* sub = c->add_subcommand("submit", "sbatch the job array of DIR's unfinished tasks (needs a Slurm client and cluster)");
  sub->add_option("dir", dir, "the plan directory")->required();
  sub->add_flag("--wait", wait, "return when the tasks have ended (sbatch --wait), then print their status; exit 1 unless all done");
  sub->add_flag("--dry-run", dry_run, "print the sbatch command only");
  sub->callback([] {
    const int64_t left = batch::submit(dir, wait, dry_run);
    if (wait && left) throw Error(fmt::format("{} task(s) not done after the job ended (see above)", left));
  });
  auto* st = c->add_subcommand("status", "done / failed (with their logs) / not run; exit 1 unless every task is done");
  st->add_option("dir", dir, "the plan directory")->required();
  st->callback([] {
    if (batch::print_status(dir)) throw Error(fmt::format("{}: not every task is done", dir));
  });
}

}  // namespace logq::cli
