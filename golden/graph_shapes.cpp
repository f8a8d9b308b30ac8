#include "golden/graph_shapes.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/error.h"
#include "io/json_input.h"
#include "io/limits.h"

namespace logq {

namespace {

using json = nlohmann::json;

int64_t numel(const Shape& s) { return checked_numel(s, "value"); }

[[noreturn]] void fail(const json& layer, const std::string& what) {
  throw Error(fmt::format("layer '{}' ({}): {}", layer.value("name", "?"), layer.value("op", "?"), what));
}

int64_t attr_int(const json& layer, const char* key, int64_t fallback) {
  const json a = layer.value("attrs", json::object());
  if (!a.contains(key)) return fallback;
  if (!a[key].is_number_integer()) fail(layer, fmt::format("attr '{}' must be an integer", key));
  return a[key].get<int64_t>();
}

int64_t attr_int(const json& layer, const char* key) {
  const json a = layer.value("attrs", json::object());
  if (!a.contains(key)) fail(layer, fmt::format("needs attr '{}'", key));
  return attr_int(layer, key, 0);
}

Shape attr_shape(const json& layer, const char* key) {
  const json a = layer.value("attrs", json::object());
  if (!a.contains(key) || !a[key].is_array()) fail(layer, fmt::format("needs attr '{}' (a list of integers)", key));
  Shape s;
  for (const auto& v : a[key]) {
    if (!v.is_number_integer()) fail(layer, fmt::format("attr '{}' must hold integers", key));
    s.push_back(v.get<int64_t>());
  }
  return s;
}


int64_t norm_dim(const json& layer, int64_t d, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (d < -r || d >= r) fail(layer, fmt::format("dim {} out of range for rank {}", d, rank));
  return d < 0 ? d + r : d;
}

void need_inputs(const json& layer, const std::vector<Shape>& in, size_t n) {
  if (in.size() != n) fail(layer, fmt::format("takes {} input(s), has {}", n, in.size()));
}

void need_rank(const json& layer, const Shape& s, size_t r) {
  if (s.size() != r) fail(layer, fmt::format("input {} must have rank {}", shape_str(s), r));
}

const Shape& tensor_shape(const json& layer, const std::map<std::string, Shape>& t, const char* role) {
  auto it = t.find(role);
  if (it == t.end()) fail(layer, fmt::format("needs tensor '{}'", role));
  return it->second;
}

}  // namespace


Shape float_op_shape(const json& layer, const std::vector<Shape>& in, const std::map<std::string, Shape>& tensors) {
  const std::string op = json_string_or(layer, "op", "", "layer");
  if (op == "roll") {
    need_inputs(layer, in, 1);
    const Shape shifts = attr_shape(layer, "shifts"), dims = attr_shape(layer, "dims");
    if (shifts.size() != dims.size()) fail(layer, "attrs 'shifts' and 'dims' differ in length");
    for (int64_t d : dims) norm_dim(layer, d, in[0].size());
    for (int64_t sh : shifts)
      if (sh < -(int64_t{1} << 40) || sh > (int64_t{1} << 40)) fail(layer, fmt::format("shift {} is out of range", sh));
    return in[0];
  }
  if (op == "relu" || op == "relu6" || op == "gelu" || op == "identity" || op == "scale" || op == "softmax") {
    need_inputs(layer, in, 1);
    if (op == "scale" && !layer.value("attrs", json::object()).value("factor", json()).is_number()) fail(layer, "needs a numeric attr 'factor'");
    return in[0];
  }
  if (op == "layernorm") {
    need_inputs(layer, in, 1);
    const int64_t d = in[0].empty() ? 0 : in[0].back();
    for (const char* role : {"weight", "bias"})
      if (numel(tensor_shape(layer, tensors, role)) != d) fail(layer, fmt::format("tensor '{}' must have {} elements", role, d));
    return in[0];
  }
  if (op == "batchnorm2d") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 3);
    for (const char* role : {"weight", "bias", "running_mean", "running_var"})
      if (numel(tensor_shape(layer, tensors, role)) != in[0][0]) fail(layer, fmt::format("tensor '{}' must have {} elements", role, in[0][0]));
    return in[0];
  }
  if (op == "add") {
    if (in.size() == 2) {
      if (in[0] != in[1]) fail(layer, fmt::format("inputs {} and {} differ in shape", shape_str(in[0]), shape_str(in[1])));
    } else {
      need_inputs(layer, in, 1);
      if (tensor_shape(layer, tensors, "other") != in[0] && numel(tensor_shape(layer, tensors, "other")) != numel(in[0]))
        fail(layer, fmt::format("tensor 'other' {} does not match input {}", shape_str(tensor_shape(layer, tensors, "other")), shape_str(in[0])));
    }
    return in[0];
  }
  if (op == "reshape") {
    need_inputs(layer, in, 1);
    Shape s = attr_shape(layer, "shape");
    int64_t known = 1, free = -1;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == -1) {
        if (free >= 0) fail(layer, "attr 'shape' has more than one -1");
        free = static_cast<int64_t>(i);
      } else if (s[i] <= 0) {
        fail(layer, "attr 'shape' holds a non-positive size");
      } else {
        known = checked_mul(known, s[i], fmt::format("layer '{}'", layer.value("name", "?")));
      }
    }
    if (free >= 0) s[free] = known ? numel(in[0]) / known : 0;
    if (numel(s) != numel(in[0])) fail(layer, fmt::format("cannot reshape {} to {}", shape_str(in[0]), shape_str(s)));
    return s;
  }
  if (op == "permute") {
    need_inputs(layer, in, 1);
    const Shape dims = attr_shape(layer, "dims");
    if (dims.size() != in[0].size()) fail(layer, "attr 'dims' does not match the input rank");
    Shape seen(dims.size(), 0), s;
    for (int64_t d : dims) {
      const int64_t n = norm_dim(layer, d, dims.size());
      if (seen[n]++) fail(layer, "attr 'dims' repeats a dimension");
      s.push_back(in[0][n]);
    }
    return s;
  }
  if (op == "slice") {
    need_inputs(layer, in, 1);
    const int64_t d = norm_dim(layer, attr_int(layer, "dim"), in[0].size());
    const int64_t start = attr_int(layer, "start", 0), step = attr_int(layer, "step", 1);
    const int64_t end = std::min(attr_int(layer, "end", in[0][d]), in[0][d]);
    if (step > (int64_t{1} << 40)) fail(layer, "attr 'step' is out of range");
    if (start < 0 || step < 1 || start >= end) fail(layer, fmt::format("slice {}:{}:{} is empty or negative", start, end, step));
    Shape s = in[0];
    s[d] = (end - start + step - 1) / step;
    return s;
  }
  if (op == "pad_channels") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 3);
    const int64_t before = attr_int(layer, "before"), after = attr_int(layer, "after");
    if (before < 0 || after < 0) fail(layer, "negative padding");
    return {checked_add(checked_add(in[0][0], before, "pad_channels"), after, "pad_channels"), in[0][1], in[0][2]};
  }
  if (op == "adaptive_avgpool2d") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 3);
    if (attr_int(layer, "output_size", 1) != 1) fail(layer, "only output_size 1 (global average pooling) is supported");
    return {in[0][0]};
  }
  if (op == "maxpool2d") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 3);
    const int64_t k = attr_int(layer, "kernel"), st = attr_int(layer, "stride", k), p = attr_int(layer, "padding", 0);
    if (k < 1 || st < 1 || p < 0 || 2 * p > k || k > (int64_t{1} << 20)) fail(layer, "bad kernel/stride/padding");
    const int64_t oh = (in[0][1] + 2 * p - k) / st + 1, ow = (in[0][2] + 2 * p - k) / st + 1;
    if (oh < 1 || ow < 1) fail(layer, "input smaller than the kernel");
    return {in[0][0], oh, ow};
  }
  if (op == "flatten") {
    need_inputs(layer, in, 1);
    return {numel(in[0])};
  }
  if (op == "add_tokens") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 2);
    const Shape& t = tensor_shape(layer, tensors, "tokens");
    if (t.size() != 2 || t[1] != in[0][1]) fail(layer, fmt::format("tensor 'tokens' {} does not fit tokens {}", shape_str(t), shape_str(in[0])));
    return {checked_add(in[0][0], t[0], "add_tokens"), in[0][1]};
  }
  if (op == "select_token") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 2);
    const int64_t i = attr_int(layer, "index", 0);
    if (i < 0 || i >= in[0][0]) fail(layer, fmt::format("token {} of {}", i, in[0][0]));
    return {in[0][1]};
  }
  if (op == "mean_tokens") {
    need_inputs(layer, in, 1);
    need_rank(layer, in[0], 2);
    return {in[0][1]};
  }
  if (op == "concat") {
    if (in.size() < 2) fail(layer, "needs at least two inputs");
    const int64_t d = norm_dim(layer, attr_int(layer, "dim"), in[0].size());
    Shape s = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      if (in[i].size() != s.size()) fail(layer, "inputs differ in rank");
      for (size_t k = 0; k < s.size(); ++k)
        if (static_cast<int64_t>(k) != d && in[i][k] != s[k]) fail(layer, "inputs differ outside the concat dim");
      s[d] = checked_add(s[d], in[i][d], "concat");
    }
    return s;
  }
  fail(layer, "op is not implemented by this golden model (lqm 1.0 reserves it)");
}


