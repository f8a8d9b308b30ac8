// What every method's hardware path shares (LogART with --act-bits, the uniform baseline): BN
// folding, the quantizable layers of a net, and per-tensor U(b) min/max quantizers on every GEMM
// input (each Conv2d/Linear input, both operands of each attention MatMul). Not a method of the
// references: their CNN pipelines keep activations float.
#pragma once
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace logq {

class Net;

// Folds every BatchNorm2d into the conv registered right before it (BRECQ's fold); an Error if a
// BN does not follow a conv with matching channels. Folded BNs are skipped (idempotent).
void fold_batchnorms(Net& net);

// The quantizable layers (Conv2d/Linear) of a net, in registration order.
std::vector<std::string> quantizable_layers(Net& net);

// A U(b) quantizer of one GEMM input: "<layer>" for a Conv2d/Linear input, "<matmul>.a" / ".b".
struct ActQuant {
  std::string name;
  float scale = 1, zero = 0;
};

// Calibrates per-tensor min/max U(bits) quantizers of every GEMM input on `images` (the range
// always holds 0, so zero is exact).
std::vector<ActQuant> calibrate_gemm_inputs(Net& net, const at::Tensor& images, int bits);

// Installs them (golden's uniform encode/decode, elementwise); bits <= 0 removes every input
// quantizer. An Error names a quantizer for an input the net does not have.
void install_gemm_input_quantizers(Net& net, const std::vector<ActQuant>& acts, int bits);

}  // namespace logq
