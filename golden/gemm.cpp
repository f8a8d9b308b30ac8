#include "golden/gemm.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "golden/error.h"

namespace logq {

namespace {

constexpr int kHistOffset = 64, kHistSize = 128;

int hist_bin(int32_t shift) { return std::clamp(shift, -kHistOffset, kHistSize - 1 - kHistOffset) + kHistOffset; }

void check_problem(const GemmProblem& p) {
  const bool log_w = p.pairing == Pairing::LxU || p.pairing == Pairing::LxA;
  const bool log_a = p.pairing == Pairing::UxA || p.pairing == Pairing::LxA;
  if (p.M < 0 || p.N < 0 || p.K < 0 || !p.x || (log_w ? !p.w_l : !p.w_u) || (log_a && !p.a_table))
    throw Error("gemm: operands missing for the pairing");
}

MacTerm term(const GemmProblem& p, int64_t m, int64_t n, int64_t k, const HwConfig& hw) {
  const int32_t x = p.x[m * p.K + k];
  switch (p.pairing) {
    case Pairing::UxU: return mac_uu(p.w_u[n * p.K + k], x);
    case Pairing::UxA: return mac_ua(p.w_u[n * p.K + k], x, *p.a_table, hw.frac_bits);
    case Pairing::LxU: return mac_lu(p.w_l[n * p.K + k], x, hw.mant_frac_bits);
    case Pairing::LxA: return mac_la(p.w_l[n * p.K + k], x, *p.a_table, hw);
  }
  return {};
}

// Exact integer expansion of each operand: term = X'·W' with no shift (valid only when every
// shift is a left shift). `zero` marks the zero codes the reference skips.
struct Expanded {
  std::vector<int64_t> v;
  std::vector<int32_t> shift;  // the operand's part of the term's shift
  std::vector<uint8_t> zero;
  int64_t max_abs = 0;
  bool exact = true;
};

Expanded expand_x(const GemmProblem& p, const HwConfig& hw) {
  Expanded e;
  const int64_t n = p.M * p.K;
  e.v.resize(n);
  e.shift.assign(n, 0);
  e.zero.assign(n, 0);
  const bool log_a = p.pairing == Pairing::UxA || p.pairing == Pairing::LxA;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = p.x[i];
    if (!log_a) {
      e.v[i] = x;
    } else if (x < 0 || x > p.a_table->zero_code) {
      throw Error(fmt::format("gemm: AdaLog code {} outside [0, {}]", x, p.a_table->zero_code));
    } else if (x == p.a_table->zero_code) {
      e.zero[i] = 1;
      e.v[i] = 0;
    } else {
      const int32_t s = hw.frac_bits - p.a_table->E[x];
      e.shift[i] = s;
      if (s < 0 || s > 40) e.exact = false;
      else e.v[i] = int64_t{p.a_table->M[x]} << s;
    }
    e.max_abs = std::max(e.max_abs, std::abs(e.v[i]));
  }
  return e;
}

Expanded expand_w(const GemmProblem& p, const HwConfig& hw) {
  Expanded e;
  const int64_t n = p.N * p.K;
  e.v.resize(n);
  e.shift.assign(n, 0);
  e.zero.assign(n, 0);
  const bool log_w = p.pairing == Pairing::LxU || p.pairing == Pairing::LxA;
  for (int64_t i = 0; i < n; ++i) {
    if (!log_w) {
      e.v[i] = p.w_u[i];
    } else {
      const LogWeightInt& w = p.w_l[i];
      if (w.sign == 0) {
        e.zero[i] = 1;
        e.v[i] = 0;
      } else {
        e.shift[i] = w.k;
        if (w.k < 0 || w.k > 40) e.exact = false;
        else e.v[i] = w.sign * (int64_t{logart_mantissa(w.odd, hw.mant_frac_bits)} << w.k);
      }
    }
    e.max_abs = std::max(e.max_abs, std::abs(e.v[i]));
  }
  return e;
}

// Term statistics from per-column operand histograms: O(K·(M+N)), equal to counting every term.
LayerStats column_stats(const GemmProblem& p, const Expanded& x, const Expanded& w) {
  LayerStats st;
  st.shift_hist.assign(kHistSize, 0);
  st.terms = p.M * p.N * p.K;
  std::vector<int64_t> hx(kHistSize), hw(kHistSize);
  for (int64_t k = 0; k < p.K; ++k) {
    std::fill(hx.begin(), hx.end(), 0);
    std::fill(hw.begin(), hw.end(), 0);
    int64_t nzx = 0, nzw = 0;
    for (int64_t m = 0; m < p.M; ++m)
      if (!x.zero[m * p.K + k]) { ++nzx; ++hx[x.shift[m * p.K + k] + kHistOffset]; }
    for (int64_t n = 0; n < p.N; ++n)
      if (!w.zero[n * p.K + k]) { ++nzw; ++hw[w.shift[n * p.K + k] + kHistOffset]; }
    st.zero_terms += p.M * p.N - nzx * nzw;
    for (int a = 0; a < kHistSize; ++a)
      if (hx[a])
        for (int b = 0; b < kHistSize; ++b)
          if (hw[b]) st.shift_hist[hist_bin(a + b - 2 * kHistOffset)] += hx[a] * hw[b];
  }
  return st;
}

// The hot loops. int16 operands with int32 sums (pmaddwd under AVX2), and int32 operands with
// int64 sums. Four output columns at a time share each activation load.
__attribute__((target_clones("avx2", "default")))
void dot_rows_i16(const int16_t* x, const int16_t* w, int32_t* y, int64_t N, int64_t K) {
  int64_t n = 0;
  for (; n + 4 <= N; n += 4) {
    const int16_t *w0 = w + n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int64_t k = 0; k < K; ++k) {
      const int32_t xv = x[k];
      s0 += xv * w0[k];
      s1 += xv * w1[k];
      s2 += xv * w2[k];
      s3 += xv * w3[k];
    }
    y[n] = s0, y[n + 1] = s1, y[n + 2] = s2, y[n + 3] = s3;
  }
  for (; n < N; ++n) {
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) s += int32_t{x[k]} * w[n * K + k];
    y[n] = s;
  }
}

