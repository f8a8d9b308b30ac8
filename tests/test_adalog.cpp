// AdaLog's fake quantizers (quant/adalog) against the reference's own forwards
// (fixtures/quantizers/adalog_ref.safetensors) and against golden/'s encoders.
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "io/file_io.h"
#include "golden/formats.h"
#include "io/safetensors.h"
#include "quant/adalog/quantizers.h"
#include "test_util.h"

using namespace logq;
using namespace logq::adalog;

namespace {

const char* kRef = "fixtures/quantizers/adalog_ref.safetensors";

at::Tensor load(const SafetensorsFile& f, const std::string& name) {
  const auto& info = f.at(name);
  const DType t = info.dtype;
  if (t == DType::F32) {
    auto v = f.read<float>(name, t);
    return at::from_blob(v.data(), info.shape, at::kFloat).clone();
  }
  if (t == DType::I32) {
    auto v = f.read<int32_t>(name, t);
    return at::from_blob(v.data(), info.shape, at::kInt).clone();
  }
  auto v = f.read<uint8_t>(name, t);  // U8 and BOOL
  return at::from_blob(v.data(), info.shape, at::kByte).clone().to(at::kInt);
}

bool tie_category(int c) { return c == 4 || c == 5; }  // straddle / exact ties: float32 log2 decides

// Counts elements that differ (bitwise, +0 == -0) outside the tie categories and inside them.
std::pair<int64_t, int64_t> mismatches(const at::Tensor& got, const at::Tensor& ref, const at::Tensor& cat, float ulps = 0) {
  const at::Tensor g = got.contiguous().to(at::kFloat), r = ref.contiguous().to(at::kFloat);
  const float* gp = g.data_ptr<float>();
  const float* rp = r.data_ptr<float>();
  const int32_t* cp = cat.data_ptr<int32_t>();
  int64_t hard = 0, ties = 0;
  for (int64_t i = 0; i < g.numel(); ++i) {
    bool same = gp[i] == rp[i] || (std::isnan(gp[i]) && std::isnan(rp[i]));
    if (!same && ulps > 0) same = std::fabs(gp[i] - rp[i]) <= ulps * std::fabs(rp[i]) * 1.2e-7f;
    if (!same) (tie_category(cp[i]) ? ties : hard) += 1;
  }
  return {hard, ties};
}

std::string s_name(float s) { return s == 1.0f ? "s1.0" : "s0.37"; }

}  // namespace

TEST_CASE("AdaLog quantizer: u, codes, eval and train outputs equal the reference's", "[adalog][shared]") {
  REQUIRE_SHARED(kRef);
  const auto f = SafetensorsFile::open(test::shared_path(kRef));
  const at::Tensor x = load(f, "input.x"), cat = load(f, "input.category");
  int64_t tie_diffs = 0, checked = 0;
  for (int q : {10, 23, 37, 61, 100, 119, 137})
    for (float s : {1.0f, 0.37f}) {
      const at::Tensor st = at::full({1}, s);
      const std::string pq = fmt::format("adalog.q{}.{}", q, s_name(s));
      INFO(pq);
      auto [uh, ut] = mismatches(adalog_u(x, st, q), load(f, pq + ".u"), cat);
      CHECK(uh == 0);
      tie_diffs += ut;
      for (int b : {3, 4, 6}) {
        const std::string p = fmt::format("adalog.b{}.q{}.{}", b, q, s_name(s));
        INFO(p);
        AdaLogParams ap{b, q, st};
        const at::Tensor codes = adalog_codes(x, ap);
        const at::Tensor zero = load(f, p + ".zero"), code = load(f, p + ".code");
        const at::Tensor ref_codes = at::where(zero != 0, at::full_like(code, 1 << b), code);
        auto [ch, ct] = mismatches(codes, ref_codes, cat);
        CHECK(ch == 0);
        auto [eh, et] = mismatches(adalog_fq(x, ap, false), load(f, p + ".eval"), cat);
        CHECK(eh == 0);
        auto [th, tt] = mismatches(adalog_fq(x, ap, true), load(f, p + ".train"), cat, 2.0f);
        CHECK(th == 0);
        tie_diffs += ct + et + tt;
        // The codes are golden's: adalog_encode on every element.
        const AdaLogTable table = make_adalog_table(b, q);
        const at::Tensor xc = x.contiguous();
        int64_t golden_diff = 0;
        for (int64_t i = 0; i < x.numel(); ++i)
          golden_diff += adalog_encode(xc.data_ptr<float>()[i], s, table) != codes.data_ptr<int32_t>()[i] &&
                         !tie_category(cat.data_ptr<int32_t>()[i]);
        CHECK(golden_diff == 0);
        ++checked;
      }
    }
  CHECK(checked == 42);
  CHECK(tie_diffs <= 20);  // the fixture README's float32-log2 tie budget (13 of 30,170 u values on another ISA)
}

