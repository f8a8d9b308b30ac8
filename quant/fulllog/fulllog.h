// Fully-log transformers (logq's own method, not a reference one): every weight of a ViT/DeiT/Swin
// as LogART (dynamic-base log codes, DBS + LLR) and the activations as AdaLog's plan (AdaLog for
// post-softmax and post-GELU, uniform elsewhere, LayerNorm reparameterization). The GEMMs become
// L×U (qkv, proj, fc1, head, reduction, patch embed), L×A (fc2) and the attention matmuls U×U / U×A.
//
// Neither reference combines the two, so the order is a choice (docs/results.md measures both):
//   acts-first:    AdaLog calibrates on the FP model (its uniform weights are discarded), then DBS
//                  and LLR run on the reparameterized model with AdaLog's activation quantizers in
//                  the loop (DBS sees quantized inputs; LLR's QDrop blocks quantize inside, with
//                  straight-through rounding so gradients pass).
//   weights-first: AdaLog's first pass only for the reparameterization, DBS + LLR on float
//                  activations (LogART-ViT as published), then AdaLog searches every activation
//                  quantizer again with the LogART weights fixed in its output metric.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "quant/adalog/adalog.h"
#include "quant/export/graph.h"
#include "quant/logart/logart.h"

namespace logq {
class Net;
}

namespace logq::fulllog {

enum class Order { ActsFirst, WeightsFirst };
Order parse_order(const std::string& s);  // acts-first | weights-first
std::string to_string(Order o);

struct Options {
  adalog::Options act;   // activation plan and FPCS (its weight bits are ignored: weights are LogART's)
  logart::Options w;     // LogART: bits, DBS, LLR, K
  Order order = Order::ActsFirst;
};

struct Model {
  adalog::QuantModel acts;        // its net carries the reparameterization, its layers the activation quantizers
  logart::QuantizedModel weights; // the same net; per layer the LogART parameters
  double calib_seconds = 0;       // AdaLog (both passes for weights-first)
};

// Quantizes `net` (FP, loaded from the checkpoint; modified: reparameterized, hooks installed).
// `fp_copy` is a second instance of the same model (the FP reference LogART's objectives use; it
// receives the reparameterized weights). `calib` are AdaLog's calibration images, `search` and
// `llr` LogART's. `on_adalog` (optional) sees the AdaLog-only model (uniform weights, activations
// calibrated on FP weights) installed on `net` before LogART starts: the baseline at the same bits.
Model quantize(std::shared_ptr<Net> net, std::shared_ptr<Net> fp_copy, const std::string& family, const at::Tensor& calib,
               const at::Tensor& search, const at::Tensor& llr, const Options& opt,
               const std::function<void(const std::string&)>& log, const std::function<void(Net&)>& on_adalog = {});

// Installs the fake-quant model for evaluation: LogART weights with odd-level factor k_odd (1.5:
// 1+1/2; 0: exact √2) and AdaLog's activation quantizers (bias unfolded: AdaLog(x + shift) − shift).
void apply(Model& m, double k_odd);

// The integer form of every GEMM: LogART L(n) weights with the mantissa of k_odd, AdaLog's input
// formats (L×U / L×A; matmuls U×U / U×A), the post-GELU shift folded into fc2's bias with the
// LogART weights: b − shift·Σ_i Ŵ[o, i].
GraphBuilder::GemmSource export_source(const Model& m, double k_odd);

}  // namespace logq::fulllog