__attribute__((target_clones("avx2", "default")))
void dot_rows_i32(const int32_t* x, const int32_t* w, int64_t* y, int64_t N, int64_t K) {
  for (int64_t n = 0; n < N; ++n) {
    int64_t s = 0;
    for (int64_t k = 0; k < K; ++k) s += int64_t{x[k]} * w[n * K + k];
    y[n] = s;
  }
}

template <typename T>
std::vector<T> narrow(const std::vector<int64_t>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

GemmResult gemm_reference(const GemmProblem& p, const HwConfig& hw) {
  check_problem(p);
  GemmResult r;
  r.acc.assign(p.M * p.N, 0);
  r.stats.shift_hist.assign(kHistSize, 0);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n) {
      Accumulator acc;
      for (int64_t k = 0; k < p.K; ++k) {
        const MacTerm t = term(p, m, n, k, hw);
        ++r.stats.terms;
        if (t.zero) ++r.stats.zero_terms;
        else ++r.stats.shift_hist[hist_bin(t.shift)];
        acc.add(t, hw);
      }
      r.acc[m * p.N + n] = acc.value;
      r.stats.overflows += acc.overflows;
      r.stats.max_abs_acc = std::max(r.stats.max_abs_acc, std::abs(acc.value));
    }
  return r;
}

WidthBound required_width(const GemmProblem& p, const HwConfig& hw) {
  check_problem(p);
  const Expanded x = expand_x(p, hw), w = expand_w(p, hw);
  WidthBound b;
  b.exact = x.exact && w.exact;
  __int128 prod = static_cast<__int128>(x.max_abs) * w.max_abs;
  if (!b.exact || prod >= (static_cast<__int128>(1) << 62)) {
    b.acc_bits = 65;  // not expressible as one bound below 64 bits
    return b;
  }
  b.acc_bits = acc_bits_for(static_cast<int64_t>(prod), 0, std::max<int64_t>(p.K, 1));
  return b;
}

GemmResult gemm(const GemmProblem& p, const HwConfig& hw) {
  check_problem(p);
  const Expanded x = expand_x(p, hw), w = expand_w(p, hw);
  if (!x.exact || !w.exact) return gemm_reference(p, hw);
  const __int128 prod = static_cast<__int128>(x.max_abs) * w.max_abs;
  if (prod >= (static_cast<__int128>(1) << 62)) return gemm_reference(p, hw);
  const int need = acc_bits_for(static_cast<int64_t>(prod), 0, std::max<int64_t>(p.K, 1));
  if (need > hw.acc_bits || need > 63) return gemm_reference(p, hw);  // overflow possible: count it exactly

  GemmResult r;
  r.stats = column_stats(p, x, w);
  r.acc.assign(p.M * p.N, 0);
  if (need <= 32 && x.max_abs <= INT16_MAX && w.max_abs <= INT16_MAX) {
    const auto xs = narrow<int16_t>(x.v), ws = narrow<int16_t>(w.v);
    std::vector<int32_t> row(p.N);
    for (int64_t m = 0; m < p.M; ++m) {
      dot_rows_i16(xs.data() + m * p.K, ws.data(), row.data(), p.N, p.K);
      std::copy(row.begin(), row.end(), r.acc.begin() + m * p.N);
    }
  } else if (x.max_abs <= INT32_MAX && w.max_abs <= INT32_MAX) {
    const auto xs = narrow<int32_t>(x.v), ws = narrow<int32_t>(w.v);
    for (int64_t m = 0; m < p.M; ++m) dot_rows_i32(xs.data() + m * p.K, ws.data(), r.acc.data() + m * p.N, p.N, p.K);
  } else {
    return gemm_reference(p, hw);
  }
  for (int64_t v : r.acc) r.stats.max_abs_acc = std::max(r.stats.max_abs_acc, std::abs(v));
  return r;
}

