// AdaLog calibration (spec/adalog.md §2–3): the quantization plan of a ViT/Swin, percentile
// candidate grids, FPCS for uniform and AdaLog quantizers, the per-channel search with LayerNorm
// reparameterization, attention matmuls, and post-GELU bias folding. Every search runs on the FP
// model's own recorded inputs/outputs of the layer (no Hessian: plain MSE).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <iterator>
#include <mutex>

#include <fmt/format.h>

#include "io/error.h"
#include "io/process.h"
#include "quant/adalog/adalog.h"
#include "quant/models/models.h"

namespace logq::adalog {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// ---- candidate grids (§3.1) ----------------------------------------------------------------
// torch.quantile per row of v [G, M]; very large inputs as the reference: equal chunks, averaged.
at::Tensor quantile_rows(const at::Tensor& v, double p) {
  const int64_t limit = int64_t(1) << 24;
  if (v.size(1) <= limit) return at::quantile(v, p, 1, false, "linear");
  int64_t m = 2;
  while (v.size(1) / m > limit || v.size(1) % m) m *= 2;
  return at::quantile(v.reshape({v.size(0) * m, -1}), p, 1, false, "linear").view({v.size(0), m}).mean(1);
}

struct Grid {
  at::Tensor s, z;  // [K, G]
  at::Tensor step;  // [G]
};

// Ns = eq_n/Nz scales linear between the 10–90 % and the full range, Nz integer zero points
// around n; candidate index = zi·Ns + k.
Grid uniform_grid(const at::Tensor& v, int bits, int nz, int eq_n, bool zero_from_range = false) {
  const int n = 1 << (bits - 1), ns = eq_n / nz;
  const double qmax = double((1 << bits) - 1);
  const at::Tensor lo9 = quantile_rows(v, 0.1), hi9 = quantile_rows(v, 0.9);
  const at::Tensor mn = std::get<0>(v.min(1)), mx = std::get<0>(v.max(1));
  const at::Tensor dmin = hi9 - lo9;
  // logq option: the range must include 0 (an asymmetric integer grid always does)
  const at::Tensor dmax = zero_from_range ? mx.clamp_min(0) - mn.clamp_max(0) : mx - mn;
  std::vector<at::Tensor> ss, zs;
  const int z0 = int(n - nz / 2.0);
  for (int zi = 0; zi < nz; ++zi)
    for (int k = 0; k < ns; ++k) {
      ss.push_back((dmin + (dmax - dmin) * (double(k) / double(ns - 1))) / qmax);
      if (zero_from_range)  // logq option: zero points around round(−min/s) of each row, so one-signed rows fit
        zs.push_back(at::clamp(at::round(mn.clamp_max(0).neg() / ss.back()) + double(zi - nz / 2), 0.0, qmax));
      else
        zs.push_back(at::full_like(dmin, double(z0 + zi)));
    }
  Grid g{at::stack(ss), at::stack(zs), {}};
  g.step = g.s[1] - g.s[0];
  return g;
}

// FPCS (§3.2): grid → 5 refinement stages of 16 kept × 8 offsets (±Δ/2, 0 excluded), Δ/7.5 per
// stage; `metric(s[G], z[G])` returns the error [G] of one candidate for every group.
using Metric = FpcsMetric;  // adalog.h

at::Tensor eval_all(const at::Tensor& S, const at::Tensor& Z, const Metric& m) {
  std::vector<at::Tensor> e;
  for (int64_t k = 0; k < S.size(0); ++k) e.push_back(m(S[k], Z[k]));
  return at::stack(e);  // [K, G]
}

std::pair<at::Tensor, at::Tensor> pick(const at::Tensor& S, const at::Tensor& Z, const at::Tensor& E) {
  const at::Tensor best = std::get<1>(at::topk(E.neg(), 1, 0));  // [1, G]
  return {S.gather(0, best)[0], Z.gather(0, best)[0]};
}

std::pair<at::Tensor, at::Tensor> fpcs(const Grid& g, const Metric& m, const Options& o, double clamp_min) {
  at::Tensor S = clamp_min > 0 ? g.s.clamp_min(clamp_min) : g.s, Z = g.z, D = g.step;
  at::Tensor E = eval_all(S, Z, m);
  if (!o.fpcs) return pick(S, Z, E);
  const int keep = 16, per = o.eq_n / keep;
  at::Tensor best_s, best_z, best_e;
  for (int stage = 2; stage <= o.steps; ++stage) {
    if (o.fpcs_keep_best) {  // remember the best seen so far (the reference forgets it)
      auto [s1, z1] = pick(S, Z, E);
      const at::Tensor e1 = std::get<0>(E.min(0));
      if (!best_e.defined()) best_s = s1, best_z = z1, best_e = e1;
      else {
        const at::Tensor better = e1 < best_e;
        best_s = at::where(better, s1, best_s), best_z = at::where(better, z1, best_z), best_e = at::where(better, e1, best_e);
      }
    }
    const at::Tensor top = std::get<1>(at::topk(E.neg(), keep, 0));  // [16, G], best first
    const at::Tensor offs = (at::arange(per, at::kFloat) / double(per - 1) - 0.5).view({1, per, 1}) * D.view({1, 1, -1});
    const int64_t G = S.size(1);
    S = (S.gather(0, top).unsqueeze(1) + offs).reshape({keep * per, G});
    Z = Z.gather(0, top).unsqueeze(1).expand({keep, per, G}).reshape({keep * per, G});
    if (clamp_min > 0) S = S.clamp_min(clamp_min);
    D = D / 7.5;
    E = eval_all(S, Z, m);
  }
  auto [s, z] = pick(S, Z, E);
  if (o.fpcs_keep_best) {
    const at::Tensor better = std::get<0>(E.min(0)) < best_e;
    return {at::where(better, s, best_s), at::where(better, z, best_z)};
  }
  return {s, z};
}

// ---- AdaLog decode used by the search: the LUT of the PostGelu/PostSoftmax constructors --------
// T[j] = round(2^(−j/37) / (1/D)) · (1/D) in float32 (1 ulp off the forward's table2, fixtures
// README "Surprises" 2), value 2^(−⌊cq/37⌋)·T[(cq) mod 37]·s.
at::Tensor search_table(int bits) {
  const float D = float((1 << (bits + 1)) - 2), inv = 1.0f / D;
  std::vector<float> t(120);
  for (int j = 0; j < 120; ++j) t[size_t(j)] = std::nearbyint(float(std::exp2(-j / 37.0)) / inv) * inv;
  return at::tensor(at::ArrayRef<float>(t));
}

// −log2(clamp(x/s))·37: the part of u that does not depend on q (shared by a q search).
at::Tensor adalog_log37(const at::Tensor& x, double s, bool clamp_low) {
  at::Tensor t = x / s;
  t = clamp_low ? at::clamp(t, 1e-15, 1.0) : at::clamp_max(t, 1.0);
  return at::log2(t).neg() * 37.0;
}

at::Tensor adalog_search_fq_log(const at::Tensor& log37, double s, int q, int bits, const at::Tensor& table) {
  const int64_t L = int64_t(1) << bits;
  const at::Tensor cr = at::nan_to_num(at::round(log37 / double(q)), double(L), double(L), double(L));
  const at::Tensor c = at::clamp(cr, 0.0, double(L - 1)).to(at::kLong);
  // per-code LUT: 2^(−⌊cq/37⌋)·T[(cq) mod 37]·s with the same float32 ops as per element
  const at::Tensor cq = at::arange(L, at::kLong) * q;
  const at::Tensor lut = at::exp2(at::floor_divide(cq, 37).to(at::kFloat).neg()) * table.index({at::remainder(cq, 37)}) * float(s);
  const at::Tensor v = lut.index({c});
  return at::where(cr < double(L), v, at::zeros_like(v));
}

at::Tensor adalog_search_fq(const at::Tensor& x, double s, int q, int bits, const at::Tensor& table, bool clamp_low) {
  return adalog_search_fq_log(adalog_log37(x, s, clamp_low), s, q, bits, table);
}

// ---- metrics -----------------------------------------------------------------------------------
// Σ over images of the per-image mean over every dim but `keep` (−1: none): the reference's
// similarity aggregation.
at::Tensor per_image_mse(const at::Tensor& d2, int64_t keep) {
  at::Tensor t = d2;
  if (keep >= 0) t = t.movedim(keep, -1);
  const int64_t B = t.size(0);
  return keep >= 0 ? t.reshape({B, -1, t.size(-1)}).mean(1).sum(0) : t.reshape({B, -1}).mean(1).sum(0, true);
}

int min_int(int a, int b) { return a < b ? a : b; }

}  // namespace

