// MAC semantics against independent exact arithmetic: operand real values (dyadic, so exact in
// double), multiplied, scaled by 2^F and rounded with std::floor — never the shifts under test.
#include <cmath>
#include <random>

#include "golden/mac.h"
#include "test_util.h"

using namespace logq;

namespace {

const ShiftRounding kRoundings[] = {ShiftRounding::Floor, ShiftRounding::HalfUp};

double round_real(double x, ShiftRounding r) { return r == ShiftRounding::Floor ? std::floor(x) : std::floor(x + 0.5); }

int64_t place(const MacTerm& t, const HwConfig& hw) {
  bool wrapped = false;
  const int64_t v = shifted_term(t, hw, &wrapped);
  REQUIRE_FALSE(wrapped);
  return v;
}

// Checks a term against its independently computed value: equal when it fits the 64-bit
// accumulator, reported as wrapped when it does not.
void check_term(const MacTerm& t, const HwConfig& hw, double expected) {
  bool wrapped = false;
  const int64_t v = shifted_term(t, hw, &wrapped);
  const bool fits = expected >= -std::ldexp(1.0, 63) && expected < std::ldexp(1.0, 63);  // −2^63 fits
  CHECK(wrapped == !fits);
  if (fits) CHECK(v == static_cast<int64_t>(expected));
}

// LogART weights of one row: every exponent in [e_min, e_min + span], both signs, plus zero.
std::vector<LogWeight> log_row(int32_t e_min, int span) {
  std::vector<LogWeight> row = {LogWeight{0, 0, true}};
  for (int32_t E = e_min; E <= e_min + span; ++E)
    for (int8_t s : {int8_t{1}, int8_t{-1}}) row.push_back(LogWeight{s, E, (E & 1) == 0});
  return row;
}

}  // namespace

TEST_CASE("U x U terms are the exact products of every code pair (b <= 6)", "[mac]") {
  for (int bw = 2; bw <= 6; ++bw)
    for (int ba = 2; ba <= 6; ++ba)
      for (int zw : {0, 1 << (bw - 1), (1 << bw) - 1})
        for (int za : {0, 3, (1 << ba) - 1})
          for (int cw = 0; cw < (1 << bw); ++cw)
            for (int ca = 0; ca < (1 << ba); ++ca) {
              const MacTerm t = mac_uu(cw - zw, ca - za);
              CHECK(t.shift == 0);
              CHECK(t.product == static_cast<int64_t>((cw - zw) * static_cast<double>(ca - za)));
            }
}

TEST_CASE("U x A terms equal d_w * M * 2^(F-E) after the documented rounding, every code pair", "[mac]") {
  for (int b = 2; b <= 6; ++b)
    for (int q : {10, 23, 37, 61, 137}) {
      const AdaLogTable a = make_adalog_table(b, q);
      const int e_max = a.E.back();
      for (int F : {0, 3, 8, e_max})
        for (ShiftRounding rnd : kRoundings) {
          HwConfig hw;
          hw.frac_bits = F;
          hw.rounding = rnd;
          hw.acc_bits = 64;
          for (int dw = -(1 << 6); dw < (1 << 6); ++dw)
            for (int c = 0; c <= a.zero_code; ++c) {
              const MacTerm t = mac_ua(dw, c, a, F);
              // Real product with s_w = 1 and s_a = D: d_w · M·2^(−E) (adalog_value is exact here).
              const double real = dw * adalog_value(c, a.D, a);
              if (c == a.zero_code) {
                CHECK(t.zero);
                continue;
              }
              INFO("b=" << b << " q=" << q << " F=" << F << " dw=" << dw << " c=" << c);
              check_term(t, hw, round_real(std::ldexp(real, F), rnd));
              if (F >= e_max && std::abs(std::ldexp(real, F)) < std::ldexp(1.0, 63))  // exact mode
                CHECK(std::ldexp(static_cast<double>(place(t, hw)), -F) == real);
            }
        }
    }
}

