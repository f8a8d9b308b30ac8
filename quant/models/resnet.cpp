// ResNet: torchvision's layout (== BRECQ's ResNet-18/50 used by LogART-CNN: same keys, same
// forward) and the CIFAR family of He et al. 2016 as in akamaster/pytorch_resnet_cifar10
// (3x3 stem, three stages, parameter-free option-A shortcut, head named `linear`).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "quant/models/config.h"
#include "quant/export/graph.h"
#include "quant/models/models.h"

namespace logq {
namespace {

using nn::Conv2d;
using nn::ConvSpec;

struct ResNetConfig {
  std::string block = "basic";      // "basic" | "bottleneck"
  std::vector<int64_t> layers{2, 2, 2, 2};
  std::vector<int64_t> widths{64, 128, 256, 512};
  std::string stem = "imagenet";    // "imagenet": 7x7/2 conv + 3x3/2 max pool; "cifar": 3x3/1 conv
  std::string shortcut = "conv";    // "conv": 1x1 conv + BN (torchvision); "option_a": pad channels
  int64_t in_chans = 3, num_classes = 1000;
};

// Where the shape changes, option A subsamples by 2 and pads planes/4 zero channels on each side.
at::Tensor option_a_shortcut(const at::Tensor& x, int64_t planes) {
  const int64_t pad = planes / 4;
  at::Tensor s = x.slice(2, 0, c10::nullopt, 2).slice(3, 0, c10::nullopt, 2);
  return at::constant_pad_nd(s, {0, 0, 0, 0, pad, pad}, 0.0);
}

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ResNetConfig& c, int64_t inplanes, int64_t planes, int64_t stride) {
    bottleneck_ = c.block == "bottleneck";
    const int64_t out = planes * (bottleneck_ ? 4 : 1);
    if (bottleneck_) {
      conv1 = register_module("conv1", Conv2d(ConvSpec{inplanes, planes, 1, 1, 0, 1, false}));
      bn1 = register_module("bn1", nn::batch_norm(planes));
      conv2 = register_module("conv2", Conv2d(ConvSpec{planes, planes, 3, stride, 1, 1, false}));
      bn2 = register_module("bn2", nn::batch_norm(planes));
      conv3 = register_module("conv3", Conv2d(ConvSpec{planes, out, 1, 1, 0, 1, false}));
      bn3 = register_module("bn3", nn::batch_norm(out));
      conv2->fused_act = "relu";
    } else {
      conv1 = register_module("conv1", Conv2d(ConvSpec{inplanes, planes, 3, stride, 1, 1, false}));
      bn1 = register_module("bn1", nn::batch_norm(planes));
      conv2 = register_module("conv2", Conv2d(ConvSpec{planes, planes, 3, 1, 1, 1, false}));
      bn2 = register_module("bn2", nn::batch_norm(planes));
    }
    conv1->fused_act = "relu";
    if (stride != 1 || inplanes != out) {
      if (c.shortcut == "option_a") {
        option_a_planes_ = out;
      } else {
        downsample = register_module("downsample", torch::nn::Sequential(
            Conv2d(ConvSpec{inplanes, out, 1, stride, 0, 1, false}), nn::batch_norm(out)));
      }
    }
  }

  at::Tensor forward(const at::Tensor& x) {
    at::Tensor y = at::relu(bn1(conv1(x)));
    if (bottleneck_) {
      y = at::relu(bn2(conv2(y)));
      y = bn3(conv3(y));
    } else {
      y = bn2(conv2(y));
    }
    at::Tensor identity = x;
    if (!downsample.is_empty()) identity = downsample->forward(x);
    else if (option_a_planes_) identity = option_a_shortcut(x, option_a_planes_);
    return at::relu(y + identity);
  }

  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x) {
    std::string y = g.op(p + ".relu1", "relu", {g.batchnorm(p + ".bn1", *bn1, g.gemm(p + ".conv1", *conv1, x))});
    y = g.batchnorm(p + ".bn2", *bn2, g.gemm(p + ".conv2", *conv2, y));
    if (bottleneck_) {
      y = g.op(p + ".relu2", "relu", {y});
      y = g.batchnorm(p + ".bn3", *bn3, g.gemm(p + ".conv3", *conv3, y));
    }
    std::string id = x;
    if (!downsample.is_empty()) {
      id = g.gemm(p + ".downsample.0", *downsample[0], x);
      id = g.batchnorm(p + ".downsample.1", *downsample[1], id);
    } else if (option_a_planes_) {
      id = g.op(p + ".shortcut.rows", "slice", {x}, {{"dim", 1}, {"start", 0}, {"step", 2}});
      id = g.op(p + ".shortcut.cols", "slice", {id}, {{"dim", 2}, {"start", 0}, {"step", 2}});
      id = g.op(p + ".shortcut", "pad_channels", {id}, {{"before", option_a_planes_ / 4}, {"after", option_a_planes_ / 4}});
    }
    return g.op(p + ".relu", "relu", {g.op(p + ".add", "add", {y, id})});
  }

  Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};

 private:
  bool bottleneck_ = false;
  int64_t option_a_planes_ = 0;
};
TORCH_MODULE(Block);

