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

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <type_traits>
#include <chrono>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

#include "io/error.h"
#include "io/process.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "io/limits.h"
#include "io/progress.h"
#include "io/safetensors.h"
#include "io/sha256.h"
#include "io/dataset.h"
#include "logq_version.h"
#include "quant/eval/runner.h"
#include "quant/adalog/adalog.h"
#include "quant/fulllog/fulllog.h"
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
  int64_t test_limit = 0, batch = 64, threads = 1;
  bool no_llr = false, test_before = false, hw_approx = false, approx_everywhere = false;
  double approx_k = 1.5;
  std::string export_path;
  int64_t export_samples = 8;
  std::string fulllog_order = "acts-first";
  bool no_adalog_eval = false;
  // Which images (issue 23): the user's lists, the augmentation, the evaluations to run.
  std::string search_list, calib_list, optim_list, calib_augment = "train", image_draw = "logq";
  bool fp_only = false, no_fp_eval = false, no_dbs_eval = false;
  std::string replay;                    // --replay FILE: the result JSON this run repeats
  std::string cmd;
  std::vector<std::string> argv;         // the arguments after `logq`, recorded for --replay
  std::set<std::string> from_config;     // options a --config file set
  std::set<std::string> from_file;       // options taken from a resumed file's settings
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

bool on_command_line(const QuantArgs& a, const std::string& opt) {
  const CLI::Option* o = a.app->get_option_no_throw(opt);  // config-only settings ("config:eq_n") have no option
  return o && o->count() > 0;
}
// Set by the user (command line or --config), or taken from a resumed file: not a default.
bool given(const QuantArgs& a, const std::string& opt) {
  return on_command_line(a, opt) || a.from_config.count(opt) > 0 || a.from_file.count(opt) > 0;
}

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
void apply_logart_config(QuantArgs& a, const nlohmann::json& j, const std::string& where) {
  static const std::set<std::string> unused = {"a_bit", "qconv_a_bit", "qhead_a_bit", "calib_metric", "matmul_head_channel_wise",
                                               "token_channel_wise", "eq_n", "search_round", "keep_gpu", "recon_metric", "pct",
                                               "optim_batch_size", "description"};
  for (auto& [k, v] : j.items()) {
    try {
      auto set = [&](const char* opt, auto& field) {
        if (on_command_line(a, opt)) return;
        field = strict_value<std::decay_t<decltype(field)>>(v);
        a.from_config.insert(opt);
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
        throw Error(fmt::format("{}: {} = {}: LogART quantizes no activations (32); use --act-bits for the hardware path", where, k, v.get<int>()));
      else if (!unused.count(k)) throw Error(fmt::format("{}: unknown config field '{}'", where, k));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: field '{}': {}", where, k, e.what()));
    } catch (const ConfigValueError& e) {
      throw Error(fmt::format("{}: field '{}': {}", where, k, e.what()));
    }
  }
}

void apply_logart_config(QuantArgs& a) { apply_logart_config(a, read_config(a.config), a.config); }

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

// ---- Which images a run uses, and the record of them --------------------------------------------

// One search/calibration draw: `count_opt` images with `seed`, or the images of `list_opt`'s file.
struct Draw {
  logart::ImageDraw d;
  std::string list_path;
  std::vector<int64_t> order;  // dataset indices in the order used
};

Draw make_draw(const QuantArgs& a, const Dataset& ds, int64_t n, uint64_t seed, const std::string& list, const char* list_opt,
               const char* count_opt) {
  Draw r;
  r.d.n = n;
  r.d.seed = seed;
  r.d.augment = a.calib_augment == "train";
  r.d.numpy = a.image_draw == "numpy";
  r.list_path = list;
  if (!list.empty()) {
    r.d.list = read_image_list(list, ds);
    if (on_command_line(a, count_opt) && int64_t(r.d.list.size()) != n)
      throw Error(fmt::format("{} {} but {} {} lists {} images: give one or the other", count_opt, n, list_opt, list, r.d.list.size()));
    r.d.n = int64_t(r.d.list.size());
  }
  r.order = logart::draw_order(ds, r.d);
  return r;
}

// A digest of exactly which images, in which order, with which preparation: what a resumed file
// is checked against.
std::string draw_digest(const Dataset& ds, const Draw& r) {
  Sha256 h;
  const std::string head = fmt::format("{}|seed {}|augment {}|", ds.name, r.d.seed, r.d.augment ? 1 : 0);
  h.update(head.data(), head.size());
  for (int64_t i : r.order) {
    const std::string id = ds.id(size_t(i)) + "\n";
    h.update(id.data(), id.size());
  }
  return h.hex();
}

nlohmann::json describe_draw(const Dataset& ds, const Draw& r) {
  nlohmann::json ids = nlohmann::json::array(), idx = nlohmann::json::array();
  for (int64_t i : r.order) {
    ids.push_back(ds.id(size_t(i)));
    idx.push_back(i);
  }
  nlohmann::json j{{"dataset", ds.name}, {"count", r.order.size()}, {"seed", r.d.seed}, {"augment", r.d.augment ? "train" : "none"},
                   {"draw", !r.list_path.empty() ? "list" : r.d.numpy ? "numpy" : "logq"},
                   {"list", r.list_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.list_path)},
                   {"digest", draw_digest(ds, r)}, {"indices", idx}, {"ids", ids}};
  if (!r.list_path.empty()) j["list_sha256"] = sha256_file(r.list_path);
  return j;
}

// Images shared by two draws (LogART's search and LLR draws are independent, as in the reference).
size_t overlap(const Draw& x, const Draw& y) {
  std::set<int64_t> in_x(x.order.begin(), x.order.end());
  size_t n = 0;
  for (int64_t i : y.order) n += in_x.count(i);
  return n;
}

std::string file_sha256(const std::string& path) { return path.empty() ? std::string() : sha256_file(path); }

// What every result JSON records besides its numbers: enough to repeat the run (--replay).
nlohmann::json provenance(const QuantArgs& a, const std::string& checkpoint_sha, const Dataset& calib,
                          const std::vector<std::unique_ptr<Dataset>>& tests) {
  nlohmann::json test_sets = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i)
    test_sets.push_back({{"path", a.test_data.empty() ? a.calib_data : a.test_data[i]}, {"split", a.test_split}, {"name", tests[i]->name},
                         {"size", tests[i]->size()}, {"limit", a.test_limit}});
  nlohmann::json ckpt = nullptr;
  if (!a.m.checkpoint.empty()) ckpt = {{"path", a.m.checkpoint}, {"sha256", checkpoint_sha}};
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();  // relative paths in argv are relative to it
  const char* blas = blas_core();
  return {{"logq_version", LOGQ_VERSION}, {"blas_core", blas ? blas : "none"}, {"command", a.cmd}, {"argv", a.argv}, {"cwd", cwd}, {"checkpoint", ckpt},
          {"calib_data", {{"path", a.calib_data}, {"split", a.calib_split}, {"name", calib.name}, {"size", calib.size()}}},
          {"test_data", test_sets}, {"calib_augment", a.calib_augment}, {"image_draw", a.image_draw}};
}

// ---- Resumed files: every setting that shaped the file, checked before any work ----------------

// One setting a saved file records: its key in the file, the option that sets it, and how to
// read and write this run's value.
struct Setting {
  std::string key, option;
  std::function<nlohmann::json()> get;
  std::function<void(const nlohmann::json&)> set;
};

template <typename T>
Setting setting(const std::string& key, const std::string& option, T& field) {
  return {key, option, [&field] { return nlohmann::json(field); }, [&field](const nlohmann::json& v) { field = strict_value<T>(v); }};
}

nlohmann::json settings_json(const std::vector<Setting>& settings) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& s : settings) j[s.key] = s.get();
  return j;
}

