#include "golden/gemm.h"
#include "golden/lower.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>

#include <immintrin.h>

#include <fmt/format.h>

#include "io/error.h"

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
// shift is a left shift). Log operands also keep each element's part of the term's shift and
// whether it is a zero code (skipped by the reference); uniform operands need neither.
struct Expanded {
  const int32_t* raw = nullptr;  // uniform operands: the d-values themselves, no copy
  std::vector<int64_t> v;        // log operands: exact expansion
  std::vector<int32_t> shift;    // log operands only
  std::vector<uint8_t> zero;     // log operands only
  int64_t max_abs = 0;
  bool exact = true;
  bool is_log() const { return raw == nullptr; }
  int64_t at(int64_t i) const { return raw ? raw[i] : v[i]; }
};

Expanded expand_uniform(const int32_t* d, int64_t n) {
  Expanded e;
  e.raw = d;
  int32_t hi = 0;
  for (int64_t i = 0; i < n; ++i) hi = std::max(hi, d[i] < 0 ? -d[i] : d[i]);  // |d| ≤ 2^16 in practice
  e.max_abs = hi;
  return e;
}

Expanded expand_x(const GemmProblem& p, const HwConfig& hw) {
  const int64_t n = p.M * p.K;
  if (p.pairing == Pairing::UxU || p.pairing == Pairing::LxU) return expand_uniform(p.x, n);
  Expanded e;
  e.v.assign(n, 0);
  e.shift.assign(n, 0);
  e.zero.assign(n, 0);
  const AdaLogTable& a = *p.a_table;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t x = p.x[i];
    if (x < 0 || x > a.zero_code) throw Error(fmt::format("gemm: AdaLog code {} outside [0, {}]", x, a.zero_code));
    if (x == a.zero_code) {
      e.zero[i] = 1;
      continue;
    }
    const int32_t s = hw.frac_bits - a.E[x];
    e.shift[i] = s;
    if (s < 0 || s > 40) e.exact = false;
    else e.v[i] = int64_t{a.M[x]} << s;
    e.max_abs = std::max(e.max_abs, e.v[i]);
  }
  return e;
}

Expanded expand_w(const GemmProblem& p, const HwConfig& hw) {
  const int64_t n = p.N * p.K;
  if (p.pairing == Pairing::UxU || p.pairing == Pairing::UxA) return expand_uniform(p.w_u, n);
  Expanded e;
  e.v.assign(n, 0);
  e.shift.assign(n, 0);
  e.zero.assign(n, 0);
  for (int64_t i = 0; i < n; ++i) {
    const LogWeightInt& w = p.w_l[i];
    if (w.sign == 0) {
      e.zero[i] = 1;
      continue;
    }
    e.shift[i] = w.k;
    if (w.k < 0 || w.k > 40) e.exact = false;
    else e.v[i] = w.sign * (int64_t{logart_mantissa(w.odd, hw.mant_frac_bits)} << w.k);
    e.max_abs = std::max(e.max_abs, std::abs(e.v[i]));
  }
  return e;
}

// Term statistics without visiting the M·N·K terms. With one log operand every term's shift and
// zero-ness come from that operand alone (each of its elements meets N, or M, partners); with
// two, per-column shift histograms are paired.
LayerStats term_stats(const GemmProblem& p, const Expanded& x, const Expanded& w) {
  LayerStats st;
  st.shift_hist.assign(kHistSize, 0);
  st.terms = p.M * p.N * p.K;
  if (!x.is_log() && !w.is_log()) {
    st.shift_hist[hist_bin(0)] = st.terms;
    return st;
  }
  if (x.is_log() != w.is_log()) {
    const Expanded& e = x.is_log() ? x : w;
    const int64_t partners = x.is_log() ? p.N : p.M;
    for (size_t i = 0; i < e.zero.size(); ++i) {
      if (e.zero[i]) st.zero_terms += partners;
      else st.shift_hist[hist_bin(e.shift[i])] += partners;
    }
    return st;
  }
  // Both log: hist_x[k][s], hist_w[k][s] over shifts s ∈ [−64, 63], filled row-major.
  std::vector<int64_t> hx(p.K * kHistSize, 0), hw(p.K * kHistSize, 0), nzx(p.K, 0), nzw(p.K, 0);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t k = 0; k < p.K; ++k)
      if (!x.zero[m * p.K + k]) ++nzx[k], ++hx[k * kHistSize + hist_bin(x.shift[m * p.K + k])];
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t k = 0; k < p.K; ++k)
      if (!w.zero[n * p.K + k]) ++nzw[k], ++hw[k * kHistSize + hist_bin(w.shift[n * p.K + k])];
  for (int64_t k = 0; k < p.K; ++k) {
    st.zero_terms += p.M * p.N - nzx[k] * nzw[k];
    for (int a = 0; a < kHistSize; ++a)
      if (hx[k * kHistSize + a])
        for (int b = 0; b < kHistSize; ++b)
          if (hw[k * kHistSize + b]) st.shift_hist[hist_bin(a + b - 2 * kHistOffset)] += hx[k * kHistSize + a] * hw[k * kHistSize + b];
  }
  return st;
}

