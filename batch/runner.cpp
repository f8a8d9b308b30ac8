#include "batch/runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "batch/plan.h"
#include "io/error.h"
#include "io/file_io.h"

namespace logq::batch {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string substitute_dir(std::string s, const std::string& dir) {
  for (size_t at; (at = s.find("{dir}")) != std::string::npos;) s.replace(at, 5, dir);
  return s;
}

// Forks the task's program with stdout and stderr in its log. Returns the child's pid.
pid_t start_task(const std::string& dir, const Plan& p, const Task& t) {
  std::error_code ec;
  fs::remove(failed_marker(dir, t), ec);
  const std::string log = log_path(dir, t);
  fs::remove(log, ec);  // a fresh log; O_EXCL below never follows a planted link
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot create the task log: {}", log, std::strerror(errno)));
  std::vector<std::string> args;
  for (const auto& a : t.argv) args.push_back(substitute_dir(a, dir));
  const std::string exe = program_path(p, t.argv[0]);
  std::string cmdline;
  for (const auto& a : args) cmdline += (cmdline.empty() ? "" : " ") + a;
  const std::string head = fmt::format("# logq task {} ({}): {}\n", t.id, t.label, cmdline);
  if (::write(fd, head.data(), head.size()) < 0) { /* the log is best effort; the exit status decides */ }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error("logq tasks: fork() failed");
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> cargs;
    for (auto& a : args) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    ::execv(exe.c_str(), cargs.data());
    std::fprintf(stderr, "logq tasks: cannot run %s: %s\n", exe.c_str(), std::strerror(errno));
    _exit(127);
  }
  ::close(fd);
  return pid;
}

// After the child ended: done when it exited 0 and left its result; else the failed marker.
bool finish_task(const std::string& dir, const Task& t, int status, double seconds) {
  const bool exited0 = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const bool has_result = fs::is_regular_file(result_path(dir, t));
  if (exited0 && has_result) {
    fmt::print("task {} {}: done ({:.1f} s)\n", t.id, t.label, seconds);
    return true;
  }
  const std::string why = !exited0 ? (WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status)) : fmt::format("killed by signal {}", WTERMSIG(status)))
                                   : "exited 0 but wrote no result " + result_path(dir, t);
  const std::string text = why + "\n";
  write_file_atomic(failed_marker(dir, t), text.data(), text.size());
  fmt::print("task {} {}: FAILED ({}); log {}\n", t.id, t.label, why, log_path(dir, t));
  return false;
}

std::string last_lines(const std::string& path, size_t n) {
  std::ifstream f(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) {
    lines.push_back(l.substr(0, 300));
    if (lines.size() > n) lines.erase(lines.begin());
  }
  std::string s;
  for (const auto& l : lines) s += "      " + l + "\n";
  return s;
}

// The newest Slurm output of array index i (logs/slurm-JOB_i.out), "" when Slurm never ran it.
std::string slurm_output(const std::string& dir, size_t i) {
  const std::string tail = fmt::format("_{}.out", i);
  std::string best;
  fs::file_time_type best_time{};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir) / "logs", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("slurm-", 0) != 0 || name.size() <= tail.size() || name.compare(name.size() - tail.size(), tail.size(), tail) != 0) continue;
    const auto t = e.last_write_time(ec);
    if (best.empty() || t > best_time) best = e.path().string(), best_time = t;
  }
  return best;
}

}  // namespace

int64_t run_tasks(const std::string& dir_in, int64_t index, int64_t jobs) {
  const std::string dir = absolute(dir_in);
  const Plan p = read_plan(dir);
  if (index >= int64_t(p.tasks.size())) throw Error(fmt::format("{}: no task {} (the plan has {})", dir, index, p.tasks.size()));
  std::vector<size_t> todo;
  for (size_t i = 0; i < p.tasks.size(); ++i) {
    if (index >= 0 && i != size_t(index)) continue;
    if (task_state(dir, p.tasks[i]) == TaskState::done) {
      if (index >= 0) fmt::print("task {} {}: done already ({})\n", p.tasks[i].id, p.tasks[i].label, result_path(dir, p.tasks[i]));
      continue;
    }
    todo.push_back(i);
  }
  if (index < 0) fmt::print("{}: {} task(s), {} done already, {} to run, {} at a time\n", dir, p.tasks.size(), p.tasks.size() - todo.size(), todo.size(), jobs);
  std::map<pid_t, std::pair<size_t, Clock::time_point>> running;
  int64_t failed = 0;
  size_t next = 0;
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && int64_t(running.size()) < std::max<int64_t>(jobs, 1)) {
      const size_t i = todo[next++];
      running[start_task(dir, p, p.tasks[i])] = {i, Clock::now()};
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) throw Error(fmt::format("logq tasks: waitpid failed: {}", std::strerror(errno)));
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const double secs = std::chrono::duration<double>(Clock::now() - it->second.second).count();
    failed += !finish_task(dir, p.tasks[it->second.first], status, secs);
    running.erase(it);
    std::fflush(stdout);
  }
  return failed;
}

