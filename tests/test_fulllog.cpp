// The fully-log pairing (quant/fulllog) on a tiny ViT: which quantizer sits where after each order,
// the export's pairings and fc2's folded bias, and the openings it uses in adalog/ and logart/.
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "golden/formats.h"
#include "quant/adalog/adalog.h"
#include "quant/fulllog/fulllog.h"
#include "quant/models/models.h"
#include "test_util.h"

using namespace logq;

namespace {

std::shared_ptr<Net> tiny_vit(uint64_t seed) {
  at::manual_seed(seed);
  auto net = create_model_from_config(nlohmann::json::parse(
      R"({"family": "vit", "img_size": 16, "patch_size": 4, "in_chans": 1, "embed_dim": 16, "depth": 1, "num_heads": 2, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})"));
  net->eval();
  return net;
}

fulllog::Options small_options(fulllog::Order order) {
  fulllog::Options o;
  o.order = order;
  o.act.w_bit = o.act.a_bit = o.act.s_bit = o.act.qhead_a_bit = 4;
  o.act.progress = false;
  o.w.w_bits = 4;
  o.w.search_method = logart::SearchMethod::BlockWise;
  o.w.iters = 20;
  o.w.lr_min_ratio = 1.0;
  o.w.k_odd = 1.5;
  o.w.vit_approx_everywhere = true;
  o.w.progress = false;
  return o;
}

std::map<std::string, std::shared_ptr<torch::nn::Module>> modules(Net& net) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> m;
  for (const auto& item : net.named_modules("", false)) m[item.key()] = item.value();
  return m;
}

}  // namespace

TEST_CASE("fulllog on a tiny ViT: LogART weight hooks, AdaLog input hooks, L x U / L x A export with fc2's bias folded by the log weights", "[fulllog]") {
  for (const auto order : {fulllog::Order::ActsFirst, fulllog::Order::WeightsFirst}) {
    INFO(fulllog::to_string(order));
    auto net = tiny_vit(1), fp = tiny_vit(1);
    at::manual_seed(7);
    const at::Tensor images = at::randn({16, 1, 16, 16});
    bool saw_adalog = false;
    fulllog::Model m = fulllog::quantize(net, fp, "vit", images.slice(0, 0, 8), images.slice(0, 0, 8), images, small_options(order),
                                         [](const std::string&) {}, [&](Net&) { saw_adalog = true; });
    CHECK(saw_adalog);
    REQUIRE(m.weights.layers.size() == 6);  // patch conv, qkv, proj, fc1, fc2, head
    fulllog::apply(m, 1.5);
    auto mods = modules(*net);
    std::map<std::string, const adalog::QLayer*> acts;
    for (const auto& l : m.acts.layers) acts[l.name] = &l;
    c10::NoGradGuard g;
    for (const auto& [name, wq] : m.weights.layers) {
      INFO(name);
      const adalog::LayerHooks h = adalog::layer_hooks(*mods.at(name), name);
      logart::WeightQuant k = wq;
      k.k_odd = 1.5;
      REQUIRE(*h.weight);
      CHECK(at::equal((*h.weight)(*h.w), k.quantize(*h.w)));  // the weights are LogART's, with 1+1/2
      const adalog::QLayer& a = *acts.at(name);
      if (a.kind == "conv") {
        CHECK(!*h.input);  // the reference keeps the image float
        continue;
      }
      REQUIRE(*h.input);
      const at::Tensor x = at::randn({3, 5, h.w->size(1)});
      const at::Tensor want = a.kind == "post_gelu" ? adalog::shift_adalog_fq(x, a.alog, false) : a.a(x);
      CHECK(at::equal((*h.input)(x), want));  // the inputs are AdaLog's (fc2: shift not folded)
    }
    // The export: pairings, the log weights' codes, and fc2's bias folded with those weights.
    const GraphBuilder::GemmSource src = fulllog::export_source(m, 1.5);
    std::map<std::string, Pairing> want = {{"patch_embed.proj", Pairing::LxU}, {"blocks.0.attn.qkv", Pairing::LxU},
                                           {"blocks.0.attn.matmul1", Pairing::UxU}, {"blocks.0.attn.matmul2", Pairing::UxA},
                                           {"blocks.0.attn.proj", Pairing::LxU}, {"blocks.0.mlp.fc1", Pairing::LxU},
                                           {"blocks.0.mlp.fc2", Pairing::LxA}, {"head", Pairing::LxU}};
    for (const auto& [name, p] : want) {
      INFO(name);
      const QLayer l = src(name, *mods.at(name));
      CHECK(l.pairing == p);
      if (p == Pairing::LxU || p == Pairing::LxA) {
        CHECK(l.hw.mant_frac_bits == 1);
        CHECK(!l.w_log.empty());
        CHECK(l.w_codes.empty());
      }
    }
    auto* fc2 = mods.at("blocks.0.mlp.fc2")->as<nn::LinearImpl>();
    const QLayer l = src("blocks.0.mlp.fc2", *fc2);
    const at::Tensor w_hat = (*adalog::layer_hooks(*fc2, "fc2").weight)(fc2->weight);
    const at::Tensor folded = fc2->bias - w_hat.sum(1) * kGeluShift;
    REQUIRE(l.bias.size() == size_t(folded.numel()));
    for (int64_t o = 0; o < folded.numel(); ++o) CHECK(l.bias[size_t(o)] == folded[o].item<float>());
    CHECK(l.x_adalog.shift == kGeluShift);
  }
}

