#include "testbenches/unit_bench.h"

#include <verilated.h>

#include "Vunit_top.h"

namespace logq {

struct UnitBench::Impl {
  VerilatedContext ctx;
  Vunit_top top{&ctx};
  uint64_t cycles = 0;
  void tick() {
    top.clk_i = 0;
    top.eval();
    top.clk_i = 1;
    top.eval();
    ++cycles;
  }
};

namespace {
int64_t sext48(uint64_t v) {
  const uint64_t m = uint64_t{1} << 47;
  v &= (uint64_t{1} << 48) - 1;
  return static_cast<int64_t>((v ^ m) - m);
}
}  // namespace

UnitBench::UnitBench() : impl_(std::make_unique<Impl>()) {
  auto& t = impl_->top;
  t.lut_we_i = 0;
  t.rst_ni = 0;
  impl_->tick();
  t.rst_ni = 1;
  impl_->tick();
}

UnitBench::~UnitBench() { impl_->top.final(); }

void UnitBench::load_lut(const AdaLogTable& tab) {
  auto& t = impl_->top;
  for (int c = 0; c < (1 << tab.bits); ++c) {
    t.lut_we_i = 1;
    t.lut_addr_i = static_cast<uint8_t>(c);
    t.lut_m_i = static_cast<uint8_t>(tab.M[c]);
    t.lut_e_i = static_cast<uint8_t>(tab.E[c]);
    impl_->tick();
  }
  t.lut_we_i = 0;
}

UnitOutputs UnitBench::eval(int mode, int frac_bits, bool half_up, uint16_t a_raw, uint16_t w_raw) {
  auto& t = impl_->top;
  t.mode_i = static_cast<uint8_t>(mode);
  t.frac_bits_i = static_cast<uint8_t>(frac_bits);
  t.half_up_i = half_up;
  t.a_raw_i = a_raw;
  t.w_raw_i = w_raw;
  impl_->tick();  // each PE loads its single term (valid = first = 1)
  UnitOutputs o;
  o.a_zero = t.a_zero_o;
  o.a_m = t.a_m_o;
  o.a_e = t.a_e_o;
  o.w_zero = t.w_zero_o;
  o.w_neg = t.w_neg_o;
  o.w_odd = t.w_odd_o;
  o.w_k = t.w_k_o;
  o.w_mant = t.w_mant_o;
  o.uu = sext48(t.acc_uu_o);
  o.ua = sext48(t.acc_ua_o);
  o.lu = sext48(t.acc_lu_o);
  o.la = sext48(t.acc_la_o);
  o.universal = sext48(t.acc_univ_o);
  return o;
}

uint64_t UnitBench::cycles() const { return impl_->cycles; }

}  // namespace logq
