// Exhaustive unit benches: every operand pair through both decoders and every PE kind of the
// Verilated RTL, compared with golden/'s placed MAC term (docs/numerics.md §2–3).
#include "golden/mac.h"
#include "test_util.h"
#include "testbenches/rtl_array.h"
#include "testbenches/unit_bench.h"

using namespace logq;

namespace {

HwConfig hw_for(int F, bool half_up, int mant_frac_bits = 1) {
  HwConfig hw;
  hw.acc_bits = UnitBench::kAccBits;
  hw.frac_bits = F;
  hw.rounding = half_up ? ShiftRounding::HalfUp : ShiftRounding::Floor;
  hw.mant_frac_bits = mant_frac_bits;
  return hw;
}

int64_t golden_term(const MacTerm& t, const HwConfig& hw) {
  if (t.zero) return 0;  // skipped: the accumulator loads nothing (first = 1 gives 0)
  bool wrapped = false;
  return shifted_term(t, hw, &wrapped);
}

// Every LogART datapath weight the RTL can hold: zero, and ± with e_idx = 0..63.
std::vector<LogWeightInt> all_log_weights() {
  std::vector<LogWeightInt> v = {LogWeightInt{0, 0, 0}};
  for (int e = 0; e < (2 << UnitBench::kKw); ++e)
    for (int8_t s : {int8_t{1}, int8_t{-1}}) v.push_back(LogWeightInt{s, static_cast<uint8_t>(e & 1), e >> 1});
  return v;
}

}  // namespace

TEST_CASE("RTL U x U PE: every pair of 9-bit operands d in [-255, 255] (INT8 and all b <= 8)", "[rtl][unit]") {
  auto ub = make_unit_bench();
  const HwConfig hw = hw_for(0, false);
  int64_t bad = 0;
  for (int dw = -255; dw <= 255; ++dw)
    for (int da = -255; da <= 255; ++da) {
      const UnitOutputs o = ub->eval(0, 0, false, static_cast<uint16_t>(da), static_cast<uint16_t>(dw));
      const int64_t g = golden_term(mac_uu(dw, da), hw);
      if (o.uu != g || o.universal != g) {
        if (++bad < 5) FAIL_CHECK("UxU dw=" << dw << " da=" << da << " rtl " << o.uu << "/" << o.universal << " golden " << g);
      }
    }
  CHECK(bad == 0);
}

TEST_CASE("RTL AdaLog dequant and U x A PE: every code at b = 2..6, several q, F and both roundings", "[rtl][unit]") {
  auto ub = make_unit_bench();
  int64_t bad = 0, checks = 0;
  for (int b = 2; b <= 6; ++b)
    for (int q : {10, 23, 37, 61, 137}) {
      const AdaLogTable t = make_adalog_table(b, q);
      ub->load_lut(t);
      for (int F : {0, 5, t.E.back(), 40})
        for (bool half : {false, true}) {
          const HwConfig hw = hw_for(F, half);
          for (int c = 0; c <= t.zero_code; ++c) {
            const uint16_t word = rtl_adalog_word(c, t, UnitBench::kAdaLogBits);
            for (int dw = -63; dw <= 63; dw += (dw > -60 && dw < 60) ? 7 : 1) {
              const UnitOutputs o = ub->eval(2, F, half, word, static_cast<uint16_t>(dw));
              ++checks;
              const bool zero = c == t.zero_code;
              bool ok = o.a_zero == zero;
              if (!zero) ok = ok && o.a_m == t.M[c] && o.a_e == t.E[c];
              const int64_t g = golden_term(mac_ua(dw, c, t, F), hw);
              ok = ok && o.ua == g && o.universal == g;
              if (!ok && ++bad < 5)
                FAIL_CHECK("UxA b=" << b << " q=" << q << " F=" << F << " half=" << half << " c=" << c << " dw=" << dw << " rtl " << o.ua
                                    << "/" << o.universal << " golden " << g);
            }
          }
        }
    }
  CHECK(bad == 0);
  CHECK(checks > 50000);
}

TEST_CASE("RTL LogART decoder, L x U and dual PEs: every weight code against every 9-bit activation, f = 1 and 6", "[rtl][unit]") {
  for (int f : {1, 6}) {
    auto ub = make_unit_bench(f);
    const HwConfig hw = hw_for(0, false, f);
    int64_t bad = 0;
    for (const LogWeightInt& w : all_log_weights()) {
      const uint16_t word = rtl_logw_word(w, UnitBench::kKw);
      for (int da = -255; da <= 255; ++da) {
        const UnitOutputs o = ub->eval(1, 0, false, static_cast<uint16_t>(da), word);
        bool ok = o.w_zero == (w.sign == 0);
        if (w.sign != 0)
          ok = ok && o.w_neg == (w.sign < 0) && o.w_odd == (w.odd != 0) && o.w_k == w.k && o.w_mant == logart_mantissa(w.odd, f);
        const int64_t g = golden_term(mac_lu(w, da, f), hw);
        ok = ok && o.lu == g && o.universal == g && o.lula == g;
        if (!ok && ++bad < 5)
          FAIL_CHECK("LxU f=" << f << " sign=" << int(w.sign) << " odd=" << int(w.odd) << " k=" << w.k << " da=" << da << " rtl " << o.lu << "/"
                              << o.universal << "/" << o.lula << " golden " << g);
      }
    }
    CHECK(bad == 0);
  }
}

TEST_CASE("RTL L x A and dual PEs: every weight code against every AdaLog code (b = 3, 4, 6), f = 1 and 6", "[rtl][unit]") {
  const auto weights = all_log_weights();
  for (int f : {1, 6}) {
    auto ub = make_unit_bench(f);
    int64_t bad = 0;
    for (int b : {3, 4, 6})
      for (int q : {23, 37, 119}) {
        const AdaLogTable t = make_adalog_table(b, q);
        ub->load_lut(t);
        for (int F : {0, 9, 30})
          for (bool half : {false, true}) {
            const HwConfig hw = hw_for(F, half, f);
            for (const LogWeightInt& w : weights)
              for (int c = 0; c <= t.zero_code; ++c) {
                const UnitOutputs o = ub->eval(3, F, half, rtl_adalog_word(c, t, UnitBench::kAdaLogBits), rtl_logw_word(w, UnitBench::kKw));
                const int64_t g = golden_term(mac_la(w, c, t, hw), hw);
                if ((o.la != g || o.universal != g || o.lula != g) && ++bad < 5)
                  FAIL_CHECK("LxA f=" << f << " b=" << b << " q=" << q << " F=" << F << " c=" << c << " k=" << w.k << " rtl " << o.la << "/"
                                      << o.universal << "/" << o.lula << " golden " << g);
              }
          }
      }
    CHECK(bad == 0);
  }
}
