// The RtlArray implementation for any Verilated logq_gemm_top (all parameterizations share the
// port names). Included by the .cpp that instantiates a model.
#pragma once
#include <chrono>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <verilated.h>
#if VM_COVERAGE
#include <verilated_cov.h>
#endif
#include <verilated_vcd_c.h>

#include "io/error.h"
#include "testbenches/rtl_array.h"

namespace logq {

// Models verilated with --trace have trace(); the benchmark models are built without it.
template <typename T, typename = void>
struct HasTrace : std::false_type {};
template <typename T>
struct HasTrace<T, std::void_t<decltype(std::declval<T&>().trace(static_cast<VerilatedVcdC*>(nullptr), 0))>> : std::true_type {};

template <typename VTop>
class VerilatedArray final : public RtlArray {
 public:
  explicit VerilatedArray(RtlArrayConfig cfg) : cfg_(cfg) {
    ctx_.traceEverOn(true);
    top_ = std::make_unique<VTop>(&ctx_);
    reset();
  }
  ~VerilatedArray() override { top_->final(); }

  const RtlArrayConfig& config() const override { return cfg_; }
  void write_coverage(const std::string& path) override {
#if VM_COVERAGE  // set by verilate(... COVERAGE) for the target that instantiates this model
    ctx_.coveragep()->write(path.c_str());
#else
    throw Error(fmt::format("{}: this RTL model was built without --coverage", path));
#endif
  }

