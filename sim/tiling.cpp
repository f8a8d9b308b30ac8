#include "sim/tiling.h"

#include <fmt/format.h>

#include "golden/hw.h"
#include "io/error.h"

namespace logq::sim {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Activation words of one fetch of every A block (block size Mb) over all of K.
int64_t a_words_once(const SimLayer& l, int64_t Mb) {
  int64_t w = 0;
  for (int64_t m0 = 0; m0 < l.M; m0 += Mb) w += a_fetch_words(l, m0, std::min(Mb, l.M - m0), l.K);
  return w;
}

struct Candidate {
  int64_t Mb = 0, Nb = 0;
  bool weights_outer = true;
  int64_t a_words = 0, w_words = 0, bytes = 0, blocks = 0;
};

// DRAM words of one instance for a block size and loop order. All of K: the outer operand is
// fetched once, the inner one once per outer block unless it fits in one block (then it stays in
// SRAM). K-split: every output block fetches its A and W rows over all of K.
Candidate evaluate(const SimLayer& l, int64_t Mb, int64_t Nb, bool weights_outer, const LayerPlan& p) {
  Candidate c{Mb, Nb, weights_outer};
  const int64_t nA = ceil_div(l.M, Mb), nW = ceil_div(l.N, Nb);
  c.blocks = nA * nW * p.k_chunks;
  if (p.k_chunks > 1) {
    c.a_words = l.M * l.K * nW;
    c.w_words = l.N * l.K * nA;
  } else {
    c.a_words = a_words_once(l, Mb) * (weights_outer && nA > 1 ? nW : 1);
    c.w_words = l.N * l.K * (!weights_outer && nW > 1 ? nA : 1);
  }
  c.bytes = words_to_bytes(c.a_words, p.a_bits) + words_to_bytes(c.w_words, p.w_bits);
  return c;
}

bool better(const Candidate& a, const Candidate& b) {
  if (a.bytes != b.bytes) return a.bytes < b.bytes;
  if (a.blocks != b.blocks) return a.blocks < b.blocks;
  return a.weights_outer && !b.weights_outer;
}

// K columns per block: all of K when a bank holds them, else the fewest equal chunks that fit.
void choose_k_chunks(const SimLayer& l, const AccelConfig& hw, int64_t a_bank, int64_t w_bank, LayerPlan& p) {
  const int64_t fit = std::min(a_bank, w_bank);
  if (fit < 1)
    throw Error(fmt::format("layer '{}': a {}-bit activation bank holds {} words and a {}-bit weight bank {}: not one column of K ({} KiB / {} KiB "
                            "SRAM over {} / {} banks{})", l.name, p.a_bits, a_bank, p.w_bits, w_bank, hw.act_sram_bytes / 1024.0,
                            hw.weight_sram_bytes / 1024.0, hw.rows, hw.cols, hw.double_buffer ? ", one half: double-buffered" : ""));
  p.k_chunks = ceil_div(l.K, std::min(fit, l.K));
  p.Kb = ceil_div(l.K, p.k_chunks);
}

// Output words the output SRAM holds: final outputs (out_bits), or partial sums when K-split.
int64_t out_capacity(const AccelConfig& hw, const LayerPlan& p) {
  return hw.out_words(p.k_chunks == 1 ? p.out_bits : p.psum_bits);
}

void add_blocks(const SimLayer& l, LayerPlan& p) {
  const int64_t nA = ceil_div(l.M, p.Mb), nW = ceil_div(l.N, p.Nb);
  const auto block = [&](int64_t ia, int64_t iw, bool load_a, bool load_w) {
    const int64_t m0 = ia * p.Mb, n0 = iw * p.Nb, mb = std::min(p.Mb, l.M - m0), nb = std::min(p.Nb, l.N - n0);
    for (int64_t c = 0; c < p.k_chunks; ++c) {
      const int64_t kb = k_chunk_len(l.K, p.Kb, c);
      const bool split = p.k_chunks > 1;
      p.blocks.push_back({m0, mb, n0, nb, load_a || split, load_w || split, c * p.Kb, kb, c == 0, c == p.k_chunks - 1});
    }
  };
  if (p.weights_outer) {
    for (int64_t iw = 0; iw < nW; ++iw)
      for (int64_t ia = 0; ia < nA; ++ia) block(ia, iw, nA > 1 || iw == 0, ia == 0);
  } else {
    for (int64_t ia = 0; ia < nA; ++ia)
      for (int64_t iw = 0; iw < nW; ++iw) block(ia, iw, iw == 0, nW > 1 || ia == 0);
  }
}

}  // namespace