std::string shown(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A setting given on the command line or in --config must equal the file's; one left at its
// default takes the file's value (so `--load-quantized F` alone evaluates F as it was made).
void reconcile(QuantArgs& a, const std::string& file, const nlohmann::json& stored, const std::vector<Setting>& settings) {
  if (!stored.is_object()) throw Error(fmt::format("{}: logq.settings is not a JSON object", file));
  std::vector<std::string> adopted;
  for (const auto& s : settings) {
    if (!stored.contains(s.key)) continue;  // a setting newer than the file: this run's value
    const nlohmann::json want = stored.at(s.key);
    if (given(a, s.option)) {
      if (s.get() != want)
        throw Error(fmt::format("{} was made with {} {}; this run asks for {} {} ({}): drop the option to use the file's, or make the file again",
                                file, s.option, shown(want), s.option, shown(s.get()),
                                a.from_config.count(s.option) ? "from --config" : "on the command line"));
      continue;
    }
    const bool differs = s.get() != want;  // only what changes this run's defaults is worth a line
    try {
      s.set(want);
    } catch (const std::exception& e) {
      throw Error(fmt::format("{}: setting '{}': {}", file, s.key, e.what()));
    }
    a.from_file.insert(s.option);
    if (differs) adopted.push_back(fmt::format("{} {}", s.option, shown(want)));
  }
  if (!adopted.empty()) {
    std::string line;
    for (const auto& x : adopted) line += (line.empty() ? "" : ", ") + x;
    fmt::print("from {}: {}\n", file, line);
  }
}

// The logq.settings record of a resumed file, read before anything else runs.
nlohmann::json read_settings(const std::string& file) {
  const auto f = SafetensorsFile::open(file);
  const std::string s = f.metadata_or("logq.settings", "");
  if (s.empty()) {
    fmt::print(stderr, "logq: warning: {} records no logq.settings (an older logq wrote it): its settings cannot be checked against this run's\n", file);
    return nullptr;
  }
  const nlohmann::json j = parse_json_input(s, file + ": logq.settings");
  if (!j.is_object()) throw Error(fmt::format("{}: logq.settings is not a JSON object", file));
  return j;
}

void check_same_images(const std::string& file, const nlohmann::json& settings, const char* key, const std::string& digest, const char* what) {
  if (settings.is_null() || !settings.contains(key)) return;
  if (settings.at(key) != nlohmann::json(digest))
    throw Error(fmt::format("{} was made on other {} images than this run's (--calib-data, the image list, the seed, the count or "
                            "--calib-augment differ); the file's record is in its logq.settings",
                            file, what));
}

void check_same_checkpoint(const std::string& file, const nlohmann::json& settings, const std::string& checkpoint, const std::string& sha) {
  if (settings.is_null() || !settings.contains("checkpoint_sha256") || checkpoint.empty()) return;
  if (settings.at("checkpoint_sha256") != nlohmann::json(sha))
    throw Error(fmt::format("{} was made from a checkpoint with sha256 {}; --checkpoint {} has {}", file,
                            shown(settings.at("checkpoint_sha256")), checkpoint, sha));
}

double stored_seconds(const nlohmann::json& settings, const char* key) {
  return settings.is_object() && settings.contains(key) && settings.at(key).is_number() ? settings.at(key).get<double>() : 0.0;
}

// ---- Evaluations ------------------------------------------------------------------------------

std::vector<EvalResult> evaluate_fp(const QuantArgs& a, Net& net, const std::vector<std::unique_ptr<Dataset>>& tests, const EvalOptions& eo) {
  std::vector<EvalResult> r(tests.size());
  if (a.no_fp_eval) return r;  // n = 0: reported as null
  for (size_t i = 0; i < tests.size(); ++i) {
    r[i] = evaluate(net, *tests[i], eo);
    fmt::print("FP top-1 {:.2f}% ({} images of {})\n", r[i].top1_pct(), r[i].n, tests[i]->name);
  }
  return r;
}

nlohmann::json pct_or_null(const EvalResult& r) { return r.n ? nlohmann::json(r.top1_pct()) : nlohmann::json(nullptr); }
std::string pct_or_empty(const EvalResult& r) { return r.n ? fmt::format("{:.2f}", r.top1_pct()) : std::string(); }
std::string vs_fp(const EvalResult& fp) { return fp.n ? fmt::format(" (FP {:.2f}%)", fp.top1_pct()) : std::string(); }

// --fp-only: the record with the FP results only.
nlohmann::json fp_only_record(nlohmann::json record, const std::string& model, const char* method,
                              const std::vector<std::unique_ptr<Dataset>>& tests, const std::vector<EvalResult>& fp_r) {
  nlohmann::json res = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i) res.push_back({{"dataset", tests[i]->name}, {"images", fp_r[i].n}, {"fp_top1", pct_or_null(fp_r[i])}});
  record.update({{"model", model}, {"method", method}, {"fp_only", true}, {"results", res}});
  return record;
}

std::vector<std::unique_ptr<Dataset>> open_tests(const QuantArgs& a) {
  std::vector<std::unique_ptr<Dataset>> tests;
  if (a.test_data.empty()) tests.push_back(open_dataset(a.calib_data, a.test_split));
  for (const auto& t : a.test_data) tests.push_back(open_dataset(t, a.test_split));
  return tests;
}

void check_augment(const QuantArgs& a) {
  if (a.calib_augment != "train" && a.calib_augment != "none")
    throw Error(fmt::format("--calib-augment '{}' is not train | none", a.calib_augment));
  if (a.image_draw != "logq" && a.image_draw != "numpy") throw Error(fmt::format("--image-draw '{}' is not logq | numpy", a.image_draw));
}

