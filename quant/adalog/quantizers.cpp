#include "quant/adalog/quantizers.h"

#include <cmath>

#include "io/error.h"

namespace logq::adalog {

namespace {
constexpr double kZeta = 1.1, kGamma = -0.1;

at::Tensor rnd(const at::Tensor& v, bool train) { return train ? round_ste(v) : at::round(v); }

// t = clamp(x/s, 1e-15, 1): the normalised magnitude every log quantizer starts from.
at::Tensor log_t(const at::Tensor& x, const at::Tensor& s) { return at::clamp(x / s, 1e-15, 1.0); }

// cr with NaN inputs sent to the zero state (the reference would index with NaN).
at::Tensor rounded(const at::Tensor& u, int64_t levels) { return at::nan_to_num(at::round(u.detach()), double(levels)); }

at::Tensor table_tensor(const std::vector<float>& v) { return at::tensor(at::ArrayRef<float>(v.data(), v.size())); }
}  // namespace

at::Tensor round_ste(const at::Tensor& v) { return (at::round(v) - v).detach() + v; }

at::Tensor uniform_fq(const at::Tensor& x, const at::Tensor& s, const at::Tensor& z, int bits, bool train) {
  const at::Tensor zr = rnd(z, train);
  const at::Tensor c = at::clamp(rnd(x / s, train) + zr, 0.0, double((1 << bits) - 1));
  return (c - zr) * s;
}

at::Tensor uniform_codes(const at::Tensor& x, const at::Tensor& s, const at::Tensor& z, int bits) {
  c10::NoGradGuard g;
  return at::clamp(at::round(x / s) + at::round(z), 0.0, double((1 << bits) - 1)).to(at::kInt);
}

at::Tensor adalog_u(const at::Tensor& x, const at::Tensor& s, int q) {
  return (at::log2(log_t(x, s)).neg() * kAdaLogR) / double(q);
}

at::Tensor adalog_codes(const at::Tensor& x, const AdaLogParams& p) {
  c10::NoGradGuard g;
  const int64_t L = int64_t(1) << p.bits;
  const at::Tensor cr = rounded(adalog_u(x, p.s, p.q), L);
  return at::where(cr >= double(L), at::full_like(cr, double(L)), at::clamp(cr, 0.0, double(L - 1))).to(at::kInt);
}

at::Tensor adalog_fq(const at::Tensor& x, const AdaLogParams& p, bool train) {
  const int64_t L = int64_t(1) << p.bits;
  const at::Tensor u = adalog_u(x, p.s, p.q);
  const at::Tensor cr = rounded(u, L);
  const at::Tensor keep = cr < double(L);
  if (train) {  // exact decode 2^(−c·q/37), gradient to s and x through the STE
    const at::Tensor c = at::clamp(round_ste(u), 0.0, double(L - 1));
    const at::Tensor v = at::pow(2.0, (c.neg() * double(p.q)) / double(kAdaLogR)) * p.s;
    return at::where(keep, v, at::zeros_like(v));
  }
  const AdaLogTable t = make_adalog_table(p.bits, p.q);
  const at::Tensor c = at::clamp(cr, 0.0, double(L - 1)).to(at::kLong);
  // 2^(−t1[c])·t2[c]·s evaluated once per code: the same float32 ops, so the same bits per element
  const at::Tensor lut = at::exp2(table_tensor(t.t1).neg()) * table_tensor(t.t2) * p.s.reshape({-1})[0];
  const at::Tensor v = lut.index({c});
  return at::where(keep, v, at::zeros_like(v));
}

at::Tensor log2_fq(const at::Tensor& x, const at::Tensor& s, int bits, bool train) {
  const int64_t L = int64_t(1) << bits;
  const at::Tensor u = at::log2(log_t(x, s)).neg();
  const at::Tensor keep = rounded(u, L) < double(L);
  const at::Tensor c = at::clamp(rnd(u, train), 0.0, double(L - 1));
  const at::Tensor v = at::pow(2.0, c.neg()) * s;
  return at::where(keep, v, at::zeros_like(v));
}

at::Tensor logsqrt2_fq(const at::Tensor& x, const at::Tensor& s, int bits, bool train) {
  const int64_t L = int64_t(1) << bits;
  const at::Tensor u = at::log2(log_t(x, s)).neg() * 2.0;
  const at::Tensor keep = rounded(u, L) < double(L);
  const at::Tensor c = at::clamp(rnd(u, train), 0.0, double(L - 1));
  at::Tensor v;
  if (train) v = at::pow(2.0, c.neg() / 2.0) * s;
  else v = at::pow(2.0, at::ceil(c / 2.0).neg()) * (at::fmod(c, 2.0) * (std::sqrt(2.0) - 1.0) + 1.0) * s;
  return at::where(keep, v, at::zeros_like(v));
}

at::Tensor shift_adalog_fq(const at::Tensor& x, const AdaLogParams& p, bool folded, bool train) {
  const at::Tensor y = adalog_fq(x + kGeluShift, p, train);
  return folded ? y : y - kGeluShift;
}

at::Tensor twin_uniform_fq(const at::Tensor& x, double s0, double s1, int bits) {
  const double n = double(1 << (bits - 1));
  return at::clamp(at::round(x / s0), 0.0, n - 1) * s0 + at::clamp(at::round(x / s1), -n, 0.0) * s1;
}

AdaRound AdaRound::init(const at::Tensor& w, const at::Tensor& s, const at::Tensor& z, int bits) {
  c10::NoGradGuard g;
  AdaRound a;
  a.bits = bits;
  a.s = s.detach();
  a.z = z.detach();
  a.w_floor = at::floor(w / a.s);
  const at::Tensor rest = w / a.s - a.w_floor;
  a.alpha = (-at::log((kZeta - kGamma) / (rest - kGamma) - 1.0)).set_requires_grad(true);
  return a;
}

at::Tensor AdaRound::h() const { return at::clamp(at::sigmoid(alpha) * (kZeta - kGamma) + kGamma, 0.0, 1.0); }

at::Tensor AdaRound::soft() const {
  return (at::clamp(w_floor + h() + z, 0.0, double((1 << bits) - 1)) - z) * s;
}

at::Tensor AdaRound::hard() const {
  const at::Tensor up = (alpha.detach() >= 0).to(w_floor.scalar_type());
  return (at::clamp(w_floor + up + z, 0.0, double((1 << bits) - 1)) - z) * s;
}

at::Tensor AdaRound::hard_weight() const { return (w_floor + (alpha.detach() >= 0).to(w_floor.scalar_type())) * s; }

at::Tensor AdaRound::round_loss(double beta) const { return (1.0 - (h() * 2.0 - 1.0).abs().pow(beta)).sum(); }

}  // namespace logq::adalog
