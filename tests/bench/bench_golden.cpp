// golden/ kernel throughput, one thread: `build/tests/logq_bench_golden`.
// Ops are counted as 2·M·N·K (one multiply and one add per term).
#include <random>

#include <benchmark/benchmark.h>

#include "golden/gemm.h"

using namespace logq;

namespace {

std::vector<int32_t> uniform_d(int64_t n, int bits, std::mt19937& rng) {
  std::vector<int32_t> v(n);
  for (auto& e : v) e = static_cast<int32_t>(rng() % (1u << bits)) - (1 << (bits - 1));  // d = c − z
  return v;
}

void set_ops(benchmark::State& st, int64_t M, int64_t N, int64_t K) {
  st.counters["GOP/s"] = benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// U(4) × U(4) linear layer: Y[M, N] = X[M, K]·W[N, K]ᵀ.
void BM_gemm_UxU_4bit(benchmark::State& st) {
  const int64_t M = st.range(0), K = st.range(1), N = st.range(2);
  std::mt19937 rng(1);
  const auto x = uniform_d(M * K, 4, rng), w = uniform_d(N * K, 4, rng);
  const GemmProblem p{Pairing::UxU, M, N, K, x.data(), w.data(), nullptr, nullptr};
  HwConfig hw;
  hw.acc_bits = required_width(p, hw).acc_bits;
  for (auto _ : st) benchmark::DoNotOptimize(gemm(p, hw).acc.data());
  set_ops(st, M, N, K);
}
BENCHMARK(BM_gemm_UxU_4bit)->Args({197, 192, 576})->Args({3136, 576, 64})->Unit(benchmark::kMillisecond);

// The same through the term-by-term reference, for the speed ratio.
void BM_gemm_UxU_4bit_reference(benchmark::State& st) {
  const int64_t M = st.range(0), K = st.range(1), N = st.range(2);
  std::mt19937 rng(1);
  const auto x = uniform_d(M * K, 4, rng), w = uniform_d(N * K, 4, rng);
  const GemmProblem p{Pairing::UxU, M, N, K, x.data(), w.data(), nullptr, nullptr};
  HwConfig hw;
  for (auto _ : st) benchmark::DoNotOptimize(gemm_reference(p, hw).acc.data());
  set_ops(st, M, N, K);
}
BENCHMARK(BM_gemm_UxU_4bit_reference)->Args({197, 192, 576})->Unit(benchmark::kMillisecond);

// L(4) × U(8) 3×3 conv of each ResNet-20 stage (CIFAR, 32×32 input): C = O = 16/32/64.
void BM_conv_LxU_resnet20(benchmark::State& st) {
  const int64_t C = st.range(0), HW = st.range(1);
  std::mt19937 rng(2);
  const auto x = uniform_d(C * HW * HW, 8, rng);
  std::vector<LogWeightInt> w(C * C * 9);
  for (auto& e : w) {
    const uint32_t r = rng() % 17;
    e.sign = r == 0 ? 0 : (rng() & 1 ? 1 : -1);
    e.odd = r & 1;
    e.k = static_cast<int32_t>(r / 2);
  }
  const Conv2dShape s{C, HW, HW, C, 3, 3, 1, 1, 1, 1};
  HwConfig hw;
  hw.acc_bits = 40;
  for (auto _ : st) benchmark::DoNotOptimize(conv2d(s, Pairing::LxU, x.data(), nullptr, w.data(), nullptr, hw).acc.data());
  set_ops(st, s.OH() * s.OW(), C, C * 9);
}
BENCHMARK(BM_conv_LxU_resnet20)->Args({16, 32})->Args({32, 16})->Args({64, 8})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