TEST_CASE("Log2, LogSqrt2 and post-GELU Shift-AdaLog quantizers equal the reference's", "[adalog][shared]") {
  REQUIRE_SHARED(kRef);
  const auto f = SafetensorsFile::open(test::shared_path(kRef));
  const at::Tensor x = load(f, "input.x"), cat = load(f, "input.category");
  for (float s : {1.0f, 0.37f})
    for (int b : {3, 4, 6}) {
      const at::Tensor st = at::full({1}, s);
      for (const char* kind : {"log2", "logsqrt2"}) {
        const std::string p = fmt::format("{}.b{}.{}", kind, b, s_name(s));
        INFO(p);
        const bool l2 = std::string(kind) == "log2";
        for (bool train : {false, true}) {
          const at::Tensor got = l2 ? log2_fq(x, st, b, train) : logsqrt2_fq(x, st, b, train);
          auto [h, t] = mismatches(got, load(f, p + (train ? ".train" : ".eval")), cat);
          CHECK(h == 0);
          CHECK(t <= 2);
        }
      }
    }
  const at::Tensor gx = load(f, "input.gelu_x"), gcat = load(f, "input.gelu_category");
  for (int q : {10, 23, 37, 61, 100, 119, 137})
    for (float s : {1.0f, 0.37f})
      for (int b : {3, 4, 6}) {
        const std::string p = fmt::format("shiftadalog.b{}.q{}.{}", b, q, s_name(s));
        INFO(p);
        AdaLogParams ap{b, q, at::full({1}, s)};
        for (bool train : {false, true})
          for (bool folded : {false, true}) {
            const std::string key = p + (train ? ".train_" : ".eval_") + (folded ? "after" : "before");
            auto [h, t] = mismatches(shift_adalog_fq(gx, ap, folded, train), load(f, key), gcat, train ? 2.0f : 0.0f);
            CHECK(h == 0);
            CHECK(t <= 2);
          }
      }
}

TEST_CASE("Uniform asymmetric quantizer equals the reference in eval and training modes", "[adalog][shared]") {
  REQUIRE_SHARED(kRef);
  const auto f = SafetensorsFile::open(test::shared_path(kRef));
  const at::Tensor x = load(f, "uniform.input.x");
  int cases = 0;
  for (int b : {3, 4, 6, 8})
    for (const char* v : {"pt", "pt_zhalf", "pr", "pr_clip", "pr_zfrac"}) {
      const std::string p = fmt::format("uniform.b{}.{}", b, v);
      if (!f.find(p + ".eval")) continue;
      INFO(p);
      ++cases;
      const at::Tensor s = load(f, p + ".scale"), z = load(f, p + ".zero_point");
      CHECK(at::equal(uniform_fq(x, s, z, b, false), load(f, p + ".eval")));
      CHECK(at::equal(uniform_fq(x, s, z, b, true), load(f, p + ".train")));
      const at::Tensor codes = uniform_codes(x, s, z, b);
      CHECK(at::equal(codes, load(f, p + ".code")));
      // golden's encoder agrees element by element
      const at::Tensor xs = x.contiguous(), ss = s.expand_as(x).contiguous(), zs = z.expand_as(x).contiguous();
      int64_t diff = 0;
      for (int64_t i = 0; i < x.numel(); ++i)
        diff += uniform_encode(xs.data_ptr<float>()[i], ss.data_ptr<float>()[i], zs.data_ptr<float>()[i], b) != codes.data_ptr<int32_t>()[i];
      CHECK(diff == 0);
    }
  CHECK(cases == 20);
}

