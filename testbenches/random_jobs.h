// Random GEMM jobs for RTL regressions: every pairing, any shape, ordinary or extreme operands
// (ends of each range: |d| = 255, AdaLog code 0 or the top code, LogART k at its largest).
#pragma once
#include <random>
#include <vector>

#include "golden/gemm.h"

namespace logq {

struct RandomJob {
  Pairing pairing = Pairing::UxU;
  int64_t M = 0, N = 0, K = 0;
  std::vector<int32_t> x, w_u;
  std::vector<LogWeightInt> w_l;
  AdaLogTable table;
  HwConfig hw;  // acc_bits 48, random F (AdaLog pairings) and rounding
  GemmProblem problem() const {
    return {pairing, M, N, K, x.data(), w_u.empty() ? nullptr : w_u.data(), w_l.empty() ? nullptr : w_l.data(), &table};
  }
};

RandomJob random_job(std::mt19937& rng, Pairing pairing, int64_t M, int64_t N, int64_t K, bool extreme);
// Random pairing, M and N in 1..19, K in 1..max_k, extreme one time in four.
RandomJob random_job(std::mt19937& rng, int64_t max_k);

}  // namespace logq