void apply_adalog_config(QuantArgs& a, const nlohmann::json& j, const std::string& where) {
  auto& o = a.ao;
  for (auto& [k, v] : j.items()) {
    try {
      auto set = [&](const char* opt, auto& field) {
        if (opt && on_command_line(a, opt)) return;
        field = strict_value<std::decay_t<decltype(field)>>(v);
        a.from_config.insert(opt ? std::string(opt) : "config:" + k);
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
      else throw Error(fmt::format("{}: unknown config field '{}'", where, k));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: field '{}': {}", where, k, e.what()));
    } catch (const ConfigValueError& e) {
      throw Error(fmt::format("{}: field '{}': {}", where, k, e.what()));
    }
  }
}

void apply_adalog_config(QuantArgs& a) { apply_adalog_config(a, read_config(a.config), a.config); }

// The settings that shape an AdaLog calibrated file (calibration) and its reconstruction.
std::vector<Setting> adalog_calib_settings(QuantArgs& a) {
  auto& o = a.ao;
  std::vector<Setting> s{setting("w_bits", "--w-bit", a.o.w_bits),
                         setting("a_bits", "--a-bit", o.a_bit),
                         setting("s_bits", "--s-bit", o.s_bit),
                         setting("qhead_a_bits", "--qhead-a-bit", o.qhead_a_bit),
                         setting("post_softmax_quantizer", "--post-softmax-quantizer", o.post_softmax_quantizer),
                         setting("post_gelu_quantizer", "--post-gelu-quantizer", o.post_gelu_quantizer),
                         setting("fpcs_keep_best", "--fpcs-keep-best", o.fpcs_keep_best),
                         setting("weight_zero_from_range", "--weight-zero-from-range", o.weight_zero_from_range),
                         setting("calib_size", "--calib-size", o.calib_size),
                         setting("seed", "--adalog-seed", a.adalog_seed),
                         setting("calib_augment", "--calib-augment", a.calib_augment),
                         setting("image_draw", "--image-draw", a.image_draw),
                         setting("eq_n", "config:eq_n", o.eq_n),
                         setting("search_round", "config:search_round", o.search_round)};
  s.push_back({"fpcs", "--no-fpcs", [&a] { return nlohmann::json(a.ao.fpcs && !a.no_fpcs); },
               [&a](const nlohmann::json& v) { a.ao.fpcs = strict_value<bool>(v), a.no_fpcs = !a.ao.fpcs; }});
  return s;
}

std::vector<Setting> adalog_optim_settings(QuantArgs& a) {
  return {setting("optim_iters", "--optim-iters", a.ro.iters), setting("optim_size", "--optim-size", a.ro.optim_size),
          setting("optim_warmup", "--optim-warmup", a.ro.warmup_iters), setting("train_act", "--train-act", a.ro.train_act)};
}

nlohmann::json run_adalog(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  apply_adalog_config(a);
  auto& o = a.ao;
  const bool loaded = !a.load_calibrated.empty();
  const nlohmann::json stored = loaded ? read_settings(a.load_calibrated) : nlohmann::json(nullptr);
  if (stored.is_object()) {  // before any work: a mismatch is named, the rest is the file's
    reconcile(a, a.load_calibrated, stored.value("calib", nlohmann::json::object()), adalog_calib_settings(a));
    if (stored.value("optimized", false) && !a.optimize)
      reconcile(a, a.load_calibrated, stored.value("optim", nlohmann::json::object()), adalog_optim_settings(a));
  }
  if (!given(a, "--a-bit") && a.config.empty()) o.a_bit = a.o.w_bits;  // W{b}A{b} unless told otherwise
  if (!given(a, "--s-bit") && a.config.empty()) o.s_bit = o.a_bit;
  if (!given(a, "--qhead-a-bit") && a.config.empty()) o.qhead_a_bit = o.a_bit;
  o.w_bit = a.o.w_bits;
  o.fpcs = o.fpcs && !a.no_fpcs;
  o.progress = a.o.progress;
  for (int b : {o.w_bit, o.a_bit, o.s_bit, o.qhead_a_bit})
    if (b < 2 || b > 8) throw Error(fmt::format("AdaLog bit widths must be 2..8 (got {})", b));
  const std::string ckpt_sha = file_sha256(a.m.checkpoint);
  check_same_checkpoint(a.load_calibrated, stored, a.m.checkpoint, ckpt_sha);
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
  const auto tests = open_tests(a);
  const Draw calib_draw = make_draw(a, *calib_set, o.calib_size, a.adalog_seed, a.calib_list, "--calib-list", "--calib-size");
  o.calib_size = calib_draw.d.n;
  Draw optim_draw;
  if (a.optimize) {
    // The reference draws both sets from seed 5 (its 32 are the first of its 1024); logq's own draw
    // takes the next seed for the optimisation set.
    const uint64_t optim_seed = a.image_draw == "numpy" ? a.adalog_seed : a.adalog_seed + 1;
    optim_draw = make_draw(a, *calib_set, a.ro.optim_size, optim_seed, a.optim_list, "--optim-list", "--optim-size");
    a.ro.optim_size = optim_draw.d.n;
  }
  if (stored.is_object() && !a.optimize) check_same_images(a.load_calibrated, stored, "calib_images", draw_digest(*calib_set, calib_draw), "calibration");
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("AdaLog W{}A{} (softmax {} bits, head input {} bits) on {} ({}), {} calibration images from {}\n", o.w_bit, o.a_bit,
             o.s_bit, o.qhead_a_bit, lm.net->arch, loaded ? a.load_calibrated : a.m.checkpoint, o.calib_size, calib_set->name);
  // FP accuracy: of the checkpoint (a calibrated file has folded biases, so it needs --checkpoint too)
  std::shared_ptr<Net> fp_net = loaded ? nullptr : lm.net;
  if (loaded && !a.m.checkpoint.empty()) fp_net = load_model(model_config(a.m), a.m.checkpoint).net;
  std::vector<EvalResult> fp_r(tests.size()), q_r;
  if (fp_net) fp_r = evaluate_fp(a, *fp_net, tests, eo);
  nlohmann::json record = provenance(a, ckpt_sha, *calib_set, tests);
  record["images"] = {{"calib", describe_draw(*calib_set, calib_draw)}};
  if (a.optimize) record["images"]["optim"] = describe_draw(*calib_set, optim_draw);
  if (a.fp_only) return fp_only_record(std::move(record), lm.net->arch, "adalog", tests, fp_r);
  auto log = [](const std::string& s) {
    fmt::print("{}\n", s);
    std::fflush(stdout);
  };
  if (loaded) {
    fmt::print("loaded {} calibrated layers from {}\n", qm.layers.size(), a.load_calibrated);
    qm.calib_seconds = stored_seconds(stored, "calib_seconds");
  } else {
    qm = adalog::calibrate(lm.net, family, logart::sample_images(*lm.net, *calib_set, calib_draw.d), o, log);
  }
  double optim_s = loaded && !a.optimize ? stored_seconds(stored, "optim_seconds") : 0.0;
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
    const at::Tensor optim = logart::sample_images(*lm.net, *calib_set, optim_draw.d);
    const auto t0 = std::chrono::steady_clock::now();
    adalog::reconstruct(qm, optim, ro, log);
    optim_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  adalog::fold_post_gelu_bias(qm);  // skipped where already folded (a loaded calibrated file: pitfall 5)
  adalog::install(qm, true);
  const bool optimized = a.optimize || (stored.is_object() && stored.value("optimized", false));
  nlohmann::json settings{{"calib", settings_json(adalog_calib_settings(a))}, {"optimized", optimized},
                          {"calib_images", stored.is_object() && !a.optimize ? stored.value("calib_images", nlohmann::json(nullptr))
                                                                               : nlohmann::json(draw_digest(*calib_set, calib_draw))},
                          {"checkpoint_sha256", ckpt_sha.empty() && stored.is_object() ? stored.value("checkpoint_sha256", nlohmann::json(nullptr)) : nlohmann::json(ckpt_sha)},
                          {"calib_seconds", qm.calib_seconds}, {"optim_seconds", optim_s}};
  if (optimized) settings["optim"] = a.optimize ? settings_json(adalog_optim_settings(a)) : stored.value("optim", nlohmann::json(nullptr));
  if (!a.save_calibrated.empty()) {
    adalog::save_calibrated(qm, lm.config, a.save_calibrated, {{"logq.version", LOGQ_VERSION}, {"logq.command", a.cmd},
                                                             {"logq.optimized", optimized ? "true" : "false"}, {"logq.settings", settings.dump()}});
    fmt::print("wrote {}\n", a.save_calibrated);
  }
  for (size_t i = 0; i < tests.size(); ++i) {
    q_r.push_back(evaluate(*qm.net, *tests[i], eo));
    fmt::print("AdaLog W{}A{} top-1 {:.2f}%{} on {}\n", o.w_bit, o.a_bit, q_r[i].top1_pct(), vs_fp(fp_r[i]), tests[i]->name);
  }
  std::vector<EvalResult> qa_r;
  if (a.o.act_bits > 0) {  // hardware path: the patch-embed image as U(b), min/max on the calibration images
    if (a.o.act_bits > 16) throw Error(fmt::format("--act-bits {} outside 0..16", a.o.act_bits));
    adalog::calibrate_float_inputs(qm, logart::sample_images(*qm.net, *calib_set, calib_draw.d), a.o.act_bits);
    for (size_t i = 0; i < tests.size(); ++i) {
      qa_r.push_back(evaluate(*qm.net, *tests[i], eo));
      fmt::print("AdaLog W{}A{} + U({}) patch-embed input top-1 {:.2f}% on {}\n", o.w_bit, o.a_bit, a.o.act_bits, qa_r[i].top1_pct(), tests[i]->name);
    }
  }
  if (!a.export_path.empty())
    write_export(a, *qm.net, adalog::export_source(qm),
                 {{"family", family}, {"method", "adalog"}, {"w_bits", o.w_bit}, {"a_bits", o.a_bit}, {"s_bits", o.s_bit}, {"optimized", optimized}},
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
                 fmt::format("{},adalog,{},{},\"{}\",{},{},{},{},{},{},{:.2f},{:.2f},{:.1f},{:.1f},{:.1f}", lm.net->arch, o.w_bit, o.a_bit, opt_str,
                             o.calib_size, a.optimize ? a.ro.optim_size : 0, a.adalog_seed, tests[i]->name, q_r[i].n, pct_or_empty(fp_r[i]),
                             (a.optimize ? calib_r[i] : q_r[i]).top1_pct(), q_r[i].top1_pct(), qm.calib_seconds, optim_s, wall));
  }
  nlohmann::json res = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i) {
    res.push_back({{"dataset", tests[i]->name}, {"images", q_r[i].n}, {"fp_top1", pct_or_null(fp_r[i])},
                   {"calib_top1", (a.optimize ? calib_r[i] : q_r[i]).top1_pct()}, {"q_top1", q_r[i].top1_pct()}});
    if (!qa_r.empty()) res.back()["q_top1_act"] = qa_r[i].top1_pct();
  }
  record.update({{"model", lm.net->arch}, {"model_config", lm.config}, {"method", "adalog"}, {"w_bits", o.w_bit}, {"a_bits", o.a_bit},
                 {"options", opts}, {"settings", settings}, {"results", res}, {"calib_seconds", qm.calib_seconds},
                 {"optim_seconds", optim_s}, {"wall_seconds", wall}});
  if (loaded) record["resumed_from"] = {{"path", a.load_calibrated}, {"sha256", sha256_file(a.load_calibrated)}};
  return record;
}

