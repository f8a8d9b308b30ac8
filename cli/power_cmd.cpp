// `logq power MODEL.lqm...`: energy per MAC of each PE kind on a real layer of the model, from the
// OSU 0.18 um liberty and the model's own switching (sim/power.h, scripts/power.sh; docs/sim.md
// "Energy"). For each PE kind: the GEMMs of the chosen layers that kind computes, on the codes the
// golden network gives the file's sample image(s), sampled as whole outputs up to --macs; one array
// position is fed them at gate level and priced by OpenSTA. Results are cached by the RTL, the
// flow and the stimulus.
#include "cli/power_cmd.h"
#include "cli/common.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "golden/lower.h"
#include "golden/network.h"
#include "io/error.h"
#include "io/file_io.h"
#include "sim/power.h"
#include "sim/workload.h"

namespace logq::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Options {
  std::vector<std::string> models;
  std::vector<std::string> pes = {"int8", "uu4", "lu", "ua", "la"};
  std::vector<std::string> layers;
  int64_t images = 1, macs = 20000;
  std::string csv, json_out, keep;
  bool no_cache = false;
};

struct Job {
  const GemmRecord* g = nullptr;
  int w_bits = 0, a_bits = 0;  // the layer's formats (U(b), L(n), A(b))
  std::vector<int32_t> x, b;
};

// The GEMMs of a job, lowered (golden/lower: the jobs the array runs).
void lower_job(const Job& j, const JobFn& fn) {
  const QLayer& l = j.g->layer;
  const WeightOperand w = l.op == LayerOp::Matmul ? WeightOperand{} : weight_operand(l);
  lower_layer(l, w.d.empty() ? nullptr : w.d.data(), w.l.empty() ? nullptr : w.l.data(), j.x, input_rows(l, j.x.size()), j.b, fn);
}

bool pe_takes(const PeSpec& pe, const Job& j) {
  const QLayer& l = j.g->layer;
  if (j.g->float_input || !pe.takes(l.pairing, j.w_bits, j.a_bits)) return false;
  return !log_weights(l.pairing) || mantissa_matches(pe, l.hw.mant_frac_bits);
}

// Cache key: the RTL, the flow and the stimulus.
uint64_t flow_hash(const fs::path& root, const std::string& pe, const std::string& stim, const std::string& ports) {
  uint64_t h = fnv1a(pe + ";");
  for (const char* f : {"scripts/power.sh", "testbenches/power_bench.cpp"}) h = fnv1a(read_text_file((root / f).string()), h);
  return fnv1a(ports, fnv1a(stim, rtl_hash(h)));
}

json to_json(const sim::PowerResult& r) {
  return {{"cycles", r.cycles}, {"macs", r.macs}, {"cells", r.cells}, {"period_ns", r.period_ns}, {"pj_per_mac", r.pj_per_mac},
          {"idle_pj_per_cycle", r.idle_pj_per_cycle}, {"leakage_pj_per_cycle", r.leakage_pj_per_cycle},
          {"vectorless_pj_per_mac", r.vectorless_pj_per_mac}, {"mean_toggle_rate", r.mean_toggle_rate}};
}

sim::PowerResult from_json(const json& j) {
  sim::PowerResult r;
  r.cycles = j.at("cycles");
  r.macs = j.at("macs");
  r.cells = j.at("cells");
  r.period_ns = j.at("period_ns");
  r.pj_per_mac = j.at("pj_per_mac");
  r.idle_pj_per_cycle = j.at("idle_pj_per_cycle");
  r.leakage_pj_per_cycle = j.at("leakage_pj_per_cycle");
  r.vectorless_pj_per_mac = j.at("vectorless_pj_per_mac");
  r.mean_toggle_rate = j.at("mean_toggle_rate");
  return r;
}

