#include "batch/plan.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"

namespace logq::batch {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr size_t kMaxTasks = 100000;  // Slurm's MaxArraySize is 1001 by default; a plan this big needs it raised
const std::set<std::string> kPrograms = {"logq", "logq_rtl_regress"};
const std::set<std::string> kCommands = {"explore", "golden", "rtl_regress"};

// A value that goes into a #SBATCH line or an sbatch argument: no whitespace, quotes or shell syntax.
bool script_safe(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-_.:,=/+@%").find(c) != std::string_view::npos; });
}

bool file_name_safe(const std::string& s) {
  if (s.empty() || s.size() > 100 || s[0] == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; });
}

const json& member(const json& o, const char* key, json::value_t type, const std::string& where) {
  if (!o.contains(key)) throw Error(fmt::format("{}: '{}' is missing", where, key));
  const json& v = o.at(key);
  if (v.type() != type && !(type == json::value_t::number_integer && v.is_number_unsigned()))
    throw Error(fmt::format("{}: '{}' has the wrong type ({})", where, key, v.type_name()));
  return v;
}

std::vector<std::string> string_array(const json& v, const std::string& where, size_t max_items) {
  if (!v.is_array()) throw Error(where + ": not a list of strings");
  if (v.size() > max_items) throw Error(fmt::format("{}: {} items, more than {}", where, v.size(), max_items));
  std::vector<std::string> out;
  for (const json& s : v) {
    if (!s.is_string()) throw Error(where + ": not a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

ClusterConfig cluster_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": not a JSON object");
  ClusterConfig c;
  for (const auto& [key, v] : j.items()) {
    const std::string at = fmt::format("{}: '{}'", where, key);
    const auto text = [&](std::string& dst, bool script) {
      if (!v.is_string()) throw Error(at + " must be a string");
      dst = v.get<std::string>();
      if (script && !dst.empty() && !script_safe(dst)) throw Error(fmt::format("{} '{}': only letters, digits and -_.:,=/+@% are allowed", at, dst));
    };
    const auto count = [&](int64_t& dst, int64_t lo, int64_t hi) {
      if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) throw Error(fmt::format("{} must be an integer in {}..{}", at, lo, hi));
      dst = v.get<int64_t>();
    };
    if (key == "partition") text(c.partition, true);
    else if (key == "account") text(c.account, true);
    else if (key == "time") text(c.time, true);
    else if (key == "mem") text(c.mem, true);
    else if (key == "bin_dir") text(c.bin_dir, false);
    else if (key == "cpus_per_task") count(c.cpus_per_task, 1, 256);
    else if (key == "max_parallel") count(c.max_parallel, 0, 1000000);
    else if (key == "sbatch_args") {
      c.sbatch_args = string_array(v, at, 64);
      for (const auto& a : c.sbatch_args)
        if (a.rfind("--", 0) != 0 || !script_safe(a)) throw Error(fmt::format("{}: '{}' is not one --name=value option (letters, digits, -_.:,=/+@%)", at, a));
    } else {
      throw Error(fmt::format("{}: unknown key (known: partition, account, time, mem, cpus_per_task, max_parallel, bin_dir, sbatch_args)", at));
    }
  }
  if (c.time.empty() || c.mem.empty()) throw Error(where + ": 'time' and 'mem' must not be empty");
  if (!c.bin_dir.empty() && c.bin_dir[0] != '/') throw Error(fmt::format("{}: 'bin_dir' must be an absolute path", where));
  return c;
}

json cluster_to_json(const ClusterConfig& c) {
  return {{"partition", c.partition}, {"account", c.account}, {"time", c.time}, {"mem", c.mem}, {"cpus_per_task", c.cpus_per_task},
          {"max_parallel", c.max_parallel}, {"bin_dir", c.bin_dir}, {"sbatch_args", c.sbatch_args}};
}

json plan_to_json(const Plan& p) {
  json tasks = json::array();
  for (const Task& t : p.tasks) tasks.push_back({{"id", t.id}, {"label", t.label}, {"argv", t.argv}, {"result", t.result}});
  return {{"logq_plan", 1}, {"command", p.command}, {"study", p.study}, {"programs", p.programs}, {"cluster", cluster_to_json(p.cluster)}, {"tasks", tasks}};
}

Task task_from_json(const json& j, size_t index, const Plan& p, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": not an object");
  Task t;
  t.id = member(j, "id", json::value_t::string, where).get<std::string>();
  t.label = member(j, "label", json::value_t::string, where).get<std::string>();
  t.argv = string_array(member(j, "argv", json::value_t::array, where), where + ": 'argv'", 10000);
  t.result = member(j, "result", json::value_t::string, where).get<std::string>();
  if (t.id != fmt::format("{:04d}", index)) throw Error(fmt::format("{}: id '{}' is not its index {:04d}", where, t.id, index));
  if (!file_name_safe(t.result)) throw Error(fmt::format("{}: result '{}' is not a plain file name", where, t.result));
  if (t.argv.empty() || !p.programs.count(t.argv[0])) throw Error(fmt::format("{}: argv[0] must name one of the plan's programs", where));
  return t;
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