class ResNet : public Net {
 public:
  explicit ResNet(const ResNetConfig& c) : cifar_(c.stem == "cifar") {
    const int64_t expansion = c.block == "bottleneck" ? 4 : 1;
    int64_t inplanes = c.widths[0];
    if (cifar_)
      conv1 = register_module("conv1", Conv2d(ConvSpec{c.in_chans, inplanes, 3, 1, 1, 1, false}));
    else
      conv1 = register_module("conv1", Conv2d(ConvSpec{c.in_chans, inplanes, 7, 2, 3, 1, false}));
    bn1 = register_module("bn1", nn::batch_norm(inplanes));
    conv1->fused_act = "relu";
    for (size_t s = 0; s < c.layers.size(); ++s) {
      const std::string name = fmt::format("layer{}", s + 1);
      auto stage = torch::nn::Sequential();
      for (int64_t b = 0; b < c.layers[s]; ++b) {
        const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
        stage->push_back(Block(c, inplanes, c.widths[s], stride));
        inplanes = c.widths[s] * expansion;
      }
      stage_list.push_back(register_module(name, stage));
      stage_names.push_back(name);
    }
    head = register_module(cifar_ ? "linear" : "fc", nn::Linear(inplanes, c.num_classes));
    num_classes = c.num_classes;
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor y = at::relu(bn1(conv1(x)));
    if (!cifar_) y = at::max_pool2d(y, 3, 2, 1);
    for (size_t s = 0; s < stage_list.size(); ++s) {
      for (size_t b = 0; b < stage_list[s]->size(); ++b) {
        y = stage_list[s][b]->as<BlockImpl>()->forward(y);
        emit(fmt::format("{}.{}", stage_names[s], b), y);
      }
      emit(stage_names[s], y);
    }
    y = y.mean({2, 3});
    return head(y);
  }

  // BRECQ's units: stem conv (+ReLU) layer, [max pool], each block, average pool, head layer.
  std::vector<Stage> stages() override {
    std::vector<Stage> st;
    st.push_back({"conv1", "layer", conv1.ptr(), [this](const at::Tensor& x) { return at::relu(bn1(conv1(x))); }});
    if (!cifar_) st.push_back({"maxpool", "glue", nullptr, [](const at::Tensor& x) { return at::max_pool2d(x, 3, 2, 1); }});
    for (size_t s = 0; s < stage_list.size(); ++s)
      for (size_t b = 0; b < stage_list[s]->size(); ++b) {
        auto blk = stage_list[s][b]->as<BlockImpl>();
        st.push_back({fmt::format("{}.{}", stage_names[s], b), "block", stage_list[s]->ptr(b), [blk](const at::Tensor& x) { return blk->forward(x); }});
      }
    st.push_back({"avgpool", "glue", nullptr, [](const at::Tensor& x) { return x.mean({2, 3}); }});
    st.push_back({cifar_ ? "linear" : "fc", "layer", head.ptr(), [this](const at::Tensor& x) { return head(x); }});
    return st;
  }

  void export_graph(GraphBuilder& g) override {
    std::string x = g.op("relu", "relu", {g.batchnorm("bn1", *bn1, g.gemm("conv1", *conv1, GraphBuilder::kInput))});
    if (!cifar_) x = g.op("maxpool", "maxpool2d", {x}, {{"kernel", 3}, {"stride", 2}, {"padding", 1}});
    for (size_t s = 0; s < stage_list.size(); ++s)
      for (size_t b = 0; b < stage_list[s]->size(); ++b)
        x = stage_list[s][b]->as<BlockImpl>()->export_graph(g, fmt::format("{}.{}", stage_names[s], b), x);
    x = g.op("avgpool", "adaptive_avgpool2d", {x}, {{"output_size", 1}});
    g.finish(g.gemm(cifar_ ? "linear" : "fc", *head, x));
  }

  Conv2d conv1{nullptr};
  nn::BatchNorm2d bn1{nullptr};
  std::vector<torch::nn::Sequential> stage_list;
  std::vector<std::string> stage_names;
  nn::Linear head{nullptr};

 private:
  bool cifar_;
};

}  // namespace

std::shared_ptr<Net> make_resnet(const nlohmann::json& j) {
  ResNetConfig c;
  config_get(j, "block", c.block);
  config_get(j, "layers", c.layers);
  config_get(j, "widths", c.widths);
  config_get(j, "stem", c.stem);
  config_get(j, "shortcut", c.shortcut);
  config_get(j, "in_chans", c.in_chans);
  config_get(j, "num_classes", c.num_classes);
  if (c.block != "basic" && c.block != "bottleneck") throw Error(fmt::format("resnet: block '{}' is not basic|bottleneck", c.block));
  if (c.stem != "imagenet" && c.stem != "cifar") throw Error(fmt::format("resnet: stem '{}' is not imagenet|cifar", c.stem));
  if (c.shortcut != "conv" && c.shortcut != "option_a") throw Error(fmt::format("resnet: shortcut '{}' is not conv|option_a", c.shortcut));
  if (c.layers.empty() || c.layers.size() != c.widths.size()) throw Error("resnet: 'layers' and 'widths' must be non-empty and of equal length");
  return std::make_shared<ResNet>(c);
}

}  // namespace logq
