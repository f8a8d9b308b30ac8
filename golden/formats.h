// The operand formats of spec/numerics.md §1, defined once. Encoders reproduce the reference
// implementations' float32 op order (spec/adalog.md §1, spec/logart.md §1) so that codes equal
// LibTorch's; `*_value` decoders give the exact real value of a code; `*_decode_ref` decoders give
// the reference's float32 dequantized value bit for bit.
#pragma once
#include <cstdint>
#include <vector>

namespace logq {

// Round half to even in float32, as torch.round (FE_TONEAREST is the only mode logq runs in).
float round_half_even(float v);

// ---- U(b): uniform asymmetric ------------------------------------------------------------
// code c = clamp(rnd(x/s) + rnd(z), 0, 2^b - 1); value s·(c − rnd(z)); datapath operand c − rnd(z).
int32_t uniform_zero(float zero_point);  // rnd(z): the integer zero point the hardware uses
int32_t uniform_encode(float x, float scale, float zero_point, int bits);
float uniform_decode_ref(int32_t code, float scale, float zero_point);  // float32 (c − rnd(z))·s

// ---- A(b,q): AdaLog, base 2^(q/37) -------------------------------------------------------
inline constexpr float kAdaLogR = 37.0f;
inline constexpr float kGeluShift = 0.16997124254703522f;  // −min GELU, the post-GELU shift

struct AdaLogTable {
  int bits = 0, q = 0;
  int32_t D = 0;                 // 2^(b+1) − 2, the mantissa denominator
  int32_t zero_code = 0;         // 2^b: the zero state (reference mask cr ≥ 2^b)
  std::vector<int32_t> E, M;     // shift ⌊c·q/37⌋ and mantissa round(D·2^(−(c·q mod 37)/37)), c < 2^b
  std::vector<float> t1, t2;     // the reference's table1/table2 (float32) for decode_ref
};
AdaLogTable make_adalog_table(int bits, int q);
// u = (−log2(clamp(x/s, 1e-15, 1))·37)/q in float32; cr = rnd(u), before the clamp.
float adalog_u(float x, float scale, int q);
int32_t adalog_round(float x, float scale, int q);
// c ∈ [0, 2^b]: clamp(cr, 0, 2^b − 1), or 2^b (zero) when cr ≥ 2^b.
int32_t adalog_encode(float x, float scale, const AdaLogTable& t);
float adalog_decode_ref(int32_t code, float scale, const AdaLogTable& t);  // 2^(−t1)·t2·s, float32
double adalog_value(int32_t code, double scale, const AdaLogTable& t);     // (s/D)·M·2^(−E), exact

// ---- L(n): LogART log weights, dynamic base (spec/logart.md §1–2) -------------------------
// Every level is s·√2^E with an integer half-octave exponent E (a base-2 level 2^j has E = 2j).
enum class M2Rounding { Floor, Trunc };  // M2 = (Mr − cr)//2: floor (torch ≥ 1.13, default) or trunc (1.10)

// The per-row codebook of one candidate c2 (get_code_map). Pure candidates keep their z/M in
// the matching pair (c2 ≥ N: z2/M2; c2 ≤ 0: zr/Mr); the other pair holds kNoLevel.
struct LogArtRow {
  static constexpr int32_t kNoLevel = INT32_MIN;  // the fixtures' sentinel
  int n_bits = 0, c2 = 0, cr = 0;
  int32_t z2 = kNoLevel, M2 = kNoLevel, zr = kNoLevel, Mr = kNoLevel;
  int32_t A = 0;  // asymmetry: extra zero-capable levels below z (⌈A/2⌉), low clamp −(1 + A/2)
  float T = 0;    // |w| ≤ T: base 2, else base √2 (unscaled |w|); +inf pure 2, −inf pure √2
  bool pure2() const { return Mr == kNoLevel; }
  bool pure_sqrt2() const { return M2 == kNoLevel; }
};
// x⁺ = max(max w, 0), x⁻ = max(−min w, 0) of the row; sym uses max(x⁺, x⁻) for both.
LogArtRow logart_row(float xplus, float xminus, int n_bits, int c2, bool sym, M2Rounding m2 = M2Rounding::Floor);

struct LogWeight {
  int8_t sign = 0;  // −1, 0 (the zero code), +1
  int32_t E = 0;    // half-octave exponent (meaningful when sign != 0)
  bool base2 = true;  // region: base-2 level (E even) or √2 level; decides the reference's pow()
};
// log_quantize for one element: `sqrt2_branch` is the log_sqrt2 method (every element √2,
// zero-capable); otherwise the DLog branch used by log_2 / log_dynamic.
// `budget` (a named deviation, default off): the codebook is limited to 2^n codes — sign plus an
// (n−1)-bit level index. In zero-capable regions the asymmetry extension (⌈A/2⌉ levels) is dropped
// and the lowest level z becomes the zero code, leaving N−1 levels per sign plus zero (2^n − 1
// codes); regions without a zero level keep their N levels per sign (2^n codes).
LogWeight logart_encode(float w, float scale, const LogArtRow& row, bool sqrt2_branch = false, bool budget = false);
// The pieces of logart_encode, shared with LogART's learned rounding (LLR), which replaces
// k = rnd(u) by ⌊u⌋ + {0, 1}: the element's region, u = ln(|w/s| + 1e-32)/ln(b) in float32,
// and the clamp/zero rules applied to a given integer-valued k.
bool logart_is_base2(float w, const LogArtRow& row, bool sqrt2_branch);
float logart_u(float w, float scale, bool base2);
LogWeight logart_encode_k(float w, float k, const LogArtRow& row, bool sqrt2_branch = false, bool budget = false);
// The reference's float32 dequantized value (torch.pow of float32 2 or √2, optional ×1.5/√2).
float logart_decode_ref(const LogWeight& c, float scale, bool hw_approx);
// Same with the odd-exponent √2 factor replaced by K/√2 (the reference's commented alternatives:
// K = 1.5 = 1+1/2, 1.4375 = 1+1/2−1/16, 1.421875 = 1+1/2−1/16−1/64); K = 0 is exact √2.
float logart_decode_ref_k(const LogWeight& c, float scale, double k_odd);
// The exact real value: s·√2^E, or with the 1+1/2 approximation s·(2 + (E&1))·2^((E>>1) − 1).
double logart_value(const LogWeight& c, double scale, bool hw_approx);

}  // namespace logq
