// MobileNetV2 in the two layouts logq's users have:
//  - "torchvision" (torchvision 0.14): ConvBNReLU6 blocks nested as Sequential(conv, bn, relu6), so
//    keys are `features.1.conv.0.0.weight`; channels rounded with _make_divisible(.., 8);
//    last channel 1280 * max(1, width_mult); classifier = Sequential(Dropout, Linear).
//  - "brecq" (BRECQ / LogART-CNN models/mobilenetv2.py): flat Sequential(conv, bn, relu6, ...) per
//    block (`features.1.conv.3.weight`), channels int(c * width_mult) with no rounding, hidden
//    round(inp * t), last channel 1280 unless width_mult > 1; mean pool; classifier.1.
// Both: ReLU6, residual where stride 1 and in == out.
//
// Config keys: layout, width_mult, in_chans, num_classes, dropout, stem_stride, last_channel,
// inverted_residual_setting ([[t, c, n, s], ...]).
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>

#include "io/error.h"
#include "quant/models/config.h"
#include "quant/export/graph.h"
#include "quant/models/models.h"

namespace logq {
namespace {

struct MobileNetV2Config {
  std::string layout = "torchvision";
  double width_mult = 1.0, dropout = 0.2;
  int64_t in_chans = 3, num_classes = 1000, stem_stride = 2, last_channel = 1280;
  std::vector<std::array<int64_t, 4>> setting{
      {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
};

// torchvision's _make_divisible: nearest multiple of 8, never 10 % below v.
int64_t make_divisible(double v, int64_t d = 8) {
  int64_t r = std::max<int64_t>(d, int64_t(v + d / 2.0) / d * d);
  if (double(r) < 0.9 * v) r += d;
  return r;
}

// A Sequential of convs, BNs and ReLU6s (ConvBNReLU nested in it too), each named by its path.
std::string export_sequential(GraphBuilder& g, torch::nn::SequentialImpl& s, const std::string& p, std::string x) {
  for (size_t i = 0; i < s.size(); ++i) {
    const std::string n = fmt::format("{}.{}", p, i);
    auto m = s.ptr(i);
    if (m->as<nn::Conv2dImpl>()) x = g.gemm(n, *m, x);
    else if (m->as<nn::BatchNorm2dImpl>()) x = g.batchnorm(n, *m, x);
    else if (m->as<torch::nn::ReLU6Impl>()) x = g.op(n, "relu6", {x});
    else if (auto* sub = m->as<torch::nn::SequentialImpl>()) x = export_sequential(g, *sub, n, x);
    else throw Error(fmt::format("export: module '{}' of MobileNetV2 has no graph form", n));
  }
  return x;
}

// torchvision's Conv2dNormActivation: a Sequential(conv, bn, relu6) that can nest in a Sequential.
class ConvBNReLUImpl : public torch::nn::SequentialImpl {
 public:
  ConvBNReLUImpl(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups) {
    nn::Conv2d conv(nn::ConvSpec{in, out, k, stride, (k - 1) / 2, groups, false});
    conv->fused_act = "relu6";
    push_back(conv);
    push_back(nn::batch_norm(out));
    push_back(torch::nn::ReLU6());
  }
  at::Tensor forward(at::Tensor x) { return SequentialImpl::forward(x); }
};
TORCH_MODULE(ConvBNReLU);

ConvBNReLU conv_bn_relu(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t groups) {
  return ConvBNReLU(in, out, k, stride, groups);
}

class InvertedResidualImpl : public torch::nn::Module {
 public:
  InvertedResidualImpl(bool brecq, int64_t inp, int64_t oup, int64_t stride, int64_t t)
      : residual_(stride == 1 && inp == oup) {
    const int64_t hidden = int64_t(std::nearbyint(double(inp) * double(t)));
    torch::nn::Sequential conv;
    auto pw = [&](int64_t i, int64_t o) { return nn::Conv2d(nn::ConvSpec{i, o, 1, 1, 0, 1, false}); };
    auto dw = [&](int64_t c) { return nn::Conv2d(nn::ConvSpec{c, c, 3, stride, 1, c, false}); };
    auto relu6 = [](nn::Conv2d c) { c->fused_act = "relu6"; return c; };
    if (brecq) {
      if (t != 1) {
        conv->push_back(relu6(pw(inp, hidden)));
        conv->push_back(nn::batch_norm(hidden));
        conv->push_back(torch::nn::ReLU6());
      }
      conv->push_back(relu6(dw(hidden)));
      conv->push_back(nn::batch_norm(hidden));
      conv->push_back(torch::nn::ReLU6());
    } else {
      if (t != 1) conv->push_back(conv_bn_relu(inp, hidden, 1, 1, 1));
      conv->push_back(conv_bn_relu(hidden, hidden, 3, stride, hidden));
    }
    conv->push_back(pw(hidden, oup));
    conv->push_back(nn::batch_norm(oup));
    this->conv = register_module("conv", conv);
  }
  at::Tensor forward(const at::Tensor& x) {
    at::Tensor y = conv->forward(x);
    return residual_ ? x + y : y;
  }
  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x) {
    const std::string y = export_sequential(g, *conv, p + ".conv", x);
    return residual_ ? g.op(p + ".add", "add", {x, y}) : y;
  }
  torch::nn::Sequential conv{nullptr};

 private:
  bool residual_;
};
TORCH_MODULE(InvertedResidual);

class MobileNetV2 : public Net {
 public:
  explicit MobileNetV2(const MobileNetV2Config& c) {
    const bool brecq = c.layout == "brecq";
    auto channels = [&](double v) { return brecq ? int64_t(v * c.width_mult) : make_divisible(v * c.width_mult); };
    int64_t in = channels(32);
    const int64_t last = brecq ? (c.width_mult > 1.0 ? int64_t(std::ceil(c.last_channel * c.width_mult / 8.0)) * 8 : c.last_channel)
                               : make_divisible(double(c.last_channel) * std::max(1.0, c.width_mult));
    features = register_module("features", torch::nn::Sequential());
    features->push_back(conv_bn_relu(c.in_chans, in, 3, c.stem_stride, 1));
    for (const auto& [t, ch, n, s] : c.setting) {
      const int64_t out = channels(double(ch));
      for (int64_t i = 0; i < n; ++i) {
        features->push_back(InvertedResidual(brecq, in, out, i == 0 ? s : 1, t));
        in = out;
      }
    }
    features->push_back(conv_bn_relu(in, last, 1, 1, 1));
    classifier = register_module("classifier", torch::nn::Sequential(torch::nn::Dropout(c.dropout), nn::Linear(last, c.num_classes)));
    num_classes = c.num_classes;
  }

