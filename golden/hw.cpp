#include "golden/hw.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "io/error.h"

namespace logq {

const char* pe_kind_rtl_name(PeKind k) {
  static const char* n[] = {"PE_UU", "PE_UA", "PE_LU", "PE_LA", "PE_UNIVERSAL", "PE_LULA"};
  return n[static_cast<int>(k)];
}

bool pe_kind_runs(PeKind k, Pairing p) {
  if (k == PeKind::Universal) return true;
  if (k == PeKind::LxUA) return p == Pairing::LxU || p == Pairing::LxA;
  return static_cast<int>(k) == static_cast<int>(p);  // the first four mirror Pairing
}

const char* pairing_name(Pairing p) {
  static const char* n[] = {"UxU", "UxA", "LxU", "LxA"};
  return n[static_cast<int>(p)];
}

bool log_weights(Pairing p) { return p == Pairing::LxU || p == Pairing::LxA; }
bool log_activations(Pairing p) { return p == Pairing::UxA || p == Pairing::LxA; }

int32_t odd_mantissa(int f) { return logart_mantissa(true, f); }

namespace {

RtlParams uu(int bits) {
  RtlParams p;
  p.dw = p.da = bits + 1;
  p.acc_w = 32;
  return p;
}

RtlParams lu(int n, int a_bits, int mant_f) {
  RtlParams p;
  p.da = a_bits + 1;
  p.kw = n;
  p.mant_f = mant_f;
  p.acc_w = 32;
  return p;
}

// U(w_bits) × A(b): AdaLog b = 4 has shifts E ≤ 63 and F ≤ 63 (6 bits each).
RtlParams ua(int w_bits, int b) {
  RtlParams p;
  p.dw = w_bits + 1;
  p.mw = b + 1;
  p.ew = p.fw = 6;
  p.acc_w = 32;
  return p;
}

RtlParams la(int n, int b) {
  RtlParams p = ua(8, b);
  p.dw = 9;
  p.kw = n;
  return p;
}

// L(n) × U(a_bits) or A(b) on one datapath: lu's activation width, la's AdaLog fields.
RtlParams lula(int n, int a_bits, int b) {
  RtlParams p = la(n, b);
  p.da = a_bits + 1;
  return p;
}

// Areas and timing of these are in docs/results.md; the widths are what scripts/area.sh has
// always synthesized (the rows of rtl/logq_units.tsv).
std::vector<PeSpec> make_specs() {
  std::vector<PeSpec> s = {
      {"int8", PeKind::UxU, {}, uu(8), "logq_pe_uu", "INT8 x INT8 MAC (baseline), 32-bit acc"},
      {"uu4", PeKind::UxU, {}, uu(4), "logq_pe_uu", "U(4) x U(4) MAC, 32-bit acc"},
      {"uu6", PeKind::UxU, {}, uu(6), "logq_pe_uu", "U(6) x U(6) MAC, 32-bit acc"},
      {"lu", PeKind::LxU, {}, lu(4, 8, 1), "logq_pe_lu", "L(4) x U(8) shift-add PE (1+1/2), 32-bit acc"},
      {"lu_exact", PeKind::LxU, {}, lu(4, 8, 6), "logq_pe_lu", "L(4) x U(8), exact mantissa f=6 (91/64), 32-bit acc"},
      {"ua", PeKind::UxA, {}, ua(4, 4), "logq_pe_ua", "U(4) x A(4) PE, 32-bit acc"},
      {"la", PeKind::LxA, {}, la(4, 4), "logq_pe_la", "L(4) x A(4) PE, 32-bit acc"},
      {"lula", PeKind::LxUA, {}, lula(4, 8, 4), "logq_pe_lula", "L(4) x U(8) or A(4) dual PE (1+1/2), 32-bit acc"},
      // The universal PE: U up to 8 bits, AdaLog codes up to 6, LogART k < 32 (n ≤ 5); 48-bit acc.
      {"universal", PeKind::Universal, {}, RtlParams{}, "logq_pe_universal", "universal PE (all pairings), 48-bit acc"},
  };
  // Composites: two datapaths, one accumulator (area and energy from the synthesized parts).
  for (const auto& [a, b] : {std::pair{"int8", "ua"}, {"uu4", "ua"}, {"uu6", "ua"}, {"lu", "la"}})
    s.push_back({fmt::format("{}+{}", a, b), std::nullopt, {a, b}, RtlParams{}, "", fmt::format("{} and {} datapaths sharing one accumulator", a, b)});
  // The fully-log transformer (logq quantize --method fulllog): L×U and L×A GEMMs, U×U and U×A
  // attention matmuls.
  s.push_back({"lu+la+uu4+ua", std::nullopt, {"lu", "la", "uu4", "ua"}, RtlParams{}, "",
               "lu, la, uu4 and ua datapaths sharing one accumulator (fully-log transformers)"});
  // The same with the synthesized L×U/L×A dual datapath in place of lu and la (smaller: docs/results.md).
  s.push_back({"lula+uu4+ua", std::nullopt, {"lula", "uu4", "ua"}, RtlParams{}, "",
               "lula, uu4 and ua datapaths sharing one accumulator (fully-log transformers)"});
  return s;
}

// The widest format of each operand the datapath takes.
int w_limit(const RtlParams& r, Pairing p) { return log_weights(p) ? r.kw : r.dw - 1; }
int a_limit(const RtlParams& r, Pairing p) { return log_activations(p) ? r.adalog_bits() : r.da - 1; }

}  // namespace

const std::vector<PeSpec>& pe_specs() {
  static const std::vector<PeSpec> s = make_specs();
  return s;
}

const PeSpec& pe_spec(const std::string& name) {
  for (const auto& k : pe_specs())
    if (k.name == name) return k;
  throw Error(fmt::format("unknown PE kind '{}' (known: {})", name, pe_spec_names()));
}

std::string pe_spec_names() {
  std::string s;
  for (const auto& k : pe_specs()) s += (s.empty() ? "" : ", ") + k.name;
  return s;
}

std::string PeSpec::area_unit() const { return composite() ? "" : "pe_" + name; }

int PeSpec::mant_frac_bits() const {
  if (!composite()) return rtl.mant_f;
  for (const auto& n : parts)
    if (pe_spec(n).runs(Pairing::LxU) || pe_spec(n).runs(Pairing::LxA)) return pe_spec(n).mant_frac_bits();
  return 1;
}

int PeSpec::acc_bits() const {
  if (!composite()) return rtl.acc_w;
  int bits = 0;
  for (const auto& n : parts) bits = std::max(bits, pe_spec(n).acc_bits());
  return bits;
}

int PeSpec::max_w_bits() const {
  int m = 0;
  for (Pairing p : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA})
    if (runs(p)) m = std::max(m, composite() ? part_for(p, 1, 1).max_w_bits() : w_limit(rtl, p));
  return m;
}