// Runs scripts/power.sh on the stimulus (or reads the cached result).
sim::PowerResult measure(const Options& o, const std::string& pe, const sim::PowerStimulus& st, const std::string& label) {
  const fs::path root = project_root();
  if (!fs::exists(root / "scripts/power.sh")) throw Error(fmt::format("{}: scripts/power.sh not found (set LOGQ_ROOT)", root.string()));
  const std::string stim = st.text(), ports = st.ports_tcl();
  const fs::path cached = fs::path(cache_dir("power")) / fmt::format("{:016x}.json", flow_hash(root, pe, stim, ports));
  if (!o.no_cache && fs::exists(cached)) {
    fmt::print(stderr, "logq power: {}: cached {}\n", label, cached.string());
    return from_json(json::parse(read_text_file(cached.string())));
  }
  std::string dir;
  if (!o.keep.empty()) {
    dir = (fs::path(o.keep) / label).string();
    fs::create_directories(dir);
  } else {
    std::string tmpl = (fs::temp_directory_path() / "logq_power.XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw Error("logq power: cannot create a temp directory");
    dir = tmpl;
  }
  write_file_atomic(dir + "/stim.txt", stim.data(), stim.size());
  write_file_atomic(dir + "/ports.tcl", ports.data(), ports.size());
  fmt::print(stderr, "logq power: {}: {} MACs, {} cycles: synthesis, gate-level simulation, OpenSTA (about a minute)\n", label, st.macs(), st.cycles());
  const std::string cmd = fmt::format("bash {} {} {}", shell_quote((root / "scripts/power.sh").string()), shell_quote(pe), shell_quote(dir));
  if (std::system(cmd.c_str()) != 0) throw Error(fmt::format("scripts/power.sh failed for {} (files in {}; a mismatch is in sim.txt)", label, dir));
  const sim::PowerResult r = sim::join_power(dir, st.cycles(), st.macs());
  if (o.keep.empty()) fs::remove_all(dir);
  fs::create_directories(cache_dir("power"));
  write_text(cached.string(), to_json(r).dump(2) + "\n");
  return r;
}

struct Row {
  std::string model, pe, pairing, layers, family;
  int64_t jobs = 0, outputs = 0;
  sim::PowerResult r;
};

void run(const Options& o) {
  std::vector<Row> rows;
  for (const std::string& model : o.models) {
    const LqmFile f = LqmFile::open(model);
    Network net(f);
    const SafetensorsFile& st = f.file();
    const TensorInfo* imgs = st.find("samples/images");
    if (!imgs || imgs->shape.empty() || imgs->shape[0] == 0) throw Error(fmt::format("{}: no sample images (export with --export-samples N > 0)", model));
    const int64_t n = std::min(o.images, imgs->shape[0]), per = numel(net.input_shape());
    const std::vector<std::string> prefixes = o.layers.empty() ? std::vector<std::string>{first_block(net.gemms(), "logq power")} : o.layers;
    std::map<std::string, const GemmRecord*> by;
    for (const auto& g : net.gemms()) by[g.name] = &g;
    std::map<std::string, std::pair<int, int>> fmt_bits;
    for (const LqmGemm& g : f.model().gemms) fmt_bits[g.name] = {g.w.bits, g.x.bits};
    std::vector<Job> jobs;
    net.on_codes = [&](const std::string& layer, const std::vector<int32_t>& x, const std::vector<int32_t>& b) {
      if (layer_in(prefixes, layer)) jobs.push_back({by.at(layer), fmt_bits.at(layer).first, fmt_bits.at(layer).second, x, b});
    };
    const auto x = st.read<float>("samples/images", DType::F32);
    for (int64_t i = 0; i < n; ++i) net.run(std::vector<float>(x.begin() + i * per, x.begin() + (i + 1) * per));
    if (jobs.empty()) throw Error(fmt::format("logq power: {}: no GEMM layer matches {}", model, fmt::join(prefixes, ", ")));
    // The model's family (sim picks the energies measured on its kind of network).
    const std::string family = sim::workload_family(sim::workload_from_lqm(f));
    for (const std::string& name : o.pes) {
      const PeSpec& pe = pe_spec(name);
      for (const Pairing pairing : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA}) {
        if (!pe.runs(pairing)) continue;
        // The layers of this pairing the kind computes, configured as the first of them (F, rounding).
        std::vector<const Job*> taken;
        int64_t total = 0;
        for (const Job& j : jobs) {
          const QLayer& l = j.g->layer;
          if (l.pairing != pairing || !pe_takes(pe, j)) continue;
          if (!taken.empty() && (l.hw.frac_bits != taken[0]->g->layer.hw.frac_bits || l.hw.rounding != taken[0]->g->layer.hw.rounding)) continue;
          taken.push_back(&j);
          lower_job(j, [&](const GemmProblem& p, const JobPlace&) { total += p.M * p.N * p.K; });
        }
        if (taken.empty()) continue;
        sim::PowerStimulus s(pe);
        const int64_t stride = std::max<int64_t>(1, (total + o.macs - 1) / o.macs);
        std::set<std::string> names;
        for (const Job* j : taken) {
          names.insert(j->g->name);
          lower_job(*j, [&](const GemmProblem& p, const JobPlace&) { s.add(p, j->g->layer.hw, stride); });
        }
        Row row{model, name, pairing_name(pairing), fmt::format("{}", fmt::join(names, " ")), family, int64_t(taken.size()), s.outputs(), {}};
        row.r = measure(o, name, s, fmt::format("{}_{}_{}", fs::path(model).stem().string(), name, pairing_name(pairing)));
        rows.push_back(row);
      }
      if (std::none_of(rows.begin(), rows.end(), [&](const Row& r) { return r.model == model && r.pe == name; }))
        fmt::print("{}: no layer of {} runs on {} (skipped)\n", model, fmt::join(prefixes, ", "), name);
    }
  }
  fmt::print("\n{:<28} {:<10} {:<5} {:>7} {:>6} {:>9} {:>11} {:>8} {:>11}  {}\n", "model", "PE", "pair", "MACs", "cells", "pJ/MAC",
             "idle pJ/cyc", "toggles", "vectorless", "layers");
  for (const Row& w : rows)
    fmt::print("{:<28} {:<10} {:<5} {:>7} {:>6} {:>9.4f} {:>11.4f} {:>8.3f} {:>11.4f}  {}\n", fs::path(w.model).filename().string(), w.pe,
               w.pairing, w.r.macs, w.r.cells, w.r.pj_per_mac, w.r.idle_pj_per_cycle, w.r.mean_toggle_rate, w.r.vectorless_pj_per_mac, w.layers);
  fmt::print("\npJ/MAC: one array position (operand registers + PE, 32-bit accumulator) per MAC, gate-level activity on\n"
             "the model's own operands, OSU 0.18 um liberty at 1.8 V (OpenSTA), {} ns clock. idle: clock pins and\n"
             "leakage per cycle with no data moving. toggles: output transitions per cell per cycle. vectorless:\n"
             "OpenSTA propagating the measured input-port activities itself (independent signals assumed).\n",
             rows.empty() ? 10.0 : rows[0].r.period_ns);
  if (!o.csv.empty()) {
    std::string c = "model,pe,pairing,macs,cycles,cells,pj_per_mac,idle_pj_per_cycle,leakage_pj_per_cycle,vectorless_pj_per_mac,mean_toggle_rate,jobs,outputs,layers,family\n";
    for (const Row& w : rows)
      c += fmt::format("{},{},{},{},{},{},{:.5f},{:.5f},{:.6f},{:.5f},{:.4f},{},{},\"{}\",{}\n", fs::path(w.model).filename().string(), w.pe, w.pairing,
                       w.r.macs, w.r.cycles, w.r.cells, w.r.pj_per_mac, w.r.idle_pj_per_cycle, w.r.leakage_pj_per_cycle, w.r.vectorless_pj_per_mac,
                       w.r.mean_toggle_rate, w.jobs, w.outputs, w.layers, w.family);
    write_text(o.csv, c);
  }
  if (!o.json_out.empty()) {
    json arr = json::array();
    for (const Row& w : rows) {
      json j = to_json(w.r);
      j["model"] = w.model, j["pe"] = w.pe, j["pairing"] = w.pairing, j["family"] = w.family, j["layers"] = w.layers, j["jobs"] = w.jobs, j["outputs"] = w.outputs;
      arr.push_back(j);
    }
    write_text(o.json_out, arr.dump(2) + "\n");
  }
}

}  // namespace

