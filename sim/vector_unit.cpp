#include "sim/vector_unit.h"

#include <cmath>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "golden/network.h"
#include "io/error.h"

namespace logq::sim {

using json = nlohmann::json;

const std::map<std::string, VectorOpCost>& vector_op_costs() {
  // One pass over the data per op, one element per lane and cycle: the cost of a lane that does a
  // multiply-add, a compare or a table lookup per cycle. Multi-pass ops read their rows again.
  static const std::map<std::string, VectorOpCost> t = {
      {"dequant", {1, 1, false, false, "scale and bias on each accumulator (acc * 2^-F * S + b)"}},
      {"quantize_u", {1, 1, false, false, "round and clamp into the next layer's U(b) code"}},
      {"quantize_adalog", {1, 1, false, false, "binary search of the AdaLog thresholds: one compare per code bit (weight = bits)"}},
      {"layernorm", {3, 2, false, false, "mean, variance, normalize: three passes, the row read twice"}},
      {"softmax", {3, 2, false, false, "max, exp (table) and sum, divide: three passes, the row read twice"}},
      {"gelu", {2, 1, false, false, "a table lookup and a multiply"}},
      {"batchnorm2d", {1, 1, false, false, "scale and shift"}},
      {"add", {1, 1, false, true, "elementwise add of a second operand read from DRAM (residual, position embedding)"}},
      {"scale", {1, 1, false, false, "multiply"}},
      {"relu", {1, 1, false, false, "clamp"}},
      {"relu6", {1, 1, false, false, "clamp"}},
      {"avgpool2d", {1, 1, true, false, "one add per input element"}},
      {"adaptive_avgpool2d", {1, 1, true, false, "one add per input element"}},
      {"maxpool2d", {1, 1, true, false, "one compare per input element"}},
      {"mean_tokens", {1, 1, true, false, "one add per input element"}},
  };
  return t;
}

namespace {

// Ops that only move or re-index data (the DMA's and the buffers' addressing): no lane work.
const std::set<std::string>& moves() {
  static const std::set<std::string> m = {"flatten", "reshape", "permute", "concat", "slice", "pad_channels", "roll", "window_partition",
                                          "window_reverse", "patch_merge", "add_tokens", "select_token", "identity"};
  return m;
}

const VectorOpCost& cost(const std::string& op) {
  const auto& t = vector_op_costs();
  const auto it = t.find(op);
  if (it == t.end()) throw Error(fmt::format("vector unit: no cost for op '{}'", op));
  return it->second;
}

double nonneg(const json& v, const std::string& where, double hi) {
  if (!v.is_number() || !(v.get<double>() >= 0) || v.get<double>() > hi) throw Error(fmt::format("{}: expected a number in [0, {:g}]", where, hi));
  return v.get<double>();
}

// Elements of a GEMM's x operand per image (what its input quantizer writes): linear M·K, a
// convolution's ifmap (not im2col), a matmul's a.
int64_t x_elements(const LqmGemm& g) {
  const int64_t outs = numel(g.out_shape);
  switch (g.geom.op) {
    case LayerOp::Linear: return outs / g.geom.out_features * g.geom.in_features;
    case LayerOp::Conv2d: return g.geom.conv.C * g.geom.conv.H * g.geom.conv.W;
    case LayerOp::Matmul: return outs / g.geom.out_features * g.geom.in_features;
  }
  return 0;
}

void add_quantize(std::vector<VectorWork>& to, const LqmOperand& f, int64_t elements, const std::string& from) {
  if (f.format == "A") to.push_back({"quantize_adalog", elements, double(f.bits), from});
  else if (f.format == "U") to.push_back({"quantize_u", elements, 1, from});
  // F32: the layer takes float (not run on the array); L: weights, quantized offline.
}

}  // namespace

double VectorConfig::cycles_per_element(const std::string& op) const {
  if (const auto it = cycles.find(op); it != cycles.end()) return it->second;
  return cost(op).cycles_per_element;
}

VectorConfig parse_vector_config(const json& j, const std::string& where) {
  VectorConfig v;
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object", where));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string k = it.key(), w = where + "." + k;
    if (k == "enabled") {
      if (!it->is_boolean()) throw Error(fmt::format("{}: expected true or false", w));
      v.enabled = it->get<bool>();
    } else if (k == "lanes") {
      if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 4096) throw Error(fmt::format("{}: must be 1..4096", w));
      v.lanes = static_cast<int>(it->get<int64_t>());
    } else if (k == "pj_per_lane_cycle") {
      v.pj_per_lane_cycle = nonneg(*it, w, 1e6);
    } else if (k == "cycles_per_element") {
      if (!it->is_object()) throw Error(fmt::format("{}: expected an object of op: cycles", w));
      for (auto c = it->begin(); c != it->end(); ++c) {
        if (!vector_op_costs().count(c.key())) {
          std::string names;
          for (const auto& [op, _] : vector_op_costs()) names += (names.empty() ? "" : ", ") + op;
          throw Error(fmt::format("{}: unknown op '{}' (known: {})", w, c.key(), names));
        }
        v.cycles[c.key()] = nonneg(*c, w + "." + c.key(), 1e3);  // an op of over 1,000 cycles per element is no vector op
      }
    } else if (k != "description") {
      throw Error(fmt::format("{}: unknown key '{}' (known: cycles_per_element, description, enabled, lanes, pj_per_lane_cycle)", where, k));
    }
  }
  return v;
}

