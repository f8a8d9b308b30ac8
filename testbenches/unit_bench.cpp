#include "testbenches/unit_bench.h"

#include <fmt/format.h>
#include <verilated.h>

#include "Vunit_top.h"
#include "Vunit_top_f6.h"
#include "io/error.h"

namespace logq {

namespace {

int64_t sext48(uint64_t v) {
  const uint64_t m = uint64_t{1} << 47;
  v &= (uint64_t{1} << 48) - 1;
  return static_cast<int64_t>((v ^ m) - m);
}

template <typename V>
class UnitModel final : public UnitBench {
 public:
  explicit UnitModel(int f) : f_(f) {
    top_.lut_we_i = 0;
    top_.rst_ni = 0;
    tick();
    top_.rst_ni = 1;
    tick();
  }
  ~UnitModel() override { top_.final(); }
  int mant_frac_bits() const override { return f_; }

  void load_lut(const AdaLogTable& tab) override {
    for (int c = 0; c < (1 << tab.bits); ++c) {
      top_.lut_we_i = 1;
      top_.lut_addr_i = static_cast<uint8_t>(c);
      top_.lut_m_i = static_cast<uint8_t>(tab.M[c]);
      top_.lut_e_i = static_cast<uint8_t>(tab.E[c]);
      tick();
    }
    top_.lut_we_i = 0;
  }

  UnitOutputs eval(int mode, int frac_bits, bool half_up, uint16_t a_raw, uint16_t w_raw) override {
    top_.mode_i = static_cast<uint8_t>(mode);
    top_.frac_bits_i = static_cast<uint8_t>(frac_bits);
    top_.half_up_i = half_up;
    top_.a_raw_i = a_raw;
    top_.w_raw_i = w_raw;
    tick();  // each PE loads its single term (valid = first = 1)
    UnitOutputs o;
    o.a_zero = top_.a_zero_o;
    o.a_m = top_.a_m_o;
    o.a_e = top_.a_e_o;
    o.w_zero = top_.w_zero_o;
    o.w_neg = top_.w_neg_o;
    o.w_odd = top_.w_odd_o;
    o.w_k = top_.w_k_o;
    o.w_mant = top_.w_mant_o;
    o.uu = sext48(top_.acc_uu_o);
    o.ua = sext48(top_.acc_ua_o);
    o.lu = sext48(top_.acc_lu_o);
    o.la = sext48(top_.acc_la_o);
    o.lula = sext48(top_.acc_lula_o);
    o.universal = sext48(top_.acc_univ_o);
    return o;
  }

 private:
  int f_;
  VerilatedContext ctx_;
  V top_{&ctx_};
  void tick() {
    top_.clk_i = 0;
    top_.eval();
    top_.clk_i = 1;
    top_.eval();
  }
};

}  // namespace

std::unique_ptr<UnitBench> make_unit_bench(int f) {
  if (f == 1) return std::make_unique<UnitModel<Vunit_top>>(1);
  if (f == 6) return std::make_unique<UnitModel<Vunit_top_f6>>(6);
  throw Error(fmt::format("no unit-bench model with f = {} (built: 1, 6)", f));
}

}  // namespace logq
