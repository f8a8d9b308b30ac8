// LogART weight quantizer, Dynamic Base Search and the learnable rounding of one weight tensor
// (spec/logart.md §1–4). Element decisions are golden/'s; this file searches and learns.
#include <cmath>
#include <limits>

#include <c10/core/GradMode.h>

#include <fmt/format.h>

#include "io/error.h"
#include "io/process.h"
#include "quant/logart/logart.h"

namespace logq::logart {

ScaleMethod parse_scale_method(const std::string& s) {
  if (s == "log_2") return ScaleMethod::Log2;
  if (s == "log_sqrt2") return ScaleMethod::LogSqrt2;
  if (s == "log_dynamic") return ScaleMethod::LogDynamic;
  throw Error(fmt::format("LogART: scale method '{}' is not log_2 | log_sqrt2 | log_dynamic (the reference's "
                          "linear_mse / linear_minmax exist only in its argparse)", s));
}

SearchMethod parse_search_method(const std::string& s) {
  if (s == "none") return SearchMethod::None;
  if (s == "tensor_wise") return SearchMethod::TensorWise;
  if (s == "layer_wise") return SearchMethod::LayerWise;
  if (s == "block_wise") return SearchMethod::BlockWise;
  throw Error(fmt::format("LogART: search method '{}' is not none | tensor_wise | layer_wise | block_wise", s));
}

std::string to_string(ScaleMethod m) {
  return m == ScaleMethod::Log2 ? "log_2" : m == ScaleMethod::LogSqrt2 ? "log_sqrt2" : "log_dynamic";
}
std::string to_string(SearchMethod m) {
  return m == SearchMethod::None ? "none" : m == SearchMethod::TensorWise ? "tensor_wise" : m == SearchMethod::LayerWise ? "layer_wise" : "block_wise";
}

const std::vector<float>& scale_grid() {
  static const std::vector<float> grid = [] {
    std::vector<float> g(100);
    for (int i = 0; i < 100; ++i) {
      if (i < 96) {  // ATen's vectorised arange: block start in float32, then start + step·j in double
        const int m = i / 8, j = i % 8;
        const float start = static_cast<float>(1.0 - 0.01 * (8 * m));
        g[size_t(i)] = static_cast<float>(static_cast<double>(start) - 0.01 * j);
      } else {  // the scalar tail
        g[size_t(i)] = static_cast<float>(1.0 - 0.01 * i);
      }
    }
    return g;
  }();
  return grid;
}

std::vector<int> c2_candidates(int n_bits, ScaleMethod m) {
  const int N = 1 << (n_bits - 1);
  if (m == ScaleMethod::Log2) return {N};
  if (m == ScaleMethod::LogSqrt2) return {0};
  std::vector<int> c;
  for (int v = N; v >= 0; v -= 2) c.push_back(v);
  return c;
}

namespace {
at::Tensor rows_view(const at::Tensor& w) { return w.detach().to(at::kFloat).contiguous().view({w.size(0), -1}); }
}  // namespace

void WeightQuant::init(const at::Tensor& w) {
  if (w.dim() < 2) throw Error(fmt::format("LogART: layer '{}' weight has {} dims; per-tensor quantization is not supported", name, w.dim()));
  const at::Tensor v = rows_view(w);
  rows = v.size(0);
  cols = v.size(1);
  xplus.assign(size_t(rows), 0.0f);
  xminus.assign(size_t(rows), 0.0f);
  const float* p = v.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r) {
    float mx = -INFINITY, mn = INFINITY;
    for (int64_t i = 0; i < cols; ++i) {
      const float x = p[r * cols + i];
      if (!std::isfinite(x)) throw Error(fmt::format("LogART: layer '{}' row {} holds a non-finite weight", name, r));
      mx = std::max(mx, x);
      mn = std::min(mn, x);
    }
    xplus[size_t(r)] = std::max(mx, 0.0f);
    xminus[size_t(r)] = std::max(-mn, 0.0f);
    if (xplus[size_t(r)] == 0.0f && xminus[size_t(r)] == 0.0f)
      throw Error(fmt::format("LogART: layer '{}' row {} is all zero: it has no log codebook (the reference asserts)", name, r));
  }
  scale.assign(size_t(rows), 1.0f);
  s_idx.assign(size_t(rows), 0);
  c2.assign(size_t(rows), c2_candidates(n_bits, method).front());
  book.resize(size_t(rows));
  for (int64_t r = 0; r < rows; ++r) set_row(r, 0, c2[size_t(r)]);
  round_up.clear();
}

