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
#include "golden/hw.h"

namespace logq {

// A Verilated logq_gemm_top's parameters, read from its row of rtl/logq_units.tsv (golden/hw.h
// rtl_units(), the same row CMake verilates it from): rtl_array_config("gemm_universal_4x4").
struct RtlArrayConfig {
  std::string unit;    // the rtl_units() row
  int rows = 4, cols = 4;
  PeKind kind = PeKind::Universal;
  int acc_bits = 48;   // ACC_W
  int adalog_bits = 6; // B: AdaLog codes up to B bits (zero state = 2^B in hardware)
  int kw = 5;          // KW: LogART k < 2^KW
  int mant_frac_bits = 1;
  int a_bank_depth = 65536, w_bank_depth = 65536, out_depth = 262144;
};
RtlArrayConfig rtl_array_config(const std::string& unit);

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
  // Loads the operands and the AdaLog LUT, runs the job, reads the accumulators back. accumulate:
  // the output buffer adds the job's accumulators to what it holds (a later chunk of a K-split job
  // of the same M and N); otherwise it overwrites them.
  virtual RtlRunResult run(const GemmProblem& p, const HwConfig& hw, const TraceWindow* trace = nullptr, bool accumulate = false) = 0;
  // Runs p as K chunks of kc columns (golden/hw.h k_chunk_count), each one job into the output
  // buffer's partial sums: the accumulators of the last, and the cycles of all.
  RtlRunResult run_k_split(const GemmProblem& p, const HwConfig& hw, int64_t kc);
  // Writes Verilator coverage data (meaningful for models verilated with --coverage).
  virtual void write_coverage(const std::string& path) = 0;
};


// The regression model (library logq_tb): universal PEs, 4 x 4, ACC_W 48, traced.
std::unique_ptr<RtlArray> make_rtl_array_universal_4x4();
// The dual-PE array (L×U and L×A only), 4 x 4, at the regression array's widths.
std::unique_ptr<RtlArray> make_rtl_array_lula_4x4();
// L(4) x U(8) PEs, 4 x 4, passing only the word bits they read (A_USED 9 of 16, W_USED 8 of 9), as
// the synthesized arrays do.
std::unique_ptr<RtlArray> make_rtl_array_lu_4x4();
// The arrays of library logq_tb (the ones `logq` links): their rtl/logq_units.tsv configs, and the
// one of R x C whose PE kind runs every pairing in `needs` (throws Error listing them if none).
std::vector<RtlArrayConfig> verilated_arrays();
std::string rtl_array_label(const RtlArrayConfig& c);  // "4x4 universal", "4x4 dual L x U / L x A"
std::unique_ptr<RtlArray> make_rtl_array(int rows, int cols, const std::vector<Pairing>& needs);
// Benchmark models (library logq_tb_bench): kind "lu" (L(4)xU(8)) or "int8", size 8 or 16.
std::unique_ptr<RtlArray> make_rtl_array_bench(const std::string& kind, int size);
// The regression model with coverage (library logq_tb_cov).
std::unique_ptr<RtlArray> make_rtl_array_coverage_4x4();

// Cycles the controller needs: golden/hw.h array_cycles for this array.
inline uint64_t expected_cycles(const RtlArrayConfig& c, int64_t M, int64_t N, int64_t K) { return array_cycles(c.rows, c.cols, M, N, K); }
inline uint64_t expected_cycles_k_split(const RtlArrayConfig& c, int64_t M, int64_t N, int64_t K, int64_t kc) {
  return array_cycles_k_split(c.rows, c.cols, M, N, K, kc);
}

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
  // The expected accumulators [M, N]: the golden network's own for this job (logq verify). Unset:
  // golden/'s gemm() on the problem.
  const std::vector<int64_t>* expected = nullptr;
};

// Runs p on the RTL and compares with opt.expected, or with golden/'s gemm() at the array's acc_bits and f.
VerifyReport verify_gemm(RtlArray& rtl, const GemmProblem& p, HwConfig hw, const VerifyOptions& opt = {});

}  // namespace logq
