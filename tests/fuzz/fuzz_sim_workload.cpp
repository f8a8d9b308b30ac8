// libFuzzer target: sim's workload builder (the array jobs of every GEMM layer and the vector
// unit's work from the graph) on an .lqm, and the layer plans of the fast cycle model on a small
// array with small buffers (K-splitting).
#include "fuzz_common.h"
#include "io/error.h"
#include "sim/tiling.h"
#include "sim/workload.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  try {
    const logq::LqmFile f = logq::LqmFile::parse(logq::Bytes::view(data, size), "fuzz.lqm");
    const logq::sim::Workload w = logq::sim::workload_from_lqm(f);
    logq::sim::AccelConfig hw = logq::sim::default_accel();
    hw.rows = hw.cols = 4;
    hw.pe = "universal";
    hw.clock_mhz = 200;
    hw.act_sram_bytes = hw.weight_sram_bytes = 1024;
    for (const auto& l : w.layers) {
      (void)logq::sim::vector_cycles(l.vector_work, hw.vector, hw.vector_lanes());
      (void)logq::sim::vector_sram_reads(l.vector_work);
      (void)logq::sim::vector_dram_words(l.vector_work);
      try {
        (void)logq::sim::plan_layer(l, hw);
      } catch (const logq::Error&) {  // a layer the array cannot hold is an error, not a crash
      }
    }
  } catch (const logq::Error&) {
  }
  return 0;
}
