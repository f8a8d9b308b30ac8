#include "quant/hw_path/hw_path.h"

#include <cmath>
#include <map>

#include <fmt/format.h>

#include "golden/formats.h"
#include "io/error.h"
#include "quant/models/models.h"

namespace logq {

void fold_batchnorms(Net& net) {
  nn::Conv2dImpl* last = nullptr;
  std::string last_name;
  for (const auto& item : net.named_modules("", false)) {
    if (auto* c = item.value()->as<nn::Conv2dImpl>()) {
      last = c;
      last_name = item.key();
    } else if (auto* bn = item.value()->as<nn::BatchNorm2dImpl>()) {
      if (bn->folded) continue;
      if (!last) throw Error(fmt::format("BN folding: '{}' follows no conv", item.key()));
      try {
        bn->fold_into(*last);
      } catch (const Error& e) {
        throw Error(fmt::format("BN folding '{}' into '{}': {}", item.key(), last_name, e.what()));
      }
      last = nullptr;
    }
  }
}

std::vector<std::string> quantizable_layers(Net& net) {
  std::vector<std::string> out;
  for (const auto& item : net.named_modules("", false))
    if (item.value()->as<nn::Conv2dImpl>() || item.value()->as<nn::LinearImpl>()) out.push_back(item.key());
  return out;
}

namespace {
// Every GEMM input of a net: each Conv2d/Linear input, both operands of each attention MatMul.
std::map<std::string, nn::TensorFn*> act_sites(Net& net) {
  std::map<std::string, nn::TensorFn*> out;
  for (const auto& item : net.named_modules("", false)) {
    if (auto* c = item.value()->as<nn::Conv2dImpl>()) out[item.key()] = &c->input_hook;
    else if (auto* l = item.value()->as<nn::LinearImpl>()) out[item.key()] = &l->input_hook;
    else if (auto* m = item.value()->as<nn::MatMulImpl>()) {
      out[item.key() + ".a"] = &m->a_hook;
      out[item.key() + ".b"] = &m->b_hook;
    }
  }
  return out;
}
}  // namespace


std::vector<ActQuant> calibrate_gemm_inputs(Net& net, const at::Tensor& images, int bits) {
  auto sites = act_sites(net);
  std::map<std::string, std::pair<float, float>> range;
  for (auto& [n, h] : sites) {
    range[n] = {INFINITY, -INFINITY};
    *h = [&range, n = n](const at::Tensor& x) {
      auto& r = range[n];
      r.first = std::min(r.first, x.min().item<float>());
      r.second = std::max(r.second, x.max().item<float>());
      return x;
    };
  }
  {
    c10::NoGradGuard g;
    for (int64_t b = 0; b < images.size(0); b += 64) net.forward(images.slice(0, b, std::min(images.size(0), b + 64)));
  }
  for (auto& [n, h] : sites) *h = nullptr;
  std::vector<ActQuant> acts;
  const float qmax = float((1 << bits) - 1);
  for (const auto& [n, r] : range) {
    auto [lo, hi] = r;
    if (!(hi >= lo)) throw Error(fmt::format("activation calibration: '{}' saw no input", n));
    lo = std::min(lo, 0.0f);  // the range includes 0 so that zero is exact (post-ReLU inputs start at 0)
    const float s = std::max((hi - lo) / qmax, 1e-8f);
    acts.push_back({n, s, round_half_even(-lo / s)});
  }
  return acts;
}

void install_gemm_input_quantizers(Net& net, const std::vector<ActQuant>& acts, int bits) {
  auto sites = act_sites(net);
  for (auto& [n, h] : sites) *h = nullptr;
  if (bits <= 0) return;
  const float qmax = float((1 << bits) - 1);
  for (const auto& a : acts) {
    if (!sites.count(a.name)) throw Error(fmt::format("activation quantizer for '{}', which the model does not have", a.name));
    const float s = a.scale, z = a.zero;
    *sites.at(a.name) = [s, z, qmax](const at::Tensor& x) {  // golden uniform_encode/decode, elementwise
      return (at::clamp(at::round(x / s) + z, 0.0, double(qmax)) - z) * s;
    };
  }
}

}  // namespace logq
