// golden/ kernels against straightforward loops written here, on random data and on worst cases.
#include <cmath>
#include <random>

#include "golden/gemm.h"
#include "golden/hw.h"
#include "test_util.h"

using namespace logq;

namespace {

struct Operands {
  std::vector<int32_t> x, w_u;
  std::vector<LogWeightInt> w_l;
  std::vector<LogWeight> w_log;  // the same LogART weights as codes, for the independent value
  int32_t row_floor = -6;
};

// Random operands of a pairing: U d-values for b bits with zero point, A codes incl. the zero
// state, LogART exponents over a 16-half-octave span incl. zeros.
Operands random_operands(Pairing pr, int64_t M, int64_t N, int64_t K, const AdaLogTable& a, std::mt19937& rng) {
  Operands o;
  const bool log_a = pr == Pairing::UxA || pr == Pairing::LxA, log_w = pr == Pairing::LxU || pr == Pairing::LxA;
  for (int64_t i = 0; i < M * K; ++i)
    o.x.push_back(log_a ? static_cast<int32_t>(rng() % (a.zero_code + 1)) : static_cast<int32_t>(rng() % 256) - 128);
  for (int64_t i = 0; i < N * K; ++i) {
    if (!log_w) {
      o.w_u.push_back(static_cast<int32_t>(rng() % 16) - 8);
      continue;
    }
    LogWeight w;
    const int r = static_cast<int>(rng() % 17);
    w.sign = r == 0 ? 0 : (rng() & 1 ? 1 : -1);
    w.E = 2 * o.row_floor + r;  // E ≥ 2·F_r, so k ≥ 0
    o.w_log.push_back(w);
    o.w_l.push_back(logart_int(w, o.row_floor));
  }
  return o;
}

// Independent real-valued term: the operands' exact values (s_w = 2^(1−F_r) for L, s_a = D for A)
// scaled by 2^F — identical to the integer term in exact mode.
double real_term(Pairing pr, const Operands& o, int64_t xi, int64_t wi, const AdaLogTable& a, int F) {
  const bool log_a = pr == Pairing::UxA || pr == Pairing::LxA, log_w = pr == Pairing::LxU || pr == Pairing::LxA;
  const double xv = log_a ? adalog_value(o.x[xi], a.D, a) : o.x[xi];
  const double wv = log_w ? logart_value(o.w_log[wi], std::ldexp(1.0, 1 - o.row_floor), true) : o.w_u[wi];
  return std::ldexp(xv * wv, log_a ? F : 0);
}

// W-bit two's-complement wrap modelled by adding/subtracting 2^W (independent of golden's).
__int128 wrap_model(__int128 v, int W, bool* wrapped) {
  const __int128 span = static_cast<__int128>(1) << W, hi = span / 2 - 1, lo = -span / 2;
  while (v > hi) { v -= span; *wrapped = true; }
  while (v < lo) { v += span; *wrapped = true; }
  return v;
}

const Pairing kPairings[] = {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA};

}  // namespace

TEST_CASE("fast GEMM equals the reference and an independent exact loop, every pairing, odd shapes", "[gemm]") {
  std::mt19937 rng(2024);
  const AdaLogTable a = make_adalog_table(4, 23);
  for (Pairing pr : kPairings)
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {13, 6, 200}}) {
      const Operands o = random_operands(pr, M, N, K, a, rng);
      HwConfig hw;
      hw.frac_bits = a.E.back();  // exact mode for AdaLog activations
      hw.acc_bits = 64;
      const GemmProblem p{pr, M, N, K, o.x.data(), o.w_u.empty() ? nullptr : o.w_u.data(), o.w_l.empty() ? nullptr : o.w_l.data(), &a};
      const GemmResult fast = gemm(p, hw), ref = gemm_reference(p, hw);
      INFO("pairing " << int(pr) << " M=" << M << " N=" << N << " K=" << K);
      CHECK(fast.acc == ref.acc);
      CHECK(fast.stats.terms == ref.stats.terms);
      CHECK(fast.stats.zero_terms == ref.stats.zero_terms);
      CHECK(fast.stats.shift_hist == ref.stats.shift_hist);
      CHECK(fast.stats.max_abs_acc == ref.stats.max_abs_acc);
      CHECK(fast.stats.overflows == 0);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double sum = 0;  // exact: all terms are integers below 2^53
          for (int64_t k = 0; k < K; ++k) sum += real_term(pr, o, m * K + k, n * K + k, a, hw.frac_bits);
          CHECK(fast.acc[m * N + n] == static_cast<int64_t>(sum));
        }
    }
}

