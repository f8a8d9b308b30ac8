// What the accelerator runs: a network's GEMM layers as array jobs M x N x K (convolutions as
// im2col, attention matmuls per head), with the operand word widths of their formats. From an
// .lqm file (the layer graph of `logq export`) or from a SCALE-Sim topology CSV (conv rows
// `name, ifmap H, ifmap W, filter H, filter W, channels, filters, stride` or GEMM rows
// `name, M, N, K`), so shapes of models with no quantized file (DeiT-Tiny, ResNet-18) run too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "golden/lqm.h"
#include "golden/hw.h"
#include "sim/vector_unit.h"

namespace logq::sim {

// A convolution's input geometry (per group), so the DMA can fetch ifmap rows rather than im2col rows.
struct ConvGeom {
  bool valid = false;
  int64_t C = 0, H = 0, W = 0, kh = 1, stride = 1, pad = 0, dilation = 1, OW = 1;
};

struct SimLayer {
  std::string name, op;  // op: linear, conv2d, matmul, gemm (topology rows)
  Pairing pairing = Pairing::UxU;
  bool pairing_known = true;  // topology rows: false (the array's own pairing)
  int64_t M = 0, N = 0, K = 0;
  int64_t count = 1;          // identical GEMMs in this layer: conv groups, attention heads
  int a_bits = 8, w_bits = 8; // word widths of the x operand and of the weight (matmul: b) operand
  int a_fmt_bits = 8, w_fmt_bits = 8;  // their format widths: U(b) b, A(b) b, L(n) n (what a PE must take)
  bool w_is_activation = false;  // matmul: both operands are activations (no weights in DRAM)
  bool float_input = false;      // the reference keeps this input float: not run on the array
  ConvGeom conv;                 // conv2d: the ifmap the im2col rows come from
  // The vector unit's work on this layer's outputs up to the next array layer's input codes
  // (sim/vector_unit.h): from the model's graph, or from the layer names of a topology.
  std::vector<VectorWork> vector_work;
  int64_t macs() const { return count * M * N * K; }
};

struct Workload {
  std::string name, source;
  std::vector<SimLayer> layers;
};

Workload workload_from_lqm(const std::string& path);
Workload workload_from_lqm(const LqmFile& file);  // an already-parsed (validated) model
Workload workload_from_topology(const std::string& path, int a_bits = 8, int w_bits = 8);
// By extension: .lqm or .csv.
Workload load_workload(const std::string& path);

// "transformer" (an attention matmul or AdaLog activations), "cnn" (a convolution), else "" (a
// GEMM-only topology): which of logq power's measurements its MAC energies come from.
std::string workload_family(const Workload& w);

}  // namespace logq::sim