TEST_CASE("AdaLog's openings for fulllog: training-form hooks pass gradients, fixed weights skip the weight search and the reparameterization", "[fulllog][adalog]") {
  auto net = tiny_vit(2);
  at::manual_seed(3);
  const at::Tensor images = at::randn({8, 1, 16, 16});
  adalog::Options o;
  o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 4;
  o.progress = false;
  adalog::QuantModel qm = adalog::calibrate(net, "vit", images, o, [](const std::string&) {});
  // Eval form: rounding without a straight-through estimator, so nothing reaches the image; the
  // training form (LogART's LLR with activations in the loop) passes gradients.
  for (const bool train : {false, true}) {
    adalog::install(qm, true, {train, true});
    const at::Tensor x = images.clone().set_requires_grad(true);
    net->forward(x).sum().backward();
    const double g = x.grad().defined() ? x.grad().abs().sum().item<double>() : 0.0;
    INFO("train " << train);
    CHECK((g > 0) == train);
  }
  // weights = false leaves a weight hook alone.
  auto mods = modules(*net);
  auto* fc1 = mods.at("blocks.0.mlp.fc1")->as<nn::LinearImpl>();
  fc1->weight_hook = [](const at::Tensor& w) { return w * 0; };
  adalog::install(qm, true, {false, false});
  REQUIRE(fc1->weight_hook);
  CHECK(at::equal(fc1->weight_hook(fc1->weight), fc1->weight * 0));
  adalog::install(qm, false);
  // fixed_weight: only activations are searched, with the given weights; no second reparameterization.
  auto* ln = mods.at("blocks.0.norm1")->as<torch::nn::LayerNormImpl>();
  const at::Tensor gamma = ln->weight.detach().clone();
  std::map<std::string, int> asked;
  o.fixed_weight = [&asked](const std::string& layer, const at::Tensor& w) {
    ++asked[layer];
    return w;
  };
  adalog::QuantModel again = adalog::calibrate(net, "vit", images, o, [](const std::string&) {});
  CHECK(at::equal(ln->weight, gamma));
  for (const auto& l : again.layers) {
    INFO(l.name);
    if (l.kind == "matmul1" || l.kind == "matmul2") continue;
    CHECK(!l.w.defined());  // no weight search
    if (l.kind != "conv") CHECK(asked[l.name] > 0);
    if (l.kind == "linear" || l.kind == "reparam" || l.kind == "head") CHECK(l.a.defined());
  }
}