int PeSpec::max_a_bits() const {
  int m = 0;
  for (Pairing p : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA})
    if (runs(p)) m = std::max(m, composite() ? part_for(p, 1, 1).max_a_bits() : a_limit(rtl, p));
  return m;
}

bool PeSpec::runs(Pairing p) const {
  if (!composite()) return pe_kind_runs(*kind, p);
  for (const auto& n : parts)
    if (pe_spec(n).runs(p)) return true;
  return false;
}

bool PeSpec::takes(Pairing p, int w, int a) const {
  if (composite()) {
    for (const auto& n : parts)
      if (pe_spec(n).takes(p, w, a)) return true;
    return false;
  }
  return runs(p) && w <= w_limit(rtl, p) && a <= a_limit(rtl, p);
}

const PeSpec& PeSpec::part_for(Pairing p, int w, int a) const {
  if (!composite()) {
    if (!takes(p, w, a)) throw Error(fmt::format("the {} PE does not take this layer", name));
    return *this;
  }
  for (const auto& n : parts)
    if (pe_spec(n).takes(p, w, a)) return pe_spec(n);
  throw Error(fmt::format("no part of the {} PE takes this layer", name));
}

std::string rtl_params_string(const RtlParams& p, const std::string& top) {
  std::vector<std::pair<const char*, int>> v;
  if (top == "logq_pe_uu") v = {{"DW", p.dw}, {"DA", p.da}};
  else if (top == "logq_pe_ua") v = {{"DW", p.dw}, {"MW", p.mw}, {"EW", p.ew}, {"FW", p.fw}};
  else if (top == "logq_pe_lu") v = {{"DA", p.da}, {"KW", p.kw}, {"MANT_F", p.mant_f}};
  else if (top == "logq_pe_la") v = {{"MW", p.mw}, {"EW", p.ew}, {"FW", p.fw}, {"KW", p.kw}, {"MANT_F", p.mant_f}};
  else if (top == "logq_pe_lula") v = {{"DA", p.da}, {"MW", p.mw}, {"EW", p.ew}, {"FW", p.fw}, {"KW", p.kw}, {"MANT_F", p.mant_f}};
  else if (top == "logq_pe_universal" || top == "logq_pe_array" || top == "logq_pe_position")
    v = {{"DW", p.dw}, {"DA", p.da}, {"MW", p.mw}, {"EW", p.ew}, {"FW", p.fw}, {"KW", p.kw}, {"MANT_F", p.mant_f}};
  else if (top == "logq_gemm_top" || top == "logq_unit_top")
    v = {{"DW", p.dw}, {"DA", p.da}, {"B", p.adalog_bits()}, {"EW", p.ew}, {"FW", p.fw}, {"KW", p.kw}, {"MANT_F", p.mant_f}};
  else
    throw Error(fmt::format("rtl_params_string: no parameter list for module {}", top));
  v.push_back({"ACC_W", p.acc_w});
  std::string s;
  for (const auto& [k, x] : v) s += fmt::format("{}{}={}", s.empty() ? "" : " ", k, x);
  return s;
}

