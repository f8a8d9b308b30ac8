// One quantized GEMM layer as the hardware sees it — integer weight codes, the input quantizer,
// hardware parameters — and its runner: float input → input codes → integer accumulators →
// float output (spec/numerics.md §4), with per-layer statistics. A layer comes from memory or
// from an .lqm file (docs/lqm.md); both paths are the same struct.
#pragma once
#include <string>
#include <vector>

#include "golden/gemm.h"
#include "golden/graph_shapes.h"
#include "golden/lqm.h"

namespace logq {

// U(b) quantizer parameters: one scale/zero point (per tensor) or one per row / channel / head.
struct UniformParams {
  int bits = 8;
  std::vector<float> scale;
  std::vector<int32_t> zero_point;  // rnd(z): the integer zero point
  float s(int64_t i) const { return scale.size() == 1 ? scale[0] : scale[i]; }
  int32_t z(int64_t i) const { return zero_point.size() == 1 ? zero_point[0] : zero_point[i]; }
};

struct AdaLogParams {
  AdaLogTable table;
  float scale = 1.0f;
  float shift = 0.0f;  // post-GELU: codes of x + shift (the shift is folded into the bias)
};

struct QLayer {
  std::string name;
  LayerOp op = LayerOp::Linear;
  Pairing pairing = Pairing::UxU;
  int64_t out_features = 0, in_features = 0;  // weight rows O and row length K (conv: C/g·kh·kw)
  // Weights (linear, conv2d): U codes + params, or LogART codes + per-row scale.
  std::vector<int32_t> w_codes;
  UniformParams w_uniform;
  std::vector<LogWeight> w_log;
  std::vector<float> w_log_scale;
  int w_log_bits = 4;  // LogART n
  // Input quantizer (the `x` operand; for matmul the `a` operand). x_float: the reference keeps
  // this input in float (AdaLog's patch embedding): no integer path, the network runs it in float32.
  bool x_float = false;
  UniformParams x_uniform;
  AdaLogParams x_adalog;
  // Matmul's second operand `b` (always U, per head) — both matmul operands are activations.
  UniformParams b_uniform;
  int64_t heads = 1;
  std::vector<float> bias;  // [O], may be empty
  Conv2dShape conv;
  HwConfig hw;
};

struct LayerOutput {
  std::vector<int64_t> shape;  // linear [M, O]; conv2d [O, OH, OW]; matmul [H, M, N]
  std::vector<int64_t> acc;
  std::vector<float> y;
  LayerStats stats;
};

// linear: input [M, K]; conv2d: input [C, H, W]; matmul: a [H, M, K] and b [H, K, N] (a @ b).
LayerOutput run_layer(const QLayer& l, const std::vector<float>& input, int64_t rows = 1,
                      const std::vector<float>& b_input = {});
// The same from input codes (encode_x / encode_b below): e.g. another model's codes.
LayerOutput run_layer_codes(const QLayer& l, const std::vector<int32_t>& x, int64_t rows = 1, const std::vector<int32_t>& b = {});

// The input operand codes run_layer computes (U: d = c − z; A: the AdaLog code): `x` is the x/a
// operand (matmul: [H, rows, K], per head), `b` matmul's second operand [H, K, N].
std::vector<int32_t> encode_x(const QLayer& l, const std::vector<float>& x, int64_t rows);
std::vector<int32_t> encode_b(const QLayer& l, const std::vector<float>& b);

// The weight operand as the datapath sees it, [O, K]: U d = c − z, or LogART {sign, odd, k} with
// k relative to each row's floor F_r.
struct WeightOperand {
  std::vector<int32_t> d;
  std::vector<LogWeightInt> l;
};
WeightOperand weight_operand(const QLayer& l);

// The real value of each weight code ([O, K]), as the output scale S[o] sees it.
std::vector<double> weight_values(const QLayer& l);

// Layers of an .lqm file (GEMM ops only); throws Error naming the layer for unsupported fields.
QLayer load_layer(const LqmFile& f, const std::string& name);
// Adds a layer's tensors and its graph entry; `inputs`/`outputs` are graph value names.
void add_layer(nlohmann::json& graph, SafetensorsWriter& w, const QLayer& l,
               const std::vector<std::string>& inputs, const std::vector<std::string>& outputs);

}  // namespace logq