// Per-thread scratch reused across calls: fresh multi-megabyte buffers every call cost more in
// page faults than the arithmetic on these machines.
struct Scratch {
  std::vector<int16_t> x16, w16, xpad, wpack;
  std::vector<int32_t> y32, x32, w32;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The hot loops. int16 operands with int32 sums: an AVX2 kernel (vpmaddwd, 16 MACs per
// instruction) where the CPU has it, else plain loops; int32 operands with int64 sums.
// Callers guarantee no partial sum exceeds int32 (acc_bits_for ≤ 32, |operands| ≤ 32767, so
// even a vpmaddwd pair sum 2·32767² fits).
void gemm_i16_scalar(const int16_t* x, const int16_t* w, int32_t* y, int64_t M, int64_t N, int64_t K) {
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int32_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += int32_t{x[m * K + k]} * w[n * K + k];
      y[m * N + n] = s;
    }
}

// Weights packed for the AVX2 kernel: blocks of 16 columns; within a block, for each k-pair p,
// 16 × (w[n][2p], w[n][2p+1]) — one 512-bit row per pair. K and N are zero-padded.
struct PackedW {
  const int16_t* v = nullptr;
  int64_t kp = 0, blocks = 0;  // k-pairs, 16-column blocks
};
PackedW pack_w(const int16_t* w, int64_t N, int64_t K, std::vector<int16_t>& buf) {
  PackedW p;
  p.kp = (K + 1) / 2;
  p.blocks = (N + 15) / 16;
  buf.assign(p.blocks * p.kp * 32, 0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) buf[((n / 16) * p.kp + k / 2) * 32 + (n % 16) * 2 + (k & 1)] = w[n * K + k];
  p.v = buf.data();
  return p;
}

__attribute__((target("avx2"))) void gemm_i16_avx2(const int16_t* x, const int16_t* w, int32_t* y, int64_t M, int64_t N, int64_t K) {
  Scratch& sc = scratch();
  const PackedW pw = pack_w(w, N, K, sc.wpack);
  const int64_t kpad = pw.kp * 2;
  std::vector<int16_t>& xp = sc.xpad;
  xp.assign(((M + 3) / 4 * 4) * kpad, 0);  // rows padded to 4, K padded to even
  for (int64_t m = 0; m < M; ++m) std::memcpy(xp.data() + m * kpad, x + m * K, K * sizeof(int16_t));
  alignas(32) int32_t tile[4][16];
  for (int64_t m = 0; m < M; m += 4) {
    const int16_t* xr = xp.data() + m * kpad;
    for (int64_t b = 0; b < pw.blocks; ++b) {
      __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
      const int16_t* wb = pw.v + b * pw.kp * 32;
      for (int64_t p = 0; p < pw.kp; ++p) {
        const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + p * 32));
        const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + p * 32 + 16));
        int32_t pair;
        std::memcpy(&pair, xr + 2 * p, 4);
        __m256i xv = _mm256_set1_epi32(pair);
        a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(xv, w0));
        a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(xv, w1));
        std::memcpy(&pair, xr + kpad + 2 * p, 4);
        xv = _mm256_set1_epi32(pair);
        a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(xv, w0));
        a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(xv, w1));
        std::memcpy(&pair, xr + 2 * kpad + 2 * p, 4);
        xv = _mm256_set1_epi32(pair);
        a20 = _mm256_add_epi32(a20, _mm256_madd_epi16(xv, w0));
        a21 = _mm256_add_epi32(a21, _mm256_madd_epi16(xv, w1));
        std::memcpy(&pair, xr + 3 * kpad + 2 * p, 4);
        xv = _mm256_set1_epi32(pair);
        a30 = _mm256_add_epi32(a30, _mm256_madd_epi16(xv, w0));
        a31 = _mm256_add_epi32(a31, _mm256_madd_epi16(xv, w1));
      }
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[0]), a00);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[0] + 8), a01);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[1]), a10);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[1] + 8), a11);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[2]), a20);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[2] + 8), a21);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[3]), a30);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tile[3] + 8), a31);
      const int64_t cols = std::min<int64_t>(16, N - b * 16);
      for (int64_t r = 0; r < 4 && m + r < M; ++r) std::memcpy(y + (m + r) * N + b * 16, tile[r], cols * sizeof(int32_t));
    }
  }
}

