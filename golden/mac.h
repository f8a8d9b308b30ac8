// MAC/dequant semantics of spec/numerics.md §2–4: the integer product of one weight/activation
// pair, where it is shifted, how the accumulator adds it (width, fraction bits, rounding of right
// shifts, two's-complement wrap with an overflow count) and how the result becomes float.
// The RTL is checked against exactly these functions.
#pragma once
#include <cstdint>

#include "golden/formats.h"

namespace logq {

enum class Pairing { UxU, UxA, LxU, LxA };
enum class ShiftRounding { Floor, HalfUp };  // right shifts: arithmetic shift, or add half first

struct HwConfig {
  int acc_bits = 32;       // W_acc: signed two's-complement accumulator width, 2..64
  int frac_bits = 0;       // F: fraction bits of the accumulator (AdaLog activations shift by F − E)
  ShiftRounding rounding = ShiftRounding::Floor;
  int mant_frac_bits = 1;  // f: LogART mantissas (E&1 ? round(√2·2^f) : 2^f); f = 1 is 1+1/2 (3 vs 2)
};

// A LogART weight as the datapath sees it: sign, odd = E&1, k = (E>>1) − F_r (F_r per row).
struct LogWeightInt {
  int8_t sign = 0;  // 0: the zero code
  uint8_t odd = 0;
  int32_t k = 0;
};
int32_t logart_row_floor(int32_t e_min);  // F_r = E_min >> 1 (arithmetic)
LogWeightInt logart_int(const LogWeight& w, int32_t row_floor);
int32_t logart_mantissa(bool odd, int mant_frac_bits);  // 2^f, or round(√2·2^f) for odd E

// One MAC term: value = product · 2^shift before the accumulator applies it.
struct MacTerm {
  int64_t product = 0;
  int32_t shift = 0;
  bool zero = false;  // a zero operand (AdaLog zero state / LogART zero code): skipped
};
MacTerm mac_uu(int32_t dw, int32_t da);
MacTerm mac_ua(int32_t dw, int32_t a_code, const AdaLogTable& a, int frac_bits);
MacTerm mac_lu(const LogWeightInt& w, int32_t da, int mant_frac_bits);
MacTerm mac_la(const LogWeightInt& w, int32_t a_code, const AdaLogTable& a, const HwConfig& hw);

// The term as the accumulator adds it: shifted into place (right shifts rounded per hw), as a
// W_acc-bit two's-complement value. Sets *wrapped when the W_acc-bit value differs from the exact one.
int64_t shifted_term(const MacTerm& t, const HwConfig& hw, bool* wrapped);

struct Accumulator {
  int64_t value = 0;      // always within the W_acc-bit two's-complement range
  int64_t overflows = 0;  // additions (or term placements) whose exact result did not fit
  void add(const MacTerm& t, const HwConfig& hw);
};

int64_t wrap_to_bits(__int128 v, int bits);  // two's-complement wrap to `bits` (2..64)

// y = float32(double(acc) · 2^−F · S) + bias (spec/numerics.md §4).
float dequant_output(int64_t acc, int frac_bits, float scale_product, float bias);

// Accumulator width that provably cannot overflow: bits(max |term|) + ⌈log2 K⌉ + 1 (sign).
int acc_bits_for(int64_t max_abs_product, int32_t max_left_shift, int64_t K);

// Default hardware parameters for a layer from its formats alone (no data): the widest product
// the formats allow, the largest left shift, and K. F is the exact-mode F = max E of the AdaLog
// table when the width then stays ≤ 64 bits; otherwise the largest F that does (codes with
// E > F are shifted right, rounded per `rounding`). LogART shifts span ≤ 2^n − 1 octaves
// (spec/logart.md §8) unless `log_span` is given from the actual weights.
struct LayerFormats {
  Pairing pairing = Pairing::UxU;
  int w_bits = 8, a_bits = 8;            // U bit widths (|c − z| ≤ 2^b − 1), LogART n for L weights
  const AdaLogTable* a_table = nullptr;  // A activations
  int log_span = -1;                     // L weights: max k = (E_max>>1) − F_r; −1: format bound 2^n − 1
};
HwConfig default_hw_config(const LayerFormats& f, int64_t K, int mant_frac_bits = 1,
                           ShiftRounding rounding = ShiftRounding::Floor);

}  // namespace logq