TEST_CASE("AdaRound starts at the weight, rounds hard to floor + [alpha >= 0], and learns", "[adalog]") {
  at::manual_seed(0);
  const at::Tensor w = at::randn({6, 10}) * 0.1;
  const at::Tensor s = at::full({6, 1}, 0.02f), z = at::full({6, 1}, 8.0f);
  AdaRound a = AdaRound::init(w, s, z, 4);
  // h(α) = rest ⇒ soft() = W wherever W/s stays inside the clamp range.
  const at::Tensor inside = ((w / s + z) >= 0) & ((w / s + z) <= 15);
  CHECK((at::where(inside, a.soft() - w, at::zeros_like(w))).abs().max().item<float>() < 1e-6f);
  // Hard at init = round half up of W/s = nearest uniform except exact ties (none in random data).
  CHECK(at::equal(a.hard(), uniform_fq(w, s, z, 4)));
  CHECK(at::equal(a.hard_weight(), (at::floor(w / s) + (w / s - at::floor(w / s) >= 0.5).to(at::kFloat)) * s));
  (a.soft() * at::randn_like(w)).sum().backward();
  CHECK(a.alpha.grad().abs().sum().item<double>() > 0);
  CHECK(a.round_loss(20.0).item<double>() > 0);
}

TEST_CASE("Twin uniform splits positive and negative ranges", "[adalog]") {
  const at::Tensor x = at::tensor({-0.17f, -0.05f, 0.0f, 0.3f, 10.0f});
  const double s1 = 0.16997124254703522 / 8, s0 = s1 * 4;
  const at::Tensor y = twin_uniform_fq(x, s0, s1, 4);
  CHECK(y[0].item<float>() == Approx(-8 * s1).epsilon(1e-6));  // clamps at −n·s1
  CHECK(y[2].item<float>() == 0.0f);
  CHECK(y[4].item<float>() == Approx(7 * s0).epsilon(1e-6));  // clamps at (n−1)·s0
}

// ---- calibration ------------------------------------------------------------------------------
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "quant/adalog/adalog.h"
#include "quant/models/models.h"

namespace {
std::shared_ptr<Net> tiny_vit(uint64_t seed) {
  at::manual_seed(seed);
  auto net = create_model_from_config(nlohmann::json::parse(
      R"({"family": "vit", "img_size": 16, "patch_size": 4, "in_chans": 1, "embed_dim": 16, "depth": 1, "num_heads": 2, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})"));
  net->eval();
  return net;
}
}  // namespace

TEST_CASE("AdaLog LayerNorm reparameterization keeps codes and the FP output", "[adalog]") {
  at::manual_seed(2);
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({8}).eps(1e-6));
  nn::Linear lin(8, 5, true);
  {
    c10::NoGradGuard g;
    ln->weight.uniform_(0.5, 1.5);
    ln->bias.uniform_(-0.3, 0.3);
  }
  const at::Tensor x = at::randn({4, 30, 8});
  const at::Tensor s_c = at::rand({8}) * 0.05 + 0.01, z_c = at::randint(4, 12, {8}).to(at::kFloat);
  c10::NoGradGuard g;
  const at::Tensor h0 = ln(x), y0 = lin(h0);
  const at::Tensor codes0 = uniform_codes(h0, s_c, z_c, 4);
  const Reparam rp = reparameterize(*ln, *lin, s_c, z_c);
  const at::Tensor h1 = ln(x), y1 = lin(h1);
  const at::Tensor codes1 = uniform_codes(h1, rp.s, rp.z, 4);
  const int64_t differ = (codes0 != codes1).sum().item<int64_t>();
  CHECK(differ <= codes0.numel() / 1000);  // exact in real arithmetic; float32 may move a rare tie
  CHECK((y1 - y0).abs().max().item<float>() < 1e-5f * (1 + y0.abs().max().item<float>()));
  // The reference's dequantized values: (c − z*)·s* == (c − z_c)·s_c·... up to the r scaling folded into W.
  CHECK(rp.z.item<float>() == std::nearbyint(z_c.mean().item<float>()));
}

