// A whole quantized network from an .lqm file, run the way the hardware runs it: every GEMM
// (linear, conv2d, attention matmul) through golden/'s integer MAC/dequant (run_layer), every op
// between GEMMs in float32 (spec/numerics.md §4). Values are per image, without a batch
// dimension: images [C, H, W], token sequences [N, D].
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "golden/graph_shapes.h"
#include "golden/layer.h"
#include "golden/lqm.h"

namespace logq {

struct Tensor {
  Shape shape;
  std::vector<float> v;
};

int64_t numel(const Shape& s);  // unchecked: the file's shapes were checked when it was read

// The output shape of a GEMM layer given its input shapes (linear: [..., K] → [..., O]).
Shape gemm_shape(const QLayer& l, const std::vector<Shape>& inputs);

// Hardware overrides of `logq golden --hw`: unset fields keep each layer's no-overflow default.
// frac_bits applies to AdaLog-input layers only (the others place every term at 2^0).
struct HwOverrides {
  std::optional<int> acc_bits, frac_bits, mant_frac_bits;
  std::optional<ShiftRounding> rounding;
};

// Per-GEMM statistics accumulated over run() calls.
struct GemmRecord {
  std::string name;
  QLayer layer;
  bool float_input = false;  // an F32 operand: computed in float32 (the reference keeps it float)
  LayerStats stats;
  int64_t runs = 0;
  Shape out_shape;
};

// Whether layer `name` is one of `prefixes` or inside one ("blocks.0" takes "blocks.0.attn.qkv").
bool layer_in(const std::vector<std::string>& prefixes, const std::string& name);
// The first block of a network (a transformer block, a residual block): the layers `logq verify`
// and `logq power` take by default. Throws naming `who` when the model has none.
std::string first_block(const std::vector<GemmRecord>& gemms, const std::string& who);

class Network {
 public:
  Network(const LqmFile& file, const HwOverrides& hw = {});
  const Shape& input_shape() const { return input_shape_; }
  const nlohmann::json& model() const { return model_; }
  // Runs one image (`input_shape()` floats, preprocessed) and returns the graph's output.
  std::vector<float> run(const std::vector<float>& image);
  std::vector<GemmRecord>& gemms() { return gemms_; }
  // Called for each GEMM with its input operand codes (x/a, and b for matmul) as the golden model
  // encodes them: the agreement report compares them with the fake-quant model's codes.
  std::function<void(const std::string& layer, const std::vector<int32_t>& x, const std::vector<int32_t>& b)> on_codes;
  // When set and it returns codes for (layer, 'x' | 'b'), the GEMM runs on those codes instead of
  // its own (after on_codes saw its own): feeding each layer the fake-quant model's input codes
  // isolates the layers from one another's drift.
  std::function<const std::vector<int32_t>*(const std::string& layer, char operand)> force_codes;
  // Called for each integer GEMM after it ran, with its output: the accumulators `logq verify`
  // checks the RTL against, and the dequantized values.
  std::function<void(const std::string& layer, const LayerOutput& out)> on_output;

 private:
  struct Step {
    nlohmann::json spec;
    std::vector<int> in, out;        // value slots
    int gemm = -1;                   // index into gemms_
    std::map<std::string, Tensor> params;
  };
  std::vector<Step> steps_;
  std::vector<GemmRecord> gemms_;
  std::vector<Shape> slot_shapes_;
  std::vector<int> outputs_;
  Shape input_shape_;
  nlohmann::json model_;
  std::string path_;
};

}  // namespace logq
