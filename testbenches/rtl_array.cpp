#include "testbenches/rtl_array.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "io/error.h"

namespace logq {

RtlArrayConfig rtl_array_config(const std::string& unit) {
  for (const RtlUnit& u : rtl_units()) {
    if (u.name != unit) continue;
    if (u.top != "logq_gemm_top") throw Error(fmt::format("rtl unit {} is a {}, not a logq_gemm_top array", unit, u.top));
    RtlArrayConfig c;
    c.unit = unit;
    std::istringstream in(u.params);
    std::string kv;
    while (in >> kv) {
      const size_t eq = kv.find('=');
      const std::string k = kv.substr(0, eq);
      const int v = std::stoi(kv.substr(eq + 1));
      if (k == "R") c.rows = v;
      else if (k == "C") c.cols = v;
      else if (k == "KIND") c.kind = static_cast<PeKind>(v);
      else if (k == "ACC_W") c.acc_bits = v;
      else if (k == "B") c.adalog_bits = v;
      else if (k == "KW") c.kw = v;
      else if (k == "MANT_F") c.mant_frac_bits = v;
    }
    return c;
  }
  throw Error(fmt::format("no RTL array unit '{}' in golden/hw.cpp's table", unit));
}

RtlRunResult RtlArray::run_k_split(const GemmProblem& p, const HwConfig& hw, int64_t kc) {
  RtlRunResult total;
  for (int64_t c = 0; c < k_chunk_count(p.K, kc); ++c) {
    const OwnedGemm chunk = gemm_k_chunk(p, c * kc, k_chunk_len(p.K, kc, c));
    RtlRunResult r = run(chunk.problem(), hw, nullptr, c > 0);
    total.cycles += r.cycles;
    total.seconds += r.seconds;
    total.acc = std::move(r.acc);
  }
  return total;
}

namespace {

std::string operand_x(const GemmProblem& p, int64_t m, int64_t k) {
  const int32_t v = p.x[m * p.K + k];
  const bool log_a = p.pairing == Pairing::UxA || p.pairing == Pairing::LxA;
  if (!log_a) return fmt::format("d={}", v);
  if (v == p.a_table->zero_code) return "A:zero";
  return fmt::format("A:c={}(M={},E={})", v, p.a_table->M[v], p.a_table->E[v]);
}

std::string operand_w(const GemmProblem& p, int64_t n, int64_t k) {
  if (p.pairing == Pairing::UxU || p.pairing == Pairing::UxA) return fmt::format("d={}", p.w_u[n * p.K + k]);
  const LogWeightInt& w = p.w_l[n * p.K + k];
  if (w.sign == 0) return "L:zero";
  return fmt::format("L:{}{}k={}", w.sign < 0 ? "-" : "+", w.odd ? "odd," : "", w.k);
}

}  // namespace

VerifyReport verify_gemm(RtlArray& rtl, const GemmProblem& p, HwConfig hw, const VerifyOptions& opt) {
  const RtlArrayConfig& c = rtl.config();
  hw.acc_bits = c.acc_bits;
  hw.mant_frac_bits = c.mant_frac_bits;
  VerifyReport rep;
  rep.label = opt.label;
  rep.M = p.M;
  rep.N = p.N;
  rep.K = p.K;
  const int64_t tiles_n = (p.N + c.cols - 1) / c.cols;
  rep.tiles = ((p.M + c.rows - 1) / c.rows) * tiles_n;
  const RtlRunResult r = rtl.run(p, hw);
  GemmResult g;
  if (opt.expected) {
    if (int64_t(opt.expected->size()) != p.M * p.N)
      throw Error(fmt::format("{}: {} expected accumulators for a {}x{} job", opt.label, opt.expected->size(), p.M, p.N));
    g.acc = *opt.expected;
  } else {
    g = gemm(p, hw);
  }
  if (opt.flip_expected_bit >= 0) g.acc.at(opt.flip_expected_bit) ^= 1;
  rep.cycles = r.cycles;
  rep.ideal_cycles = static_cast<double>(p.M) * p.N * p.K / (c.rows * c.cols);
  rep.utilization = r.cycles ? rep.ideal_cycles / static_cast<double>(r.cycles) : 0.0;
  const auto bad = std::mismatch(r.acc.begin(), r.acc.end(), g.acc.begin());
  if (bad.first == r.acc.end()) return rep;

  rep.pass = false;
  const int64_t i = bad.first - r.acc.begin(), m = i / p.N, n = i % p.N;
  const int64_t tm = m / c.rows, tn = n / c.cols, tile = tm * tiles_n + tn;
  std::ostringstream s;
  s << fmt::format("MISMATCH in {}: GEMM {}x{}x{} on the {}x{} array\n", opt.label, p.M, p.N, p.K, c.rows, c.cols);
  s << fmt::format("  element [m={}, n={}] = output {} of {}; tile {} (tile row {}, tile col {}), PE row {} col {}\n", m, n, i,
                   p.M * p.N, tile, tm, tn, m % c.rows, n % c.cols);
  s << fmt::format("  RTL    {} (0x{:x})\n  golden {} (0x{:x}){}\n  xor    0x{:x}\n", *bad.first, static_cast<uint64_t>(*bad.first),
                   *bad.second, static_cast<uint64_t>(*bad.second), opt.expected ? ", the network's own accumulator" : "",
                   static_cast<uint64_t>(*bad.first ^ *bad.second));
  s << fmt::format("  hw: ACC_W={} F={} rounding={} f={}\n", hw.acc_bits, hw.frac_bits,
                   hw.rounding == ShiftRounding::Floor ? "floor" : "half-up", hw.mant_frac_bits);
  s << "  operands (k: x[m,k] * w[n,k] -> golden placed term):\n";
  for (int64_t k = 0; k < std::min<int64_t>(p.K, 16); ++k) {
    // The term alone, through the golden definition.
    GemmProblem single{p.pairing, 1, 1, 1, p.x + m * p.K + k, p.w_u ? p.w_u + n * p.K + k : nullptr,
                       p.w_l ? p.w_l + n * p.K + k : nullptr, p.a_table};
    const int64_t term = gemm_reference(single, hw).acc[0];
    s << fmt::format("    k={:<5} {:<24} {:<20} -> {}\n", k, operand_x(p, m, k), operand_w(p, n, k), term);
  }
  if (p.K > 16) s << fmt::format("    ... {} more terms\n", p.K - 16);
  const uint64_t feed = static_cast<uint64_t>(array_tile_steps(c.rows, c.cols, p.K));
  if (!opt.waveform_path.empty()) {
    TraceWindow w{opt.waveform_path, tile * feed > 8 ? tile * feed - 8 : 0, (tile + 1) * feed + c.rows + 8};
    rtl.run(p, hw, &w);
    rep.waveform = opt.waveform_path;
    s << fmt::format("  waveform: {} (cycles {}..{}: the tile's feed and its drain)\n", w.path, w.first, w.last);
  }
  rep.mismatch = s.str();
  return rep;
}

}  // namespace logq
