// The uniform baseline (not a method of the references): min/max post-training quantization with
// per-row asymmetric U(w) weights and per-tensor U(a) activations on every GEMM input, BatchNorm
// folded for CNNs. At W8A8 it is the INT8 x INT8 accelerator's model, the point `logq explore`
// compares the log PEs against. Codes come from golden's uniform_encode, so the fake-quant model
// and the exported .lqm agree bit for bit.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "golden/layer.h"
#include "quant/export/graph.h"
#include "quant/hw_path/hw_path.h"

namespace logq {
class Net;
}

namespace logq::uniform {

struct WeightCodes {
  std::vector<int32_t> codes;  // [O, K] unsigned codes c
  UniformParams params;        // per row
};

struct UniformModel {
  std::shared_ptr<Net> net;
  std::vector<ActQuant> acts;  // U(a_bits) quantizers of every GEMM input (quant/hw_path)
  std::map<std::string, WeightCodes> weights;
  int w_bits = 8, a_bits = 8;
};

// Folds BN (CNNs), replaces every Conv2d/Linear weight by its U(w_bits) fake-quant value, calibrates
// U(a_bits) min/max on `calib` and installs the activation quantizers.
UniformModel quantize(std::shared_ptr<Net> net, const at::Tensor& calib, int w_bits, int a_bits);

// The .lqm integer form: U x U GEMMs (matmuls too).
GraphBuilder::GemmSource export_source(const UniformModel& m);

}  // namespace logq::uniform