bool g_simd = true;

void gemm_i16(const int16_t* x, const int16_t* w, int32_t* y, int64_t M, int64_t N, int64_t K) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2 && g_simd) gemm_i16_avx2(x, w, y, M, N, K);
  else gemm_i16_scalar(x, w, y, M, N, K);
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
void narrow_into(const Expanded& e, int64_t n, std::vector<T>& out) {
  out.resize(n);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(e.at(i));
}

// Rows [0, rows) of e (row length K), columns [kb, kb + B), as T (|values| with magnitude).
template <typename T>
void gather_slice(const Expanded& e, int64_t rows, int64_t K, int64_t kb, int64_t B, bool magnitude, std::vector<T>& out) {
  out.resize(rows * B);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < B; ++k) {
      const int64_t v = e.at(r * K + kb + k);
      out[r * B + k] = static_cast<T>(magnitude ? std::abs(v) : v);
    }
}

// Σ over k in [kb, ke) of x·w (or |x|·|w|) for every output, by the fast kernels on that K slice.
void slice_sums(const GemmProblem& p, const Expanded& x, const Expanded& w, int64_t kb, int64_t ke, bool magnitude, bool i16,
                std::vector<int64_t>& out) {
  const int64_t B = ke - kb;
  Scratch& sc = scratch();
  out.resize(p.M * p.N);
  if (i16) {
    gather_slice(x, p.M, p.K, kb, B, magnitude, sc.x16);
    gather_slice(w, p.N, p.K, kb, B, magnitude, sc.w16);
    sc.y32.resize(p.M * p.N);
    gemm_i16(sc.x16.data(), sc.w16.data(), sc.y32.data(), p.M, p.N, B);
    std::copy(sc.y32.begin(), sc.y32.end(), out.begin());
    return;
  }
  gather_slice(x, p.M, p.K, kb, B, magnitude, sc.x32);
  gather_slice(w, p.N, p.K, kb, B, magnitude, sc.w32);
  for (int64_t m = 0; m < p.M; ++m) dot_rows_i32(sc.x32.data() + m * B, sc.w32.data(), out.data() + m * p.N, p.N, B);
}

int64_t wrap64(int64_t v, int bits) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = static_cast<uint64_t>(v) & mask;
  if (u >> (bits - 1) & 1) u |= ~mask;  // sign-extend
  return static_cast<int64_t>(u);
}

// One output term by term, as Accumulator::add does (a term that does not fit wraps and counts;
// a sum that leaves the range wraps and counts), on the exact expansion: term k = x'·w' (the
// caller's exact operands with |x'·w'|·K < 2^62, so nothing here overflows int64).
int64_t accumulate_wrapping(const Expanded& x, const Expanded& w, int64_t xo, int64_t wo, int64_t K, int bits, int64_t& overflows) {
  int64_t value = 0;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t t = x.at(xo + k) * w.at(wo + k), tw = wrap64(t, bits), exact = value + tw;
    value = wrap64(exact, bits);
    overflows += (tw != t || value != exact) ? 1 : 0;
  }
  return value;
}