namespace {

std::vector<RtlUnit> make_units() {
  std::vector<RtlUnit> u;
  for (const PeSpec& k : pe_specs())
    if (!k.composite()) u.push_back({k.area_unit(), k.top, rtl_params_string(k.rtl, k.top), k.description, "area"});
  u.push_back({"acc32", "logq_acc", "ACC_W=32", "32-bit accumulator register + adder (part of every PE above)", "area"});
  u.push_back({"adalog_dequant", "logq_adalog_dequant", "B=4 EW=6", "AdaLog dequant, b=4, LUT of 16 (M,E)", "area"});
  u.push_back({"logw_decode", "logq_logw_decode", "KW=4", "LogART weight decoder", "area"});
  // Of each single PE kind: its array (`logq area` unit array:NAME:R:C appends R and C; `logq
  // explore` clocks each point at its array's fmax), then one array position, as `logq power`
  // synthesizes and simulates it. Both pass on only the word bits the kind reads.
  const auto per_kind = [&](const char* prefix, const char* top, const std::string& what, const char* use) {
    for (const PeSpec& k : pe_specs())
      if (!k.composite())
        u.push_back({fmt::format("{}_{}", prefix, k.name), top,
                     fmt::format("KIND={} {} A_USED={} W_USED={}", static_cast<int>(*k.kind), rtl_params_string(k.rtl, top),
                                 array_a_word_bits(k), array_w_word_bits(k)),
                     fmt::format(fmt::runtime(what), k.name), use});
  };
  per_kind("array", "logq_pe_array", "array of {} PEs", "array");
  per_kind("position", "logq_pe_position", "one array position (operand registers + PE) of {}", "power");
  // Verilated models. The unit bench: every PE kind at f = 1 and the exact-mantissa f = 6.
  RtlParams f6;
  f6.mant_f = 6;
  u.push_back({"unit_top", "logq_unit_top", rtl_params_string(RtlParams{}, "logq_unit_top"), "every PE kind and decoder, f = 1", "tb"});
  u.push_back({"unit_top_f6", "logq_unit_top", rtl_params_string(f6, "logq_unit_top"), "every PE kind and decoder, exact mantissa f = 6", "tb"});
  const auto gemm = [&](const std::string& name, int size, PeKind kind, const std::string& use, const std::string& what) {
    const RtlParams r;
    u.push_back({name, "logq_gemm_top",
                 fmt::format("R={} C={} KIND={} {} A_USED={} W_USED={}", size, size, static_cast<int>(kind), rtl_params_string(r, "logq_gemm_top"),
                             array_a_word_bits(kind, r), array_w_word_bits(kind, r)),
                 what, use});
  };
  gemm("gemm_universal_4x4", 4, PeKind::Universal, "tb", "the regression array: 4x4 universal PEs, traced");
  gemm("gemm_lula_4x4", 4, PeKind::LxUA, "tb", "the dual-PE array: 4x4 L x U / L x A PEs (tests/test_rtl_array.cpp)");
  gemm("gemm_lu_4x4", 4, PeKind::LxU, "tb", "4x4 L(4)xU(8) PEs passing only the word bits they read (tests/test_rtl_array.cpp)");
  for (int size : {8, 16}) {
    gemm(fmt::format("gemm_lu_{0}x{0}", size), size, PeKind::LxU, "tb_bench", fmt::format("benchmark: {0}x{0} L(4)xU(8) PEs", size));
    gemm(fmt::format("gemm_int8_{0}x{0}", size), size, PeKind::UxU, "tb_bench", fmt::format("benchmark: {0}x{0} INT8 MACs", size));
  }
  gemm("gemm_cov_4x4", 4, PeKind::Universal, "tb_cov", "the regression array with line/toggle coverage");
  return u;
}

}  // namespace

