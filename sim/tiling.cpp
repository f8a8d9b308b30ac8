#include "sim/tiling.h"

#include <fmt/format.h>

#include "io/error.h"

namespace logq::sim {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Activation words of one fetch of every A block (block size Mb).
int64_t a_words_once(const SimLayer& l, int64_t Mb) {
  int64_t w = 0;
  for (int64_t m0 = 0; m0 < l.M; m0 += Mb) w += a_fetch_words(l, m0, std::min(Mb, l.M - m0));
  return w;
}

struct Candidate {
  int64_t Mb = 0, Nb = 0;
  bool weights_outer = true;
  int64_t a_words = 0, w_words = 0, bytes = 0, blocks = 0;
};

// DRAM words of one instance for a block size and loop order: the outer operand is fetched once;
// the inner one once per outer block, unless it fits in one block (then it stays in SRAM).
Candidate evaluate(const SimLayer& l, int64_t Mb, int64_t Nb, bool weights_outer, int a_bits, int w_bits) {
  Candidate c{Mb, Nb, weights_outer};
  const int64_t nA = ceil_div(l.M, Mb), nW = ceil_div(l.N, Nb);
  c.blocks = nA * nW;
  c.a_words = a_words_once(l, Mb) * (weights_outer && nA > 1 ? nW : 1);
  c.w_words = l.N * l.K * (!weights_outer && nW > 1 ? nA : 1);
  c.bytes = words_to_bytes(c.a_words, a_bits) + words_to_bytes(c.w_words, w_bits);
  return c;
}

bool better(const Candidate& a, const Candidate& b) {
  if (a.bytes != b.bytes) return a.bytes < b.bytes;
  if (a.blocks != b.blocks) return a.blocks < b.blocks;
  return a.weights_outer && !b.weights_outer;
}

}  // namespace

int64_t a_fetch_words(const SimLayer& l, int64_t m0, int64_t mb) {
  const int64_t im2col = mb * l.K;
  const ConvGeom& g = l.conv;
  if (!g.valid) return im2col;
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
  const int64_t R = hw.rows, C = hw.cols;
  const int64_t a_bank = hw.act_bank_words(p.a_bits), w_bank = hw.weight_bank_words(p.w_bits), out_cap = hw.out_words();
  const char* half = hw.double_buffer ? " (one half: double-buffered)" : "";
  if (a_bank < l.K)
    throw Error(fmt::format("layer '{}': the {}x{} array cannot hold one tile: K = {} needs {} words per activation bank, the {} KiB activation "
                            "SRAM gives each of its {} banks {} {}-bit words{}",
                            l.name, R, C, l.K, l.K, hw.act_sram_bytes / 1024.0, R, a_bank, p.a_bits, half));
  if (w_bank < l.K)
    throw Error(fmt::format("layer '{}': the {}x{} array cannot hold one tile: K = {} needs {} words per weight bank, the {} KiB weight "
                            "SRAM gives each of its {} banks {} {}-bit words{}",
                            l.name, R, C, l.K, l.K, hw.weight_sram_bytes / 1024.0, C, w_bank, p.w_bits, half));
  if (out_cap < R * C)
    throw Error(fmt::format("layer '{}': the {} KiB output SRAM holds {} {}-bit words{}, less than one {}x{} tile of outputs",
                            l.name, hw.out_sram_bytes / 1024.0, out_cap, p.out_bits, half, R, C));
  const int64_t max_mt = std::min(a_bank / l.K, ceil_div(l.M, R)), max_nt = std::min(w_bank / l.K, ceil_div(l.N, C));
  Candidate best;
  bool have = false;
  for (int64_t mt = 1; mt <= max_mt; ++mt) {
    const int64_t Mb = std::min(mt * R, l.M);
    for (int64_t nt = 1; nt <= max_nt; ++nt) {
      const int64_t Nb = std::min(nt * C, l.N);
      if (Mb * Nb > out_cap) break;
      for (bool wo : {true, false}) {
        const Candidate c = evaluate(l, Mb, Nb, wo, p.a_bits, p.w_bits);
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
  const int64_t nA = ceil_div(l.M, p.Mb), nW = ceil_div(l.N, p.Nb);
  const auto block = [&](int64_t ia, int64_t iw, bool load_a, bool load_w) {
    const int64_t m0 = ia * p.Mb, n0 = iw * p.Nb;
    p.blocks.push_back({m0, std::min(p.Mb, l.M - m0), n0, std::min(p.Nb, l.N - n0), load_a, load_w});
  };
  if (p.weights_outer) {
    for (int64_t iw = 0; iw < nW; ++iw)
      for (int64_t ia = 0; ia < nA; ++ia) block(ia, iw, nA > 1 || iw == 0, ia == 0);
  } else {
    for (int64_t ia = 0; ia < nA; ++ia)
      for (int64_t iw = 0; iw < nW; ++iw) block(ia, iw, iw == 0, nW > 1 || ia == 0);
  }
  return p;
}

}  // namespace logq::sim
