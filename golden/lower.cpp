#include "golden/lower.h"

#include <fmt/format.h>

#include "io/error.h"
#include "golden/hw.h"
#include "golden/layer.h"

namespace logq {

int32_t pad_code(Pairing p, const AdaLogTable* a_table) {
  if (!log_activations(p)) return 0;
  if (!a_table) throw Error("an AdaLog-input layer without its AdaLog table");
  return a_table->zero_code;
}

void im2col(const Conv2dShape& s, const int32_t* x, int64_t g, int32_t pad, std::vector<int32_t>& cols) {
  const int64_t cg = s.C / s.groups, K = cg * s.kh * s.kw, OH = s.OH(), OW = s.OW();
  cols.resize(static_cast<size_t>(OH * OW * K));
  for (int64_t oy = 0; oy < OH; ++oy)
    for (int64_t ox = 0; ox < OW; ++ox) {
      int32_t* col = cols.data() + (oy * OW + ox) * K;
      for (int64_t c = 0; c < cg; ++c)
        for (int64_t ky = 0; ky < s.kh; ++ky)
          for (int64_t kx = 0; kx < s.kw; ++kx) {
            const int64_t iy = oy * s.stride - s.pad + ky * s.dilation, ix = ox * s.stride - s.pad + kx * s.dilation;
            const bool inside = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W;
            *col++ = inside ? x[((g * cg + c) * s.H + iy) * s.W + ix] : pad;
          }
    }
}

void lower_linear(Pairing pairing, int64_t M, int64_t N, int64_t K, const int32_t* x, const int32_t* w_u, const LogWeightInt* w_l,
                  const AdaLogTable* a_table, const JobFn& fn) {
  fn(GemmProblem{pairing, M, N, K, x, w_u, w_l, a_table}, JobPlace{0, 1, 0, N, 1});
}

void lower_conv2d(const Conv2dShape& s, Pairing pairing, const int32_t* x, const int32_t* w_u, const LogWeightInt* w_l,
                  const AdaLogTable* a_table, const JobFn& fn) {
  if (s.groups < 1 || s.C % s.groups || s.O % s.groups || s.stride < 1 || s.dilation < 1 || s.pad < 0 || s.OH() < 1 || s.OW() < 1)
    throw Error(fmt::format("conv2d: invalid shape C={} O={} groups={} H={} W={} k={}x{}", s.C, s.O, s.groups, s.H, s.W, s.kh, s.kw));
  const int32_t pad = pad_code(pairing, a_table);
  const int64_t og = s.O / s.groups, K = s.C / s.groups * s.kh * s.kw, P = s.OH() * s.OW();
  thread_local std::vector<int32_t> cols;
  for (int64_t g = 0; g < s.groups; ++g) {
    im2col(s, x, g, pad, cols);
    const GemmProblem p{pairing, P, og, K, cols.data(), w_u ? w_u + g * og * K : nullptr, w_l ? w_l + g * og * K : nullptr, a_table};
    fn(p, JobPlace{g, s.groups, g * og * P, 1, P});
  }
}

void lower_heads(Pairing pairing, int64_t H, int64_t M, int64_t N, int64_t K, const int32_t* a, const int32_t* b, bool b_is_kn,
                 const AdaLogTable* a_table, const JobFn& fn) {
  thread_local std::vector<int32_t> bt;
  for (int64_t h = 0; h < H; ++h) {
    const int32_t* w = b + h * K * N;
    if (b_is_kn) {  // b_h [K, N] → weight rows [N, K]
      bt.resize(static_cast<size_t>(N * K));
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n) bt[n * K + k] = w[k * N + n];
      w = bt.data();
    }
    fn(GemmProblem{pairing, M, N, K, a + h * M * K, w, nullptr, a_table}, JobPlace{h, H, h * M * N, N, 1});
  }
}

void lower_layer(const QLayer& l, const int32_t* w_u, const LogWeightInt* w_l, const std::vector<int32_t>& x, int64_t rows,
                 const std::vector<int32_t>& b, const JobFn& fn) {
  const AdaLogTable* table = &l.x_adalog.table;
  switch (l.op) {
    case LayerOp::Linear:
      if (static_cast<int64_t>(x.size()) != rows * l.in_features)
        throw Error(fmt::format("layer '{}': linear input has {} codes, expected {} x {}", l.name, x.size(), rows, l.in_features));
      lower_linear(l.pairing, rows, l.out_features, l.in_features, x.data(), w_u, w_l, table, fn);
      return;
    case LayerOp::Conv2d:
      if (static_cast<int64_t>(x.size()) != l.conv.C * l.conv.H * l.conv.W)
        throw Error(fmt::format("layer '{}': conv input has {} codes, expected [{}, {}, {}]", l.name, x.size(), l.conv.C, l.conv.H, l.conv.W));
      lower_conv2d(l.conv, l.pairing, x.data(), w_u, w_l, table, fn);
      return;
    case LayerOp::Matmul: {
      const int64_t H = l.heads, K = l.in_features, N = l.out_features, M = rows;
      if (static_cast<int64_t>(x.size()) != H * M * K || static_cast<int64_t>(b.size()) != H * K * N)
        throw Error(fmt::format("layer '{}': matmul codes must be [{}, {}, {}] and [{}, {}, {}]", l.name, H, M, K, H, K, N));
      lower_heads(l.pairing, H, M, N, K, x.data(), b.data(), true, table, fn);
      return;
    }
  }
}

int64_t input_rows(const QLayer& l, size_t x_codes) {
  const int64_t n = static_cast<int64_t>(x_codes);
  if (l.op == LayerOp::Linear) return n / l.in_features;
  if (l.op == LayerOp::Matmul) return n / (l.heads * l.in_features);
  return 1;  // a convolution's input is one [C, H, W] image
}

JobShape job_shape(const GemmGeometry& g, const Shape& out) {
  JobShape j;
  j.K = g.in_features;
  switch (g.op) {
    case LayerOp::Linear: {
      int64_t rows = 1;
      for (size_t i = 0; i + 1 < out.size(); ++i) rows *= out[i];
      j.M = rows;
      j.N = g.out_features;
      break;
    }
    case LayerOp::Conv2d:
      j.count = g.conv.groups;
      j.M = g.conv.OH() * g.conv.OW();
      j.N = g.conv.O / g.conv.groups;
      break;
    case LayerOp::Matmul:
      j.count = out.at(0);
      j.M = out.at(1);
      j.N = out.at(2);
      break;
  }
  return j;
}

}  // namespace logq