// ---- GEMM geometry --------------------------------------------------------------------------

namespace {

// attrs[key] in [lo, hi]; required when the fallback is below lo.
int64_t positive_attr(const json& layer, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  const int64_t v = fallback < lo ? attr_int(layer, key) : attr_int(layer, key, fallback);
  if (v < lo || v > hi) fail(layer, fmt::format("attr '{}' = {} is outside [{}, {}]", key, v, lo, hi));
  return v;
}

// attrs[key] as exactly two integers in [lo, hi].
std::pair<int64_t, int64_t> pair_attr(const json& layer, const char* key, int64_t lo, int64_t hi) {
  const Shape s = attr_shape(layer, key);
  if (s.size() != 2) fail(layer, fmt::format("attr '{}' must hold two integers", key));
  for (int64_t v : s)
    if (v < lo || v > hi) fail(layer, fmt::format("attr '{}' holds {}, outside [{}, {}]", key, v, lo, hi));
  return {s[0], s[1]};
}

const TensorInfo& named_tensor(const SafetensorsFile& f, const json& layer, const json& ref) {
  if (!ref.is_string()) fail(layer, "tensor reference is not a string");
  const TensorInfo* t = f.find(ref.get<std::string>());
  if (!t) fail(layer, fmt::format("tensor '{}' is not in the file", printable(ref.get<std::string>())));
  return *t;
}

// Scale (and zero point) element counts each operand role may have: 1, or one per group.
void check_groups(const SafetensorsFile& f, const json& layer, const json& operand, const char* role, int64_t groups) {
  if (!operand.is_object() || json_string_or(operand, "format", "", std::string("operand ") + role) == "F32") return;
  const int64_t n = named_tensor(f, layer, operand.value("scale", json())).numel();
  if (n < 1 || (n != 1 && n != groups))
    fail(layer, fmt::format("operand '{}' has {} scales; it takes 1 or {}", role, n, groups));
}

constexpr int64_t kMaxDim = int64_t{1} << 31;

}  // namespace