TEST_CASE("L x U terms: shift-and-add equals the 1+1/2 weight times the activation", "[mac]") {
  for (int32_t e_min : {-20, -9, -7, 0, 3})
    for (int span : {7, 15}) {
      const auto row = log_row(e_min, span);
      const int32_t Fr = logart_row_floor(e_min);
      for (const LogWeight& w : row)
        for (int da = -256; da <= 255; ++da) {
          const MacTerm t = mac_lu(logart_int(w, Fr), da, 1);
          if (w.sign == 0) {
            CHECK(t.zero);
            continue;
          }
          CHECK(t.shift >= 0);
          CHECK(t.shift <= span / 2 + 1);
          HwConfig hw;
          hw.acc_bits = 64;
          // ŵ · d_a = term · 2^(F_r − 1)   (spec/numerics.md §1: s_r·2^(F_r−1)·(2+odd)·2^k)
          CHECK(std::ldexp(static_cast<double>(place(t, hw)), Fr - 1) == logart_value(w, 1.0, true) * da);
        }
    }
}

TEST_CASE("L x U with f exact-mantissa bits: odd exponents use round(sqrt2 * 2^f)", "[mac]") {
  for (int f : {1, 2, 4, 6, 10}) {
    const int32_t k_odd = logart_mantissa(true, f);
    CHECK(k_odd == static_cast<int32_t>(std::nearbyint(std::sqrt(2.0) * (1 << f))));
    CHECK(logart_mantissa(false, f) == (1 << f));
    const auto row = log_row(-8, 15);
    for (const LogWeight& w : row) {
      if (w.sign == 0) continue;
      const MacTerm t = mac_lu(logart_int(w, logart_row_floor(-8)), 77, f);
      HwConfig hw;
      hw.acc_bits = 64;
      // Independent: the approximated weight is sign · (odd ? k_odd/2^f · 2^(E>>1) : 2^(E/2)).
      const double mag = (w.E & 1) ? std::ldexp(static_cast<double>(k_odd), (w.E >> 1) - f) : std::ldexp(1.0, w.E / 2);
      CHECK(std::ldexp(static_cast<double>(place(t, hw)), logart_row_floor(-8) - f) == w.sign * mag * 77);
    }
  }
  CHECK(logart_mantissa(true, 1) == 3);  // 1 + 1/2
}

TEST_CASE("L x A terms: every LogART code against every AdaLog code (b <= 6)", "[mac]") {
  for (int b : {3, 4, 6})
    for (int q : {23, 37, 119}) {
      const AdaLogTable a = make_adalog_table(b, q);
      for (int F : {0, 6, a.E.back()})
        for (ShiftRounding rnd : kRoundings) {
          HwConfig hw;
          hw.frac_bits = F;
          hw.rounding = rnd;
          hw.acc_bits = 64;
          const auto row = log_row(-12, 15);
          const int32_t Fr = logart_row_floor(-12);
          for (const LogWeight& w : row)
            for (int c = 0; c <= a.zero_code; ++c) {
              const MacTerm t = mac_la(logart_int(w, Fr), c, a, hw);
              if (w.sign == 0 || c == a.zero_code) {
                CHECK(t.zero);
                continue;
              }
              // real = ŵ·x̂ with s_w = 2^(1−F_r) and s_a = D, so real = (2+odd)·2^k · M·2^(−E).
              const double real = logart_value(w, std::ldexp(1.0, 1 - Fr), true) * adalog_value(c, a.D, a);
              INFO("b=" << b << " q=" << q << " F=" << F << " E_w=" << w.E << " c=" << c);
              check_term(t, hw, round_real(std::ldexp(real, F), rnd));
            }
        }
    }
}

