// Drives a Verilated logq_unit_top: one operand pair per clock through both decoders and every
// PE kind, for exhaustive comparison with golden/. Two models: f = 1 (the 1+1/2 mantissa) and
// f = 6 (exact-mantissa variant, round(sqrt2 * 64) = 91).
#pragma once
#include <cstdint>
#include <memory>

#include "golden/formats.h"
#include "golden/hw.h"

namespace logq {

struct UnitOutputs {
  bool a_zero = false;
  int a_m = 0, a_e = 0;
  bool w_zero = false, w_neg = false, w_odd = false;
  int w_k = 0, w_mant = 0;
  int64_t uu = 0, ua = 0, lu = 0, la = 0, universal = 0;  // each PE's placed term
  int64_t lula = 0;  // the L×U/L×A dual PE's term, in the activation format of mode bit 1
};

class UnitBench {
 public:
  static constexpr int kAccBits = 48, kAdaLogBits = 6, kKw = RtlParams{}.kw;  // rtl/logq_units.tsv unit_top
  virtual ~UnitBench() = default;
  virtual int mant_frac_bits() const = 0;
  virtual void load_lut(const AdaLogTable& t) = 0;
  // mode: bit 0 weight is LogART, bit 1 activation is AdaLog (for the universal PE).
  virtual UnitOutputs eval(int mode, int frac_bits, bool half_up, uint16_t a_raw, uint16_t w_raw) = 0;
};

// mant_frac_bits: 1 or 6 (the two models built).
std::unique_ptr<UnitBench> make_unit_bench(int mant_frac_bits = 1);

}  // namespace logq
