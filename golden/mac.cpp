#include "golden/mac.h"

#include <array>
#include <cmath>

#include <fmt/format.h>

#include "io/error.h"

namespace logq {

int32_t logart_row_floor(int32_t e_min) { return e_min >> 1; }  // C++20-defined, GCC-defined arithmetic shift

LogWeightInt logart_int(const LogWeight& w, int32_t row_floor) {
  LogWeightInt r;
  if (w.sign == 0) return r;
  r.sign = w.sign;
  r.odd = static_cast<uint8_t>(w.E & 1);
  r.k = (w.E >> 1) - row_floor;
  return r;
}

int32_t logart_mantissa(bool odd, int f) {
  static const auto odd_mantissas = [] {  // round(√2·2^f), f = 0..30, computed once
    std::array<int32_t, 31> t{};
    for (int i = 0; i < 31; ++i) t[i] = static_cast<int32_t>(std::nearbyint(std::sqrt(2.0) * std::ldexp(1.0, i)));
    return t;
  }();
  if (f < 0 || f > 30) throw Error(fmt::format("LogART mantissa fraction bits {} outside 0..30", f));
  return odd ? odd_mantissas[f] : (1 << f);
}

MacTerm mac_uu(int32_t dw, int32_t da) { return {int64_t{dw} * da, 0, false}; }

MacTerm mac_ua(int32_t dw, int32_t a_code, const AdaLogTable& a, int frac_bits) {
  if (a_code >= a.zero_code) return {0, 0, true};
  return {int64_t{dw} * a.M[a_code], frac_bits - a.E[a_code], false};
}

MacTerm mac_lu(const LogWeightInt& w, int32_t da, int f) {
  if (w.sign == 0) return {0, 0, true};
  // f = 1: (d << 1) + (odd ? d : 0), shifts and one add.
  return {w.sign * int64_t{da} * logart_mantissa(w.odd, f), w.k, false};
}

MacTerm mac_la(const LogWeightInt& w, int32_t a_code, const AdaLogTable& a, const HwConfig& hw) {
  if (w.sign == 0 || a_code >= a.zero_code) return {0, 0, true};
  return {w.sign * int64_t{a.M[a_code]} * logart_mantissa(w.odd, hw.mant_frac_bits),
          w.k + hw.frac_bits - a.E[a_code], false};
}

int64_t wrap_to_bits(__int128 v, int bits) {
  const unsigned __int128 mask = bits >= 128 ? ~static_cast<unsigned __int128>(0) : ((static_cast<unsigned __int128>(1) << bits) - 1);
  unsigned __int128 u = static_cast<unsigned __int128>(v) & mask;
  if (u >> (bits - 1) & 1) u |= ~mask;  // sign-extend
  return static_cast<int64_t>(static_cast<__int128>(u));
}

int64_t shifted_term(const MacTerm& t, const HwConfig& hw, bool* wrapped) {
  __int128 v;
  if (t.shift >= 0) {
    // Shifted by 64 or more, every bit leaves a ≤64-bit accumulator: the term's W low bits are 0.
    if (t.shift >= 64) {
      *wrapped = t.product != 0;
      return 0;
    }
    v = static_cast<__int128>(t.product) * (static_cast<__int128>(1) << t.shift);
  } else {
    const int r = std::min(-t.shift, 100);
    __int128 p = t.product;
    if (hw.rounding == ShiftRounding::HalfUp) p += static_cast<__int128>(1) << (r - 1);
    v = p >> r;  // arithmetic shift on a signed 128-bit value: floor
  }
  const int64_t w = wrap_to_bits(v, hw.acc_bits);
  *wrapped = w != v;
  return w;
}

void Accumulator::add(const MacTerm& t, const HwConfig& hw) {
  if (t.zero) return;
  bool wrapped = false;
  const int64_t term = shifted_term(t, hw, &wrapped);
  const __int128 exact = static_cast<__int128>(value) + term;
  value = wrap_to_bits(exact, hw.acc_bits);
  overflows += (wrapped || value != exact) ? 1 : 0;
}

float dequant_output(int64_t acc, int frac_bits, float scale_product, float bias) {
  return static_cast<float>(std::ldexp(static_cast<double>(acc), -frac_bits) * scale_product) + bias;
}

int acc_bits_for(int64_t max_abs_product, int32_t max_left_shift, int64_t K) {
  if (max_abs_product < 0 || K < 1 || max_left_shift < 0) throw Error("acc_bits_for: invalid bound");
  int bits = 0;
  while (bits < 63 && (int64_t{1} << bits) <= max_abs_product) ++bits;  // |P| < 2^bits
  int logk = 0;
  while (logk < 63 && (int64_t{1} << logk) < K) ++logk;  // K ≤ 2^logk
  return bits + max_left_shift + logk + 1;  // |Σ| < K·2^(bits+shift) ≤ 2^(bits+shift+logk), plus sign
}

HwConfig default_hw_config(const LayerFormats& f, int64_t K, int mant_frac_bits, ShiftRounding rounding) {
  HwConfig hw;
  hw.mant_frac_bits = mant_frac_bits;
  hw.rounding = rounding;
  const bool log_w = f.pairing == Pairing::LxU || f.pairing == Pairing::LxA;
  const bool log_a = f.pairing == Pairing::UxA || f.pairing == Pairing::LxA;
  if (log_a && !f.a_table) throw Error("default_hw_config: AdaLog activations need their table");
  const int64_t w_max = log_w ? logart_mantissa(true, mant_frac_bits) : (int64_t{1} << f.w_bits) - 1;
  const int64_t a_max = log_a ? f.a_table->D : (int64_t{1} << f.a_bits) - 1;
  const int32_t span = log_w ? (f.log_span >= 0 ? f.log_span : (1 << f.w_bits) - 1) : 0;
  int F = log_a ? f.a_table->E.back() : 0;  // exact mode: no right shift
  while (F > 0 && acc_bits_for(w_max * a_max, span + F, K) > 64) --F;
  hw.frac_bits = F;
  hw.acc_bits = acc_bits_for(w_max * a_max, span + F, K);
  if (hw.acc_bits > 64) throw Error(fmt::format("default_hw_config: no accumulator of ≤ 64 bits holds this layer (K = {})", K));
  return hw;
}

}  // namespace logq