  at::Tensor forward(const at::Tensor& img) override {
    at::Tensor x = img;
    for (size_t i = 0; i < features->size(); ++i) {
      x = features[i]->as<InvertedResidualImpl>() ? features[i]->as<InvertedResidualImpl>()->forward(x)
                                                  : features[i]->as<ConvBNReLUImpl>()->forward(x);
      emit(fmt::format("features.{}", i), x);
    }
    return classifier->forward(x.mean({2, 3}));
  }

  // BRECQ's units: first conv layer, each inverted residual block, last 1x1 conv layer, pool, classifier.
  std::vector<Stage> stages() override {
    std::vector<Stage> st;
    for (size_t i = 0; i < features->size(); ++i) {
      auto m = features->ptr(i);
      if (auto ir = features[i]->as<InvertedResidualImpl>())
        st.push_back({fmt::format("features.{}", i), "block", m, [ir](const at::Tensor& x) { return ir->forward(x); }});
      else
        st.push_back({fmt::format("features.{}", i), "layer", m, [c = features[i]->as<ConvBNReLUImpl>()](const at::Tensor& x) { return c->forward(x); }});
    }
    st.push_back({"avgpool", "glue", nullptr, [](const at::Tensor& x) { return x.mean({2, 3}); }});
    st.push_back({"classifier", "layer", classifier.ptr(), [this](const at::Tensor& x) { return classifier->forward(x); }});
    return st;
  }

  void export_graph(GraphBuilder& g) override {
    std::string x = GraphBuilder::kInput;
    for (size_t i = 0; i < features->size(); ++i) {
      const std::string n = fmt::format("features.{}", i);
      if (auto ir = features[i]->as<InvertedResidualImpl>()) x = ir->export_graph(g, n, x);
      else x = export_sequential(g, *features[i]->as<torch::nn::SequentialImpl>(), n, x);
    }
    x = g.op("avgpool", "adaptive_avgpool2d", {x}, {{"output_size", 1}});
    g.finish(g.gemm("classifier.1", *classifier->ptr(1), x));  // classifier.0: dropout, the identity in eval
  }
  torch::nn::Sequential features{nullptr}, classifier{nullptr};
};

}  // namespace

std::shared_ptr<Net> make_mobilenetv2(const nlohmann::json& j) {
  MobileNetV2Config c;
  config_get(j, "layout", c.layout);
  config_get(j, "width_mult", c.width_mult);
  config_get(j, "in_chans", c.in_chans);
  config_get(j, "num_classes", c.num_classes);
  config_get(j, "dropout", c.dropout);
  config_get(j, "stem_stride", c.stem_stride);
  config_get(j, "last_channel", c.last_channel);
  config_get(j, "inverted_residual_setting", c.setting);
  if (c.layout != "torchvision" && c.layout != "brecq") throw Error(fmt::format("mobilenetv2: layout '{}' is not torchvision|brecq", c.layout));
  if (c.width_mult <= 0) throw Error("mobilenetv2: width_mult must be > 0");
  return std::make_shared<MobileNetV2>(c);
}

}  // namespace logq
