// `logq explore`: the area / throughput / energy / accuracy trade-off of accelerators for given
// quantized models. For each model (.lqm) and each PE kind that can run all of its layers, each
// array size and accumulator width: top-1 under that hardware's numerics (`logq golden` with the
// PE's mantissa and the width), PE area and the R x C array's fmax (`logq area`: Yosys + OpenSTA on
// OSU 0.18 um, cached), and cycles, images/s and energy per image (`logq sim`'s fast model at that clock).
// Writes explore.csv, the Pareto fronts, PNG plots (gnuplot) and explore.html (cli/explore_report).
#include "cli/explore_cmd.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "batch/plan.h"
#include "cli/area.h"
#include "cli/common.h"
#include "cli/explore_report.h"
#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "golden/layer.h"
#include "sim/accelerator.h"
#include "sim/report.h"

namespace logq::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// A synthesized R x C array is larger than R·C standalone PEs: every PE also registers both operands
// to pass them on, and the edges add decoders. Measured on the two 16x16 arrays of docs/results.md
// (tiled from the PE's own netlist, registered drain select and configuration): INT8 8,656,352 um^2 =
// 1.112 x 256 PEs, L(4)xU(8) 5,996,768 um^2 = 1.159 x 256 PEs; logq explore scales PE area by their mean.
constexpr double kArrayOverhead = (8656352.0 / (256 * 30407.0) + 5996768.0 / (256 * 20210.0)) / 2;

struct Options {
  std::vector<std::string> models, pes, arrays = {"8x8", "16x16"};
  std::vector<int> acc_bits = {0};
  std::string data, split = "test", hw, out = "explore", energy_model;
  std::string plan, merge, cluster;  // split the golden runs and synthesis into tasks (batch/plan.h), or merge them
  int64_t images = 1000, jobs = 2;
  double accuracy_window = 5;  // pp below the best that the plots' accuracy axis shows
  bool no_plots = false, any_mantissa = false;
};

struct ModelInfo {
  std::string path, name, method, label;  // label: name/method WxAy (what the CSV and plots show)
  sim::Workload w;
  std::set<Pairing> pairings;
  int log_mant = 0;  // LogART odd mantissa bits f it was exported with (0: none)
  std::vector<std::pair<int, bool>> layer_acc;  // each layer's no-overflow width in the file, and whether it has LogART weights
  // The widest no-overflow width on a PE of mantissa f: LogART products scale with 2^f (both
  // mantissas are below 2^(f+1)), so a layer's width moves by f − f_file.
  int default_acc(int pe_mant) const {
    int w = 0;
    for (const auto& [acc, log_w] : layer_acc) w = std::max(w, log_w ? acc - log_mant + pe_mant : acc);
    return w;
  }
};

using Point = ExplorePoint;

ModelInfo model_info(const std::string& path) {
  ModelInfo m;
  m.path = path;
  const LqmFile f = LqmFile::open(path);  // read once: the typed model gives the workload, the layers their widths
  const json& md = f.model().meta;
  m.name = md.value("name", std::string("model"));
  m.method = md.value("method", std::string("?"));
  const int64_t wb = md.value("w_bits", int64_t{0}), ab = md.contains("a_bits") ? md.value("a_bits", int64_t{0}) : md.value("act_bits", int64_t{0});
  m.w = sim::workload_from_lqm(f);
  for (const LqmGemm& g : f.model().gemms) {
    if (g.float_input) throw Error(fmt::format("{}: layer '{}' has a float input; export with --act-bits so every GEMM runs on the array", path, g.name));
    // The layer's default no-overflow width depends on its LogART weights' span: decode this one layer.
    const QLayer l = load_layer(f, g.name);
    m.pairings.insert(l.pairing);
    const bool log_w = l.pairing == Pairing::LxU || l.pairing == Pairing::LxA;
    m.layer_acc.push_back({l.hw.acc_bits, log_w});
    if (log_w) m.log_mant = std::max(m.log_mant, l.hw.mant_frac_bits);
  }
  m.label = fmt::format("{}/{} W{}A{}{}", m.name, m.method, wb, ab, m.log_mant > 1 ? " exact" : "");
  return m;
}