const std::vector<RtlUnit>& rtl_units() {
  static const std::vector<RtlUnit> u = make_units();
  return u;
}

int stored_x_bits(Pairing p, int b) { return log_activations(p) ? b + 1 : b; }
int stored_w_bits(Pairing p, int b) { return log_weights(p) ? b + 1 : b; }

uint16_t rtl_adalog_word(int32_t code, const AdaLogTable& t, int adalog_bits) {
  if (code < 0 || code > t.zero_code) throw Error(fmt::format("AdaLog code {} outside [0, {}]", code, t.zero_code));
  return static_cast<uint16_t>(code == t.zero_code ? (1 << adalog_bits) : code);
}

uint16_t rtl_logw_word(const LogWeightInt& w, int kw) {
  if (w.sign == 0) return static_cast<uint16_t>(1u << logw_zero_bit(kw));
  if (w.k < 0 || w.k >= (1 << kw)) throw Error(fmt::format("LogART k = {} outside the RTL's 0..{}", w.k, (1 << kw) - 1));
  return static_cast<uint16_t>(((w.sign < 0 ? 1u : 0u) << logw_neg_bit(kw)) | (static_cast<uint32_t>(w.k) << kLogwKLsb) | (uint32_t{w.odd} << kLogwOddBit));
}

uint32_t array_a_word(Pairing p, int32_t x, const AdaLogTable* t, const RtlParams& r) {
  if (!log_activations(p)) {
    if (x < -(1 << (r.da - 1)) || x >= (1 << (r.da - 1))) throw Error(fmt::format("activation d = {} does not fit DA = {} bits", x, r.da));
    return static_cast<uint32_t>(x) & ((1u << r.da) - 1);
  }
  if (!t || x < 0 || x > t->zero_code) throw Error(fmt::format("AdaLog code {} outside the layer's table", x));
  const bool zero = x == t->zero_code;
  const int32_t c = zero ? 0 : x, m = t->M.at(size_t(c)), e = t->E.at(size_t(c));
  if (m >= (1 << r.mw) || e >= (1 << r.ew)) throw Error(fmt::format("AdaLog M = {}, E = {} do not fit MW = {}, EW = {}", m, e, r.mw, r.ew));
  return (uint32_t{zero} << (r.mw + r.ew)) | (static_cast<uint32_t>(e) << r.mw) | static_cast<uint32_t>(m);
}

uint32_t array_w_word(Pairing p, int32_t w_u, const LogWeightInt* w_l, const RtlParams& r) {
  if (!log_weights(p)) {
    if (w_u < -(1 << (r.dw - 1)) || w_u >= (1 << (r.dw - 1))) throw Error(fmt::format("weight d = {} does not fit DW = {} bits", w_u, r.dw));
    return static_cast<uint32_t>(w_u) & ((1u << r.dw) - 1);
  }
  if (!w_l) throw Error("a LogART weight word needs the weight");
  if (w_l->sign == 0) return 1u << (r.kw + 2);
  if (w_l->k < 0 || w_l->k >= (1 << r.kw)) throw Error(fmt::format("LogART k = {} outside the RTL's 0..{}", w_l->k, (1 << r.kw) - 1));
  return (uint32_t{w_l->sign < 0} << (r.kw + 1)) | (uint32_t{w_l->odd} << r.kw) | static_cast<uint32_t>(w_l->k);
}

bool mantissa_matches(const PeSpec& k, int export_f) {
  if (!export_f) return true;
  return export_f == 1 ? k.mant_frac_bits() == 1 : k.mant_frac_bits() == 6;
}

int array_a_word_bits(PeKind kind, const RtlParams& r) {
  const int u = r.da, a = r.mw + r.ew + 1;
  if (kind == PeKind::UxU || kind == PeKind::LxU) return u;
  if (kind == PeKind::UxA || kind == PeKind::LxA) return a;
  return std::max(u, a);
}

int array_w_word_bits(PeKind kind, const RtlParams& r) {
  const int u = r.dw, l = r.kw + 3;
  if (kind == PeKind::UxU || kind == PeKind::UxA) return u;
  if (kind == PeKind::LxU || kind == PeKind::LxA || kind == PeKind::LxUA) return l;
  return std::max(u, l);
}

int array_a_word_bits(const PeSpec& k) {
  if (k.composite()) throw Error(fmt::format("array_a_word_bits: {} is a composite", k.name));
  return array_a_word_bits(*k.kind, k.rtl);
}

int array_w_word_bits(const PeSpec& k) {
  if (k.composite()) throw Error(fmt::format("array_w_word_bits: {} is a composite", k.name));
  return array_w_word_bits(*k.kind, k.rtl);
}

