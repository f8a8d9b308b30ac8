// Energy per MAC of a PE kind from the liberty and the model's own switching (`logq power`,
// docs/sim.md "Energy"). One array position (rtl/logq_pe_position.sv) is fed the operand words a
// real layer gives it; scripts/power.sh synthesizes it, simulates the netlist at gate level and
// prices every cell with OpenSTA; this file writes the stimulus and joins what the flow leaves:
//   energy = Σ_cells [ P0·T·cycles + (P1 − P0)·T·transitions ]
// P0, P1: the cell's power (OpenSTA report_power) at 0 and at 1 transition per cycle on every pin
// (the clock pin is always 2); transitions: of the cell's output nets in the simulation (a cell
// with two outputs: their mean). OpenSTA's power is linear in each pin's transition rate, so this
// is its power under the simulated activity, which its own report cannot take per pin here
// (Debian's OpenSTA 2019 takes activities on input ports only and propagates them assuming
// independent signals — the "vectorless" figure reported beside it).
#pragma once
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "golden/gemm.h"
#include "golden/hw.h"

namespace logq::sim {

// The stimulus of one array position: the K terms of each chosen output in order (valid, first
// on k = 0), the golden accumulator of each output checked on the cycle after its last term.
class PowerStimulus {
 public:
  explicit PowerStimulus(const PeSpec& pe);
  // Appends every `stride`-th output (m, n) of the job, counted over all jobs added (so a stride
  // samples whole outputs evenly across layers). hw: the layer's numerics.
  void add(const GemmProblem& p, const HwConfig& hw, int64_t stride);
  std::string text() const;       // stim.txt for testbenches/power_bench.cpp
  std::string ports_tcl() const;  // measured input-port activities, for OpenSTA's vectorless estimate
  int64_t macs() const { return macs_; }
  int64_t cycles() const { return int64_t(lines_.size()); }
  int64_t outputs() const { return outputs_; }

 private:
  struct Line {
    bool valid = false, first = false;
    uint32_t a = 0, w = 0;
    bool check = false;
    int64_t expect = 0;
  };
  const PeSpec& pe_;
  int mode_ = 0, frac_ = 0, half_ = 0;
  bool config_set_ = false;
  std::vector<Line> lines_;
  int64_t macs_ = 0, outputs_ = 0, seen_ = 0;
  bool pending_ = false;
  int64_t pending_acc_ = 0;
  std::vector<Line> finished() const;  // lines_ plus the trailing check of the last output
};

struct PowerResult {
  int64_t cycles = 0, macs = 0, cells = 0;
  double period_ns = 0;
  double pj_per_mac = 0;             // gate-level activity: the whole position's energy / MACs
  double idle_pj_per_cycle = 0;      // at no transitions: clock pins and leakage, per cycle
  double leakage_pj_per_cycle = 0;
  double vectorless_pj_per_mac = 0;  // OpenSTA's propagation from the measured input ports
  double mean_toggle_rate = 0;       // output transitions per cell per cycle
};

// Joins the flow's files (DIR/net.v, outputs.txt, sim.vcd, sta_a0.txt, sta_a1.txt,
// sta_vectorless.txt, flow.txt). Every file is checked; errors name it.
PowerResult join_power(const std::string& dir, int64_t cycles, int64_t macs);

// The parsers join_power uses (tests feed them small texts).
// Output transitions of every net of the top scope over the whole dump, per bit ("acc_o[3]").
std::map<std::string, int64_t> vcd_transitions(std::istream& in, const std::string& where);
std::map<std::string, int64_t> vcd_transitions(const std::string& text, const std::string& where);
// Each cell instance of a Yosys netlist and the nets on its output pins (outputs: "CELL PIN" lines).
struct NetlistCell {
  std::string name, cell;
  std::vector<std::string> output_nets;
};
std::vector<NetlistCell> netlist_cells(const std::string& verilog, const std::string& outputs, const std::string& where);
// report_power -instances rows: instance -> total W; report_power: the design's total W.
std::map<std::string, double> sta_instance_power(const std::string& text, const std::string& where);
double sta_total_power(const std::string& text, const std::string& where);

}  // namespace logq::sim
