// LogART's CNN (§5) and ViT (§6) pipelines on logq's staged models: BN folding, DBS traversal,
// per-unit LLR, and the hardware-path activation quantizers (a logq addition).
#include <chrono>
#include <cmath>
#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "io/progress.h"
#include <torch/csrc/autograd/autograd.h>
#include <torch/optim/adam.h>

#include "io/error.h"
#include "io/safetensors.h"
#include "io/dataset.h"
#include "quant/eval/runner.h"
#include "quant/logart/logart.h"
#include "quant/models/models.h"

namespace logq::logart {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A quantizable layer of one net: a Conv2d or a Linear, with uniform access to hooks and the op.
struct Layer {
  std::string name;
  nn::Conv2dImpl* conv = nullptr;
  nn::LinearImpl* lin = nullptr;
  at::Tensor& weight() { return conv ? conv->weight : lin->weight; }
  const at::Tensor& bias() { return conv ? conv->bias : lin->bias; }
  nn::TensorFn& weight_hook() { return conv ? conv->weight_hook : lin->weight_hook; }
  nn::TensorFn& input_hook() { return conv ? conv->input_hook : lin->input_hook; }
  nn::TensorFn& output_hook() { return conv ? conv->output_hook : lin->output_hook; }
  std::string act() const { return conv ? conv->fused_act : std::string(); }
  at::Tensor op(const at::Tensor& x, const at::Tensor& w, bool with_bias) {
    const at::Tensor b = with_bias ? bias() : at::Tensor();
    if (conv) return at::conv2d(x, w, b, conv->spec.stride, conv->spec.padding, 1, conv->spec.groups);
    return at::linear(x, w, b);
  }
};

at::Tensor apply_act(const std::string& act, const at::Tensor& x) {
  if (act == "relu") return at::relu(x);
  if (act == "relu6") return at::clamp(x, 0.0, 6.0);
  return x;
}

std::map<std::string, Layer> layers_of(Net& net) {
  std::map<std::string, Layer> out;
  for (const auto& item : net.named_modules("", false)) {
    Layer l;
    l.name = item.key();
    l.conv = item.value()->as<nn::Conv2dImpl>();
    l.lin = item.value()->as<nn::LinearImpl>();
    if (l.conv || l.lin) out[l.name] = l;
  }
  return out;
}

bool in_stage(const std::string& layer, const std::string& stage) {
  return layer == stage || (layer.size() > stage.size() && layer.compare(0, stage.size(), stage) == 0 && layer[stage.size()] == '.');
}

// Runs a stage over N inputs in chunks without autograd (memory stays bounded for 2048 images).
at::Tensor run_chunked(const Stage& s, const at::Tensor& x, int64_t chunk = 256) {
  c10::NoGradGuard g;
  std::vector<at::Tensor> outs;
  for (int64_t b = 0; b < x.size(0); b += chunk) outs.push_back(s.run(x.slice(0, b, std::min(x.size(0), b + chunk))));
  return at::cat(outs, 0);
}

// The input (or output) of `layer` while `stage` runs on x. A hook already there (an activation
// quantizer: fulllog's AdaLog inputs) runs first, so what is recorded is what the GEMM sees.
at::Tensor capture(Layer& l, bool output, const Stage& s, const at::Tensor& x) {
  at::Tensor got;
  nn::TensorFn& hook = output ? l.output_hook() : l.input_hook();
  const nn::TensorFn prev = hook;
  hook = [&got, prev](const at::Tensor& t) {
    const at::Tensor v = prev ? prev(t) : t;
    got = got.defined() ? at::cat({got, v.detach()}, 0) : v.detach();
    return v;
  };
  try {
    run_chunked(s, x);
  } catch (...) {
    hook = prev;
    throw;
  }
  hook = prev;
  if (!got.defined()) throw Error(fmt::format("layer '{}' did not run in stage '{}'", l.name, s.name));
  return got;
}

void set_fixed_weight(Layer& l, const at::Tensor& wq) {
  l.weight_hook() = [wq](const at::Tensor&) { return wq; };
}

std::string c2_summary(const WeightQuant& q) {
  std::map<int, int> h;
  for (int v : q.c2) ++h[v];
  std::string s;
  for (auto it = h.rbegin(); it != h.rend(); ++it) s += fmt::format("{}{}:{}", s.empty() ? "" : " ", it->first, it->second);
  double ms = 0;
  for (float v : q.scale) ms += v;
  return fmt::format("c2 {{{}}} mean s {:.3f}", s, ms / double(q.scale.size()));
}

WeightQuant make_weight_quant(const std::string& name, const Options& opt, const at::Tensor& w) {
  WeightQuant q;
  q.name = name;
  q.n_bits = opt.w_bits;
  q.method = opt.scale_method;
  q.sym = opt.sym;
  q.k_odd = opt.k_odd;
  q.m2 = opt.m2;
  q.init(w);
  return q;
}

bool is_transformer(const std::vector<Stage>& st) {
  for (const auto& s : st)
    if (s.name == "pos_embed") return true;
  return false;
}
}  // namespace

