// The one lowering of a quantized layer to array jobs (docs/architecture.md): a linear layer is one
// M×N×K GEMM; a convolution is one im2col GEMM per group (output pixels × filters of the group ×
// C/groups·kh·kw), its padding filled with the input format's zero code (U: d = 0; AdaLog: the zero
// state 2^b, never code 0, which is the largest value); an attention matmul a [H, M, K] @ b [H, K, N]
// is one GEMM per head with b's head transposed into weight rows. The golden network, `logq verify`
// (which runs these same jobs on the RTL), `logq sim` and `logq explore` (which take their shapes)
// all use it.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "golden/gemm.h"
#include "golden/graph_shapes.h"

namespace logq {

// Where job j's [M, N] accumulators land in the layer's output: acc[offset + m·row_stride +
// n·col_stride] (linear [M, N]; conv2d [O, OH, OW], channel-major; matmul [H, M, N]).
struct JobPlace {
  int64_t index = 0, count = 1;  // group / head index, and how many there are
  int64_t offset = 0, row_stride = 0, col_stride = 1;
  int64_t at(int64_t m, int64_t n) const { return offset + m * row_stride + n * col_stride; }
};
using JobFn = std::function<void(const GemmProblem& p, const JobPlace& place)>;

// The operand code that stands for a real zero in padding: U d = 0, AdaLog its zero state.
int32_t pad_code(Pairing p, const AdaLogTable* a_table);

// im2col of group g of x [C, H, W] into cols [OH·OW, C/groups·kh·kw] (row = output pixel, column =
// (c, ky, kx)); outside the image: `pad`.
void im2col(const Conv2dShape& s, const int32_t* x, int64_t group, int32_t pad, std::vector<int32_t>& cols);

// The jobs of each op, run in order (group / head 0 first). Operand buffers live until fn returns.
void lower_linear(Pairing pairing, int64_t M, int64_t N, int64_t K, const int32_t* x, const int32_t* w_u, const LogWeightInt* w_l,
                  const AdaLogTable* a_table, const JobFn& fn);
void lower_conv2d(const Conv2dShape& s, Pairing pairing, const int32_t* x, const int32_t* w_u, const LogWeightInt* w_l,
                  const AdaLogTable* a_table, const JobFn& fn);
// a [H, M, K]; b either [H, K, N] (b_is_kn: the matmul's own layout, transposed per head) or
// already [H, N, K] weight rows.
void lower_heads(Pairing pairing, int64_t heads, int64_t M, int64_t N, int64_t K, const int32_t* a, const int32_t* b, bool b_is_kn,
                 const AdaLogTable* a_table, const JobFn& fn);

// The array jobs of a layer on its input codes (what run_layer_codes computes): x as encode_x gives
// it (linear [rows, K], conv2d [C, H, W], matmul [H, rows, K]) and, for a matmul, b [H, K, N].
// w_u / w_l: the layer's weight operand (layer.h weight_operand; unused for a matmul).
struct QLayer;
void lower_layer(const QLayer& l, const int32_t* w_u, const LogWeightInt* w_l, const std::vector<int32_t>& x, int64_t rows,
                 const std::vector<int32_t>& b, const JobFn& fn);

// The `rows` lower_layer takes, from the size of the x codes encode_x gave (the network's on_codes).
int64_t input_rows(const QLayer& l, size_t x_codes);

// The jobs' shape without any codes (sim, explore): `count` identical M×N×K jobs.
struct JobShape {
  int64_t M = 0, N = 0, K = 0, count = 1;
  int64_t macs() const { return count * M * N * K; }
};
// From a GEMM's geometry and its output shape (graph_shapes.h gemm_output_shape).
JobShape job_shape(const GemmGeometry& g, const Shape& out_shape);

}  // namespace logq