// The job script: one array task per plan task, each `logq tasks run DIR --index N`. `logq tasks
// submit` passes --array (the unfinished tasks) and --output on the command line, which win.
std::string job_script(const std::string& dir, const Plan& p) {
  const ClusterConfig& c = p.cluster;
  std::string s = "#!/bin/bash\n# logq " + p.command + ": " + std::to_string(p.tasks.size()) + " task(s). Submit with `logq tasks submit " + dir +
                  "` (only unfinished tasks),\n# or `sbatch " + (fs::path(dir) / "job.sbatch").string() + "` (all).\n";
  s += fmt::format("#SBATCH --job-name=logq-{}\n#SBATCH --array=0-{}{}\n", p.command, p.tasks.size() - 1,
                   c.max_parallel > 0 ? fmt::format("%{}", c.max_parallel) : "");
  if (script_safe(dir)) s += fmt::format("#SBATCH --output={}/logs/slurm-%A_%a.out\n", dir);
  s += fmt::format("#SBATCH --time={}\n#SBATCH --mem={}\n#SBATCH --cpus-per-task={}\n#SBATCH --ntasks=1\n", c.time, c.mem, c.cpus_per_task);
  if (!c.partition.empty()) s += "#SBATCH --partition=" + c.partition + "\n";
  if (!c.account.empty()) s += "#SBATCH --account=" + c.account + "\n";
  for (const auto& a : c.sbatch_args) s += "#SBATCH " + a + "\n";
  s += fmt::format("exec {} tasks run {} --index \"$SLURM_ARRAY_TASK_ID\"\n", shell_quote(program_path(p, "logq")), shell_quote(dir));
  return s;
}

}  // namespace

ClusterConfig load_cluster_config(const std::string& path) {
  if (path.empty()) return {};
  return cluster_from_json(read_json_file(path, "cluster config"), path);
}

std::string this_executable() {
  std::error_code ec;
  std::string s = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw Error("cannot find this program's own executable (/proc/self/exe)");
  // Rebuilt while running: the link names the replaced file; the new one is at the same path.
  const std::string del = " (deleted)";
  if (s.size() > del.size() && s.compare(s.size() - del.size(), del.size(), del) == 0) s.resize(s.size() - del.size());
  return s;
}

