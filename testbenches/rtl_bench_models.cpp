// Benchmark models (library logq_tb_bench). Parameters must match testbenches/CMakeLists.txt.
#include "Vgemm_int8_16x16.h"
#include "Vgemm_int8_8x8.h"
#include "Vgemm_lu_16x16.h"
#include "Vgemm_lu_8x8.h"
#include "testbenches/rtl_array_impl.h"

namespace logq {

std::unique_ptr<RtlArray> make_rtl_array_bench(const std::string& kind, int size) {
  RtlArrayConfig c;
  c.rows = c.cols = size;
  c.kind = kind == "lu" ? 2 : 0;
  c.acc_bits = 48;
  if (kind == "lu" && size == 8) return std::make_unique<VerilatedArray<Vgemm_lu_8x8>>(c);
  if (kind == "lu" && size == 16) return std::make_unique<VerilatedArray<Vgemm_lu_16x16>>(c);
  if (kind == "int8" && size == 8) return std::make_unique<VerilatedArray<Vgemm_int8_8x8>>(c);
  if (kind == "int8" && size == 16) return std::make_unique<VerilatedArray<Vgemm_int8_16x16>>(c);
  throw Error(fmt::format("no benchmark model {} {}x{}", kind, size, size));
}

}  // namespace logq
