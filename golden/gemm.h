// Integer GEMM, conv2d (im2col, groups) and attention matmuls for the four operand pairings.
// Y[m, n] = Σ_k X[m, k] ⊗ W[n, k]: X holds activations (U: d = c − z; A: AdaLog codes), W holds
// weights (U: d = c − z; L: LogART sign/odd/k). gemm_reference() is the definition — every term
// through Accumulator::add, in k order. gemm() is the fast path; it is used only where it is
// provably bit-identical (exact integer expansion, no possible overflow) and falls back otherwise.
#pragma once
#include <cstdint>
#include <vector>

#include "golden/mac.h"

namespace logq {

struct GemmProblem {
  Pairing pairing = Pairing::UxU;
  int64_t M = 0, N = 0, K = 0;
  const int32_t* x = nullptr;          // [M, K]: U d-values or A codes
  const int32_t* w_u = nullptr;        // [N, K]: U d-values (UxU, UxA)
  const LogWeightInt* w_l = nullptr;   // [N, K]: LogART (LxU, LxA)
  const AdaLogTable* a_table = nullptr;  // UxA, LxA
};

struct LayerStats {
  int64_t terms = 0, zero_terms = 0;  // MAC terms, and those skipped for a zero operand
  int64_t overflows = 0;
  int64_t max_abs_acc = 0;
  std::vector<int64_t> shift_hist;  // shift_hist[s + 64]: terms per shift amount s ∈ [−64, 63]
  double zero_fraction() const { return terms ? static_cast<double>(zero_terms) / terms : 0.0; }
};

// Adds s's counts into `into` (max of max_abs_acc, histograms summed).
void add_stats(LayerStats& into, const LayerStats& s);

struct GemmResult {
  std::vector<int64_t> acc;  // [M, N]
  LayerStats stats;
};

GemmResult gemm_reference(const GemmProblem& p, const HwConfig& hw);

// A GEMM problem that owns its operands. gemm_k_chunk: columns [k0, k0 + kb) of a problem as a
// problem of its own, one chunk of a K-split job (golden/hw.h k_chunk_count); with k0 = 0 and
// kb = K, a copy of the whole problem.
struct OwnedGemm {
  Pairing pairing = Pairing::UxU;
  int64_t M = 0, N = 0, K = 0;
  std::vector<int32_t> x, w_u;
  std::vector<LogWeightInt> w_l;
  const AdaLogTable* a_table = nullptr;
  GemmProblem problem() const;  // points into this chunk's vectors
};
OwnedGemm gemm_k_chunk(const GemmProblem& p, int64_t k0, int64_t kb);
// What the output buffer does with a chunk's accumulators: sum[i] += part[i], wrapped to acc_bits.
void add_partial_sums(std::vector<int64_t>& sum, const std::vector<int64_t>& part, int acc_bits);
GemmResult gemm(const GemmProblem& p, const HwConfig& hw);
// The fast path's int16 kernel uses AVX2 when the CPU has it; false forces the portable loop
// (for tests and for comparing the two). Returns the previous setting.
bool set_gemm_simd(bool enabled);

// The smallest accumulator width with which this problem cannot overflow, given its actual
// operands (each term bounded by max|X|·max|W| after exact expansion), and whether the problem
// has right shifts (then F is too small for exactness).
struct WidthBound {
  int acc_bits = 0;
  bool exact = true;  // no term is shifted right
};
WidthBound required_width(const GemmProblem& p, const HwConfig& hw);

// conv2d via im2col. x: [C, H, W] activations (U d-values, or A codes with zero = padding);
// weights: [O, C/groups, kh, kw] as [O, C/groups·kh·kw] rows. Output acc [O, OH, OW].
struct Conv2dShape {
  int64_t C = 0, H = 0, W = 0, O = 0, kh = 1, kw = 1, stride = 1, pad = 0, dilation = 1, groups = 1;
  int64_t OH() const { return (H + 2 * pad - dilation * (kh - 1) - 1) / stride + 1; }
  int64_t OW() const { return (W + 2 * pad - dilation * (kw - 1) - 1) / stride + 1; }
};
GemmResult conv2d(const Conv2dShape& s, Pairing pairing, const int32_t* x, const int32_t* w_u,
                  const LogWeightInt* w_l, const AdaLogTable* a_table, const HwConfig& hw, bool reference = false);

// Attention per head: q·kᵀ (U×U, x = q [H, N, d], w = k [H, N, d]) → [H, N, N];
// softmax·V (A×U, probs codes [H, N, N], v [H, N, d]) → [H, N, d].
GemmResult attention_qk(int64_t heads, int64_t n, int64_t d, const int32_t* q, const int32_t* k, const HwConfig& hw);
GemmResult attention_pv(int64_t heads, int64_t n, int64_t d, const int32_t* probs, const int32_t* v,
                        const AdaLogTable& a, const HwConfig& hw);

}  // namespace logq
