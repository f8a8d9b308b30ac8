// logq_rtl_regress: random GEMM jobs on the Verilated array, compared bit for bit with golden/.
// On the first mismatch it prints the report, writes a VCD window (--waveform) and exits 1.
// A seed range (--seeds) is a regression worth signing off; --plan splits it into tasks for Slurm
// or local processes (batch/plan.h) and --merge sums them into the same report as one run.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "batch/plan.h"
#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;
using json = nlohmann::json;

namespace {

struct Options {
  uint32_t seed = 1;
  std::string seeds, json_out, waveform, plan, merge, cluster;
  int jobs = 50;
  int64_t max_k = 600, inject = -1, tasks = 0;
};

struct SeedResult {
  uint32_t seed = 0;
  int jobs = 0;
  uint64_t cycles = 0;
  double ideal = 0;
};

// "A:B": seeds A..B (inclusive); a single number: that seed.
std::pair<uint32_t, uint32_t> parse_seeds(const std::string& s) {
  const size_t colon = s.find(':');
  try {
    size_t used = 0;
    const unsigned long a = std::stoul(s.substr(0, colon), &used);
    const unsigned long b = colon == std::string::npos ? a : std::stoul(s.substr(colon + 1));
    if (a > b || b > 0xffffffffu) throw std::invalid_argument(s);
    return {uint32_t(a), uint32_t(b)};
  } catch (const std::exception&) {
    throw Error(fmt::format("--seeds '{}' is not FIRST:LAST with FIRST <= LAST < 2^32", s));
  }
}

// One seed's jobs on the RTL; a mismatch prints its report and fails the run (exit 1).
bool run_seed(RtlArray& rtl, const Options& o, uint32_t seed, SeedResult& r) {
  std::mt19937 rng(seed);
  r = {seed, o.jobs, 0, 0};
  for (int i = 0; i < o.jobs; ++i) {
    const RandomJob j = random_job(rng, o.max_k);
    VerifyOptions opt;
    opt.label = fmt::format("job {} (seed {})", i, seed);
    opt.waveform_path = o.waveform;
    if (i == 0 && o.inject >= 0) opt.flip_expected_bit = std::min(o.inject, j.M * j.N - 1);
    const VerifyReport v = verify_gemm(rtl, j.problem(), j.hw, opt);
    if (!v.pass) {
      fmt::print(stderr, "{}", v.mismatch);
      return false;
    }
    r.cycles += v.cycles;
    r.ideal += v.ideal_cycles;
  }
  return true;
}

json report_json(const Options& o, uint32_t first, uint32_t last, const std::vector<SeedResult>& rs) {
  json per = json::array();
  uint64_t cycles = 0, passed = 0;
  double ideal = 0;
  for (const auto& r : rs) {
    per.push_back({{"seed", r.seed}, {"jobs", r.jobs}, {"rtl_cycles", r.cycles}, {"ideal_cycles", r.ideal}});
    cycles += r.cycles, ideal += r.ideal, passed += uint64_t(r.jobs);
  }
  return {{"seeds", {first, last}}, {"jobs_per_seed", o.jobs}, {"max_k", o.max_k}, {"passed", passed}, {"failed", 0},
          {"rtl_cycles", cycles}, {"ideal_cycles", ideal}, {"per_seed", per}};
}

void print_summary(const json& j) {
  const double ideal = j["ideal_cycles"].get<double>();
  const uint64_t cycles = j["rtl_cycles"].get<uint64_t>();
  fmt::print("{} passed, 0 failed: {} RTL cycles, {:.1f}% of the ideal M*N*K/(R*C)\n", j["passed"].get<uint64_t>(), cycles,
             cycles ? 100.0 * ideal / double(cycles) : 0.0);
}

std::vector<std::string> study_of(const Options& o, uint32_t first, uint32_t last) {
  return {"--seeds", fmt::format("{}:{}", first, last), "--jobs", std::to_string(o.jobs), "--max-k", std::to_string(o.max_k)};
}

void plan(const Options& o, uint32_t first, uint32_t last, int argc, char** argv) {
  const uint64_t n = uint64_t(last) - first + 1;
  const uint64_t tasks = std::min<uint64_t>(n, o.tasks > 0 ? uint64_t(o.tasks) : (n + 9) / 10);  // default: 10 seeds a task
  batch::Plan p;
  p.command = "rtl_regress";
  p.study = study_of(o, first, last);
  p.programs["logq_rtl_regress"] = batch::this_executable();
  p.programs["logq"] = LOGQ_CLI_BINARY;
  p.cluster = batch::load_cluster_config(o.cluster);
  for (uint64_t i = 0; i < tasks; ++i) {
    const uint32_t a = uint32_t(first + n * i / tasks), b = uint32_t(first + n * (i + 1) / tasks - 1);
    batch::Task t;
    t.id = fmt::format("{:04d}", i);
    t.label = fmt::format("seeds {}..{}", a, b);
    t.result = t.id + ".json";
    t.argv = {"logq_rtl_regress", "--seeds", fmt::format("{}:{}", a, b), "--jobs", std::to_string(o.jobs), "--max-k", std::to_string(o.max_k),
              "--json", "{dir}/results/" + t.result};
    p.tasks.push_back(t);
  }
  const std::string dir = batch::absolute(o.plan);
  batch::write_plan(dir, p);
  fmt::print("{}", batch::plan_summary(dir, p, batch::merge_command_line(std::vector<std::string>(argv, argv + argc), dir) + " [--json FILE]"));
}

// The tasks' per-seed results in seed order: the report one run over all seeds writes.
std::vector<SeedResult> merged_results(const Options& o, uint32_t first, uint32_t last) {
  const std::string dir = batch::absolute(o.merge);
  const batch::Plan p = batch::complete_plan(dir, "rtl_regress", study_of(o, first, last));
  std::vector<SeedResult> rs;
  uint64_t next = first;
  for (const batch::Task& t : p.tasks) {
    const std::string path = batch::result_path(dir, t);
    const json j = read_json_file(path, "regression task result");
    try {
      for (const json& s : j.at("per_seed")) {
        SeedResult r{s.at("seed").get<uint32_t>(), s.at("jobs").get<int>(), s.at("rtl_cycles").get<uint64_t>(), s.at("ideal_cycles").get<double>()};
        if (r.seed != next || r.jobs != o.jobs) throw Error(fmt::format("{}: seed {} where the plan has seed {} with {} jobs", path, r.seed, next, o.jobs));
        rs.push_back(r);
        ++next;
      }
    } catch (const json::exception&) {
      throw Error(fmt::format("{}: not a logq_rtl_regress --json report", path));
    }
  }
  if (next != uint64_t(last) + 1) throw Error(fmt::format("{}: the tasks cover seeds {}..{}, not ..{}", dir, first, next - 1, last));
  return rs;
}

int run(const Options& o, int argc, char** argv) {
  const auto [first, last] = o.seeds.empty() ? std::pair{o.seed, o.seed} : parse_seeds(o.seeds);
  if (!o.plan.empty() && !o.merge.empty()) throw Error("--plan and --merge exclude each other");
  if (!o.plan.empty()) return plan(o, first, last, argc, argv), 0;
  std::vector<SeedResult> rs;
  if (!o.merge.empty()) {
    rs = merged_results(o, first, last);
  } else {
    auto rtl = make_rtl_array_universal_4x4();
    for (uint64_t s = first; s <= last; ++s) {
      rs.emplace_back();
      if (!run_seed(*rtl, o, uint32_t(s), rs.back())) return 1;
    }
  }
  const json j = report_json(o, first, last, rs);
  print_summary(j);
  if (!o.json_out.empty()) {
    const std::string text = j.dump(1) + "\n";
    write_file_atomic(o.json_out, text.data(), text.size());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Random GEMM regressions of the Verilated 4x4 universal PE array against the golden model.\n"
               "Exits 1 at the first mismatch, after printing the element, tile, values and operands."};
  Options o;
  app.add_option("--seed", o.seed, "random seed");
  app.add_option("--seeds", o.seeds, "a seed range FIRST:LAST (inclusive), --jobs jobs each")->excludes("--seed");
  app.add_option("--jobs", o.jobs, "number of random GEMM jobs (per seed)")->check(CLI::Range(1, 1000000));
  app.add_option("--max-k", o.max_k, "largest K (1..65535)");
  app.add_option("--waveform,--trace", o.waveform, "write a VCD of the cycles around the first mismatch to this file");
  app.add_option("--inject-error", o.inject, "self-test: flip bit 0 of this output element of the first job's golden result");
  app.add_option("--json", o.json_out, "write the report (totals and per seed) as JSON to FILE");
  app.add_option("--plan", o.plan, "split the seeds into tasks in DIR (plan.json, job.sbatch) instead of running them; run with\n"
                                   "`logq tasks submit|run DIR`, then the same command with --merge DIR")->type_name("DIR");
  app.add_option("--tasks", o.tasks, "--plan: number of tasks (default: one per 10 seeds)")->check(CLI::PositiveNumber);
  app.add_option("--cluster", o.cluster, "--plan: Slurm settings per task (JSON; docs/cluster.md)")->type_name("FILE");
  app.add_option("--merge", o.merge, "the report of the finished tasks of the plan in DIR (as one run over all seeds)")->type_name("DIR");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o, argc, argv);
  } catch (const Error& e) {
    fmt::print(stderr, "logq_rtl_regress: error: {}\n", e.what());
    return 2;
  }
}
