// RtlArray: runs GEMM jobs (golden::GemmProblem) on a Verilated logq_gemm_top and returns its
// accumulators and cycle count; verify_gemm() compares them bit for bit with golden/ and, on the
// first mismatch, reports layer/tile/element, both values and the operands, and writes a VCD
// waveform of the cycles around it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "golden/gemm.h"

namespace logq {

struct RtlArrayConfig {
  int rows = 4, cols = 4;
  int kind = 4;        // 0 UxU, 1 UxA, 2 LxU, 3 LxA, 4 universal
  int acc_bits = 48;   // ACC_W
  int adalog_bits = 6; // B: AdaLog codes up to B bits (zero state = 2^B in hardware)
  int mant_frac_bits = 1;
  int a_bank_depth = 65536, w_bank_depth = 65536, out_depth = 262144;
};

struct RtlRunResult {
  std::vector<int64_t> acc;  // [M, N]
  uint64_t cycles = 0;
  double seconds = 0;        // wall time of the compute phase (start to done), for cycles/s
};

// Cycles (counted from start) to dump into a VCD file.
struct TraceWindow {
  std::string path;
  uint64_t first = 0, last = 0;
};

class RtlArray {
 public:
  virtual ~RtlArray() = default;
  virtual const RtlArrayConfig& config() const = 0;
  // Loads the operands and the AdaLog LUT, runs the job, reads the accumulators back.
  virtual RtlRunResult run(const GemmProblem& p, const HwConfig& hw, const TraceWindow* trace = nullptr) = 0;
  // Writes Verilator coverage data (meaningful for models verilated with --coverage).
  virtual void write_coverage(const std::string& path) = 0;
};

// Operand words as the RTL buffers hold them (docs/rtl.md): an AdaLog code with the zero state
// moved to 2^B, and a LogART weight as {zero, neg, e_idx = 2k + odd} with k < 32.
uint16_t rtl_adalog_word(int32_t code, const AdaLogTable& t, int adalog_bits);
uint16_t rtl_logw_word(const LogWeightInt& w);
inline constexpr int kRtlKBits = 5;  // KW

// The regression model (library logq_tb): universal PEs, 4 x 4, ACC_W 48, traced.
std::unique_ptr<RtlArray> make_rtl_array_universal_4x4();
// Benchmark models (library logq_tb_bench): kind "lu" (L(4)xU(8)) or "int8", size 8 or 16.
std::unique_ptr<RtlArray> make_rtl_array_bench(const std::string& kind, int size);
// The regression model with coverage (library logq_tb_cov).
std::unique_ptr<RtlArray> make_rtl_array_coverage_4x4();

// Cycles the controller needs: tiles · (K + R + C − 1) + R (docs/rtl.md).
uint64_t expected_cycles(const RtlArrayConfig& c, int64_t M, int64_t N, int64_t K);

struct VerifyReport {
  bool pass = true;
  std::string label;
  int64_t M = 0, N = 0, K = 0, tiles = 0;
  uint64_t cycles = 0;
  double ideal_cycles = 0, utilization = 0;  // ideal = M·N·K / (R·C)
  std::string mismatch;   // the first-mismatch report (empty on pass)
  std::string waveform;   // VCD written for the mismatch
};

struct VerifyOptions {
  std::string label = "gemm";
  std::string waveform_path;       // where to write the VCD on a mismatch ("" = no waveform)
  int64_t flip_expected_bit = -1;  // test hook: flip bit 0 of this element of the golden result
};

// Runs p on the RTL and on golden/ (gemm_reference, with acc_bits/mant bits of the array).
VerifyReport verify_gemm(RtlArray& rtl, const GemmProblem& p, HwConfig hw, const VerifyOptions& opt = {});

}  // namespace logq
