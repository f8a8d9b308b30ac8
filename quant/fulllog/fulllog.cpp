// Fully-log transformers: LogART weights × AdaLog activations (fulllog.h says which order does what).
#include "quant/fulllog/fulllog.h"

#include <chrono>
#include <map>

#include <fmt/format.h>

#include "io/error.h"
#include "quant/hw_path/hw_path.h"
#include "quant/models/models.h"

namespace logq::fulllog {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Every GEMM weight of the net by name (what LogART quantizes; AdaLog's plan names the same ones).
std::map<std::string, at::Tensor*> weights_of(Net& net) {
  std::map<std::string, at::Tensor*> out;
  for (const auto& item : net.named_modules("", false)) {
    if (auto* c = item.value()->as<nn::Conv2dImpl>()) out[item.key()] = &c->weight;
    else if (auto* l = item.value()->as<nn::LinearImpl>()) out[item.key()] = &l->weight;
  }
  return out;
}

// LogART's dequantized weights with odd-level factor k, by layer name.
std::map<std::string, at::Tensor> dequantized(const logart::QuantizedModel& qm, double k_odd) {
  auto w = weights_of(*qm.net);
  std::map<std::string, at::Tensor> out;
  for (const auto& [n, q] : qm.layers) {
    logart::WeightQuant c = q;
    c.k_odd = k_odd;
    out[n] = c.quantize(w.at(n)->detach());
  }
  return out;
}

// Copies the reparameterized weights into the FP reference. Reparameterization gives a bias to a
// linear that had none (Swin's PatchMerging reduction), so the copy gets one first.
void copy_reparameterized(Net& from, Net& to) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> dst;
  for (const auto& item : to.named_modules("", false)) dst[item.key()] = item.value();
  for (const auto& item : from.named_modules("", false)) {
    auto* src = item.value()->as<nn::LinearImpl>();
    auto it = dst.find(item.key());
    if (!src || !src->bias.defined() || it == dst.end()) continue;
    auto* d = it->second->as<nn::LinearImpl>();
    if (d && !d->bias.defined()) d->bias = d->register_parameter("bias", at::zeros_like(src->bias));
  }
  c10::NoGradGuard g;
  load_state_dict(to, state_dict(from), "the reparameterized model");
}

// The layers AdaLog's plan quantizes must be exactly the ones LogART does: one weight format each.
void check_same_layers(const adalog::QuantModel& a, Net& net) {
  std::map<std::string, bool> planned;
  for (const auto& l : a.layers)
    if (l.kind != "matmul1" && l.kind != "matmul2") planned[l.name] = true;
  for (const auto& n : quantizable_layers(net))
    if (!planned.count(n)) throw Error(fmt::format("fulllog: layer '{}' has LogART weights but no AdaLog input quantizer", n));
  for (const auto& [n, _] : planned)
    if (!weights_of(net).count(n)) throw Error(fmt::format("fulllog: AdaLog plans layer '{}', which is not a Linear/Conv2d", n));
}
}  // namespace

Order parse_order(const std::string& s) {
  if (s == "acts-first") return Order::ActsFirst;
  if (s == "weights-first") return Order::WeightsFirst;
  throw Error(fmt::format("--fulllog-order '{}' is not acts-first | weights-first", s));
}

std::string to_string(Order o) { return o == Order::ActsFirst ? "acts-first" : "weights-first"; }