// Can this PE kind run every layer? Pairing and operand widths (docs/rtl.md, scripts/area.sh).
// A composite only where each of its datapaths computes some layer (else a single kind does it).
bool kind_fits(const PeSpec& k, const ModelInfo& m) {
  std::set<std::string> used;
  for (const sim::SimLayer& l : m.w.layers) {
    if (!k.takes(l.pairing, l.w_fmt_bits, l.a_fmt_bits)) return false;
    used.insert(k.part_for(l.pairing, l.w_fmt_bits, l.a_fmt_bits).name);
  }
  return k.parts.empty() || used.size() == k.parts.size();
}

// Other pairings than golden/hw's mantissa_matches need --any-mantissa.
bool mantissa_matches(const PeSpec& k, const ModelInfo& m) { return logq::mantissa_matches(k, m.log_mant); }

// Golden top-1 (and overflows) for a model under one hardware setting, via `logq golden`.
std::pair<double, int64_t> golden_accuracy(const Options& o, const ModelInfo& m, int acc_bits, int mant_frac_bits) {
  const std::string js = (fs::path(o.out) / fmt::format("golden_{}_acc{}_f{}.json", fs::path(m.path).stem().string(), acc_bits, mant_frac_bits)).string();
  std::string cmd = fmt::format("{} golden {} --data {} --split {} --limit {} -j {} --no-progress --json {}", shell_quote(batch::this_executable()), shell_quote(m.path),
                                shell_quote(o.data), shell_quote(o.split), o.images, o.jobs, shell_quote(js));
  cmd += fmt::format(" --acc-bits {}", acc_bits);
  if (m.pairings.count(Pairing::LxU) || m.pairings.count(Pairing::LxA)) cmd += fmt::format(" --mant-frac-bits {}", mant_frac_bits);
  // A result of an earlier run in the same directory: the same command on an unchanged model.
  if (fs::exists(js) && fs::last_write_time(js) > fs::last_write_time(m.path)) {
    std::ifstream f(js);
    const json j = json::parse(f, nullptr, false);
    if (!j.is_discarded() && j.value("command", std::string()) == cmd && j.contains("golden_top1")) {
      fmt::print("  golden {} (acc {}, f = {}): {} (earlier run)\n", fs::path(m.path).filename().string(), acc_bits, mant_frac_bits, js);
      int64_t ovf = 0;
      for (const auto& l : j.at("layers")) ovf += l.at("overflows").get<int64_t>();
      return {j.at("golden_top1").get<double>(), ovf};
    }
  }
  fmt::print("  golden {} (acc {}, f = {}) on {} images\n", fs::path(m.path).filename().string(), acc_bits, mant_frac_bits, o.images);
  std::fflush(stdout);
  if (std::system((cmd + " > /dev/null").c_str()) != 0) throw Error(fmt::format("logq explore: `{}` failed", cmd));
  std::ifstream in(js);
  json j = json::parse(in);
  in.close();
  j["command"] = cmd;  // the key of the reuse check above
  write_text(js, j.dump(2) + "\n");
  int64_t ovf = 0;
  for (const auto& l : j.at("layers")) ovf += l.at("overflows").get<int64_t>();
  return {j.at("golden_top1").get<double>(), ovf};
}

// One fast simulation in a child process (SystemC elaborates once per process).
json simulate_point(const sim::Workload& w, const sim::AccelConfig& hw) {
  const auto parts = run_in_processes(1, [&](int64_t) {
    auto b = sim::make_fast_backend(hw);
    return sim::report_json(sim::simulate(w, hw, *b)).dump();
  }, "logq explore (sim)");
  return json::parse(parts.at(0));
}

std::pair<int, int> parse_array(const std::string& s) {
  const size_t x = s.find('x');
  int r = 0, c = 0;
  try {
    if (x == std::string::npos) throw std::invalid_argument(s);
    r = std::stoi(s.substr(0, x));
    c = std::stoi(s.substr(x + 1));
  } catch (const std::exception&) {
    throw Error(fmt::format("--arrays: '{}' is not RxC (e.g. 16x16)", s));
  }
  // The RTL array (rtl/logq_pe_array.sv), synthesized for each point's clock, has R, C >= 2.
  if (r < 2 || c < 2 || r > 256 || c > 256) throw Error(fmt::format("--arrays: '{}' outside 2x2..256x256", s));
  return {r, c};
}