std::pair<at::Tensor, at::Tensor> fpcs_search(const at::Tensor& s, const at::Tensor& z, const at::Tensor& step,
                                              const FpcsMetric& metric, const Options& opt, double clamp_min) {
  return fpcs(Grid{s, z, step}, metric, opt, clamp_min);
}

Reparam reparameterize(torch::nn::LayerNormImpl& ln, nn::LinearImpl& lin, const at::Tensor& s_c, const at::Tensor& z_c) {
  Reparam rp;
  rp.s = s_c.mean();
  rp.z = at::round(z_c.mean());
  rp.r = s_c / rp.s;
  rp.b = rp.s * (rp.z - z_c);
  c10::NoGradGuard g;
  ln.weight.copy_(ln.weight / rp.r);
  ln.bias.copy_(ln.bias / rp.r - rp.b);
  lin.weight.copy_(lin.weight * rp.r.view({1, -1}));
  const at::Tensor add = at::matmul(lin.weight, rp.b);
  if (lin.bias.defined()) lin.bias.copy_(lin.bias + add);
  else lin.bias = lin.register_parameter("bias", add.clone());  // reduction gains a bias (pitfall 12)
  return rp;
}

// ---- plan (§2) ---------------------------------------------------------------------------------
std::vector<QLayer> plan(Net& net, const std::string& family, const Options& opt) {
  if (family != "vit" && family != "swin")
    throw Error(fmt::format("AdaLog supports vit (ViT/DeiT) and swin models; '{}' is a {} model", net.arch, family));
  if (opt.qconv_a_bit < 8)
    throw Error("AdaLog: qconv_a_bit < 8 quantizes the patch-embed input, a path that crashes in the reference; use 8");
  std::vector<QLayer> out;
  for (const auto& item : net.named_modules("", false)) {
    const std::string& n = item.key();
    QLayer l;
    l.name = n;
    if (item.value()->as<nn::Conv2dImpl>()) {
      l.kind = "conv";
      l.w.bits = opt.w_bit;
    } else if (item.value()->as<nn::LinearImpl>()) {
      l.w.bits = opt.w_bit;
      l.a.bits = opt.a_bit;
      const bool reparam = ends_with(n, "qkv") || ends_with(n, "fc1") || ends_with(n, "reduction");
      if (reparam && opt.a_bit == opt.w_bit) l.kind = "reparam";
      else if (ends_with(n, "fc2")) {
        l.kind = "post_gelu";
        l.alog.bits = opt.a_bit;
        const auto& k = opt.post_gelu_quantizer;
        l.log_kind = (k == "adalog" || k == "log2" || k == "logsqrt2" || k == "ptq4vit") ? k : "uniform";
      } else if (n.find("head") != std::string::npos) {
        l.kind = "head";
        l.a.bits = opt.qhead_a_bit;
      } else l.kind = "linear";
    } else if (item.value()->as<nn::MatMulImpl>()) {
      l.kind = ends_with(n, "matmul2") ? "matmul2" : "matmul1";
      l.a.bits = l.b.bits = opt.a_bit;
      if (l.kind == "matmul2") {
        l.alog.bits = opt.s_bit;
        const auto& k = opt.post_softmax_quantizer;
        if (k != "adalog" && k != "log2" && k != "logsqrt2")
          throw Error(fmt::format("AdaLog: post_softmax_quantizer '{}' is not adalog | log2 | logsqrt2", k));
        l.log_kind = k;
      }
    } else continue;
    out.push_back(l);
  }
  return out;
}