Model quantize(std::shared_ptr<Net> net, std::shared_ptr<Net> fp_copy, const std::string& family, const at::Tensor& calib,
               const at::Tensor& search, const at::Tensor& llr, const Options& opt,
               const std::function<void(const std::string&)>& log, const std::function<void(Net&)>& on_adalog) {
  Model m;
  // 1. AdaLog on the FP model: the activation quantizers and the LayerNorm reparameterization
  //    (which rescales qkv/fc1/reduction columns, so it must precede the weights' log codes).
  m.acts = adalog::calibrate(net, family, calib, opt.act, log);
  m.calib_seconds = m.acts.calib_seconds;
  check_same_layers(m.acts, *net);
  if (on_adalog) {
    adalog::install(m.acts, true);
    on_adalog(*net);
  }
  adalog::install(m.acts, false);
  copy_reparameterized(*net, *fp_copy);  // LogART's FP reference
  // 2. LogART on the reparameterized model, its activations quantized (acts-first) or float.
  logart::Options w = opt.w;
  w.transformer = true;
  if (opt.order == Order::ActsFirst) {
    adalog::install(m.acts, true, {false, false});
    w.act_training = [&m](bool train) { adalog::install(m.acts, true, {train, false}); };
  }
  m.weights = logart::quantize(*fp_copy, net, search, llr, w, log);
  // 3. weights-first: the activations searched again with the LogART weights in place.
  if (opt.order == Order::WeightsFirst) {
    const double k = opt.w.vit_approx_everywhere ? opt.w.k_odd : 0.0;  // the weights the model will run with
    logart::apply(m.weights, k, 0);
    adalog::Options second = opt.act;
    const auto fixed = std::make_shared<std::map<std::string, at::Tensor>>(dequantized(m.weights, k));
    second.fixed_weight = [fixed](const std::string& layer, const at::Tensor&) {
      auto it = fixed->find(layer);
      if (it == fixed->end()) throw Error(fmt::format("fulllog: no LogART weights for '{}'", layer));
      return it->second;
    };
    const auto t = Clock::now();
    log("AdaLog: activations again, with the LogART weights fixed");
    adalog::QuantModel again = adalog::calibrate(net, family, calib, second, log);
    for (size_t i = 0; i < again.layers.size(); ++i) again.layers[i].w = m.acts.layers[i].w;  // kept for reference only
    m.acts = std::move(again);
    m.calib_seconds += since(t);
  }
  return m;
}

void apply(Model& m, double k_odd) {
  logart::apply(m.weights, k_odd, 0);               // weight hooks (clears every input hook)
  adalog::install(m.acts, true, {false, false});    // AdaLog's input quantizers, weights left to LogART
}

GraphBuilder::GemmSource export_source(const Model& m, double k_odd) {
  const GraphBuilder::GemmSource log_weights = logart::export_source(m.weights, k_odd, 0);
  std::map<std::string, adalog::QLayer> acts;
  for (const auto& l : m.acts.layers) acts[l.name] = l;
  const auto deq = std::make_shared<std::map<std::string, at::Tensor>>(dequantized(m.weights, k_odd));
  return [log_weights, acts, deq](const std::string& name, torch::nn::Module& mod) {
    auto it = acts.find(name);
    if (it == acts.end()) throw Error(fmt::format("export: '{}' has no AdaLog input quantizer", name));
    const adalog::QLayer& q = it->second;
    QLayer l;
    adalog::set_input_format(q, l);
    if (q.kind == "matmul1" || q.kind == "matmul2") return l;  // both operands activations
    const QLayer w = log_weights(name, mod);                 // L(n) codes, per-row scale, mantissa, bias
    l.pairing = l.pairing == Pairing::UxA ? Pairing::LxA : Pairing::LxU;
    l.w_log = w.w_log;
    l.w_log_scale = w.w_log_scale;
    l.w_log_bits = w.w_log_bits;
    l.hw.mant_frac_bits = w.hw.mant_frac_bits;
    l.bias = w.bias;
    if (q.kind == "post_gelu") {  // fold the shift with the weights the hardware multiplies by
      c10::NoGradGuard g;
      const at::Tensor delta = (deq->at(name).sum(1) * kGeluShift).contiguous();
      if (l.bias.empty()) l.bias.assign(size_t(delta.numel()), 0.0f);
      for (int64_t o = 0; o < delta.numel(); ++o) l.bias[size_t(o)] -= delta.data_ptr<float>()[o];
    }
    return l;
  };
}

}  // namespace logq::fulllog
