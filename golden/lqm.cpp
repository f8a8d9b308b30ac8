#include "golden/lqm.h"

#include <cmath>
#include <cstdio>
#include <set>

#include <fmt/format.h>

#include "io/error.h"
#include "golden/graph_shapes.h"
#include "io/json_input.h"
#include "io/limits.h"

namespace logq {

namespace {

using json = nlohmann::json;

// The ops of lqm 1.0. GEMM ops carry quantized operands; the others run in float32 between
// GEMMs (spec/numerics.md §4). A new op is a minor-version change.
const std::set<std::string> kGemmOps = {"linear", "conv2d", "matmul"};
const std::set<std::string> kFloatOps = {
    "layernorm", "batchnorm2d", "softmax", "gelu", "relu", "relu6", "add", "scale",
    "avgpool2d", "adaptive_avgpool2d", "maxpool2d", "flatten", "reshape", "permute",
    "concat", "slice", "pad_channels", "roll", "window_partition", "window_reverse",
    "patch_merge", "add_tokens", "select_token", "mean_tokens", "identity"};

// A JSON value from the file, for a message (invalid UTF-8 replaced, not thrown on).
std::string safe_dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

struct Checker {
  const SafetensorsFile& file;
  std::set<std::string> referenced;

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(fmt::format("{}: invalid lqm: {}: {}", file.path(), where, what));
  }

  const TensorInfo& tensor(const std::string& where, const json& ref) {
    if (!ref.is_string()) fail(where, "tensor reference is not a string");
    const std::string name = ref.get<std::string>();
    const TensorInfo* t = file.find(name);
    if (!t) fail(where, fmt::format("refers to tensor '{}' which is not in the file", name));
    referenced.insert(name);
    return *t;
  }

  int get_int(const std::string& where, const json& o, const char* key, int lo, int hi) const {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_integer()) fail(where, fmt::format("'{}' must be an integer", key));
    const int64_t v = it->get<int64_t>();
    if (v < lo || v > hi) fail(where, fmt::format("'{}' = {} is outside [{}, {}]", key, v, lo, hi));
    return static_cast<int>(v);
  }

  void check_positive_finite(const std::string& where, const TensorInfo& t) {
    if (t.dtype != DType::F32) fail(where, fmt::format("scale '{}' must be F32, is {}", t.name, dtype_name(t.dtype)));
    for (double v : file.to_doubles(t))
      if (!(std::isfinite(v) && v > 0)) fail(where, fmt::format("scale '{}' holds {} (must be finite and > 0)", t.name, v));
  }