namespace {

struct Capture {
  at::Tensor in, out, a, b;
};

// The LayerNorm feeding a reparameterized linear (§3.4).
std::string norm_of(const std::string& name) {
  if (ends_with(name, "attn.qkv")) return name.substr(0, name.size() - 8) + "norm1";
  if (ends_with(name, "mlp.fc1")) return name.substr(0, name.size() - 7) + "norm2";
  if (ends_with(name, "reduction")) return name.substr(0, name.size() - 9) + "norm";
  throw Error("no LayerNorm for " + name);
}

// Layers sharing a block are captured by one forward.
std::string group_of(const std::string& name) {
  for (const char* key : {".attn.", ".mlp.", ".reduction"}) {
    const auto p = name.find(key);
    if (p != std::string::npos) return name.substr(0, p);
  }
  return name;
}

struct Calibrator {
  Net& net;
  const Options& o;
  const std::function<void(const std::string&)>& log;
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;

  // ---- uniform linear/conv (§3.3) ----
  at::Tensor layer_op(QLayer& l, const at::Tensor& x, const at::Tensor& w) {
    if (auto* c = mods.at(l.name)->as<nn::Conv2dImpl>())
      return at::conv2d(x, w, c->bias, c->spec.stride, c->spec.padding, 1, c->spec.groups);
    return at::linear(x, w, mods.at(l.name)->as<nn::LinearImpl>()->bias);
  }
  at::Tensor& weight(QLayer& l) {
    if (auto* c = mods.at(l.name)->as<nn::Conv2dImpl>()) return c->weight;
    return mods.at(l.name)->as<nn::LinearImpl>()->weight;
  }
  static std::vector<int64_t> row_shape(const at::Tensor& w) {
    std::vector<int64_t> s(size_t(w.dim()), 1);
    s[0] = -1;
    return s;
  }

  // The layer's quantized weight: its uniform quantizer, or the fixed weights of fulllog's
  // second pass (Options::fixed_weight).
  at::Tensor quant_weight(QLayer& l) {
    const at::Tensor W = weight(l).detach();
    return o.fixed_weight ? o.fixed_weight(l.name, W) : l.w(W);
  }

  at::Tensor quant_input(QLayer& l, const at::Tensor& x) {
    if (l.kind == "conv") return x;
    if (l.kind == "post_gelu") return post_gelu_input(l, x, l.alog.s.item<double>(), l.alog.q, true);
    return l.a(x);
  }

  void weight_fpcs(QLayer& l, const Capture& c, bool output) {
    if (o.fixed_weight) return;  // the weights are someone else's (fulllog)
    const at::Tensor W = weight(l).detach();
    const at::Tensor rows = W.reshape({W.size(0), -1});
    const int n = 1 << (l.w.bits - 1);
    const int nz = l.kind == "conv" ? n : min_int(16, n);  // conv grid kept the pre-fix zero-point count
    const auto shape = row_shape(W);
    at::Tensor xq;
    if (output) xq = quant_input(l, c.in);
    const int64_t out_dim = l.kind == "conv" ? 1 : c.out.dim() - 1;
    Metric m = [&](const at::Tensor& s, const at::Tensor& z) {
      const at::Tensor wq = uniform_fq(W, s.view(shape), z.view(shape), l.w.bits);
      if (!output) return (wq - W).pow(2).reshape({W.size(0), -1}).mean(1);
      return per_image_mse((layer_op(l, xq, wq) - c.out).pow(2), out_dim);
    };
    auto [s, z] = fpcs(uniform_grid(rows, l.w.bits, nz, o.eq_n, o.weight_zero_from_range), m, o, 0.0);
    l.w.s = s.view(shape);
    l.w.z = z.view(shape);
  }

  void act_fpcs(QLayer& l, const Capture& c, bool output) {
    const at::Tensor flat = c.in.reshape({1, -1});
    const at::Tensor wq = quant_weight(l);
    const int nz = min_int(16, 1 << l.a.bits);
    Metric m = [&](const at::Tensor& s, const at::Tensor& z) {
      const at::Tensor xq = uniform_fq(c.in, s, z, l.a.bits);
      if (!output) return per_image_mse((xq - c.in).pow(2), -1);
      return per_image_mse((layer_op(l, xq, wq) - c.out).pow(2), -1);
    };
    auto [s, z] = fpcs(uniform_grid(flat, l.a.bits, nz, o.eq_n), m, o, 1e-4);
    l.a.s = s;
    l.a.z = z;
  }

