// AdaLog block reconstruction (`--optimize`, spec/adalog.md §4.5): per block, FP inputs and FP
// targets, AdaRound weights and learned activation scales, the reference's losses and schedules.
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "io/progress.h"
#include <torch/optim/adam.h>

#include "io/error.h"
#include "quant/adalog/adalog.h"
#include "quant/models/models.h"

namespace logq::adalog {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool in_stage(const std::string& layer, const std::string& stage) {
  return layer == stage || (layer.size() > stage.size() && layer.compare(0, stage.size(), stage) == 0 && layer[stage.size()] == '.');
}

at::Tensor run_chunked(const Stage& s, const at::Tensor& x) {
  c10::NoGradGuard g;
  std::vector<at::Tensor> outs;
  for (int64_t b = 0; b < x.size(0); b += 64) outs.push_back(s.run(x.slice(0, b, std::min(x.size(0), b + 64))));
  return at::cat(outs, 0);
}

// The trainable state of one layer during its block's reconstruction.
struct Trainable {
  QLayer* l = nullptr;
  std::shared_ptr<AdaRound> round;  // weight layers
  at::Tensor a_s, b_s, log_s;       // learned scales (uniform input / matmul B / AdaLog)
};

at::Tensor log_train(const QLayer& l, const at::Tensor& x, const at::Tensor& s) {
  if (l.log_kind == "log2") return log2_fq(x, s, l.alog.bits, true);
  if (l.log_kind == "logsqrt2") return logsqrt2_fq(x, s, l.alog.bits, true);
  return adalog_fq(x, AdaLogParams{l.alog.bits, l.alog.q, s}, true);
}

void install_training(Trainable& t, const std::shared_ptr<torch::nn::Module>& m) {
  QLayer& l = *t.l;
  if (auto* mm = m->as<nn::MatMulImpl>()) {
    const Uniform b = l.b;
    mm->b_hook = [b, s = t.b_s](const at::Tensor& x) { return uniform_fq(x, s, b.z, b.bits, true); };
    if (l.kind == "matmul1") {
      const Uniform a = l.a;
      mm->a_hook = [a, s = t.a_s](const at::Tensor& x) { return uniform_fq(x, s, a.z, a.bits, true); };
    } else {
      mm->a_hook = [&l, s = t.log_s](const at::Tensor& x) { return log_train(l, x, s); };
    }
    return;
  }
  const LayerHooks h = layer_hooks(*m, l.name);
  nn::TensorFn* in_hook = h.input;
  nn::TensorFn* w_hook = h.weight;
  *w_hook = [r = t.round](const at::Tensor&) { return r->soft(); };
  if (l.kind == "conv") return;
  if (l.kind == "post_gelu" && (l.log_kind == "adalog" || l.log_kind == "log2" || l.log_kind == "logsqrt2")) {
    *in_hook = [&l, s = t.log_s](const at::Tensor& x) { return log_train(l, x + kGeluShift, s) - kGeluShift; };
  } else if (l.kind == "post_gelu" && l.log_kind == "ptq4vit") {
    *in_hook = [&l](const at::Tensor& x) { return twin_uniform_fq(x, l.twin_s0, l.twin_s1, l.a.bits); };
  } else {
    const Uniform a = l.a;
    *in_hook = [a, s = t.a_s](const at::Tensor& x) { return uniform_fq(x, s, a.z, a.bits, true); };
  }
}

at::Tensor leaf(const at::Tensor& v) { return v.detach().clone().set_requires_grad(true); }

}  // namespace