// Pareto fronts: more accuracy and less area; more accuracy and more images/s/mm^2; more accuracy and less energy.
void mark_pareto(std::vector<Point>& pts) {
  for (auto& p : pts) {
    p.pareto_area = p.pareto_throughput = p.pareto_energy = true;
    for (const auto& q : pts) {
      if (&p == &q) continue;
      const bool acc_ge = q.top1 >= p.top1, acc_gt = q.top1 > p.top1;
      if (acc_ge && q.array_area_mm2 <= p.array_area_mm2 && (acc_gt || q.array_area_mm2 < p.array_area_mm2)) p.pareto_area = false;
      if (acc_ge && q.ips_per_mm2() >= p.ips_per_mm2() && (acc_gt || q.ips_per_mm2() > p.ips_per_mm2())) p.pareto_throughput = false;
      if (acc_ge && q.energy_uj <= p.energy_uj && (acc_gt || q.energy_uj < p.energy_uj)) p.pareto_energy = false;
    }
  }
}

std::string csv_of(const std::vector<Point>& pts) {
  std::string o = "model,file,method,pe,array,rows,cols,acc_bits,mant_frac_bits,top1,overflows,pe_area_um2,array_area_mm2,fmax_mhz,cycles,images_per_s,"
                  "images_per_s_per_mm2,energy_uj,mac_energy_uj,pareto_area,pareto_throughput,pareto_energy,vector_cycles,vector_energy_uj\n";
  for (const auto& p : pts)
    o += fmt::format("{},{},{},{},{},{},{},{},{},{:.2f},{},{:.0f},{:.4f},{:.1f},{},{:.1f},{:.1f},{:.3f},{:.4f},{},{},{},{},{:.4f}\n", p.model, p.file, p.method, p.pe, p.array,
                     p.rows, p.cols, p.acc_bits, p.mant_frac_bits, p.top1, p.overflows, p.pe_area_um2, p.array_area_mm2, p.fmax_mhz, p.cycles,
                     p.images_per_s, p.ips_per_mm2(), p.energy_uj, p.mac_energy_uj, int(p.pareto_area), int(p.pareto_throughput), int(p.pareto_energy),
                     p.vector_cycles, p.vector_energy_uj);
  return o;
}

// The study: the models, the PE kinds that run each, the synthesized units and the golden runs
// (one per model, accumulator width and mantissa: shared by every array size and by kinds that agree).
struct GoldenRun {
  size_t model = 0;
  int width = 0, mant_frac_bits = 0;  // mant_frac_bits: the PE's; passed to golden for LogART models only
  bool log_w = false;
  std::tuple<size_t, int, int> key() const { return {model, width, log_w ? mant_frac_bits : 0}; }
};

struct Study {
  std::vector<ModelInfo> models;
  std::vector<std::pair<size_t, const PeSpec*>> pairs;
  std::vector<std::string> units;  // PE units and accumulators, then arrays ("array:KIND:R:C")
  std::vector<GoldenRun> golden;
};

int point_width(int a, const ModelInfo& m, const PeSpec& kind) { return a ? a : m.default_acc(kind.mant_frac_bits()); }

bool has_log_weights(const ModelInfo& m) { return m.pairings.count(Pairing::LxU) || m.pairings.count(Pairing::LxA); }

Study plan_study(const Options& o, const std::vector<std::pair<int, int>>& arrays) {
  Study st;
  std::set<std::string> units, array_units;
  for (const auto& path : o.models) {
    st.models.push_back(model_info(path));
    const ModelInfo& m = st.models.back();
    int fits = 0;
    for (const PeSpec& k : pe_specs()) {
      if (!o.pes.empty() && std::find(o.pes.begin(), o.pes.end(), k.name) == o.pes.end()) continue;
      if (!kind_fits(k, m) || (!o.any_mantissa && !mantissa_matches(k, m))) continue;
      st.pairs.push_back({st.models.size() - 1, &k});
      for (const PeSpec* p : parts_of(k)) units.insert(p->area_unit());
      for (const auto& [R, C] : arrays)
        for (const auto& u : clock_units(k, R, C)) array_units.insert(u);
      ++fits;
    }
    fmt::print("{} ({}): {} layers; PE kinds that take it: {}\n", path, m.label, m.w.layers.size(), fits);
    if (!fits) throw Error(fmt::format("{}: no PE kind{} runs every layer of this model", path, o.pes.empty() ? "" : " of --pe"));
  }
  std::set<std::tuple<size_t, int, int>> seen;
  for (const auto& [mi, kind] : st.pairs)
    for (int a : o.acc_bits) {
      const GoldenRun g{mi, point_width(a, st.models[mi], *kind), kind->mant_frac_bits(), has_log_weights(st.models[mi])};
      units.insert(fmt::format("acc{}", g.width));
      if (seen.insert(g.key()).second) st.golden.push_back(g);
    }
  units.insert("acc32");
  units.insert("acc48");
  st.units.assign(units.begin(), units.end());
  st.units.insert(st.units.end(), array_units.begin(), array_units.end());
  return st;
}

