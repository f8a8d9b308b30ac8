// Builds the .lqm layer graph (docs/lqm.md) of a model from the model file's own description of
// its forward (Net::export_graph): GEMM layers by module name, float ops between them. The
// quantization method supplies each GEMM's integer form through `GemmSource`; the builder fills
// in the shapes (it tracks every value's per-image shape with golden/'s shape rules).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "golden/network.h"

namespace torch::nn {
class Module;
}

namespace logq {

class GraphBuilder {
 public:
  // name, module → the layer's weights, operand formats and bias (shapes are filled in here).
  using GemmSource = std::function<QLayer(const std::string& name, torch::nn::Module& module)>;
  GraphBuilder(GemmSource source, Shape input_shape, nlohmann::json model);

  static constexpr const char* kInput = "image";
  const Shape& shape(const std::string& value) const { return shapes_.at(value); }

  // GEMM layers; each returns its output value (named after the layer).
  std::string gemm(const std::string& name, torch::nn::Module& module, const std::string& x);
  std::string matmul(const std::string& name, torch::nn::Module& module, const std::string& a, const std::string& b);
  // A BatchNorm2d: nothing once folded into its conv, else a `batchnorm2d` float op.
  std::string batchnorm(const std::string& name, torch::nn::Module& bn, const std::string& x);
  // A float op; `tensors` are its float parameters by role (stored as F32 under name.role).
  std::string op(const std::string& name, const std::string& op, const std::vector<std::string>& inputs,
                 const nlohmann::json& attrs = nlohmann::json::object(), const std::map<std::string, at::Tensor>& tensors = {});

  // The graph output; then graph()/tensors() are complete.
  void finish(const std::string& output);
  nlohmann::json& graph() { return graph_; }
  SafetensorsWriter& tensors() { return writer_; }
  // Every GEMM layer added so far, in order (for sample codes and reports).
  const std::vector<QLayer>& gemms() const { return gemms_; }

 private:
  GemmSource source_;
  nlohmann::json graph_;
  SafetensorsWriter writer_;
  std::map<std::string, Shape> shapes_;
  std::vector<QLayer> gemms_;
};

class Net;

// Writes `net` as an .lqm: its graph (Net::export_graph) with the method's GEMMs, and, for the
// first images of `samples` ([N, C, H, W], preprocessed), what the fake-quant model computes:
// each GEMM's input codes (its float input through golden's encoder) as samples/<layer>.x
// (matmul also .b), the images (samples/images), logits (samples/logits) and labels.
// `net` must have its quantizers installed; its hooks are restored afterwards.
void export_lqm(Net& net, const GraphBuilder::GemmSource& source, nlohmann::json model, const at::Tensor& samples,
                const std::vector<int64_t>& labels, const std::string& path, const std::string& producer);

}  // namespace logq
