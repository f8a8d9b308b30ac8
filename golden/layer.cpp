#include "golden/layer.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "io/error.h"
#include "golden/lower.h"

namespace logq {

namespace {

using json = nlohmann::json;

bool log_weights(Pairing p) { return p == Pairing::LxU || p == Pairing::LxA; }
bool log_inputs(Pairing p) { return p == Pairing::UxA || p == Pairing::LxA; }

// LogART rows: F_r = E_min >> 1 over the row's non-zero codes (0 for an all-zero row).
std::vector<int32_t> row_floors(const QLayer& l) {
  std::vector<int32_t> f(l.out_features, 0);
  for (int64_t o = 0; o < l.out_features; ++o) {
    int32_t e_min = INT32_MAX;
    for (int64_t k = 0; k < l.in_features; ++k) {
      const LogWeight& w = l.w_log[o * l.in_features + k];
      if (w.sign != 0) e_min = std::min(e_min, w.E);
    }
    f[o] = e_min == INT32_MAX ? 0 : logart_row_floor(e_min);
  }
  return f;
}

struct IntWeights {
  std::vector<int32_t> d;           // U: c − z
  std::vector<LogWeightInt> l;      // L
  std::vector<int32_t> row_floor;   // L
};

IntWeights int_weights(const QLayer& l) {
  IntWeights w;
  const int64_t n = l.out_features * l.in_features;
  if (log_weights(l.pairing)) {
    if (static_cast<int64_t>(l.w_log.size()) != n || static_cast<int64_t>(l.w_log_scale.size()) != l.out_features)
      throw Error(fmt::format("layer '{}': LogART weights or scales do not match [{}, {}]", l.name, l.out_features, l.in_features));
    w.row_floor = row_floors(l);
    w.l.resize(n);
    for (int64_t i = 0; i < n; ++i) w.l[i] = logart_int(l.w_log[i], w.row_floor[i / l.in_features]);
  } else {
    if (static_cast<int64_t>(l.w_codes.size()) != n) throw Error(fmt::format("layer '{}': weight codes do not match [{}, {}]", l.name, l.out_features, l.in_features));
    w.d.resize(n);
    for (int64_t i = 0; i < n; ++i) w.d[i] = l.w_codes[i] - l.w_uniform.z(i / l.in_features);
  }
  return w;
}

// Input codes: U → d = c − z (per tensor, or per head `group` of `group_size` elements); A → code.
std::vector<int32_t> encode_input(const QLayer& l, const std::vector<float>& x, const UniformParams& u, int64_t group_size) {
  std::vector<int32_t> out(x.size());
  if (log_inputs(l.pairing)) {
    const AdaLogParams& a = l.x_adalog;
    for (size_t i = 0; i < x.size(); ++i) out[i] = adalog_encode(x[i] + a.shift, a.scale, a.table);
  } else {
    for (size_t i = 0; i < x.size(); ++i) {
      const int64_t g = static_cast<int64_t>(i) / group_size;
      out[i] = uniform_encode(x[i], u.s(g), static_cast<float>(u.z(g)), u.bits) - u.z(g);
    }
  }
  return out;
}

std::vector<int32_t> encode_uniform(const std::vector<float>& x, const UniformParams& u, int64_t group_size) {
  std::vector<int32_t> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t g = static_cast<int64_t>(i) / group_size;
    out[i] = uniform_encode(x[i], u.s(g), static_cast<float>(u.z(g)), u.bits) - u.z(g);
  }
  return out;
}

// S[o]: the float32 product of the operand scales (spec/numerics.md §4), computed in double and
// rounded once: s_w[o] (or s_r·2^(F_r − f)) × s_a (or s_a / D).
float weight_scale(const QLayer& l, const IntWeights& w, int64_t o) {
  if (log_weights(l.pairing)) return static_cast<float>(std::ldexp(static_cast<double>(l.w_log_scale[o]), w.row_floor[o] - l.hw.mant_frac_bits));
  return l.w_uniform.s(o);
}
double input_scale(const QLayer& l, int64_t g) {
  return log_inputs(l.pairing) ? static_cast<double>(l.x_adalog.scale) / l.x_adalog.table.D : l.x_uniform.s(g);
}

}  // namespace

std::vector<int32_t> encode_x(const QLayer& l, const std::vector<float>& x, int64_t rows) {
  const int64_t group = l.op == LayerOp::Matmul ? rows * l.in_features : static_cast<int64_t>(x.size());
  return encode_input(l, x, l.x_uniform, std::max<int64_t>(group, 1));
}

std::vector<int32_t> encode_b(const QLayer& l, const std::vector<float>& b) {
  return encode_uniform(b, l.b_uniform, std::max<int64_t>(l.in_features * l.out_features, 1));
}