  void calibrate_linear(QLayer& l, const Capture& c) {
    weight_fpcs(l, c, false);
    if (l.kind == "conv") {  // §3.7: one output-MSE weight search from grid index 126; the input stays FP
      weight_fpcs(l, c, true);
      return;
    }
    act_fpcs(l, c, false);
    for (int r = 0; r < o.search_round; ++r) {
      weight_fpcs(l, c, true);
      act_fpcs(l, c, true);
    }
  }

  // ---- qkv / fc1 / reduction (§3.4) ----
  void calibrate_reparam(QLayer& l, Capture& c) {
    if (o.fixed_weight) {  // reparameterized already (the first pass): a per-tensor input search only
      calibrate_linear(l, c);
      return;
    }
    const int64_t C = c.in.size(-1);
    const at::Tensor chans = c.in.reshape({-1, C}).t().contiguous();  // [C, tokens]
    const int nz = min_int(16, 1 << l.a.bits);
    Metric m = [&](const at::Tensor& s, const at::Tensor& z) {  // per-channel act self-MSE
      return per_image_mse((uniform_fq(c.in, s, z, l.a.bits) - c.in).pow(2), c.in.dim() - 1);
    };
    auto [sc, zc] = fpcs(uniform_grid(chans, l.a.bits, nz, o.eq_n), m, o, 1e-4);
    auto* ln = mods.at(norm_of(l.name))->as<torch::nn::LayerNormImpl>();
    auto* lin = mods.at(l.name)->as<nn::LinearImpl>();
    if (!ln || !lin) throw Error(fmt::format("AdaLog reparameterization: '{}' or its LayerNorm has an unexpected type", l.name));
    const Reparam rp = reparameterize(*ln, *lin, sc, zc);
    const at::Tensor r = rp.r, b = rp.b, s_star = rp.s, z_star = rp.z;
    c.in = c.in / r - b;
    l.a.s = s_star.view({1});
    l.a.z = z_star.view({1});
    calibrate_linear(l, c);
  }

  // ---- fc2: post-GELU AdaLog (§3.5) ----
  at::Tensor post_gelu_input(const QLayer& l, const at::Tensor& x, double s, int q, bool search) {
    if (l.log_kind == "ptq4vit") return twin_uniform_fq(x, l.twin_s0, l.twin_s1, l.a.bits);
    if (l.log_kind == "uniform") return l.a(x);
    const int bits = l.alog.bits;
    if (l.log_kind == "log2" || l.log_kind == "logsqrt2") {
      const at::Tensor st = at::full({1}, float(s));
      const at::Tensor y = l.log_kind == "log2" ? log2_fq(x + kGeluShift, st, bits) : logsqrt2_fq(x + kGeluShift, st, bits);
      return y - kGeluShift;
    }
    if (search) return adalog_search_fq(x + kGeluShift, s, q, bits, table_, true) - kGeluShift;
    return shift_adalog_fq(x, AdaLogParams{bits, q, at::full({1}, float(s))}, false);
  }

  at::Tensor table_;

  void calibrate_post_gelu(QLayer& l, const Capture& c) {
    table_ = search_table(l.alog.bits);
    if (l.log_kind == "uniform") {  // a plain asymmetric linear (any post_gelu_quantizer string else)
      calibrate_linear(l, c);
      return;
    }
    // nearest-rank percentiles of the positive GELU outputs
    const at::Tensor pos = std::get<0>(c.in.masked_select(c.in > 0).sort());
    if (pos.numel() == 0) throw Error(fmt::format("AdaLog: '{}' input has no positive value to calibrate on", l.name));
    auto rank = [&](double p) { return pos[int64_t(std::ceil(double(pos.numel()) * p)) - 1].item<double>(); };
    const double u0 = rank(0.9) + double(kGeluShift), u1 = rank(1.0) + double(kGeluShift);
    double s = u0 + (u1 - u0) * 126.0 / 127.0;
    int q = 37;
    l.alog.s = at::full({1}, float(s));
    l.alog.q = q;
    if (l.log_kind == "ptq4vit") {  // PTQ4ViT twin uniform: s1 fixed, s0 = 2^i·s1 searched by output MSE
      l.twin_s1 = double(kGeluShift) / double(1 << (l.a.bits - 1));
      weight_fpcs(l, c, false);
      const at::Tensor wq = quant_weight(l);
      double best = INFINITY;
      for (int i = -5; i <= 23; ++i) {
        l.twin_s0 = std::ldexp(l.twin_s1, i);
        const double e = per_image_mse((layer_op(l, twin_uniform_fq(c.in, l.twin_s0, l.twin_s1, l.a.bits), wq) - c.out).pow(2), -1).item<double>();
        if (e < best) best = e, s = l.twin_s0;
      }
      l.twin_s0 = s;
      return;
    }
    // 'log2' / 'logsqrt2' run the same AdaLog search and keep only its scale (§3.5).
    const std::string kind = l.log_kind;
    l.log_kind = "adalog";
    weight_fpcs(l, c, false);
    for (int r = 0; r < o.search_round; ++r) {
      adalog_fpcs(l, c, u0, u1);
      weight_fpcs(l, c, true);
    }
    l.log_kind = kind;
  }

