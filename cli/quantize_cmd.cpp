// `logq quantize` (LogART, AdaLog, the uniform baseline: search/calibration, evaluation, --save,
// --export) and `logq export` (a saved quantized model as .lqm). The second LibTorch TU of cli/
// (see model_cmds.cpp).
#include "cli/quantize_cmd.h"
#include "cli/common.h"
#include "cli/model_args.h"


#include <ATen/Parallel.h>
#include <torch/utils.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <limits>
#include <type_traits>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "io/limits.h"
#include "logq_version.h"
#include "quant/eval/runner.h"
#include "quant/adalog/adalog.h"
#include "quant/logart/logart.h"
#include "quant/uniform/uniform.h"

namespace logq::cli {

namespace {

struct QuantArgs {
  ModelArgs m;
  std::string method, config, calib_data, calib_split = "train", test_split = "test";
  std::vector<std::string> test_data;
  std::string save, load, results, json, m2 = "floor", scale_method = "log_dynamic", search_method;
  logart::Options o;
  adalog::Options ao;
  adalog::ReconOptions ro;
  bool optimize = false, no_fpcs = false;
  std::string save_calibrated, load_calibrated;
  uint64_t adalog_seed = 5;
  int64_t test_limit = 0, batch = 64;
  bool no_llr = false, test_before = false, hw_approx = false, approx_everywhere = false;
  double approx_k = 1.5;
  std::string export_path;
  int64_t export_samples = 8;
  std::string cmd;
  CLI::App* app = nullptr;
};

// --export: the final fake-quant model as .lqm, with its accuracy and sample codes for the
// agreement report of `logq golden`.
void write_export(const QuantArgs& a, Net& net, const GraphBuilder::GemmSource& source, nlohmann::json model,
                  const Dataset& test, const EvalResult& fq) {
  const Preprocess p = preprocess_for(net);
  model["name"] = net.arch;
  model["preprocess"] = {{"in_chans", p.in_chans}, {"img_size", p.img_size}, {"crop_pct", p.crop_pct},
                         {"interpolation", p.bicubic ? "bicubic" : "bilinear"}, {"mean", p.mean}, {"std", p.std}};
  model["fake_quant"] = {{"dataset", test.name}, {"images", fq.n}, {"top1", fq.top1_pct()}, {"correct", fq.top1}};
  model["command"] = a.cmd;
  const size_t n = std::min<size_t>(size_t(std::max<int64_t>(a.export_samples, 0)), test.size());
  std::vector<int64_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = int64_t(i);
  at::Tensor labels;
  const at::Tensor x = n ? make_batch(test, idx, 0, n, p, &labels) : at::empty({0, p.in_chans, p.img_size, p.img_size});
  std::vector<int64_t> lab;
  for (size_t i = 0; i < n; ++i) lab.push_back(labels[int64_t(i)].item<int64_t>());
  export_lqm(net, source, model, x, lab, a.export_path, "logq " LOGQ_VERSION);
  fmt::print("wrote {} ({} sample images of {})\n", a.export_path, n, test.name);
}

bool given(const QuantArgs& a, const std::string& opt) { return a.app->count(opt) > 0; }

// A method config file as a JSON object (empty object when none is given).
nlohmann::json read_config(const std::string& path) {
  if (path.empty()) return nlohmann::json::object();
  const nlohmann::json j = read_json_file(path, "config");
  if (!j.is_object()) throw Error(fmt::format("{}: a config must be a JSON object", path));
  return j;
}

// A config value as the option's type, strictly: 4.5 is not a bit width, "4" is not a number,
// and 1 is not a bool (nlohmann would convert each silently).
struct ConfigValueError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename T>
T strict_value(const nlohmann::json& v) {
  const auto bad = [&](const char* want) {
    return ConfigValueError(fmt::format("expected {}, got {}", want, printable(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) throw bad("true or false");
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) throw bad("a whole number");
    if (v.is_number_unsigned() ? v.get<uint64_t>() > uint64_t(std::numeric_limits<T>::max())
                               : (v.get<int64_t>() < int64_t(std::numeric_limits<T>::min()) || v.get<int64_t>() > int64_t(std::numeric_limits<T>::max())))
      throw bad("a whole number in range");
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) throw bad("a finite number");
  } else {
    if (!v.is_string()) throw bad("a string");
  }
  return v.get<T>();
}

// configs/logart/*.json: every reference config field; the ones logq uses map to options, the
// reference's unused ones are accepted and recorded; anything else is an error.
void apply_logart_config(QuantArgs& a) {
  const nlohmann::json j = read_config(a.config);
  static const std::set<std::string> unused = {"a_bit", "qconv_a_bit", "qhead_a_bit", "calib_metric", "matmul_head_channel_wise",
                                               "token_channel_wise", "eq_n", "search_round", "keep_gpu", "recon_metric", "pct",
                                               "optim_batch_size", "description"};
  for (auto& [k, v] : j.items()) {
    try {
      auto set = [&](const char* opt, auto& field) {
        if (!given(a, opt)) field = strict_value<std::decay_t<decltype(field)>>(v);
      };
      if (k == "w_bit") set("--w-bit", a.o.w_bits);
      else if (k == "optim_size") set("--calib-samples", a.o.calib_samples);
      else if (k == "calib_size") set("--search-samples", a.o.search_samples);
      else if (k == "calib_batch_size") a.o.search_batch = strict_value<int64_t>(v);
      else if (k == "optim_metric") set("--optim-metric", a.o.optim_metric);
      else if (k == "use_mean_hessian") set("--use-mean-hessian", a.o.use_mean_hessian);
      else if (k == "temp") set("--temp", a.o.temp);
      else if (k == "optim_mode") set("--optim-mode", a.o.optim_mode);
      else if (k == "drop_prob") set("--drop-prob", a.o.drop_prob);
      else if (k == "iters_w") set("--iters-w", a.o.iters);
      else if (k == "lr") set("--lr", a.o.lr);
      else if (k == "lr_min_ratio") set("--lr-min-ratio", a.o.lr_min_ratio);
      else if (k == "rrweight") set("--round-weight", a.o.round_weight);
      else if (k == "search_method") set("--search-method", a.search_method);
      else if (k == "scale_method") set("--scale-method", a.scale_method);
      else if ((k == "a_bit" || k == "qconv_a_bit" || k == "qhead_a_bit") && strict_value<int>(v) != 32)
        throw Error(fmt::format("{}: {} = {}: LogART quantizes no activations (32); use --act-bits for the hardware path", a.config, k, v.get<int>()));
      else if (!unused.count(k)) throw Error(fmt::format("{}: unknown config field '{}'", a.config, k));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: field '{}': {}", a.config, k, e.what()));
    } catch (const ConfigValueError& e) {
      throw Error(fmt::format("{}: field '{}': {}", a.config, k, e.what()));
    }
  }
}

// Appends under an exclusive lock (parallel runs share one results file); the header is written
// when the file is new and must match when it is not.
void append_csv(const std::string& path, const std::string& header, const std::string& row) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot open for appending: {}", path, std::strerror(errno)));
  ::flock(fd, LOCK_EX);
  std::string first(header.size(), '\0');
  const ssize_t got = ::pread(fd, first.data(), first.size(), 0);
  std::string text = row + "\n";
  if (got <= 0) text = header + "\n" + text;
  else if (first.compare(0, size_t(got), header, 0, size_t(got)) != 0 || size_t(got) < header.size()) {
    ::close(fd);
    throw Error(fmt::format("{}: existing results file has a different header; not appending", path));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size());
  ::close(fd);
  if (!ok) throw Error(fmt::format("{}: write failed", path));
}

void apply_adalog_config(QuantArgs& a) {
  const nlohmann::json j = read_config(a.config);
  auto& o = a.ao;
  for (auto& [k, v] : j.items()) {
    try {
      auto set = [&](const char* opt, auto& field) {
        if (!opt || !given(a, opt)) field = strict_value<std::decay_t<decltype(field)>>(v);
      };
      if (k == "w_bit") set("--w-bit", a.o.w_bits);
      else if (k == "a_bit") set("--a-bit", o.a_bit);
      else if (k == "s_bit") set("--s-bit", o.s_bit);
      else if (k == "qhead_a_bit") set("--qhead-a-bit", o.qhead_a_bit);
      else if (k == "qconv_a_bit") set(nullptr, o.qconv_a_bit);
      else if (k == "calib_size") set("--calib-size", o.calib_size);
      else if (k == "calib_batch_size") set("--calib-batch-size", o.calib_batch_size);
      else if (k == "eq_n") set(nullptr, o.eq_n);
      else if (k == "search_round") set(nullptr, o.search_round);
      else if (k == "steps") set(nullptr, o.steps);
      else if (k == "fpcs") set(nullptr, o.fpcs);
      else if (k == "matmul_head_channel_wise") set(nullptr, o.matmul_head_channel_wise);
      else if (k == "post_softmax_quantizer") set("--post-softmax-quantizer", o.post_softmax_quantizer);
      else if (k == "post_gelu_quantizer") set("--post-gelu-quantizer", o.post_gelu_quantizer);
      else if (k == "optim_size") set("--optim-size", a.ro.optim_size);
      else if (k == "train_act") set("--train-act", a.ro.train_act);
      else if (k == "optim_batch_size" || k == "keep_gpu" || k == "description") {
      }  // loader / device settings of the reference (recorded, no effect here)
      else throw Error(fmt::format("{}: unknown config field '{}'", a.config, k));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: field '{}': {}", a.config, k, e.what()));
    } catch (const ConfigValueError& e) {
      throw Error(fmt::format("{}: field '{}': {}", a.config, k, e.what()));
    }
  }
}

void run_adalog(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  apply_adalog_config(a);
  auto& o = a.ao;
  if (!given(a, "--a-bit") && a.config.empty()) o.a_bit = a.o.w_bits;  // W{b}A{b} unless told otherwise
  if (!given(a, "--s-bit") && a.config.empty()) o.s_bit = o.a_bit;
  if (!given(a, "--qhead-a-bit") && a.config.empty()) o.qhead_a_bit = o.a_bit;
  o.w_bit = a.o.w_bits;
  o.fpcs = o.fpcs && !a.no_fpcs;
  o.progress = a.o.progress;
  for (int b : {o.w_bit, o.a_bit, o.s_bit, o.qhead_a_bit})
    if (b < 2 || b > 8) throw Error(fmt::format("AdaLog bit widths must be 2..8 (got {})", b));
  const bool loaded = !a.load_calibrated.empty();
  LoadedModel lm;
  adalog::QuantModel qm;
  if (loaded) {  // resume from a calibrated file: its own model config and weights
    qm = adalog::load_calibrated(a.load_calibrated, &lm.config);
    lm.net = qm.net;
  } else {
    lm = load_model(model_config(a.m), a.m.checkpoint);
  }
  const std::string family = lm.config.value("family", "");
  adalog::plan(*lm.net, family, o);  // unsupported families fail before any data is read
  auto calib_set = open_dataset(a.calib_data, a.calib_split);
  std::vector<std::unique_ptr<Dataset>> tests;
  if (a.test_data.empty()) tests.push_back(open_dataset(a.calib_data, a.test_split));
  for (const auto& t : a.test_data) tests.push_back(open_dataset(t, a.test_split));
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("AdaLog W{}A{} (softmax {} bits, head input {} bits) on {} ({}), {} calibration images from {}\n", o.w_bit, o.a_bit,
             o.s_bit, o.qhead_a_bit, lm.net->arch, loaded ? a.load_calibrated : a.m.checkpoint, o.calib_size, calib_set->name);
  std::vector<EvalResult> fp_r(tests.size()), q_r;
  // FP accuracy: of the checkpoint (a calibrated file has folded biases, so it needs --checkpoint too)
  std::shared_ptr<Net> fp_net = loaded ? nullptr : lm.net;
  if (loaded && !a.m.checkpoint.empty()) fp_net = load_model(model_config(a.m), a.m.checkpoint).net;
  for (size_t i = 0; i < tests.size() && fp_net; ++i) {
    fp_r[i] = evaluate(*fp_net, *tests[i], eo);
    fmt::print("FP top-1 {:.2f}% ({} images of {})\n", fp_r[i].top1_pct(), fp_r[i].n, tests[i]->name);
  }
  if (a.test_before) return;
  auto log = [](const std::string& s) {
    fmt::print("{}\n", s);
    std::fflush(stdout);
  };
  if (loaded) {
    fmt::print("loaded {} calibrated layers from {}\n", qm.layers.size(), a.load_calibrated);
  } else {
    const at::Tensor images = logart::sample_images(*lm.net, *calib_set, o.calib_size, a.adalog_seed);
    qm = adalog::calibrate(lm.net, family, images, o, log);
  }
  double optim_s = 0;
  std::vector<EvalResult> calib_r;
  if (a.optimize) {  // the calibrate-only accuracy first (bias not yet folded: the same function)
    adalog::install(qm, true);
    for (size_t i = 0; i < tests.size(); ++i) {
      calib_r.push_back(evaluate(*qm.net, *tests[i], eo));
      fmt::print("AdaLog W{}A{} calibrate-only top-1 {:.2f}% on {}\n", o.w_bit, o.a_bit, calib_r[i].top1_pct(), tests[i]->name);
    }
    auto& ro = a.ro;
    ro.progress = o.progress;
    ro.seed = a.adalog_seed;
    if (!given(a, "--optim-warmup")) ro.warmup_iters = ro.iters / 5;
    // The calibration images are the first of the optimisation images, with their own augmentation draws.
    const at::Tensor optim = logart::sample_images(*lm.net, *calib_set, ro.optim_size, a.adalog_seed + 1);
    const auto t0 = std::chrono::steady_clock::now();
    adalog::reconstruct(qm, optim, ro, log);
    optim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  adalog::fold_post_gelu_bias(qm);  // skipped where already folded (a loaded calibrated file: pitfall 5)
  adalog::install(qm, true);
  if (!a.save_calibrated.empty()) {
    adalog::save_calibrated(qm, lm.config, a.save_calibrated, {{"logq.version", LOGQ_VERSION}, {"logq.command", a.cmd},
                                                             {"logq.optimized", a.optimize ? "true" : "false"}});
    fmt::print("wrote {}\n", a.save_calibrated);
  }
  for (size_t i = 0; i < tests.size(); ++i) {
    q_r.push_back(evaluate(*qm.net, *tests[i], eo));
    fmt::print("AdaLog W{}A{} top-1 {:.2f}% (FP {:.2f}%) on {}\n", o.w_bit, o.a_bit, q_r[i].top1_pct(), fp_r[i].top1_pct(), tests[i]->name);
  }
  std::vector<EvalResult> qa_r;
  if (a.o.act_bits > 0) {  // hardware path: the patch-embed image as U(b), min/max on the calibration images
    if (a.o.act_bits > 16) throw Error(fmt::format("--act-bits {} outside 0..16", a.o.act_bits));
    adalog::calibrate_float_inputs(qm, logart::sample_images(*qm.net, *calib_set, o.calib_size, a.adalog_seed), a.o.act_bits);
    for (size_t i = 0; i < tests.size(); ++i) {
      qa_r.push_back(evaluate(*qm.net, *tests[i], eo));
      fmt::print("AdaLog W{}A{} + U({}) patch-embed input top-1 {:.2f}% on {}\n", o.w_bit, o.a_bit, a.o.act_bits, qa_r[i].top1_pct(), tests[i]->name);
    }
  }
  if (!a.export_path.empty())
    write_export(a, *qm.net, adalog::export_source(qm),
                 {{"family", family}, {"method", "adalog"}, {"w_bits", o.w_bit}, {"a_bits", o.a_bit}, {"s_bits", o.s_bit}, {"optimized", a.optimize}},
                 *tests[0], qa_r.empty() ? q_r[0] : qa_r[0]);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  nlohmann::json opts{{"s_bit", o.s_bit}, {"qhead_a_bit", o.qhead_a_bit}, {"act_bits", a.o.act_bits}, {"fpcs", o.fpcs}, {"fpcs_keep_best", o.fpcs_keep_best}, {"weight_zero_from_range", o.weight_zero_from_range},
                      {"post_softmax_quantizer", o.post_softmax_quantizer}, {"post_gelu_quantizer", o.post_gelu_quantizer},
                      {"search_round", o.search_round}, {"eq_n", o.eq_n}, {"optimize", a.optimize}};
  if (a.optimize) opts.update({{"optim_iters", a.ro.iters}, {"optim_size", a.ro.optim_size}, {"train_act", a.ro.train_act}});
  if (!a.results.empty()) {
    const std::string header = "model,method,w_bits,a_bits,options,calib_size,optim_size,seed,dataset,images,fp_top1,calib_top1,q_top1,calib_s,optim_s,wall_s";
    std::string opt_str = opts.dump();
    for (auto& ch : opt_str) if (ch == '"') ch = '\'';
    for (size_t i = 0; i < tests.size(); ++i)
      append_csv(a.results, header,
                 fmt::format("{},adalog,{},{},\"{}\",{},{},{},{},{},{:.2f},{:.2f},{:.2f},{:.1f},{:.1f},{:.1f}", lm.net->arch, o.w_bit, o.a_bit, opt_str,
                             o.calib_size, a.optimize ? a.ro.optim_size : 0, a.adalog_seed, tests[i]->name, q_r[i].n, fp_r[i].top1_pct(),
                             (a.optimize ? calib_r[i] : q_r[i]).top1_pct(), q_r[i].top1_pct(), qm.calib_seconds, optim_s, wall));
  }
  if (!a.json.empty()) {
    nlohmann::json res = nlohmann::json::array();
    for (size_t i = 0; i < tests.size(); ++i)
    {
      res.push_back({{"dataset", tests[i]->name}, {"images", q_r[i].n}, {"fp_top1", fp_r[i].top1_pct()},
                     {"calib_top1", (a.optimize ? calib_r[i] : q_r[i]).top1_pct()}, {"q_top1", q_r[i].top1_pct()}});
      if (!qa_r.empty()) res.back()["q_top1_act"] = qa_r[i].top1_pct();
    }
    write_text(a.json, nlohmann::json{{"model", lm.net->arch}, {"method", "adalog"}, {"w_bits", o.w_bit}, {"a_bits", o.a_bit}, {"options", opts},
                                      {"results", res}, {"calib_seconds", qm.calib_seconds}, {"optim_seconds", optim_s}, {"wall_seconds", wall}}.dump(2) + "\n");
  }
}

// The uniform min/max baseline (quant/uniform/): per-row U(w) weights, per-tensor U(a) activations.
void run_uniform(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  auto& o = a.o;
  if (!given(a, "--act-bits")) o.act_bits = 8;
  LoadedModel fp = load_model(model_config(a.m), a.m.checkpoint);
  LoadedModel q = load_model(fp.config, a.m.checkpoint);
  const std::string family = fp.config.value("family", "");
  auto calib_set = open_dataset(a.calib_data, a.calib_split);
  std::vector<std::unique_ptr<Dataset>> tests;
  if (a.test_data.empty()) tests.push_back(open_dataset(a.calib_data, a.test_split));
  for (const auto& t : a.test_data) tests.push_back(open_dataset(t, a.test_split));
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("uniform baseline W{}A{} (per-row min/max weights, per-tensor min/max activations) on {}, {} calibration images from {}\n",
             o.w_bits, o.act_bits, fp.net->arch, o.search_samples, calib_set->name);
  const at::Tensor calib = logart::sample_images(*fp.net, *calib_set, o.search_samples, o.seed);
  const uniform::UniformModel um = uniform::quantize(q.net, calib, o.w_bits, o.act_bits);
  std::vector<EvalResult> fp_r, q_r;
  for (const auto& t : tests) {
    fp_r.push_back(evaluate(*fp.net, *t, eo));
    q_r.push_back(evaluate(*q.net, *t, eo));
    fmt::print("uniform W{}A{} top-1 {:.2f}% (FP {:.2f}%) on {}\n", o.w_bits, o.act_bits, q_r.back().top1_pct(), fp_r.back().top1_pct(), t->name);
  }
  if (!a.export_path.empty())
    write_export(a, *q.net, uniform::export_source(um),
                 {{"family", family}, {"method", "uniform"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits}}, *tests[0], q_r[0]);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  if (!a.results.empty())
    for (size_t i = 0; i < tests.size(); ++i)
      append_csv(a.results, "model,method,w_bits,act_bits,calib_samples,seed,dataset,images,fp_top1,q_top1,wall_s",
                 fmt::format("{},uniform,{},{},{},{},{},{},{:.2f},{:.2f},{:.1f}", fp.net->arch, o.w_bits, o.act_bits, o.search_samples, o.seed,
                             tests[i]->name, q_r[i].n, fp_r[i].top1_pct(), q_r[i].top1_pct(), wall));
  if (!a.json.empty()) {
    nlohmann::json res = nlohmann::json::array();
    for (size_t i = 0; i < tests.size(); ++i)
      res.push_back({{"dataset", tests[i]->name}, {"images", q_r[i].n}, {"fp_top1", fp_r[i].top1_pct()}, {"q_top1", q_r[i].top1_pct()}});
    write_text(a.json, nlohmann::json{{"model", fp.net->arch}, {"method", "uniform"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits},
                                      {"results", res}, {"wall_seconds", wall}}.dump(2) + "\n");
  }
}

// Every file a run will write is checked before the run, so hours of work never end in
// "cannot create".
void check_outputs(const QuantArgs& a) {
  for (const auto& [opt, path] : {std::pair<const char*, const std::string*>{"--save", &a.save}, {"--results", &a.results},
                                  {"--json", &a.json}, {"--save-calibrated", &a.save_calibrated}, {"--export", &a.export_path}})
    check_output_path(*path, opt);
}

void run_quantize(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  check_outputs(a);
  if (a.method == "adalog") return run_adalog(a);
  if (a.method == "uniform") return run_uniform(a);
  if (a.method != "logart") throw Error(fmt::format("--method '{}' is not logart | adalog | uniform", a.method));
  apply_logart_config(a);
  auto& o = a.o;
  o.scale_method = logart::parse_scale_method(a.scale_method);
  if (o.w_bits < 2 || o.w_bits > 8) throw Error(fmt::format("--w-bit {} outside 2..8", o.w_bits));
  if (a.m2 != "floor" && a.m2 != "trunc") throw Error(fmt::format("--m2 '{}' is not floor | trunc", a.m2));
  o.m2 = a.m2 == "floor" ? M2Rounding::Floor : M2Rounding::Trunc;
  if (o.optim_metric != "hessian_perturb" && o.optim_metric != "mse") throw Error(fmt::format("--optim-metric '{}' is not hessian_perturb | mse", o.optim_metric));
  if (o.optim_mode != "qinp" && o.optim_mode != "rinp" && o.optim_mode != "qdrop") throw Error(fmt::format("--optim-mode '{}' is not qinp | rinp | qdrop", o.optim_mode));
  if (o.act_bits < 0 || o.act_bits > 16) throw Error(fmt::format("--act-bits {} outside 0..16", o.act_bits));
  o.llr = !a.no_llr;
  if (a.approx_k != 1.5 && a.approx_k != 1.4375 && a.approx_k != 1.421875)
    throw Error(fmt::format("--approx-k {} is not 1.5 (1+1/2) | 1.4375 (1+1/2-1/16) | 1.421875 (1+1/2-1/16-1/64)", a.approx_k));
  o.k_odd = a.hw_approx ? a.approx_k : 0.0;
  o.vit_approx_everywhere = a.approx_everywhere;

  LoadedModel fp = load_model(model_config(a.m), a.m.checkpoint);
  LoadedModel qm_net = load_model(fp.config, a.m.checkpoint);
  const std::string family = fp.config.value("family", "");
  const bool vit = family == "vit";
  if (family != "vit" && family != "resnet" && family != "mobilenetv2")
    throw Error(fmt::format("LogART supports resnet, mobilenetv2 and vit models; '{}' is a {} model", fp.net->arch, family));
  if (a.search_method.empty())
    a.search_method = o.scale_method != logart::ScaleMethod::LogDynamic ? "none" : vit ? "block_wise" : "layer_wise";
  o.search_method = logart::parse_search_method(a.search_method);
  if (vit && !given(a, "--search-samples") && a.config.empty()) o.search_samples = 128;
  if (vit && !given(a, "--lr-min-ratio")) o.lr_min_ratio = 1.0;  // LogART-ViT never steps its scheduler

  auto calib_set = open_dataset(a.calib_data, a.calib_split);
  std::vector<std::unique_ptr<Dataset>> tests;
  if (a.test_data.empty()) tests.push_back(open_dataset(a.calib_data, a.test_split));
  for (const auto& t : a.test_data) tests.push_back(open_dataset(t, a.test_split));
  auto log = [](const std::string& s) {
    fmt::print("{}\n", s);
    std::fflush(stdout);
  };
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("LogART W{} {} {} on {} ({}), search {} + LLR {} images from {}\n", o.w_bits, a.scale_method, a.search_method, fp.net->arch,
             a.m.checkpoint, o.search_samples, o.llr ? o.calib_samples : 0, calib_set->name);
  std::vector<EvalResult> fp_r, q_r, qa_r(tests.size());
  for (const auto& t : tests) {
    fp_r.push_back(evaluate(*fp.net, *t, eo));
    fmt::print("FP top-1 {:.2f}% ({} images of {})\n", fp_r.back().top1_pct(), fp_r.back().n, t->name);
  }
  if (a.test_before) return;

  const at::Tensor search = logart::sample_images(*fp.net, *calib_set, o.search_samples, o.seed);
  at::Tensor calib;
  logart::QuantizedModel qm;
  bool resumed = false;
  if (!a.load.empty()) {
    fold_batchnorms(*qm_net.net);
    qm.net = qm_net.net;
    logart::load_quantized(qm, a.load, o);
    fmt::print("loaded quantized parameters from {}\n", a.load);
    const bool has_llr = !qm.layers.empty() && !qm.layers.front().second.round_up.empty();
    if (o.llr && !has_llr) {  // resume: the saved DBS result, then LLR
      LoadedModel fresh = load_model(fp.config, a.m.checkpoint);
      calib = logart::sample_images(*fp.net, *calib_set, o.calib_samples, o.seed + 1);
      logart::QuantizedModel searched = std::move(qm);
      qm = logart::quantize(*fp.net, fresh.net, search, calib, o, log, &searched);
      resumed = true;
    }
    o.llr = o.llr && (has_llr || resumed);
  } else {
    if (o.llr) calib = logart::sample_images(*fp.net, *calib_set, o.calib_samples, o.seed + 1);
    qm = logart::quantize(*fp.net, qm_net.net, search, calib, o, log);
  }
  const bool k_everywhere = !vit || a.approx_everywhere;  // LogART-ViT: the approximation reaches DBS only
  const double k_test = o.test_with_hw_approx ? a.approx_k : (k_everywhere ? o.k_odd : 0.0);
  const bool hw_test = k_test > 0;
  logart::apply(qm, k_test, 0);
  for (size_t i = 0; i < tests.size(); ++i) {
    q_r.push_back(evaluate(*qm.net, *tests[i], eo));
    fmt::print("LogART W{} top-1 {:.2f}% (FP {:.2f}%) on {}\n", o.w_bits, q_r[i].top1_pct(), fp_r[i].top1_pct(), tests[i]->name);
  }
  if (o.act_bits > 0) {
    logart::calibrate_activations(qm, search, o.act_bits);
    logart::apply(qm, k_test, o.act_bits);
    for (size_t i = 0; i < tests.size(); ++i) {
      qa_r[i] = evaluate(*qm.net, *tests[i], eo);
      fmt::print("LogART W{} + U({}) activations top-1 {:.2f}% on {}\n", o.w_bits, o.act_bits, qa_r[i].top1_pct(), tests[i]->name);
    }
  }
  if (!a.export_path.empty())
    write_export(a, *qm.net, logart::export_source(qm, k_test, o.act_bits),
                 {{"family", family}, {"method", "logart"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits}, {"approx_k", k_test}},
                 *tests[0], o.act_bits > 0 ? qa_r[0] : q_r[0]);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  nlohmann::json opts{{"scale_method", a.scale_method}, {"search_method", a.search_method}, {"w_sym", o.sym}, {"hardware_approx", a.hw_approx}, {"approx_k", a.approx_k}, {"approx_everywhere", a.approx_everywhere},
                      {"test_with_hardware_approx", o.test_with_hw_approx}, {"m2", a.m2}, {"llr", o.llr}, {"iters_w", o.iters},
                      {"lr", o.lr}, {"lr_min_ratio", o.lr_min_ratio}, {"round_weight", o.round_weight}, {"act_bits", o.act_bits}};
  if (vit) opts.update({{"optim_metric", o.optim_metric}, {"optim_mode", o.optim_mode}, {"drop_prob", o.drop_prob}, {"temp", o.temp},
                        {"use_mean_hessian", o.use_mean_hessian}});
  if (!a.save.empty() && (a.load.empty() || resumed)) {
    logart::save_quantized(qm, a.save, {{"logq.version", LOGQ_VERSION}, {"logq.command", a.cmd}, {"logq.model_config", fp.config.dump()},
                                       {"logq.checkpoint", a.m.checkpoint}, {"logq.options", opts.dump()}, {"logq.w_bits", std::to_string(o.w_bits)}});
    fmt::print("wrote {}\n", a.save);
  }
  if (!a.results.empty()) {
    const std::string header =
        "model,method,w_bits,act_bits,scale_method,search_method,llr,hardware_approx,options,search_samples,calib_samples,seed,"
        "dataset,images,fp_top1,q_top1,q_top1_act,search_s,llr_s,wall_s";
    std::string opt_str = opts.dump();
    for (auto& c : opt_str) if (c == '"') c = '\'';
    for (size_t i = 0; i < tests.size(); ++i)
      append_csv(a.results, header,
                 fmt::format("{},logart,{},{},{},{},{},{},\"{}\",{},{},{},{},{},{:.2f},{:.2f},{},{:.1f},{:.1f},{:.1f}", fp.net->arch, o.w_bits,
                             o.act_bits, a.scale_method, a.search_method, o.llr ? 1 : 0, hw_test ? 1 : 0, opt_str, o.search_samples,
                             o.llr ? o.calib_samples : 0, o.seed, tests[i]->name, q_r[i].n, fp_r[i].top1_pct(), q_r[i].top1_pct(),
                             o.act_bits > 0 ? fmt::format("{:.2f}", qa_r[i].top1_pct()) : std::string(), qm.search_seconds, qm.llr_seconds, wall));
  }
  if (!a.json.empty()) {
    nlohmann::json res = nlohmann::json::array();
    for (size_t i = 0; i < tests.size(); ++i) {
      nlohmann::json r{{"dataset", tests[i]->name}, {"images", q_r[i].n}, {"fp_top1", fp_r[i].top1_pct()}, {"q_top1", q_r[i].top1_pct()}};
      if (o.act_bits > 0) r["q_top1_act"] = qa_r[i].top1_pct();
      res.push_back(r);
    }
    nlohmann::json j{{"model", fp.net->arch}, {"method", "logart"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits}, {"options", opts},
                     {"results", res}, {"search_seconds", qm.search_seconds}, {"llr_seconds", qm.llr_seconds}, {"wall_seconds", wall}};
    write_text(a.json, j.dump(2) + "\n");
  }
}

}  // namespace

// The options of `logq quantize` (and `logq export`, which takes the same ones).
void add_quantize_options(CLI::App* qz, QuantArgs& qa) {
  add_model_args(qz, qa.m, true);
  qz->add_option("--method", qa.method, "logart | adalog | uniform (min/max baseline: per-row U(w) weights, U(a) activations, e.g. INT8 with --w-bit 8)")->required();
  qz->add_option("--config", qa.config, "method config JSON (configs/logart/{3,4}bit/{best,brecq_baseline}.json); CLI options override it");
  qz->add_option("--calib-data", qa.calib_data, "dataset of search/reconstruction images (see `logq eval --help`)")->required();
  qz->add_option("--calib-split", qa.calib_split, "its split")->capture_default_str();
  qz->add_option("--test-data", qa.test_data, "evaluation dataset(s), repeatable (default: --calib-data with --test-split)");
  qz->add_option("--test-split", qa.test_split, "its split")->capture_default_str();
  qz->add_option("--test-limit", qa.test_limit, "evaluate the first N test images only (0: all)")->capture_default_str();
  qz->add_option("--batch", qa.batch, "evaluation batch")->capture_default_str();
  qz->add_option("--w-bit,--n-bits-w", qa.o.w_bits, "weight bits n")->capture_default_str();
  qz->add_option("--scale-method", qa.scale_method, "log_2 | log_sqrt2 | log_dynamic")->capture_default_str();
  qz->add_option("--search-method", qa.search_method, "DBS objective: tensor_wise | layer_wise (CNN default) | block_wise (ViT default); none (s = 1) for log_2 / log_sqrt2");
  qz->add_flag("--w-sym", qa.o.sym, "symmetric codebook range (x+ = x- = max)");
  qz->add_flag("--hardware-approx", qa.hw_approx, "odd sqrt2 levels ~ 1+1/2 (shift-and-add) in search, LLR and test");
  qz->add_flag("--test-with-hardware-approx", qa.o.test_with_hw_approx, "the approximation only in the final evaluation");
  qz->add_flag("--approx-everywhere", qa.approx_everywhere, "ViT: apply --hardware-approx in LLR and test too (the reference: DBS only)");
  qz->add_option("--approx-k", qa.approx_k, "the approximation of sqrt2: 1.5 | 1.4375 | 1.421875 (the reference's commented finer forms)")->capture_default_str();
  qz->add_option("--m2", qa.m2, "M2 = (Mr - cr)//2 rounding: floor (torch >= 1.13, reference default) | trunc (torch 1.10)")->capture_default_str();
  qz->add_option("--search-samples", qa.o.search_samples, "DBS images (CNN 32, ViT 128)")->capture_default_str();
  qz->add_flag("--no-llr", qa.no_llr, "skip Learnable Logarithmic Rounding (DBS + nearest rounding only)");
  qz->add_option("--calib-samples", qa.o.calib_samples, "LLR images")->capture_default_str();
  qz->add_option("--iters-w", qa.o.iters, "LLR iterations per reconstruction unit")->capture_default_str();
  qz->add_option("--lr", qa.o.lr, "LLR Adam learning rate")->capture_default_str();
  qz->add_option("--lr-min-ratio", qa.o.lr_min_ratio, "cosine floor as a fraction of --lr (CNN 0.3; ViT default 1 = constant)")->capture_default_str();
  qz->add_option("--round-weight,--weight", qa.o.round_weight, "LLR regularizer weight lambda")->capture_default_str();
  qz->add_option("--optim-metric", qa.o.optim_metric, "ViT LLR loss: hessian_perturb | mse")->capture_default_str();
  qz->add_option("--use-mean-hessian", qa.o.use_mean_hessian, "ViT: average the Hessian weights over samples")->capture_default_str();
  qz->add_option("--temp", qa.o.temp, "ViT: KL temperature of the Hessian perturbation")->capture_default_str();
  qz->add_option("--optim-mode", qa.o.optim_mode, "ViT LLR inputs: qinp | rinp | qdrop")->capture_default_str();
  qz->add_option("--drop-prob", qa.o.drop_prob, "ViT QDrop probability")->capture_default_str();
  qz->add_option("--act-bits", qa.o.act_bits, "hardware path: U(b) per-tensor quantization of the GEMM inputs the reference keeps float (LogART: every one; AdaLog: the patch-embed image); 0: float, the reference")->capture_default_str();
  qz->add_option("--seed", qa.o.seed, "seed of image selection, augmentation and LLR batches")->capture_default_str();
  qz->add_option("--save", qa.save, "write the quantized parameters (safetensors) to FILE");
  qz->add_option("--load-quantized", qa.load, "evaluate parameters written by --save instead of searching");
  qz->add_option("--results", qa.results, "append a CSV row to FILE");
  qz->add_option("--json", qa.json, "write the result as JSON to FILE (- for stdout)");
  qz->add_flag("--test-before-calibration", qa.test_before, "only evaluate the FP model");
  qz->add_option("--a-bit", qa.ao.a_bit, "AdaLog: activation bits (default = --w-bit)");
  qz->add_option("--s-bit", qa.ao.s_bit, "AdaLog: post-softmax bits (default = --a-bit)");
  qz->add_option("--qhead-a-bit", qa.ao.qhead_a_bit, "AdaLog: head input bits (default = --a-bit)");
  qz->add_option("--calib-size", qa.ao.calib_size, "AdaLog: calibration images")->capture_default_str();
  qz->add_option("--calib-batch-size", qa.ao.calib_batch_size, "AdaLog: the reference's loader/search chunk; logq searches all calibration images at once, which gives the same per-image sums (accepted for config parity)")->capture_default_str();
  qz->add_option("--post-softmax-quantizer", qa.ao.post_softmax_quantizer, "AdaLog: adalog | log2 | logsqrt2")->capture_default_str();
  qz->add_option("--post-gelu-quantizer", qa.ao.post_gelu_quantizer, "AdaLog: adalog | log2 | logsqrt2 | ptq4vit | uniform")->capture_default_str();
  qz->add_flag("--no-fpcs", qa.no_fpcs, "AdaLog: one exhaustive pass over the candidate grid instead of FPCS (fpcs=False)");
  qz->add_flag("--weight-zero-from-range", qa.ao.weight_zero_from_range, "AdaLog: weight grid zero points centred on round(-min/s) per row (the reference: around 2^(b-1))");
  qz->add_flag("--fpcs-keep-best", qa.ao.fpcs_keep_best, "AdaLog: FPCS keeps the best candidate of every stage (the reference forgets it)");
  qz->add_flag("--optimize", qa.optimize, "AdaLog: block reconstruction after calibration (spec 4.5)");
  qz->add_option("--optim-size", qa.ro.optim_size, "AdaLog --optimize: reconstruction images")->capture_default_str();
  qz->add_option("--optim-iters", qa.ro.iters, "AdaLog --optimize: iterations per block")->capture_default_str();
  qz->add_option("--optim-warmup", qa.ro.warmup_iters, "AdaLog --optimize: iterations without the rounding loss (default iters/5)");
  qz->add_option("--train-act", qa.ro.train_act, "AdaLog --optimize: learn activation scales")->capture_default_str();
  qz->add_option("--save-calibrated", qa.save_calibrated, "AdaLog: write the calibrated (and optimized) model to FILE (safetensors)");
  qz->add_option("--load-calibrated", qa.load_calibrated, "AdaLog: start from a --save-calibrated FILE instead of calibrating (e.g. then --optimize)");
  qz->add_option("--adalog-seed", qa.adalog_seed, "AdaLog: calibration image seed (reference 5)")->capture_default_str();
  qz->add_option("--export", qa.export_path, "write the final quantized model as .lqm (docs/lqm.md) for logq golden / verify / sim");
  qz->add_option("--export-samples", qa.export_samples, "--export: first N test images whose per-layer input codes and fake-quant logits the file keeps")->capture_default_str();
  qz->add_flag("--progress,!--no-progress", qa.o.progress, "progress output on stderr (--no-progress: none)");
}

void add_quantize_commands(CLI::App& app, int argc, char** argv) {
  static QuantArgs qa;
  qa.cmd = command_line(argc, argv);
  auto* qz = app.add_subcommand("quantize", "Post-training quantization: LogART (log weights, DBS + LLR) of a CNN or ViT, AdaLog (log activations, FPCS + reconstruction) of a ViT or Swin");
  qa.app = qz;
  add_quantize_options(qz, qa);
  qz->callback([] { run_quantize(qa); });

  static QuantArgs xa;
  xa.cmd = qa.cmd;
  auto* ex = app.add_subcommand("export", "Write a quantized model (the file of logq quantize --save / --save-calibrated) as .lqm for logq golden / verify / sim;\n"
                                          "takes the options of logq quantize (the same model, data and method options), evaluates the fake-quant model once\n"
                                          "and records its top-1 and sample codes in the file");
  xa.app = ex;
  add_quantize_options(ex, xa);
  ex->add_option("-o,--output", xa.export_path, "the .lqm file to write")->required();
  ex->callback([] {
    if (xa.load.empty() && xa.load_calibrated.empty())
      throw Error("logq export needs --load-quantized FILE (LogART) or --load-calibrated FILE (AdaLog): a file logq quantize --save / --save-calibrated wrote");
    xa.no_llr = true;  // never train: export what the file holds
    run_quantize(xa);
  });
}


}  // namespace logq::cli
