// `logq golden MODEL.lqm`: the exported network under hardware numerics (golden/network.h) —
// top-1 on a dataset, per-layer MAC statistics, and the agreement with the fake-quant LibTorch
// model that wrote the file (its sample codes and logits, its recorded top-1).
#include "cli/golden_cmd.h"
#include "cli/common.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "batch/plan.h"
#include "io/error.h"
#include "io/json_input.h"
#include "io/progress.h"
#include "io/file_io.h"
#include "golden/hw.h"
#include "golden/network.h"
#include "io/dataset.h"

namespace logq::cli {

namespace {

using json = nlohmann::json;

struct Options {
  std::string model, data, split = "test", json_out, csv_out;
  std::string plan, merge, cluster, range, part;  // split into tasks (batch/plan.h): plan, one task's range, merge
  int64_t limit = 0, jobs = 1, tasks = 0;
  int acc_bits = 0, frac_bits = -1, mant_frac_bits = 0;
  std::string rounding;
  bool progress = stderr_is_terminal(), no_eval = false;
};

Preprocess preprocess_of(const json& model) {
  if (!model.contains("preprocess")) throw Error("the model has no 'preprocess' entry (export it with logq quantize --export)");
  const json& p = model["preprocess"];
  Preprocess pp;
  pp.in_chans = p.at("in_chans");
  pp.img_size = p.at("img_size");
  pp.crop_pct = p.at("crop_pct");
  pp.bicubic = p.at("interpolation") == "bicubic";
  pp.mean = p.at("mean").get<std::vector<float>>();
  pp.std = p.at("std").get<std::vector<float>>();
  return pp;
}

HwOverrides overrides(const Options& o) {
  HwOverrides h;
  if (o.acc_bits) h.acc_bits = o.acc_bits;
  if (o.frac_bits >= 0) h.frac_bits = o.frac_bits;
  if (o.mant_frac_bits) h.mant_frac_bits = o.mant_frac_bits;
  if (o.rounding == "floor") h.rounding = ShiftRounding::Floor;
  else if (o.rounding == "half_up") h.rounding = ShiftRounding::HalfUp;
  else if (!o.rounding.empty()) throw Error(fmt::format("--rounding '{}' is not floor | half_up", o.rounding));
  if (o.acc_bits && (o.acc_bits < 2 || o.acc_bits > 64)) throw Error(fmt::format("--acc-bits {} outside 2..64", o.acc_bits));
  if (o.frac_bits > 62) throw Error(fmt::format("--frac-bits {} outside 0..62", o.frac_bits));
  if (o.mant_frac_bits && (o.mant_frac_bits < 1 || o.mant_frac_bits > 30)) throw Error(fmt::format("--mant-frac-bits {} outside 1..30", o.mant_frac_bits));
  return h;
}

int64_t argmax(const std::vector<float>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

// ---- agreement with the fake-quant model on the file's sample images ----------------------

struct Agreement {
  int64_t images = 0, top1_same = 0;
  double logit_max_err = 0;
  // layer → (equal, total) input codes: `codes` with every GEMM fed the fake-quant model's input
  // codes (each layer on its own), `drift` with the golden network running freely (differences
  // carried from layer to layer).
  std::map<std::string, std::pair<int64_t, int64_t>> codes, drift;
};

double worst(const std::map<std::string, std::pair<int64_t, int64_t>>& m) {
  double w = 100;
  for (const auto& [name, c] : m) w = std::min(w, c.second ? 100.0 * double(c.first) / double(c.second) : 100.0);
  return w;
}

Agreement agreement(const LqmFile& f, Network& net) {
  Agreement a;
  const SafetensorsFile& st = f.file();
  const TensorInfo* imgs = st.find("samples/images");
  const TensorInfo* logits = st.find("samples/logits");
  if (!imgs || !logits || imgs->shape.empty() || imgs->shape[0] == 0) return a;
  const auto x = st.read<float>("samples/images", DType::F32);
  const auto ref = st.read<float>("samples/logits", DType::F32);
  const int64_t n = imgs->shape[0], per = numel(net.input_shape()), classes = logits->numel() / n;
  std::map<std::string, std::vector<int32_t>> ref_codes;  // "<layer>.x" / "<layer>.b"
  for (const auto& g : net.gemms())
    for (const char* op : {".x", ".b"})
      if (const auto* t = st.find("samples/" + g.name + op)) ref_codes[g.name + op] = st.read<int32_t>(t->name, DType::I32);
  int64_t img = 0;
  std::map<std::string, std::pair<int64_t, int64_t>>* into = nullptr;
  std::vector<int32_t> forced;
  const auto slice = [&](const std::string& key, size_t m) -> const std::vector<int32_t>* {
    auto it = ref_codes.find(key);
    if (it == ref_codes.end()) return nullptr;
    if (it->second.size() != m * size_t(n)) throw Error(fmt::format("{}: samples/{} has {} codes, expected {} x {}", st.path(), key, it->second.size(), n, m));
    forced.assign(it->second.begin() + img * int64_t(m), it->second.begin() + (img + 1) * int64_t(m));
    return &forced;
  };
  const auto compare = [&](const std::string& key, const std::vector<int32_t>& got) {
    if (got.empty()) return;
    const std::vector<int32_t>* want = slice(key, got.size());
    if (!want) return;
    auto& c = (*into)[key.substr(0, key.size() - 2)];
    for (size_t i = 0; i < got.size(); ++i) c.first += got[i] == (*want)[i];
    c.second += int64_t(got.size());
  };
  std::map<std::string, size_t> sizes;
  net.on_codes = [&](const std::string& layer, const std::vector<int32_t>& xc, const std::vector<int32_t>& bc) {
    compare(layer + ".x", xc);
    compare(layer + ".b", bc);
    sizes[layer + ".x"] = xc.size();
    sizes[layer + ".b"] = bc.size();
  };
  for (int pass = 0; pass < 2; ++pass) {  // 0: free running, 1: each layer fed the fake-quant codes
    into = pass == 0 ? &a.drift : &a.codes;
    if (pass == 1) net.force_codes = [&](const std::string& layer, char op) { return slice(layer + "." + op, sizes[layer + "." + op]); };
    for (img = 0; img < n; ++img) {
      const std::vector<float> y = net.run(std::vector<float>(x.begin() + img * per, x.begin() + (img + 1) * per));
      if (pass == 1) continue;
      const std::vector<float> r(ref.begin() + img * classes, ref.begin() + (img + 1) * classes);
      for (int64_t k = 0; k < classes; ++k) a.logit_max_err = std::max(a.logit_max_err, double(std::fabs(y[k] - r[k])));
      a.top1_same += argmax(y) == argmax(r);
    }
  }
  net.on_codes = nullptr;
  net.force_codes = nullptr;
  a.images = n;
  for (auto& g : net.gemms()) g.stats = LayerStats{}, g.runs = 0;  // statistics are for the dataset run
  return a;
}

// ---- dataset evaluation, parallel by process ---------------------------------------------

struct EvalPart {
  int64_t n = 0, correct = 0;
  std::vector<LayerStats> stats;
};

json to_json(const EvalPart& p) {
  json j = {{"n", p.n}, {"correct", p.correct}, {"layers", json::array()}};
  for (const auto& s : p.stats)
    j["layers"].push_back({{"terms", s.terms}, {"zero", s.zero_terms}, {"ovf", s.overflows}, {"max", s.max_abs_acc}, {"hist", s.shift_hist}});
  return j;
}

// A task's part (`--part`), read back by --merge: a file like any other, checked before use.
json read_part(const std::string& path, size_t layers) {
  const json j = read_json_file(path, "golden task result");
  const Error bad(fmt::format("{}: not a golden task result of this model ({} layers; written by `logq golden --range --part`)", path, layers));
  try {
    if (!j.is_object() || !j.at("layers").is_array() || j.at("layers").size() != layers) throw bad;
    const int64_t n = j.at("n").get<int64_t>(), correct = j.at("correct").get<int64_t>();
    if (correct < 0 || correct > n) throw bad;
    for (const json& l : j.at("layers")) {
      for (const char* k : {"terms", "zero", "ovf", "max"}) (void)l.at(k).get<int64_t>();
      if (!l.at("hist").is_array() || l.at("hist").size() > 4096) throw bad;
      (void)l.at("hist").get<std::vector<int64_t>>();
    }
  } catch (const json::exception&) {
    throw bad;
  }
  return j;
}

void merge(EvalPart& into, const json& j) {
  into.n += j["n"].get<int64_t>();
  into.correct += j["correct"].get<int64_t>();
  const auto& ls = j["layers"];
  into.stats.resize(ls.size());
  for (size_t i = 0; i < ls.size(); ++i) {
    LayerStats& s = into.stats[i];
    s.terms += ls[i]["terms"].get<int64_t>();
    s.zero_terms += ls[i]["zero"].get<int64_t>();
    s.overflows += ls[i]["ovf"].get<int64_t>();
    s.max_abs_acc = std::max(s.max_abs_acc, ls[i]["max"].get<int64_t>());
    const auto h = ls[i]["hist"].get<std::vector<int64_t>>();
    if (s.shift_hist.size() < h.size()) s.shift_hist.resize(h.size(), 0);
    for (size_t k = 0; k < h.size(); ++k) s.shift_hist[k] += h[k];
  }
}

EvalPart eval_range(Network& net, const Dataset& ds, const Preprocess& pp, size_t begin, size_t end, bool progress) {
  EvalPart p;
  std::vector<float> img(size_t(numel(net.input_shape())));
  Progress bar("golden " + ds.name, int64_t(end - begin), progress);
  for (size_t i = begin; i < end; ++i) {
    preprocess_eval(ds.image(i), pp, img.data());
    p.correct += argmax(net.run(img)) == ds.label(i);
    ++p.n;
    bar.update(p.n, fmt::format("top-1 {:.2f}%", 100.0 * double(p.correct) / double(p.n)));
  }
  bar.finish();
  for (const auto& g : net.gemms()) p.stats.push_back(g.stats);
  return p;
}

EvalPart eval_parallel(Network& net, const Dataset& ds, const Preprocess& pp, size_t n, int64_t jobs, bool progress) {
  if (jobs <= 1 || n < 2) return eval_range(net, ds, pp, 0, n, progress);
  const auto parts = run_in_processes(jobs, [&](int64_t j) {
    const size_t b = n * size_t(j) / size_t(jobs), e = n * size_t(j + 1) / size_t(jobs);
    return to_json(eval_range(net, ds, pp, b, e, progress && j == 0)).dump();
  }, "logq golden");
  EvalPart total;
  for (const auto& p : parts) merge(total, json::parse(p));
  return total;
}

std::string shift_range(const LayerStats& s) {
  int lo = 1000, hi = -1000;
  for (size_t i = 0; i < s.shift_hist.size(); ++i)
    if (s.shift_hist[i]) lo = std::min(lo, int(i) - 64), hi = std::max(hi, int(i) - 64);
  return lo > hi ? "-" : fmt::format("{}..{}", lo, hi);
}

int bits_for(int64_t v) {
  int b = 1;
  while (v > 0) ++b, v >>= 1;
  return b;
}

// ---- split into tasks: --plan, --range/--part (one task), --merge ------------------------

// A dataset named by path is given to the tasks as an absolute path (they may run elsewhere).
std::string data_arg(const std::string& data) { return data.empty() ? data : batch::absolute(data); }

// What every task and the merge must agree on: the model, the data and the hardware overrides.
std::vector<std::string> study_args(const Options& o) {
  std::vector<std::string> a = {batch::absolute(o.model), "--data", data_arg(o.data), "--split", o.split};
  if (o.acc_bits) a.insert(a.end(), {"--acc-bits", std::to_string(o.acc_bits)});
  if (o.frac_bits >= 0) a.insert(a.end(), {"--frac-bits", std::to_string(o.frac_bits)});
  if (!o.rounding.empty()) a.insert(a.end(), {"--rounding", o.rounding});
  if (o.mant_frac_bits) a.insert(a.end(), {"--mant-frac-bits", std::to_string(o.mant_frac_bits)});
  return a;
}

std::vector<std::string> study_key(const Options& o, size_t n) {
  std::vector<std::string> k = study_args(o);
  k.insert(k.end(), {"--limit", std::to_string(n)});
  return k;
}

// Task i of T evaluates images [n*i/T, n*(i+1)/T): the same split as -j T.
std::pair<size_t, size_t> task_range(size_t n, size_t i, size_t tasks) { return {n * i / tasks, n * (i + 1) / tasks}; }

void plan_tasks(const Options& o, size_t n) {
  if (o.data.empty()) throw Error("--plan: --data is required");
  const size_t tasks = std::min<size_t>(n, o.tasks > 0 ? size_t(o.tasks) : (n + 999) / 1000);
  batch::Plan p;
  p.command = "golden";
  p.study = study_key(o, n);
  p.programs["logq"] = batch::this_executable();
  p.cluster = batch::load_cluster_config(o.cluster);
  for (size_t i = 0; i < tasks; ++i) {
    batch::Task t;
    t.id = fmt::format("{:04d}", i);
    const auto [b, e] = task_range(n, i, tasks);
    t.label = fmt::format("golden images {}..{}", b, e - 1);
    t.result = t.id + ".json";
    t.argv = {"logq", "golden"};
    for (const auto& a : study_args(o)) t.argv.push_back(a);
    t.argv.insert(t.argv.end(), {"--range", fmt::format("{}:{}", b, e), "--part", "{dir}/results/" + t.result});
    p.tasks.push_back(t);
  }
  const std::string dir = batch::absolute(o.plan);
  batch::write_plan(dir, p);
  fmt::print("{}", batch::plan_summary(dir, p, batch::merge_command_line(command_line(), dir) + " [--json FILE] [--csv FILE]"));
}

std::pair<size_t, size_t> parse_range(const std::string& s, size_t size) {
  const size_t colon = s.find(':');
  size_t b = 0, e = 0;
  try {
    if (colon == std::string::npos) throw std::invalid_argument(s);
    b = std::stoull(s.substr(0, colon));
    e = std::stoull(s.substr(colon + 1));
  } catch (const std::exception&) {
    throw Error(fmt::format("--range '{}' is not BEGIN:END", s));
  }
  if (b >= e || e > size) throw Error(fmt::format("--range {}: needs BEGIN < END <= {} (the dataset's size)", s, size));
  return {b, e};
}

// One task: images [b, e) on one process, its raw counts written atomically to --part.
void run_part(const Options& o, Network& net) {
  if (o.part.empty() || o.data.empty()) throw Error("--range needs --part FILE and --data");
  auto ds = open_dataset(o.data, o.split);
  const auto [b, e] = parse_range(o.range, ds->size());
  const auto t0 = std::chrono::steady_clock::now();
  json j = to_json(eval_range(net, *ds, preprocess_of(net.model()), b, e, o.progress));
  j["begin"] = b;
  j["end"] = e;
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_text(o.part, j.dump() + "\n");
  fmt::print("golden images {}..{}: {}/{} correct, wrote {}\n", b, e - 1, j["correct"].get<int64_t>(), j["n"].get<int64_t>(), o.part);
}

// --merge: the tasks' parts in image order, as eval_parallel would have summed them.
EvalPart merge_parts(const Options& o, size_t n, size_t layers, double& task_seconds) {
  const batch::Plan p = batch::complete_plan(batch::absolute(o.merge), "golden", study_key(o, n));
  EvalPart total;
  size_t next = 0;
  for (const batch::Task& t : p.tasks) {
    const std::string path = batch::result_path(batch::absolute(o.merge), t);
    const json j = read_part(path, layers);
    if (j.value("begin", json()) != next || j.value("n", int64_t{-1}) != j.value("end", int64_t{-2}) - int64_t(next))
      throw Error(fmt::format("{}: does not hold images {}.. of the plan (a file of another run?)", path, next));
    next = j.at("end").get<size_t>();
    merge(total, j);
    task_seconds += j.value("seconds", 0.0);
  }
  if (next != n) throw Error(fmt::format("{}: the tasks cover {} images, not {}", o.merge, next, n));
  return total;
}

void run(const Options& o) {
  const LqmFile f = LqmFile::open(o.model);
  Network net(f, overrides(o));
  const json& m = net.model();
  fmt::print("{}: {} ({}), {} GEMM layers, input {}\n", o.model, m.value("name", "?"), m.value("method", "?"), net.gemms().size(), shape_str(net.input_shape()));
  if (int(!o.plan.empty()) + int(!o.merge.empty()) + int(!o.range.empty()) > 1) throw Error("--plan, --merge and --range exclude each other");
  if (!o.merge.empty() && o.no_eval) throw Error("--merge merges a dataset evaluation: not with --no-eval");
  if (!o.range.empty()) return run_part(o, net);
  if (!o.plan.empty()) {
    if (o.data.empty()) throw Error("--plan: --data is required");
    auto ds = open_dataset(o.data, o.split);
    return plan_tasks(o, o.limit > 0 ? std::min<size_t>(size_t(o.limit), ds->size()) : ds->size());
  }
  json out = {{"model", o.model}, {"name", m.value("name", "")}, {"method", m.value("method", "")}};

  const Agreement ag = agreement(f, net);
  if (ag.images) {
    fmt::print("agreement with the fake-quant model on {} sample images: top-1 {}/{}, logits max |diff| {:.3g}\n", ag.images, ag.top1_same,
               ag.images, ag.logit_max_err);
    fmt::print("input codes, each layer fed the fake-quant codes: worst layer {:.3f}%; free-running (drift carried): worst {:.3f}% ({} layers)\n",
               worst(ag.codes), worst(ag.drift), ag.codes.size());
    fmt::print("(integer GEMMs are exact here, float32 sums in LibTorch; layers with a float input (F32) and the float ops between GEMMs\n"
               " differ in summation order, so values at an encoder boundary (a rounding tie) can take the neighbouring code, and the\n"
               " free-running network carries such flips forward)\n");
    json layers = json::object(), drift = json::object();
    for (const auto& [name, c] : ag.codes) layers[name] = 100.0 * double(c.first) / double(std::max<int64_t>(c.second, 1));
    for (const auto& [name, c] : ag.drift) drift[name] = 100.0 * double(c.first) / double(std::max<int64_t>(c.second, 1));
    out["agreement"] = {{"images", ag.images}, {"top1_same", ag.top1_same}, {"logit_max_err", ag.logit_max_err}, {"code_agreement_pct", layers},
                        {"worst_code_agreement_pct", worst(ag.codes)}, {"drift_code_agreement_pct", drift},
                        {"worst_drift_code_agreement_pct", worst(ag.drift)}};
  }

  if (!o.no_eval) {
    if (o.data.empty()) throw Error("--data is required (or --no-eval for the agreement report only)");
    auto ds = open_dataset(o.data, o.split);
    const size_t n = o.limit > 0 ? std::min<size_t>(size_t(o.limit), ds->size()) : ds->size();
    const auto t0 = std::chrono::steady_clock::now();
    double task_secs = 0;
    const EvalPart r = o.merge.empty() ? eval_parallel(net, *ds, preprocess_of(m), n, o.jobs, o.progress) : merge_parts(o, n, net.gemms().size(), task_secs);
    const double secs = o.merge.empty() ? std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() : task_secs;
    const double top1 = r.n ? 100.0 * double(r.correct) / double(r.n) : 0.0;
    if (o.merge.empty()) fmt::print("golden top-1 {:.2f}% ({}/{} of {}, {:.1f} s, {} process(es))\n", top1, r.correct, r.n, ds->name, secs, o.jobs);
    else fmt::print("golden top-1 {:.2f}% ({}/{} of {}, merged from {}: {:.1f} s in its tasks)\n", top1, r.correct, r.n, ds->name, o.merge, secs);
    out["dataset"] = ds->name;
    out["images"] = r.n;
    out["golden_top1"] = top1;
    out["seconds"] = secs;
    if (m.contains("fake_quant")) {
      const json& fq = m["fake_quant"];
      const bool same = fq.value("dataset", "") == ds->name && fq.value("images", int64_t{-1}) == r.n;
      fmt::print("fake-quant top-1 {:.2f}% ({} images of {}){}\n", fq.value("top1", 0.0), fq.value("images", 0), fq.value("dataset", "?"),
                 same ? fmt::format(": golden - fake-quant = {:+.2f} pp", top1 - fq.value("top1", 0.0)) : " (a different image set: not compared)");
      out["fake_quant_top1"] = fq.value("top1", 0.0);
      if (same) out["delta_pp"] = top1 - fq.value("top1", 0.0);
    }
    fmt::print("\n{:<28} {:>4} {:>16} {:>4} {:>3} {:>9} {:>7} {:>8} {:>8} {:>9} {:>9}\n", "layer", "pair", "out shape", "Wacc", "F", "overflows", "zero %",
               "|acc|bits", "shifts", "code agr%", "drift %");
    json layers = json::array();
    std::string csv = "layer,pairing,out_shape,acc_bits,frac_bits,overflows,zero_fraction,max_abs_acc,max_acc_bits,shift_min_max,terms,code_agreement_pct,drift_code_agreement_pct\n";
    auto& gs = net.gemms();
    for (size_t i = 0; i < gs.size(); ++i) {
      const GemmRecord& g = gs[i];
      const LayerStats& s = i < r.stats.size() ? r.stats[i] : g.stats;
      const auto pct = [&](const std::map<std::string, std::pair<int64_t, int64_t>>& m) {
        const auto it = m.find(g.name);
        return it == m.end() || !it->second.second ? std::string("-") : fmt::format("{:.3f}", 100.0 * double(it->second.first) / double(it->second.second));
      };
      const std::string agr = pct(ag.codes), dr = pct(ag.drift);
      const std::string pair = g.float_input ? "F32" : pairing_name(g.layer.pairing);
      fmt::print("{:<28} {:>4} {:>16} {:>4} {:>3} {:>9} {:>7.2f} {:>8} {:>8} {:>9} {:>9}\n", g.name, pair, shape_str(g.out_shape), g.layer.hw.acc_bits,
                 g.layer.hw.frac_bits, s.overflows, 100.0 * s.zero_fraction(), bits_for(s.max_abs_acc), shift_range(s), agr, dr);
      csv += fmt::format("{},{},\"{}\",{},{},{},{:.6f},{},{},{},{},{},{}\n", g.name, pair, shape_str(g.out_shape), g.layer.hw.acc_bits, g.layer.hw.frac_bits,
                         s.overflows, s.zero_fraction(), s.max_abs_acc, bits_for(s.max_abs_acc), shift_range(s), s.terms, agr, dr);
      layers.push_back({{"name", g.name}, {"pairing", pair}, {"out_shape", g.out_shape}, {"acc_bits", g.layer.hw.acc_bits},
                        {"frac_bits", g.layer.hw.frac_bits}, {"overflows", s.overflows}, {"zero_fraction", s.zero_fraction()},
                        {"max_abs_acc", s.max_abs_acc}, {"terms", s.terms}, {"shift_hist", s.shift_hist}});
    }
    out["layers"] = layers;
    if (!o.csv_out.empty()) write_text(o.csv_out, csv);
  }
  if (!o.json_out.empty()) {
    write_text(o.json_out, out.dump(2) + "\n");
  }
}

}  // namespace

void add_golden(CLI::App& app) {
  static Options o;
  auto* c = app.add_subcommand("golden", "Run an exported .lqm under hardware numerics: top-1, per-layer MAC statistics, agreement with the fake-quant model");
  c->add_option("model", o.model, "the .lqm file (logq quantize --export)")->required();
  c->add_option("--data", o.data, "dataset to evaluate (see `logq eval --help`)");
  c->add_option("--split", o.split, "its split")->capture_default_str();
  c->add_option("--limit", o.limit, "the first N images only (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  c->add_option("-j,--jobs", o.jobs, "worker processes (one thread each)")->capture_default_str()->check(CLI::Range(1, 256));
  c->add_option("--acc-bits", o.acc_bits, "--hw: accumulator width W_acc for every layer (default: each layer's no-overflow width)")->check(CLI::Range(2, 64));
  c->add_option("--frac-bits", o.frac_bits, "--hw: accumulator fraction bits F of every AdaLog-input layer (U x A, L x A; default: each layer's exact F)")->check(CLI::Range(0, 62));
  c->add_option("--rounding", o.rounding, "--hw: right shifts floor | half_up (default floor)");
  c->add_option("--mant-frac-bits", o.mant_frac_bits, "--hw: LogART odd mantissa round(sqrt2*2^f) with f bits (1 = 1+1/2)")->check(CLI::Range(1, 30));
  c->add_flag("--no-eval", o.no_eval, "only the agreement report on the file's sample images");
  c->add_option("--json", o.json_out, "write the report as JSON to FILE (- for stdout)");
  c->add_option("--csv", o.csv_out, "write the per-layer table as CSV to FILE");
  c->add_option("--plan", o.plan, "split the evaluation into tasks of image ranges in DIR (plan.json, job.sbatch) instead of running it;\n"
                                  "run them with `logq tasks submit|run DIR`, then the same command with --merge DIR")->type_name("DIR");
  c->add_option("--tasks", o.tasks, "--plan: number of tasks (default: one per 1,000 images)")->check(CLI::PositiveNumber);
  c->add_option("--cluster", o.cluster, "--plan: Slurm settings per task (JSON: partition, time, mem, ...; docs/cluster.md)")->type_name("FILE");
  c->add_option("--merge", o.merge, "report from the finished tasks of the plan in DIR: the same output as running here")->type_name("DIR");
  c->add_option("--range", o.range, "(a task of a plan) evaluate images BEGIN..END-1 only and write their raw counts to --part")->type_name("B:E");
  c->add_option("--part", o.part, "(a task of a plan) the file --range writes")->type_name("FILE");
  c->add_flag("--progress", o.progress, "show progress on stderr (default: only when stderr is a terminal; in a log, one line every 30 s)");
  c->add_flag("--no-progress", [](int64_t) { o.progress = false; }, "no progress output");
  c->callback([] { run(o); });
}

}  // namespace logq::cli