int64_t array_tiles(int64_t R, int64_t C, int64_t M, int64_t N) { return ((M + R - 1) / R) * ((N + C - 1) / C); }

int64_t array_tile_steps(int64_t R, int64_t C, int64_t K) { return K + R + C - 1; }

uint64_t array_cycles(int64_t R, int64_t C, int64_t M, int64_t N, int64_t K) {
  return static_cast<uint64_t>(array_tiles(R, C, M, N) * array_tile_steps(R, C, K) + R);
}

int64_t k_chunk_count(int64_t K, int64_t Kc) {
  if (K < 1 || Kc < 1) throw Error(fmt::format("K-splitting: K = {} in chunks of {} (both must be at least 1)", K, Kc));
  return (K + Kc - 1) / Kc;
}

int64_t k_chunk_len(int64_t K, int64_t Kc, int64_t chunk) { return std::min(Kc, K - chunk * Kc); }

uint64_t array_cycles_k_split(int64_t R, int64_t C, int64_t M, int64_t N, int64_t K, int64_t Kc) {
  uint64_t cycles = 0;
  for (int64_t c = 0; c < k_chunk_count(K, Kc); ++c) cycles += array_cycles(R, C, M, N, k_chunk_len(K, Kc, c));
  return cycles;
}

std::string rtl_package_sv() {
  std::string s =
      "// GENERATED by `logq hw --write-rtl rtl` from golden/hw.cpp: do not edit (the CTest hw_generated\n"
      "// fails when this file and the table disagree). Types and constants every RTL module shares.\n"
      "package logq_pkg;\n"
      "  // Package constants serve all modules; each top uses a subset.\n"
      "  /* verilator lint_off UNUSEDPARAM */\n\n"
      "  // The PE datapath of an array (parameter KIND of logq_pe_array / logq_gemm_top).\n"
      "  typedef enum int unsigned {\n";
  for (PeKind k : kPeKinds)
    s += fmt::format("    {} = {}{}\n", pe_kind_rtl_name(k), static_cast<int>(k), k == kPeKinds[std::size(kPeKinds) - 1] ? "" : ",");
  s += "  } pe_kind_e;\n\n";
  s += fmt::format(
      "  // LogART weight word in the W buffers: {{zero, neg, k[KW-1:0], odd}}, k = (E >> 1) - F_r.\n"
      "  localparam int unsigned LOGW_ODD_BIT = {};\n"
      "  localparam int unsigned LOGW_K_LSB   = {};\n"
      "  function automatic int unsigned logw_neg_bit(int unsigned kw);\n    logw_neg_bit = kw + {};\n  endfunction\n"
      "  function automatic int unsigned logw_zero_bit(int unsigned kw);\n    logw_zero_bit = kw + {};\n  endfunction\n\n",
      kLogwOddBit, kLogwKLsb, logw_neg_bit(0), logw_zero_bit(0));
  s += "  // The LogART odd-exponent mantissa K_ODD = round(sqrt2 * 2^f) for MANT_F = f (f = 1: 3, the\n"
       "  // 1+1/2 approximation). 0 marks an f the table does not hold. (Yosys takes assignments to the\n"
       "  // function name, not `return`.)\n"
       "  function automatic int unsigned odd_mantissa(int unsigned mant_f);\n"
       "    case (mant_f)\n";
  for (int f = 0; f <= kMaxMantFracBits; ++f) s += fmt::format("      {}: odd_mantissa = {};\n", f, odd_mantissa(f));
  s += "      default: odd_mantissa = 0;\n"
       "    endcase\n"
       "  endfunction\n\n"
       "  /* verilator lint_on UNUSEDPARAM */\n"
       "endpackage\n";
  return s;
}

std::string rtl_units_tsv() {
  std::string s =
      "# GENERATED by `logq hw --write-rtl rtl` from golden/hw.cpp: do not edit (CTest hw_generated).\n"
      "# The RTL units scripts/area.sh synthesizes and testbenches/CMakeLists.txt verilates.\n"
      "# use: area (a `logq area` unit), array (array:NAME:R:C adds R and C), power (one array position\n"
      "# scripts/power.sh synthesizes and simulates at gate level), tb / tb_bench / tb_cov (a Verilated\n"
      "# model in that testbench library, prefix V<name>).\n"
      "# name\tuse\ttop\tparams\tdescription\n";
  for (const RtlUnit& u : rtl_units()) s += fmt::format("{}\t{}\t{}\t{}\t{}\n", u.name, u.use, u.top, u.params, u.description);
  return s;
}

}  // namespace logq