namespace {

// The draw with its generator, which goes on to drive the augmentation.
std::vector<int64_t> draw_order(const Dataset& ds, const ImageDraw& d, std::mt19937_64& rng) {
  std::vector<int64_t> idx = d.list;
  if (idx.empty()) {
    if (d.n <= 0) throw Error("the number of search/calibration images must be positive");
    if (size_t(d.n) > ds.size())
      throw Error(fmt::format("{} has {} images; {} were asked for search/calibration", ds.name, ds.size(), d.n));
    if (d.numpy) {  // already in random order: the reference loads perm[:n] as it comes
      idx = numpy_permutation(ds.size(), d.seed);
      idx.resize(size_t(d.n));
      rng.seed(d.seed);
      return idx;
    }
    idx = select_indices(ds.size(), size_t(d.n), d.seed);
  }
  rng.seed(d.seed);
  std::shuffle(idx.begin(), idx.end(), rng);  // batches mix classes, as a shuffled loader does
  return idx;
}

}  // namespace

std::vector<int64_t> draw_order(const Dataset& ds, const ImageDraw& d) {
  std::mt19937_64 rng;
  return draw_order(ds, d, rng);
}

at::Tensor sample_images(const Net& net, const Dataset& ds, const ImageDraw& d) {
  std::mt19937_64 rng;
  const std::vector<int64_t> idx = draw_order(ds, d, rng);
  const Preprocess p = preprocess_for(net);
  const int64_t n = int64_t(idx.size()), per = p.in_chans * p.img_size * p.img_size;
  at::Tensor x = at::empty({n, p.in_chans, p.img_size, p.img_size});
  for (int64_t i = 0; i < n; ++i) {
    const Image img = ds.image(size_t(idx[size_t(i)]));
    float* out = x.data_ptr<float>() + i * per;
    if (!d.augment) preprocess_eval(img, p, out);
    else if (p.img_size <= 64) preprocess_train(img, p, p.img_size <= 28 ? 2 : 4, true, rng, out);
    else preprocess_timm_train(img, p, rng, out);
  }
  return x;
}

at::Tensor sample_images(const Net& net, const Dataset& ds, int64_t n, uint64_t seed) {
  ImageDraw d;
  d.n = n;
  d.seed = seed;
  return sample_images(net, ds, d);
}

namespace {

struct Pipeline {
  Net& fp;
  Net& q;
  const Options& opt;
  const std::function<void(const std::string&)>& log;
  std::vector<Stage> sfp, sq;
  std::map<std::string, Layer> lfp, lq;
  std::map<std::string, WeightQuant> wq;
  std::vector<std::string> order;
  bool vit = false;

