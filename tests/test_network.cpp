// golden/network: the float ops between GEMMs against hand computations, shape checking with
// errors that name the layer, and a GEMM chain equal to run_layer applied by hand.
#include <cmath>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "golden/network.h"
#include "test_util.h"

using json = nlohmann::json;
using Catch::Matchers::Contains;

namespace {

// A one-input graph of `layers` over an input of `shape`, parsed from memory.
logq::LqmFile make_lqm(const logq::Shape& shape, const json& layers, logq::SafetensorsWriter w = {}) {
  json g = {{"model", {{"name", "t"}, {"input_shape", shape}}}, {"inputs", {"image"}}, {"layers", layers},
            {"outputs", {layers.back()["outputs"][0]}}};
  w.set_metadata("format", logq::kLqmFormat);
  w.set_metadata("lqm_version", "1.0");
  w.set_metadata("graph", g.dump());
  return logq::LqmFile::parse(logq::Bytes::from_vector(w.serialize()), "mem.lqm");
}

json op(const std::string& name, const std::string& o, const std::string& in, json attrs = json::object(), json tensors = json()) {
  json l = {{"name", name}, {"op", o}, {"inputs", {in}}, {"outputs", {name}}};
  if (!attrs.empty()) l["attrs"] = attrs;
  if (!tensors.is_null()) l["tensors"] = tensors;
  return l;
}

std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = float(i);
  return v;
}

}  // namespace

TEST_CASE("golden network: permute, reshape, slice, pad_channels move the right elements", "[network]") {
  // x[c][h][w] = 12c + 4h + w on [2, 3, 4]
  auto f = make_lqm({2, 3, 4}, json::array({op("p", "permute", "image", {{"dims", {2, 0, 1}}}),
                                            op("r", "reshape", "p", {{"shape", {4, -1}}})}));
  logq::Network net(f);
  const auto y = net.run(iota(24));  // y[w][c][h] = x[c][h][w]
  REQUIRE(y.size() == 24);
  for (int w = 0; w < 4; ++w)
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 3; ++h) CHECK(y[size_t((w * 2 + c) * 3 + h)] == float(12 * c + 4 * h + w));
  // roll (torch.roll): out[(i + s) mod n] = x[i], here by -1 rows and +2 columns of [3, 4]
  auto fr = make_lqm({3, 4}, json::array({op("r", "roll", "image", {{"shifts", {-1, 2}}, {"dims", {0, 1}}})}));
  logq::Network nr(fr);
  const auto rolled = nr.run(iota(12));
  for (int h = 0; h < 3; ++h)
    for (int w = 0; w < 4; ++w) CHECK(rolled[size_t(((h + 2) % 3) * 4 + (w + 2) % 4)] == float(h * 4 + w));
  auto f2 = make_lqm({2, 3, 4}, json::array({op("s", "slice", "image", {{"dim", 1}, {"start", 0}, {"step", 2}}),
                                             op("t", "slice", "s", {{"dim", 2}, {"start", 1}, {"end", 4}, {"step", 2}}),
                                             op("pad", "pad_channels", "t", {{"before", 1}, {"after", 2}})}));
  logq::Network n2(f2);
  const auto z = n2.run(iota(24));  // channels: 0, x0, x1, 0, 0; rows h = 0, 2; cols w = 1, 3
  REQUIRE(z.size() == 5 * 2 * 2);
  const std::vector<float> want = {0, 0, 0, 0, 1, 3, 9, 11, 13, 15, 21, 23, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(z == want);
}

TEST_CASE("golden network: layernorm, softmax, gelu, tokens and pooling against hand values", "[network]") {
  logq::SafetensorsWriter w;
  const std::vector<float> g = {1, 2, 0.5f}, b = {0, 1, -1}, tok = {7, 8, 9}, pos = {1, 1, 1, 2, 2, 2, 3, 3, 3};
  w.add("ln.weight", logq::DType::F32, {3}, g);
  w.add("ln.bias", logq::DType::F32, {3}, b);
  w.add("cls.tokens", logq::DType::F32, {1, 3}, tok);
  w.add("pos.other", logq::DType::F32, {3, 3}, pos);
  auto f = make_lqm({2, 3}, json::array({op("cls", "add_tokens", "image", {}, {{"tokens", "cls.tokens"}}),
                                         op("pos", "add", "cls", {}, {{"other", "pos.other"}}),
                                         op("ln", "layernorm", "pos", {{"eps", 1e-6}}, {{"weight", "ln.weight"}, {"bias", "ln.bias"}}),
                                         op("pick", "select_token", "ln", {{"index", 1}})}),
                    w);
  logq::Network net(f);
  const std::vector<float> x = {1, 2, 3, 10, 20, 30};
  const auto y = net.run(x);  // token 1 = x[0] + 2 = {3, 4, 5}: mean 4, var 2/3
  const double inv = 1.0 / std::sqrt(2.0 / 3.0 + 1e-6);
  REQUIRE(y.size() == 3);
  CHECK(y[0] == Approx(-1 * inv * 1 + 0).epsilon(1e-6));
  CHECK(y[1] == Approx(0 * inv * 2 + 1).epsilon(1e-6));
  CHECK(y[2] == Approx(1 * inv * 0.5 - 1).epsilon(1e-6));

  auto f2 = make_lqm({2, 3}, json::array({op("g", "gelu", "image"), op("sm", "softmax", "g"), op("m", "mean_tokens", "sm")}));
  logq::Network n2(f2);
  const auto s = n2.run({0, 1, 2, -1, -1, -1});
  const double g1 = 0.5 * 1 * (1 + std::erf(1 / std::sqrt(2.0))), g2 = 0.5 * 2 * (1 + std::erf(2 / std::sqrt(2.0)));
  const double e0 = 1, e1 = std::exp(g1), e2 = std::exp(g2), sum = e0 + e1 + e2;
  REQUIRE(s.size() == 3);  // row 2 is uniform (1/3 each)
  CHECK(s[0] == Approx((e0 / sum + 1.0 / 3) / 2).epsilon(1e-6));
  CHECK(s[2] == Approx((e2 / sum + 1.0 / 3) / 2).epsilon(1e-6));

  auto f3 = make_lqm({1, 4, 4}, json::array({op("mp", "maxpool2d", "image", {{"kernel", 3}, {"stride", 2}, {"padding", 1}}),
                                             op("ap", "adaptive_avgpool2d", "mp", {{"output_size", 1}})}));
  logq::Network n3(f3);
  const auto p = n3.run(iota(16));  // max pool → [[5, 7], [13, 15]], mean 10
  REQUIRE(p.size() == 1);
  CHECK(p[0] == 10.0f);
}