TEST_CASE("the portable int16 kernel and the AVX2 kernel give identical results", "[gemm]") {
  std::mt19937 rng(99);
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1}, {5, 17, 33}, {9, 40, 200}}) {
    std::vector<int32_t> x(M * K), w(N * K);
    for (auto& e : x) e = static_cast<int32_t>(rng() % 511) - 255;
    for (auto& e : w) e = static_cast<int32_t>(rng() % 31) - 15;
    const GemmProblem p{Pairing::UxU, M, N, K, x.data(), w.data(), nullptr, nullptr};
    const HwConfig hw;
    const GemmResult simd = gemm(p, hw);
    const bool was = set_gemm_simd(false);
    const GemmResult plain = gemm(p, hw);
    set_gemm_simd(was);
    CHECK(simd.acc == plain.acc);
    CHECK(simd.acc == gemm_reference(p, hw).acc);
  }
}

TEST_CASE("right-shifted AdaLog terms (small F) follow the rounding rule through the GEMM", "[gemm]") {
  std::mt19937 rng(5);
  const AdaLogTable a = make_adalog_table(4, 61);
  for (ShiftRounding rnd : {ShiftRounding::Floor, ShiftRounding::HalfUp}) {
    const Operands o = random_operands(Pairing::UxA, 6, 5, 40, a, rng);
    HwConfig hw;
    hw.frac_bits = 4;  // codes with E > 4 are shifted right
    hw.rounding = rnd;
    const GemmProblem p{Pairing::UxA, 6, 5, 40, o.x.data(), o.w_u.data(), nullptr, &a};
    const GemmResult r = gemm(p, hw);
    CHECK_FALSE(required_width(p, hw).exact);
    for (int64_t m = 0; m < 6; ++m)
      for (int64_t n = 0; n < 5; ++n) {
        int64_t sum = 0;
        for (int64_t k = 0; k < 40; ++k) {
          const double t = real_term(Pairing::UxA, o, m * 40 + k, n * 40 + k, a, hw.frac_bits);
          sum += static_cast<int64_t>(rnd == ShiftRounding::Floor ? std::floor(t) : std::floor(t + 0.5));
        }
        CHECK(r.acc[m * 5 + n] == sum);
      }
  }
}

TEST_CASE("worst-case magnitudes fit the computed width, a narrower accumulator counts every wrap", "[gemm]") {
  const AdaLogTable a = make_adalog_table(6, 10);
  for (Pairing pr : kPairings) {
    const int64_t M = 3, N = 4, K = 1024;
    Operands o;
    o.x.assign(M * K, (pr == Pairing::UxA || pr == Pairing::LxA) ? 0 : -255);  // AdaLog code 0: M = D, E = 0
    if (pr == Pairing::UxU || pr == Pairing::UxA) o.w_u.assign(N * K, -255);
    else {
      const LogWeight w{-1, 2 * o.row_floor + 15, false};  // largest exponent of the row, odd mantissa
      o.w_log.assign(N * K, w);
      o.w_l.assign(N * K, logart_int(w, o.row_floor));
    }
    HwConfig hw;
    hw.frac_bits = a.E.back();
    const GemmProblem p{pr, M, N, K, o.x.data(), o.w_u.empty() ? nullptr : o.w_u.data(), o.w_l.empty() ? nullptr : o.w_l.data(), &a};
    const WidthBound wb = required_width(p, hw);
    INFO("pairing " << int(pr) << " width " << wb.acc_bits);
    REQUIRE(wb.exact);
    REQUIRE(wb.acc_bits <= 64);
    hw.acc_bits = wb.acc_bits;
    const GemmResult ok = gemm(p, hw);
    CHECK(ok.stats.overflows == 0);
    const double per_term = real_term(pr, o, 0, 0, a, hw.frac_bits);
    CHECK(ok.acc[0] == static_cast<int64_t>(per_term) * K);
    CHECK(std::abs(ok.acc[0]) >= (int64_t{1} << (wb.acc_bits - 3)));  // the bound is tight to within 2 bits

    HwConfig narrow = hw;
    narrow.acc_bits = wb.acc_bits - 4;
    const GemmResult wrapped = gemm(p, narrow);
    // Independent model: place each term at W bits, add, wrap, count.
    bool any = false;
    __int128 v = 0;
    int64_t count = 0;
    for (int64_t k = 0; k < K; ++k) {
      bool w1 = false, w2 = false;
      const __int128 t = wrap_model(static_cast<__int128>(per_term), narrow.acc_bits, &w1);
      v = wrap_model(v + t, narrow.acc_bits, &w2);
      count += (w1 || w2);
      any = any || w1 || w2;
    }
    CHECK(any);
    CHECK(wrapped.stats.overflows == count * M * N);
    CHECK(wrapped.acc[0] == static_cast<int64_t>(v));

    // K-splitting: chunks of 100 columns (the last 24) summed as the output buffer does (wrapping)
    // equal the unsplit GEMM, with and without wraps.
    for (const HwConfig& h : {hw, narrow}) {
      std::vector<int64_t> sum;
      for (int64_t c = 0; c < k_chunk_count(K, 100); ++c) {
        const OwnedGemm chunk = gemm_k_chunk(p, c * 100, k_chunk_len(K, 100, c));
        REQUIRE(chunk.K == (c < 10 ? 100 : 24));
        const std::vector<int64_t> part = gemm(chunk.problem(), h).acc;
        if (c == 0) sum = part;
        else add_partial_sums(sum, part, h.acc_bits);
      }
      CHECK(sum == gemm(p, h).acc);
    }
  }
}

