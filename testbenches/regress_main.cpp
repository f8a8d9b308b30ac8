// logq_rtl_regress: random GEMM jobs on the Verilated array, compared bit for bit with golden/.
// On the first mismatch it prints the report, writes a VCD window (--waveform) and exits 1.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "io/error.h"
#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;


int main(int argc, char** argv) {
  CLI::App app{"Random GEMM regressions of the Verilated 4x4 universal PE array against the golden model.\n"
               "Exits 1 at the first mismatch, after printing the element, tile, values and operands."};
  uint32_t seed = 1;
  int jobs = 50;
  int64_t max_k = 600;
  std::string waveform;
  int64_t inject = -1;
  app.add_option("--seed", seed, "random seed");
  app.add_option("--jobs", jobs, "number of random GEMM jobs");
  app.add_option("--max-k", max_k, "largest K (1..65535)");
  app.add_option("--waveform,--trace", waveform, "write a VCD of the cycles around the first mismatch to this file");
  app.add_option("--inject-error", inject, "self-test: flip bit 0 of this output element of the first job's golden result");
  CLI11_PARSE(app, argc, argv);
  try {
    auto rtl = make_rtl_array_universal_4x4();
    std::mt19937 rng(seed);
    uint64_t cycles = 0;
    double ideal = 0;
    for (int i = 0; i < jobs; ++i) {
      const RandomJob j = random_job(rng, max_k);
      const GemmProblem p = j.problem();
      VerifyOptions opt;
      opt.label = fmt::format("job {} (seed {})", i, seed);
      opt.waveform_path = waveform;
      if (i == 0 && inject >= 0) opt.flip_expected_bit = std::min(inject, j.M * j.N - 1);
      const VerifyReport r = verify_gemm(*rtl, p, j.hw, opt);
      if (!r.pass) {
        fmt::print(stderr, "{}", r.mismatch);
        return 1;
      }
      cycles += r.cycles;
      ideal += r.ideal_cycles;
    }
    fmt::print("{} passed, 0 failed: {} RTL cycles, {:.1f}% of the ideal M*N*K/(R*C)\n", jobs, cycles, 100.0 * ideal / cycles);
  } catch (const Error& e) {
    fmt::print(stderr, "logq_rtl_regress: error: {}\n", e.what());
    return 2;
  }
  return 0;
}