TEST_CASE("FPCS: the reference forgets an earlier stage's best, --fpcs-keep-best keeps it", "[adalog]") {
  // One group, 128 candidates. The error is 0 exactly at candidate 10 and 1 + |s − 1.9| elsewhere.
  // Refinement offsets exclude 0 (spec pitfall 6), so no later stage re-evaluates candidate 10.
  const at::Tensor s = at::linspace(1.0, 2.0, 128).view({128, 1}), z = at::zeros({128, 1});
  const at::Tensor step = (s[1] - s[0]).view({1});
  const float s0 = s[10][0].item<float>();
  FpcsMetric metric = [&](const at::Tensor& sk, const at::Tensor&) {
    return at::where(sk == s0, at::zeros_like(sk), 1 + (sk - 1.9).abs());
  };
  Options o;
  const float ref = fpcs_search(s, z, step, metric, o).first.item<float>();
  CHECK(std::abs(ref - 1.9f) < step.item<float>());  // the reference ends near the runner-up
  o.fpcs_keep_best = true;
  CHECK(fpcs_search(s, z, step, metric, o).first.item<float>() == s0);
  o.fpcs_keep_best = false;
  o.fpcs = false;  // one exhaustive pass: the grid's best
  CHECK(fpcs_search(s, z, step, metric, o).first.item<float>() == s0);
}

TEST_CASE("AdaLog calibration of a small ViT: every quantizer's codes are golden's, bias folding is exact", "[adalog]") {
  auto net = tiny_vit(1);
  const at::Tensor images = at::randn({8, 1, 16, 16});
  Options o;
  o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 4;
  o.progress = false;
  std::vector<std::string> lines;
  QuantModel qm = calibrate(net, "vit", images, o, [&](const std::string& s) { lines.push_back(s); });
  REQUIRE(qm.layers.size() == 8);  // patch conv, qkv, proj, matmul1, matmul2, fc1, fc2, head
  std::map<std::string, std::string> kinds;
  for (const auto& l : qm.layers) kinds[l.name] = l.kind;
  CHECK(kinds["blocks.0.attn.qkv"] == "reparam");
  CHECK(kinds["blocks.0.mlp.fc2"] == "post_gelu");
  CHECK(kinds["blocks.0.attn.matmul2"] == "matmul2");
  CHECK(kinds["head"] == "head");
  CHECK(kinds["patch_embed.proj"] == "conv");
  CHECK(lines.size() == 8);
  // Capture every quantizer input of the FP model and compare codes with golden's encoders.
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : net->named_modules("", false)) mods[item.key()] = item.value();
  std::map<std::string, at::Tensor> seen;
  for (auto& l : qm.layers) {
    auto m = mods.at(l.name);
    if (auto* li = m->as<nn::LinearImpl>()) li->input_hook = [&seen, n = l.name](const at::Tensor& x) { seen[n] = x; return x; };
    if (auto* mm = m->as<nn::MatMulImpl>()) mm->a_hook = [&seen, n = l.name](const at::Tensor& x) { seen[n] = x; return x; };
  }
  {
    c10::NoGradGuard g;
    net->forward(images);
  }
  install(qm, false);
  int64_t compared = 0;
  for (auto& l : qm.layers) {
    INFO(l.name);
    if (l.kind == "linear" || l.kind == "reparam" || l.kind == "head") {
      const at::Tensor x = seen.at(l.name).contiguous();
      const at::Tensor codes = uniform_codes(x, l.a.s, l.a.z, l.a.bits).contiguous();
      const float s = l.a.s.item<float>(), z = l.a.z.item<float>();
      for (int64_t i = 0; i < x.numel(); ++i, ++compared)
        REQUIRE(codes.data_ptr<int32_t>()[i] == uniform_encode(x.data_ptr<float>()[i], s, z, l.a.bits));
    }
    if (l.kind == "post_gelu" || l.kind == "matmul2") {
      const at::Tensor x = (l.kind == "post_gelu" ? seen.at(l.name) + kGeluShift : seen.at(l.name)).contiguous();
      const at::Tensor codes = adalog_codes(x, l.alog).contiguous();
      const AdaLogTable t = make_adalog_table(l.alog.bits, l.alog.q);
      const float s = l.alog.s.item<float>();
      int64_t differ = 0;
      for (int64_t i = 0; i < x.numel(); ++i, ++compared) differ += codes.data_ptr<int32_t>()[i] != adalog_encode(x.data_ptr<float>()[i], s, t);
      CHECK(differ <= x.numel() / 10000);  // float32 log2 ties only
    }
    if (l.kind != "matmul1" && l.kind != "matmul2") {  // weights: per-row uniform
      at::Tensor w = (mods.at(l.name)->as<nn::LinearImpl>() ? mods.at(l.name)->as<nn::LinearImpl>()->weight
                                                            : mods.at(l.name)->as<nn::Conv2dImpl>()->weight).detach().contiguous();
      const at::Tensor codes = uniform_codes(w, l.w.s, l.w.z, l.w.bits).reshape({w.size(0), -1}).contiguous();
      const at::Tensor s = l.w.s.reshape({-1}).contiguous(), z = l.w.z.reshape({-1}).contiguous();
      const int64_t cols = codes.size(1);
      for (int64_t i = 0; i < codes.numel(); ++i, ++compared)
        REQUIRE(codes.data_ptr<int32_t>()[i] == uniform_encode(w.data_ptr<float>()[i], s.data_ptr<float>()[i / cols], z.data_ptr<float>()[i / cols], l.w.bits));
    }
  }
  CHECK(compared > 10000);
  // Post-GELU bias folding: the same fc2 output before and after.
  install(qm, true);
  at::Tensor before, after;
  {
    c10::NoGradGuard g;
    before = net->forward(images);
    fold_post_gelu_bias(qm);
    after = net->forward(images);
  }
  CHECK((after - before).abs().max().item<float>() < 1e-5f * (1 + before.abs().max().item<float>()));
  // Quantized ≠ FP
  install(qm, false);
  c10::NoGradGuard g;
  CHECK(!at::equal(net->forward(images), after));
}

