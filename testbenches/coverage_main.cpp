// Runs random regressions on the coverage-instrumented 4x4 array and writes Verilator coverage
// data (summarize with verilator_coverage; scripts/bench_rtl.sh does).
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;

int main(int argc, char** argv) {
  CLI::App app{"Coverage run: random GEMM regressions on the coverage model, bit-exact checked."};
  std::string out = "coverage.dat";
  int jobs = 200;
  app.add_option("-o", out, "coverage data file");
  app.add_option("--jobs", jobs, "random jobs");
  CLI11_PARSE(app, argc, argv);
  auto rtl = make_rtl_array_coverage_4x4();
  std::mt19937 rng(2026);
  int failed = 0;
  for (int i = 0; i < jobs; ++i) {
    const RandomJob j = random_job(rng, 300);
    failed += !verify_gemm(*rtl, j.problem(), j.hw, {fmt::format("coverage job {}", i)}).pass;
  }
  rtl->write_coverage(out);
  fmt::print("{} passed, {} failed; coverage in {}\n", jobs - failed, failed, out);
  return failed ? 1 : 0;
}
