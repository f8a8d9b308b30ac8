// `logq sim WORKLOAD --hw HW.json`: the SystemC accelerator model (sim/) on a quantized network
// (.lqm) or a SCALE-Sim topology (.csv): per layer and in total, compute and stall cycles,
// mapping efficiency and utilization, the vector unit's non-GEMM cycles, SRAM and DRAM traffic and
// bandwidth, energy, latency and images/s at the clock (the synthesized R x C array's fmax from
// `logq area` unless the config sets clock_mhz).
#include "cli/sim_cmd.h"

#include <map>
#include <optional>

#include <fmt/format.h>

#include "cli/area.h"
#include "cli/common.h"
#include "io/error.h"
#include "golden/lqm.h"
#include "sim/accelerator.h"
#include "sim/report.h"
#include "testbenches/rtl_array.h"

namespace logq::cli {

namespace {

struct Options {
  std::string workload, hw, csv, json_out, topology_out, backend = "fast";
  std::optional<int> rows, cols, act_bits, weight_bits, vector_lanes;
  std::optional<std::string> pe, energy_model;
  std::optional<double> clock_mhz;
  bool quiet = false, no_vector = false;
  uint32_t seed = 1;
  int64_t image = 0;
};

sim::AccelConfig accel_config(const Options& o) {
  nlohmann::json base = o.hw.empty() ? nlohmann::json::object() : sim::load_accel_json(o.hw);
  if (o.energy_model) sim::set_energy_model(base, *o.energy_model);
  sim::AccelConfig h = sim::parse_accel(base, o.hw.empty() ? "command line" : o.hw);
  h.path = o.hw;
  nlohmann::json over = sim::to_json(h);
  over.erase("energy_pj");  // the energy table does not depend on the array: kept as loaded
  bool changed = false;
  if (o.rows) over["array"]["rows"] = *o.rows, changed = true;
  if (o.cols) over["array"]["cols"] = *o.cols, changed = true;
  if (o.pe) over["array"]["pe"] = *o.pe, changed = true;
  if (o.clock_mhz) over["clock_mhz"] = *o.clock_mhz, changed = true;
  if (o.act_bits) over["words"]["act_bits"] = *o.act_bits, changed = true;
  if (o.weight_bits) over["words"]["weight_bits"] = *o.weight_bits, changed = true;
  if (o.no_vector) over["vector"]["enabled"] = false, changed = true;
  if (o.vector_lanes) over["vector"]["lanes"] = *o.vector_lanes, changed = true;
  if (!changed) return h;
  sim::AccelConfig n = sim::parse_accel(over, o.hw.empty() ? "command line" : o.hw + " + command line");
  n.energy = h.energy;
  n.path = h.path;
  return n;
}

// The clock of the design point, as `logq explore` sets it: the synthesized R x C array's fmax.
void set_clock(sim::AccelConfig& h) {
  if (h.clock_mhz) return;
  std::map<std::string, AreaRow> area;
  for (const AreaRow& r : area_results(clock_units(h.kind(), h.rows, h.cols))) area[r.unit] = r;
  h.clock_mhz = clock_mhz(h.kind(), h.rows, h.cols, area);
  const bool array = rtl_array_fits(h.rows, h.cols);
  fmt::print(stderr, "logq sim: clock {:.1f} MHz = fmax of {} (logq area, OSU 0.18 um{}; --clock-mhz sets it)\n", *h.clock_mhz,
             array ? fmt::format("the synthesized {}x{} {} array", h.rows, h.cols, h.pe) : fmt::format("one {} PE", h.pe),
             array ? "" : fmt::format("; the RTL array needs R, C >= {}", kMinArraySide));
}

void run(const Options& o) {
  sim::AccelConfig hw = accel_config(o);
  const bool lqm = o.workload.size() > 4 && o.workload.compare(o.workload.size() - 4, 4, ".lqm") == 0;
  std::optional<LqmFile> model;  // an .lqm is read once: the workload and the rtl back-end's operands
  if (lqm) model.emplace(LqmFile::open(o.workload));
  const sim::Workload w = lqm ? sim::workload_from_lqm(*model) : sim::load_workload(o.workload);
  if (!o.topology_out.empty()) {
    write_text(o.topology_out, sim::topology_csv(w));
    return;
  }
  if (o.backend != "fast" && o.backend != "rtl") throw Error(fmt::format("--backend: '{}' is not fast or rtl", o.backend));
  sim::check_workload(w, hw);  // before synthesis: bad configs fail fast
  set_clock(hw);
  std::unique_ptr<sim::ArrayBackend> backend;
  if (o.backend == "fast") backend = sim::make_fast_backend(hw);
  else if (lqm) backend = sim::make_model_rtl_backend(hw, *model, w, o.image);
  else backend = sim::make_rtl_backend(hw, o.seed);
  if (!o.quiet) fmt::print(stderr, "logq sim: {} layer(s) of {} on the {} back-end\n", w.layers.size(), w.name, backend->name());
  const sim::SimReport s = sim::simulate(w, hw, *backend);
  if (!o.quiet) fmt::print("{}", sim::report_table(s));
  fmt::print("simulated {} cycles in {:.3f} s ({:.3g} cycles/s, {} back-end)\n", s.total.total_cycles, s.wall_seconds,
             s.wall_seconds > 0 ? s.total.total_cycles / s.wall_seconds : 0.0, s.backend);
  if (!o.csv.empty()) write_text(o.csv, sim::report_csv(s));
  if (!o.json_out.empty()) write_text(o.json_out, sim::report_json(s).dump(2) + "\n");
}

}  // namespace

void add_sim(CLI::App& app) {
  static Options o;
  auto* c = app.add_subcommand("sim",
                               "Simulate an accelerator (SystemC/TLM: DRAM, DMA, double-buffered SRAM, PE array, a vector unit for the\n"
                               "non-GEMM work) running a network: per-layer cycles, stalls, utilization, SRAM/DRAM traffic and\n"
                               "bandwidth, energy, images/s. A layer whose K does not fit the buffers runs K-split.\n"
                               "The workload is an .lqm (logq export) or a SCALE-Sim topology CSV (configs/topologies/).");
  c->add_option("workload", o.workload, "MODEL.lqm or TOPOLOGY.csv")->required();
  c->add_option("--energy-model", o.energy_model,
                "activity (default: logq power's per-MAC and idle energies on OSU 0.18 um) or horowitz45 (the 45 nm table scaled by area)")
      ->check(CLI::IsMember({"activity", "horowitz45"}));
  c->add_option("--hw", o.hw, "hardware config JSON (configs/hw/*.json, docs/sim.md); default: 16x16 universal, 256/256/64 KiB act/weight/out SRAM, 12.8 GB/s, 100 ns");
  c->add_option("--rows", o.rows, "override array rows R");
  c->add_option("--cols", o.cols, "override array columns C");
  c->add_option("--pe", o.pe, "override the PE kind (" + pe_spec_names() + ")");
  c->add_option("--clock-mhz", o.clock_mhz, "override the clock (default: the config's clock_mhz, else the synthesized R x C array's fmax from logq area)");
  c->add_option("--act-bits", o.act_bits, "activation word bits in SRAM/DRAM (default: from each layer's format)");
  c->add_option("--weight-bits", o.weight_bits, "weight word bits in SRAM/DRAM (default: from each layer's format)");
  std::string arrays;  // the Verilated arrays this build links (testbenches/rtl_models.cpp)
  for (const RtlArrayConfig& a : verilated_arrays())
    arrays += (arrays.empty() ? "" : ", ") + rtl_array_label(a);
  c->add_option("--backend", o.backend,
                "fast (the RTL schedule in closed form) or rtl (each block on a Verilated array of the config's RxC - this build has\n" +
                    arrays + " - on the model's own operands for an .lqm, checked against golden's accumulators block by block)")
      ->capture_default_str();
  c->add_option("--image", o.image, "rtl back-end on an .lqm: the sample image whose operands golden computes")->capture_default_str();
  c->add_option("--seed", o.seed, "rtl back-end on a topology CSV (no codes): seed of its random operands")->capture_default_str();
  c->add_option("--csv", o.csv, "write the per-layer report as CSV (- for stdout)");
  c->add_option("--json", o.json_out, "write the report as JSON (- for stdout)");
  c->add_option("--topology-out", o.topology_out, "write the workload's array jobs as a SCALE-Sim GEMM topology CSV and stop");
  c->add_flag("-q,--quiet", o.quiet, "print only the summary line");
  c->add_flag("--no-vector", o.no_vector,
              "leave out the vector unit (dequantize, LayerNorm, softmax, GELU, adds, pooling, quantize between GEMMs): the array alone");
  c->add_option("--vector-lanes", o.vector_lanes, "lanes of the vector unit (default: the config's vector.lanes, else the array's columns)");
  c->callback([] { run(o); });
}

}  // namespace logq::cli