  void adalog_fpcs(QLayer& l, const Capture& c, double u0, double u1) {
    const at::Tensor wq = quant_weight(l);
    const at::Tensor xs = c.in + kGeluShift;
    auto err_log = [&](const at::Tensor& log37, int q, double s) {
      const at::Tensor xq = adalog_search_fq_log(log37, s, q, l.alog.bits, table_) - kGeluShift;
      return per_image_mse((layer_op(l, xq, wq) - c.out).pow(2), -1).item<double>();
    };
    auto err = [&](int q, double s) { return err_log(adalog_log37(xs, s, true), q, s); };
    const double s_now = l.alog.s.item<double>();
    std::vector<std::pair<double, int>> qs;
    {
      const at::Tensor log37 = adalog_log37(xs, s_now, true);
      for (int q = 10; q < 10 + o.eq_n; ++q) qs.push_back({err_log(log37, q, s_now), q});
    }
    std::stable_sort(qs.begin(), qs.end(), [](auto& a, auto& b) { return a.first < b.first; });
    struct Cand { int q; double s, e; };
    std::vector<Cand> cands;
    double step = (u1 - u0) / 15.0;
    if (!o.fpcs) {  // §3.8: q first, then 128 scales linear in [u0, u1]
      int q = qs.front().second;
      double best = INFINITY, bs = s_now;
      for (int k = 0; k < o.eq_n; ++k) {
        const double s = u0 + (u1 - u0) * double(k) / double(o.eq_n - 1);
        const double e = err(q, s);
        if (e < best) best = e, bs = s;
      }
      l.alog.q = q;
      l.alog.s = at::full({1}, float(bs));
      return;
    }
    std::vector<at::Tensor> logs;
    for (int k = 0; k < 16; ++k) logs.push_back(adalog_log37(xs, u0 + double(k) / 15.0 * (u1 - u0), true));
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < 16; ++k) {
        const int q = qs[size_t(i)].second;
        const double s = u0 + double(k) / 15.0 * (u1 - u0);
        cands.push_back({q, s, err_log(logs[size_t(k)], q, s)});
      }
    logs.clear();
    auto top = [&](size_t n) {
      std::stable_sort(cands.begin(), cands.end(), [](const Cand& a, const Cand& b) { return a.e < b.e; });
      cands.resize(std::min(n, cands.size()));
    };
    top(32);
    for (int stage = 2; stage <= o.steps; ++stage) {
      std::vector<Cand> next;
      for (const auto& t : cands)
        for (double f : {-0.5, -1.0 / 6.0, 1.0 / 6.0, 0.5}) next.push_back({t.q, t.s + f * step, err(t.q, t.s + f * step)});
      step /= 3.5;
      cands = std::move(next);
      top(32);
    }
    l.alog.q = cands.front().q;
    l.alog.s = at::full({1}, float(cands.front().s));
  }

  // ---- attention matmuls (§3.6) ----
  Grid head_grid(const at::Tensor& x, int bits) {
    const int64_t H = x.size(1);
    return uniform_grid(x.transpose(0, 1).reshape({H, -1}), bits, min_int(16, 1 << (bits - 1)), o.eq_n);
  }
  static at::Tensor heads(const at::Tensor& v) { return v.view({1, -1, 1, 1}); }
  at::Tensor mm_mse(const at::Tensor& out, const at::Tensor& ref) {
    return o.matmul_head_channel_wise ? per_image_mse((out - ref).pow(2), 1) : per_image_mse((out - ref).pow(2), -1);
  }
  at::Tensor softmax_q(const QLayer& l, const at::Tensor& a, int q, bool search) {
    const int bits = l.alog.bits;
    const double s = l.alog.s.defined() ? l.alog.s.item<double>() : 1.0;
    if (l.log_kind == "log2") return log2_fq(a, at::full({1}, float(s)), bits);
    if (l.log_kind == "logsqrt2") return logsqrt2_fq(a, at::full({1}, float(s)), bits);
    if (search) return adalog_search_fq(a, s, q, bits, table_, false);
    return adalog_fq(a, AdaLogParams{bits, q, at::full({1}, float(s))});
  }

  void calibrate_matmul(QLayer& l, const Capture& c) {
    const at::Tensor ref = c.out;
    Grid gb = head_grid(c.b, l.b.bits);
    const int64_t init = std::min<int64_t>(126, gb.s.size(0) - 1);  // "second-largest scale, last zero point"
    l.b.s = heads(gb.s[init]);
    l.b.z = heads(gb.z[init]);
    auto fit = [&](Uniform& u, const at::Tensor& x, const Grid& g, const std::function<at::Tensor(const at::Tensor&)>& out_of) {
      Metric m = [&](const at::Tensor& s, const at::Tensor& z) { return mm_mse(out_of(uniform_fq(x, heads(s), heads(z), u.bits)), ref); };
      auto [s, z] = fpcs(g, m, o, 0.0);
      if (!o.matmul_head_channel_wise) {
        s = s.mean().expand_as(s).contiguous();
        z = z.mean().round().expand_as(z).contiguous();
      }
      u.s = heads(s);
      u.z = heads(z);
    };
    if (l.kind == "matmul1") {
      Grid ga = head_grid(c.a, l.a.bits);
      l.a.s = heads(ga.s[init]);
      l.a.z = heads(ga.z[init]);
      for (int r = 0; r < o.search_round; ++r) {
        const at::Tensor bq = l.b(c.b);
        fit(l.a, c.a, ga, [&](const at::Tensor& aq) { return at::matmul(aq, bq); });
        const at::Tensor aq = l.a(c.a);
        fit(l.b, c.b, gb, [&](const at::Tensor& bq2) { return at::matmul(aq, bq2); });
      }
      return;
    }
    // matmul2: softmax probabilities × V. A's scale is 1.0 (not searched); q exhaustive per tensor.
    table_ = search_table(l.alog.bits);
    l.alog.s = at::full({1}, 1.0f);
    l.alog.q = 37;
    for (int r = 0; r < o.search_round; ++r) {
      const at::Tensor bq = l.b(c.b);
      if (l.log_kind == "adalog") {
        double best = INFINITY;
        int bq_best = l.alog.q;
        const double s = l.alog.s.item<double>();
        const at::Tensor log37 = adalog_log37(c.a, s, false);  // probabilities without the 1e-15 clamp
        for (int q = 10; q < 10 + o.eq_n; ++q) {
          const at::Tensor aq = adalog_search_fq_log(log37, s, q, l.alog.bits, table_);
          const double e = per_image_mse((at::matmul(aq, bq) - ref).pow(2), -1).item<double>();
          if (e < best) best = e, bq_best = q;
        }
        l.alog.q = bq_best;
      }
      const at::Tensor aq = softmax_q(l, c.a, l.alog.q, true);
      fit(l.b, c.b, gb, [&](const at::Tensor& bq2) { return at::matmul(aq, bq2); });
    }
  }
};