int64_t a_fetch_words(const SimLayer& l, int64_t m0, int64_t mb, int64_t kb) {
  const int64_t im2col = mb * kb;
  const ConvGeom& g = l.conv;
  if (!g.valid || kb < l.K) return im2col;
  std::vector<char> row(size_t(g.H), 0);
  for (int64_t oh = m0 / g.OW; oh <= (m0 + mb - 1) / g.OW; ++oh)
    for (int64_t i = 0; i < g.kh; ++i) {
      const int64_t ih = oh * g.stride - g.pad + i * g.dilation;
      if (ih >= 0 && ih < g.H) row[size_t(ih)] = 1;
    }
  int64_t rows = 0;
  for (char r : row) rows += r;
  return std::min(im2col, rows * g.W * g.C);
}

int64_t LayerPlan::dram_bytes() const {
  return words_to_bytes(a_words, a_bits) + words_to_bytes(w_words, w_bits) + words_to_bytes(out_words, out_bits);
}

LayerPlan plan_layer(const SimLayer& l, const AccelConfig& hw) {
  LayerPlan p;
  p.a_bits = hw.act_bits.value_or(l.a_bits);
  p.w_bits = hw.weight_bits.value_or(l.w_bits);
  p.out_bits = hw.out_bits;
  p.psum_bits = hw.kind().acc_bits();
  const int64_t R = hw.rows, C = hw.cols;
  const int64_t a_bank = hw.act_bank_words(p.a_bits), w_bank = hw.weight_bank_words(p.w_bits);
  choose_k_chunks(l, hw, a_bank, w_bank, p);
  const int64_t out_cap = out_capacity(hw, p);
  if (out_cap < R * C)
    throw Error(fmt::format("layer '{}': the {} KiB output SRAM holds {} {}-bit {}{}, less than one {}x{} tile of them", l.name,
                            hw.out_sram_bytes / 1024.0, out_cap, p.k_chunks > 1 ? p.psum_bits : p.out_bits,
                            p.k_chunks > 1 ? "partial sums (K-split)" : "words", hw.double_buffer ? " (one half: double-buffered)" : "", R, C));
  const int64_t max_mt = std::min(a_bank / p.Kb, ceil_div(l.M, R)), max_nt = std::min(w_bank / p.Kb, ceil_div(l.N, C));
  Candidate best;
  bool have = false;
  for (int64_t mt = 1; mt <= max_mt; ++mt) {
    const int64_t Mb = std::min(mt * R, l.M);
    for (int64_t nt = 1; nt <= max_nt; ++nt) {
      const int64_t Nb = std::min(nt * C, l.N);
      if (Mb * Nb > out_cap) break;
      for (bool wo : {true, false}) {
        const Candidate c = evaluate(l, Mb, Nb, wo, p);
        if (!have || better(c, best)) best = c, have = true;
      }
    }
  }
  p.Mb = best.Mb;
  p.Nb = best.Nb;
  p.weights_outer = best.weights_outer;
  p.a_words = best.a_words;
  p.w_words = best.w_words;
  p.out_words = l.M * l.N;
  add_blocks(l, p);
  return p;
}

}  // namespace logq::sim
