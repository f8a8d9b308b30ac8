// The accelerator that `logq sim` models, read from a hardware JSON file (configs/hw/*.json,
// docs/sim.md): the PE array (R x C, PE kind), the on-chip SRAM buffers, DRAM bandwidth and
// latency, the clock, word widths and the per-operation energy table. Every field is checked:
// unknown keys, impossible values and unknown PE kinds are errors naming the file and key.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden/hw.h"
#include "sim/vector_unit.h"

namespace logq::sim {

// The PE kinds, their pairings and widths are golden/hw.h's table (pe_spec, pe_specs); sim/ adds
// only what is the accelerator's own: memories, DRAM, clock and energy.
// Energy per operation in pJ (docs/sim.md "Energy" gives the sources).
// One measurement of `logq power` (a row of results/power.csv): a PE kind on one pairing on the
// layers of one family of network.
struct MacEnergy {
  std::string family, kind;  // family: "cnn" or "transformer"
  Pairing pairing = Pairing::UxU;
  double mac_pj = 0;   // per MAC above the idle energy
  double idle_pj = 0;  // per PE and cycle, data or not (clock pins, leakage)
};
const std::vector<MacEnergy>& measured_mac_energies();  // results/power.csv, compiled in

struct EnergyTable {
  std::string model = "activity";  // activity (logq power, OSU 0.18 um) or horowitz45 (the 45 nm table)
  // Per single kind, from the config: they win over the model's numbers.
  std::map<std::string, double> mac_override, idle_override;
  // SRAM pJ per byte of each buffer; unset: from its size (Horowitz's 8 KB / 32 KB / 1 MB points,
  // × sram_scale: 16 in the activity model, to 0.18 um).
  std::optional<double> sram_read_pj_per_byte, sram_write_pj_per_byte;
  double sram_scale = 1.0;
  double dram_pj_per_byte = 0;
  std::string source;  // where the numbers come from, printed with the report

  // A MAC of this single kind on this pairing (unknown: a topology row) in a network of this
  // family ("": unknown). activity: the measurement of that kind, pairing and family; else of the
  // kind and pairing on the other family; else the mean of the kind's measurements.
  double mac_pj(const std::string& kind, std::optional<Pairing> pairing, const std::string& family) const;
  // Per PE and cycle (a composite: its largest part's: the parts share the operand registers and
  // the accumulator, which hold most of the clocked flops). horowitz45: 0.
  double idle_pj(const PeSpec& pe) const;
  double sram_pj_per_byte(int64_t buffer_bytes, bool write) const;
};

struct AccelConfig {
  std::string path;              // the file it came from ("" = defaults)
  int rows = 16, cols = 16;
  std::string pe = "universal";
  std::optional<double> clock_mhz;  // unset: the PE's fmax from `logq area`
  // SRAM buffers (bytes): activations (R banks), weights (C banks), outputs (C banks).
  int64_t act_sram_bytes = 256 * 1024, weight_sram_bytes = 256 * 1024, out_sram_bytes = 64 * 1024;
  bool double_buffer = true;
  double dram_gbps = 12.8;       // DRAM bandwidth, GB/s (1e9 bytes/s)
  double dram_latency_ns = 100;  // first-byte latency of each DMA transfer
  int out_bits = 16;             // width of each output word written back (dequantized result)
  // Operand word widths in SRAM/DRAM; unset: from each layer's formats (U(b): b, A(b): b+1, L(n): n+1).
  std::optional<int> act_bits, weight_bits;
  EnergyTable energy;
  VectorConfig vector;           // the non-GEMM unit at the output buffer (sim/vector_unit.h)

  const PeSpec& kind() const { return pe_spec(pe); }
  int vector_lanes() const { return vector.lanes.value_or(cols); }
  double clock() const;  // MHz; throws when unset
  // Words one bank of each buffer holds (per half when double-buffered).
  int64_t act_bank_words(int bits) const;
  int64_t weight_bank_words(int bits) const;
  int64_t out_words() const;  // of out_bits
  int64_t out_words(int bits) const;
  double dram_bytes_per_cycle() const;  // bandwidth at the clock
  uint64_t dram_latency_cycles() const;  // ceil(latency · clock)
};

AccelConfig default_accel();
AccelConfig load_accel(const std::string& path);
nlohmann::json load_accel_json(const std::string& path);  // the file's JSON, unchecked
AccelConfig parse_accel(const nlohmann::json& j, const std::string& where);  // `where` names the source in errors
nlohmann::json to_json(const AccelConfig& h);
// Sets energy_pj.model in a hardware config's JSON (the config's own overrides still win).
void set_energy_model(nlohmann::json& config, const std::string& model);

}  // namespace logq::sim