// ---- split into tasks (--plan) and merged back (--merge) -----------------------------------

std::string golden_result_name(size_t i) { return fmt::format("{:04d}.json", i); }

std::vector<std::string> golden_task_argv(const Options& o, const ModelInfo& m, const GoldenRun& g, const std::string& result) {
  std::vector<std::string> a = {"logq", "golden", batch::absolute(m.path), "--data", batch::absolute(o.data), "--split", o.split,
                                "--limit", std::to_string(o.images), "--no-progress", "--acc-bits", std::to_string(g.width)};
  if (g.log_w) a.insert(a.end(), {"--mant-frac-bits", std::to_string(g.mant_frac_bits)});
  a.insert(a.end(), {"--json", "{dir}/results/" + result});
  return a;
}

batch::Plan tasks_of(const Options& o, const Study& st) {
  batch::Plan p;
  p.command = "explore";
  p.programs["logq"] = batch::this_executable();
  p.cluster = batch::load_cluster_config(o.cluster);
  std::string units, arrays;  // `logq area` takes arrays as --arrays KIND:R:C
  const auto append = [](std::string& list, const std::string& item) { list += (list.empty() ? "" : ",") + item; };
  for (const auto& u : st.units) {
    if (u.rfind("array:", 0) == 0) append(arrays, u.substr(std::string("array:").size()));
    else append(units, u);
  }
  p.tasks.push_back({"0000", fmt::format("area of {} unit(s)", st.units.size()),
                     {"logq", "area", "--units", units, "--arrays", arrays, "--csv", "{dir}/results/area.csv"}, "area.csv"});
  for (const GoldenRun& g : st.golden) {
    batch::Task t;
    t.id = fmt::format("{:04d}", p.tasks.size());
    t.result = golden_result_name(p.tasks.size());
    const ModelInfo& m = st.models[g.model];
    t.label = fmt::format("golden {} acc{}{}", fs::path(m.path).filename().string(), g.width, g.log_w ? fmt::format(" f{}", g.mant_frac_bits) : "");
    t.argv = golden_task_argv(o, m, g, t.result);
    p.tasks.push_back(t);
  }
  // The study is what the tasks compute: their command lines.
  for (const auto& t : p.tasks) {
    std::string line;
    for (const auto& a : t.argv) line += (line.empty() ? "" : " ") + a;
    p.study.push_back(line);
  }
  return p;
}

// A golden report read back from a task: a file like any other, checked before use.
std::pair<double, int64_t> accuracy_of(const std::string& path) {
  const json j = read_json_file(path, "golden report");
  try {
    const double top1 = j.at("golden_top1").get<double>();
    int64_t ovf = 0;
    for (const auto& l : j.at("layers")) ovf += l.at("overflows").get<int64_t>();
    return {top1, ovf};
  } catch (const json::exception&) {
    throw Error(fmt::format("{}: not a `logq golden --json` report (golden_top1, layers[].overflows)", path));
  }
}

