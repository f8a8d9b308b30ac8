#include "golden/network.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/error.h"
#include "io/limits.h"

namespace logq {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const json& layer, const std::string& what) {
  throw Error(fmt::format("layer '{}' ({}): {}", layer.value("name", "?"), layer.value("op", "?"), what));
}

// Strides of a row-major shape.
Shape strides(const Shape& s) {
  Shape st(s.size(), 1);
  for (int64_t i = static_cast<int64_t>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

}  // namespace

// A plain product: every shape here was checked (and capped) by check_lqm_graph when the file
// was read, and this runs in inner loops.
int64_t numel(const Shape& s) { return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<int64_t>()); }

Shape gemm_shape(const QLayer& l, const std::vector<Shape>& in) {
  return gemm_output_shape(GemmGeometry{l.op, l.out_features, l.in_features, l.heads, l.conv}, l.name, in);
}

// ---- float ops ------------------------------------------------------------------------------

namespace {

float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2))); }

void layernorm(const Tensor& x, const Tensor& g, const Tensor& b, float eps, Tensor& y) {
  const int64_t d = x.shape.back(), rows = numel(x.shape) / d;
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = x.v.data() + r * d;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < d; ++i) mean += p[i];
    mean /= d;
    for (int64_t i = 0; i < d; ++i) var += (p[i] - mean) * (p[i] - mean);
    var /= d;
    const float m = static_cast<float>(mean), inv = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (int64_t i = 0; i < d; ++i) y.v[r * d + i] = (p[i] - m) * inv * g.v[i] + b.v[i];
  }
}

void softmax(Tensor& y) {
  const int64_t d = y.shape.back(), rows = numel(y.shape) / d;
  for (int64_t r = 0; r < rows; ++r) {
    float* p = y.v.data() + r * d;
    const float mx = *std::max_element(p, p + d);
    float sum = 0;
    for (int64_t i = 0; i < d; ++i) sum += (p[i] = std::exp(p[i] - mx));
    for (int64_t i = 0; i < d; ++i) p[i] /= sum;
  }
}

void permute(const Tensor& x, const Shape& dims, Tensor& y) {
  const Shape in_st = strides(x.shape);
  const size_t r = dims.size();
  Shape idx(r, 0);
  for (int64_t o = 0; o < numel(y.shape); ++o) {
    int64_t src = 0;
    for (size_t k = 0; k < r; ++k) src += idx[k] * in_st[dims[k]];
    y.v[o] = x.v[src];
    for (int64_t k = static_cast<int64_t>(r) - 1; k >= 0; --k) {
      if (++idx[k] < y.shape[k]) break;
      idx[k] = 0;
    }
  }
}

void slice(const Tensor& x, int64_t dim, int64_t start, int64_t step, Tensor& y) {
  const Shape st = strides(x.shape);
  const int64_t outer = numel(Shape(x.shape.begin(), x.shape.begin() + dim)), inner = st[dim];
  int64_t o = 0;
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < y.shape[dim]; ++i) {
      const float* src = x.v.data() + a * x.shape[dim] * inner + (start + i * step) * inner;
      std::copy(src, src + inner, y.v.data() + o);
      o += inner;
    }
}

// torch.roll: out[(i + shift) mod n] = x[i] along each dim.
void roll(const Tensor& x, const Shape& shifts, const Shape& dims, Tensor& y) {
  const Shape st = strides(x.shape);
  const size_t r = x.shape.size();
  Shape idx(r, 0);
  for (int64_t i = 0; i < numel(x.shape); ++i) {
    int64_t dst = 0;
    for (size_t k = 0; k < r; ++k) {
      int64_t c = idx[k];
      for (size_t j = 0; j < dims.size(); ++j)
        if (size_t(dims[j]) == k) c = ((c + shifts[j]) % x.shape[k] + x.shape[k]) % x.shape[k];
      dst += c * st[k];
    }
    y.v[dst] = x.v[i];
    for (int64_t k = int64_t(r) - 1; k >= 0; --k) {
      if (++idx[k] < x.shape[k]) break;
      idx[k] = 0;
    }
  }
}

void maxpool(const Tensor& x, int64_t k, int64_t s, int64_t p, Tensor& y) {
  const int64_t C = x.shape[0], H = x.shape[1], W = x.shape[2], OH = y.shape[1], OW = y.shape[2];
  for (int64_t c = 0; c < C; ++c)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float m = -INFINITY;
        for (int64_t i = 0; i < k; ++i)
          for (int64_t j = 0; j < k; ++j) {
            const int64_t h = oh * s - p + i, w = ow * s - p + j;
            if (h >= 0 && h < H && w >= 0 && w < W) m = std::max(m, x.v[(c * H + h) * W + w]);
          }
        y.v[(c * OH + oh) * OW + ow] = m;
      }
}

