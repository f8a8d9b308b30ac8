// The Verilated arrays of library logq_tb. Parameters: their rows of rtl/logq_units.tsv.
#include "Vgemm_lu_4x4.h"
#include "Vgemm_lula_4x4.h"
#include "Vgemm_universal_4x4.h"
#include "testbenches/rtl_array_impl.h"

#include <fmt/format.h>

namespace logq {

std::unique_ptr<RtlArray> make_rtl_array_universal_4x4() {
  return std::make_unique<VerilatedArray<Vgemm_universal_4x4>>(rtl_array_config("gemm_universal_4x4"));
}

std::unique_ptr<RtlArray> make_rtl_array_lula_4x4() {
  return std::make_unique<VerilatedArray<Vgemm_lula_4x4>>(rtl_array_config("gemm_lula_4x4"));
}

std::unique_ptr<RtlArray> make_rtl_array_lu_4x4() {
  return std::make_unique<VerilatedArray<Vgemm_lu_4x4>>(rtl_array_config("gemm_lu_4x4"));
}

// The first that runs a layer's pairings is used: the universal array, so `logq verify` keeps
// checking every model on the regression array.
std::vector<RtlArrayConfig> verilated_arrays() { return {rtl_array_config("gemm_universal_4x4"), rtl_array_config("gemm_lula_4x4")}; }

std::string rtl_array_label(const RtlArrayConfig& c) {
  const char* kind = c.kind == PeKind::Universal ? "universal"
                     : c.kind == PeKind::LxUA    ? "dual L x U / L x A"
                                                 : pairing_name(static_cast<Pairing>(c.kind));  // the first four mirror Pairing
  return fmt::format("{}x{} {}", c.rows, c.cols, kind);
}

std::unique_ptr<RtlArray> make_rtl_array(int rows, int cols, const std::vector<Pairing>& needs) {
  std::string have;
  for (const RtlArrayConfig& c : verilated_arrays()) {
    bool runs = true;
    for (Pairing p : needs) runs = runs && pe_kind_runs(c.kind, p);
    if (c.rows == rows && c.cols == cols && runs && c.unit == "gemm_universal_4x4") return make_rtl_array_universal_4x4();
    if (c.rows == rows && c.cols == cols && runs && c.unit == "gemm_lula_4x4") return make_rtl_array_lula_4x4();
    have += fmt::format("{}the Verilated {} array ({})", have.empty() ? "" : ", ", rtl_array_label(c), c.unit);
  }
  throw Error(fmt::format("the RTL back-end needs a Verilated {}x{} array that runs the layers; this build has {}. Use --backend fast, "
                          "whose cycles equal the RTL's (tested), or add a gemm_* row to golden/hw.cpp's table", rows, cols, have));
}

}  // namespace logq