void WeightQuant::set_row(int64_t r, int32_t si, int32_t c2v) {
  s_idx[size_t(r)] = si;
  scale[size_t(r)] = scale_grid().at(size_t(si));
  c2[size_t(r)] = c2v;
  book[size_t(r)] = logart_row(xplus[size_t(r)], xminus[size_t(r)], n_bits, c2v, sym, m2);
}

LogWeight WeightQuant::code(int64_t r, int64_t i, float w) const {
  const LogArtRow& row = book[size_t(r)];
  if (round_up.empty()) return logart_encode(w, scale[size_t(r)], row, sqrt2_branch());
  const float u = logart_u(w, scale[size_t(r)], logart_is_base2(w, row, sqrt2_branch()));
  return logart_encode_k(w, std::floor(u) + float(round_up[size_t(r * cols + i)]), row, sqrt2_branch());
}

at::Tensor WeightQuant::quantize(const at::Tensor& w) const {
  const at::Tensor v = rows_view(w);
  if (v.size(0) != rows || v.size(1) != cols)
    throw Error(fmt::format("LogART: layer '{}' weight is [{}, {}], its parameters are for [{}, {}]", name, v.size(0), v.size(1), rows, cols));
  at::Tensor out = at::empty_like(v);
  const float* p = v.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < cols; ++i) o[r * cols + i] = logart_decode_ref_k(code(r, i, p[r * cols + i]), scale[size_t(r)], k_odd);
  return out.view(w.sizes());
}

void quantize_row_candidate(const float* w, int64_t cols, const LogArtRow& row, float s, bool sqrt2_branch, double k_odd,
                            float* out) {
  for (int64_t i = 0; i < cols; ++i) out[i] = logart_decode_ref_k(logart_encode(w[i], s, row, sqrt2_branch), s, k_odd);
}

void dbs_tensor_wise(WeightQuant& q, const at::Tensor& w, std::vector<float>* err_table) {
  const at::Tensor v = rows_view(w);
  const float* p = v.data_ptr<float>();
  const std::vector<int> cands = c2_candidates(q.n_bits, q.method);
  const auto& grid = scale_grid();
  if (err_table) err_table->assign(grid.size() * cands.size() * size_t(q.rows), 0.0f);
  std::vector<float> tmp(size_t(q.cols));
  for (int64_t r = 0; r < q.rows; ++r) {
    std::vector<LogArtRow> books;
    for (int c : cands) books.push_back(logart_row(q.xplus[size_t(r)], q.xminus[size_t(r)], q.n_bits, c, q.sym, q.m2));
    double best = 1e10;
    int32_t bs = 0, bc = cands.front();
    for (size_t si = 0; si < grid.size(); ++si)
      for (size_t ci = 0; ci < cands.size(); ++ci) {
        const float* wr = p + r * q.cols;
        quantize_row_candidate(wr, q.cols, books[ci], grid[si], q.sqrt2_branch(), q.k_odd, tmp.data());
        double err = 0;
        for (int64_t i = 0; i < q.cols; ++i) {
          const double d = double(tmp[size_t(i)]) - double(wr[i]);
          err += d * d;
        }
        if (err_table) (*err_table)[(si * cands.size() + ci) * size_t(q.rows) + size_t(r)] = float(err);
        if (err < best) {  // strict: ties keep the earlier candidate (larger s, then larger c2)
          best = err;
          bs = int32_t(si);
          bc = cands[ci];
        }
      }
    q.set_row(r, bs, bc);
  }
}

