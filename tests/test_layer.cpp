// The layer runner against float arithmetic on the dequantized operands, and the .lqm round trip.
#include <cmath>
#include <cstdio>
#include <random>

#include "golden/layer.h"
#include "test_util.h"

using namespace logq;
using json = nlohmann::json;

namespace {

std::vector<float> randn(size_t n, float sd, std::mt19937& rng) {
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

// Calibrated-looking U(b) params for a tensor: min/max range, per tensor.
UniformParams fit_uniform(const std::vector<float>& x, int bits) {
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  UniformParams u;
  u.bits = bits;
  u.scale = {(*hi - *lo) / static_cast<float>((1 << bits) - 1)};
  u.zero_point = {static_cast<int32_t>(std::nearbyint(-*lo / u.scale[0]))};
  return u;
}

// A linear layer with U(4) or LogART(4) weights quantized from random floats.
QLayer make_linear(Pairing pr, int64_t O, int64_t K, std::mt19937& rng) {
  QLayer l;
  l.name = "fc";
  l.op = LayerOp::Linear;
  l.pairing = pr;
  l.out_features = O;
  l.in_features = K;
  const auto w = randn(O * K, 0.05f, rng);
  if (pr == Pairing::UxU || pr == Pairing::UxA) {
    l.w_uniform.bits = 4;
    for (int64_t o = 0; o < O; ++o) {
      const std::vector<float> row(w.begin() + o * K, w.begin() + (o + 1) * K);
      const UniformParams r = fit_uniform(row, 4);
      l.w_uniform.scale.push_back(r.scale[0]);
      l.w_uniform.zero_point.push_back(r.zero_point[0]);
      for (float v : row) l.w_codes.push_back(uniform_encode(v, r.scale[0], static_cast<float>(r.zero_point[0]), 4));
    }
  } else {
    for (int64_t o = 0; o < O; ++o) {
      float hi = 0, lo = 0;
      for (int64_t k = 0; k < K; ++k) hi = std::max(hi, w[o * K + k]), lo = std::max(lo, -w[o * K + k]);
      const LogArtRow row = logart_row(hi, lo, 4, 4, false);
      l.w_log_scale.push_back(0.93f);
      for (int64_t k = 0; k < K; ++k) l.w_log.push_back(logart_encode(w[o * K + k], 0.93f, row));
    }
  }
  l.bias = randn(O, 0.1f, rng);
  return l;
}

// y = Σ ŵ·x̂ + b in double, from the dequantized weights and the input's own quantizer.
std::vector<double> float_linear(const QLayer& l, const std::vector<float>& x, int64_t M) {
  const auto wv = weight_values(l);
  std::vector<double> y(M * l.out_features);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < l.out_features; ++o) {
      double s = l.bias.empty() ? 0.0 : l.bias[o];
      for (int64_t k = 0; k < l.in_features; ++k) {
        const float xv = x[m * l.in_features + k];
        double xq;
        if (l.pairing == Pairing::UxA || l.pairing == Pairing::LxA) {
          const auto& a = l.x_adalog;
          xq = adalog_value(adalog_encode(xv + a.shift, a.scale, a.table), a.scale, a.table) - a.shift;
        } else {
          const auto& u = l.x_uniform;
          xq = (uniform_encode(xv, u.s(0), static_cast<float>(u.z(0)), u.bits) - u.z(0)) * static_cast<double>(u.s(0));
        }
        s += wv[o * l.in_features + k] * xq;
      }
      y[m * l.out_features + o] = s;
    }
  return y;
}

}  // namespace

TEST_CASE("linear layers of every pairing compute the dequantized float result", "[layer]") {
  std::mt19937 rng(17);
  for (Pairing pr : {Pairing::UxU, Pairing::UxA, Pairing::LxU, Pairing::LxA}) {
    QLayer l = make_linear(pr, 12, 96, rng);
    const int64_t M = 5;
    std::vector<float> x = randn(M * 96, 1.0f, rng);
    if (pr == Pairing::UxA || pr == Pairing::LxA) {
      for (auto& v : x) v = 0.5f * (v + std::sqrt(v * v + 0.04f)) - 0.1f;  // GELU-like: ≥ −shift
      l.x_adalog = {make_adalog_table(4, 37), 4.0f, kGeluShift};
      // Post-GELU bias folding (spec/adalog.md §1.3): b' = b − shift·Σ ŵ.
      const auto wv = weight_values(l);
      for (int64_t o = 0; o < l.out_features; ++o) {
        double sum = 0;
        for (int64_t k = 0; k < l.in_features; ++k) sum += wv[o * l.in_features + k];
        l.bias[o] = static_cast<float>(l.bias[o] - kGeluShift * sum);
      }
    } else {
      l.x_uniform = fit_uniform(x, 8);
    }
    const LayerFormats lf{pr, 4, pr == Pairing::UxU || pr == Pairing::LxU ? 8 : 4, &l.x_adalog.table, -1};
    l.hw = default_hw_config(lf, l.in_features);
    const LayerOutput out = run_layer(l, x, M);
    CHECK(out.shape == std::vector<int64_t>{M, 12});
    CHECK(out.stats.overflows == 0);
    auto expect = float_linear(l, x, M);
    if (pr == Pairing::UxA || pr == Pairing::LxA) {  // the folded bias holds −shift·Σŵ; float_linear subtracted shift per element
      const auto wv = weight_values(l);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t o = 0; o < 12; ++o) {
          double sum = 0;
          for (int64_t k = 0; k < 96; ++k) sum += wv[o * 96 + k];
          expect[m * 12 + o] += kGeluShift * sum;
        }
    }
    INFO("pairing " << int(pr));
    for (size_t i = 0; i < out.y.size(); ++i) CHECK(out.y[i] == Approx(expect[i]).margin(2e-5).epsilon(1e-5));
  }
}