void run(const Options& o) {
  if (o.models.empty()) throw Error("logq explore: give one or more quantized models (.lqm, logq quantize --export)");
  if (o.data.empty()) throw Error("logq explore: --data is required (the images the accuracy is measured on)");
  if (o.images < 1) throw Error("--images must be >= 1");
  if (!o.plan.empty() && !o.merge.empty()) throw Error("--plan and --merge exclude each other");
  for (int a : o.acc_bits)
    if (a != 0 && (a < 8 || a > 48)) throw Error(fmt::format("--acc-bits {} outside 8..48 (0: the model's no-overflow width)", a));
  std::vector<std::pair<int, int>> arrays;
  for (const auto& a : o.arrays) arrays.push_back(parse_array(a));
  for (const auto& p : o.pes) pe_spec(p);  // unknown kinds fail here
  json base = o.hw.empty() ? json::object() : sim::load_accel_json(o.hw);
  if (!o.energy_model.empty()) sim::set_energy_model(base, o.energy_model);
  if (!o.hw.empty()) sim::parse_accel(base, o.hw);  // a bad base config fails before any work

  const Study st = plan_study(o, arrays);
  if (!o.plan.empty()) {
    const std::string dir = batch::absolute(o.plan);
    const batch::Plan p = tasks_of(o, st);
    batch::write_plan(dir, p);
    fmt::print("{}", batch::plan_summary(dir, p, batch::merge_command_line(command_line(), dir)));
    return;
  }
  fs::create_directories(o.out);
  std::optional<batch::Plan> merged;
  std::string merge_dir;
  if (!o.merge.empty()) {
    merge_dir = batch::absolute(o.merge);
    const batch::Plan want = tasks_of(o, st);
    merged = batch::complete_plan(merge_dir, "explore", want.study);
  }
  const std::vector<AreaRow> rows = merged ? parse_area_csv(read_text_file(batch::result_path(merge_dir, merged->tasks[0])), batch::result_path(merge_dir, merged->tasks[0]))
                                           : area_results(st.units);
  std::map<std::string, AreaRow> area;
  for (const auto& r : rows) area[r.unit] = r;
  for (const auto& u : st.units)
    if (!area.count(u)) throw Error(fmt::format("area results lack unit '{}'", u));
  std::map<std::tuple<size_t, int, int>, std::pair<double, int64_t>> acc_cache;
  for (size_t i = 0; i < st.golden.size(); ++i) {
    const GoldenRun& g = st.golden[i];
    acc_cache[g.key()] = merged ? accuracy_of(batch::result_path(merge_dir, merged->tasks[i + 1])) : golden_accuracy(o, st.models[g.model], g.width, g.mant_frac_bits);
  }
  const auto& models = st.models;
  std::vector<Point> pts;
  for (const auto& [mi, kind] : st.pairs) {
    const ModelInfo& m = models[mi];
    for (int a : o.acc_bits) {
      const int width = point_width(a, m, *kind);
      // golden ran at exactly this width: its overflow count checks the no-overflow default too.
      const auto [top1, ovf] = acc_cache.at(GoldenRun{mi, width, kind->mant_frac_bits(), has_log_weights(m)}.key());
      // PE area with this accumulator: each synthesized datapath (its PE less its 32-bit accumulator;
      // universal: 48) plus one accumulator of this width.
      double pe_area = area.at(fmt::format("acc{}", width)).area_um2;
      for (const PeSpec* part : parts_of(*kind)) {
        const AreaRow& pe = area.at(part->area_unit());
        pe_area += pe.area_um2 - area.at(part->name == "universal" ? "acc48" : "acc32").area_um2;
      }
      for (const auto& [R, C] : arrays) {
        const double fmax = clock_mhz(*kind, R, C, area);  // the synthesized array's, as logq sim's
        json j = base;  // the user's SRAM/DRAM/energy table; the swept array, PE and clock
        j["array"] = {{"rows", R}, {"cols", C}, {"pe", kind->name}};
        j["clock_mhz"] = fmax;
        const sim::AccelConfig hw = sim::parse_accel(j, o.hw.empty() ? "explore point" : o.hw + " (explore point)");
        Point p;
        p.model = m.label;
        p.file = fs::path(m.path).filename().string();
        p.method = m.method;
        p.pe = kind->name;
        p.array = fmt::format("{}x{}", R, C);
        p.rows = R, p.cols = C, p.acc_bits = width, p.mant_frac_bits = kind->mant_frac_bits();
        p.top1 = top1;
        p.overflows = ovf;
        p.pe_area_um2 = pe_area;
        p.array_area_mm2 = pe_area * R * C * kArrayOverhead * 1e-6;
        p.fmax_mhz = fmax;
        const json s = simulate_point(m.w, hw);
        p.cycles = s.at("total").at("total_cycles");
        p.images_per_s = s.at("images_per_s");
        p.energy_uj = s.at("total").at("energy_pj").at("total").get<double>() * 1e-6;
        p.mac_energy_uj = s.at("total").at("energy_pj").at("mac").get<double>() * 1e-6;
        p.vector_cycles = s.at("total").at("vector_cycles");
        p.vector_energy_uj = s.at("total").at("energy_pj").at("vector").get<double>() * 1e-6;
        pts.push_back(p);
        fmt::print("  {:<34} {:<9} {:>6} acc{:<2} top-1 {:6.2f}%  {:8.3f} mm^2  {:6.1f} MHz  {:9.1f} images/s  {:8.2f} uJ\n", p.model, p.pe, p.array,
                   p.acc_bits, p.top1, p.array_area_mm2, p.fmax_mhz, p.images_per_s, p.energy_uj);
        std::fflush(stdout);
      }
    }
  }
  mark_pareto(pts);
  const std::string csv = (fs::path(o.out) / "explore.csv").string();
  write_text(csv, csv_of(pts));
  fmt::print("wrote {} ({} points)\n", csv, pts.size());
  fmt::print("Pareto (accuracy vs area): ");
  for (const auto& p : pts)
    if (p.pareto_area) fmt::print("[{} {} {} {:.2f}% {:.3f} mm^2] ", p.model, p.pe, p.array, p.top1, p.array_area_mm2);
  fmt::print("\n");
  std::string cmd;
  for (const auto& a : command_line()) cmd += (cmd.empty() ? "" : " ") + a;
  const ExploreReport report{o.out, o.images, o.accuracy_window, cmd};
  if (!o.no_plots) write_plots(report, pts);
  write_html(report, pts, !o.no_plots);
}

}  // namespace

