#include "quant/models/layers.h"

#include <cmath>
#include <map>

#include <fmt/format.h>
#include <torch/nn/init.h>

#include "io/error.h"

namespace logq::nn {

namespace {
// torch.nn's default init: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
at::Tensor default_weight(at::IntArrayRef shape, int64_t fan_in) {
  const double b = 1.0 / std::sqrt(double(fan_in));
  return at::empty(shape).uniform_(-b, b);
}
}  // namespace

LinearImpl::LinearImpl(int64_t in, int64_t out, bool has_bias) : in_features(in), out_features(out) {
  weight = register_parameter("weight", default_weight({out, in}, in));
  if (has_bias) bias = register_parameter("bias", default_weight({out}, in));
}

at::Tensor LinearImpl::forward(const at::Tensor& x) {
  const at::Tensor& xin = input_hook ? input_hook(x) : x;
  const at::Tensor& w = weight_hook ? weight_hook(weight) : weight;
  at::Tensor y = at::linear(xin, w, bias);
  return output_hook ? output_hook(y) : y;
}

Conv2dImpl::Conv2dImpl(const ConvSpec& s) : spec(s) {
  const int64_t fan_in = s.in / s.groups * s.kernel * s.kernel;
  weight = register_parameter("weight", default_weight({s.out, s.in / s.groups, s.kernel, s.kernel}, fan_in));
  if (s.bias) bias = register_parameter("bias", default_weight({s.out}, fan_in));
}

at::Tensor Conv2dImpl::forward(const at::Tensor& x) {
  const at::Tensor& xin = input_hook ? input_hook(x) : x;
  const at::Tensor& w = weight_hook ? weight_hook(weight) : weight;
  at::Tensor y = at::conv2d(xin, w, bias, spec.stride, spec.padding, 1, spec.groups);
  return output_hook ? output_hook(y) : y;
}

BatchNorm2dImpl::BatchNorm2dImpl(int64_t c, double eps_, double momentum_) : eps(eps_), momentum(momentum_) {
  weight = register_parameter("weight", at::ones({c}));
  bias = register_parameter("bias", at::zeros({c}));
  running_mean = register_buffer("running_mean", at::zeros({c}));
  running_var = register_buffer("running_var", at::ones({c}));
  num_batches_tracked = register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
}

at::Tensor BatchNorm2dImpl::forward(const at::Tensor& x) {
  if (folded) return x;
  if (is_training()) {
    torch::NoGradGuard g;
    num_batches_tracked.add_(1);
  }
  return at::batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps, false);
}

void BatchNorm2dImpl::fold_into(Conv2dImpl& conv) {
  if (folded) throw Error("BatchNorm2d is already folded");
  if (conv.spec.out != weight.size(0))
    throw Error(fmt::format("BatchNorm2d of {} channels cannot fold into a conv with {} outputs", weight.size(0), conv.spec.out));
  torch::NoGradGuard g;
  const at::Tensor inv = weight / at::sqrt(running_var + eps);  // γ/√(σ²+ε), float32 as BRECQ's fold
  conv.weight.mul_(inv.view({-1, 1, 1, 1}));
  at::Tensor b = bias - weight * running_mean / at::sqrt(running_var + eps);
  if (conv.bias.defined()) {
    conv.bias.copy_(weight * conv.bias / at::sqrt(running_var + eps) + b);
  } else {
    conv.bias = conv.register_parameter("bias", b);
    conv.spec.bias = true;
  }
  folded = true;
}

at::Tensor MatMulImpl::forward(const at::Tensor& a, const at::Tensor& b) {
  return at::matmul(a_hook ? a_hook(a) : a, b_hook ? b_hook(b) : b);
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", Linear(dim, hidden));
  fc2 = register_module("fc2", Linear(hidden, dim));
}

at::Tensor drop_path(const at::Tensor& x, double p, bool training) {
  if (p <= 0.0 || !training) return x;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  return x * at::empty(shape, x.options()).bernoulli_(1.0 - p) / (1.0 - p);
}

torch::nn::LayerNorm layer_norm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

BatchNorm2d batch_norm(int64_t channels) { return BatchNorm2d(channels); }

void init_trunc_normal(LinearImpl& l, double std) {
  torch::NoGradGuard g;
  l.weight.normal_(0, std).clamp_(-2.0, 2.0);
  if (l.bias.defined()) l.bias.zero_();
}

}  // namespace logq::nn

namespace logq {

namespace {
void collect(const torch::nn::Module& m, const std::string& prefix, StateDict& out) {
  for (const auto& p : m.named_parameters(false)) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : m.named_buffers(false)) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& c : m.named_children()) collect(*c.value(), prefix + c.key() + ".", out);
}

std::string shape_str(at::IntArrayRef s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}
}  // namespace

std::vector<Stage> Net::stages() {
  throw Error(fmt::format("model '{}' has no staged form (per-block quantization supports resnet, mobilenetv2, vit, swin)", arch));
}

void Net::export_graph(GraphBuilder&) {
  throw Error(fmt::format("model '{}': export to .lqm is not implemented for this family yet", arch));
}

StateDict state_dict(const torch::nn::Module& m) {
  StateDict out;
  collect(m, "", out);
  return out;
}

void load_state_dict(torch::nn::Module& m, const StateDict& sd, const std::string& source) {
  std::map<std::string, const at::Tensor*> given;
  for (const auto& [k, v] : sd) given[k] = &v;
  const StateDict mine = state_dict(m);
  // Checkpoints saved before PyTorch 0.4.1 have no BatchNorm num_batches_tracked; PyTorch's
  // BatchNorm loader accepts that (the counter only matters for momentum=None training).
  auto optional_key = [](const std::string& k) {
    const std::string s = "num_batches_tracked";
    return k.size() >= s.size() && k.compare(k.size() - s.size(), s.size(), s) == 0;
  };
  for (const auto& [k, v] : mine)
    if (!given.count(k) && !optional_key(k))
      throw Error(fmt::format("{}: missing key '{}' (shape {}) expected by the model", source, k, shape_str(v.sizes())));
  std::map<std::string, const at::Tensor*> own;
  for (const auto& [k, v] : mine) own[k] = &v;
  for (const auto& [k, v] : sd)
    if (!own.count(k)) throw Error(fmt::format("{}: unexpected key '{}' (shape {}) not in the model", source, k, shape_str(v.sizes())));
  torch::NoGradGuard no_grad;
  for (const auto& [k, dst] : mine) {
    if (!given.count(k)) continue;
    const at::Tensor& src = *given[k];
    if (src.sizes() != dst.sizes())
      throw Error(fmt::format("{}: key '{}' has shape {}, the model expects {}", source, k, shape_str(src.sizes()),
                              shape_str(dst.sizes())));
    if (at::isFloatingType(src.scalar_type()) != at::isFloatingType(dst.scalar_type()))
      throw Error(fmt::format("{}: key '{}' has dtype {}, the model expects {}", source, k,
                              c10::toString(src.scalar_type()), c10::toString(dst.scalar_type())));
    at::Tensor d = dst;  // shares storage with the parameter
    d.copy_(src);
  }
}

}  // namespace logq