TEST_CASE("the accumulator wraps like W-bit two's complement and counts every overflow", "[mac]") {
  std::mt19937 rng(7);
  for (int W : {8, 12, 16, 24, 33, 64}) {
    HwConfig hw;
    hw.acc_bits = W;
    Accumulator acc;
    __int128 exact = 0;
    int64_t expected_overflows = 0;
    const __int128 lo = -(static_cast<__int128>(1) << (W - 1)), hi = (static_cast<__int128>(1) << (W - 1)) - 1;
    for (int i = 0; i < 5000; ++i) {
      const int64_t p = static_cast<int64_t>(rng() % 2001) - 1000;
      const int32_t sh = static_cast<int32_t>(rng() % 8);
      acc.add(MacTerm{p, sh, false}, hw);
      // Independent model: running value kept in range by adding or subtracting 2^W.
      const __int128 term = static_cast<__int128>(p) * (static_cast<__int128>(1) << sh);  // (a left shift of a negative is UB)
      __int128 placed = term;
      bool term_wrapped = false;
      while (placed > hi) { placed -= static_cast<__int128>(1) << W; term_wrapped = true; }
      while (placed < lo) { placed += static_cast<__int128>(1) << W; term_wrapped = true; }
      exact += placed;
      bool sum_wrapped = false;
      while (exact > hi) { exact -= static_cast<__int128>(1) << W; sum_wrapped = true; }
      while (exact < lo) { exact += static_cast<__int128>(1) << W; sum_wrapped = true; }
      expected_overflows += (term_wrapped || sum_wrapped);
      REQUIRE(acc.value == static_cast<int64_t>(exact));
    }
    CHECK(acc.overflows == expected_overflows);
    if (W <= 16) CHECK(acc.overflows > 0);
    if (W == 64) CHECK(acc.overflows == 0);
  }
  // Zero operands are skipped entirely.
  Accumulator z;
  z.add(MacTerm{123, 0, true}, HwConfig{});
  CHECK(z.value == 0);
}

TEST_CASE("acc_bits_for gives a width that the worst case fills but never overflows", "[mac]") {
  for (int64_t maxp : {1, 255, 256, 1023, 65535})
    for (int32_t sh : {0, 3, 17})
      for (int64_t K : {1, 2, 3, 576, 3072}) {
        HwConfig hw;
        hw.acc_bits = acc_bits_for(maxp, sh, K);
        for (int64_t sign : {1, -1}) {
          Accumulator acc;
          for (int64_t k = 0; k < K; ++k) acc.add(MacTerm{sign * maxp, sh, false}, hw);
          CHECK(acc.overflows == 0);
          CHECK(acc.value == sign * maxp * (int64_t{1} << sh) * K);
        }
        // One bit narrower must be able to overflow for the largest case of a power-of-two K.
        if ((K & (K - 1)) == 0 && (maxp & (maxp + 1)) == 0 && maxp > 1) {
          HwConfig narrow = hw;
          narrow.acc_bits -= 2;
          Accumulator acc;
          for (int64_t k = 0; k < K; ++k) acc.add(MacTerm{maxp, sh, false}, narrow);
          CHECK(acc.overflows > 0);
        }
      }
}

TEST_CASE("output dequantization: y = float32(acc * 2^-F * S) + bias", "[mac]") {
  CHECK(dequant_output(-14720, 0, std::ldexp(1.0f, -10), 0.0f) == -14.375f);  // spec/logart.md §8 example
  CHECK(dequant_output(3, 2, 0.5f, 1.0f) == 1.375f);
  CHECK(dequant_output(0, 5, 123.0f, -2.0f) == -2.0f);
}

TEST_CASE("spec/logart.md §8 worked example: W = [-192, 64, 0, 384], q = [100, -50, 7, 20] gives -14720", "[mac]") {
  // E of the §1.4 row (F_r = −9 after the erratum the example keeps): −0.2 → E = −5, 0.05 → −8, 0.3 → −3.
  const int32_t Fr = -9;
  const LogWeight w[4] = {{-1, -5, false}, {1, -8, true}, {0, 0, true}, {1, -3, false}};
  const int32_t x[4] = {100, -50, 7, 20};
  HwConfig hw;
  hw.acc_bits = 40;
  Accumulator acc;
  for (int i = 0; i < 4; ++i) acc.add(mac_lu(logart_int(w[i], Fr), x[i], 1), hw);
  CHECK(acc.value == -14720);
  CHECK(acc.overflows == 0);
}