namespace {
void merge(LayerStats& into, const LayerStats& s) {
  into.terms += s.terms;
  into.zero_terms += s.zero_terms;
  into.overflows += s.overflows;
  into.max_abs_acc = std::max(into.max_abs_acc, s.max_abs_acc);
  if (into.shift_hist.empty()) into.shift_hist.assign(kHistSize, 0);
  for (size_t i = 0; i < s.shift_hist.size(); ++i) into.shift_hist[i] += s.shift_hist[i];
}
}  // namespace

GemmResult conv2d(const Conv2dShape& s, Pairing pairing, const int32_t* x, const int32_t* w_u,
                  const LogWeightInt* w_l, const AdaLogTable* a_table, const HwConfig& hw, bool reference) {
  if (s.groups < 1 || s.C % s.groups || s.O % s.groups || s.stride < 1 || s.dilation < 1 || s.pad < 0 || s.OH() < 1 || s.OW() < 1)
    throw Error(fmt::format("conv2d: invalid shape C={} O={} groups={} H={} W={} k={}x{}", s.C, s.O, s.groups, s.H, s.W, s.kh, s.kw));
  const bool log_a = pairing == Pairing::UxA || pairing == Pairing::LxA;
  const int32_t pad_value = log_a ? a_table->zero_code : 0;  // a real zero: d = 0, or the AdaLog zero state
  const int64_t cg = s.C / s.groups, og = s.O / s.groups, K = cg * s.kh * s.kw, OH = s.OH(), OW = s.OW(), P = OH * OW;
  GemmResult out;
  out.acc.assign(s.O * P, 0);
  out.stats.shift_hist.assign(kHistSize, 0);
  std::vector<int32_t> cols(P * K);
  for (int64_t g = 0; g < s.groups; ++g) {
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox) {
        int32_t* col = cols.data() + (oy * OW + ox) * K;
        for (int64_t c = 0; c < cg; ++c)
          for (int64_t ky = 0; ky < s.kh; ++ky)
            for (int64_t kx = 0; kx < s.kw; ++kx) {
              const int64_t iy = oy * s.stride - s.pad + ky * s.dilation, ix = ox * s.stride - s.pad + kx * s.dilation;
              const bool inside = iy >= 0 && iy < s.H && ix >= 0 && ix < s.W;
              *col++ = inside ? x[((g * cg + c) * s.H + iy) * s.W + ix] : pad_value;
            }
      }
    GemmProblem p{pairing, P, og, K, cols.data(), w_u ? w_u + g * og * K : nullptr, w_l ? w_l + g * og * K : nullptr, a_table};
    const GemmResult r = reference ? gemm_reference(p, hw) : gemm(p, hw);
    for (int64_t i = 0; i < P; ++i)
      for (int64_t o = 0; o < og; ++o) out.acc[(g * og + o) * P + i] = r.acc[i * og + o];
    merge(out.stats, r.stats);
  }
  return out;
}

GemmResult attention_qk(int64_t heads, int64_t n, int64_t d, const int32_t* q, const int32_t* k, const HwConfig& hw) {
  GemmResult out;
  out.acc.reserve(heads * n * n);
  for (int64_t h = 0; h < heads; ++h) {
    GemmProblem p{Pairing::UxU, n, n, d, q + h * n * d, k + h * n * d, nullptr, nullptr};
    const GemmResult r = gemm(p, hw);
    out.acc.insert(out.acc.end(), r.acc.begin(), r.acc.end());
    merge(out.stats, r.stats);
  }
  return out;
}

GemmResult attention_pv(int64_t heads, int64_t n, int64_t d, const int32_t* probs, const int32_t* v,
                        const AdaLogTable& a, const HwConfig& hw) {
  GemmResult out;
  out.acc.reserve(heads * n * d);
  std::vector<int32_t> vt(d * n);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < d; ++j) vt[j * n + t] = v[(h * n + t) * d + j];  // V_hᵀ: rows are output columns
    GemmProblem p{Pairing::UxA, n, d, n, probs + h * n * n, vt.data(), nullptr, &a};
    const GemmResult r = gemm(p, hw);
    out.acc.insert(out.acc.end(), r.acc.begin(), r.acc.end());
    merge(out.stats, r.stats);
  }
  return out;
}

}  // namespace logq
