// The shape rules of the .lqm graph (docs/lqm.md) and the check that applies them to a whole
// file before any consumer runs it: every op's attributes against its inputs and outputs
// (strides >= 1, pads >= 0, groups divide, weight shapes match, shapes chain from
// model.input_shape), preprocess against input_shape, and the work and memory a file may ask
// for per image (input_limits(), naming the layer). LqmFile::parse calls check_lqm_graph, so
// golden/, verify, sim and explore only ever see models that passed it.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "golden/gemm.h"
#include "io/safetensors.h"

namespace logq {

using Shape = std::vector<int64_t>;

enum class LayerOp { Linear, Conv2d, Matmul };

// The output shape of a float op (docs/lqm.md, "Float ops") from its attrs, input shapes and the
// shapes of its parameter tensors (role → shape). Throws Error naming the layer for inputs the op
// cannot take. Shared by the graph check, the interpreter and the exporter (which builds graphs).
Shape float_op_shape(const nlohmann::json& layer, const std::vector<Shape>& inputs, const std::map<std::string, Shape>& tensors);

// What a GEMM layer computes, read from its attrs and weight tensor's shape (no codes decoded):
// linear O×K; conv2d with its Conv2dShape; matmul heads × (M×k · k×n).
struct GemmGeometry {
  LayerOp op = LayerOp::Linear;
  int64_t out_features = 0, in_features = 0;  // weight rows O and row length K (matmul: n and k)
  int64_t heads = 1;
  Conv2dShape conv;
};
// Throws Error naming the layer for any attribute that is missing, out of range or inconsistent
// with the weight tensor (`file` holds the layer's tensors; the schema was checked first).
GemmGeometry gemm_geometry(const SafetensorsFile& file, const nlohmann::json& layer);
Shape gemm_output_shape(const GemmGeometry& g, const std::string& layer_name, const std::vector<Shape>& inputs);

// The typed model the check leaves behind, so consumers that need shapes and formats (sim, explore,
// verify's job list) never decode a weight: every GEMM with its geometry, output shape, pairing and
// operand formats, in graph order.
struct LqmOperand {
  std::string format = "U";  // U, A, L or F32
  int bits = 0;              // U(b) b, A(b) b, L(n) n; F32: 32
  int q = 0;                 // A: the base 2^(q/37)
};
struct LqmGemm {
  std::string name;
  GemmGeometry geom;
  Shape out_shape;            // per image (empty when the model has no input_shape)
  Pairing pairing = Pairing::UxU;
  bool float_input = false;   // an F32 x operand: the reference keeps it float
  LqmOperand x, w;            // a matmul's a and b
};
// A float op of the graph (docs/lqm.md "Float ops"): what a vector unit runs between GEMMs.
struct LqmFloatOp {
  std::string name, op;
  int64_t in_elements = 0, out_elements = 0;  // per image: all its inputs, its output
  size_t gemms_before = 0;                    // GEMMs that precede it in graph order
};
struct LqmModel {
  nlohmann::json meta;        // graph.model (name, method, bits, preprocess, ...)
  Shape input_shape;          // empty: the file gives none (shapes below are then unknown)
  std::vector<LqmGemm> gemms;
  std::vector<LqmFloatOp> float_ops;  // in graph order (empty when the shapes are unknown)
  int64_t sample_images = 0;  // images in samples/images
};

// The whole-graph check above; throws Error("<file>: invalid lqm: ..."). Returns the typed model.
LqmModel check_lqm_graph(const SafetensorsFile& file, const nlohmann::json& graph);

}  // namespace logq