TEST_CASE("AdaLog calibration with -j: the same parameters and reparameterized weights as one job", "[adalog]") {
  auto make = [] {
    at::manual_seed(7);
    auto net = create_model_from_config(nlohmann::json::parse(
        R"({"family": "vit", "img_size": 16, "patch_size": 4, "in_chans": 1, "embed_dim": 16, "depth": 2, "num_heads": 2, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})"));
    net->eval();
    return net;
  };
  at::manual_seed(8);
  const at::Tensor images = at::randn({8, 1, 16, 16});
  Options o;
  o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 4;
  o.progress = false;
  std::vector<std::string> names1, names3;
  auto name_of = [](const std::string& line) { return line.substr(6, line.find(' ', 6) - 6); };  // "calib NAME ..."
  auto net1 = make(), net3 = make();
  QuantModel q1 = calibrate(net1, "vit", images, o, [&](const std::string& s) { names1.push_back(name_of(s)); });
  o.jobs = 3;
  QuantModel q3 = calibrate(net3, "vit", images, o, [&](const std::string& s) { names3.push_back(name_of(s)); });
  REQUIRE(q1.layers.size() == 14);
  CHECK(names3 == names1);  // log lines in layer order
  auto same = [](const at::Tensor& a, const at::Tensor& b) { return a.defined() == b.defined() && (!a.defined() || at::equal(a, b)); };
  int compared = 0;
  for (size_t i = 0; i < q1.layers.size(); ++i) {
    const adalog::QLayer &a = q1.layers[i], &b = q3.layers[i];
    INFO(a.name);
    CHECK(same(a.w.s, b.w.s));
    CHECK(same(a.w.z, b.w.z));
    CHECK(same(a.a.s, b.a.s));
    CHECK(same(a.a.z, b.a.z));
    CHECK(same(a.b.s, b.b.s));
    CHECK(same(a.b.z, b.b.z));
    CHECK(same(a.alog.s, b.alog.s));
    CHECK(a.alog.q == b.alog.q);
    compared += a.w.s.defined() + a.a.s.defined() + a.b.s.defined() + a.alog.s.defined();
  }
  CHECK(compared >= 20);
  // The LayerNorm reparameterization changed the same weights identically.
  const auto sd1 = state_dict(*net1), sd3 = state_dict(*net3);
  REQUIRE(sd1.size() == sd3.size());
  for (size_t i = 0; i < sd1.size(); ++i) {
    INFO(sd1[i].first);
    CHECK(at::equal(sd1[i].second, sd3[i].second));
  }
  auto find = [](const StateDict& sd, const std::string& k) {
    for (const auto& [n, t] : sd)
      if (n == k) return t;
    FAIL("no " << k);
    return at::Tensor();
  };
  CHECK(!at::equal(find(state_dict(*make()), "blocks.1.norm2.weight"), find(sd1, "blocks.1.norm2.weight")));  // it did change
}