GemmGeometry gemm_geometry(const SafetensorsFile& f, const json& layer) {
  GemmGeometry g;
  const std::string op = json_string_or(layer, "op", "", "layer");
  const json& ops = layer.at("operands");
  if (op == "matmul") {
    g.op = LayerOp::Matmul;
    g.heads = positive_attr(layer, "heads", -1, 1, kMaxDim);
    g.in_features = positive_attr(layer, "k", -1, 1, kMaxDim);
    g.out_features = positive_attr(layer, "n", -1, 1, kMaxDim);
    check_groups(f, layer, ops.at("a"), "a", g.heads);
    check_groups(f, layer, ops.at("b"), "b", g.heads);
    return g;
  }
  g.op = op == "conv2d" ? LayerOp::Conv2d : LayerOp::Linear;
  const json& w = ops.at("w");
  const std::string wf = json_string_or(w, "format", "", "weight operand");
  if (wf != "U" && wf != "L") fail(layer, fmt::format("weight format '{}' has no integer path (U or L)", wf));
  const TensorInfo& wt = named_tensor(f, layer, w.value(wf == "L" ? "sign" : "codes", json()));
  if (wt.shape.size() < 2 || wt.shape[0] < 1) fail(layer, fmt::format("weight '{}' {} is not [O, ...] with O >= 1", printable(wt.name), shape_str(wt.shape)));
  g.out_features = wt.shape[0];
  g.in_features = wt.numel() / g.out_features;
  if (g.in_features < 1) fail(layer, fmt::format("weight '{}' {} has empty rows", printable(wt.name), shape_str(wt.shape)));
  if (wf == "U") check_groups(f, layer, w, "w", g.out_features);
  check_groups(f, layer, ops.at("x"), "x", 1);
  if (layer.contains("tensors") && layer["tensors"].contains("bias")) {
    const int64_t nb = named_tensor(f, layer, layer["tensors"]["bias"]).numel();
    if (nb != g.out_features) fail(layer, fmt::format("bias has {} elements for {} outputs", nb, g.out_features));
  }
  if (g.op == LayerOp::Linear) return g;
  Conv2dShape& c = g.conv;
  c.O = g.out_features;
  c.C = positive_attr(layer, "in_channels", -1, 1, kMaxDim);
  std::tie(c.H, c.W) = pair_attr(layer, "input_hw", 1, kMaxDim);
  std::tie(c.kh, c.kw) = pair_attr(layer, "kernel", 1, kMaxDim);
  c.stride = positive_attr(layer, "stride", 1, 1, kMaxDim);
  c.pad = positive_attr(layer, "padding", 0, 0, kMaxDim);
  c.dilation = positive_attr(layer, "dilation", 1, 1, kMaxDim);
  c.groups = positive_attr(layer, "groups", 1, 1, kMaxDim);
  if (c.C % c.groups || c.O % c.groups) fail(layer, fmt::format("groups = {} must divide in_channels {} and the {} outputs", c.groups, c.C, c.O));
  const std::string where = fmt::format("layer '{}'", layer.value("name", "?"));
  if (checked_mul(checked_mul(c.C / c.groups, c.kh, where), c.kw, where) != g.in_features)
    fail(layer, fmt::format("in_channels {} / groups {} x kernel {}x{} does not match weight rows of {}", c.C, c.groups, c.kh, c.kw, g.in_features));
  const int64_t span_h = checked_add(checked_mul(c.dilation, c.kh - 1, where), 1, where);
  const int64_t span_w = checked_add(checked_mul(c.dilation, c.kw - 1, where), 1, where);
  if (checked_add(c.H, 2 * c.pad, where) < span_h || checked_add(c.W, 2 * c.pad, where) < span_w)
    fail(layer, fmt::format("the {}x{} kernel (dilation {}) does not fit the padded {}x{} input", c.kh, c.kw, c.dilation, c.H, c.W));
  return g;
}