WeightOperand weight_operand(const QLayer& l) {
  IntWeights w = int_weights(l);
  return WeightOperand{std::move(w.d), std::move(w.l)};
}

std::vector<double> weight_values(const QLayer& l) {
  const IntWeights w = int_weights(l);
  std::vector<double> v(l.out_features * l.in_features);
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t o = static_cast<int64_t>(i) / l.in_features;
    if (log_weights(l.pairing)) {
      const LogWeightInt& lw = w.l[i];
      v[i] = lw.sign == 0 ? 0.0 : std::ldexp(static_cast<double>(lw.sign) * logart_mantissa(lw.odd, l.hw.mant_frac_bits), lw.k) * weight_scale(l, w, o);
    } else {
      v[i] = static_cast<double>(w.d[i]) * l.w_uniform.s(o);
    }
  }
  return v;
}

LayerOutput run_layer(const QLayer& l, const std::vector<float>& input, int64_t rows, const std::vector<float>& b_input) {
  if (l.x_float) throw Error(fmt::format("layer '{}': its input is float (F32 operand): no integer path", l.name));
  if (l.op == LayerOp::Matmul) {
    const int64_t H = l.heads, K = l.in_features, N = l.out_features, M = rows;
    if (static_cast<int64_t>(input.size()) != H * M * K || static_cast<int64_t>(b_input.size()) != H * K * N)
      throw Error(fmt::format("layer '{}': matmul inputs must be [{}, {}, {}] and [{}, {}, {}]", l.name, H, M, K, H, K, N));
    return run_layer_codes(l, encode_x(l, input, rows), rows, encode_b(l, b_input));
  }
  if (l.op == LayerOp::Linear && static_cast<int64_t>(input.size()) != rows * l.in_features)
    throw Error(fmt::format("layer '{}': linear input has {} values, expected {} x {}", l.name, input.size(), rows, l.in_features));
  if (l.op == LayerOp::Conv2d && static_cast<int64_t>(input.size()) != l.conv.C * l.conv.H * l.conv.W)
    throw Error(fmt::format("layer '{}': conv input has {} values, expected [{}, {}, {}]", l.name, input.size(), l.conv.C, l.conv.H, l.conv.W));
  return run_layer_codes(l, encode_x(l, input, rows), rows, {});
}

LayerOutput run_layer_codes(const QLayer& l, const std::vector<int32_t>& x, int64_t rows, const std::vector<int32_t>& b) {
  LayerOutput out;
  const int F = l.hw.frac_bits;
  const IntWeights w = l.op == LayerOp::Matmul ? IntWeights{} : int_weights(l);
  if (l.op == LayerOp::Linear) out.shape = {rows, l.out_features};
  else if (l.op == LayerOp::Conv2d) out.shape = {l.conv.O, l.conv.OH(), l.conv.OW()};
  else out.shape = {l.heads, rows, l.out_features};
  int64_t size = 1;
  for (int64_t d : out.shape) size *= d;
  out.acc.assign(static_cast<size_t>(size), 0);
  out.stats.shift_hist.assign(128, 0);
  lower_layer(l, w.d.empty() ? nullptr : w.d.data(), w.l.empty() ? nullptr : w.l.data(), x, rows, b, [&](const GemmProblem& p, const JobPlace& at) {
    const GemmResult r = gemm(p, l.hw);
    if (at.row_stride == p.N && at.col_stride == 1) {  // linear, attention heads: a contiguous block
      std::copy(r.acc.begin(), r.acc.end(), out.acc.begin() + at.offset);
    } else {
      for (int64_t m = 0; m < p.M; ++m)
        for (int64_t n = 0; n < p.N; ++n) out.acc[at.at(m, n)] = r.acc[m * p.N + n];
    }
    add_stats(out.stats, r.stats);
  });
  // Dequantize: S per output channel (weights) times the input scale (per head for a matmul).
  out.y.resize(out.acc.size());
  if (l.op == LayerOp::Matmul) {
    const int64_t per_head = rows * l.out_features;
    for (size_t i = 0; i < out.acc.size(); ++i) {
      const int64_t h = static_cast<int64_t>(i) / per_head;
      out.y[i] = dequant_output(out.acc[i], F, static_cast<float>(input_scale(l, h) * l.b_uniform.s(h)), 0.0f);
    }
    return out;
  }
  std::vector<float> S(l.out_features);
  for (int64_t o = 0; o < l.out_features; ++o) S[o] = static_cast<float>(weight_scale(l, w, o) * input_scale(l, 0));
  const int64_t P = l.op == LayerOp::Conv2d ? l.conv.OH() * l.conv.OW() : 1;
  for (size_t i = 0; i < out.acc.size(); ++i) {
    const int64_t o = l.op == LayerOp::Conv2d ? static_cast<int64_t>(i) / P : static_cast<int64_t>(i) % l.out_features;
    out.y[i] = dequant_output(out.acc[i], F, S[o], l.bias.empty() ? 0.0f : l.bias[o]);
  }
  return out;
}

