// LogART (spec/logart.md): log-coded weights with a per-row dynamic base, Dynamic Base Search
// (DBS) and Learnable Logarithmic Rounding (LLR), for CNNs (§5) and ViTs (§6).
//
// The codebook, the rounding/clamp rules and the dequantized float32 values all come from
// golden/formats (logart_row, logart_encode_k, logart_decode_ref): this file only searches the
// per-row parameters (s, c2) and learns the per-element rounding direction.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "golden/formats.h"
#include "quant/export/graph.h"
#include "quant/hw_path/hw_path.h"

namespace logq {
class Net;
class Dataset;
}  // namespace logq

namespace logq::logart {

enum class ScaleMethod { Log2, LogSqrt2, LogDynamic };
enum class SearchMethod { None, TensorWise, LayerWise, BlockWise };
ScaleMethod parse_scale_method(const std::string& s);    // log_2 | log_sqrt2 | log_dynamic
SearchMethod parse_search_method(const std::string& s);  // none | tensor_wise | layer_wise | block_wise
std::string to_string(ScaleMethod m);
std::string to_string(SearchMethod m);

// The 100 clip ratios of DBS exactly as the reference's torch.arange(1.0, 0.0, -0.01) fills them
// on an 8-wide CPU (fixtures/README "Surprises" 1): blocks of 8 from float32 block starts.
const std::vector<float>& scale_grid();
// c2 candidates N, N-2, ..., 0 (log_dynamic), N (log_2) or 0 (log_sqrt2).
std::vector<int> c2_candidates(int n_bits, ScaleMethod m);

// Per-row LogART parameters of one weight tensor viewed as [rows, cols].
struct WeightQuant {
  std::string name;
  int n_bits = 4;
  ScaleMethod method = ScaleMethod::LogDynamic;
  bool sym = false;
  double k_odd = 0;  // odd-exponent √2 ≈ K (1.5 = --hardware-approx; 0 = exact)
  M2Rounding m2 = M2Rounding::Floor;
  int64_t rows = 0, cols = 0;
  std::vector<float> xplus, xminus;  // per row, from the FP weight (codebooks use the unscaled range)
  std::vector<float> scale;          // per row clip ratio s
  std::vector<int32_t> s_idx, c2;    // grid index of s, chosen c2
  std::vector<LogArtRow> book;       // codebook of the chosen c2
  std::vector<uint8_t> round_up;     // after LLR: per element k = ⌊u⌋ + round_up (empty: nearest)

  bool sqrt2_branch() const { return method == ScaleMethod::LogSqrt2; }
  // Sets x⁺/x⁻ from w (an Error naming the layer and row for an all-zero row) and s = 1, c2 = the
  // method's first candidate.
  void init(const at::Tensor& w);
  void set_row(int64_t r, int32_t s_index, int32_t c2v);
  // Per element codes and float32 dequantized weight (golden's definitions).
  LogWeight code(int64_t r, int64_t i, float w) const;
  at::Tensor quantize(const at::Tensor& w) const;  // same shape as w
};

// Quantizes row r of `w` (contiguous float, `cols` values) with candidate (s, c2) into out.
void quantize_row_candidate(const float* w, int64_t cols, const LogArtRow& row, float s, bool sqrt2_branch, double k_odd,
                            float* out);

// DBS, tensor-wise: err_r = Σ_i (q(w_ri) − w_ri)², s outer (1.00 first), c2 inner, strict <.
// err_table (optional) receives [100][#c2][rows].
void dbs_tensor_wise(WeightQuant& q, const at::Tensor& w, std::vector<float>* err_table = nullptr);

// DBS with data: `run(Ŵ)` returns the layer's output tensor [B, rows, ...] (channels in dim 1) or
// [B, ..., rows] (tokens/linear: last dim), `target` the same shape; err_r = Σ over all but the
// row dim of (run(Ŵ) − target)², accumulated in double. `channels_last` says which dim is rows.
void dbs_with_data(WeightQuant& q, const at::Tensor& w, const std::function<at::Tensor(const at::Tensor&)>& run,
                   const at::Tensor& target, bool channels_last, int jobs = 1);

// Learnable rounding of one weight tensor: the soft forward in ATen ops (gradient to α only),
// following §4 and golden's clamp rules; hard() gives golden's codes for k = ⌊u⌋ + [α ≥ 0].
class LlrWeight {
 public:
  LlrWeight(const WeightQuant& q, const at::Tensor& w);
  at::Tensor soft() const;           // differentiable in alpha
  at::Tensor round_loss(double beta) const;  // Σ (1 − |2h(α) − 1|^β)
  std::vector<uint8_t> hard_round_up() const;
  at::Tensor alpha;                  // requires grad

