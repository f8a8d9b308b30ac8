// A study split into independent, resumable tasks (docs/cluster.md): `--plan DIR` on explore,
// golden and logq_rtl_regress writes DIR/plan.json (the tasks, each a command line that writes one
// result file) and DIR/job.sbatch (a Slurm job array running one task per array index). Tasks run
// on Slurm (`logq tasks submit DIR`) or as processes here (`logq tasks run DIR -j N`); `--merge DIR`
// on the same command reads the results and writes what the single-machine run writes.
//
// A task is done when its result file exists: every task writes it atomically (temp file +
// rename), so a killed task leaves none and is simply run again.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace logq::batch {

// What each Slurm array task asks for. Defaults fit one golden run of a few thousand images, an
// explore point or a regression seed range on a 1-core slot.
struct ClusterConfig {
  std::string partition, account;
  std::string time = "02:00:00";  // per task, Slurm's [D-]HH:MM:SS
  std::string mem = "4G";         // per task
  int64_t cpus_per_task = 1;
  int64_t max_parallel = 0;       // array throttle (%N); 0: as many as Slurm gives
  std::string bin_dir;            // where the nodes find logq (and logq_rtl_regress); "": this build's paths
  std::vector<std::string> sbatch_args;  // more sbatch options, each "--name=value"
};

// A validated cluster config file ("" gives the defaults). Unknown keys and values that could
// inject script lines are errors naming the file and key.
ClusterConfig load_cluster_config(const std::string& path);

struct Task {
  std::string id;      // zero-padded index: the Slurm array index and the log/result name
  std::string label;   // what it computes, for people
  std::vector<std::string> argv;  // argv[0]: a program name ("logq", "logq_rtl_regress"); "{dir}" = the plan directory
  std::string result;  // result file name in DIR/results
};

struct Plan {
  std::string command;             // "explore", "golden", "rtl_regress"
  std::vector<std::string> study;  // the study's parameters: --merge must be given the same
  std::map<std::string, std::string> programs;  // name -> absolute path on the nodes
  ClusterConfig cluster;
  std::vector<Task> tasks;
};

// The running executable's path (for Plan::programs).
std::string this_executable();

// Absolute path without requiring it to exist (tasks run elsewhere: every path they take is absolute).
std::string absolute(const std::string& path);

// Writes DIR/plan.json and DIR/job.sbatch and creates DIR/results and DIR/logs. A plan that is
// already there must be the same study (then finished results are kept: re-planning is resuming).
void write_plan(const std::string& dir, const Plan& plan);

// Reads and validates DIR/plan.json (a hostile file like any other).
Plan read_plan(const std::string& dir);

// Where the nodes find a program of the plan: the cluster's bin_dir, else the planning build's path.
std::string program_path(const Plan& p, const std::string& name);

enum class TaskState { pending, done, failed };
TaskState task_state(const std::string& dir, const Task& t);
std::string result_path(const std::string& dir, const Task& t);
std::string log_path(const std::string& dir, const Task& t);
std::string failed_marker(const std::string& dir, const Task& t);

// For --merge: the plan in DIR, checked to be this command and study, with every task done.
// Otherwise an Error naming each unfinished task (failed ones with their log) and what to run.
Plan complete_plan(const std::string& dir, const std::string& command, const std::vector<std::string>& study);

// The message a planning command prints: how many tasks and how to run and merge them.
std::string plan_summary(const std::string& dir, const Plan& plan, const std::string& merge_command);

// The planning command line with --plan DIR made --merge DIR and the plan-only options (--cluster,
// --tasks) left out, quoted for a shell: what to run once the tasks are done.
std::string merge_command_line(const std::vector<std::string>& args, const std::string& dir);

// "0-3,5,7-9": Slurm's --array list of these indices (sorted, unique).
std::string array_ranges(const std::vector<size_t>& indices);

}  // namespace logq::batch
