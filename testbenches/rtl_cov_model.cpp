// The coverage model (library logq_tb_cov).
#include "Vgemm_cov_4x4.h"
#include "testbenches/rtl_array_impl.h"

namespace logq {

std::unique_ptr<RtlArray> make_rtl_array_coverage_4x4() {
  RtlArrayConfig c;
  c.rows = 4;
  c.cols = 4;
  c.kind = 4;
  c.acc_bits = 48;
  return std::make_unique<VerilatedArray<Vgemm_cov_4x4>>(c);
}

}  // namespace logq