  RtlRunResult run(const GemmProblem& p, const HwConfig& hw, const TraceWindow* trace, bool accumulate) override {
    check_fits(p, hw);
    reset();
    top_->acc_i = accumulate;
    const bool log_w = p.pairing == Pairing::LxU || p.pairing == Pairing::LxA;
    const bool log_a = p.pairing == Pairing::UxA || p.pairing == Pairing::LxA;
    top_->mode_i = (log_w ? 1 : 0) | (log_a ? 2 : 0);
    top_->frac_bits_i = static_cast<uint8_t>(hw.frac_bits);
    top_->half_up_i = hw.rounding == ShiftRounding::HalfUp;
    top_->m_i = static_cast<uint16_t>(p.M);
    top_->n_i = static_cast<uint16_t>(p.N);
    top_->k_i = static_cast<uint16_t>(p.K);
    if (log_a) load_lut(*p.a_table);
    load_operands(p, log_a, log_w);

    std::unique_ptr<VerilatedVcdC> vcd;
    if (trace) {
      if constexpr (HasTrace<VTop>::value) {
        vcd = std::make_unique<VerilatedVcdC>();
        top_->trace(vcd.get(), 99);
        vcd->open(trace->path.c_str());
        if (!vcd->isOpen()) throw Error(fmt::format("{}: cannot write the waveform", trace->path));
      } else {
        throw Error("this RTL model was built without --trace; no waveform can be written");
      }
    }
    top_->start_i = 1;
    tick(nullptr, 0, nullptr);
    top_->start_i = 0;
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t guard = 0;
    const uint64_t limit = expected_cycles(cfg_, p.M, p.N, p.K) * 2 + 1000;
    while (!top_->done_o) {
      tick(vcd.get(), top_->cycles_o, trace);
      if (++guard > limit) throw Error(fmt::format("RTL did not finish within {} cycles", limit));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (vcd) vcd->close();
    RtlRunResult r;
    r.cycles = top_->cycles_o;
    r.seconds = seconds;
    r.acc.resize(p.M * p.N);
    for (int64_t i = 0; i < p.M * p.N; ++i) {
      top_->obuf_addr_i = static_cast<uint32_t>(i);
      top_->eval();
      r.acc[i] = sign_extend(static_cast<uint64_t>(top_->obuf_data_o), cfg_.acc_bits);
    }
    return r;
  }

 private:
  RtlArrayConfig cfg_;
  VerilatedContext ctx_;
  std::unique_ptr<VTop> top_;
  uint64_t time_ = 0;

  static int64_t sign_extend(uint64_t v, int bits) {
    const uint64_t m = uint64_t{1} << (bits - 1);
    v &= (bits == 64) ? ~uint64_t{0} : ((uint64_t{1} << bits) - 1);
    return static_cast<int64_t>((v ^ m) - m);
  }

  void tick(VerilatedVcdC* vcd, uint64_t cycle, const TraceWindow* w) {
    const bool dump = vcd && cycle >= w->first && cycle <= w->last;
    top_->clk_i = 0;
    top_->eval();
    if (dump) vcd->dump(time_);
    ++time_;
    top_->clk_i = 1;
    top_->eval();
    if (dump) vcd->dump(time_);
    ++time_;
  }

  void reset() {
    top_->start_i = 0;
    top_->abuf_we_i = 0;
    top_->wbuf_we_i = 0;
    top_->lut_we_i = 0;
    top_->rst_ni = 0;
    tick(nullptr, 0, nullptr);
    top_->rst_ni = 1;
    tick(nullptr, 0, nullptr);
  }

  void check_fits(const GemmProblem& p, const HwConfig& hw) const {
    const auto R = cfg_.rows, C = cfg_.cols;
    if (p.M < 1 || p.N < 1 || p.K < 1 || p.M > 65535 || p.N > 65535 || p.K > 65535)
      throw Error(fmt::format("RTL job {}x{}x{}: dimensions must be 1..65535", p.M, p.N, p.K));
    if ((p.M + R - 1) / R * p.K > cfg_.a_bank_depth || (p.N + C - 1) / C * p.K > cfg_.w_bank_depth || p.M * p.N > cfg_.out_depth)
      throw Error(fmt::format("RTL job {}x{}x{} does not fit the {}x{} array's buffers", p.M, p.N, p.K, R, C));
    if (hw.acc_bits != cfg_.acc_bits || hw.mant_frac_bits != cfg_.mant_frac_bits)
      throw Error(fmt::format("RTL array has ACC_W = {}, f = {}; the job asks for {}, {}", cfg_.acc_bits, cfg_.mant_frac_bits, hw.acc_bits, hw.mant_frac_bits));
    if (hw.frac_bits < 0 || hw.frac_bits > 127) throw Error("RTL array: F must be 0..127");
    if (!pe_kind_runs(cfg_.kind, p.pairing))
      throw Error(fmt::format("RTL array {} ({}) cannot run pairing {}", cfg_.unit, pe_kind_rtl_name(cfg_.kind), pairing_name(p.pairing)));
    if ((p.pairing == Pairing::UxA || p.pairing == Pairing::LxA) && p.a_table->bits > cfg_.adalog_bits)
      throw Error(fmt::format("RTL array holds AdaLog codes of up to {} bits, the job has {}", cfg_.adalog_bits, p.a_table->bits));
  }

  void load_lut(const AdaLogTable& t) {
    for (int c = 0; c < (1 << t.bits); ++c) {
      top_->lut_we_i = 1;
      top_->lut_addr_i = static_cast<uint8_t>(c);
      top_->lut_m_i = static_cast<uint8_t>(t.M[c]);
      top_->lut_e_i = static_cast<uint8_t>(t.E[c]);
      tick(nullptr, 0, nullptr);
    }
    top_->lut_we_i = 0;
  }

  // Operand words: uniform d as 16-bit two's complement; AdaLog codes with the zero state moved
  // to 2^B; LogART {zero, neg, e_idx = 2k + odd}.
  void load_operands(const GemmProblem& p, bool log_a, bool log_w) {
    const int64_t R = cfg_.rows, C = cfg_.cols;
    const int64_t na = p.M * p.K, nw = p.N * p.K;
    for (int64_t i = 0; i < std::max(na, nw); ++i) {
      top_->abuf_we_i = i < na;
      top_->wbuf_we_i = i < nw;
      if (i < na) {
        const int64_t m = i / p.K, k = i % p.K;
        const uint16_t v = log_a ? rtl_adalog_word(p.x[i], *p.a_table, cfg_.adalog_bits) : static_cast<uint16_t>(p.x[i]);
        top_->abuf_bank_i = static_cast<uint8_t>(m % R);
        top_->abuf_addr_i = static_cast<uint32_t>((m / R) * p.K + k);
        top_->abuf_data_i = static_cast<uint16_t>(v);
      }
      if (i < nw) {
        const int64_t n = i / p.K, k = i % p.K;
        const uint16_t word = log_w ? rtl_logw_word(p.w_l[i], cfg_.kw) : static_cast<uint16_t>(p.w_u[i]);
        top_->wbuf_bank_i = static_cast<uint8_t>(n % C);
        top_->wbuf_addr_i = static_cast<uint32_t>((n / C) * p.K + k);
        top_->wbuf_data_i = word;
      }
      tick(nullptr, 0, nullptr);
    }
    top_->abuf_we_i = 0;
    top_->wbuf_we_i = 0;
  }
};

}  // namespace logq
