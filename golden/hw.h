// The one description of logq's hardware (docs/architecture.md): the PE kinds (the RTL's
// pe_kind_e), the table of PE units (which pairings and operand widths each takes, its RTL
// parameters, its mantissa and odd constant, its accumulator), pairing names, the operand words as
// memories and the RTL buffers hold them, and the PE array's cycle formula.
//
// rtl/logq_pkg.sv and rtl/logq_units.tsv are generated from this file (`logq hw --write-rtl rtl`);
// the CTest hw_generated fails when the checked-in copies differ. scripts/area.sh, scripts/
// rtl_check.sh and testbenches/CMakeLists.txt read their unit lists and parameters from the TSV;
// sim/, explore and the testbenches read this table directly.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "golden/mac.h"

namespace logq {

// A PE's datapath: the KIND parameter of logq_pe_array / logq_gemm_top (rtl/logq_pkg.sv pe_kind_e).
// LxUA: the dual PE of fully-log transformers (L×U and L×A on one datapath, rtl/logq_pe_lula.sv).
enum class PeKind : uint8_t { UxU = 0, UxA = 1, LxU = 2, LxA = 3, Universal = 4, LxUA = 5 };
inline constexpr PeKind kPeKinds[] = {PeKind::UxU, PeKind::UxA, PeKind::LxU, PeKind::LxA, PeKind::Universal, PeKind::LxUA};
const char* pe_kind_rtl_name(PeKind k);  // PE_UU, PE_UA, PE_LU, PE_LA, PE_UNIVERSAL, PE_LULA
// A single-pairing datapath, the L×U/L×A dual one, or the universal one (all four).
bool pe_kind_runs(PeKind k, Pairing p);

const char* pairing_name(Pairing p);  // "UxU", "UxA", "LxU", "LxA"
bool log_weights(Pairing p);           // LxU, LxA
bool log_activations(Pairing p);       // UxA, LxA

// The LogART odd-exponent mantissa the datapath multiplies by: round(√2·2^f) (f = 1: 3, the 1+1/2
// approximation; f = 6: 91). The RTL's K_ODD is this value, derived from MANT_F in logq_pkg.
int32_t odd_mantissa(int mant_frac_bits);
inline constexpr int kMaxMantFracBits = 12;  // the widest f the RTL package tabulates

// Parameters of the RTL modules (rtl/*.sv names).
struct RtlParams {
  int dw = 9, da = 9;          // signed U operands d = c − z: U(b) needs b + 1 bits
  int mw = 7, ew = 8, fw = 7;  // AdaLog: mantissa M ≤ 2^(b+1) − 2 (b + 1 bits), shift E, fraction count F
  int kw = 5;                  // LogART k = (E >> 1) − F_r: L(n) needs k < 2^n, n ≤ KW
  int mant_f = 1;              // LogART mantissa fraction bits f
  int acc_w = 48;              // accumulator width
  int adalog_bits() const { return mw - 1; }  // B: AdaLog codes up to B bits (the RTL's zero state 2^B)
};

// One PE of the table: a single datapath (kind set) or a composite of single ones sharing an
// accumulator (for models that mix pairings: AdaLog's U×U and U×A layers); a composite's layer
// runs on the part that takes it.
struct PeSpec {
  std::string name;             // int8, uu4, ..., universal, or a composite "int8+ua"
  std::optional<PeKind> kind;   // unset: a composite
  std::vector<std::string> parts;
  RtlParams rtl;                // the synthesized unit's parameters (a composite: unused)
  std::string top;              // its RTL module
  std::string description;