// The uniform min/max baseline (quant/uniform/): per-row U(w) weights, per-tensor U(a) activations.
nlohmann::json run_uniform(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  auto& o = a.o;
  if (!given(a, "--act-bits")) o.act_bits = 8;
  const std::string ckpt_sha = file_sha256(a.m.checkpoint);
  LoadedModel fp = load_model(model_config(a.m), a.m.checkpoint);
  LoadedModel q = load_model(fp.config, a.m.checkpoint);
  const std::string family = fp.config.value("family", "");
  auto calib_set = open_dataset(a.calib_data, a.calib_split);
  const auto tests = open_tests(a);
  const Draw draw = make_draw(a, *calib_set, o.search_samples, o.seed, a.search_list, "--search-list", "--search-samples");
  o.search_samples = draw.d.n;
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("uniform baseline W{}A{} (per-row min/max weights, per-tensor min/max activations) on {}, {} calibration images from {}\n",
             o.w_bits, o.act_bits, fp.net->arch, o.search_samples, calib_set->name);
  const std::vector<EvalResult> fp_r = evaluate_fp(a, *fp.net, tests, eo);
  nlohmann::json record = provenance(a, ckpt_sha, *calib_set, tests);
  record["images"] = {{"calib", describe_draw(*calib_set, draw)}};
  std::vector<EvalResult> q_r;
  if (!a.fp_only) {
    const uniform::UniformModel um = uniform::quantize(q.net, logart::sample_images(*fp.net, *calib_set, draw.d), o.w_bits, o.act_bits);
    for (size_t i = 0; i < tests.size(); ++i) {
      q_r.push_back(evaluate(*q.net, *tests[i], eo));
      fmt::print("uniform W{}A{} top-1 {:.2f}%{} on {}\n", o.w_bits, o.act_bits, q_r.back().top1_pct(), vs_fp(fp_r[i]), tests[i]->name);
    }
    if (!a.export_path.empty())
      write_export(a, *q.net, uniform::export_source(um),
                   {{"family", family}, {"method", "uniform"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits}}, *tests[0], q_r[0]);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  if (!a.results.empty() && !a.fp_only)
    for (size_t i = 0; i < tests.size(); ++i)
      append_csv(a.results, "model,method,w_bits,act_bits,calib_samples,seed,dataset,images,fp_top1,q_top1,wall_s",
                 fmt::format("{},uniform,{},{},{},{},{},{},{},{:.2f},{:.1f}", fp.net->arch, o.w_bits, o.act_bits, o.search_samples, o.seed,
                             tests[i]->name, q_r[i].n, pct_or_empty(fp_r[i]), q_r[i].top1_pct(), wall));
  nlohmann::json res = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i) {
    res.push_back({{"dataset", tests[i]->name}, {"images", a.fp_only ? fp_r[i].n : q_r[i].n}, {"fp_top1", pct_or_null(fp_r[i])}});
    if (!a.fp_only) res.back()["q_top1"] = q_r[i].top1_pct();
  }
  record.update({{"model", fp.net->arch}, {"model_config", fp.config}, {"method", "uniform"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits},
                 {"options", {{"calib_samples", o.search_samples}, {"seed", o.seed}}}, {"results", res}, {"wall_seconds", wall}});
  if (a.fp_only) record["fp_only"] = true;
  return record;
}

// Every file a run will write is checked before the run, so hours of work never end in
// "cannot create".
void check_outputs(const QuantArgs& a) {
  for (const auto& [opt, path] : {std::pair<const char*, const std::string*>{"--save", &a.save}, {"--results", &a.results},
                                  {"--json", &a.json}, {"--save-calibrated", &a.save_calibrated}, {"--export", &a.export_path}})
    check_output_path(*path, opt);
}

// The settings that shape a LogART --save file: the search, and the LLR when the file has it.
std::vector<Setting> logart_search_settings(QuantArgs& a) {
  auto& o = a.o;
  return {setting("w_bits", "--w-bit", o.w_bits),
          setting("scale_method", "--scale-method", a.scale_method),
          setting("search_method", "--search-method", a.search_method),
          setting("w_sym", "--w-sym", o.sym),
          setting("hardware_approx", "--hardware-approx", a.hw_approx),
          setting("approx_k", "--approx-k", a.approx_k),
          setting("m2", "--m2", a.m2),
          setting("search_samples", "--search-samples", o.search_samples),
          setting("seed", "--seed", o.seed),
          setting("calib_augment", "--calib-augment", a.calib_augment),
          setting("image_draw", "--image-draw", a.image_draw)};
}

std::vector<Setting> logart_llr_settings(QuantArgs& a) {
  auto& o = a.o;
  return {setting("calib_samples", "--calib-samples", o.calib_samples), setting("iters_w", "--iters-w", o.iters),
          setting("lr", "--lr", o.lr),
          setting("lr_min_ratio", "--lr-min-ratio", o.lr_min_ratio),
          setting("round_weight", "--round-weight", o.round_weight),
          setting("approx_everywhere", "--approx-everywhere", a.approx_everywhere),
          setting("optim_metric", "--optim-metric", o.optim_metric),
          setting("optim_mode", "--optim-mode", o.optim_mode),
          setting("drop_prob", "--drop-prob", o.drop_prob),
          setting("temp", "--temp", o.temp),
          setting("use_mean_hessian", "--use-mean-hessian", o.use_mean_hessian)};
}

// LogART's options from the command line and config, checked (LogART and fulllog).
void check_logart_options(QuantArgs& a) {
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
}