 private:
  at::Tensor h() const;
  at::Tensor f_, b_, z_, Lm1_, lo_, zc_, sgn_, s_, sqrt2_;
  double k_odd_;
  std::vector<int64_t> shape_;
};

// ---- pipelines ---------------------------------------------------------------------------
struct Options {
  int w_bits = 4;
  ScaleMethod scale_method = ScaleMethod::LogDynamic;
  SearchMethod search_method = SearchMethod::LayerWise;
  bool sym = false;
  double k_odd = 0;                  // --hardware-approx: K = 1.5 (1+1/2) in DBS, LLR and test; 0 exact
  bool test_with_hw_approx = false;  // only the final evaluation uses K
  // ViT: the reference applies --hardware_approx to DBS only (its search copy); LLR and test run
  // with exact √2 unless --test_with_hardware_approx. true = K in LLR and test too (logq option).
  bool vit_approx_everywhere = false;
  M2Rounding m2 = M2Rounding::Floor;
  int64_t search_samples = 32;       // DBS images (CNN 32, ViT 128)
  int64_t search_batch = 32;         // ViT DBS chunk
  // LLR
  bool llr = true;
  int64_t calib_samples = 2048, iters = 2000, recon_batch = 32;
  double lr = 0.05, round_weight = 1.0, warmup = 0.2, b_start = 20.0, b_end = 2.0;
  double lr_min_ratio = 0.3;          // CNN: cosine to 0.3·lr; ViT: lr constant (ratio 1)
  // ViT block reconstruction (§6)
  std::string optim_metric = "hessian_perturb";  // | "mse"
  bool use_mean_hessian = true;
  double temp = 20.0;
  std::string optim_mode = "qdrop";  // qinp | rinp | qdrop
  double drop_prob = 0.5;
  // Hardware-path activations (not in the reference): U(act_bits) per tensor on every GEMM input.
  int act_bits = 0;
  uint64_t seed = 0;
  bool progress = true;
  // DBS candidates evaluated at once, in threads of this process (one ATen thread each); the
  // chosen bases equal jobs = 1's (ties go to the earlier candidate, as in one loop).
  int jobs = 1;
  // The transformer pipeline (block-wise DBS, §6 LLR) for a net without a ViT pos_embed stage (Swin).
  bool transformer = false;
  // fulllog: called with true before each unit's LLR iterations and false after, so activation
  // quantizers already installed on the quantized net run in their training (straight-through) form.
  std::function<void(bool)> act_training;
};

// A quantized model: the net (BN folded for CNNs) with weight hooks installed, and per layer
// its LogART parameters.
struct QuantizedModel {
  std::shared_ptr<Net> net;
  std::vector<std::pair<std::string, WeightQuant>> layers;
  std::vector<ActQuant> acts;  // U(b) GEMM-input quantizers of the hardware path (quant/hw_path)
  double search_seconds = 0, llr_seconds = 0;
};

// Which images a search/calibration step takes and how they are prepared.
struct ImageDraw {
  int64_t n = 0;               // images drawn with `seed` when `list` is empty
  uint64_t seed = 0;           // the draw, the shuffle into loader order and the augmentation
  std::vector<int64_t> list;   // the user's images (read_image_list): exactly these, n is ignored
  bool augment = true;         // the references' train transform applied once; false: the eval transform
  bool numpy = false;          // numpy_permutation(size, seed)[:n] in that order: the references' own draw
};
// The images' dataset indices in the order they are used: `n` chosen with `seed` (or the list),
// shuffled with `seed` as a shuffled loader would. A list of every image of a folder gives the
// same order as the folder itself with n = its size.
std::vector<int64_t> draw_order(const Dataset& ds, const ImageDraw& d);
// The images of draw_order(), preprocessed: with `augment`, the model's train augmentation
// applied once (CIFAR/FMNIST-sized: pad-crop + flip; larger: timm RandomResizedCrop + flip +
// jitter), drawn from the generator that shuffled them; without, the eval transform.
at::Tensor sample_images(const Net& net, const Dataset& ds, const ImageDraw& d);
at::Tensor sample_images(const Net& net, const Dataset& ds, int64_t n, uint64_t seed);

// Runs DBS and (optionally) LLR on `fp` (unchanged) and returns the quantized copy `q` (built by
// the caller from the same config/checkpoint: the pipeline folds BN in both).
// With `searched` (parameters loaded from a DBS-only --save file) the search is skipped.
// `on_searched`, when set, sees the DBS result (nearest rounding) before LLR starts: the DBS-only
// accuracy every paper prints as its ablation.
using LayerParams = std::vector<std::pair<std::string, WeightQuant>>;
QuantizedModel quantize(Net& fp, std::shared_ptr<Net> q, const at::Tensor& search_images, const at::Tensor& calib_images,
                        const Options& opt, const std::function<void(const std::string&)>& log,
                        const QuantizedModel* searched = nullptr, const std::function<void(const LayerParams&)>& on_searched = {});

// Installs golden-exact fake-quant weights (odd √2 factor K as given, 0 = exact) and, when act_bits > 0, the
// calibrated activation quantizers.
void apply(QuantizedModel& qm, double k_odd, int act_bits);
// Quantized checkpoint: per layer s_idx/c2/scale (+ LLR round_up), activation ranges, metadata.
// Loading needs the FP net (BN folded) in qm.net and the options the file was made with.
void save_quantized(const QuantizedModel& qm, const std::string& path, const std::map<std::string, std::string>& meta);
void load_quantized(QuantizedModel& qm, const std::string& path, const Options& opt);
// Calibrates per-tensor U(bits) min/max activation quantizers of every GEMM input: each
// Conv2d/Linear input and both operands of each attention MatMul ("<name>.a", "<name>.b").
void calibrate_activations(QuantizedModel& qm, const at::Tensor& images, int bits);

// The integer form of every GEMM for .lqm export: L(n) weights (per-row codebook, the chosen
// rounding) and U(act_bits) inputs from qm.acts; act_bits = 0 leaves conv/linear inputs F32 (the
// reference's float activations; matmuls then cannot be exported). The odd mantissa is 1+1/2 for
// K = 1.5, the exact fraction for the finer K (1.4375 = 23/16, 1.421875 = 91/64), and
// round(√2·2^23)/2^23 = float32(√2) for exact √2.
GraphBuilder::GemmSource export_source(const QuantizedModel& qm, double k_odd, int act_bits);
int mantissa_frac_bits(double k_odd);

}  // namespace logq::logart