// One layer's searches on its capture; returns its log line.
std::string calibrate_layer(Calibrator& cal, QLayer& l, Capture& c) {
  const auto t = Clock::now();
  if (l.kind == "reparam") cal.calibrate_reparam(l, c);
  else if (l.kind == "post_gelu") cal.calibrate_post_gelu(l, c);
  else if (l.kind == "matmul1" || l.kind == "matmul2") cal.calibrate_matmul(l, c);
  else cal.calibrate_linear(l, c);
  std::string what;
  if (l.kind == "post_gelu") what = fmt::format("AdaLog s {:.4g} q {}", l.alog.s.item<double>(), l.alog.q);
  else if (l.kind == "matmul2") what = fmt::format("softmax q {}", l.alog.q);
  else if (l.a.defined()) what = fmt::format("act s {:.4g} z {}", l.a.s.mean().item<double>(), l.a.z.mean().item<double>());
  return fmt::format("calib {:<28} {:<9} {} ({:.1f} s)", l.name, l.kind, what, since(t));
}

// Longest first (measured on the embedded ViT: post-GELU ≈ 40 % of a block, the two
// reparameterized layers ≈ 40 %), so that `jobs` workers finish a block together.
int cost_rank(const std::string& kind) {
  static const char* order[] = {"post_gelu", "reparam", "matmul1", "linear", "head", "matmul2", "conv"};
  for (int r = 0; r < int(std::size(order)); ++r)
    if (kind == order[r]) return r;
  return int(std::size(order));
}

// Calibrates layers [i, j) of one group, `jobs` at a time in threads of this process. Within a
// group the searches are independent: each reads only its own capture and writes only its own
// QLayer and (reparam) its own LayerNorm/linear, and every ATen op runs on one thread, so the
// results equal jobs = 1 bit for bit. Log lines come out in layer order.
void calibrate_group(const Calibrator& proto, std::vector<QLayer>& layers, size_t i, size_t j,
                     std::map<std::string, Capture>& caps, int jobs, const std::function<void(const std::string&)>& log) {
  std::vector<size_t> order;
  for (size_t k = i; k < j; ++k) order.push_back(k);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return cost_rank(layers[a].kind) < cost_rank(layers[b].kind); });
  const size_t n = j - i;
  std::vector<std::string> lines(n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<char> done(n, 0);
  std::mutex mu;
  size_t next_job = 0, next_line = 0;
  const int threads = int(std::min<size_t>(size_t(std::max(jobs, 1)), n));
  run_in_threads(threads, [&](int) {
    c10::NoGradGuard no_grad;  // grad mode is per thread
    Calibrator cal = proto;    // its search table is per layer
    for (;;) {
      size_t k;
      {
        std::lock_guard<std::mutex> g(mu);
        if (next_job == n) return;
        k = order[next_job++];
      }
      std::string line;
      std::exception_ptr err;
      try {
        line = calibrate_layer(cal, layers[k], caps.at(layers[k].name));
      } catch (...) {
        err = std::current_exception();
      }
      std::lock_guard<std::mutex> g(mu);
      lines[k - i] = std::move(line);
      errors[k - i] = err;
      done[k - i] = 1;
      while (next_line < n && done[next_line] && !errors[next_line]) log(lines[next_line++]);
      if (err) next_job = n;  // stop handing out work; the error is rethrown below
    }
  });
  for (size_t k = 0; k < n; ++k)
    if (errors[k]) std::rethrow_exception(errors[k]);
}

}  // namespace