void reconstruct(QuantModel& qm, const at::Tensor& images, const ReconOptions& ro, const std::function<void(const std::string&)>& log) {
  Net& net = *qm.net;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : net.named_modules("", false)) mods[item.key()] = item.value();
  const std::vector<Stage> stages = net.stages();
  // FP inputs and targets of every stage (quantizers off): each block is reconstructed on its own.
  install(qm, false);
  std::vector<at::Tensor> inputs;
  at::Tensor x = images;
  for (const auto& s : stages) {
    inputs.push_back(x);
    x = run_chunked(s, x);
  }
  inputs.push_back(x);
  at::manual_seed(ro.seed);
  const int64_t N = images.size(0);
  for (size_t si = 0; si < stages.size(); ++si) {
    const Stage& st = stages[si];
    if (st.kind == "glue") continue;
    const auto t0 = Clock::now();
    std::vector<Trainable> ts;
    std::vector<at::Tensor> alphas, scales;
    for (auto& l : qm.layers) {
      if (!in_stage(l.name, st.name)) continue;
      Trainable t;
      t.l = &l;
      auto m = mods.at(l.name);
      if (l.kind != "matmul1" && l.kind != "matmul2") {
        const at::Tensor& w = *layer_hooks(*m, l.name).w;
        t.round = std::make_shared<AdaRound>(AdaRound::init(w.detach(), l.w.s, l.w.z, l.w.bits));
        alphas.push_back(t.round->alpha);
      }
      if (l.kind == "matmul1") t.a_s = leaf(l.a.s), t.b_s = leaf(l.b.s);
      if (l.kind == "matmul2") t.log_s = leaf(l.alog.s), t.b_s = leaf(l.b.s);
      if (l.kind == "linear" || l.kind == "reparam" || l.kind == "head") t.a_s = leaf(l.a.s);
      if (l.kind == "post_gelu") {
        if (l.log_kind == "uniform") t.a_s = leaf(l.a.s);
        else if (l.log_kind != "ptq4vit") t.log_s = leaf(l.alog.s);
      }
      for (const auto* s : {&t.a_s, &t.b_s, &t.log_s})
        if (s->defined() && ro.train_act) scales.push_back(*s);
      if (!ro.train_act) {  // frozen scales: plain tensors
        for (auto* s : {&t.a_s, &t.b_s, &t.log_s})
          if (s->defined()) *s = s->detach();
      }
      install_training(t, m);
      ts.push_back(t);
    }
    if (ts.empty()) continue;
    torch::optim::Adam opt_w(alphas, torch::optim::AdamOptions(ro.lr_w));
    std::unique_ptr<torch::optim::Adam> opt_a;
    if (!scales.empty()) opt_a = std::make_unique<torch::optim::Adam>(scales, torch::optim::AdamOptions(ro.lr_a));
    const at::Tensor& X = inputs[si];
    const at::Tensor& Y = inputs[si + 1];
    const bool head = si + 1 == stages.size();
    double last = 0, last_round = 0;
    const int64_t B = std::min<int64_t>(ro.batch, N);
    Progress bar("recon " + st.name, ro.iters, ro.progress);
    for (int64_t t = 1; t <= ro.iters; ++t) {
      if (opt_a) {  // CosineAnnealingLR(T_max = iters, eta_min = 0), stepped after each iteration
        const double lr = ro.lr_a * (1 + std::cos(M_PI * double(t - 1) / double(ro.iters))) / 2;
        for (auto& g : opt_a->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
      }
      const at::Tensor idx = at::randperm(N, at::kLong).slice(0, 0, B);
      const at::Tensor out = st.run(X.index_select(0, idx)), y = Y.index_select(0, idx);
      at::Tensor rec;
      if (head) {
        const at::Tensor p = at::softmax(y, -1);
        rec = (p * (at::log_softmax(y, -1) - at::log_softmax(out, -1))).sum() / double(B);
      } else {
        rec = (out - y).pow(2).sum(1).mean() / 10.0;
      }
      at::Tensor loss = rec;
      if (t >= ro.warmup_iters) {
        const double beta = ro.b_end + (ro.b_start - ro.b_end) * std::max(0.0, 1.0 - double(t - ro.warmup_iters) / double(ro.iters - ro.warmup_iters));
        at::Tensor r = at::zeros({});
        for (auto& tr : ts)
          if (tr.round) r = r + tr.round->round_loss(beta);
        loss = loss + ro.round_weight * r;
        last_round = r.item<double>();
      }
      opt_w.zero_grad();
      if (opt_a) opt_a->zero_grad();
      loss.backward();
      opt_w.step();
      if (opt_a) opt_a->step();
      last = rec.item<double>();
      bar.update(t, fmt::format("rec {:.5g} round {:.4g}", last, last_round));
    }
    bar.finish();
    // Hard rounding written into the weights; learned scales into the quantizers; back to FP.
    c10::NoGradGuard g;
    for (auto& tr : ts) {
      QLayer& l = *tr.l;
      auto m = mods.at(l.name);
      if (tr.round) {
        layer_hooks(*m, l.name).w->copy_(tr.round->hard_weight());
      }
      if (tr.a_s.defined()) l.a.s = tr.a_s.detach().clone();
      if (tr.b_s.defined()) l.b.s = tr.b_s.detach().clone();
      if (tr.log_s.defined()) l.alog.s = tr.log_s.detach().clone();
    }
    install(qm, false);
    log(fmt::format("recon {:<28} {} layers, {} iters, rec {:.5g}, round {:.4g} ({:.1f} s)", st.name, ts.size(), ro.iters, last, last_round,
                    since(t0)));
  }
  install(qm, true);
}

}  // namespace logq::adalog
