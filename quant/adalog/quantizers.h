// AdaLog's fake quantizers (spec/adalog.md §1) as ATen ops: quantize → dequantize in float32 with
// the reference's op order, so codes equal golden/'s encoders (golden/formats: uniform_encode,
// adalog_encode) and values equal the reference forward bit for bit in eval mode.
// `train` selects the reconstruction-mode forward: round-to-nearest-even replaced by the
// straight-through estimator, AdaLog decoded exactly (2^(−c·q/37)) instead of through its LUT.
#pragma once
#include <cstdint>

#include <ATen/ATen.h>

#include "golden/formats.h"

namespace logq::adalog {

at::Tensor round_ste(const at::Tensor& v);  // (rnd(v) − v).detach() + v

// Asymmetric uniform U(b): clamp(rnd(x/s) + rnd(z), 0, 2^b − 1) − rnd(z), × s. s and z broadcast.
at::Tensor uniform_fq(const at::Tensor& x, const at::Tensor& s, const at::Tensor& z, int bits, bool train = false);
at::Tensor uniform_codes(const at::Tensor& x, const at::Tensor& s, const at::Tensor& z, int bits);  // int32

// AdaLog A(b, q) with per-tensor scale s (a 0-dim or [1] tensor; it may require grad in training).
struct AdaLogParams {
  int bits = 4, q = 37;
  at::Tensor s;  // float32
};
// u = (−log2(clamp(x/s, 1e-15, 1))·37)/q, the argument the reference rounds.
at::Tensor adalog_u(const at::Tensor& x, const at::Tensor& s, int q);
at::Tensor adalog_fq(const at::Tensor& x, const AdaLogParams& p, bool train = false);
// codes c ∈ [0, 2^b]: 2^b is the zero state (the reference's mask cr ≥ 2^b).
at::Tensor adalog_codes(const at::Tensor& x, const AdaLogParams& p);

// The ablation quantizers ('log2', 'logsqrt2' configs): base 2 and base √2, same clamp/mask rules.
at::Tensor log2_fq(const at::Tensor& x, const at::Tensor& s, int bits, bool train = false);
at::Tensor logsqrt2_fq(const at::Tensor& x, const at::Tensor& s, int bits, bool train = false);

// Post-GELU shift (kGeluShift): before bias folding AdaLog(x + shift) − shift, after it AdaLog(x + shift).
at::Tensor shift_adalog_fq(const at::Tensor& x, const AdaLogParams& p, bool folded, bool train = false);

// PTQ4ViT's twin uniform for post-GELU ('ptq4vit'): positive part with s0, negative with s1.
at::Tensor twin_uniform_fq(const at::Tensor& x, double s0, double s1, int bits);

// AdaRound on a calibrated uniform weight quantizer (§1.5): γ = −0.1, ζ = 1.1.
struct AdaRound {
  at::Tensor w_floor, alpha, s, z;  // floor(W/s), learnable α, per-row s and z (frozen)
  int bits = 4;
  static AdaRound init(const at::Tensor& w, const at::Tensor& s, const at::Tensor& z, int bits);
  at::Tensor h() const;
  at::Tensor soft() const;                   // (clamp(⌊W/s⌋ + h(α) + z, 0, 2^b−1) − z)·s
  at::Tensor hard() const;                   // same with [α ≥ 0]
  at::Tensor hard_weight() const;            // (⌊W/s⌋ + [α ≥ 0])·s: the weight written back (no clamp, no z)
  at::Tensor round_loss(double beta) const;  // Σ (1 − |2h − 1|^β)
};

}  // namespace logq::adalog