QuantModel calibrate(std::shared_ptr<Net> net, const std::string& family, const at::Tensor& images, const Options& opt,
                     const std::function<void(const std::string&)>& log) {
  const auto t0 = Clock::now();
  QuantModel qm;
  qm.net = net;
  qm.layers = plan(*net, family, opt);
  net->eval();
  Calibrator cal{*net, opt, log, {}, {}};
  for (const auto& item : net->named_modules("", false)) cal.mods[item.key()] = item.value();
  c10::NoGradGuard no_grad;
  size_t i = 0;
  while (i < qm.layers.size()) {
    // capture one group (a block's layers) with one FP forward
    const std::string group = group_of(qm.layers[i].name);
    size_t j = i;
    while (j < qm.layers.size() && group_of(qm.layers[j].name) == group) ++j;
    std::map<std::string, Capture> caps;
    for (size_t k = i; k < j; ++k) {
      const std::string n = qm.layers[k].name;
      auto m = cal.mods.at(n);
      Capture* cp = &caps[n];
      if (auto* l = m->as<nn::LinearImpl>()) {
        l->input_hook = [cp](const at::Tensor& x) { cp->in = x; return x; };
        l->output_hook = [cp](const at::Tensor& y) { cp->out = y; return y; };
      } else if (auto* c = m->as<nn::Conv2dImpl>()) {
        c->input_hook = [cp](const at::Tensor& x) { cp->in = x; return x; };
        c->output_hook = [cp](const at::Tensor& y) { cp->out = y; return y; };
      } else if (auto* mm = m->as<nn::MatMulImpl>()) {
        mm->a_hook = [cp](const at::Tensor& x) { cp->a = x; return x; };
        mm->b_hook = [cp](const at::Tensor& x) { cp->b = x; return x; };
      }
    }
    net->forward(images);
    for (size_t k = i; k < j; ++k) {
      QLayer& l = qm.layers[k];
      auto m = cal.mods.at(l.name);
      if (auto* ll = m->as<nn::LinearImpl>()) ll->input_hook = ll->output_hook = nullptr;
      else if (auto* c = m->as<nn::Conv2dImpl>()) c->input_hook = c->output_hook = nullptr;
      else if (auto* mm = m->as<nn::MatMulImpl>()) mm->a_hook = mm->b_hook = nullptr;
      Capture& c = caps.at(l.name);
      if (l.kind == "matmul1" || l.kind == "matmul2") {
        if (!c.a.defined()) throw Error(fmt::format("AdaLog: '{}' did not run during calibration", l.name));
        c.a = c.a.contiguous();
        c.b = c.b.contiguous();
        c.out = at::matmul(c.a, c.b);
      } else if (!c.in.defined()) {
        throw Error(fmt::format("AdaLog: '{}' did not run during calibration", l.name));
      }
    }
    calibrate_group(cal, qm.layers, i, j, caps, opt.jobs, log);
    i = j;
  }
  qm.calib_seconds = since(t0);
  return qm;
}

LayerHooks layer_hooks(torch::nn::Module& m, const std::string& name) {
  if (auto* c = m.as<nn::Conv2dImpl>()) return {&c->input_hook, &c->weight_hook, &c->weight};
  if (auto* li = m.as<nn::LinearImpl>()) return {&li->input_hook, &li->weight_hook, &li->weight};
  throw Error(fmt::format("'{}' is neither a Linear nor a Conv2d", name));
}

void install(QuantModel& qm, bool on, const InstallMode& mode) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : qm.net->named_modules("", false)) mods[item.key()] = item.value();
  const bool t = mode.train;
  for (auto& l : qm.layers) {
    auto m = mods.at(l.name);
    if (l.kind == "matmul1" || l.kind == "matmul2") {
      auto* mm = m->as<nn::MatMulImpl>();
      mm->a_hook = mm->b_hook = nullptr;
      if (!on) continue;
      mm->b_hook = [u = l.b, t](const at::Tensor& x) { return u(x, t); };
      if (l.kind == "matmul1") mm->a_hook = [u = l.a, t](const at::Tensor& x) { return u(x, t); };
      else if (l.log_kind == "log2") mm->a_hook = [p = l.alog, t](const at::Tensor& x) { return log2_fq(x, p.s, p.bits, t); };
      else if (l.log_kind == "logsqrt2") mm->a_hook = [p = l.alog, t](const at::Tensor& x) { return logsqrt2_fq(x, p.s, p.bits, t); };
      else mm->a_hook = [p = l.alog, t](const at::Tensor& x) { return adalog_fq(x, p, t); };
      continue;
    }
    const LayerHooks h = layer_hooks(*m, l.name);
    nn::TensorFn* in_hook = h.input;
    nn::TensorFn* w_hook = h.weight;
    *in_hook = nullptr;
    if (mode.weights) *w_hook = nullptr;
    if (!on) continue;
    if (mode.weights) *w_hook = [u = l.w](const at::Tensor& w) { return u(w); };
    if (l.kind == "conv") {  // the reference keeps the image float; the hardware path may quantize it
      if (l.a.defined()) *in_hook = [u = l.a, t](const at::Tensor& x) { return u(x, t); };
      continue;
    }
    if (l.kind != "post_gelu") *in_hook = [u = l.a, t](const at::Tensor& x) { return u(x, t); };
    else if (l.log_kind == "adalog") *in_hook = [p = l.alog, f = l.bias_folded, t](const at::Tensor& x) { return shift_adalog_fq(x, p, f, t); };
    else if (l.log_kind == "log2") *in_hook = [p = l.alog, f = l.bias_folded, t](const at::Tensor& x) {
      const at::Tensor y = log2_fq(x + kGeluShift, p.s, p.bits, t); return f ? y : y - kGeluShift; };
    else if (l.log_kind == "logsqrt2") *in_hook = [p = l.alog, f = l.bias_folded, t](const at::Tensor& x) {
      const at::Tensor y = logsqrt2_fq(x + kGeluShift, p.s, p.bits, t); return f ? y : y - kGeluShift; };
    else if (l.log_kind == "ptq4vit") *in_hook = [s0 = l.twin_s0, s1 = l.twin_s1, b = l.a.bits](const at::Tensor& x) { return twin_uniform_fq(x, s0, s1, b); };
    else *in_hook = [u = l.a, t](const at::Tensor& x) { return u(x, t); };
  }
}

