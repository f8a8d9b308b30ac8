// Benchmark models (library logq_tb_bench). Parameters: their rows of rtl/logq_units.tsv.
#include "Vgemm_int8_16x16.h"
#include "Vgemm_int8_8x8.h"
#include "Vgemm_lu_16x16.h"
#include "Vgemm_lu_8x8.h"
#include "testbenches/rtl_array_impl.h"

namespace logq {

std::unique_ptr<RtlArray> make_rtl_array_bench(const std::string& kind, int size) {
  const std::string unit = fmt::format("gemm_{}_{}x{}", kind, size, size);
  if (unit == "gemm_lu_8x8") return std::make_unique<VerilatedArray<Vgemm_lu_8x8>>(rtl_array_config(unit));
  if (unit == "gemm_lu_16x16") return std::make_unique<VerilatedArray<Vgemm_lu_16x16>>(rtl_array_config(unit));
  if (unit == "gemm_int8_8x8") return std::make_unique<VerilatedArray<Vgemm_int8_8x8>>(rtl_array_config(unit));
  if (unit == "gemm_int8_16x16") return std::make_unique<VerilatedArray<Vgemm_int8_16x16>>(rtl_array_config(unit));
  throw Error(fmt::format("no benchmark model {} {}x{}", kind, size, size));
}

}  // namespace logq