  std::vector<std::string> layers_in(const Stage& s) const {
    std::vector<std::string> out;
    for (const auto& n : order)
      if (in_stage(n, s.name)) out.push_back(n);
    return out;
  }

  void fix_nearest(const std::string& n) { set_fixed_weight(lq.at(n), wq.at(n).quantize(lfp.at(n).weight())); }

  void search(const at::Tensor& images) {
    const auto t0 = Clock::now();
    if (opt.search_method == SearchMethod::None) {  // the quantizer's init: s = 1, the method's c2
      for (const auto& n : order) fix_nearest(n);
      log(fmt::format("no search: s = 1, c2 = {} for every row", wq.begin()->second.c2.front()));
      return;
    }
    if (opt.search_method == SearchMethod::TensorWise) {
      for (const auto& n : order) {
        const auto t = Clock::now();
        dbs_tensor_wise(wq.at(n), lfp.at(n).weight());
        fix_nearest(n);
        log(fmt::format("DBS tw {:<28} {} ({:.2f} s)", n, c2_summary(wq.at(n)), since(t)));
      }
      return;
    }
    at::Tensor xq = images, xf = images;
    for (size_t si = 0; si < sq.size(); ++si) {
      const Stage &s = sq[si], &f = sfp[si];
      if (s.kind != "glue") {
        const auto names = layers_in(s);
        std::map<std::string, at::Tensor> inputs;
        if (vit)  // block-wise: inputs of the block's FP layers on the partially quantized model's input
          for (const auto& n : names) inputs[n] = capture(lq.at(n), false, s, xq);
        for (const auto& n : names) {
          const auto t = Clock::now();
          Layer& l = lq.at(n);
          const at::Tensor w = lfp.at(n).weight().detach();
          if (vit) {
            const at::Tensor x = inputs.at(n);
            dbs_with_data(wq.at(n), w, [&](const at::Tensor& wh) { return l.op(x, wh - w, false); }, at::zeros({}), l.lin != nullptr, opt.jobs);
          } else {
            const at::Tensor x = capture(l, false, s, xq);
            const at::Tensor y = apply_act(l.act(), capture(lfp.at(n), true, f, xf));
            dbs_with_data(wq.at(n), w, [&](const at::Tensor& wh) { return apply_act(l.act(), l.op(x, wh, true)); }, y, l.lin != nullptr, opt.jobs);
            fix_nearest(n);
          }
          log(fmt::format("DBS {} {:<28} {} ({:.2f} s)", vit ? "bw" : "lw", n, c2_summary(wq.at(n)), since(t)));
        }
        if (vit)
          for (const auto& n : names) fix_nearest(n);
      }
      xq = run_chunked(s, xq);
      if (!vit) xf = run_chunked(f, xf);
    }
    log(fmt::format("DBS done ({:.1f} s)", since(t0)));
  }

  // Σ over dim 1, mean over the rest (BRECQ lp_loss; LogART-ViT 'mse').
  static at::Tensor sum1_mean(const at::Tensor& d) { return (d * d).sum(1).mean(); }
  static at::Tensor kl(const at::Tensor& target_logits, const at::Tensor& logits) {
    const at::Tensor p = at::softmax(target_logits, -1);
    return (p * (at::log_softmax(target_logits, -1) - at::log_softmax(logits, -1))).sum() / double(logits.size(0));
  }