// ---- .lqm ---------------------------------------------------------------------------------

namespace {

const char* op_name(LayerOp op) { return op == LayerOp::Linear ? "linear" : op == LayerOp::Conv2d ? "conv2d" : "matmul"; }

json uniform_operand(SafetensorsWriter& w, const std::string& prefix, const UniformParams& u, const char* granularity,
                     const std::vector<int32_t>* codes, const std::vector<int64_t>& code_shape) {
  json j = {{"format", "U"}, {"bits", u.bits}, {"granularity", granularity},
            {"scale", prefix + ".scale"}, {"zero_point", prefix + ".zero_point"}};
  w.add(prefix + ".scale", DType::F32, {static_cast<int64_t>(u.scale.size())}, u.scale);
  w.add(prefix + ".zero_point", DType::I32, {static_cast<int64_t>(u.zero_point.size())}, u.zero_point);
  if (codes) {
    j["codes"] = prefix + ".codes";
    w.add(prefix + ".codes", DType::I32, code_shape, *codes);
  }
  return j;
}

UniformParams read_uniform(const LqmFile& f, const json& op, const std::string& where) {
  UniformParams u;
  u.bits = op.at("bits").get<int>();
  u.scale = f.file().read<float>(op.at("scale").get<std::string>(), DType::F32);
  u.zero_point = f.file().read<int32_t>(op.at("zero_point").get<std::string>(), DType::I32);
  if (u.scale.empty()) throw Error(fmt::format("{}: {}: empty scale", f.file().path(), where));
  return u;
}

std::vector<int32_t> read_ints(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo& t = f.at(name);
  const auto d = f.to_doubles(t);
  return std::vector<int32_t>(d.begin(), d.end());
}

}  // namespace

void add_layer(json& graph, SafetensorsWriter& w, const QLayer& l, const std::vector<std::string>& inputs,
               const std::vector<std::string>& outputs) {
  json layer = {{"name", l.name}, {"op", op_name(l.op)}, {"inputs", inputs}, {"outputs", outputs}, {"operands", json::object()}};
  json& ops = layer["operands"];
  const std::string p = l.name;
  const bool lw = log_weights(l.pairing), la = log_inputs(l.pairing);
  std::vector<int64_t> wshape = {l.out_features, l.in_features};
  if (l.op == LayerOp::Conv2d) wshape = {l.conv.O, l.conv.C / l.conv.groups, l.conv.kh, l.conv.kw};
  const char* wrole = l.op == LayerOp::Matmul ? "b" : "w";
  const char* xrole = l.op == LayerOp::Matmul ? "a" : "x";
  if (l.op == LayerOp::Matmul) {
    ops[wrole] = uniform_operand(w, p + ".b", l.b_uniform, "head", nullptr, {});
    layer["attrs"] = {{"heads", l.heads}, {"k", l.in_features}, {"n", l.out_features}};
  } else if (lw) {
    std::vector<int8_t> sign;
    std::vector<int16_t> e;
    for (const LogWeight& x : l.w_log) {
      sign.push_back(x.sign);
      e.push_back(static_cast<int16_t>(x.sign ? x.E : 0));
    }
    w.add(p + ".w.sign", DType::I8, wshape, sign);
    w.add(p + ".w.exp", DType::I16, wshape, e);
    w.add(p + ".w.scale", DType::F32, {l.out_features}, l.w_log_scale);
    ops["w"] = {{"format", "L"}, {"bits", l.w_log_bits}, {"granularity", "row"}, {"sign", p + ".w.sign"}, {"exp", p + ".w.exp"},
                {"scale", p + ".w.scale"}, {"mantissa", l.hw.mant_frac_bits == 1 ? "approx" : "exact"}};
    if (l.hw.mant_frac_bits != 1) ops["w"]["frac_bits"] = l.hw.mant_frac_bits;
  } else {
    ops["w"] = uniform_operand(w, p + ".w", l.w_uniform, "row", &l.w_codes, wshape);
  }
  if (l.x_float) {
    ops[xrole] = {{"format", "F32"}};
  } else if (la) {
    w.add(p + "." + xrole + ".scale", DType::F32, {1}, std::vector<float>{l.x_adalog.scale});
    ops[xrole] = {{"format", "A"}, {"bits", l.x_adalog.table.bits}, {"q", l.x_adalog.table.q}, {"scale", p + "." + xrole + ".scale"}};
    if (l.x_adalog.shift != 0.0f) ops[xrole]["shift"] = l.x_adalog.shift;
  } else {
    ops[xrole] = uniform_operand(w, p + "." + xrole, l.x_uniform, l.op == LayerOp::Matmul ? "head" : "tensor", nullptr, {});
  }
  if (l.op == LayerOp::Conv2d) {
    const Conv2dShape& s = l.conv;
    layer["attrs"] = {{"in_channels", s.C}, {"input_hw", {s.H, s.W}}, {"kernel", {s.kh, s.kw}}, {"stride", s.stride},
                      {"padding", s.pad}, {"dilation", s.dilation}, {"groups", s.groups}};
  }
  if (!l.bias.empty()) {
    w.add(p + ".bias", DType::F32, {static_cast<int64_t>(l.bias.size())}, l.bias);
    layer["tensors"] = {{"bias", p + ".bias"}};
  }
  graph["layers"].push_back(layer);
}

