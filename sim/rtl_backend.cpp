// The RTL back-end on the model's own operands (accelerator.h make_model_rtl_backend): golden runs
// one sample image, every GEMM layer's input codes are lowered to array jobs by golden/lower (the
// lowering golden itself ran), and each block the controller schedules runs on the Verilated array
// as the rows [m0, m0 + mb) of the job's activations against its weight rows [n0, n0 + nb); its
// accumulators must equal the network's own for that block.
#include <map>

#include <fmt/format.h>

#include "io/error.h"
#include "golden/hw.h"
#include "golden/lower.h"
#include "golden/network.h"
#include "sim/accelerator.h"
#include "testbenches/rtl_array.h"

namespace logq::sim {

namespace {

// One array job of one layer instance, with owned operands and the network's accumulators.
struct ModelJob {
  OwnedGemm gemm;
  std::vector<int64_t> acc;  // [M, N]
  HwConfig hw;
};

class ModelRtlBackend final : public ArrayBackend {
 public:
  ModelRtlBackend(const AccelConfig& hw, const LqmFile& file, const Workload& w, int64_t image) : net_(file) {
    const LqmModel& m = file.model();
    if (m.sample_images < 1)
      throw Error(fmt::format("{}: no sample images to take the operands from (export with --export-samples N > 0, or use --backend fast)",
                              file.file().path()));
    if (image < 0 || image >= m.sample_images)
      throw Error(fmt::format("--image {}: {} holds sample images 0..{}", image, file.file().path(), m.sample_images - 1));
    std::vector<Pairing> needs;
    for (const SimLayer& l : w.layers)
      if (!l.float_input) needs.push_back(l.pairing);
    rtl_ = make_rtl_array(hw.rows, hw.cols, needs);
    collect(file, image);
    for (const SimLayer& l : w.layers)
      if (!l.float_input && !jobs_.count(l.name)) throw Error(fmt::format("RTL back-end: layer '{}' did not run in golden", l.name));
  }

  std::string name() const override { return "rtl"; }

  uint64_t run(const SimLayer& l, int64_t instance, const Block& b) override {
    const ModelJob& j = jobs_.at(l.name).at(static_cast<size_t>(instance));
    const OwnedGemm& g = j.gemm;
    if (g.M != l.M || g.N != l.N || g.K != l.K)
      throw Error(fmt::format("RTL back-end: layer '{}': golden's job is {}x{}x{}, the workload's {}x{}x{}", l.name, g.M, g.N, g.K, l.M, l.N, l.K));
    // The block: activation rows [m0, m0 + mb) against weight rows [n0, n0 + nb).
    GemmProblem rows = g.problem();
    rows.M = b.mb, rows.N = b.nb;
    rows.x += b.m0 * g.K;
    if (rows.w_u) rows.w_u += b.n0 * g.K;
    if (rows.w_l) rows.w_l += b.n0 * g.K;
    HwConfig hw = j.hw;
    hw.acc_bits = rtl_->config().acc_bits;
    // A K-split block runs its columns [k0, k0 + kb) into the output buffer's partial sums; the
    // network's accumulators are checked when its last chunk has run.
    const OwnedGemm chunk = gemm_k_chunk(rows, b.k0, b.kb);
    const RtlRunResult r = rtl_->run(chunk.problem(), hw, nullptr, !b.first_k);
    if (!b.last_k) return r.cycles;
    for (int64_t m = 0; m < b.mb; ++m)
      for (int64_t n = 0; n < b.nb; ++n) {
        const int64_t want = j.acc[static_cast<size_t>((b.m0 + m) * g.N + b.n0 + n)], got = r.acc[static_cast<size_t>(m * b.nb + n)];
        if (want != got)
          throw Error(fmt::format("RTL back-end: layer '{}' instance {} block rows {}+{} cols {}+{}: the Verilated array gives {} at [{}, {}], "
                                  "golden {} (run logq verify on this layer for the full report)", l.name, instance, b.m0, b.mb, b.n0, b.nb,
                                  got, b.m0 + m, b.n0 + n, want));
      }
    return r.cycles;
  }

 private:
  void collect(const LqmFile& file, int64_t image) {
    const int64_t per = numel(net_.input_shape());
    const auto all = file.file().read<float>("samples/images", DType::F32);
    std::vector<float> x(all.begin() + image * per, all.begin() + (image + 1) * per);
    std::map<std::string, std::pair<std::vector<int32_t>, std::vector<int32_t>>> codes;
    std::map<std::string, std::vector<int64_t>> accs;
    net_.on_codes = [&](const std::string& layer, const std::vector<int32_t>& xc, const std::vector<int32_t>& bc) { codes[layer] = {xc, bc}; };
    net_.on_output = [&](const std::string& layer, const LayerOutput& o) { accs[layer] = o.acc; };
    net_.run(x);
    for (const GemmRecord& g : net_.gemms()) {
      if (g.float_input || !codes.count(g.name)) continue;
      const QLayer& l = g.layer;
      if (log_weights(l.pairing) && l.hw.mant_frac_bits != rtl_->config().mant_frac_bits)
        throw Error(fmt::format("layer '{}': LogART weights with an f = {} mantissa; the Verilated arrays implement f = {} (1+1/2): "
                                "export with --hardware-approx, or use --backend fast", g.name, l.hw.mant_frac_bits, rtl_->config().mant_frac_bits));
      const auto& [xc, bc] = codes.at(g.name);
      const std::vector<int64_t>& acc = accs.at(g.name);
      const WeightOperand w = l.op == LayerOp::Matmul ? WeightOperand{} : weight_operand(l);
      const int64_t rows = input_rows(l, xc.size());
      auto& out = jobs_[g.name];
      lower_layer(l, w.d.empty() ? nullptr : w.d.data(), w.l.empty() ? nullptr : w.l.data(), xc, rows, bc,
                  [&](const GemmProblem& p, const JobPlace& at) {
                    ModelJob j{gemm_k_chunk(p, 0, p.K), {}, l.hw};
                    j.acc.resize(static_cast<size_t>(p.M * p.N));
                    for (int64_t m = 0; m < p.M; ++m)
                      for (int64_t n = 0; n < p.N; ++n) j.acc[static_cast<size_t>(m * p.N + n)] = acc.at(static_cast<size_t>(at.at(m, n)));
                    out.push_back(std::move(j));
                  });
    }
  }

  Network net_;  // owns the layers (their AdaLog tables) the jobs point at
  std::unique_ptr<RtlArray> rtl_;
  std::map<std::string, std::vector<ModelJob>> jobs_;
};

}  // namespace

std::unique_ptr<ArrayBackend> make_model_rtl_backend(const AccelConfig& hw, const LqmFile& file, const Workload& w, int64_t image) {
  return std::make_unique<ModelRtlBackend>(hw, file, w, image);
}

}  // namespace logq::sim
