#include "testbenches/random_jobs.h"

#include "testbenches/rtl_array.h"

namespace logq {

RandomJob random_job(std::mt19937& rng, Pairing pairing, int64_t M, int64_t N, int64_t K, bool extreme) {
  RandomJob j;
  j.pairing = pairing;
  j.M = M;
  j.N = N;
  j.K = K;
  j.table = make_adalog_table(2 + static_cast<int>(rng() % 5), 10 + static_cast<int>(rng() % 128));
  const bool log_a = pairing == Pairing::UxA || pairing == Pairing::LxA;
  const bool log_w = pairing == Pairing::LxU || pairing == Pairing::LxA;
  for (int64_t i = 0; i < M * K; ++i) {
    if (log_a) j.x.push_back(extreme ? (rng() & 1 ? 0 : j.table.zero_code - 1) : static_cast<int32_t>(rng() % (j.table.zero_code + 1)));
    else j.x.push_back(extreme ? (rng() & 1 ? 255 : -255) : static_cast<int32_t>(rng() % 511) - 255);
  }
  const int32_t k_max = (1 << RtlParams{}.kw) - 1;  // the regression array's KW
  for (int64_t i = 0; i < N * K; ++i) {
    if (!log_w) {
      j.w_u.push_back(extreme ? (rng() & 1 ? 255 : -255) : static_cast<int32_t>(rng() % 511) - 255);
      continue;
    }
    LogWeightInt w;
    const uint32_t r = rng() % (2 * (k_max + 1) + 1);
    w.sign = r == 0 ? 0 : (rng() & 1 ? 1 : -1);
    w.odd = static_cast<uint8_t>(extreme ? 1 : r & 1);
    w.k = extreme ? k_max : static_cast<int32_t>(r / 2 % (k_max + 1));
    j.w_l.push_back(w);
  }
  j.hw.acc_bits = 48;
  j.hw.frac_bits = log_a ? static_cast<int>(rng() % 40) : 0;
  j.hw.rounding = rng() & 1 ? ShiftRounding::HalfUp : ShiftRounding::Floor;
  return j;
}

RandomJob random_job(std::mt19937& rng, int64_t max_k) {
  const auto pairing = static_cast<Pairing>(rng() % 4);
  const int64_t M = 1 + rng() % 19, N = 1 + rng() % 19, K = 1 + static_cast<int64_t>(rng() % max_k);
  const bool extreme = rng() % 4 == 0;
  return random_job(rng, pairing, M, N, K, extreme);
}

}  // namespace logq