// An accumulator narrower than the worst case (e.g. explore's 20-bit points): most outputs'
// partial sums still fit. Each output's partial sums are bounded block by block of K — |the exact
// sum before the block| + Σ|terms in the block| — with the fast kernels; an output whose bound
// stays inside the W-bit range never wraps, so its value is the kernel's sum and it has no
// overflow. Only the others are accumulated term by term (the reference's exact wraps and counts).
constexpr int64_t kBoundBlock = 32;

GemmResult gemm_narrow(const GemmProblem& p, const HwConfig& hw, const Expanded& x, const Expanded& w) {
  const __int128 prod = static_cast<__int128>(x.max_abs) * w.max_abs;
  const bool i16 = x.max_abs <= INT16_MAX && w.max_abs <= INT16_MAX && acc_bits_for(static_cast<int64_t>(prod), 0, kBoundBlock) <= 32;
  if (!i16 && (x.max_abs > INT32_MAX || w.max_abs > INT32_MAX)) return gemm_reference(p, hw);
  const int64_t limit = (int64_t{1} << (hw.acc_bits - 1)) - 1;  // |partial sum| <= limit fits [-2^(W-1), 2^(W-1))
  std::vector<int64_t> sum(p.M * p.N, 0), block, magnitude;
  std::vector<uint8_t> may_wrap(p.M * p.N, 0);
  for (int64_t kb = 0; kb < p.K; kb += kBoundBlock) {
    const int64_t ke = std::min(p.K, kb + kBoundBlock);
    slice_sums(p, x, w, kb, ke, false, i16, block);
    slice_sums(p, x, w, kb, ke, true, i16, magnitude);
    for (size_t i = 0; i < sum.size(); ++i) {
      if (std::abs(sum[i]) + magnitude[i] > limit) may_wrap[i] = 1;
      sum[i] += block[i];
    }
  }
  GemmResult r;
  r.stats = term_stats(p, x, w);
  r.acc = std::move(sum);
  for (int64_t m = 0; m < p.M; ++m)
    for (int64_t n = 0; n < p.N; ++n)
      if (may_wrap[m * p.N + n]) r.acc[m * p.N + n] = accumulate_wrapping(x, w, m * p.K, n * p.K, p.K, hw.acc_bits, r.stats.overflows);
  for (int64_t v : r.acc) r.stats.max_abs_acc = std::max(r.stats.max_abs_acc, std::abs(v));
  return r;
}

}  // namespace

bool set_gemm_simd(bool enabled) {
  const bool old = g_simd;
  g_simd = enabled;
  return old;
}

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

GemmProblem OwnedGemm::problem() const {
  return {pairing, M, N, K, x.data(), w_u.empty() ? nullptr : w_u.data(), w_l.empty() ? nullptr : w_l.data(), a_table};
}

OwnedGemm gemm_k_chunk(const GemmProblem& p, int64_t k0, int64_t kb) {
  check_problem(p);
  if (k0 < 0 || kb < 1 || k0 + kb > p.K) throw Error(fmt::format("K chunk [{}, {}) outside K = {}", k0, k0 + kb, p.K));
  OwnedGemm c{p.pairing, p.M, p.N, kb, {}, {}, {}, p.a_table};
  const auto columns = [&](auto* src, int64_t rows, auto& dst) {
    dst.reserve(static_cast<size_t>(rows * kb));
    for (int64_t r = 0; r < rows; ++r) dst.insert(dst.end(), src + r * p.K + k0, src + r * p.K + k0 + kb);
  };
  columns(p.x, p.M, c.x);
  if (p.w_u) columns(p.w_u, p.N, c.w_u);
  if (p.w_l) columns(p.w_l, p.N, c.w_l);
  return c;
}

void add_partial_sums(std::vector<int64_t>& sum, const std::vector<int64_t>& part, int acc_bits) {
  if (sum.size() != part.size()) throw Error(fmt::format("partial sums: {} accumulators plus {}", sum.size(), part.size()));
  for (size_t i = 0; i < sum.size(); ++i) sum[i] = wrap_to_bits(static_cast<__int128>(sum[i]) + part[i], acc_bits);
}