QLayer load_layer(const LqmFile& f, const std::string& name) {
  const json* found = f.layer(name);
  const std::string where = fmt::format("{}: layer '{}'", f.file().path(), name);
  if (!found) throw Error(where + ": no such layer");
  const json& j = *found;
  QLayer l;
  l.name = name;
  const std::string op = j["op"];
  if (op != "linear" && op != "conv2d" && op != "matmul") throw Error(fmt::format("{}: op '{}' is not a GEMM layer", where, op));
  const GemmGeometry g = gemm_geometry(f.file(), j);  // attrs were checked when the file was read
  l.op = g.op;
  const json& ops = j["operands"];
  const json& xo = ops[l.op == LayerOp::Matmul ? "a" : "x"];
  const json& wo = ops[l.op == LayerOp::Matmul ? "b" : "w"];
  const std::string xf = xo["format"], wf = wo["format"];
  if (wf == "F32" || (xf == "F32" && l.op == LayerOp::Matmul)) throw Error(where + ": float operands have no integer hardware path");
  l.x_float = xf == "F32";
  if (wf == "A") throw Error(where + ": AdaLog weights are not a format of spec/numerics.md");
  l.pairing = wf == "L" ? (xf == "A" ? Pairing::LxA : Pairing::LxU) : (xf == "A" ? Pairing::UxA : Pairing::UxU);
  if (l.x_float) {
    l.x_uniform.bits = 8;  // unused: the input is float
  } else if (xf == "A") {
    l.x_adalog.table = make_adalog_table(xo["bits"].get<int>(), xo["q"].get<int>());
    l.x_adalog.scale = f.file().read<float>(xo["scale"].get<std::string>(), DType::F32).at(0);
    l.x_adalog.shift = xo.value("shift", 0.0f);
  } else {
    l.x_uniform = read_uniform(f, xo, where);
  }
  l.heads = g.heads;
  l.in_features = g.in_features;
  l.out_features = g.out_features;
  l.conv = g.conv;
  if (l.op == LayerOp::Matmul) {
    l.b_uniform = read_uniform(f, wo, where);
  } else if (wf == "L") {
    const auto sign = read_ints(f.file(), wo["sign"]), e = read_ints(f.file(), wo["exp"]);
    l.w_log.resize(sign.size());
    for (size_t i = 0; i < sign.size(); ++i) l.w_log[i] = LogWeight{static_cast<int8_t>(sign[i]), e[i], (e[i] & 1) == 0};
    l.w_log_scale = f.file().read<float>(wo["scale"].get<std::string>(), DType::F32);
    l.w_log_bits = wo["bits"].get<int>();
  } else {
    l.w_uniform = read_uniform(f, wo, where);
    l.w_codes = read_ints(f.file(), wo["codes"]);
  }
  if (j.contains("tensors") && j["tensors"].contains("bias")) l.bias = f.file().read<float>(j["tensors"]["bias"].get<std::string>(), DType::F32);
  // Hardware defaults: the formats' no-overflow width, with the LogART span of these weights.
  LayerFormats lf{l.pairing, l.op == LayerOp::Matmul ? l.b_uniform.bits : (wf == "L" ? wo["bits"].get<int>() : l.w_uniform.bits),
                  xf == "A" ? l.x_adalog.table.bits : l.x_uniform.bits, xf == "A" ? &l.x_adalog.table : nullptr, -1};
  int mant = wo.value("frac_bits", 1);
  if (wf == "L") {
    int32_t span = 0;
    const auto floors = [&] {
      l.hw.mant_frac_bits = mant;
      return row_floors(l);
    }();
    for (size_t i = 0; i < l.w_log.size(); ++i)
      if (l.w_log[i].sign) span = std::max(span, (l.w_log[i].E >> 1) - floors[i / l.in_features]);
    lf.log_span = span;
  }
  l.hw = default_hw_config(lf, l.in_features, mant);
  return l;
}

}  // namespace logq