int64_t submit(const std::string& dir_in, bool wait, bool dry_run) {
  const std::string dir = absolute(dir_in);
  const Plan p = read_plan(dir);
  std::vector<size_t> todo;
  for (size_t i = 0; i < p.tasks.size(); ++i)
    if (task_state(dir, p.tasks[i]) != TaskState::done) todo.push_back(i);
  if (todo.empty()) {
    fmt::print("{}: all {} task(s) done; nothing to submit\n", dir, p.tasks.size());
    return 0;
  }
  std::string array = array_ranges(todo);
  if (p.cluster.max_parallel > 0) array += fmt::format("%{}", p.cluster.max_parallel);
  std::string cmd = fmt::format("sbatch --parsable --array={} --output='{}/logs/slurm-%A_%a.out'{} '{}/job.sbatch'", array, dir, wait ? " --wait" : "", dir);
  if (dir.find('\'') != std::string::npos) throw Error(dir + ": a plan directory with a quote in its path cannot be submitted");
  fmt::print("{}\n", cmd);
  if (dry_run) return int64_t(todo.size());
  std::fflush(stdout);
  const int rc = std::system(cmd.c_str());
  if (rc == -1 || (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)) throw Error("sbatch not found: install Slurm's client (apt-get install slurm-client) or run here with `logq tasks run`");
  if (!wait && rc != 0) throw Error(fmt::format("sbatch failed (exit status {})", WIFEXITED(rc) ? WEXITSTATUS(rc) : -1));
  if (!wait) {
    fmt::print("submitted {} task(s); `logq tasks status {}` shows progress\n", todo.size(), dir);
    return int64_t(todo.size());
  }
  return print_status(dir);
}

int64_t print_status(const std::string& dir_in) {
  const std::string dir = absolute(dir_in);
  const Plan p = read_plan(dir);
  size_t done = 0;
  std::string failed, pending, started;
  size_t n_failed = 0, n_pending = 0, n_started = 0;
  for (const Task& t : p.tasks) {
    switch (task_state(dir, t)) {
      case TaskState::done: ++done; break;
      case TaskState::failed:
        if (++n_failed <= 20) {
          std::ifstream m(failed_marker(dir, t));
          std::string why;
          std::getline(m, why);
          failed += fmt::format("  {} {}: {}; log {}\n{}", t.id, t.label, why, log_path(dir, t), last_lines(log_path(dir, t), 3));
        }
        break;
      case TaskState::pending:
        // Slurm started it and it left neither a result nor a failure of its own: still running,
        // or killed (a time or memory limit).
        if (const std::string so = slurm_output(dir, size_t(&t - p.tasks.data())); !so.empty()) {
          if (++n_started <= 20) started += fmt::format("  {} {}: Slurm log {}\n{}", t.id, t.label, so, last_lines(so, 3));
        } else if (++n_pending <= 20) {
          pending += fmt::format("  {} {}\n", t.id, t.label);
        }
        break;
    }
  }
  fmt::print("{} ({}): {} task(s): {} done, {} failed, {} not run{}\n", dir, p.command, p.tasks.size(), done, n_failed, n_pending,
             n_started ? fmt::format(", {} started by Slurm without a result yet", n_started) : "");
  if (n_failed) fmt::print("failed:\n{}", failed);
  if (n_started) fmt::print("started by Slurm, no result (still running, or killed: a time or memory limit?):\n{}", started);
  if (n_pending) fmt::print("not run (or queued):\n{}", pending);
  return int64_t(n_failed + n_pending + n_started);
}

}  // namespace logq::batch