nlohmann::json run_logart(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  apply_logart_config(a);
  auto& o = a.o;
  // A resumed file first: a mismatched setting stops the run here, before any model or data is read.
  const nlohmann::json stored = a.load.empty() ? nlohmann::json(nullptr) : read_settings(a.load);
  const bool file_has_llr = stored.is_object() && stored.value("llr", nlohmann::json(nullptr)).is_object();
  if (stored.is_object()) {
    reconcile(a, a.load, stored.value("search", nlohmann::json::object()), logart_search_settings(a));
    if (file_has_llr) reconcile(a, a.load, stored.at("llr"), logart_llr_settings(a));
  }
  check_logart_options(a);
  const std::string ckpt_sha = file_sha256(a.m.checkpoint);
  check_same_checkpoint(a.load, stored, a.m.checkpoint, ckpt_sha);

  LoadedModel fp = load_model(model_config(a.m), a.m.checkpoint);
  LoadedModel qm_net = load_model(fp.config, a.m.checkpoint);
  const std::string family = fp.config.value("family", "");
  const bool vit = family == "vit" || family == "swin";  // the transformer pipeline (§6)
  if (!vit && family != "resnet" && family != "mobilenetv2")
    throw Error(fmt::format("LogART supports resnet, mobilenetv2, vit and swin models; '{}' is a {} model", fp.net->arch, family));
  o.transformer = vit;
  if (a.search_method.empty())
    a.search_method = o.scale_method != logart::ScaleMethod::LogDynamic ? "none" : vit ? "block_wise" : "layer_wise";
  o.search_method = logart::parse_search_method(a.search_method);
  if (vit && !given(a, "--search-samples") && a.config.empty()) o.search_samples = 128;
  if (vit && !given(a, "--lr-min-ratio")) o.lr_min_ratio = 1.0;  // LogART-ViT never steps its scheduler
  const bool k_everywhere = !vit || a.approx_everywhere;  // LogART-ViT: the approximation reaches DBS only
  const double k_test = o.test_with_hw_approx ? a.approx_k : (k_everywhere ? o.k_odd : 0.0);
  const bool hw_test = k_test > 0;

  auto calib_set = open_dataset(a.calib_data, a.calib_split);
  const auto tests = open_tests(a);
  const Draw search_draw = make_draw(a, *calib_set, o.search_samples, o.seed, a.search_list, "--search-list", "--search-samples");
  o.search_samples = search_draw.d.n;
  const bool will_llr = o.llr && !file_has_llr;  // LLR runs here (fresh, or resumed from a DBS-only file)
  Draw llr_draw;
  if (o.llr) {  // LLR images: drawn for a run that learns, checked against a file that has learned
    llr_draw = make_draw(a, *calib_set, o.calib_samples, o.seed + 1, a.calib_list, "--calib-list", "--calib-samples");
    o.calib_samples = llr_draw.d.n;
  }
  check_same_images(a.load, stored, "search_images", draw_digest(*calib_set, search_draw), "search");
  if (file_has_llr && o.llr) check_same_images(a.load, stored, "llr_images", draw_digest(*calib_set, llr_draw), "LLR");
  auto log = [](const std::string& s) {
    fmt::print("{}\n", s);
    std::fflush(stdout);
  };
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("LogART W{} {} {} on {} ({}), search {} + LLR {} images from {}\n", o.w_bits, a.scale_method, a.search_method, fp.net->arch,
             a.m.checkpoint, o.search_samples, o.llr ? o.calib_samples : 0, calib_set->name);
  if (will_llr && search_draw.list_path.empty() && llr_draw.list_path.empty())
    if (const size_t n = overlap(search_draw, llr_draw)) fmt::print("{} of the {} search images are among the LLR images (independent draws, as in the reference)\n", n, o.search_samples);
  const std::vector<EvalResult> fp_r = evaluate_fp(a, *fp.net, tests, eo);
  nlohmann::json record = provenance(a, ckpt_sha, *calib_set, tests);
  record["images"] = {{"search", describe_draw(*calib_set, search_draw)}};
  if (o.llr) record["images"]["llr"] = describe_draw(*calib_set, llr_draw);
  if (a.fp_only) return fp_only_record(std::move(record), fp.net->arch, "logart", tests, fp_r);

  // The DBS-only accuracy (the reference's --test_before_calibration), on a separate copy so LLR
  // starts from exactly the state it would without it.
  std::vector<EvalResult> dbs_r;
  const auto eval_dbs = [&](const logart::LayerParams& layers) {
    LoadedModel ev = load_model(fp.config, a.m.checkpoint);
    fold_batchnorms(*ev.net);
    logart::QuantizedModel snap;
    snap.net = ev.net;
    snap.layers = layers;
    logart::apply(snap, k_test, 0);
    for (size_t i = 0; i < tests.size(); ++i) {
      dbs_r.push_back(evaluate(*snap.net, *tests[i], eo));
      fmt::print("LogART W{} DBS only (before LLR) top-1 {:.2f}% on {}\n", o.w_bits, dbs_r[i].top1_pct(), tests[i]->name);
    }
  };
  std::function<void(const logart::LayerParams&)> on_searched;
  if (will_llr && (a.test_before || !a.no_dbs_eval)) on_searched = eval_dbs;

  const at::Tensor search = logart::sample_images(*fp.net, *calib_set, search_draw.d);
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
      calib = logart::sample_images(*fp.net, *calib_set, llr_draw.d);
      logart::QuantizedModel searched = std::move(qm);
      qm = logart::quantize(*fp.net, fresh.net, search, calib, o, log, &searched, on_searched);
      resumed = true;
    }
    o.llr = o.llr && (has_llr || resumed);
    qm.search_seconds = stored_seconds(stored, "search_seconds");  // the run that searched
    if (!resumed) qm.llr_seconds = stored_seconds(stored, "llr_seconds");
  } else {
    if (o.llr) calib = logart::sample_images(*fp.net, *calib_set, llr_draw.d);
    qm = logart::quantize(*fp.net, qm_net.net, search, calib, o, log, nullptr, on_searched);
  }
  logart::apply(qm, k_test, 0);
  std::vector<EvalResult> q_r, qa_r(tests.size());
  for (size_t i = 0; i < tests.size(); ++i) {
    q_r.push_back(evaluate(*qm.net, *tests[i], eo));
    fmt::print("LogART W{} top-1 {:.2f}%{} on {}\n", o.w_bits, q_r[i].top1_pct(), vs_fp(fp_r[i]), tests[i]->name);
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
                      {"lr", o.lr}, {"lr_min_ratio", o.lr_min_ratio}, {"round_weight", o.round_weight}, {"act_bits", o.act_bits},
                      {"search_samples", o.search_samples}, {"calib_samples", o.llr ? o.calib_samples : 0}, {"seed", o.seed}, {"calib_augment", a.calib_augment}, {"image_draw", a.image_draw}};
  if (vit) opts.update({{"optim_metric", o.optim_metric}, {"optim_mode", o.optim_mode}, {"drop_prob", o.drop_prob}, {"temp", o.temp},
                        {"use_mean_hessian", o.use_mean_hessian}});
  nlohmann::json settings{{"search", settings_json(logart_search_settings(a))},
                          {"llr", o.llr ? settings_json(logart_llr_settings(a)) : nlohmann::json(nullptr)},
                          {"search_images", draw_digest(*calib_set, search_draw)},
                          {"llr_images", o.llr ? nlohmann::json(draw_digest(*calib_set, llr_draw)) : nlohmann::json(nullptr)},
                          {"checkpoint_sha256", ckpt_sha}, {"search_seconds", qm.search_seconds}, {"llr_seconds", qm.llr_seconds}};
  if (!a.save.empty() && (a.load.empty() || resumed)) {
    logart::save_quantized(qm, a.save, {{"logq.version", LOGQ_VERSION}, {"logq.command", a.cmd}, {"logq.model_config", fp.config.dump()},
                                       {"logq.checkpoint", a.m.checkpoint}, {"logq.options", opts.dump()}, {"logq.w_bits", std::to_string(o.w_bits)},
                                       {"logq.settings", settings.dump()}});
    fmt::print("wrote {}\n", a.save);
  }
  if (!a.results.empty()) {
    const std::string header =
        "model,method,w_bits,act_bits,scale_method,search_method,llr,hardware_approx,options,search_samples,calib_samples,seed,"
        "dataset,images,fp_top1,dbs_top1,q_top1,q_top1_act,search_s,llr_s,wall_s";
    std::string opt_str = opts.dump();
    for (auto& c : opt_str) if (c == '"') c = '\'';
    for (size_t i = 0; i < tests.size(); ++i)
      append_csv(a.results, header,
                 fmt::format("{},logart,{},{},{},{},{},{},\"{}\",{},{},{},{},{},{},{},{:.2f},{},{:.1f},{:.1f},{:.1f}", fp.net->arch, o.w_bits,
                             o.act_bits, a.scale_method, a.search_method, o.llr ? 1 : 0, hw_test ? 1 : 0, opt_str, o.search_samples,
                             o.llr ? o.calib_samples : 0, o.seed, tests[i]->name, q_r[i].n, pct_or_empty(fp_r[i]),
                             dbs_r.empty() ? std::string() : pct_or_empty(dbs_r[i]), q_r[i].top1_pct(),
                             o.act_bits > 0 ? fmt::format("{:.2f}", qa_r[i].top1_pct()) : std::string(), qm.search_seconds, qm.llr_seconds, wall));
  }
  nlohmann::json res = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i) {
    nlohmann::json r{{"dataset", tests[i]->name}, {"images", q_r[i].n}, {"fp_top1", pct_or_null(fp_r[i])}, {"q_top1", q_r[i].top1_pct()}};
    if (!dbs_r.empty()) r["dbs_top1"] = dbs_r[i].top1_pct();
    if (o.act_bits > 0) r["q_top1_act"] = qa_r[i].top1_pct();
    res.push_back(r);
  }
  record.update({{"model", fp.net->arch}, {"model_config", fp.config}, {"method", "logart"}, {"w_bits", o.w_bits}, {"act_bits", o.act_bits},
                 {"options", opts}, {"settings", settings}, {"results", res}, {"search_seconds", qm.search_seconds},
                 {"llr_seconds", qm.llr_seconds}, {"wall_seconds", wall}});
  if (!a.load.empty()) record["resumed_from"] = {{"path", a.load}, {"sha256", sha256_file(a.load)}};
  return record;
}

// ---- fulllog: LogART weights × AdaLog activations (quant/fulllog) ---------------------------------