Shape gemm_output_shape(const GemmGeometry& g, const std::string& name, const std::vector<Shape>& in) {
  const auto bad = [&](const std::string& what) { throw Error(fmt::format("layer '{}': {}", name, what)); };
  if (g.op == LayerOp::Matmul) {
    if (in.size() != 2) bad("matmul takes two inputs");
    const Shape b{g.heads, g.in_features, g.out_features};
    if (in[0].size() != 3 || in[0][0] != g.heads || in[0][2] != g.in_features)
      bad(fmt::format("input a {} is not [{}, M, {}]", shape_str(in[0]), g.heads, g.in_features));
    if (in[1] != b) bad(fmt::format("input b {} is not {}", shape_str(in[1]), shape_str(b)));
    return {g.heads, in[0][1], g.out_features};
  }
  if (in.size() != 1) bad("takes one input");
  if (g.op == LayerOp::Linear) {
    if (in[0].empty() || in[0].back() != g.in_features) bad(fmt::format("input {} does not end in {}", shape_str(in[0]), g.in_features));
    Shape s = in[0];
    s.back() = g.out_features;
    return s;
  }
  const Conv2dShape& c = g.conv;
  if (in[0] != Shape{c.C, c.H, c.W}) bad(fmt::format("input {} is not [{}, {}, {}]", shape_str(in[0]), c.C, c.H, c.W));
  return {c.O, c.OH(), c.OW()};
}

// ---- the whole-graph check ------------------------------------------------------------------

namespace {

struct GraphCheck {
  const SafetensorsFile& file;
  const InputLimits& lim = input_limits();
  uint64_t value_elements = 0, model_macs = 0;