void run_float_op(const json& layer, const std::vector<const Tensor*>& in, const std::map<std::string, Tensor>& prm, Tensor& y) {
  const std::string op = layer["op"];
  const Tensor& x = *in[0];
  const json attrs = layer.value("attrs", json::object());
  if (op == "relu") {
    for (size_t i = 0; i < x.v.size(); ++i) y.v[i] = std::max(x.v[i], 0.0f);
  } else if (op == "relu6") {
    for (size_t i = 0; i < x.v.size(); ++i) y.v[i] = std::min(std::max(x.v[i], 0.0f), 6.0f);
  } else if (op == "gelu") {
    for (size_t i = 0; i < x.v.size(); ++i) y.v[i] = gelu(x.v[i]);
  } else if (op == "identity" || op == "reshape" || op == "flatten") {
    y.v = x.v;
  } else if (op == "scale") {
    const float f = attrs["factor"].get<float>();
    for (size_t i = 0; i < x.v.size(); ++i) y.v[i] = x.v[i] * f;
  } else if (op == "softmax") {
    y.v = x.v;
    softmax(y);
  } else if (op == "layernorm") {
    layernorm(x, prm.at("weight"), prm.at("bias"), attrs.value("eps", 1e-5f), y);
  } else if (op == "batchnorm2d") {
    const int64_t C = x.shape[0], P = x.shape[1] * x.shape[2];
    const float eps = attrs.value("eps", 1e-5f);
    for (int64_t c = 0; c < C; ++c) {
      const float inv = 1.0f / std::sqrt(prm.at("running_var").v[c] + eps), g = prm.at("weight").v[c] * inv;
      for (int64_t i = 0; i < P; ++i) y.v[c * P + i] = (x.v[c * P + i] - prm.at("running_mean").v[c]) * g + prm.at("bias").v[c];
    }
  } else if (op == "add") {
    const Tensor& b = in.size() == 2 ? *in[1] : prm.at("other");
    for (size_t i = 0; i < x.v.size(); ++i) y.v[i] = x.v[i] + b.v[i];
  } else if (op == "roll") {
    Shape dims;
    for (const auto& d : attrs["dims"]) dims.push_back(d.get<int64_t>() < 0 ? d.get<int64_t>() + static_cast<int64_t>(x.shape.size()) : d.get<int64_t>());
    roll(x, attrs["shifts"].get<Shape>(), dims, y);
  } else if (op == "permute") {
    Shape dims;
    for (const auto& d : attrs["dims"]) dims.push_back(d.get<int64_t>() < 0 ? d.get<int64_t>() + static_cast<int64_t>(x.shape.size()) : d.get<int64_t>());
    permute(x, dims, y);
  } else if (op == "slice") {
    int64_t d = attrs["dim"].get<int64_t>();
    if (d < 0) d += static_cast<int64_t>(x.shape.size());
    slice(x, d, attrs.value("start", int64_t{0}), attrs.value("step", int64_t{1}), y);
  } else if (op == "pad_channels") {
    const int64_t P = x.shape[1] * x.shape[2], before = attrs["before"].get<int64_t>();
    std::fill(y.v.begin(), y.v.end(), 0.0f);
    std::copy(x.v.begin(), x.v.end(), y.v.begin() + before * P);
  } else if (op == "adaptive_avgpool2d") {
    const int64_t C = x.shape[0], P = x.shape[1] * x.shape[2];
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (int64_t i = 0; i < P; ++i) s += x.v[c * P + i];
      y.v[c] = static_cast<float>(s / P);
    }
  } else if (op == "maxpool2d") {
    const int64_t k = attrs["kernel"].get<int64_t>();
    maxpool(x, k, attrs.value("stride", k), attrs.value("padding", int64_t{0}), y);
  } else if (op == "add_tokens") {
    const Tensor& t = prm.at("tokens");
    std::copy(t.v.begin(), t.v.end(), y.v.begin());
    std::copy(x.v.begin(), x.v.end(), y.v.begin() + t.v.size());
  } else if (op == "select_token") {
    const int64_t d = x.shape[1], i = attrs.value("index", int64_t{0});
    std::copy(x.v.begin() + i * d, x.v.begin() + (i + 1) * d, y.v.begin());
  } else if (op == "mean_tokens") {
    const int64_t n = x.shape[0], d = x.shape[1];
    for (int64_t j = 0; j < d; ++j) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += x.v[i * d + j];
      y.v[j] = static_cast<float>(s / n);
    }
  } else if (op == "concat") {
    int64_t d = attrs["dim"].get<int64_t>();
    if (d < 0) d += static_cast<int64_t>(x.shape.size());
    const int64_t outer = numel(Shape(x.shape.begin(), x.shape.begin() + d));
    int64_t o = 0;
    for (int64_t a = 0; a < outer; ++a)
      for (const Tensor* t : in) {
        const int64_t chunk = numel(t->shape) / outer;
        std::copy(t->v.begin() + a * chunk, t->v.begin() + (a + 1) * chunk, y.v.begin() + o);
        o += chunk;
      }
  } else {
    fail(layer, "op is not implemented by this golden model");
  }
}

