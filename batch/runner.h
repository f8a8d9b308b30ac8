// Running a plan's tasks (batch/plan.h): one by index (what each Slurm array task does), all
// unfinished ones as local processes, or by submitting the job array to Slurm.
#pragma once
#include <cstdint>
#include <string>

namespace logq::batch {

// Runs one task (by index) of the plan in `dir`, or every unfinished task when index < 0, `jobs`
// processes at a time. Finished tasks are skipped. A task's output goes to DIR/logs/<id>.log; a
// task that exits non-zero or writes no result gets DIR/logs/<id>.failed and is named with its log.
// Returns the number of tasks that failed.
int64_t run_tasks(const std::string& dir, int64_t index, int64_t jobs);

// sbatch's the job array of the unfinished tasks (none: nothing to do). With wait, returns when
// they have all ended (sbatch --wait) and prints the status. Returns the number of tasks not done.
int64_t submit(const std::string& dir, bool wait, bool dry_run);

// Prints done / failed (with logs and their last lines) / not run. Returns the number not done.
int64_t print_status(const std::string& dir);

}  // namespace logq::batch
