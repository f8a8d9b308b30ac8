// batch/: the plan file, its validation as a hostile file, task states and the Slurm array list.
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "batch/plan.h"
#include "io/error.h"
#include "tests/test_util.h"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

logq::batch::Plan two_task_plan() {
  logq::batch::Plan p;
  p.command = "golden";
  p.study = {"/m.lqm", "--limit", "10"};
  p.programs["logq"] = "/usr/bin/logq";
  for (int i = 0; i < 2; ++i) p.tasks.push_back({fmt::format("{:04d}", i), "t", {"logq", "golden", "--part", "{dir}/results/x.json"}, fmt::format("{:04d}.json", i)});
  return p;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const logq::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("batch: Slurm array lists, merge command lines", "[batch]") {
  using logq::batch::array_ranges;
  CHECK(array_ranges({0, 1, 2, 3, 5, 7, 8, 9}) == "0-3,5,7-9");
  CHECK(array_ranges({4}) == "4");
  CHECK(array_ranges({9, 2, 3, 2}) == "2-3,9");
  CHECK(logq::batch::merge_command_line({"logq", "golden", "m.lqm", "--plan", "d", "--tasks", "3", "--cluster=c.json", "--data", "a b"}, "/abs/d") ==
        "logq golden m.lqm --merge /abs/d --data 'a b'");
}

TEST_CASE("batch: a plan is written, read back, and its tasks' states follow their files", "[batch]") {
  const std::string dir = logq::test::temp_path("batch_plan");
  fs::remove_all(dir);
  auto p = two_task_plan();
  logq::batch::write_plan(dir, p);
  const auto back = logq::batch::read_plan(dir);
  CHECK(back.study == p.study);
  REQUIRE(back.tasks.size() == 2);
  CHECK(back.tasks[1].argv == p.tasks[1].argv);
  const std::string script = [&] { std::ifstream f(dir + "/job.sbatch"); return std::string(std::istreambuf_iterator<char>(f), {}); }();
  CHECK_THAT(script, Contains("#SBATCH --array=0-1\n") && Contains("#SBATCH --mem=4G\n") && Contains("tasks run '" + dir + "' --index \"$SLURM_ARRAY_TASK_ID\""));
  CHECK(logq::batch::task_state(dir, back.tasks[0]) == logq::batch::TaskState::pending);
  write(dir + "/logs/0000.failed", "exit status 1\n");
  CHECK(logq::batch::task_state(dir, back.tasks[0]) == logq::batch::TaskState::failed);
  write(dir + "/results/0000.json", "{}");
  CHECK(logq::batch::task_state(dir, back.tasks[0]) == logq::batch::TaskState::done);
  // --merge: the same study, every task done.
  CHECK_THAT(error_of([&] { logq::batch::complete_plan(dir, "golden", p.study); }), Contains("1 of 2 task(s) unfinished") && Contains("0001 t not run"));
  CHECK_THAT(error_of([&] { logq::batch::complete_plan(dir, "golden", {"/m.lqm", "--limit", "20"}); }), Contains("the plan has '--limit 10' where this command has '--limit 20'"));
  CHECK_THAT(error_of([&] { logq::batch::complete_plan(dir, "explore", p.study); }), Contains("a plan of `golden`, not `explore`"));
  write(dir + "/results/0001.json", "{}");
  CHECK(logq::batch::complete_plan(dir, "golden", p.study).tasks.size() == 2);
  // Planning another study into it is refused; the same study keeps its results.
  auto other = p;
  other.study[2] = "11";
  CHECK_THAT(error_of([&] { logq::batch::write_plan(dir, other); }), Contains("holds the plan of another study"));
  logq::batch::write_plan(dir, p);
  CHECK(logq::batch::task_state(dir, back.tasks[1]) == logq::batch::TaskState::done);
  fs::remove_all(dir);
}

TEST_CASE("batch: a hostile plan or cluster config is an error naming the file and the field", "[batch]") {
  const std::string dir = logq::test::temp_path("batch_hostile");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string head = R"({"logq_plan": 1, "command": "golden", "study": [], "programs": {"logq": "/usr/bin/logq"}, "cluster": {}, "tasks": )";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {head + R"([{"id": "0000", "label": "x", "argv": ["logq"], "result": "../../etc/passwd"}]})", "is not a plain file name"},
      {head + R"([{"id": "0000", "label": "x", "argv": ["/bin/sh", "-c", "id"], "result": "a.json"}]})", "argv[0] must name one of the plan's programs"},
      {head + R"([{"id": "0007", "label": "x", "argv": ["logq"], "result": "a.json"}]})", "id '0007' is not its index 0000"},
      {head + R"([{"id": "0000", "label": "x", "argv": ["logq"], "result": "a.json"}, {"id": "0001", "label": "y", "argv": ["logq"], "result": "a.json"}]})", "is another task's too"},
      {head + R"([]})", "0 tasks"},
      {head + R"({"id": 1}})", "'tasks' has the wrong type"},
      {R"({"logq_plan": 2})", "not a logq task plan"},
      {R"({"logq_plan": 1, "command": "rm", "study": []})", "unknown command 'rm'"},
      {R"({"logq_plan": 1, "command": "golden", "study": [], "programs": {"bash": "/bin/bash", "logq": "/usr/bin/logq"}})", "'bash' must be logq or logq_rtl_regress"},
      {R"({"logq_plan": 1, "command": "golden", "study": [], "programs": {"logq": "/usr/bin/logq"}, "cluster": {"mem": "1G\n#SBATCH --x"}, "tasks": []})", "only letters, digits"},
      {R"({"logq_plan": 1, "logq_plan": 1})", "appears twice"},
      {"[[[[", "not valid JSON"},
  };
  for (const auto& [text, want] : cases) {
    write(dir + "/plan.json", text);
    INFO(text);
    CHECK_THAT(error_of([&] { logq::batch::read_plan(dir); }), Contains(dir + "/plan.json") && Contains(want));
  }
  write(dir + "/c.json", R"({"partition": "gpu", "cpus": 2})");
  CHECK_THAT(error_of([&] { logq::batch::load_cluster_config(dir + "/c.json"); }), Contains("'cpus': unknown key"));
  write(dir + "/c.json", R"({"sbatch_args": ["--qos=low", "-x"]})");
  CHECK_THAT(error_of([&] { logq::batch::load_cluster_config(dir + "/c.json"); }), Contains("'-x' is not one --name=value option"));
  write(dir + "/c.json", R"({"partition": "short", "time": "00:30:00", "max_parallel": 4, "sbatch_args": ["--qos=low"]})");
  const auto c = logq::batch::load_cluster_config(dir + "/c.json");
  CHECK((c.partition == "short" && c.time == "00:30:00" && c.max_parallel == 4 && c.mem == "4G"));
  fs::remove_all(dir);
}