  bool composite() const { return !kind.has_value(); }
  std::string area_unit() const;  // `logq area` unit: pe_<name> ("" for a composite)
  int mant_frac_bits() const;     // f of its LogART datapath (a composite: of its parts, 1 if none)
  int acc_bits() const;           // its accumulator's width (a composite: the widest part's)
  // Widest weight / activation format it takes: U(b) b, L(n) n, A(b) b (the max over pairings).
  int max_w_bits() const;
  int max_a_bits() const;
  bool runs(Pairing p) const;
  // Whether it takes a layer of this pairing and format widths (a composite: whether a part does).
  bool takes(Pairing p, int w_fmt_bits, int a_fmt_bits) const;
  // The single PE that computes such a layer (itself, or the composite's part). Throws if none.
  const PeSpec& part_for(Pairing p, int w_fmt_bits, int a_fmt_bits) const;
};
const std::vector<PeSpec>& pe_specs();
// A LogART export runs on the PE built for its mantissa: 1+1/2 (f = 1) on f = 1 PEs; an exact-√2
// export (f = 23) or a finer one (f ≥ 6) on the f = 6 PE (91/64). export_f 0: no LogART weights.
bool mantissa_matches(const PeSpec& k, int export_f);
const PeSpec& pe_spec(const std::string& name);  // throws Error listing the names
std::string pe_spec_names();

// Other RTL units `logq area` synthesizes and the Verilated models the testbenches build, by name.
// `params` holds `NAME=value` pairs as the RTL spells them (R, C, KIND, ...).
struct RtlUnit {
  std::string name, top, params, description;
  std::string use;  // area: synthesized by `logq area`; array: area unit needing R and C; power: `logq power`'s
                    // array position; tb, tb_bench, tb_cov: Verilated into that library
};
const std::vector<RtlUnit>& rtl_units();  // every PE of pe_specs() (area), then the rest
std::string rtl_params_string(const RtlParams& p, const std::string& top);  // only the parameters `top` has

// Operand words in SRAM/DRAM (docs/sim.md): U(b) codes c ∈ [0, 2^b − 1] in b bits; AdaLog A(b)
// codes in b + 1 bits (code 2^b is the zero state); LogART L(n) in n + 1 bits (sign and an n-bit
// level index with zero).
int stored_x_bits(Pairing p, int x_fmt_bits);
int stored_w_bits(Pairing p, int w_fmt_bits);

// Operand words as the RTL array's buffers hold them: an AdaLog code with the zero state moved to
// 2^B; a LogART weight as {zero, neg, k[KW-1:0], odd} (k = (E >> 1) − F_r ≥ 0, odd = E & 1).
uint16_t rtl_adalog_word(int32_t code, const AdaLogTable& t, int adalog_bits);
uint16_t rtl_logw_word(const LogWeightInt& w, int kw);
inline constexpr int kLogwOddBit = 0, kLogwKLsb = 1;
inline constexpr int logw_neg_bit(int kw) { return kw + 1; }
inline constexpr int logw_zero_bit(int kw) { return kw + 2; }

// The words the PE array's edges carry (rtl/logq_pe_array.sv; logq_gemm_top's edge decoders make
// them from the buffer words above), for an array with parameters r: uniform d in DA (activation)
// or DW (weight) bits, two's complement; AdaLog {zero, E, M} (EW and MW bits; the zero state
// carries code 0's E and M, as the LUT gives them); LogART {zero, neg, odd, k} (KW bits of k).
uint32_t array_a_word(Pairing p, int32_t x, const AdaLogTable* t, const RtlParams& r);
uint32_t array_w_word(Pairing p, int32_t w_u, const LogWeightInt* w_l, const RtlParams& r);
// The bits of those words a PE kind reads (the array's words are the widest, AW and WW; an array
// of one kind passes only these from PE to PE: its A_USED / W_USED parameters).
int array_a_word_bits(PeKind kind, const RtlParams& r);
int array_w_word_bits(PeKind kind, const RtlParams& r);
int array_a_word_bits(const PeSpec& k);  // a single kind with its own parameters (not a composite)
int array_w_word_bits(const PeSpec& k);
// Cycles of an M×N×K job on logq's R×C output-stationary array (rtl/logq_gemm_ctrl.sv): every
// tile takes K + R + C − 1 feed steps and each tile's drain overlaps the next tile's feed, plus R
// cycles of the last drain: tiles·(K + R + C − 1) + R.
uint64_t array_cycles(int64_t rows, int64_t cols, int64_t M, int64_t N, int64_t K);
int64_t array_tile_steps(int64_t rows, int64_t cols, int64_t K);  // K + R + C − 1
int64_t array_tiles(int64_t rows, int64_t cols, int64_t M, int64_t N);
// K-splitting, for a job whose K does not fit the operand buffers: K is cut into chunks of Kc
// columns (the last may be shorter), [c·Kc, min(K, (c + 1)·Kc)). Each chunk is one job of the
// array; the output buffer adds the chunk's drained accumulators to the partial sums it holds
// (rtl/logq_gemm_top.sv acc_i; the first chunk overwrites them). Wrapping addition is associative,
// so the result equals the unsplit job's bit for bit; the cycles are the chunks' jobs' cycles.
int64_t k_chunk_count(int64_t K, int64_t Kc);
int64_t k_chunk_len(int64_t K, int64_t Kc, int64_t chunk);
uint64_t array_cycles_k_split(int64_t rows, int64_t cols, int64_t M, int64_t N, int64_t K, int64_t Kc);

// The generated RTL files (`logq hw --write-rtl`): their names and exact contents.
std::string rtl_package_sv();  // rtl/logq_pkg.sv
std::string rtl_units_tsv();   // rtl/logq_units.tsv

}  // namespace logq