  [[noreturn]] void fail_file(const std::string& what) const {
    throw Error(fmt::format("{}: invalid lqm: {}", file.path(), what));
  }

  Shape input_shape(const json& model) const {
    const json& s = model["input_shape"];
    if (!s.is_array() || s.empty() || s.size() > 4) fail_file("graph.model.input_shape must be a list of 1 to 4 sizes");
    Shape out;
    for (const auto& d : s) {
      if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > kMaxDim)
        fail_file(fmt::format("graph.model.input_shape holds {}, not a size >= 1", printable(d.dump())));
      out.push_back(d.get<int64_t>());
    }
    return out;
  }

  // The eval transform must produce exactly input_shape: in_chans x img_size x img_size, one
  // mean/std per channel (golden writes in_chans * img_size^2 floats into the input).
  void preprocess(const json& p, const Shape& in) const {
    const auto where = [](const std::string& k) { return "graph.model.preprocess." + k; };
    if (!p.is_object()) fail_file("graph.model.preprocess must be an object");
    for (const char* k : {"in_chans", "img_size"})
      if (!p.contains(k) || !p[k].is_number_integer() || p[k].get<int64_t>() < 1) fail_file(where(k) + " must be a whole number >= 1");
    const int64_t c = p["in_chans"].get<int64_t>(), s = p["img_size"].get<int64_t>();
    if (in != Shape{c, s, s})
      fail_file(fmt::format("preprocess makes [{}, {}, {}] images but model.input_shape is {}", c, s, s, shape_str(in)));
    if (!p.contains("crop_pct") || !p["crop_pct"].is_number() || !(p["crop_pct"].get<double>() >= 0.05 && p["crop_pct"].get<double>() <= 1.0))
      fail_file(where("crop_pct") + " must be a number in [0.05, 1]");
    if (!p.contains("interpolation") || !p["interpolation"].is_string() ||
        (p["interpolation"] != "bilinear" && p["interpolation"] != "bicubic"))
      fail_file(where("interpolation") + " must be \"bilinear\" or \"bicubic\"");
    for (const char* k : {"mean", "std"}) {
      const json& v = p.value(k, json());
      if (!v.is_array() || static_cast<int64_t>(v.size()) != c)
        fail_file(fmt::format("{} must hold {} numbers, one per channel", where(k), c));
      for (const auto& x : v)
        if (!x.is_number() || !std::isfinite(x.get<double>()) || (std::string(k) == "std" && !(x.get<double>() > 0)))
          fail_file(fmt::format("{} holds {}: not a finite number{}", where(k), printable(x.dump()), std::string(k) == "std" ? " > 0" : ""));
    }
  }

  // The memory and time one image costs, charged layer by layer against the caps.
  void charge(const json& layer, const Shape& out, uint64_t macs, uint64_t scratch) {
    const std::string name = printable(layer.value("name", "?"));
    value_elements += static_cast<uint64_t>(checked_numel(out, "layer '" + name + "'"));
    if (value_elements > lim.value_elements)
      fail_file(fmt::format("layer '{}': the values up to its output {} hold {} elements per image (cap {}) {}", name, shape_str(out),
                            value_elements, lim.value_elements, kNoLimitsHint));
    if (scratch > lim.value_elements)
      fail_file(fmt::format("layer '{}': its im2col input holds {} elements per image (cap {}) {}", name, scratch, lim.value_elements, kNoLimitsHint));
    if (macs > lim.layer_macs)
      fail_file(fmt::format("layer '{}': {} multiply-accumulates per image (cap {}) {}", name, macs, lim.layer_macs, kNoLimitsHint));
    model_macs += macs;
    if (model_macs > 4 * lim.layer_macs && lim.layer_macs < UINT64_MAX / 4)
      fail_file(fmt::format("layer '{}' brings the model to {} multiply-accumulates per image (cap {}) {}", name, model_macs,
                            4 * lim.layer_macs, kNoLimitsHint));
  }

  static LqmOperand operand(const json& o) {
    LqmOperand r;
    r.format = json_string_or(o, "format", "U", "operand");
    r.bits = r.format == "F32" ? 32 : o.value("bits", 0);
    r.q = o.value("q", 0);
    return r;
  }

