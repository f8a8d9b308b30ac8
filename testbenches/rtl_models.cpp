// The regression model of library logq_tb. Parameters: its row of rtl/logq_units.tsv.
#include "Vgemm_universal_4x4.h"
#include "testbenches/rtl_array_impl.h"

#include <fmt/format.h>

namespace logq {

std::unique_ptr<RtlArray> make_rtl_array_universal_4x4() {
  return std::make_unique<VerilatedArray<Vgemm_universal_4x4>>(rtl_array_config("gemm_universal_4x4"));
}

std::vector<RtlArrayConfig> verilated_arrays() { return {rtl_array_config("gemm_universal_4x4")}; }

std::unique_ptr<RtlArray> make_rtl_array(int rows, int cols, const std::vector<Pairing>& needs) {
  std::string have;
  for (const RtlArrayConfig& c : verilated_arrays()) {
    bool runs = true;
    for (Pairing p : needs) runs = runs && pe_kind_runs(c.kind, p);
    if (c.rows == rows && c.cols == cols && runs && c.unit == "gemm_universal_4x4") return make_rtl_array_universal_4x4();
    have += fmt::format("{}the Verilated {}x{} {} array ({})", have.empty() ? "" : ", ", c.rows, c.cols,
                        c.kind == PeKind::Universal ? "universal" : pairing_name(static_cast<Pairing>(c.kind)), c.unit);
  }
  throw Error(fmt::format("the RTL back-end needs a Verilated {}x{} array that runs the layers; this build has {}. Use --backend fast, "
                          "whose cycles equal the RTL's (tested), or add a gemm_* row to golden/hw.cpp's table", rows, cols, have));
}

}  // namespace logq