// A layer whose input the reference keeps in float: float32 conv/linear with the dequantized
// weights (double accumulation), + bias.
std::vector<float> run_float_gemm(const QLayer& l, const std::vector<float>& x, const Shape& out_shape) {
  const std::vector<double> w = weight_values(l);
  std::vector<float> y(numel(out_shape));
  const auto bias = [&](int64_t o) { return l.bias.empty() ? 0.0f : l.bias[o]; };
  if (l.op == LayerOp::Linear) {
    const int64_t K = l.in_features, O = l.out_features, rows = static_cast<int64_t>(x.size()) / K;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < O; ++o) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k) s += static_cast<double>(x[r * K + k]) * w[o * K + k];
        y[r * O + o] = static_cast<float>(s) + bias(o);
      }
    return y;
  }
  const Conv2dShape& c = l.conv;
  const int64_t OH = c.OH(), OW = c.OW(), cg = c.C / c.groups, og = c.O / c.groups;
  for (int64_t o = 0; o < c.O; ++o)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double s = 0;
        const int64_t g = o / og;
        for (int64_t ci = 0; ci < cg; ++ci)
          for (int64_t i = 0; i < c.kh; ++i)
            for (int64_t j = 0; j < c.kw; ++j) {
              const int64_t h = oh * c.stride - c.pad + i * c.dilation, ww = ow * c.stride - c.pad + j * c.dilation;
              if (h < 0 || h >= c.H || ww < 0 || ww >= c.W) continue;
              s += static_cast<double>(x[((g * cg + ci) * c.H + h) * c.W + ww]) * w[((o * cg + ci) * c.kh + i) * c.kw + j];
            }
        y[(o * OH + oh) * OW + ow] = static_cast<float>(s) + bias(o);
      }
  return y;
}


}  // namespace

Network::Network(const LqmFile& file, const HwOverrides& hw) : path_(file.file().path()) {
  const json& g = file.graph();
  model_ = g["model"];
  if (!model_.contains("input_shape")) throw Error(fmt::format("{}: graph.model has no 'input_shape' (not written by logq export)", path_));
  for (const auto& d : model_["input_shape"]) input_shape_.push_back(d.get<int64_t>());
  std::map<std::string, int> slot;
  const auto new_slot = [&](const std::string& name, Shape s) {
    slot[name] = static_cast<int>(slot_shapes_.size());
    slot_shapes_.push_back(std::move(s));
  };
  if (g["inputs"].size() != 1) throw Error(fmt::format("{}: the golden model runs graphs with one input", path_));
  new_slot(g["inputs"][0].get<std::string>(), input_shape_);
  for (const auto& layer : g["layers"]) {
    Step st;
    st.spec = layer;
    std::vector<Shape> in_shapes;
    for (const auto& n : layer.value("inputs", json::array())) {
      st.in.push_back(slot.at(n.get<std::string>()));
      in_shapes.push_back(slot_shapes_[st.in.back()]);
    }
    Shape out;
    const std::string op = layer["op"];
    if (op == "linear" || op == "conv2d" || op == "matmul") {
      GemmRecord r;
      r.name = layer["name"];
      r.layer = load_layer(file, r.name);
      r.float_input = r.layer.x_float;
      HwConfig& h = r.layer.hw;
      if (hw.acc_bits) h.acc_bits = *hw.acc_bits;
      // F places AdaLog terms (2^(F − E)); the other pairings have no fraction bits.
      if (hw.frac_bits && (r.layer.pairing == Pairing::UxA || r.layer.pairing == Pairing::LxA)) h.frac_bits = *hw.frac_bits;
      if (hw.rounding) h.rounding = *hw.rounding;
      if (hw.mant_frac_bits && (r.layer.pairing == Pairing::LxU || r.layer.pairing == Pairing::LxA)) h.mant_frac_bits = *hw.mant_frac_bits;
      out = gemm_shape(r.layer, in_shapes);
      r.out_shape = out;
      st.gemm = static_cast<int>(gemms_.size());
      gemms_.push_back(std::move(r));
    } else {
      std::map<std::string, Shape> tshapes;
      const json tensors = layer.value("tensors", json::object());
      for (auto t = tensors.begin(); t != tensors.end(); ++t) {
        const TensorInfo& info = file.file().at(t.value().get<std::string>());
        Tensor tv{info.shape, file.file().read<float>(info.name, DType::F32)};
        tshapes[t.key()] = info.shape;
        st.params[t.key()] = std::move(tv);
      }
      try {
        out = float_op_shape(layer, in_shapes, tshapes);
      } catch (const Error& e) {
        throw Error(fmt::format("{}: {}", path_, e.what()));
      }
    }
    if (layer["outputs"].size() != 1) throw Error(fmt::format("{}: layer '{}': the golden model runs layers with one output", path_, layer["name"].get<std::string>()));
    new_slot(layer["outputs"][0].get<std::string>(), out);
    st.out.push_back(slot.at(layer["outputs"][0].get<std::string>()));
    steps_.push_back(std::move(st));
  }
  for (const auto& o : g["outputs"]) outputs_.push_back(slot.at(o.get<std::string>()));
  if (outputs_.size() != 1) throw Error(fmt::format("{}: the golden model runs graphs with one output", path_));
}

