// `logq inspect FILE`: what is inside a checkpoint, safetensors or .lqm file.
#include "cli/inspect.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/limits.h"
#include "golden/lqm.h"
#include "io/safetensors.h"
#include "io/checkpoint.h"

namespace logq::cli {

namespace {

using json = nlohmann::ordered_json;

struct Options {
  std::string file;
  bool as_json = false;
  bool stats = true;
  std::string filter;
};

struct Row {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t bytes;
  double min = NAN, max = NAN, mean = NAN;
};

// Stats over a packed little-endian buffer of `n` elements.
void fill_stats(Row& r, const uint8_t* data, int64_t n) {
  if (n == 0) return;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = load_as_double(r.dtype, data, static_cast<size_t>(i));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  r.min = lo;
  r.max = hi;
  r.mean = sum / static_cast<double>(n);
}

// Stats over a strided view without copying it. A stride-0 (broadcast) dimension repeats the
// same values equally often, so min/max/mean are those of the view with it collapsed to size 1;
// what is left is charged to `budget` (overlapping views may still revisit elements), and a
// view beyond it gets no stats rather than minutes of work.
void fill_view_stats(Row& r, const RawTensor& t, uint64_t* budget) {
  std::vector<int64_t> shape, stride;
  for (size_t k = 0; k < t.shape.size(); ++k) {
    if (t.shape[k] == 0) return;
    if (t.stride[k] == 0 || t.shape[k] == 1) continue;
    shape.push_back(t.shape[k]);
    stride.push_back(t.stride[k]);
  }
  const int64_t n = checked_numel(shape, r.name);
  if (static_cast<uint64_t>(n) > *budget) return;
  *budget -= static_cast<uint64_t>(n);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  const uint8_t* base = t.storage->bytes.get();
  // Rows of the innermost dimension, the outer ones stepped like an odometer.
  const int64_t inner = shape.empty() ? 1 : shape.back(), step = shape.empty() ? 1 : stride.back();
  const size_t outer_dims = shape.empty() ? 0 : shape.size() - 1;
  std::vector<int64_t> idx(outer_dims, 0);
  int64_t off = t.storage_offset;
  for (int64_t row = 0; row < n / inner; ++row) {
    for (int64_t j = 0; j < inner; ++j) {
      const double v = load_as_double(t.dtype, base, static_cast<size_t>(off + j * step));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      sum += v;
    }
    for (size_t k = outer_dims; k-- > 0;) {
      off += stride[k];
      if (++idx[k] < shape[k]) break;
      off -= stride[k] * shape[k];
      idx[k] = 0;
    }
  }
  r.min = lo;
  r.max = hi;
  r.mean = sum / static_cast<double>(n);
}

bool keep(const Options& o, const std::string& name) { return o.filter.empty() || name.find(o.filter) != std::string::npos; }

// A value from the file as terminal-safe text.
std::string text(const json& v) {
  return printable(v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string num(double v) { return std::isnan(v) ? "-" : fmt::format("{:.6g}", v); }

json row_json(const Row& r, bool stats) {
  json j = {{"name", r.name}, {"dtype", dtype_name(r.dtype)}, {"shape", r.shape}, {"bytes", r.bytes}};
  if (stats) {
    j["min"] = r.min;
    j["max"] = r.max;
    j["mean"] = r.mean;
  }
  return j;
}

void print(const Options& o, const json& head, const std::vector<Row>& rows, const json& extra) {
  if (o.as_json) {
    json j = head;
    j["tensors"] = json::array();
    for (const auto& r : rows) j["tensors"].push_back(row_json(r, o.stats));
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    fmt::print("{}\n", j.dump(1, ' ', false, json::error_handler_t::replace));
    return;
  }
  for (auto it = head.begin(); it != head.end(); ++it)
    fmt::print("{}: {}\n", printable(it.key()), text(it.value()));
  size_t w = 4;
  int64_t total_numel = 0;
  size_t total_bytes = 0;
  for (const auto& r : rows) {
    w = std::max(w, r.name.size());
    total_numel = checked_add(total_numel, checked_numel(r.shape, r.name), "total elements");
    total_bytes += r.bytes;
  }
  fmt::print("tensors: {}  elements: {}  bytes: {}\n\n", rows.size(), total_numel, total_bytes);
  fmt::print("{:<{}}  {:<5}  {:<18}  {:>10}", "name", w, "dtype", "shape", "bytes");
  if (o.stats) fmt::print("  {:>12}  {:>12}  {:>12}", "min", "max", "mean");
  fmt::print("\n");
  for (const auto& r : rows) {
    fmt::print("{:<{}}  {:<5}  {:<18}  {:>10}", printable(r.name), w, dtype_name(r.dtype), shape_str(r.shape), r.bytes);
    if (o.stats) fmt::print("  {:>12}  {:>12}  {:>12}", num(r.min), num(r.max), num(r.mean));
    fmt::print("\n");
  }
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    fmt::print("\n{}:\n", it.key());
    if (it.value().is_object())
      for (auto e = it.value().begin(); e != it.value().end(); ++e)
        fmt::print("  {} = {}\n", printable(e.key()), text(e.value()));
    else
      fmt::print("{}\n", printable(it.value().dump(1, ' ', false, json::error_handler_t::replace)));
  }
}

void inspect_checkpoint(const Options& o, std::shared_ptr<const Bytes> bytes) {
  const Checkpoint ck = parse_torch_checkpoint(std::move(bytes), o.file);
  uint64_t budget = input_limits().view_elements;  // elements the stats may visit beyond the storages
  for (const auto& [name, t] : ck.tensors) budget += static_cast<uint64_t>(t.storage->numel);
  std::vector<Row> rows;
  for (const auto& [name, t] : ck.tensors) {
    if (!keep(o, name)) continue;
    Row r{name, t.dtype, t.shape, static_cast<size_t>(checked_mul(t.numel(), int64_t(dtype_size(t.dtype)), name))};
    if (o.stats) fill_view_stats(r, t, &budget);
    rows.push_back(std::move(r));
  }
  json head = {{"file", o.file}, {"format", ck.format},
               {"state_dict", ck.state_dict_key.empty() ? "<root>" : ck.state_dict_key},
               {"module_prefix_stripped", ck.stripped_module_prefix}};
  json extra = json::object();
  if (!ck.extras.empty()) {
    extra["extras"] = json::object();
    for (const auto& [k, v] : ck.extras) extra["extras"][k] = v;
  }
  print(o, head, rows, extra);
}

void inspect_safetensors(const Options& o, std::shared_ptr<const Bytes> bytes) {
  const SafetensorsFile f = SafetensorsFile::parse(bytes, o.file);
  json head = {{"file", o.file}, {"format", "safetensors"}};
  json extra = json::object();
  if (LqmFile::is_lqm(f)) {
    const LqmFile m = LqmFile::parse(bytes, o.file);
    head["format"] = "lqm";
    head["lqm_version"] = fmt::format("{}.{}", m.version_major(), m.version_minor());
    head["model"] = m.graph().value("model", nlohmann::json::object()).value("name", "");
    json layers = json::array();
    for (const auto& l : m.graph()["layers"]) {
      json row = {{"name", l["name"]}, {"op", l["op"]}};
      if (l.contains("operands"))
        for (auto it = l["operands"].begin(); it != l["operands"].end(); ++it)
          row[it.key()] = fmt::format("{}({})", it.value().value("format", "?"), it.value().value("bits", 32));
      layers.push_back(row);
    }
    extra["layers"] = layers;
  } else if (!f.metadata().empty()) {
    extra["metadata"] = json::object();
    for (const auto& [k, v] : f.metadata()) extra["metadata"][k] = v.size() > 200 && !o.as_json ? v.substr(0, 200) + "..." : v;
  }
  std::vector<Row> rows;
  for (const auto& t : f.tensors()) {
    if (!keep(o, t.name)) continue;
    Row r{t.name, t.dtype, t.shape, t.nbytes};
    if (o.stats) fill_stats(r, f.data(t), t.numel());
    rows.push_back(std::move(r));
  }
  print(o, head, rows, extra);
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("inspect",
                                 "List the tensors (name, dtype, shape, bytes, min/max/mean) and metadata of a\n"
                                 "PyTorch checkpoint (.pth/.bin/.pth.tar/.th, zip or legacy pickle), a safetensors\n"
                                 "file, or a logq model (.lqm, with its layer graph). Never runs code from the file.");
  cmd->add_option("FILE", opt->file, "file to inspect (type detected from its content)")->required();
  cmd->add_flag("--json", opt->as_json, "print one JSON object instead of a table");
  cmd->add_flag("!--no-stats", opt->stats, "skip min/max/mean (faster on very large files)");
  cmd->add_option("--filter", opt->filter, "only tensors whose name contains this text");
  cmd->callback([opt] {
    auto bytes = Bytes::map_file(opt->file);
    if (is_torch_checkpoint(bytes->data(), bytes->size())) inspect_checkpoint(*opt, bytes);
    else inspect_safetensors(*opt, bytes);
  });
}

}  // namespace logq::cli
