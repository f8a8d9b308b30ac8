// Verilator throughput of the arrays, one thread: `build/testbenches/logq_bench_rtl`.
// Runs the DeiT-Tiny qkv GEMM (197 tokens x 192 -> 576) on each model and reports simulated
// cycles per wall-clock second, the cycle count, the ideal M*N*K/(R*C) and the utilization.
#include <random>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "testbenches/random_jobs.h"
#include "testbenches/rtl_array.h"

using namespace logq;

int main(int argc, char** argv) {
  CLI::App app{"Verilator cycles/s of the 8x8 and 16x16 arrays on a 197x192x576 GEMM (one thread)."};
  int64_t M = 197, K = 192, N = 576;
  app.add_option("-M", M, "rows (tokens)");
  app.add_option("-K", K, "reduction length");
  app.add_option("-N", N, "output features");
  CLI11_PARSE(app, argc, argv);
  fmt::print("{:<6} {:>6} {:>12} {:>12} {:>7} {:>10} {:>12}\n", "PE", "array", "cycles", "ideal", "util", "sim s", "cycles/s");
  for (const char* kind : {"int8", "lu"})
    for (int size : {8, 16}) {
      auto rtl = make_rtl_array_bench(kind, size);
      std::mt19937 rng(7);
      const RandomJob j = random_job(rng, std::string(kind) == "lu" ? Pairing::LxU : Pairing::UxU, M, N, K, false);
      HwConfig hw = j.hw;
      hw.acc_bits = rtl->config().acc_bits;
      const RtlRunResult r = rtl->run(j.problem(), hw);
      const GemmResult g = gemm(j.problem(), hw);
      const double ideal = static_cast<double>(M) * N * K / (size * size);
      fmt::print("{:<6} {:>3}x{:<2} {:>12} {:>12.0f} {:>6.1f}% {:>10.3f} {:>12.3g}  {}\n", kind, size, size, r.cycles, ideal,
                 100.0 * ideal / r.cycles, r.seconds, r.cycles / r.seconds, r.acc == g.acc ? "bit-exact" : "MISMATCH");
    }
  return 0;
}