json to_json(const VectorConfig& v) {
  json j = {{"enabled", v.enabled}};
  if (v.lanes) j["lanes"] = *v.lanes;
  if (!v.cycles.empty()) j["cycles_per_element"] = v.cycles;
  if (v.pj_per_lane_cycle) j["pj_per_lane_cycle"] = *v.pj_per_lane_cycle;
  return j;
}

std::vector<std::vector<VectorWork>> vector_work_from_graph(const LqmModel& m) {
  const size_t n = m.gemms.size();
  std::vector<std::vector<VectorWork>> out(n);
  if (n == 0 || m.input_shape.empty()) return out;
  const auto list_before = [&](size_t gemm) -> std::vector<VectorWork>& { return out[gemm == 0 ? 0 : gemm - 1]; };
  for (size_t i = 0; i < n; ++i) {
    const LqmGemm& g = m.gemms[i];
    // The input quantizer of GEMM i belongs to the work between GEMM i − 1 and GEMM i.
    add_quantize(list_before(i), g.x, x_elements(g), g.name);
    if (g.geom.op == LayerOp::Matmul) add_quantize(list_before(i), g.w, g.geom.heads * g.geom.in_features * g.geom.out_features, g.name);
    out[i].push_back({"dequant", numel(g.out_shape), 1, g.name});
  }
  for (const LqmFloatOp& f : m.float_ops) {
    if (moves().count(f.op)) continue;
    const VectorOpCost& c = cost(f.op);
    list_before(std::min(f.gemms_before, n)).push_back({f.op, c.per_input ? f.in_elements : f.out_elements, 1, f.name});
  }
  return out;
}

std::vector<std::vector<VectorWork>> vector_work_from_names(const std::vector<NamedGemm>& layers) {
  std::vector<std::vector<VectorWork>> out(layers.size());
  static const std::regex residual_tail(R"(^(.*layer\d+\.\d+)\.conv([23])$)");
  const auto ends = [](const std::string& s, const std::string& tail) { return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0; };
  std::set<std::string> has_conv3;
  std::smatch m;
  for (const NamedGemm& l : layers)
    if (std::regex_match(l.name, m, residual_tail) && m[2] == "3") has_conv3.insert(m[1]);
  for (size_t i = 0; i < layers.size(); ++i) {
    const NamedGemm& l = layers[i];
    const int64_t outs = l.M * l.N * l.count;
    out[i == 0 ? 0 : i - 1].push_back({"quantize_u", l.input_elements, 1, l.name});
    auto& w = out[i];
    w.push_back({"dequant", outs, 1, l.name});
    if (l.name.find("attn.matmul1") != std::string::npos) {
      w.push_back({"scale", outs, 1, l.name});  // the attention's 1/sqrt(d)
      w.push_back({"softmax", outs, 1, l.name});
    } else if (ends(l.name, "mlp.fc1")) {
      w.push_back({"gelu", outs, 1, l.name});
    } else if (ends(l.name, "attn.proj") || ends(l.name, "mlp.fc2") || ends(l.name, "patch_embed.proj")) {
      w.push_back({"add", outs, 1, l.name});        // residual (position embedding after the patch embedding)
      w.push_back({"layernorm", outs, 1, l.name});  // the next norm
    } else if (l.op == "conv2d") {
      if (std::regex_match(l.name, m, residual_tail) && (m[2] == "3" || !has_conv3.count(m[1]))) w.push_back({"add", outs, 1, l.name});
      w.push_back({"relu", outs, 1, l.name});
    }
    // A classifier after convolutions: the global average pool of the last feature map.
    const bool head = ends(l.name, "fc") || ends(l.name, "head") || ends(l.name, "classifier") || ends(l.name, "linear");
    if (head && i > 0 && layers[i - 1].op == "conv2d") {
      const NamedGemm& p = layers[i - 1];
      out[i - 1].push_back({"adaptive_avgpool2d", p.M * p.N * p.count, 1, l.name});
    }
  }
  return out;
}

double vector_lane_cycles(const std::vector<VectorWork>& work, const VectorConfig& c) {
  double s = 0;
  for (const VectorWork& w : work) s += double(w.elements) * w.weight * c.cycles_per_element(w.op);
  return s;
}

uint64_t vector_cycles(const std::vector<VectorWork>& work, const VectorConfig& c, int lanes) {
  return static_cast<uint64_t>(std::ceil(vector_lane_cycles(work, c) / lanes - 1e-9));
}

int64_t vector_sram_reads(const std::vector<VectorWork>& work) {
  double r = 0;
  for (const VectorWork& w : work) r += double(w.elements) * cost(w.op).reads_per_element;
  return static_cast<int64_t>(std::llround(r));
}

int64_t vector_sram_writes(const std::vector<VectorWork>& work) {
  int64_t s = 0;
  for (const VectorWork& w : work)
    if (!cost(w.op).per_input) s += w.elements;
  return s;
}

int64_t vector_dram_words(const std::vector<VectorWork>& work) {
  int64_t s = 0;
  for (const VectorWork& w : work)
    if (cost(w.op).dram_operand) s += w.elements;
  return s;
}

}  // namespace logq::sim
