// Building blocks shared by logq's model files, and the model base class.
//
// Linear, Conv2d and MatMul are logq's own modules (same parameter names as torch.nn) because the
// quantization issues must reach exactly the tensors AdaLog and LogART quantize: each carries
// optional hooks on its inputs and weight. With no hook set they are the float op, nothing more.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "quant/io/torch_checkpoint.h"

namespace logq::nn {

using TensorFn = std::function<at::Tensor(const at::Tensor&)>;

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool bias = true);
  at::Tensor forward(const at::Tensor& x);
  int64_t in_features, out_features;
  at::Tensor weight, bias;          // [out, in], [out] or undefined
  TensorFn input_hook, weight_hook;  // quantizers attach here
  TensorFn output_hook;              // sees (and may replace) the output: calibration capture
};
TORCH_MODULE(Linear);

struct ConvSpec {
  int64_t in, out, kernel, stride = 1, padding = 0, groups = 1;
  bool bias = true;
};

class Conv2dImpl : public torch::nn::Module {
 public:
  explicit Conv2dImpl(const ConvSpec& spec);
  at::Tensor forward(const at::Tensor& x);
  ConvSpec spec;
  at::Tensor weight, bias;  // [out, in/groups, k, k], [out] or undefined
  TensorFn input_hook, weight_hook, output_hook;
  // The activation the model applies right after this conv (+BN): "relu", "relu6" or "".
  // Metadata for LogART's layer-wise search, which fuses it into the layer (spec/logart.md §3).
  std::string fused_act;
};
TORCH_MODULE(Conv2d);

// torch.nn.BatchNorm2d (same parameters, buffers and arithmetic) that can be folded into the
// preceding conv: after fold_into() it is the identity (spec/logart.md §5, BN folding).
class BatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit BatchNorm2dImpl(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  at::Tensor forward(const at::Tensor& x);
  // W' = W·γ/√(σ²+ε), b' = β − γμ/√(σ²+ε) (+ γ·b/√(σ²+ε)); the conv gains a bias if it had none.
  void fold_into(Conv2dImpl& conv);
  at::Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  double eps, momentum;
  bool folded = false;
};
TORCH_MODULE(BatchNorm2d);

// A matrix product of two activations (attention q@k^T and attn@v): AdaLog quantizes both inputs.
class MatMulImpl : public torch::nn::Module {
 public:
  at::Tensor forward(const at::Tensor& a, const at::Tensor& b);
  TensorFn a_hook, b_hook;
};
TORCH_MODULE(MatMul);

// timm's Mlp with GELU (fc1, fc2): the post-GELU activation is fc2's input.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden);
  at::Tensor forward(const at::Tensor& x) { return fc2(at::gelu(fc1(x))); }
  Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

// timm's DropPath: the residual branch dropped per sample with probability p while training.
at::Tensor drop_path(const at::Tensor& x, double p, bool training);

torch::nn::LayerNorm layer_norm(int64_t dim, double eps);
BatchNorm2d batch_norm(int64_t channels);

// timm's trunc_normal_(std) with bounds +-2 (absolute, as timm uses them), and zero bias.
void init_trunc_normal(LinearImpl& l, double std);

}  // namespace logq::nn

namespace logq {

class GraphBuilder;

// Preprocessing a model expects (timm's data config; torchvision's eval transform).
struct DataConfig {
  int64_t in_chans = 3, img_size = 224;
  double crop_pct = 0.875;
  std::string interpolation = "bilinear";  // "bilinear" | "bicubic"
  std::vector<double> mean{0.485, 0.456, 0.406}, std{0.229, 0.224, 0.225};
};

// Every logq model: forward on NCHW float images, logits out. Block outputs can be observed
// by module name (the parity tests compare them with forward hooks of the Python reference).
// One step of a model's forward as a sequence: forward(x) == stages applied in order, bitwise.
// Quantizers reconstruct per stage (BRECQ / AdaLog / LogART units): "layer" = a single conv or
// linear (+ fused activation), "block" = a residual block, "glue" = parameter-free (pooling,
// token/position embedding, final norm + pooling). `module` is the stage's module at `name`.
struct Stage {
  std::string name, kind;
  std::shared_ptr<torch::nn::Module> module;
  std::function<at::Tensor(const at::Tensor&)> run;
};

class Net : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& x) = 0;
  // The stages of forward(); families without a staged form throw an Error naming themselves.
  virtual std::vector<Stage> stages();
  // The forward as an .lqm layer graph (quant/models/graph.h), per image; families without one
  // throw an Error naming themselves.
  virtual void export_graph(GraphBuilder& g);
  std::string arch;  // preset or family name
  DataConfig data;
  int64_t num_classes = 0;
  std::function<void(const std::string& name, const at::Tensor& out)> observe;

 protected:
  void emit(const std::string& name, const at::Tensor& out) const {
    if (observe) observe(name, out);
  }
};

// The model's state dict in PyTorch order (own parameters, own buffers, then children in
// registration order) — the order torch.save writes and the manifests list.
StateDict state_dict(const torch::nn::Module& m);

// Copies `sd` into the model. Strict: the first missing, unexpected or mis-shaped key is an Error
// naming it and `source`. Tensors are converted to each parameter's dtype only if lossless
// (float <-> float, integer buffers as integers).
void load_state_dict(torch::nn::Module& m, const StateDict& sd, const std::string& source);

}  // namespace logq