namespace {
// The best candidate of each row so far: the lowest error, the earliest candidate on a tie.
struct RowBest {
  std::vector<double> err;
  std::vector<size_t> cand;  // index into grid × c2, c2 inner
  explicit RowBest(int64_t rows) : err(size_t(rows), 1e10), cand(size_t(rows), 0) {}
  void offer(int64_t r, double e, size_t c) {
    if (e < err[size_t(r)] || (e == err[size_t(r)] && c < cand[size_t(r)])) err[size_t(r)] = e, cand[size_t(r)] = c;
  }
};
}  // namespace

void dbs_with_data(WeightQuant& q, const at::Tensor& w, const std::function<at::Tensor(const at::Tensor&)>& run,
                   const at::Tensor& target, bool channels_last, int jobs) {
  const at::Tensor v = rows_view(w);
  const float* p = v.data_ptr<float>();
  const std::vector<int> cands = c2_candidates(q.n_bits, q.method);
  const auto& grid = scale_grid();
  std::vector<std::vector<LogArtRow>> books(size_t(q.rows));
  for (int64_t r = 0; r < q.rows; ++r)
    for (int c : cands) books[size_t(r)].push_back(logart_row(q.xplus[size_t(r)], q.xminus[size_t(r)], q.n_bits, c, q.sym, q.m2));
  const size_t total = grid.size() * cands.size();
  // Candidate k = si·#c2 + ci, the order of the reference's two loops; worker t takes k ≡ t mod
  // threads. Each candidate's error is computed as in one loop, and the merge keeps the earliest
  // of equal errors, so the choice equals the sequential strict-< scan's.
  const int threads = int(std::min<size_t>(size_t(std::max(jobs, 1)), total));
  std::vector<RowBest> bests(static_cast<size_t>(threads), RowBest(q.rows));
  run_in_threads(threads, [&](int t) {  // LLR's OpenMP thread count stays as it is
    c10::NoGradGuard g;
    at::Tensor wq = at::empty_like(v);
    RowBest& best = bests[size_t(t)];
    for (size_t k = size_t(t); k < total; k += size_t(threads)) {
      const size_t si = k / cands.size(), ci = k % cands.size();
      float* o = wq.data_ptr<float>();
      for (int64_t r = 0; r < q.rows; ++r)
        quantize_row_candidate(p + r * q.cols, q.cols, books[size_t(r)][ci], grid[si], q.sqrt2_branch(), q.k_odd, o + r * q.cols);
      at::Tensor d = run(wq.view(w.sizes())) - target;
      d = d * d;
      at::Tensor per_row;
      if (channels_last) per_row = d.reshape({-1, d.size(-1)}).to(at::kDouble).sum(0);
      else per_row = d.transpose(0, 1).reshape({d.size(1), -1}).to(at::kDouble).sum(1);
      const double* e = per_row.data_ptr<double>();
      for (int64_t r = 0; r < q.rows; ++r) best.offer(r, e[r], k);
    }
  });
  for (int t = 1; t < threads; ++t)
    for (int64_t r = 0; r < q.rows; ++r) bests[0].offer(r, bests[size_t(t)].err[size_t(r)], bests[size_t(t)].cand[size_t(r)]);
  for (int64_t r = 0; r < q.rows; ++r) {
    const size_t k = bests[0].cand[size_t(r)];
    q.set_row(r, int32_t(k / cands.size()), cands[k % cands.size()]);
  }
}

// ---- LLR ----------------------------------------------------------------------------------
namespace {
constexpr double kZeta = 1.1, kGamma = -0.1;
constexpr float kSqrt2f = 1.41421356237309504880f;
}  // namespace