void fold_post_gelu_bias(QuantModel& qm) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : qm.net->named_modules("", false)) mods[item.key()] = item.value();
  c10::NoGradGuard g;
  for (auto& l : qm.layers) {
    if (l.kind != "post_gelu" || l.bias_folded || l.log_kind == "ptq4vit" || l.log_kind == "uniform") continue;
    auto* lin = mods.at(l.name)->as<nn::LinearImpl>();
    const at::Tensor wq = l.w(lin->weight);
    const at::Tensor delta = wq.sum(1) * kGeluShift;
    if (lin->bias.defined()) lin->bias.copy_(lin->bias - delta);
    else lin->bias = lin->register_parameter("bias", -delta);
    l.bias_folded = true;
  }
  install(qm, true);
}

namespace {

std::vector<float> floats(const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kFloat).contiguous().reshape({-1});
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

logq::UniformParams uniform_params(const Uniform& u) {
  logq::UniformParams p;
  p.bits = u.bits;
  p.scale = floats(u.s);
  for (float z : floats(u.z)) p.zero_point.push_back(int32_t(std::nearbyint(z)));  // rnd(z), half to even
  return p;
}

logq::AdaLogParams adalog_params(const QLayer& l, float shift) {
  if (l.log_kind != "adalog")
    throw Error(fmt::format("export: '{}' uses the '{}' quantizer, which has no integer format in spec/numerics.md (use adalog)", l.name, l.log_kind));
  const std::vector<float> s = floats(l.alog.s);
  if (s.size() != 1) throw Error(fmt::format("export: '{}': AdaLog scale must be per tensor", l.name));
  return logq::AdaLogParams{make_adalog_table(l.alog.bits, l.alog.q), s[0], shift};
}

}  // namespace

void calibrate_float_inputs(QuantModel& qm, const at::Tensor& images, int bits) {
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : qm.net->named_modules("", false)) mods[item.key()] = item.value();
  for (auto& l : qm.layers) {
    if (l.kind != "conv") continue;
    const LayerHooks h = layer_hooks(*mods.at(l.name), l.name);
    float lo = INFINITY, hi = -INFINITY;
    *h.input = [&](const at::Tensor& x) {
      lo = std::min(lo, x.min().item<float>());
      hi = std::max(hi, x.max().item<float>());
      return x;
    };
    {
      c10::NoGradGuard g;
      for (int64_t b = 0; b < images.size(0); b += 64) qm.net->forward(images.slice(0, b, std::min(images.size(0), b + 64)));
    }
    *h.input = nullptr;
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
    const float scale = std::max(hi - lo, 1e-8f) / float((1 << bits) - 1);
    l.a = Uniform{bits, at::full({1}, scale), at::full({1}, std::nearbyint(-lo / scale))};
  }
  install(qm, true);
}

void set_input_format(const QLayer& q, logq::QLayer& l) {
  if (q.kind == "matmul1" || q.kind == "matmul2") {
    l.b_uniform = uniform_params(q.b);
    l.pairing = q.kind == "matmul1" ? Pairing::UxU : Pairing::UxA;
    if (q.kind == "matmul1") l.x_uniform = uniform_params(q.a);
    else l.x_adalog = adalog_params(q, 0.0f);
    return;
  }
  l.pairing = Pairing::UxU;
  if (q.kind == "conv") {
    if (q.a.defined()) l.x_uniform = uniform_params(q.a);
    else l.x_float = true;
  } else if (q.kind == "post_gelu") {
    if (q.log_kind == "ptq4vit" || q.log_kind == "uniform")
      throw Error(fmt::format("export: '{}' uses the '{}' post-GELU quantizer, which has no integer format in spec/numerics.md", q.name, q.log_kind));
    l.pairing = Pairing::UxA;
    l.x_adalog = adalog_params(q, kGeluShift);
  } else {
    l.x_uniform = uniform_params(q.a);
  }
}

GraphBuilder::GemmSource export_source(const QuantModel& qm) {
  std::map<std::string, QLayer> by_name;
  for (const auto& l : qm.layers) by_name[l.name] = l;
  return [by_name](const std::string& name, torch::nn::Module& m) {
    auto it = by_name.find(name);
    if (it == by_name.end()) throw Error(fmt::format("export: '{}' is not quantized by AdaLog", name));
    const QLayer& q = it->second;
    logq::QLayer l;
    set_input_format(q, l);
    if (q.kind == "matmul1" || q.kind == "matmul2") return l;
    const LayerHooks h = layer_hooks(m, name);
    const at::Tensor w = h.w->detach().reshape({h.w->size(0), -1});
    l.w_uniform = uniform_params(q.w);
    const at::Tensor codes = uniform_codes(w, q.w.s.reshape({-1, 1}), q.w.z.reshape({-1, 1}), q.w.bits).contiguous();
    l.w_codes.assign(codes.data_ptr<int32_t>(), codes.data_ptr<int32_t>() + codes.numel());
    at::Tensor bias;
    if (auto* c = m.as<nn::Conv2dImpl>()) bias = c->bias;
    else bias = m.as<nn::LinearImpl>()->bias;
    if (q.kind == "post_gelu") {
      if (!q.bias_folded) {  // fold the shift now: b − shift·Σ_i Ŵ[o, i]
        c10::NoGradGuard g;
        const at::Tensor delta = q.w(w).sum(1) * kGeluShift;
        bias = bias.defined() ? bias - delta : -delta;
      }
    }
    if (bias.defined()) l.bias = floats(bias);
    return l;
  };
}

}  // namespace logq::adalog