GemmResult gemm(const GemmProblem& p, const HwConfig& hw) {
  check_problem(p);
  const Expanded x = expand_x(p, hw), w = expand_w(p, hw);
  if (!x.exact || !w.exact) return gemm_reference(p, hw);
  const __int128 prod = static_cast<__int128>(x.max_abs) * w.max_abs;
  if (prod >= (static_cast<__int128>(1) << 62)) return gemm_reference(p, hw);
  const int need = acc_bits_for(static_cast<int64_t>(prod), 0, std::max<int64_t>(p.K, 1));
  if (need > 63) return gemm_reference(p, hw);
  if (need > hw.acc_bits) return gemm_narrow(p, hw, x, w);  // overflow possible: bound it, count it exactly

  GemmResult r;
  r.stats = term_stats(p, x, w);
  r.acc.resize(p.M * p.N);
  Scratch& sc = scratch();
  if (need <= 32 && x.max_abs <= INT16_MAX && w.max_abs <= INT16_MAX) {
    narrow_into(x, p.M * p.K, sc.x16);
    narrow_into(w, p.N * p.K, sc.w16);
    sc.y32.resize(p.M * p.N);
    gemm_i16(sc.x16.data(), sc.w16.data(), sc.y32.data(), p.M, p.N, p.K);
    std::copy(sc.y32.begin(), sc.y32.end(), r.acc.begin());
  } else if (x.max_abs <= INT32_MAX && w.max_abs <= INT32_MAX) {
    narrow_into(x, p.M * p.K, sc.x32);
    narrow_into(w, p.N * p.K, sc.w32);
    for (int64_t m = 0; m < p.M; ++m) dot_rows_i32(sc.x32.data() + m * p.K, sc.w32.data(), r.acc.data() + m * p.N, p.N, p.K);
  } else {
    return gemm_reference(p, hw);
  }
  for (int64_t v : r.acc) r.stats.max_abs_acc = std::max(r.stats.max_abs_acc, std::abs(v));
  return r;
}

void add_stats(LayerStats& into, const LayerStats& s) {
  into.terms += s.terms;
  into.zero_terms += s.zero_terms;
  into.overflows += s.overflows;
  into.max_abs_acc = std::max(into.max_abs_acc, s.max_abs_acc);
  if (into.shift_hist.size() < s.shift_hist.size()) into.shift_hist.resize(s.shift_hist.size(), 0);
  for (size_t i = 0; i < s.shift_hist.size(); ++i) into.shift_hist[i] += s.shift_hist[i];
}

// The conv2d and attention jobs come from golden/lower (the one lowering); each job's result is
// placed into the layer's output.
namespace {
GemmResult run_lowered(int64_t out_size, const std::function<void(const JobFn&)>& lower, const HwConfig& hw, bool reference) {
  GemmResult out;
  out.acc.assign(static_cast<size_t>(out_size), 0);
  out.stats.shift_hist.assign(kHistSize, 0);
  lower([&](const GemmProblem& p, const JobPlace& at) {
    const GemmResult r = reference ? gemm_reference(p, hw) : gemm(p, hw);
    for (int64_t m = 0; m < p.M; ++m)
      for (int64_t n = 0; n < p.N; ++n) out.acc[at.at(m, n)] = r.acc[m * p.N + n];
    add_stats(out.stats, r.stats);
  });
  return out;
}
}  // namespace

GemmResult conv2d(const Conv2dShape& s, Pairing pairing, const int32_t* x, const int32_t* w_u,
                  const LogWeightInt* w_l, const AdaLogTable* a_table, const HwConfig& hw, bool reference) {
  return run_lowered(s.O * std::max<int64_t>(s.OH(), 0) * std::max<int64_t>(s.OW(), 0),
                     [&](const JobFn& fn) { lower_conv2d(s, pairing, x, w_u, w_l, a_table, fn); }, hw, reference);
}

GemmResult attention_qk(int64_t heads, int64_t n, int64_t d, const int32_t* q, const int32_t* k, const HwConfig& hw) {
  return run_lowered(heads * n * n, [&](const JobFn& fn) { lower_heads(Pairing::UxU, heads, n, n, d, q, k, false, nullptr, fn); }, hw, false);
}

GemmResult attention_pv(int64_t heads, int64_t n, int64_t d, const int32_t* probs, const int32_t* v,
                        const AdaLogTable& a, const HwConfig& hw) {
  return run_lowered(heads * n * d, [&](const JobFn& fn) { lower_heads(Pairing::UxA, heads, n, d, n, probs, v, true, &a, fn); }, hw, false);
}

}  // namespace logq
