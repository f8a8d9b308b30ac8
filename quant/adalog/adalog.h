// AdaLog (spec/adalog.md): which tensors of a ViT/DeiT/Swin are quantized how (§2), and the
// FPCS calibration that searches every quantizer on the FP model's own activations (§3).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json_fwd.hpp>

#include "quant/adalog/quantizers.h"
#include "quant/export/graph.h"
#include "quant/models/layers.h"

namespace logq {
class Net;
}

namespace logq::adalog {

struct Options {
  int w_bit = 4, a_bit = 4, s_bit = 4, qhead_a_bit = 4, qconv_a_bit = 8;
  // calib_batch_size: the reference chunks its searches over images and sums per-image errors
  // over chunks; calibrate() takes the whole set at once (the same sums), so it is kept for
  // config parity only.
  int64_t calib_size = 32, calib_batch_size = 32;
  int eq_n = 128, search_round = 3, steps = 6;
  bool fpcs = true;
  bool matmul_head_channel_wise = true;
  std::string post_softmax_quantizer = "adalog";  // adalog | log2 | logsqrt2
  std::string post_gelu_quantizer = "adalog";     // adalog | log2 | logsqrt2 | ptq4vit | (else) uniform
  // Faithfulness switches: the reference's FPCS stages never re-evaluate the previous best
  // (offsets exclude 0, pitfall 6), so its final pick can be worse than an earlier stage's; true
  // returns the best candidate seen in any stage (a logq improvement, measured in docs/results.md).
  bool fpcs_keep_best = false;
  // The reference's weight grid puts the zero points around 2^(b−1) whatever the row holds, so a
  // row whose values are all of one sign cannot be represented (it clips at about half its range;
  // seen on filters of 4 weights). true: scales span the range including 0 and each row's zero
  // points centre on round(−min/s) (logq option).
  bool weight_zero_from_range = false;
  bool progress = true;
  // Layers of one block calibrated at once, in threads of this process (one ATen thread each).
  // The searches of a block are independent, so any value gives the same parameters as 1.
  int jobs = 1;
  // fulllog's second pass: every layer's weight is fixed (LogART's dequantized Ŵ of a layer, given
  // its name and current FP weight); only activations are searched, with Ŵ in the output metric,
  // and LayerNorms are not reparameterized again (the first pass did it).
  std::function<at::Tensor(const std::string& layer, const at::Tensor& w)> fixed_weight;
};

// Uniform asymmetric quantizer parameters, broadcastable against the tensor they quantize.
struct Uniform {
  int bits = 8;
  at::Tensor s, z;
  bool defined() const { return s.defined(); }
  at::Tensor operator()(const at::Tensor& x, bool train = false) const { return uniform_fq(x, s, z, bits, train); }
};

// One wrapped module (spec §2 table) and its searched parameters.
struct QLayer {
  std::string name;
  std::string kind;  // linear | reparam | post_gelu | head | conv | matmul1 | matmul2
  Uniform w, a;      // weight (per row / out-channel) and input (per tensor); matmul: A and B (per head)
  Uniform b;         // matmul B
  AdaLogParams alog;  // fc2 input (post-GELU) or matmul2 A (post-softmax)
  std::string log_kind = "adalog";  // adalog | log2 | logsqrt2 | ptq4vit | uniform (post-GELU / softmax)
  double twin_s0 = 0, twin_s1 = 0;
  bool bias_folded = false;
};

struct QuantModel {
  std::shared_ptr<Net> net;
  std::vector<QLayer> layers;
  double calib_seconds = 0;
};

// Which module of `net` gets which quantizer (names as in timm 0.9.2); an Error for families
// AdaLog does not support.
std::vector<QLayer> plan(Net& net, const std::string& family, const Options& opt);

// FPCS calibration (§3) on `images` (the calibration set, already augmented and normalised).
// Modifies LayerNorms/linears for the qkv/fc1/reduction reparameterization.
QuantModel calibrate(std::shared_ptr<Net> net, const std::string& family, const at::Tensor& images, const Options& opt,
                     const std::function<void(const std::string&)>& log);

// FPCS (§3.2) on candidate grids s, z [K, G] whose first-stage spacing is step [G];
// metric(s[G], z[G]) returns the error [G] of one candidate for every group. Returns the chosen
// (s, z) [G]. calibrate() runs it on its percentile grids; exposed for tests.
using FpcsMetric = std::function<at::Tensor(const at::Tensor& s, const at::Tensor& z)>;
std::pair<at::Tensor, at::Tensor> fpcs_search(const at::Tensor& s, const at::Tensor& z, const at::Tensor& step,
                                              const FpcsMetric& metric, const Options& opt, double clamp_min = 0.0);

// §3.4 step 2: per-channel (s_c, z_c) of a LayerNorm's output → one per-tensor (s*, z*):
// r = s_c/s*, b = s*(z* − z_c); LN γ/r, β/r − b; linear W·diag(r), bias + W'·b. Exact: the
// per-tensor codes of the new LN output equal the per-channel codes of the old one.
struct Reparam { at::Tensor s, z, r, b; };
Reparam reparameterize(torch::nn::LayerNormImpl& ln, nn::LinearImpl& lin, const at::Tensor& s_c, const at::Tensor& z_c);

// The input and weight hooks of a wrapped Linear or Conv2d (an Error for other modules).
struct LayerHooks { nn::TensorFn* input; nn::TensorFn* weight; at::Tensor* w; };
LayerHooks layer_hooks(torch::nn::Module& m, const std::string& name);

// Installs the fake quantizers as hooks; `on=false` removes them (FP). `train`: the
// reconstruction-mode forward (straight-through rounding, exact AdaLog decode) so gradients pass;
// `weights = false` leaves the weight hooks alone (fulllog: LogART owns the weights).
struct InstallMode {
  bool train = false;
  bool weights = true;
};
void install(QuantModel& qm, bool on, const InstallMode& mode = {});
// Block reconstruction (§4.5, `--optimize`): blocks = Net::stages() units (patch_embed, each
// block / PatchMerging, head), FP inputs and targets, AdaRound + learned activation scales.
struct ReconOptions {
  int64_t optim_size = 1024, iters = 20000, batch = 32, warmup_iters = 4000;
  double lr_w = 1e-3, lr_a = 4e-5, round_weight = 0.01, b_start = 20, b_end = 2;
  bool train_act = true, progress = true;
  uint64_t seed = 5;
};
void reconstruct(QuantModel& qm, const at::Tensor& images, const ReconOptions& ro, const std::function<void(const std::string&)>& log);

// Calibrated (or reconstructed) model ↔ one safetensors file (net state + quantizers + plan).
void save_calibrated(const QuantModel& qm, const nlohmann::json& model_config, const std::string& path,
                     const std::map<std::string, std::string>& meta);
QuantModel load_calibrated(const std::string& path, nlohmann::json* model_config);

// Folds the post-GELU shift into fc2's bias (§1.3): bias −= shift·Σ_i Ŵ[o,i]; then fc2's input
// quantizer returns AdaLog(x + shift) without the − shift.
void fold_post_gelu_bias(QuantModel& qm);

// The hardware path (spec/numerics.md §1 notes): U(bits) per-tensor min/max quantizers on the GEMM
// inputs the reference keeps float — the patch-embed image — from `images`; then install.
void calibrate_float_inputs(QuantModel& qm, const at::Tensor& images, int bits);

// The integer form of every wrapped GEMM for .lqm export (spec/numerics.md §1–2): U(w_bit) weights
// per row, U inputs per tensor (matmul1 both operands per head), post-GELU and post-softmax AdaLog
// A(b, q) with the shift folded into fc2's bias, the patch-embed input F32 (the reference keeps it
// float) unless calibrate_float_inputs gave it a U(b) quantizer. The log2 / logsqrt2 / twin-uniform ablation quantizers have no integer format: an Error.
GraphBuilder::GemmSource export_source(const QuantModel& qm);
// The input side of one layer's integer form: its pairing as if the weights were uniform (U×U /
// U×A) and its x (and matmul b) format. fulllog pairs it with LogART weights.
void set_input_format(const QLayer& q, logq::QLayer& l);

}  // namespace logq::adalog