  // G = |∂KL/∂y (y + 1e-6) − ∂KL/∂y (y − 1e-6)| through the rest of the FP model (§6).
  at::Tensor hessian_weights(size_t stage, const at::Tensor& y) {
    auto rest = [&](at::Tensor x) {
      for (size_t i = stage + 1; i < sfp.size(); ++i) x = sfp[i].run(x);
      return x;
    };
    std::vector<at::Tensor> parts;
    for (int64_t b = 0; b < y.size(0); b += 32) {
      const at::Tensor yc = y.slice(0, b, std::min(y.size(0), b + 32));
      at::Tensor zfp;
      {
        c10::NoGradGuard g;
        zfp = rest(yc) / opt.temp;
      }
      at::Tensor grads[2];
      for (int k = 0; k < 2; ++k) {
        at::Tensor yp = (yc + (k == 0 ? 1e-6 : -1e-6)).detach().set_requires_grad(true);
        at::Tensor loss = kl(zfp, rest(yp) / opt.temp);
        grads[k] = torch::autograd::grad({loss}, {yp})[0];
      }
      parts.push_back((grads[0] - grads[1]).abs());
    }
    at::Tensor G = at::cat(parts, 0);
    return opt.use_mean_hessian ? G.mean(0, true) : G;
  }

  void reconstruct(const at::Tensor& images) {
    at::manual_seed(opt.seed);
    at::Tensor xq = images, xf = images;
    const int64_t N = images.size(0);
    for (size_t si = 0; si < sq.size(); ++si) {
      const Stage &s = sq[si], &f = sfp[si];
      if (s.kind == "glue") {
        xq = run_chunked(s, xq);
        xf = run_chunked(f, xf);
        continue;
      }
      const auto t0 = Clock::now();
      const at::Tensor y = run_chunked(f, xf);
      const bool head = si + 1 == sq.size();
      at::Tensor G;
      if (vit && !head && opt.optim_metric == "hessian_perturb") G = hessian_weights(si, y);
      std::vector<std::shared_ptr<LlrWeight>> llr;
      std::vector<at::Tensor> params;
      const auto names = layers_in(s);
      for (const auto& n : names) {
        auto w = std::make_shared<LlrWeight>(wq.at(n), lfp.at(n).weight().detach());
        lq.at(n).weight_hook() = [w](const at::Tensor&) { return w->soft(); };
        params.push_back(w->alpha);
        llr.push_back(w);
      }
      torch::optim::Adam adam(params, torch::optim::AdamOptions(opt.lr));
      const int64_t T = opt.iters, B = std::min(opt.recon_batch, N);
      const double warm = opt.warmup * double(T);
      double first = 0, last_rec = 0, last_round = 0;
      if (opt.act_training) opt.act_training(true);  // activation quantizers in the loop pass gradients
      Progress bar("LLR " + s.name, T, opt.progress);
      for (int64_t t = 1; t <= T; ++t) {
        const double lr = opt.lr * opt.lr_min_ratio + (opt.lr - opt.lr * opt.lr_min_ratio) * (1 + std::cos(M_PI * double(t - 1) / double(T))) / 2;
        for (auto& g : adam.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
        const at::Tensor idx = at::randperm(N, at::kLong).slice(0, 0, B);
        at::Tensor xin;
        if (vit && opt.optim_mode == "rinp") xin = xf.index_select(0, idx);
        else if (vit && opt.optim_mode == "qdrop") {
          const at::Tensor a = xq.index_select(0, idx), b = xf.index_select(0, idx);
          xin = at::where(at::rand_like(a) < opt.drop_prob, a, b);
        } else xin = xq.index_select(0, idx);
        const at::Tensor out = s.run(xin), tgt = y.index_select(0, idx);
        at::Tensor rec;
        if (vit && head) rec = kl(tgt, out);
        else if (G.defined()) rec = ((out - tgt).pow(2) * (G.size(0) == 1 ? G : G.index_select(0, idx))).mean();
        else rec = sum1_mean(out - tgt);
        if (vit) {  // LogART-ViT normalises by the first iteration's loss: ×2/L_rec(t=1)
          if (t == 1) first = std::max(rec.item<double>(), 1e-30);
          rec = rec * (2.0 / first);
        }
        at::Tensor loss = rec;
        double beta = opt.b_start;
        if (double(t) >= warm) {
          beta = opt.b_end + (opt.b_start - opt.b_end) * std::max(0.0, 1.0 - (double(t) - warm) / (double(T) - warm));
          at::Tensor r = at::zeros({});
          for (auto& w : llr) r = r + w->round_loss(beta);
          loss = loss + opt.round_weight * r;
          last_round = r.item<double>();
        }
        adam.zero_grad();
        loss.backward();
        adam.step();
        last_rec = rec.item<double>();
        bar.update(t, fmt::format("rec {:.5g} round {:.4g}", last_rec, last_round));
      }
      bar.finish();
      if (opt.act_training) opt.act_training(false);
      for (size_t i = 0; i < names.size(); ++i) {
        wq.at(names[i]).round_up = llr[i]->hard_round_up();
        fix_nearest(names[i]);  // golden's codes for k = ⌊u⌋ + [α ≥ 0]
      }
      log(fmt::format("LLR {:<28} {} layers, {} iters, rec {:.5g}, round {:.4g} ({:.1f} s)", s.name, names.size(), T, last_rec,
                      last_round, since(t0)));
      xq = run_chunked(s, xq);
      xf = y;
    }
  }
};

}  // namespace

QuantizedModel quantize(Net& fp, std::shared_ptr<Net> qnet, const at::Tensor& search_images, const at::Tensor& calib_images,
                        const Options& opt, const std::function<void(const std::string&)>& log, const QuantizedModel* searched,
                        const std::function<void(const LayerParams&)>& on_searched) {
  fold_batchnorms(fp);
  fold_batchnorms(*qnet);
  fp.eval();
  qnet->eval();
  Pipeline p{fp, *qnet, opt, log, fp.stages(), qnet->stages(), layers_of(fp), layers_of(*qnet), {}, quantizable_layers(fp)};
  p.vit = opt.transformer || is_transformer(p.sfp);
  const bool dynamic = opt.scale_method == ScaleMethod::LogDynamic;
  if (!dynamic && opt.search_method != SearchMethod::None)
    throw Error(fmt::format("LogART: {} has no base search (the reference's DBS raises for anything but log_dynamic); use "
                            "--search-method none (s = 1)", to_string(opt.scale_method)));
  if (dynamic && opt.search_method == SearchMethod::None)
    throw Error("LogART: log_dynamic is defined by its Dynamic Base Search; give tensor_wise, layer_wise or block_wise");
  if (!p.vit && opt.search_method == SearchMethod::BlockWise)
    throw Error("LogART: block_wise search is not supported for CNNs (the reference's block_search asserts); use layer_wise");
  if (p.vit && opt.search_method == SearchMethod::LayerWise)
    throw Error("LogART: layer_wise search is the CNN objective; ViTs use block_wise (or tensor_wise)");
  for (const auto& n : p.order) {
    bool found = false;
    for (const auto& s : p.sfp) found = found || (s.kind != "glue" && in_stage(n, s.name));
    if (!found) throw Error(fmt::format("LogART: layer '{}' belongs to no stage of '{}'", n, fp.arch));
    p.wq.emplace(n, make_weight_quant(n, opt, p.lfp.at(n).weight()));
  }
  QuantizedModel qm;
  qm.net = qnet;
  auto t0 = Clock::now();
  if (searched) {  // resume: DBS parameters from a saved file (their rounding is redone by LLR)
    for (const auto& [n, w] : searched->layers) {
      if (!p.wq.count(n)) throw Error(fmt::format("LogART: saved parameters name layer '{}', which '{}' does not have", n, fp.arch));
      WeightQuant& dst = p.wq.at(n);
      if (dst.rows != w.rows || dst.cols != w.cols) throw Error(fmt::format("LogART: saved parameters of '{}' have another shape", n));
      for (int64_t r = 0; r < w.rows; ++r) dst.set_row(r, w.s_idx[size_t(r)], w.c2[size_t(r)]);
      p.fix_nearest(n);
    }
    log(fmt::format("DBS parameters of {} layers resumed", searched->layers.size()));
  } else {
    p.search(search_images);
  }
  qm.search_seconds = since(t0);
  if (on_searched) {
    LayerParams dbs;
    for (const auto& n : p.order) dbs.emplace_back(n, p.wq.at(n));
    on_searched(dbs);
  }
  // LogART-ViT passes --hardware_approx only to its search copy: LLR runs with exact √2 there.
  if (p.vit && !opt.vit_approx_everywhere)
    for (auto& [n, w] : p.wq) w.k_odd = 0.0;
  if (opt.llr) {
    t0 = Clock::now();
    p.reconstruct(calib_images);
    qm.llr_seconds = since(t0);
  }
  for (const auto& n : p.order) qm.layers.emplace_back(n, p.wq.at(n));
  return qm;
}

void apply(QuantizedModel& qm, double k_odd, int act_bits) {
  auto layers = layers_of(*qm.net);
  for (auto& [n, w] : qm.layers) {
    WeightQuant c = w;
    c.k_odd = k_odd;
    set_fixed_weight(layers.at(n), c.quantize(layers.at(n).weight()));
  }
  install_gemm_input_quantizers(*qm.net, qm.acts, act_bits);
}

void calibrate_activations(QuantizedModel& qm, const at::Tensor& images, int bits) {
  qm.acts = calibrate_gemm_inputs(*qm.net, images, bits);
}

void save_quantized(const QuantizedModel& qm, const std::string& path, const std::map<std::string, std::string>& meta) {
  SafetensorsWriter w;
  auto add = [&](const std::string& k, DType t, std::vector<int64_t> shape, const void* p, size_t bytes) { w.add(k, t, shape, p, bytes); };
  for (const auto& [n, q] : qm.layers) {
    add(n + ".logart.s_idx", DType::I32, {q.rows}, q.s_idx.data(), q.s_idx.size() * 4);
    add(n + ".logart.c2", DType::I32, {q.rows}, q.c2.data(), q.c2.size() * 4);
    add(n + ".logart.scale", DType::F32, {q.rows}, q.scale.data(), q.scale.size() * 4);
    if (!q.round_up.empty()) add(n + ".logart.round_up", DType::U8, {q.rows, q.cols}, q.round_up.data(), q.round_up.size());
  }
  for (const auto& a : qm.acts) {
    const float v[2] = {a.scale, a.zero};
    add(a.name + ".act.scale_zero", DType::F32, {2}, v, sizeof v);
  }
  for (const auto& [k, v] : meta) w.set_metadata(k, v);
  w.set_metadata("logq.method", "logart");
  w.write(path);
}

void load_quantized(QuantizedModel& qm, const std::string& path, const Options& opt) {
  const auto f = SafetensorsFile::open(path);
  if (f.metadata_or("logq.method", "") != "logart") throw Error(fmt::format("{}: not a LogART quantized checkpoint (logq.method)", path));
  auto layers = layers_of(*qm.net);
  qm.layers.clear();
  auto get = [&](const std::string& k, auto type_tag, DType t, int64_t n) {
    using T = decltype(type_tag);
    if (!f.find(k)) throw Error(fmt::format("{}: missing tensor '{}'", path, k));
    std::vector<T> v = f.read<T>(k, t);
    if (int64_t(v.size()) != n) throw Error(fmt::format("{}: tensor '{}' has {} values, expected {}", path, k, v.size(), n));
    return v;
  };
  for (const auto& n : quantizable_layers(*qm.net)) {
    WeightQuant q = make_weight_quant(n, opt, layers.at(n).weight());
    const auto si = get(n + ".logart.s_idx", int32_t{}, DType::I32, q.rows);
    const auto c2 = get(n + ".logart.c2", int32_t{}, DType::I32, q.rows);
    const auto cands = c2_candidates(q.n_bits, q.method);
    for (int64_t r = 0; r < q.rows; ++r) {
      const int32_t s = si[size_t(r)], c = c2[size_t(r)];
      if (s < 0 || s >= 100 || std::find(cands.begin(), cands.end(), c) == cands.end())
        throw Error(fmt::format("{}: layer '{}' row {}: s_idx {} / c2 {} invalid for {} bits {}", path, n, r, s, c, q.n_bits,
                                to_string(q.method)));
      q.set_row(r, s, c);
    }
    if (f.find(n + ".logart.round_up")) {
      const auto ru = get(n + ".logart.round_up", uint8_t{}, DType::U8, q.rows * q.cols);
      q.round_up.assign(ru.begin(), ru.end());
      for (uint8_t v : q.round_up)
        if (v > 1) throw Error(fmt::format("{}: layer '{}' round_up holds {}", path, n, int(v)));
    }
    qm.layers.emplace_back(n, std::move(q));
  }
}

int mantissa_frac_bits(double k_odd) {
  if (k_odd == 0) return 23;  // round(√2·2^23)/2^23 is float32(√2) exactly
  for (int f = 1; f <= 16; ++f)
    if (std::ldexp(double(logart_mantissa(true, f)), -f) == k_odd) return f;
  throw Error(fmt::format("export: the odd-level factor K = {} is not round(sqrt2 * 2^f) / 2^f for any f <= 16", k_odd));
}

GraphBuilder::GemmSource export_source(const QuantizedModel& qm, double k_odd, int act_bits) {
  std::map<std::string, const WeightQuant*> wq;
  for (const auto& [n, q] : qm.layers) wq[n] = &q;
  std::map<std::string, ActQuant> acts;
  for (const auto& a : qm.acts) acts[a.name] = a;
  const int f = mantissa_frac_bits(k_odd);
  const auto uniform = [acts, act_bits](const std::string& name) {
    auto it = acts.find(name);
    if (it == acts.end()) throw Error(fmt::format("export: no activation quantizer for '{}' (quantize with --act-bits)", name));
    return UniformParams{act_bits, {it->second.scale}, {int32_t(std::lrint(it->second.zero))}};
  };
  return [wq, uniform, f, act_bits](const std::string& name, torch::nn::Module& m) {
    QLayer l;
    if (m.as<nn::MatMulImpl>()) {
      if (act_bits <= 0) throw Error(fmt::format("export: matmul '{}' has float operands; quantize with --act-bits to export it", name));
      l.pairing = Pairing::UxU;
      l.x_uniform = uniform(name + ".a");
      l.b_uniform = uniform(name + ".b");
      return l;
    }
    auto it = wq.find(name);
    if (it == wq.end()) throw Error(fmt::format("export: layer '{}' has no LogART parameters", name));
    const WeightQuant& q = *it->second;
    auto* conv = m.as<nn::Conv2dImpl>();
    auto* lin = m.as<nn::LinearImpl>();
    const at::Tensor w = (conv ? conv->weight : lin->weight).detach().reshape({q.rows, q.cols}).contiguous();
    const float* p = w.data_ptr<float>();
    l.pairing = Pairing::LxU;
    l.w_log.resize(size_t(q.rows * q.cols));
    for (int64_t r = 0; r < q.rows; ++r)
      for (int64_t i = 0; i < q.cols; ++i) l.w_log[size_t(r * q.cols + i)] = q.code(r, i, p[r * q.cols + i]);
    l.w_log_scale = q.scale;
    l.w_log_bits = q.n_bits;
    l.hw.mant_frac_bits = f;
    if (act_bits > 0) l.x_uniform = uniform(name);
    else l.x_float = true;
    const at::Tensor b = conv ? conv->bias : lin->bias;
    if (b.defined()) {
      const at::Tensor bc = b.detach().contiguous();
      l.bias.assign(bc.data_ptr<float>(), bc.data_ptr<float>() + bc.numel());
    }
    return l;
  };
}

}  // namespace logq::logart