  void check_int_range(const std::string& where, const TensorInfo& t, double lo, double hi) {
    if (dtype_is_float(t.dtype) || t.dtype == DType::BOOL)
      fail(where, fmt::format("codes '{}' must have an integer dtype, not {}", t.name, dtype_name(t.dtype)));
    const auto v = file.to_doubles(t);
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i] < lo || v[i] > hi)
        fail(where, fmt::format("'{}' element {} = {} is outside [{}, {}]", t.name, i, v[i], lo, hi));
  }

  // Number of scale entries a granularity implies, given the operand's row count (or -1).
  void check_scale_shape(const std::string& where, const json& op, const TensorInfo& s, int64_t rows) {
    const std::string g = op.value("granularity", "tensor");
    if (g == "tensor") {
      if (s.numel() != 1) fail(where, fmt::format("per-tensor scale '{}' has {} elements", s.name, s.numel()));
    } else if (g == "row" || g == "channel" || g == "head") {
      if (g == "row" && rows >= 0 && s.numel() != rows)
        fail(where, fmt::format("per-row scale '{}' has {} elements for {} rows", s.name, s.numel(), rows));
    } else {
      fail(where, fmt::format("unknown granularity '{}'", g));
    }
  }

  void operand(const std::string& where, const json& op) {
    if (!op.is_object()) fail(where, "operand is not an object");
    if (op.contains("format") && !op["format"].is_string())
      fail(where, fmt::format("'format' must be a string, not {}", op["format"].type_name()));
    const std::string fmt_name = op.value("format", "");
    if (fmt_name == "F32") return;
    if (fmt_name == "U") {
      const int bits = get_int(where, op, "bits", 1, 16);
      int64_t rows = -1;
      if (op.contains("codes")) {
        const TensorInfo& c = tensor(where + ".codes", op["codes"]);
        check_int_range(where + ".codes", c, 0, std::ldexp(1.0, bits) - 1);
        rows = c.shape.empty() ? 1 : c.shape[0];
      }
      const TensorInfo& s = tensor(where + ".scale", op.value("scale", json()));
      check_positive_finite(where, s);
      check_scale_shape(where, op, s, rows);
      const TensorInfo& z = tensor(where + ".zero_point", op.value("zero_point", json()));
      if (z.dtype != DType::I32) fail(where, fmt::format("zero_point '{}' must be I32", z.name));
      if (z.numel() != s.numel()) fail(where, fmt::format("zero_point '{}' and scale '{}' differ in size", z.name, s.name));
      return;
    }
    if (fmt_name == "A") {
      get_int(where, op, "bits", 2, 8);
      get_int(where, op, "q", 1, 1000);
      const TensorInfo& s = tensor(where + ".scale", op.value("scale", json()));
      check_positive_finite(where, s);
      check_scale_shape(where, op, s, -1);
      if (op.contains("shift") && !op["shift"].is_number()) fail(where, "'shift' must be a number");
      return;
    }
    if (fmt_name == "L") {
      const int bits = get_int(where, op, "bits", 2, 16);
      const TensorInfo& sign = tensor(where + ".sign", op.value("sign", json()));
      const TensorInfo& e = tensor(where + ".exp", op.value("exp", json()));
      if (sign.dtype != DType::I8) fail(where, fmt::format("sign '{}' must be I8", sign.name));
      check_int_range(where + ".sign", sign, -1, 1);
      if (e.shape != sign.shape) fail(where, fmt::format("exp '{}' and sign '{}' differ in shape", e.name, sign.name));
      check_int_range(where + ".exp", e, -(1 << 14), 1 << 14);
      const TensorInfo& s = tensor(where + ".scale", op.value("scale", json()));
      check_positive_finite(where, s);
      const int64_t rows = sign.shape.empty() ? 1 : sign.shape[0];
      if (s.numel() != rows) fail(where, fmt::format("per-row scale '{}' has {} elements for {} rows", s.name, s.numel(), rows));
      const std::string mant = op.value("mantissa", "approx");
      if (mant != "approx" && mant != "exact") fail(where, fmt::format("mantissa '{}' is neither 'approx' nor 'exact'", mant));
      if (mant == "exact") get_int(where, op, "frac_bits", 1, 30);
      (void)bits;
      return;
    }
    fail(where, fmt::format("unknown operand format '{}' (expected U, A, L or F32)", fmt_name));
  }
};

// Strictly MAJOR.MINOR: decimal digits without sign, spaces, leading zeros or a third part.
bool parse_version_number(const std::string& s, int* out) {
  if (s.empty() || s.size() > 6 || (s.size() > 1 && s[0] == '0')) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

void parse_version(const std::string& path, const std::string& v, int* major, int* minor) {
  const auto dot = v.find('.');
  if (dot == std::string::npos || !parse_version_number(v.substr(0, dot), major) || !parse_version_number(v.substr(dot + 1), minor))
    throw Error(fmt::format("{}: invalid lqm: lqm_version '{}' is not MAJOR.MINOR", path, printable(v)));
  if (*major != kLqmMajor)
    throw Error(fmt::format("{}: lqm_version {} is not supported (this logq reads {}.x)", path, v, kLqmMajor));
}

}  // namespace