  static LqmGemm typed_gemm(const json& layer, const GemmGeometry& g) {
    LqmGemm t;
    t.name = layer["name"].get<std::string>();
    t.geom = g;
    const json& ops = layer["operands"];
    const bool mm = g.op == LayerOp::Matmul;
    t.x = operand(ops[mm ? "a" : "x"]);
    t.w = operand(ops[mm ? "b" : "w"]);
    t.float_input = t.x.format == "F32";
    const bool log_a = t.x.format == "A", log_w = t.w.format == "L";
    t.pairing = log_w ? (log_a ? Pairing::LxA : Pairing::LxU) : (log_a ? Pairing::UxA : Pairing::UxU);
    return t;
  }

  LqmModel run(const json& graph) {
    LqmModel typed;
    std::map<std::string, Shape> shapes;
    const json& model = graph["model"];
    typed.meta = model;
    if (file.find("samples/images") && !file.at("samples/images").shape.empty()) typed.sample_images = file.at("samples/images").shape[0];
    const bool chain = model.contains("input_shape");
    if (chain) {
      const Shape in = input_shape(model);
      typed.input_shape = in;
      if (graph["inputs"].size() != 1) fail_file("a model with input_shape has exactly one graph input");
      if (model.contains("preprocess")) preprocess(model["preprocess"], in);
      shapes[graph["inputs"][0].get<std::string>()] = in;
      charge(json{{"name", "input"}}, in, 0, 0);
    }
    for (const json& layer : graph["layers"]) {
      const std::string op = layer["op"];
      const bool gemm = op == "linear" || op == "conv2d" || op == "matmul";
      try {
        GemmGeometry g;
        if (gemm) {
          g = gemm_geometry(file, layer);
          typed.gemms.push_back(typed_gemm(layer, g));
        }
        if (!chain) continue;
        if (layer["outputs"].size() != 1) throw Error(fmt::format("layer '{}': a layer has one output", printable(layer["name"].get<std::string>())));
        std::vector<Shape> in;
        for (const auto& n : layer.value("inputs", json::array())) in.push_back(shapes.at(n.get<std::string>()));
        Shape out;
        uint64_t macs = 0, scratch = 0;
        if (gemm) {
          out = gemm_output_shape(g, layer["name"].get<std::string>(), in);
          const std::string where = "layer '" + printable(layer["name"].get<std::string>()) + "'";
          const int64_t n = checked_numel(out, where);
          macs = static_cast<uint64_t>(checked_mul(n, g.in_features, where));
          if (g.op == LayerOp::Conv2d) scratch = static_cast<uint64_t>(checked_mul(n / g.conv.O, g.in_features, where));
        } else {
          std::map<std::string, Shape> tshapes;
          const json tensors = layer.value("tensors", json::object());
          for (auto t = tensors.begin(); t != tensors.end(); ++t) tshapes[t.key()] = file.at(t.value().get<std::string>()).shape;
          out = float_op_shape(layer, in, tshapes);
          if (op == "maxpool2d") {  // k^2 comparisons per output
            const int64_t k = layer["attrs"]["kernel"].get<int64_t>();
            macs = static_cast<uint64_t>(checked_mul(checked_numel(out, "maxpool2d"), checked_mul(k, k, "maxpool2d"), "maxpool2d"));
          }
        }
        for (int64_t d : out)
          if (d < 1) throw Error(fmt::format("layer '{}': output shape {} has an empty dimension", printable(layer["name"].get<std::string>()), shape_str(out)));
        charge(layer, out, macs, scratch);
        shapes[layer["outputs"][0].get<std::string>()] = out;
        if (gemm) {
          typed.gemms.back().out_shape = out;
        } else {
          int64_t in_elements = 0;
          for (const Shape& s : in) in_elements += numel(s);
          typed.float_ops.push_back({layer["name"].get<std::string>(), op, in_elements, numel(out), typed.gemms.size()});
        }
      } catch (const Error& e) {
        if (std::string(e.what()).rfind(file.path() + ":", 0) == 0) throw;
        fail_file(e.what());
      }
    }
    return typed;
  }
};

}  // namespace

LqmModel check_lqm_graph(const SafetensorsFile& file, const json& graph) { return GraphCheck{file}.run(graph); }

}  // namespace logq