void add_explore(CLI::App& app) {
  static Options o;
  auto* c = app.add_subcommand("explore",
                               "Area / throughput / energy / accuracy trade-offs: for each model, every PE kind that runs it, each array\n"
                               "size and accumulator width: golden top-1 under that hardware, PE area and the synthesized array's fmax as the\n"
                               "clock (logq area, cached), cycles, images/s and energy (logq sim). Writes DIR/explore.csv, Pareto plots (PNG) and DIR/explore.html (the\n"
                               "plots and every point's table on one page).");
  c->add_option("models", o.models, "quantized models (.lqm from logq quantize --export)")->required();
  c->add_option("--data", o.data, "dataset the accuracy is measured on (as logq golden --data)")->required();
  c->add_option("--split", o.split, "its split")->capture_default_str();
  c->add_option("--images", o.images, "test images per accuracy point")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--pe", o.pes, "PE kinds to consider (default: every kind that runs the model: " + pe_spec_names() + ")")->delimiter(',');
  c->add_option("--arrays", o.arrays, "array sizes RxC")->delimiter(',')->capture_default_str();
  c->add_option("--acc-bits", o.acc_bits, "accumulator widths (0: the model's no-overflow width)")->delimiter(',')->capture_default_str();
  c->add_option("--hw", o.hw, "base hardware config (SRAM, DRAM, energy table, vector unit: \"vector\": {\"enabled\": false} for the array alone); array, PE and clock are swept");
  c->add_option("--energy-model", o.energy_model,
                "activity (default: logq power's per-MAC and idle energies on OSU 0.18 um) or horowitz45 (the 45 nm table scaled by area)")
      ->check(CLI::IsMember({"activity", "horowitz45"}));
  c->add_option("-o,--out", o.out, "output directory")->capture_default_str();
  c->add_option("-j,--jobs", o.jobs, "processes for the golden runs")->capture_default_str()->check(CLI::Range(1, 256));
  c->add_option("--plan", o.plan, "split the golden runs and synthesis into tasks in DIR (plan.json, job.sbatch) instead of running\n"
                                  "them; run with `logq tasks submit|run DIR`, then the same command with --merge DIR")->type_name("DIR");
  c->add_option("--cluster", o.cluster, "--plan: Slurm settings per task (JSON: partition, time, mem, ...; docs/cluster.md)")->type_name("FILE");
  c->add_option("--merge", o.merge, "take the golden and area results from the finished tasks of the plan in DIR; writes what a\n"
                                    "single-machine run writes")->type_name("DIR");
  c->add_option("--accuracy-window", o.accuracy_window,
                "the plots' accuracy axis spans the points within this many pp of the best; points below it sit on its edge\n"
                "(open markers, named in the title). 0: every point")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  c->add_flag("--no-plots", o.no_plots, "skip the PNG plots (no gnuplot needed); explore.html then has the table only");
  c->add_flag("--any-mantissa", o.any_mantissa, "also run LogART models on PEs of another mantissa (1+1/2 codes on the f = 6 PE and back)");
  c->callback([] { run(o); });
}

}  // namespace logq::cli