LlrWeight::LlrWeight(const WeightQuant& q, const at::Tensor& w) : k_odd_(q.k_odd) {
  const at::Tensor v = rows_view(w);
  shape_ = w.sizes().vec();
  const int64_t R = q.rows, C = q.cols;
  f_ = at::empty({R, C});
  b_ = at::empty({R, C});
  z_ = at::empty({R, C});
  Lm1_ = at::empty({R, C});
  lo_ = at::empty({R, C});
  zc_ = at::empty({R, C}, at::kBool);
  sqrt2_ = at::empty({R, C}, at::kBool);
  sgn_ = at::empty({R, C});
  s_ = at::empty({R, 1});
  at::Tensor a0 = at::empty({R, C});
  const int32_t N = 1 << (q.n_bits - 1);
  const float* p = v.data_ptr<float>();
  for (int64_t r = 0; r < R; ++r) {
    const LogArtRow& row = q.book[size_t(r)];
    s_[r][0] = q.scale[size_t(r)];
    for (int64_t i = 0; i < C; ++i) {
      const int64_t k = r * C + i;
      const float x = p[k];
      const bool base2 = logart_is_base2(x, row, q.sqrt2_branch());
      const float u = logart_u(x, q.scale[size_t(r)], base2);
      const float fl = std::floor(u);
      const double rest = double(u - fl);
      const bool zc = q.sqrt2_branch() || base2;
      const int32_t L = row.pure2() || row.pure_sqrt2() || q.sqrt2_branch() ? N : (base2 ? row.c2 : row.cr);
      f_.data_ptr<float>()[k] = fl;
      b_.data_ptr<float>()[k] = base2 ? 2.0f : kSqrt2f;
      z_.data_ptr<float>()[k] = float(base2 ? row.z2 : row.zr);
      Lm1_.data_ptr<float>()[k] = float(L - 1);
      lo_.data_ptr<float>()[k] = zc ? -(1.0f + float(row.A) / 2.0f) : 0.0f;
      zc_.data_ptr<bool>()[k] = zc;
      sqrt2_.data_ptr<bool>()[k] = !base2;
      sgn_.data_ptr<float>()[k] = x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f;
      a0.data_ptr<float>()[k] = float(-std::log((kZeta - kGamma) / (rest - kGamma) - 1.0));
    }
  }
  alpha = a0.set_requires_grad(true);
}

at::Tensor LlrWeight::h() const { return at::clamp(at::sigmoid(alpha) * (kZeta - kGamma) + kGamma, 0.0, 1.0); }

at::Tensor LlrWeight::soft() const {
  const at::Tensor k = f_ + h();
  const at::Tensor e1 = at::maximum(k - z_, lo_);
  const at::Tensor e = at::minimum(e1, Lm1_);
  const at::Tensor ex = z_ + e;
  at::Tensor mag = at::pow(b_, ex);
  if (k_odd_ > 0) {  // P7: every non-even exponent in the √2 region gets ×K/√2, soft ones included
    const at::Tensor odd = sqrt2_ & (at::fmod(ex, 2.0) != 0);
    mag = at::where(odd, mag * float(k_odd_ / 1.4142135623730951), mag);
  }
  mag = at::where(zc_ & (e1 <= lo_), at::zeros_like(mag), mag);
  return (sgn_ * mag * s_).view(shape_);
}

at::Tensor LlrWeight::round_loss(double beta) const { return (1.0 - (h() * 2.0 - 1.0).abs().pow(beta)).sum(); }

std::vector<uint8_t> LlrWeight::hard_round_up() const {
  const at::Tensor up = (alpha.detach() >= 0).to(at::kByte).contiguous();
  return std::vector<uint8_t>(up.data_ptr<uint8_t>(), up.data_ptr<uint8_t>() + up.numel());
}

}  // namespace logq::logart