TEST_CASE("golden network: a U x U linear chain equals run_layer applied by hand", "[network]") {
  logq::QLayer a;
  a.name = "fc1";
  a.out_features = 3;
  a.in_features = 4;
  a.w_codes = {0, 5, 9, 15, 3, 3, 3, 3, 15, 0, 7, 8};
  a.w_uniform = logq::UniformParams{4, {0.1f, 0.2f, 0.05f}, {8, 8, 7}};
  a.x_uniform = logq::UniformParams{8, {0.02f}, {128}};
  a.bias = {0.5f, -0.25f, 0.0f};
  logq::QLayer b = a;
  b.name = "fc2";
  b.out_features = 2;
  b.in_features = 3;
  b.w_codes = {1, 2, 3, 14, 13, 12};
  b.w_uniform = logq::UniformParams{4, {0.3f, 0.07f}, {8, 8}};
  b.x_uniform = logq::UniformParams{8, {0.03f}, {3}};
  b.bias = {};
  for (logq::QLayer* l : {&a, &b}) l->hw = logq::default_hw_config({logq::Pairing::UxU, 4, 8, nullptr, -1}, l->in_features);
  json graph = {{"model", {{"name", "chain"}, {"input_shape", {2, 4}}}}, {"inputs", {"image"}}, {"outputs", {"fc2"}}, {"layers", json::array()}};
  logq::SafetensorsWriter w;
  logq::add_layer(graph, w, a, {"image"}, {"fc1"});
  graph["layers"].push_back(op("act", "relu", "fc1"));
  logq::add_layer(graph, w, b, {"act"}, {"fc2"});
  w.set_metadata("format", logq::kLqmFormat);
  w.set_metadata("lqm_version", "1.0");
  w.set_metadata("graph", graph.dump());
  logq::Network net(logq::LqmFile::parse(logq::Bytes::from_vector(w.serialize()), "chain.lqm"));
  const std::vector<float> x = {0.3f, -1.2f, 2.0f, 0.01f, -0.5f, 0.7f, 1.1f, -2.6f};
  std::vector<int32_t> seen;
  net.on_codes = [&](const std::string& layer, const std::vector<int32_t>& c, const std::vector<int32_t>&) {
    if (layer == "fc1") seen = c;
  };
  const auto y = net.run(x);
  auto h = logq::run_layer(a, x, 2).y;
  for (float& v : h) v = std::max(v, 0.0f);
  const auto want = logq::run_layer(b, h, 2).y;
  CHECK(y == want);
  CHECK(seen == logq::encode_x(a, x, 2));
  CHECK(net.gemms().at(1).runs == 1);
  CHECK(net.gemms().at(0).stats.terms == 2 * 3 * 4);
}

TEST_CASE("golden network: shape and attribute errors name the layer", "[network][bad-input]") {
  const auto err = [](const logq::Shape& s, const json& layers) {
    try {
      logq::Network n(make_lqm(s, layers));
    } catch (const logq::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(err({2, 3}, json::array({op("r", "reshape", "image", {{"shape", {4, 2}}})})), Contains("layer 'r' (reshape): cannot reshape [2, 3] to [4, 2]"));
  CHECK_THAT(err({2, 3}, json::array({op("p", "permute", "image", {{"dims", {0, 0}}})})), Contains("layer 'p' (permute): attr 'dims' repeats"));
  CHECK_THAT(err({2, 3}, json::array({op("s", "slice", "image", {{"dim", 3}})})), Contains("layer 's' (slice): dim 3 out of range"));
  CHECK_THAT(err({2, 3}, json::array({op("ln", "layernorm", "image")})), Contains("layer 'ln' (layernorm): needs tensor 'weight'"));
  CHECK_THAT(err({2, 3}, json::array({op("w", "window_partition", "image")})), Contains("layer 'w' (window_partition): op is not implemented"));
  CHECK_THAT(err({2, 3}, json::array({op("r", "roll", "image", {{"shifts", {1}}, {"dims", {0, 1}}})})), Contains("'shifts' and 'dims' differ"));
  CHECK_THAT(err({2, 3}, json::array({op("pc", "pad_channels", "image", {{"before", 1}, {"after", 1}})})), Contains("must have rank 3"));
  logq::Network n(make_lqm({2, 3}, json::array({op("id", "identity", "image")})));
  CHECK_THROWS_WITH(n.run({1, 2}), Contains("input has 2 values, the model takes [2, 3]"));
}
