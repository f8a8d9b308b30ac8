// The coverage model (library logq_tb_cov).
#include "Vgemm_cov_4x4.h"
#include "testbenches/rtl_array_impl.h"

namespace logq {

std::unique_ptr<RtlArray> make_rtl_array_coverage_4x4() {
  return std::make_unique<VerilatedArray<Vgemm_cov_4x4>>(rtl_array_config("gemm_cov_4x4"));
}

}  // namespace logq