TEST_CASE("AdaLog rejects unsupported models and settings", "[adalog][bad-input]") {
  at::manual_seed(0);
  auto resnet = create_model("fmnist_resnet");
  Options o;
  CHECK_THROWS_WITH(plan(*resnet, "resnet", o), Catch::Contains("AdaLog supports vit (ViT/DeiT) and swin models; 'fmnist_resnet' is a resnet model"));
  auto vit = tiny_vit(0);
  o.qconv_a_bit = 4;
  CHECK_THROWS_WITH(plan(*vit, "vit", o), Catch::Contains("qconv_a_bit < 8"));
  o.qconv_a_bit = 8;
  o.post_softmax_quantizer = "uniform";
  CHECK_THROWS_WITH(plan(*vit, "vit", o), Catch::Contains("post_softmax_quantizer 'uniform'"));
}

TEST_CASE("AdaLog weight grid: one-signed rows clip under the reference grid, fit with --weight-zero-from-range", "[adalog]") {
  const at::Tensor images = at::randn({8, 1, 16, 16});
  double err[2];
  for (int v = 0; v < 2; ++v) {
    auto net = tiny_vit(3);
    auto* head = net->named_modules("", false)["head"]->as<nn::LinearImpl>();
    {
      c10::NoGradGuard g;
      head->weight.uniform_(0.5, 1.0);  // every row positive
    }
    Options o;
    o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 6;
    o.progress = false;
    o.weight_zero_from_range = v == 1;
    o.search_round = 0;  // the weight-MSE search only (output-MSE rounds trade weight error for output error)
    QuantModel qm = calibrate(net, "vit", images, o, [](const std::string&) {});
    for (auto& l : qm.layers)
      if (l.name == "head") err[v] = (l.w(head->weight) - head->weight).abs().max().item<double>();
  }
  CHECK(err[0] > 0.1);    // clipped: zero points 24..39 of 0..63 leave ~40 levels above zero
  CHECK(err[1] < 0.01);   // 6 bits over a 0.5-wide range: half a step is ~0.004
}

TEST_CASE("AdaLog calibrated model file: save, load, the same quantized network, corrupt files are errors", "[adalog]") {
  for (const char* cfg : {R"({"preset": "fmnist_swin", "depths": [1, 1], "img_size": 28})",
                          R"({"family": "vit", "img_size": 16, "patch_size": 4, "in_chans": 1, "embed_dim": 16, "depth": 1, "num_heads": 2, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})"}) {
    INFO(cfg);
    at::manual_seed(4);
    const nlohmann::json config = resolve_model_config(nlohmann::json::parse(cfg));
    auto net = create_model_from_config(config);
    net->eval();
    const int64_t S = config.at("img_size");
    const at::Tensor images = at::randn({4, 1, S, S});
    Options o;
    o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 4;
    o.eq_n = 32;  // a small search: this test is about the file
    o.search_round = 1;
    o.progress = false;
    QuantModel qm = calibrate(net, config.at("family"), images, o, [](const std::string&) {});
    fold_post_gelu_bias(qm);
    install(qm, true);
    c10::NoGradGuard g;
    const at::Tensor y = net->forward(images);
    const std::string path = test::temp_path("adalog_calibrated.safetensors");
    save_calibrated(qm, config, path, {{"note", "test"}});
    nlohmann::json back_cfg;
    QuantModel back = load_calibrated(path, &back_cfg);
    CHECK(back_cfg == config);
    REQUIRE(back.layers.size() == qm.layers.size());
    install(back, true);
    CHECK(at::equal(back.net->forward(images), y));
    std::vector<uint8_t> bytes = test::read_bytes(path);
    bytes.resize(bytes.size() - 100);
    write_file_atomic(path, bytes);
    CHECK_THROWS_WITH(load_calibrated(path, nullptr), Catch::Contains(path));
    std::remove(path.c_str());
  }
}
