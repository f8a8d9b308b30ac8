#include "quant/uniform/uniform.h"

#include <fmt/format.h>

#include "io/error.h"
#include "golden/formats.h"
#include "quant/models/layers.h"
#include "quant/models/models.h"

namespace logq::uniform {

namespace {

// Per-row min/max with 0 inside the range (zero stays exact), scale (max − min)/(2^b − 1).
WeightCodes quantize_rows(at::Tensor& w, int bits) {
  const int64_t O = w.size(0);
  at::Tensor flat = w.detach().reshape({O, -1}).contiguous();
  const int64_t K = flat.size(1);
  float* p = flat.data_ptr<float>();
  WeightCodes out;
  out.params.bits = bits;
  out.codes.resize(size_t(O * K));
  const float qmax = float((1 << bits) - 1);
  for (int64_t o = 0; o < O; ++o) {
    float lo = 0, hi = 0;
    for (int64_t k = 0; k < K; ++k) lo = std::min(lo, p[o * K + k]), hi = std::max(hi, p[o * K + k]);
    const float s = std::max((hi - lo) / qmax, 1e-8f), z = round_half_even(-lo / s);
    out.params.scale.push_back(s);
    out.params.zero_point.push_back(uniform_zero(z));
    for (int64_t k = 0; k < K; ++k) {
      const int32_t c = uniform_encode(p[o * K + k], s, z, bits);
      out.codes[size_t(o * K + k)] = c;
      p[o * K + k] = uniform_decode_ref(c, s, z);
    }
  }
  c10::NoGradGuard g;
  w.copy_(flat.reshape(w.sizes()));
  return out;
}

}  // namespace

UniformModel quantize(std::shared_ptr<Net> net, const at::Tensor& calib, int w_bits, int a_bits) {
  if (w_bits < 2 || w_bits > 8) throw Error(fmt::format("uniform baseline: --w-bit {} outside 2..8", w_bits));
  if (a_bits < 2 || a_bits > 8) throw Error(fmt::format("uniform baseline: --act-bits {} outside 2..8 (the baseline quantizes every GEMM input)", a_bits));
  UniformModel m;
  m.w_bits = w_bits;
  m.a_bits = a_bits;
  fold_batchnorms(*net);
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : net->named_modules("", false)) mods[item.key()] = item.value();
  for (const std::string& name : quantizable_layers(*net)) {
    auto& mod = *mods.at(name);
    at::Tensor& w = mod.as<nn::Conv2dImpl>() ? mod.as<nn::Conv2dImpl>()->weight : mod.as<nn::LinearImpl>()->weight;
    m.weights[name] = quantize_rows(w, w_bits);
  }
  m.net = net;
  m.acts = calibrate_gemm_inputs(*net, calib, a_bits);
  install_gemm_input_quantizers(*net, m.acts, a_bits);
  return m;
}

GraphBuilder::GemmSource export_source(const UniformModel& m) {
  std::map<std::string, UniformParams> acts;
  for (const auto& a : m.acts) acts[a.name] = UniformParams{m.a_bits, {a.scale}, {int32_t(std::lrint(a.zero))}};
  const auto act = [acts](const std::string& name) {
    auto it = acts.find(name);
    if (it == acts.end()) throw Error(fmt::format("export: no activation quantizer for '{}'", name));
    return it->second;
  };
  return [&m, act](const std::string& name, torch::nn::Module& mod) {
    QLayer l;
    l.pairing = Pairing::UxU;
    if (mod.as<nn::MatMulImpl>()) {
      l.x_uniform = act(name + ".a");
      l.b_uniform = act(name + ".b");
      return l;
    }
    auto it = m.weights.find(name);
    if (it == m.weights.end()) throw Error(fmt::format("export: layer '{}' has no uniform weights", name));
    l.w_codes = it->second.codes;
    l.w_uniform = it->second.params;
    l.x_uniform = act(name);
    auto* conv = mod.as<nn::Conv2dImpl>();
    const at::Tensor b = conv ? conv->bias : mod.as<nn::LinearImpl>()->bias;
    if (b.defined()) {
      const at::Tensor bc = b.detach().contiguous();
      l.bias.assign(bc.data_ptr<float>(), bc.data_ptr<float>() + bc.numel());
    }
    return l;
  };
}

}  // namespace logq::uniform