// configs/fulllog/*.json: {"adalog": {AdaLog config fields}, "logart": {LogART config fields},
// "order": "acts-first" | "weights-first"}; each block is read as its method's own config.
void apply_fulllog_config(QuantArgs& a) {
  const nlohmann::json j = read_config(a.config);
  const auto w_bit = [](const nlohmann::json& b) { return b.is_object() && b.contains("w_bit") ? b.at("w_bit") : nlohmann::json(nullptr); };
  if (j.contains("adalog") && j.contains("logart") && !w_bit(j.at("adalog")).is_null() && !w_bit(j.at("logart")).is_null() &&
      w_bit(j.at("adalog")) != w_bit(j.at("logart")))
    throw Error(fmt::format("{}: adalog.w_bit and logart.w_bit differ; the weights are LogART's: give w_bit once", a.config));
  for (const auto& [k, v] : j.items()) {
    if (k == "adalog" || k == "logart") {
      if (!v.is_object()) throw Error(fmt::format("{}: field '{}' must be an object (that method's config fields)", a.config, k));
      if (k == "adalog") apply_adalog_config(a, v, a.config + ": adalog");
      else apply_logart_config(a, v, a.config + ": logart");
    } else if (k == "order") {
      if (on_command_line(a, "--fulllog-order")) continue;
      if (!v.is_string()) throw Error(fmt::format("{}: field 'order': expected a string", a.config));
      a.fulllog_order = v.get<std::string>();
      a.from_config.insert("--fulllog-order");
    } else if (k != "description") {
      throw Error(fmt::format("{}: unknown config field '{}' (adalog | logart | order | description)", a.config, k));
    }
  }
}

nlohmann::json run_fulllog(QuantArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  apply_fulllog_config(a);
  for (const auto& [opt, set] : {std::pair<const char*, bool>{"--save", !a.save.empty()}, {"--load-quantized", !a.load.empty()},
                                 {"--save-calibrated", !a.save_calibrated.empty()}, {"--load-calibrated", !a.load_calibrated.empty()},
                                 {"--optimize", a.optimize}})
    if (set) throw Error(fmt::format("--method fulllog does not take {} (one run quantizes, evaluates and --export's)", opt));
  auto& o = a.o;
  auto& ao = a.ao;
  if (!given(a, "--a-bit")) ao.a_bit = o.w_bits;  // W{b}A{b} unless told otherwise
  if (!given(a, "--s-bit")) ao.s_bit = ao.a_bit;
  if (!given(a, "--qhead-a-bit")) ao.qhead_a_bit = ao.a_bit;
  ao.w_bit = o.w_bits;
  ao.fpcs = ao.fpcs && !a.no_fpcs;
  ao.progress = o.progress;
  for (int b : {ao.a_bit, ao.s_bit, ao.qhead_a_bit})
    if (b < 2 || b > 8) throw Error(fmt::format("AdaLog activation bit widths must be 2..8 (got {})", b));
  check_logart_options(a);
  if (a.search_method.empty()) a.search_method = o.scale_method != logart::ScaleMethod::LogDynamic ? "none" : "block_wise";
  o.search_method = logart::parse_search_method(a.search_method);
  if (!given(a, "--search-samples")) o.search_samples = 128;
  if (!given(a, "--lr-min-ratio")) o.lr_min_ratio = 1.0;  // LogART-ViT never steps its scheduler
  fulllog::Options fo{ao, o, fulllog::parse_order(a.fulllog_order)};
  const double k_test = o.test_with_hw_approx ? a.approx_k : (a.approx_everywhere ? o.k_odd : 0.0);

  const std::string ckpt_sha = file_sha256(a.m.checkpoint);
  LoadedModel lm = load_model(model_config(a.m), a.m.checkpoint);
  LoadedModel fp_copy = load_model(lm.config, a.m.checkpoint);
  const std::string family = lm.config.value("family", "");
  if (family != "vit" && family != "swin")
    throw Error(fmt::format("--method fulllog quantizes transformers (vit, swin); '{}' is a {} model", lm.net->arch, family));
  adalog::plan(*lm.net, family, ao);  // unsupported layouts fail before any data is read
  auto calib_set = open_dataset(a.calib_data, a.calib_split);
  const auto tests = open_tests(a);
  const Draw calib_draw = make_draw(a, *calib_set, ao.calib_size, a.adalog_seed, a.calib_list, "--calib-list", "--calib-size");
  ao.calib_size = fo.act.calib_size = calib_draw.d.n;
  const Draw search_draw = make_draw(a, *calib_set, o.search_samples, o.seed, a.search_list, "--search-list", "--search-samples");
  o.search_samples = search_draw.d.n;
  Draw llr_draw;
  if (o.llr) {
    llr_draw = make_draw(a, *calib_set, o.calib_samples, o.seed + 1, a.optim_list, "--optim-list", "--calib-samples");
    o.calib_samples = llr_draw.d.n;
  }
  auto log = [](const std::string& s) {
    fmt::print("{}\n", s);
    std::fflush(stdout);
  };
  const EvalOptions eo{a.batch, a.test_limit, o.progress};
  fmt::print("fulllog ({}): LogART W{} {} {} weights x AdaLog A{} activations (softmax {} bits, head input {} bits) on {}; "
             "AdaLog {} + search {} + LLR {} images from {}\n",
             a.fulllog_order, o.w_bits, a.scale_method, a.search_method, ao.a_bit, ao.s_bit, ao.qhead_a_bit, lm.net->arch,
             ao.calib_size, o.search_samples, o.llr ? o.calib_samples : 0, calib_set->name);
  const std::vector<EvalResult> fp_r = evaluate_fp(a, *lm.net, tests, eo);
  nlohmann::json record = provenance(a, ckpt_sha, *calib_set, tests);
  record["images"] = {{"calib", describe_draw(*calib_set, calib_draw)}, {"search", describe_draw(*calib_set, search_draw)}};
  if (o.llr) record["images"]["llr"] = describe_draw(*calib_set, llr_draw);
  if (a.fp_only) return fp_only_record(std::move(record), lm.net->arch, "fulllog", tests, fp_r);

  // The AdaLog-only model at the same bits (its own uniform weights) comes free with step 1.
  std::vector<EvalResult> ada_r;
  const auto eval_adalog = [&](Net& net) {
    for (size_t i = 0; i < tests.size(); ++i) {
      ada_r.push_back(evaluate(net, *tests[i], eo));
      fmt::print("AdaLog-only W{}A{} (uniform weights) top-1 {:.2f}% on {}\n", o.w_bits, ao.a_bit, ada_r[i].top1_pct(), tests[i]->name);
    }
  };
  const at::Tensor calib = logart::sample_images(*lm.net, *calib_set, calib_draw.d);
  const at::Tensor search = logart::sample_images(*lm.net, *calib_set, search_draw.d);
  const at::Tensor llr = o.llr ? logart::sample_images(*lm.net, *calib_set, llr_draw.d) : at::Tensor();
  fulllog::Model m = fulllog::quantize(lm.net, fp_copy.net, family, calib, search, llr, fo, log,
                                       a.no_adalog_eval ? std::function<void(Net&)>() : eval_adalog);
  fulllog::apply(m, k_test);
  std::vector<EvalResult> q_r, qa_r;
  for (size_t i = 0; i < tests.size(); ++i) {
    q_r.push_back(evaluate(*lm.net, *tests[i], eo));
    fmt::print("fulllog W{}A{} top-1 {:.2f}%{} on {}\n", o.w_bits, ao.a_bit, q_r[i].top1_pct(), vs_fp(fp_r[i]), tests[i]->name);
  }
  if (o.act_bits > 0) {  // hardware path: the patch-embed image as U(b), min/max on the calibration images
    adalog::calibrate_float_inputs(m.acts, calib, o.act_bits);
    fulllog::apply(m, k_test);  // calibrate_float_inputs installs AdaLog's own weights: LogART's again
    for (size_t i = 0; i < tests.size(); ++i) {
      qa_r.push_back(evaluate(*lm.net, *tests[i], eo));
      fmt::print("fulllog W{}A{} + U({}) patch-embed input top-1 {:.2f}% on {}\n", o.w_bits, ao.a_bit, o.act_bits, qa_r[i].top1_pct(), tests[i]->name);
    }
  }
  if (!a.export_path.empty())
    write_export(a, *lm.net, fulllog::export_source(m, k_test),
                 {{"family", family}, {"method", "fulllog"}, {"order", a.fulllog_order}, {"w_bits", o.w_bits}, {"a_bits", ao.a_bit},
                  {"s_bits", ao.s_bit}, {"act_bits", o.act_bits}, {"approx_k", k_test}},
                 *tests[0], qa_r.empty() ? q_r[0] : qa_r[0]);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  nlohmann::json opts{{"order", a.fulllog_order}, {"s_bit", ao.s_bit}, {"qhead_a_bit", ao.qhead_a_bit}, {"fpcs", ao.fpcs},
                      {"fpcs_keep_best", ao.fpcs_keep_best}, {"post_softmax_quantizer", ao.post_softmax_quantizer},
                      {"post_gelu_quantizer", ao.post_gelu_quantizer}, {"scale_method", a.scale_method}, {"search_method", a.search_method},
                      {"hardware_approx", a.hw_approx}, {"approx_k", a.approx_k}, {"approx_everywhere", a.approx_everywhere},
                      {"llr", o.llr}, {"iters_w", o.iters}, {"lr", o.lr}, {"optim_mode", o.optim_mode}, {"optim_metric", o.optim_metric},
                      {"act_bits", o.act_bits}};
  if (!a.results.empty()) {
    const std::string header =
        "model,method,order,w_bits,a_bits,hardware_approx,options,calib_size,search_samples,llr_samples,seed,adalog_seed,"
        "dataset,images,fp_top1,adalog_top1,q_top1,q_top1_act,calib_s,search_s,llr_s,wall_s";
    std::string opt_str = opts.dump();
    for (auto& c : opt_str) if (c == '"') c = '\'';
    for (size_t i = 0; i < tests.size(); ++i)
      append_csv(a.results, header,
                 fmt::format("{},fulllog,{},{},{},{},\"{}\",{},{},{},{},{},{},{},{},{},{:.2f},{},{:.1f},{:.1f},{:.1f},{:.1f}", lm.net->arch,
                             a.fulllog_order, o.w_bits, ao.a_bit, k_test > 0 ? 1 : 0, opt_str, ao.calib_size, o.search_samples,
                             o.llr ? o.calib_samples : 0, o.seed, a.adalog_seed, tests[i]->name, q_r[i].n, pct_or_empty(fp_r[i]),
                             ada_r.empty() ? std::string() : pct_or_empty(ada_r[i]), q_r[i].top1_pct(),
                             qa_r.empty() ? std::string() : fmt::format("{:.2f}", qa_r[i].top1_pct()), m.calib_seconds,
                             m.weights.search_seconds, m.weights.llr_seconds, wall));
  }
  nlohmann::json res = nlohmann::json::array();
  for (size_t i = 0; i < tests.size(); ++i) {
    nlohmann::json r{{"dataset", tests[i]->name}, {"images", q_r[i].n}, {"fp_top1", pct_or_null(fp_r[i])}, {"q_top1", q_r[i].top1_pct()}};
    if (!ada_r.empty()) r["adalog_top1"] = ada_r[i].top1_pct();
    if (!qa_r.empty()) r["q_top1_act"] = qa_r[i].top1_pct();
    res.push_back(r);
  }
  record.update({{"model", lm.net->arch}, {"model_config", lm.config}, {"method", "fulllog"}, {"w_bits", o.w_bits}, {"a_bits", ao.a_bit},
                 {"options", opts}, {"results", res}, {"calib_seconds", m.calib_seconds}, {"search_seconds", m.weights.search_seconds},
                 {"llr_seconds", m.weights.llr_seconds}, {"wall_seconds", wall}});
  return record;
}