TEST_CASE("a depthwise LogART conv layer equals the float convolution of its dequantized operands", "[layer][conv]") {
  std::mt19937 rng(23);
  QLayer l;
  l.name = "dw";
  l.op = LayerOp::Conv2d;
  l.pairing = Pairing::LxU;
  l.conv = Conv2dShape{8, 10, 10, 8, 3, 3, 2, 1, 1, 8};
  l.out_features = 8;
  l.in_features = 9;
  const auto w = randn(8 * 9, 0.3f, rng);
  for (int64_t o = 0; o < 8; ++o) {
    float hi = 0, lo = 0;
    for (int k = 0; k < 9; ++k) hi = std::max(hi, w[o * 9 + k]), lo = std::max(lo, -w[o * 9 + k]);
    const LogArtRow row = logart_row(hi, lo, 4, 2, false);
    l.w_log_scale.push_back(1.0f);
    for (int k = 0; k < 9; ++k) l.w_log.push_back(logart_encode(w[o * 9 + k], 1.0f, row));
  }
  const auto x = randn(8 * 10 * 10, 1.0f, rng);
  l.x_uniform = fit_uniform(x, 8);
  l.hw = default_hw_config(LayerFormats{Pairing::LxU, 4, 8, nullptr, -1}, 9);
  const LayerOutput out = run_layer(l, x);
  REQUIRE(out.shape == std::vector<int64_t>{8, 5, 5});
  const auto wv = weight_values(l);
  const auto& u = l.x_uniform;
  for (int64_t c = 0; c < 8; ++c)
    for (int64_t oy = 0; oy < 5; ++oy)
      for (int64_t ox = 0; ox < 5; ++ox) {
        double s = 0;
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
            if (iy < 0 || iy >= 10 || ix < 0 || ix >= 10) continue;
            const float xv = x[(c * 10 + iy) * 10 + ix];
            s += wv[c * 9 + ky * 3 + kx] * (uniform_encode(xv, u.s(0), static_cast<float>(u.z(0)), 8) - u.z(0)) * static_cast<double>(u.s(0));
          }
        CHECK(out.y[(c * 5 + oy) * 5 + ox] == Approx(s).margin(1e-5));
      }
}

TEST_CASE("layers survive the .lqm round trip bit for bit", "[layer][lqm]") {
  std::mt19937 rng(29);
  json graph = {{"model", {{"name", "roundtrip"}}}, {"inputs", {"x"}}, {"layers", json::array()}};
  SafetensorsWriter w;
  QLayer lin = make_linear(Pairing::UxU, 6, 32, rng);
  const auto x = randn(3 * 32, 1.0f, rng);
  lin.x_uniform = fit_uniform(x, 8);
  lin.hw = default_hw_config(LayerFormats{Pairing::UxU, 4, 8, nullptr, -1}, 32);
  QLayer la = make_linear(Pairing::LxA, 6, 32, rng);
  la.name = "fc_log";
  la.x_adalog = {make_adalog_table(3, 61), 2.0f, 0.0f};
  la.hw = default_hw_config(LayerFormats{Pairing::LxA, 4, 3, &la.x_adalog.table, -1}, 32);
  QLayer mm;
  mm.name = "attn.matmul2";
  mm.op = LayerOp::Matmul;
  mm.pairing = Pairing::UxA;
  mm.heads = 2;
  mm.in_features = 7;  // tokens
  mm.out_features = 4; // head dim
  mm.x_adalog = {make_adalog_table(4, 23), 1.0f, 0.0f};
  const auto v = randn(2 * 7 * 4, 1.0f, rng);
  mm.b_uniform = fit_uniform(v, 4);
  mm.b_uniform.scale = {mm.b_uniform.scale[0], mm.b_uniform.scale[0] * 1.5f};  // per head
  mm.b_uniform.zero_point = {mm.b_uniform.zero_point[0], mm.b_uniform.zero_point[0]};
  mm.hw = default_hw_config(LayerFormats{Pairing::UxA, 4, 4, &mm.x_adalog.table, -1}, 7);
  std::vector<float> probs = randn(2 * 3 * 7, 1.0f, rng);
  for (auto& p : probs) p = std::exp(-std::abs(p));  // (0, 1]
  add_layer(graph, w, lin, {"x"}, {"h"});
  add_layer(graph, w, la, {"h"}, {"h2"});
  add_layer(graph, w, mm, {"h2", "x"}, {"y"});
  graph["outputs"] = {"y"};
  const std::string path = test::temp_path("layers.lqm");
  write_lqm(path, graph, w, "test");
  const LqmFile f = LqmFile::open(path);
  for (const QLayer* orig : {&lin, &la}) {
    const QLayer back = load_layer(f, orig->name);
    CHECK(back.hw.acc_bits <= orig->hw.acc_bits);  // the loader fits the width to these weights
    CHECK(back.hw.frac_bits == orig->hw.frac_bits);
    const LayerOutput a = run_layer(*orig, x, 3), b = run_layer(back, x, 3);
    CHECK(a.acc == b.acc);
    CHECK(a.y == b.y);
  }
  const QLayer mback = load_layer(f, "attn.matmul2");
  CHECK(mback.heads == 2);
  const LayerOutput a = run_layer(mm, probs, 3, v), b = run_layer(mback, probs, 3, v);
  CHECK(a.shape == std::vector<int64_t>{2, 3, 4});
  CHECK(a.acc == b.acc);
  CHECK(a.y == b.y);
  CHECK_THROWS_WITH(load_layer(f, "nope"), Catch::Matchers::Contains("layer 'nope': no such layer"));
  std::remove(path.c_str());
}