std::vector<float> Network::run(const std::vector<float>& image) {
  if (static_cast<int64_t>(image.size()) != numel(input_shape_))
    throw Error(fmt::format("{}: input has {} values, the model takes {}", path_, image.size(), shape_str(input_shape_)));
  std::vector<Tensor> val(slot_shapes_.size());
  val[0] = Tensor{input_shape_, image};
  for (const Step& st : steps_) {
    Tensor& y = val[st.out[0]];
    y.shape = slot_shapes_[st.out[0]];
    if (st.gemm >= 0) {
      GemmRecord& r = gemms_[st.gemm];
      const Tensor& x = val[st.in[0]];
      if (r.float_input) {
        y.v = run_float_gemm(r.layer, x.v, y.shape);
      } else {
        const int64_t rows = r.layer.op == LayerOp::Matmul ? x.shape[1] : (r.layer.op == LayerOp::Linear ? numel(x.shape) / r.layer.in_features : 1);
        static const std::vector<float> kNone;
        const std::vector<float>& b = r.layer.op == LayerOp::Matmul ? val[st.in[1]].v : kNone;
        std::vector<int32_t> xc = encode_x(r.layer, x.v, rows), bc;
        if (r.layer.op == LayerOp::Matmul) bc = encode_b(r.layer, b);
        if (on_codes) on_codes(r.name, xc, bc);
        if (force_codes) {
          if (const auto* f = force_codes(r.name, 'x')) xc = *f;
          if (const auto* f = r.layer.op == LayerOp::Matmul ? force_codes(r.name, 'b') : nullptr) bc = *f;
        }
        LayerOutput o = run_layer_codes(r.layer, xc, rows, bc);
        if (on_output) on_output(r.name, o);
        y.v = std::move(o.y);
        add_stats(r.stats, o.stats);
      }
      ++r.runs;
    } else {
      y.v.assign(numel(y.shape), 0.0f);
      std::vector<const Tensor*> in;
      for (int s : st.in) in.push_back(&val[s]);
      run_float_op(st.spec, in, st.params, y);
    }
  }
  return val[outputs_[0]].v;
}

bool layer_in(const std::vector<std::string>& prefixes, const std::string& name) {
  for (const auto& p : prefixes)
    if (name == p || name.rfind(p + ".", 0) == 0) return true;
  return false;
}

std::string first_block(const std::vector<GemmRecord>& gemms, const std::string& who) {
  for (const char* p : {"blocks.0", "layers.0.blocks.0", "layer1.0", "features.1"})
    for (const auto& g : gemms)
      if (g.name.rfind(std::string(p) + ".", 0) == 0) return p;
  throw Error(fmt::format("{}: no default block in this model (blocks.0 / layer1.0); name layers with --layers", who));
}

}  // namespace logq