// ---- --replay ---------------------------------------------------------------------------------

// The options a replay may add to the recorded command: where its outputs go, and progress.
bool is_output_option(const std::string& name) {
  static const std::set<std::string> out = {"--json", "--results", "--save", "--save-calibrated", "--export", "--progress", "--no-progress", "--replay"};
  return out.count(name) > 0;
}
bool takes_value(const std::string& name) { return name != "--progress" && name != "--no-progress"; }

// The recorded arguments without their output options (a replay never overwrites the original's files).
std::vector<std::string> without_outputs(const std::vector<std::string>& args, bool* had_other) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string name = args[i].substr(0, args[i].find('='));
    if (is_output_option(name)) {
      if (takes_value(name) && args[i].find('=') == std::string::npos) ++i;
      continue;
    }
    if (had_other && i > 0 && args[i].rfind("-", 0) == 0) *had_other = true;
    out.push_back(args[i]);
  }
  return out;
}

nlohmann::json read_replay(const std::string& path) {
  const nlohmann::json j = read_json_file(path, "--replay result");
  if (!j.is_object() || !j.contains("argv") || !j.at("argv").is_array() || j.at("argv").empty() || j.at("argv").size() > 10000)
    throw Error(fmt::format("{}: not a logq quantize result JSON (no \"argv\" list)", path));
  for (const auto& v : j.at("argv"))
    if (!v.is_string()) throw Error(fmt::format("{}: \"argv\" holds a non-string", path));
  if (j.at("argv").at(0) != "quantize") throw Error(fmt::format("{}: records `logq {}`, not `logq quantize`", path, shown(j.at("argv").at(0))));
  return j;
}

// Before any work: the replay reads the same checkpoint and lists as the recorded run.
void check_replay_inputs(const nlohmann::json& rec, const std::string& path) {
  if (rec.value("logq_version", "") != LOGQ_VERSION)
    fmt::print(stderr, "logq: warning: {} was written by logq {}; this is logq {}\n", path, rec.value("logq_version", "?"), LOGQ_VERSION);
  // Other BLAS kernels round float sums differently: the numbers may differ in the last bits.
  const char* blas = blas_core();
  if (rec.contains("blas_core") && rec.value("blas_core", "") != (blas ? blas : "none"))
    fmt::print(stderr, "logq: warning: {} ran on OpenBLAS's {} kernels, this run on {} (set OPENBLAS_CORETYPE={} to match)\n", path,
               rec.value("blas_core", "?"), blas ? blas : "none", rec.value("blas_core", "?"));
  const nlohmann::json& ck = rec.value("checkpoint", nlohmann::json(nullptr));
  if (ck.is_object()) {
    const std::string p = ck.value("path", ""), want = ck.value("sha256", "");
    if (!p.empty() && sha256_file(p) != want)
      throw Error(fmt::format("--replay {}: checkpoint {} has changed (sha256 {} recorded)", path, p, want));
  }
  const nlohmann::json images = rec.value("images", nlohmann::json::object());  // named: items() would dangle on a temporary
  for (const auto& [step, d] : images.items())
    if (d.is_object() && d.value("list", nlohmann::json(nullptr)).is_string() && sha256_file(d.at("list").get<std::string>()) != d.value("list_sha256", ""))
      throw Error(fmt::format("--replay {}: the {} image list {} has changed", path, step, d.at("list").get<std::string>()));
}

// After the run: every recorded number and image draw must come out the same.
void compare_replay(const nlohmann::json& rec, const nlohmann::json& now, const std::string& path) {
  std::vector<std::string> diffs;
  const nlohmann::json r0 = rec.value("results", nlohmann::json::array()), r1 = now.value("results", nlohmann::json::array());
  if (r0.size() != r1.size()) diffs.push_back(fmt::format("{} result rows recorded, {} now", r0.size(), r1.size()));
  size_t same = 0;
  for (size_t i = 0; i < std::min(r0.size(), r1.size()); ++i)
    for (const auto& [k, v] : r0[i].items()) {
      if (r1[i].value(k, nlohmann::json(nullptr)) == v) ++same;
      else diffs.push_back(fmt::format("results[{}].{}: recorded {}, now {}", i, k, v.dump(), r1[i].value(k, nlohmann::json(nullptr)).dump()));
    }
  const nlohmann::json images = rec.value("images", nlohmann::json::object()), images_now = now.value("images", nlohmann::json::object());
  for (const auto& [step, d] : images.items()) {
    const nlohmann::json n = images_now.value(step, nlohmann::json::object());
    if (d.value("digest", "") != n.value("digest", "")) diffs.push_back(fmt::format("the {} images differ", step));
  }
  if (!diffs.empty()) {
    std::string list;
    for (const auto& d : diffs) list += "\n  " + d;
    throw Error(fmt::format("--replay {}: the run did not reproduce the record:{}", path, list));
  }
  fmt::print("replay of {}: the {} recorded numbers and the image draws are reproduced exactly\n", path, same);
}