void add_power(CLI::App& app) {
  static Options o;
  std::string kinds;
  for (const PeSpec& k : pe_specs())
    if (!k.composite()) kinds += (kinds.empty() ? "" : ", ") + k.name;
  auto* c = app.add_subcommand("power",
                               "Energy per MAC of PE kinds from the OSU 0.18 um liberty and the model's own switching: one array\n"
                               "position fed a real layer's operand words, simulated at gate level (Verilator on the Yosys netlist,\n"
                               "accumulators checked against golden), every cell priced by OpenSTA. Cached; about a minute per PE kind.");
  c->add_option("models", o.models, "exported .lqm files (their sample images give the codes)")->required();
  c->add_option("--pe", o.pes, fmt::format("single PE kinds to price, each on every pairing it runs ({})", kinds))->delimiter(',')->capture_default_str();
  c->add_option("--layers", o.layers, "layer name prefixes (default: blocks.0 of a ViT, layer1.0 of a ResNet)");
  c->add_option("--images", o.images, "sample images whose codes feed the layers")->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{64}));
  c->add_option("--macs", o.macs, "MACs to simulate per PE kind (whole outputs, sampled evenly over the layers)")
      ->capture_default_str()->check(CLI::Range(int64_t{100}, int64_t{1000000}));
  c->add_option("--csv", o.csv, "write the rows as CSV to FILE (- for stdout)");
  c->add_option("--json", o.json_out, "write the rows as JSON to FILE (- for stdout)");
  c->add_option("--keep", o.keep, "keep each flow's files (netlist, stimulus, VCD, OpenSTA reports) under DIR");
  c->add_flag("--no-cache", o.no_cache, "re-run the flow even if a cached result exists");
  c->callback([] {
    for (const auto& p : o.pes) pe_spec(p);  // unknown names fail before any work
    run(o);
  });
}

}  // namespace logq::cli