std::string absolute(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::absolute(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot make the path absolute: {}", path, ec.message()));
  return p.lexically_normal().string();
}

void write_plan(const std::string& dir, const Plan& plan) {
  if (plan.tasks.empty()) throw Error("a plan needs at least one task");
  if (plan.tasks.size() > kMaxTasks) throw Error(fmt::format("{} tasks: more than {} (fewer --tasks)", plan.tasks.size(), kMaxTasks));
  const std::string abs = absolute(dir);
  if (fs::exists(fs::path(abs) / "plan.json")) {
    const Plan old = read_plan(abs);
    if (old.command != plan.command || old.study != plan.study || plan_to_json(old)["tasks"] != plan_to_json(plan)["tasks"])
      throw Error(fmt::format("{}: holds the plan of another study (a different command, parameters or task list); use a new directory", abs));
  }
  fs::create_directories(fs::path(abs) / "results");
  fs::create_directories(fs::path(abs) / "logs");
  const std::string text = plan_to_json(plan).dump(1) + "\n", script = job_script(abs, plan);
  write_file_atomic((fs::path(abs) / "plan.json").string(), text.data(), text.size());
  write_file_atomic((fs::path(abs) / "job.sbatch").string(), script.data(), script.size());
}

Plan read_plan(const std::string& dir) {
  const std::string path = (fs::path(dir) / "plan.json").string();
  const json j = read_json_file(path, "task plan");
  if (!j.is_object() || j.value("logq_plan", json()) != 1) throw Error(path + ": not a logq task plan (version 1)");
  Plan p;
  p.command = member(j, "command", json::value_t::string, path).get<std::string>();
  if (!kCommands.count(p.command)) throw Error(fmt::format("{}: unknown command '{}'", path, p.command));
  p.study = string_array(member(j, "study", json::value_t::array, path), path + ": 'study'", 10000);
  for (const auto& [name, v] : member(j, "programs", json::value_t::object, path).items()) {
    if (!kPrograms.count(name) || !v.is_string() || v.get<std::string>().empty() || v.get<std::string>()[0] != '/')
      throw Error(fmt::format("{}: programs: '{}' must be logq or logq_rtl_regress with an absolute path", path, name));
    p.programs[name] = v.get<std::string>();
  }
  if (!p.programs.count("logq")) throw Error(path + ": programs: 'logq' is missing (the task runner)");
  p.cluster = cluster_from_json(member(j, "cluster", json::value_t::object, path), path + ": cluster");
  const json& tasks = member(j, "tasks", json::value_t::array, path);
  if (tasks.empty() || tasks.size() > kMaxTasks) throw Error(fmt::format("{}: {} tasks (1..{} allowed)", path, tasks.size(), kMaxTasks));
  std::set<std::string> results;
  for (size_t i = 0; i < tasks.size(); ++i) {
    p.tasks.push_back(task_from_json(tasks[i], i, p, fmt::format("{}: task {}", path, i)));
    if (!results.insert(p.tasks.back().result).second) throw Error(fmt::format("{}: task {}: result '{}' is another task's too", path, i, p.tasks.back().result));
  }
  return p;
}

std::string program_path(const Plan& p, const std::string& name) {
  if (!p.cluster.bin_dir.empty()) return (fs::path(p.cluster.bin_dir) / name).string();
  return p.programs.at(name);
}

std::string result_path(const std::string& dir, const Task& t) { return (fs::path(dir) / "results" / t.result).string(); }
std::string log_path(const std::string& dir, const Task& t) { return (fs::path(dir) / "logs" / (t.id + ".log")).string(); }
std::string failed_marker(const std::string& dir, const Task& t) { return (fs::path(dir) / "logs" / (t.id + ".failed")).string(); }

TaskState task_state(const std::string& dir, const Task& t) {
  if (fs::is_regular_file(result_path(dir, t))) return TaskState::done;
  if (fs::exists(failed_marker(dir, t))) return TaskState::failed;
  return TaskState::pending;
}

Plan complete_plan(const std::string& dir, const std::string& command, const std::vector<std::string>& study) {
  const Plan p = read_plan(dir);
  if (p.command != command) throw Error(fmt::format("{}: a plan of `{}`, not `{}`", dir, p.command, command));
  if (p.study != study) {
    std::string diff;
    for (size_t i = 0; i < std::max(p.study.size(), study.size()); ++i) {
      const std::string a = i < p.study.size() ? p.study[i] : "(none)", b = i < study.size() ? study[i] : "(none)";
      if (a != b) {
        // A value: name its option too (the element before it), e.g. "--jobs 5".
        const std::string opt = i > 0 && i - 1 < p.study.size() && i - 1 < study.size() && p.study[i - 1] == study[i - 1] && p.study[i - 1].rfind("--", 0) == 0
                                    ? p.study[i - 1] + " " : "";
        diff = fmt::format("the plan has '{}{}' where this command has '{}{}'", opt, a, opt, b);
        break;
      }
    }
    throw Error(fmt::format("{}: planned for other parameters ({}); give --merge the options the plan was made with", dir, diff));
  }
  std::string missing;
  size_t n = 0;
  for (const Task& t : p.tasks) {
    const TaskState s = task_state(dir, t);
    if (s == TaskState::done) continue;
    if (++n <= 10) missing += s == TaskState::failed ? fmt::format("\n  {} {} failed: log {}", t.id, t.label, log_path(dir, t)) : fmt::format("\n  {} {} not run", t.id, t.label);
  }
  if (n) throw Error(fmt::format("{}: {} of {} task(s) unfinished{}{}\nrun them: logq tasks submit {} (Slurm) or logq tasks run {} -j N (here)", dir, n,
                                 p.tasks.size(), missing, n > 10 ? "\n  ..." : "", dir, dir));
  return p;
}

std::string plan_summary(const std::string& dir, const Plan& plan, const std::string& merge_command) {
  size_t done = 0;
  for (const Task& t : plan.tasks) done += task_state(dir, t) == TaskState::done;
  return fmt::format("planned {} task(s) in {} ({} done already)\n"
                     "  run on Slurm:   logq tasks submit {} [--wait]   (or sbatch {}/job.sbatch)\n"
                     "  run here:       logq tasks run {} -j N\n"
                     "  progress:       logq tasks status {}\n"
                     "  then merge:     {}\n",
                     plan.tasks.size(), dir, done, dir, dir, dir, dir, merge_command);
}

std::string merge_command_line(const std::vector<std::string>& args, const std::string& dir) {
  std::string c;
  const auto add = [&](const std::string& a) {
    const bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("-_.,:=/+@%").find(ch) != std::string_view::npos; });
    c += (c.empty() ? "" : " ") + (plain ? a : shell_quote(a));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const bool with_value = a == "--plan" || a == "--cluster" || a == "--tasks";
    if (a == "--plan" || a.rfind("--plan=", 0) == 0) add("--merge"), add(dir);
    else if (a.rfind("--cluster=", 0) == 0 || a.rfind("--tasks=", 0) == 0) {}
    else if (!with_value) add(a);
    if (with_value) ++i;
  }
  return c;
}

std::string array_ranges(const std::vector<size_t>& indices) {
  std::vector<size_t> v = indices;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    s += (s.empty() ? "" : ",") + (i == j ? std::to_string(v[i]) : fmt::format("{}-{}", v[i], v[j]));
    i = j + 1;
  }
  return s;
}

}  // namespace logq::batch
