// The SystemC/TLM-2.0 accelerator model (docs/sim.md): DRAM (bandwidth, latency) behind a DMA
// engine, activation/weight/output SRAM buffers (double-buffered), the PE array and a controller
// that runs a workload's layers block by block (sim/tiling.h). Time is counted in clock cycles.
//
// The array is a back-end: `fast` takes each block's cycles from the RTL schedule (golden/hw.h
// array_cycles), `rtl` runs each block on the Verilated array — on the model's own operands for an
// .lqm (golden's codes for a sample image), on random operands of the layer's formats for a
// topology — checks its accumulators bit for bit against golden/ and takes its measured cycles.
// Tests prove the two agree.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/hw_config.h"
#include "sim/tiling.h"
#include "sim/workload.h"

namespace logq::sim {

class ArrayBackend {
 public:
  virtual ~ArrayBackend() = default;
  virtual std::string name() const = 0;
  // Cycles of one block (one start/done job of the array) of instance `instance` (conv group /
  // attention head) of layer l.
  virtual uint64_t run(const SimLayer& l, int64_t instance, const Block& b) = 0;
};

// The fast cycle model (the RTL schedule's closed form).
std::unique_ptr<ArrayBackend> make_fast_backend(const AccelConfig& hw);
// A Verilated array of the config's R x C (testbenches/ verilated_arrays(); throws Error naming those
// the build has) on random operands of each layer's formats: for topology workloads, which have no codes.
std::unique_ptr<ArrayBackend> make_rtl_backend(const AccelConfig& hw, uint32_t seed = 1);
// The same array on the model's own operands: golden runs sample image `image` of the .lqm, every
// layer is lowered to array jobs (golden/lower), each block runs on the RTL and its accumulators
// must equal golden's (else Error naming layer, instance and block). `w` must come from this file.
std::unique_ptr<ArrayBackend> make_model_rtl_backend(const AccelConfig& hw, const LqmFile& file, const Workload& w, int64_t image = 0);
// Cycles of an M x N x K job on an R x C array (the closed form both back-ends must match).
uint64_t block_cycles(const AccelConfig& hw, int64_t M, int64_t N, int64_t K);

struct Access {  // words and bytes
  int64_t reads = 0, writes = 0, read_bytes = 0, write_bytes = 0;
};

struct LayerReport {
  std::string name, op, pairing;
  int64_t M = 0, N = 0, K = 0, count = 1, macs = 0;
  bool skipped = false;  // float input: not run on the array
  std::string note;
  int64_t Mb = 0, Nb = 0, blocks = 0, tiles = 0;
  int64_t Kb = 0, k_chunks = 1;  // K columns per block; K-split into k_chunks chunks when > 1
  int64_t tile_k = 0;            // Σ over tiles of the K columns each ran (the MAC slots / PEs)
  bool weights_outer = true;
  uint64_t compute_cycles = 0, stall_cycles = 0, total_cycles = 0;
  double mapping_efficiency = 0, compute_utilization = 0, overall_utilization = 0;
  Access sram_act, sram_weight, sram_out;      // array side reads, DMA side writes (out: array writes, DMA reads)
  int64_t dram_act_bytes = 0, dram_weight_bytes = 0, dram_out_bytes = 0;
  std::vector<VectorWork> vector_work;  // what the vector unit does on this layer's outputs
  uint64_t vector_cycles = 0;     // the vector unit's busy cycles on this layer's non-GEMM work
  double vector_lane_cycles = 0;  // its lane-cycles (the energy's count)
  double energy_pj_mac = 0, energy_pj_sram = 0, energy_pj_dram = 0, energy_pj_vector = 0;
  double energy_pj() const { return energy_pj_mac + energy_pj_sram + energy_pj_dram + energy_pj_vector; }
  int64_t dram_bytes() const { return dram_act_bytes + dram_weight_bytes + dram_out_bytes; }
};

struct SimReport {
  AccelConfig hw;
  std::string workload, source, backend;
  double clock_mhz = 0;
  std::vector<LayerReport> layers;
  LayerReport total;           // sums (name "total")
  int64_t dram_target_read_bytes = 0, dram_target_write_bytes = 0;  // as counted by the DRAM target itself
  double wall_seconds = 0;     // host time of the simulation
  double latency_s() const { return total.total_cycles / (clock_mhz * 1e6); }
  double images_per_s() const { return total.total_cycles ? clock_mhz * 1e6 / double(total.total_cycles) : 0; }
};

// Runs the workload on the accelerator. SystemC elaborates once per process: a second call in the
// same process throws Error (logq explore runs each point in its own process).
SimReport simulate(const Workload& w, const AccelConfig& hw, ArrayBackend& backend);

// A SCALE-Sim GEMM topology (`Layer, M, N, K`, one row per head / group) of the array jobs.
std::string topology_csv(const Workload& w);

// SCALE-Sim v2's output-stationary compute cycles for the same array and GEMM: every fold takes
// K + R + C − 2 cycles (ifmap demand of K + C − 1 rows, skewed over R rows), folds do not overlap.
// logq's RTL takes K + R + C − 1 per tile (edge input registers) and overlaps each tile's drain with
// the next tile's feed, adding R drain cycles at the end: rtl = scalesim + tiles + R (docs/sim.md).
uint64_t scalesim_os_cycles(int64_t R, int64_t C, int64_t M, int64_t N, int64_t K);

// Checks, before any simulation, that every layer fits and that the PE kind runs its pairing.
void check_workload(const Workload& w, const AccelConfig& hw);

}  // namespace logq::sim