void run_quantize(QuantArgs& a) {
  // LibTorch's own threads only: OpenBLAS stays at one (io/process.h), since its threads spin and
  // change AdaLog's results (docs/results.md, "Threads inside one process").
  // -j: AdaLog's layer workers and LogART's DBS candidates, one LibTorch thread each, results
  // bit for bit those of -j 1. LibTorch's own threads (--threads) changed LogART's LLR roundings
  // on ResNet-20 (docs/results.md): opt-in only.
  a.o.jobs = a.ao.jobs;
  at::set_num_threads(int(a.threads));
  check_outputs(a);
  check_augment(a);
  nlohmann::json recorded;
  if (!a.replay.empty()) {
    recorded = read_replay(a.replay);
    check_replay_inputs(recorded, a.replay);
  }
  nlohmann::json record;
  if (a.method == "adalog") record = run_adalog(a);
  else if (a.method == "uniform") record = run_uniform(a);
  else if (a.method == "logart") record = run_logart(a);
  else if (a.method == "fulllog") record = run_fulllog(a);
  else throw Error(fmt::format("--method '{}' is not logart | adalog | fulllog | uniform", a.method));
  if (!a.json.empty()) write_text(a.json, record.dump(2) + "\n");
  if (!a.replay.empty()) compare_replay(recorded, record, a.replay);
}

}  // namespace

// The options of `logq quantize` (and `logq export`, which takes the same ones).
void add_quantize_options(CLI::App* qz, QuantArgs& qa) {
  add_model_args(qz, qa.m, true);
  qz->add_option("--method", qa.method,
                 "logart | adalog | fulllog | uniform. fulllog (ViT/DeiT/Swin): LogART weights x AdaLog activations, the\n"
                 "fully-log model (L x U, L x A and the attention matmuls U x U / U x A); uniform: the min/max baseline\n"
                 "(per-row U(w) weights, U(a) activations, e.g. INT8 with --w-bit 8)")->required();
  qz->add_option("--config", qa.config, "method config JSON (configs/logart/{3,4}bit/{best,brecq_baseline}.json, configs/adalog/*.json,\n"
                                        "configs/fulllog/{3,4}bit.json = {\"adalog\": {...}, \"logart\": {...}, \"order\": ...}); CLI options override it");
  qz->add_option("--fulllog-order", qa.fulllog_order,
                 "fulllog: acts-first (AdaLog activations calibrated on FP weights, then DBS + LLR with them in the loop) |\n"
                 "weights-first (DBS + LLR on float activations, then the activations searched again with the LogART weights)")->capture_default_str();
  qz->add_flag("--no-adalog-eval", qa.no_adalog_eval, "fulllog: skip evaluating the AdaLog-only model (uniform weights) reported as adalog_top1");
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
  qz->add_option("--threads", qa.threads,
                 "LibTorch threads in this process (OpenBLAS stays at one): LogART's LLR runs ~1.6x faster with 2, but\n"
                 "its roundings differed from 1 thread's on ResNet-20 at 2,000 iterations (docs/results.md).\n"
                 "Use -j for identical results")
      ->capture_default_str()->check(CLI::Range(1, 256));
  qz->add_option("-j,--jobs", qa.ao.jobs,
                 "cores to use, same results as 1. AdaLog and fulllog's activation calibration: layers of a block\n"
                 "searched at once, one thread each (-j 2: 1.9x on the embedded ViT). LogART: DBS candidates in\n"
                 "N threads (-j 2: 1.9x). LLR stays on --threads (docs/results.md)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  qz->add_option("--save", qa.save, "write the quantized parameters (safetensors) to FILE");
  qz->add_option("--load-quantized", qa.load, "evaluate parameters written by --save instead of searching");
  qz->add_option("--results", qa.results, "append a CSV row to FILE");
  qz->add_option("--json", qa.json, "write the result as JSON to FILE (- for stdout)");
  qz->add_flag("--test-before-calibration", qa.test_before,
               "LogART: evaluate the DBS-only model before LLR, then continue (the reference's flag; logq does this by default)");
  qz->add_flag("--no-dbs-eval", qa.no_dbs_eval, "LogART: skip the DBS-only evaluation before LLR (the ablation reported as dbs_top1)");
  qz->add_flag("--fp-only", qa.fp_only, "only evaluate the FP model (no quantization)");
  qz->add_flag("--no-fp-eval", qa.no_fp_eval, "skip the FP evaluation (fp_top1 is null in the JSON): for multi-step workflows that know it");
  qz->add_option("--search-list", qa.search_list,
                 "LogART: the DBS images (uniform: the calibration images) as a list FILE, one per line: an index in the --calib-data "
                 "order or an id ('cat/0001.jpg' in an image folder, the file name in a CIFAR-10 .bin folder); overrides --search-samples");
  qz->add_option("--calib-list", qa.calib_list, "LogART: the LLR images; AdaLog and fulllog: the calibration images (a list FILE as for --search-list)");
  qz->add_option("--optim-list", qa.optim_list, "AdaLog --optimize: the reconstruction images; fulllog: the LLR images (a list FILE as for --search-list)");
  qz->add_option("--calib-augment", qa.calib_augment,
                 "how search/calibration images are prepared: train = the references' training transform applied once (both "
                 "reference pipelines do this on ImageNet: RandomResizedCrop + flip, AdaLog also ColorJitter; here images up to 64 px "
                 "get pad-and-crop + flip instead); none = the evaluation transform")->capture_default_str();
  qz->add_option("--image-draw", qa.image_draw,
                 "how seeded draws pick images: logq = a seeded sample, shuffled into loader order; numpy = the references' "
                 "np.random.seed(SEED); np.random.permutation(N)[:n] in that order (with --adalog-seed 5 on an ImageNet train "
                 "folder: AdaLog's own 32 calibration images, and its 1,024 optimisation images from the same seed)")->capture_default_str();
  qz->add_option("--replay", qa.replay,
                 "repeat the run a --json FILE records (its arguments, checkpoint and lists checked by sha256) and check that every "
                 "number comes out the same; only output options (--json, --results, --save, --export, --progress) may be added");
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
  qa.o.progress = stderr_is_terminal();
  qz->add_flag("--progress", qa.o.progress, "show progress on stderr (default: only when stderr is a terminal; in a log, one line every 30 s)");
  qz->add_flag("--no-progress", [&qa](int64_t) { qa.o.progress = false; }, "no progress output");
}

std::vector<std::string> expand_replay_args(const std::vector<std::string>& args) {
  // logq [global options] quantize ... --replay FILE ...: the recorded arguments + this call's outputs.
  const auto q = std::find(args.begin(), args.end(), std::string("quantize"));
  if (q == args.end()) return args;
  std::string file;
  for (auto it = q + 1; it != args.end(); ++it) {
    if (*it == "--replay" && it + 1 != args.end()) file = *(it + 1);
    else if (it->rfind("--replay=", 0) == 0) file = it->substr(9);
  }
  if (file.empty()) return args;
  bool other = false;
  const std::vector<std::string> mine(q, args.end());
  without_outputs(mine, &other);
  if (other) throw Error("--replay takes only output options (--json, --results, --save, --save-calibrated, --export, --progress): the rest is the record's");
  std::vector<std::string> out(args.begin(), q);
  const auto recorded = read_replay(file).at("argv").get<std::vector<std::string>>();
  for (const auto& r : without_outputs(recorded, nullptr)) out.push_back(r);
  for (size_t i = 1; i < mine.size(); ++i) out.push_back(mine[i]);  // this call's outputs and --replay itself
  return out;
}

void add_quantize_commands(CLI::App& app, int argc, char** argv) {
  static QuantArgs qa;
  qa.cmd = command_line(argc, argv);
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "quantize") {
      qa.argv.assign(argv + i, argv + argc);
      qa.argv = without_outputs(qa.argv, nullptr);
      break;
    }
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