TEST_CASE("default widths from the formats hold the worst-case layer without overflow", "[mac]") {
  for (int b : {3, 4, 6}) {
    const AdaLogTable a = make_adalog_table(b, 37);
    for (int64_t K : {1, 192, 3072}) {
      struct Case { LayerFormats f; int64_t w, x; };
      const Case cases[] = {
          {{Pairing::UxU, b, 8, nullptr, -1}, -((1 << b) - 1), -255},
          {{Pairing::UxA, b, b, &a, -1}, -((1 << b) - 1), 0},  // AdaLog code 0: M = D, E = 0, the largest term
          {{Pairing::LxU, 4, 8, nullptr, -1}, 0, -255},
          {{Pairing::LxA, 4, b, &a, -1}, 0, 0},
      };
      for (const auto& c : cases) {
        const HwConfig hw = default_hw_config(c.f, K);
        INFO("pairing " << int(c.f.pairing) << " b=" << b << " K=" << K << " -> W=" << hw.acc_bits << " F=" << hw.frac_bits);
        CHECK(hw.acc_bits <= 64);
        const LogWeightInt lw{-1, 1, (1 << 4) - 1};  // odd mantissa at the format's largest shift
        Accumulator acc;
        for (int64_t k = 0; k < K; ++k) {
          MacTerm t;
          switch (c.f.pairing) {
            case Pairing::UxU: t = mac_uu(static_cast<int32_t>(c.w), static_cast<int32_t>(c.x)); break;
            case Pairing::UxA: t = mac_ua(static_cast<int32_t>(c.w), 0, a, hw.frac_bits); break;
            case Pairing::LxU: t = mac_lu(lw, static_cast<int32_t>(c.x), hw.mant_frac_bits); break;
            case Pairing::LxA: t = mac_la(lw, 0, a, hw); break;
          }
          acc.add(t, hw);
        }
        CHECK(acc.overflows == 0);
        if (c.f.pairing == Pairing::UxA && b <= 4) CHECK(hw.frac_bits == a.E.back());  // exact mode where it fits
      }
    }
  }
}

TEST_CASE("docs/numerics.md worked examples", "[mac][docs]") {
  const AdaLogTable a = make_adalog_table(4, 37);
  const float xs[4] = {0.5f, 0.3f, 0.01f, 0.0f};
  int32_t c[4];
  for (int i = 0; i < 4; ++i) c[i] = adalog_encode(xs[i], 1.0f, a);
  CHECK(std::vector<int32_t>(c, c + 4) == std::vector<int32_t>{1, 2, 7, 16});
  const int32_t dw[4] = {3, -2, 5, 7};
  struct Row { int F; ShiftRounding r; int64_t acc; };
  for (const Row& row : {Row{7, ShiftRounding::Floor, 3990}, Row{4, ShiftRounding::Floor, 498}, Row{4, ShiftRounding::HalfUp, 499}}) {
    HwConfig hw;
    hw.frac_bits = row.F;
    hw.rounding = row.r;
    Accumulator acc;
    for (int i = 0; i < 4; ++i) acc.add(mac_ua(dw[i], c[i], a, row.F), hw);
    CHECK(acc.value == row.acc);
  }
  CHECK(dequant_output(3990, 7, 0.1f / 30, 0.0f) == Approx(0.10390625).epsilon(1e-7));
  const AdaLogTable a23 = make_adalog_table(4, 23);
  CHECK((a23.E[3] == 1 && a23.M[3] == 16 && a23.E[5] == 3 && a23.M[5] == 28));
  const LogWeight w[4] = {{-1, -5, false}, {1, -8, true}, {0, 0, true}, {1, -3, false}};
  HwConfig hw;
  hw.frac_bits = 7;
  hw.acc_bits = 40;
  Accumulator acc;
  for (int i = 0; i < 4; ++i) acc.add(mac_la(logart_int(w[i], -9), c[i], a, hw), hw);
  CHECK(acc.value == -307200);
  CHECK(std::ldexp(static_cast<double>(acc.value), -7 - 10) / 30 == -0.078125);
}
