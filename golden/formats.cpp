#include "golden/formats.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "io/error.h"

namespace logq {

float round_half_even(float v) { return std::nearbyint(v); }

int32_t uniform_zero(float zero_point) { return static_cast<int32_t>(round_half_even(zero_point)); }

int32_t uniform_encode(float x, float scale, float zero_point, int bits) {
  const float v = round_half_even(x / scale) + round_half_even(zero_point);
  const float hi = static_cast<float>((1 << bits) - 1);
  if (!(v >= 0.0f)) return 0;  // also NaN -> 0, as clamp(NaN) is undefined in the reference
  return static_cast<int32_t>(std::min(v, hi));
}

float uniform_decode_ref(int32_t code, float scale, float zero_point) {
  return (static_cast<float>(code) - round_half_even(zero_point)) * scale;
}

AdaLogTable make_adalog_table(int bits, int q) {
  if (bits < 1 || bits > 8) throw Error(fmt::format("AdaLog bits {} outside 1..8", bits));
  if (q < 1) throw Error(fmt::format("AdaLog q {} must be positive", q));
  AdaLogTable t;
  t.bits = bits;
  t.q = q;
  t.D = (1 << (bits + 1)) - 2;
  t.zero_code = 1 << bits;
  for (int32_t c = 0; c < t.zero_code; ++c) {
    const int32_t j = (c * q) % 37;
    t.E.push_back((c * q) / 37);
    // update_table(): double precision, then stored float32. No entry is near a .5 tie (spec).
    const double m = std::nearbyint(t.D * std::exp2(-j / 37.0));
    t.M.push_back(static_cast<int32_t>(m));
    t.t1.push_back(static_cast<float>(t.E.back()));
    t.t2.push_back(static_cast<float>(m / t.D));
  }
  return t;
}

float adalog_u(float x, float scale, int q) {
  const float t = std::clamp(x / scale, 1e-15f, 1.0f);
  return (-std::log2(t) * kAdaLogR) / static_cast<float>(q);
}

int32_t adalog_round(float x, float scale, int q) { return static_cast<int32_t>(round_half_even(adalog_u(x, scale, q))); }

int32_t adalog_encode(float x, float scale, const AdaLogTable& t) {
  if (std::isnan(x)) return t.zero_code;
  const int32_t cr = adalog_round(x, scale, t.q);
  return cr >= t.zero_code ? t.zero_code : std::max(cr, 0);
}

float adalog_decode_ref(int32_t code, float scale, const AdaLogTable& t) {
  if (code >= t.zero_code) return 0.0f;
  const float p = std::exp2(-t.t1[code]);  // exact power of two (0 below 2^-149, as in float32 torch)
  return p * t.t2[code] * scale;
}

double adalog_value(int32_t code, double scale, const AdaLogTable& t) {
  if (code >= t.zero_code) return 0.0;
  return std::ldexp(scale * t.M[code] / t.D, -t.E[code]);
}

namespace {
constexpr float kSqrt2 = 1.41421356237309504880f;  // float32 √2, as torch.sqrt(2) / math.sqrt(2)

float lg(float v) { return std::log2(v + 1e-32f); }       // log2(v + 1e-32) in float32
int32_t R(float v) { return static_cast<int32_t>(std::floor(v + 0.5f)); }  // range rounding, half up
int32_t floor_div2(int32_t v, M2Rounding m) { return m == M2Rounding::Floor ? (v >= 0 ? v / 2 : -((-v + 1) / 2)) : v / 2; }
}  // namespace

LogArtRow logart_row(float xplus, float xminus, int n_bits, int c2, bool sym, M2Rounding m2) {
  if (n_bits < 2 || n_bits > 16) throw Error(fmt::format("LogART bits {} outside 2..16", n_bits));
  if (!(xplus > 0 || xminus > 0)) throw Error("LogART: an all-zero weight row has no codebook");
  if (sym) xplus = xminus = std::max(xplus, xminus);
  const int32_t N = 1 << (n_bits - 1), cap = 1 << n_bits;
  LogArtRow r;
  r.n_bits = n_bits;
  r.c2 = c2;
  r.cr = N - c2;
  if (c2 >= N || c2 <= 0) {
    const bool two = c2 >= N;
    const int32_t P = two ? R(lg(xplus)) : R(2.0f * lg(xplus));
    const int32_t Q = two ? R(lg(xminus)) : R(2.0f * lg(xminus));
    r.A = sym ? 0 : std::min(std::abs(P - Q), cap);
    const int32_t M = std::max(P, Q), z = M - N + 1;
    if (two) { r.M2 = M; r.z2 = z; r.T = INFINITY; }
    else { r.Mr = M; r.zr = z; r.T = -INFINITY; }
    return r;
  }
  r.Mr = std::max(R(2.0f * lg(xplus)), R(2.0f * lg(xminus)));
  r.zr = r.Mr - r.cr + 1;
  r.M2 = floor_div2(r.Mr - r.cr, m2);
  r.z2 = r.M2 - c2 + 1;
  r.T = std::pow(2.0f, (static_cast<float>(r.zr) / 2.0f + static_cast<float>(r.M2)) / 2.0f);
  const float m = std::min(xplus, xminus);
  r.A = sym ? 0 : std::min(cap, m > r.T ? std::abs(r.Mr - R(2.0f * lg(m))) : r.cr + std::abs(r.M2 - R(lg(m))));
  return r;
}

bool logart_is_base2(float w, const LogArtRow& row, bool sqrt2_branch) {
  if (sqrt2_branch) return false;
  if (row.pure2()) return true;
  if (row.pure_sqrt2()) return false;
  return std::fabs(w) <= row.T;  // region by the unscaled |w| (reference quirk P4)
}

float logart_u(float w, float scale, bool base2) {
  return std::log(std::fabs(w / scale) + 1e-32f) / std::log(base2 ? 2.0f : kSqrt2);
}

LogWeight logart_encode_k(float w, float k, const LogArtRow& row, bool sqrt2_branch, bool budget) {
  const int32_t N = 1 << (row.n_bits - 1);
  const bool base2 = logart_is_base2(w, row, sqrt2_branch);
  const int32_t z = base2 ? row.z2 : row.zr;
  const int32_t L = row.pure2() || row.pure_sqrt2() || sqrt2_branch ? N : (base2 ? row.c2 : row.cr);
  const bool zero_capable = sqrt2_branch || base2;
  // Budget: index 0 (level z) is the zero code and there is no asymmetry extension.
  const float lo = !zero_capable ? 0.0f : budget ? 0.0f : -(1.0f + static_cast<float>(row.A) / 2.0f);
  const float e1 = std::max(k - static_cast<float>(z), lo);
  const float e = std::min(e1, static_cast<float>(L - 1));
  LogWeight c;
  c.base2 = base2;
  if (w == 0.0f || std::isnan(w) || (zero_capable && e1 <= lo)) return c;  // sign(0) = 0; the zero level
  c.sign = w > 0 ? 1 : -1;
  const int32_t level = z + static_cast<int32_t>(e);  // e is integral whenever the element is non-zero
  c.E = base2 ? 2 * level : level;
  return c;
}

LogWeight logart_encode(float w, float scale, const LogArtRow& row, bool sqrt2_branch, bool budget) {
  const float u = logart_u(w, scale, logart_is_base2(w, row, sqrt2_branch));
  return logart_encode_k(w, round_half_even(u), row, sqrt2_branch, budget);
}

float logart_decode_ref_k(const LogWeight& c, float scale, double k_odd) {
  if (c.sign == 0) return 0.0f * scale;
  const int32_t level = c.base2 ? c.E / 2 : c.E;
  float mag = std::pow(c.base2 ? 2.0f : kSqrt2, static_cast<float>(level));
  if (k_odd > 0 && !c.base2 && (c.E & 1)) mag *= static_cast<float>(k_odd / 1.4142135623730951);
  return static_cast<float>(c.sign) * mag * scale;
}

float logart_decode_ref(const LogWeight& c, float scale, bool hw_approx) { return logart_decode_ref_k(c, scale, hw_approx ? 1.5 : 0.0); }

double logart_value(const LogWeight& c, double scale, bool hw_approx) {
  if (c.sign == 0) return 0.0;
  const double mag = hw_approx ? std::ldexp(2.0 + (c.E & 1), (c.E >> 1) - 1) : std::pow(2.0, c.E / 2.0);
  return c.sign * mag * scale;
}

}  // namespace logq