TEST_CASE("narrow accumulators: the fast path's wraps and overflow counts equal the term-by-term reference", "[gemm]") {
  // Random operands (most outputs far below the worst case) at widths from the no-overflow bound
  // down to a few bits: outputs whose partial sums are bounded inside the range block by block keep
  // the kernel's sum, the rest wrap term by term; every value, count and statistic must equal
  // gemm_reference's, including terms that do not fit the accumulator on their own. K = 300 spans
  // several bound blocks and a partial one; some widths leave outputs of both kinds.
  std::mt19937 rng(77);
  const AdaLogTable a = make_adalog_table(4, 23);
  for (Pairing pr : kPairings)
    for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{5, 7, 64}, {9, 16, 300}, {2, 3, 1}}) {
      const Operands o = random_operands(pr, M, N, K, a, rng);
      HwConfig hw;
      hw.frac_bits = a.E.back();
      const GemmProblem p{pr, M, N, K, o.x.data(), o.w_u.empty() ? nullptr : o.w_u.data(), o.w_l.empty() ? nullptr : o.w_l.data(), &a};
      const int need = required_width(p, hw).acc_bits;
      REQUIRE(need <= 63);
      int64_t total_overflows = 0;
      for (int W = need; W >= 3; W -= (W > need - 6 ? 1 : 3)) {
        hw.acc_bits = W;
        const GemmResult fast = gemm(p, hw), ref = gemm_reference(p, hw);
        INFO("pairing " << int(pr) << " M=" << M << " N=" << N << " K=" << K << " W=" << W);
        CHECK(fast.acc == ref.acc);
        CHECK(fast.stats.overflows == ref.stats.overflows);
        CHECK(fast.stats.max_abs_acc == ref.stats.max_abs_acc);
        CHECK(fast.stats.terms == ref.stats.terms);
        CHECK(fast.stats.zero_terms == ref.stats.zero_terms);
        CHECK(fast.stats.shift_hist == ref.stats.shift_hist);
        total_overflows += ref.stats.overflows;
      }
      if (K > 1) CHECK(total_overflows > 0);  // the narrow widths did wrap
    }
}