void validate_lqm(const SafetensorsFile& file, const json& graph) {
  Checker ck{file, {}};
  if (!graph.is_object()) ck.fail("graph", "is not a JSON object");
  if (!graph.contains("model") || !graph["model"].is_object() || !graph["model"].contains("name"))
    ck.fail("graph.model", "missing, or without a 'name'");
  const json inputs = graph.value("inputs", json::array());
  if (!inputs.is_array() || inputs.empty()) ck.fail("graph.inputs", "must be a non-empty array of value names");
  std::set<std::string> values;
  for (const auto& v : inputs) {
    if (!v.is_string()) ck.fail("graph.inputs", "holds a non-string");
    values.insert(v.get<std::string>());
  }
  const json layers = graph.value("layers", json());
  if (!layers.is_array()) ck.fail("graph.layers", "must be an array");
  std::set<std::string> names;
  for (size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    if (!l.is_object() || !l.contains("name") || !l["name"].is_string())
      ck.fail(fmt::format("layers[{}]", i), "needs a string 'name'");
    const std::string name = l["name"].get<std::string>();
    const std::string where = fmt::format("layer '{}'", name);
    if (!names.insert(name).second) ck.fail(where, "name appears twice");
    if (!l.contains("op") || !l["op"].is_string()) ck.fail(where, "needs a string 'op'");
    const std::string op = l["op"].get<std::string>();
    const bool gemm = kGemmOps.count(op) > 0;
    if (!gemm && !kFloatOps.count(op)) ck.fail(where, fmt::format("unknown op '{}'", op));
    for (const auto& in : l.value("inputs", json::array())) {
      if (!in.is_string() || !values.count(in.get<std::string>()))
        ck.fail(where, fmt::format("input {} is not a graph input or an earlier layer's output", safe_dump(in)));
    }
    const json outs = l.value("outputs", json::array());
    if (!outs.is_array() || outs.empty()) ck.fail(where, "needs a non-empty 'outputs' array");
    for (const auto& out : outs) {
      if (!out.is_string()) ck.fail(where, "output is not a string");
      if (!values.insert(out.get<std::string>()).second)
        ck.fail(where, fmt::format("output '{}' is produced twice", out.get<std::string>()));
    }
    if (l.contains("tensors")) {
      if (!l["tensors"].is_object()) ck.fail(where, "'tensors' must be an object");
      for (auto t = l["tensors"].begin(); t != l["tensors"].end(); ++t) ck.tensor(where + ".tensors." + t.key(), t.value());
    }
    if (gemm) {
      const json ops = l.value("operands", json());
      const char* a = op == "matmul" ? "a" : "w";
      const char* b = op == "matmul" ? "b" : "x";
      if (!ops.is_object() || !ops.contains(a) || !ops.contains(b))
        ck.fail(where, fmt::format("{} needs operands '{}' and '{}'", op, a, b));
      ck.operand(where + ".operands." + a, ops[a]);
      ck.operand(where + ".operands." + b, ops[b]);
    } else if (l.contains("operands")) {
      ck.fail(where, fmt::format("float op '{}' cannot have quantized operands", op));
    }
  }
  if (!graph.contains("outputs") || !graph["outputs"].is_array() || graph["outputs"].empty())
    ck.fail("graph.outputs", "must be a non-empty array of value names");
  for (const auto& out : graph["outputs"])
    if (!out.is_string() || !values.count(out.get<std::string>()))
      ck.fail("graph.outputs", fmt::format("{} is not produced by any layer", safe_dump(out)));
  for (const auto& t : file.tensors())
    if (!ck.referenced.count(t.name) && t.name.rfind("samples/", 0) != 0)
      ck.fail("tensors", fmt::format("tensor '{}' is not referenced by the graph (nor a samples/ tensor)", t.name));
}

const json* LqmFile::layer(const std::string& name) const {
  auto it = layer_index_.find(name);
  return it == layer_index_.end() ? nullptr : &graph_["layers"][it->second];
}

bool LqmFile::is_lqm(const SafetensorsFile& f) { return f.metadata_or("format", "") == kLqmFormat; }

LqmFile LqmFile::open(const std::string& path) { return parse(Bytes::map_file(path), path); }

LqmFile LqmFile::parse(std::shared_ptr<const Bytes> bytes, std::string name) {
  LqmFile m(SafetensorsFile::parse(std::move(bytes), std::move(name)));
  const std::string& path = m.file_.path();
  if (!is_lqm(m.file_))
    throw Error(fmt::format("{}: not an lqm file (safetensors metadata 'format' is not '{}')", path, kLqmFormat));
  parse_version(path, m.file_.metadata_or("lqm_version", ""), &m.major_, &m.minor_);
  try {
    m.graph_ = parse_json_input(m.file_.metadata_or("graph", ""), "graph");
  } catch (const JsonInputError& e) {
    throw Error(fmt::format("{}: invalid lqm: metadata 'graph' is not valid JSON ({})", path, e.detail));
  }
  try {
    validate_lqm(m.file_, m.graph_);
    m.model_ = check_lqm_graph(m.file_, m.graph_);
  } catch (const nlohmann::json::exception& e) {  // a type the checks above missed: still bad input, never a crash
    throw Error(fmt::format("{}: invalid lqm: {}", path, e.what()));
  }
  const json& layers = m.graph_["layers"];
  for (size_t i = 0; i < layers.size(); ++i) m.layer_index_[layers[i]["name"].get<std::string>()] = i;
  return m;
}

void write_lqm(const std::string& path, const json& graph, SafetensorsWriter tensors,
               const std::string& producer) {
  tensors.set_metadata("format", kLqmFormat);
  tensors.set_metadata("lqm_version", fmt::format("{}.{}", kLqmMajor, kLqmMinor));
  tensors.set_metadata("producer", producer);
  tensors.set_metadata("graph", graph.dump());
  auto bytes = tensors.serialize();
  LqmFile::parse(Bytes::view(bytes.data(), bytes.size()), path);  // throws before anything is written
  write_file_atomic(path, bytes);
}

}  // namespace logq
