// The vector (special-function) unit: the non-GEMM work between two GEMMs — dequantizing the
// accumulators, LayerNorm, softmax, GELU, residual adds, pooling, and quantizing into the next
// layer's codes (U(b) or AdaLog A(b)). It sits at the output buffer, after the array: each block
// of outputs goes through it before the write-back, so it overlaps the array's next block as the
// double-buffered output halves allow (sim/accelerator.cpp).
//
// The ops come from the model's own graph (.lqm float ops, golden/graph_shapes.h LqmFloatOp) or,
// for a topology CSV that has no graph, from timm/torchvision layer names (vector_work_from_names).
// Each op costs `cycles_per_element` lane-cycles per element; `lanes` elements are processed per
// cycle. The costs are this file's table (docs/sim.md "The vector unit"), overridable per op.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden/graph_shapes.h"

namespace logq::sim {

// One op of the vector unit on a layer's outputs, per image (all of the layer's instances).
struct VectorWork {
  std::string op;        // a row of vector_op_costs(): dequant, quantize_u, quantize_adalog, layernorm, ...
  int64_t elements = 0;  // elements it processes (its output; a reduction's or pool's input)
  double weight = 1;     // multiplies the op's cycles (quantize_adalog: the code's bits)
  std::string from;      // the graph layer (or GEMM) it comes from
};

// The table: lane-cycles per element and SRAM reads per element of every op; `per_input`: its
// elements are its input's (a pool or reduction; its few outputs are not counted as writes);
// `dram_operand`: it reads a second operand of `elements` words from DRAM (a residual or
// position-embedding add).
struct VectorOpCost {
  double cycles_per_element = 1;
  double reads_per_element = 1;
  bool per_input = false;
  bool dram_operand = false;
  const char* why = "";
};
const std::map<std::string, VectorOpCost>& vector_op_costs();

struct VectorConfig {
  bool enabled = true;
  std::optional<int> lanes;                   // unset: the array's columns
  std::map<std::string, double> cycles;       // per-op overrides of cycles_per_element
  std::optional<double> pj_per_lane_cycle;    // unset: the INT8 PE's measured energy per MAC (above idle)
  double cycles_per_element(const std::string& op) const;
};
VectorConfig parse_vector_config(const nlohmann::json& j, const std::string& where);
nlohmann::json to_json(const VectorConfig& v);

// The vector work of an .lqm's graph, one list per GEMM (index into model.gemms): the float ops
// after GEMM i and before GEMM i + 1, plus GEMM i's dequantization and GEMM i + 1's input
// quantization; ops before the first GEMM go to the first. Each float op's elements and the
// quantizer's format come from the typed model.
std::vector<std::vector<VectorWork>> vector_work_from_graph(const LqmModel& m);

// A GEMM-only topology's layers, by timm / torchvision names (docs/sim.md lists the rules).
struct NamedGemm {
  std::string name, op;  // op: gemm or conv2d
  int64_t M = 0, N = 0, K = 0, count = 1, input_elements = 0;
};
std::vector<std::vector<VectorWork>> vector_work_from_names(const std::vector<NamedGemm>& layers);

// Lane-cycles of a list (Σ elements · weight · cycles per element), and the cycles on `lanes` lanes.
double vector_lane_cycles(const std::vector<VectorWork>& work, const VectorConfig& c);
uint64_t vector_cycles(const std::vector<VectorWork>& work, const VectorConfig& c, int lanes);
// SRAM reads (words) and DRAM operand words of a list.
int64_t vector_sram_reads(const std::vector<VectorWork>& work);
int64_t vector_sram_writes(const std::vector<VectorWork>& work);
int64_t vector_dram_words(const std::vector<VectorWork>& work);

}  // namespace logq::sim