TEST_CASE("conv2d (stride, padding, dilation, groups, depthwise) equals a direct convolution", "[gemm][conv]") {
  std::mt19937 rng(11);
  const AdaLogTable a = make_adalog_table(4, 37);
  struct Case { Conv2dShape s; Pairing pr; };
  const Case cases[] = {
      {{3, 9, 9, 4, 3, 3, 1, 1, 1, 1}, Pairing::UxU},
      {{4, 8, 7, 6, 3, 3, 2, 1, 1, 2}, Pairing::LxU},
      {{5, 6, 6, 5, 3, 3, 1, 2, 2, 5}, Pairing::UxU},   // depthwise, dilated
      {{2, 5, 5, 3, 1, 1, 1, 0, 1, 1}, Pairing::UxA},
      {{4, 7, 7, 4, 3, 3, 2, 1, 1, 4}, Pairing::LxA},   // depthwise, stride 2
  };
  for (const auto& [s, pr] : cases) {
    const int64_t K = (s.C / s.groups) * s.kh * s.kw;
    const Operands o = random_operands(pr, s.C * s.H * s.W / K + 1, s.O, K, a, rng);  // x drawn below
    std::vector<int32_t> x(s.C * s.H * s.W);
    const bool log_a = pr == Pairing::UxA || pr == Pairing::LxA;
    for (auto& v : x) v = log_a ? static_cast<int32_t>(rng() % (a.zero_code + 1)) : static_cast<int32_t>(rng() % 256) - 128;
    HwConfig hw;
    hw.frac_bits = a.E.back();
    hw.acc_bits = 64;
    const GemmResult r = conv2d(s, pr, x.data(), o.w_u.empty() ? nullptr : o.w_u.data(), o.w_l.empty() ? nullptr : o.w_l.data(), &a, hw);
    const GemmResult ref = conv2d(s, pr, x.data(), o.w_u.empty() ? nullptr : o.w_u.data(), o.w_l.empty() ? nullptr : o.w_l.data(), &a, hw, true);
    CHECK(r.acc == ref.acc);
    CHECK(r.stats.zero_terms == ref.stats.zero_terms);
    Operands xo = o;  // real_term reads x from the operand struct
    const int64_t cg = s.C / s.groups, og = s.O / s.groups;
    for (int64_t oc = 0; oc < s.O; ++oc)
      for (int64_t oy = 0; oy < s.OH(); ++oy)
        for (int64_t ox = 0; ox < s.OW(); ++ox) {
          double sum = 0;
          const int64_t g = oc / og;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t ky = 0; ky < s.kh; ++ky)
              for (int64_t kx = 0; kx < s.kw; ++kx) {
                const int64_t iy = oy * s.stride - s.pad + ky * s.dilation, ix = ox * s.stride - s.pad + kx * s.dilation;
                if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;  // zero padding contributes nothing
                xo.x = {x[((g * cg + c) * s.H + iy) * s.W + ix]};
                sum += real_term(pr, xo, 0, oc * K + (c * s.kh + ky) * s.kw + kx, a, hw.frac_bits);
              }
          INFO("conv pairing " << int(pr) << " oc=" << oc << " oy=" << oy << " ox=" << ox);
          CHECK(r.acc[(oc * s.OH() + oy) * s.OW() + ox] == static_cast<int64_t>(sum));
        }
  }
}

TEST_CASE("attention q·kᵀ per head (U×U) and softmax·V per head (A×U) equal direct loops", "[gemm][attention]") {
  std::mt19937 rng(3);
  const int64_t H = 3, Nt = 11, d = 8;
  const AdaLogTable a = make_adalog_table(4, 100);
  std::vector<int32_t> q(H * Nt * d), k(H * Nt * d), v(H * Nt * d), probs(H * Nt * Nt);
  for (auto* t : {&q, &k, &v})
    for (auto& e : *t) e = static_cast<int32_t>(rng() % 31) - 15;
  for (auto& e : probs) e = static_cast<int32_t>(rng() % (a.zero_code + 1));
  HwConfig hw;
  hw.frac_bits = a.E.back();
  hw.acc_bits = 64;
  const GemmResult qk = attention_qk(H, Nt, d, q.data(), k.data(), hw);
  const GemmResult pv = attention_pv(H, Nt, d, probs.data(), v.data(), a, hw);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < Nt; ++i) {
      for (int64_t j = 0; j < Nt; ++j) {
        int64_t s = 0;
        for (int64_t t = 0; t < d; ++t) s += int64_t{q[(h * Nt + i) * d + t]} * k[(h * Nt + j) * d + t];
        CHECK(qk.acc[(h * Nt + i) * Nt + j] == s);
      }
      for (int64_t j = 0; j < d; ++j) {
        double s = 0;
        for (int64_t t = 0; t < Nt; ++t)
          s += std::ldexp(adalog_value(probs[(h * Nt + i) * Nt + t], a.D, a) * v[(h * Nt + t) * d + j], hw.frac_bits);
        CHECK(pv.acc[(h * Nt + i) * d + j] == static_cast<int64_t>(s));
      }
    }
  CHECK(pv.stats.zero_terms > 0);  // the AdaLog zero state appears and is skipped
  CHECK(pv.stats.overflows == 0);
  CHECK(qk.stats.overflows == 0);
}
