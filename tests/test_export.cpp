// .lqm export of quantized models (quant/models/graph.h) run by the golden network: the graph is
// complete and valid, every GEMM's input codes equal the fake-quant model's (samples/), and the
// golden logits equal the fake-quant logits up to float32 summation order.
#include <cmath>

#include <fmt/format.h>
#include <torch/utils.h>

#include "golden/network.h"
#include "quant/adalog/adalog.h"
#include "quant/logart/logart.h"
#include "quant/export/graph.h"
#include "quant/models/models.h"
#include "test_util.h"

using namespace logq;

namespace {

struct Agreement {
  double worst_code_pct = 100, logit_rel_err = 0;
  int64_t layers = 0;
  std::vector<std::string> pairings;
};

// Runs the file's sample images through the golden network, comparing with the stored samples.
Agreement check_file(const std::string& path) {
  const LqmFile f = LqmFile::open(path);
  Network net(f);
  const auto& st = f.file();
  const auto imgs = st.read<float>("samples/images", DType::F32);
  const auto ref = st.read<float>("samples/logits", DType::F32);
  const int64_t n = st.at("samples/images").shape[0], per = numel(net.input_shape()), classes = int64_t(ref.size()) / n;
  std::map<std::string, std::pair<int64_t, int64_t>> agree;
  int64_t img = 0;
  net.on_codes = [&](const std::string& layer, const std::vector<int32_t>& x, const std::vector<int32_t>& b) {
    for (const auto& [suffix, got] : {std::pair<std::string, const std::vector<int32_t>*>{".x", &x}, {".b", &b}}) {
      if (got->empty()) continue;
      const auto want = st.read<int32_t>("samples/" + layer + suffix, DType::I32);
      REQUIRE(want.size() == got->size() * size_t(n));
      auto& a = agree[layer + suffix];
      for (size_t i = 0; i < got->size(); ++i) a.first += (*got)[i] == want[size_t(img) * got->size() + i];
      a.second += int64_t(got->size());
    }
  };
  Agreement r;
  double max_ref = 0, max_err = 0;
  for (img = 0; img < n; ++img) {
    const auto y = net.run(std::vector<float>(imgs.begin() + img * per, imgs.begin() + (img + 1) * per));
    REQUIRE(int64_t(y.size()) == classes);
    for (int64_t k = 0; k < classes; ++k) {
      max_ref = std::max(max_ref, double(std::fabs(ref[size_t(img * classes + k)])));
      max_err = std::max(max_err, double(std::fabs(y[size_t(k)] - ref[size_t(img * classes + k)])));
    }
  }
  for (const auto& [name, a] : agree) r.worst_code_pct = std::min(r.worst_code_pct, 100.0 * double(a.first) / double(a.second));
  r.logit_rel_err = max_err / std::max(max_ref, 1e-12);
  for (const auto& g : net.gemms()) r.pairings.push_back(g.float_input ? "F32" : g.layer.pairing == Pairing::UxU ? "UxU" : g.layer.pairing == Pairing::UxA ? "UxA" : "LxU");
  r.layers = int64_t(net.gemms().size());
  return r;
}

}  // namespace

TEST_CASE("export: a LogART CIFAR ResNet (option-A shortcut) runs in the golden network as in LibTorch", "[export][logart]") {
  torch::manual_seed(3);
  const auto cfg = nlohmann::json::parse(
      R"({"family": "resnet", "block": "basic", "layers": [1, 1], "widths": [8, 16], "stem": "cifar", "shortcut": "option_a", "in_chans": 3, "num_classes": 10})");
  auto fp = create_model_from_config(cfg);
  fp->eval();
  torch::manual_seed(3);
  auto q = create_model_from_config(cfg);  // the same weights
  q->eval();
  const at::Tensor images = at::randn({40, 3, 16, 16});
  logart::Options o;
  o.llr = false;
  o.progress = false;
  logart::QuantizedModel qm = logart::quantize(*fp, q, images.slice(0, 0, 32), images, o, [](const std::string&) {});
  logart::calibrate_activations(qm, images.slice(0, 0, 32), 8);
  for (double k : {1.5, 0.0}) {  // 1+1/2 mantissa, and exact √2 (f = 23 bits)
    INFO("K = " << k);
    logart::apply(qm, k, 8);
    const std::string path = test::temp_path(fmt::format("resnet_{}.lqm", k));
    export_lqm(*q, logart::export_source(qm, k, 8), {{"family", "resnet"}, {"method", "logart"}}, images.slice(0, 32, 36), {0, 1, 2, 3}, path, "test");
    const Agreement a = check_file(path);
    CHECK(a.layers == 6);  // conv1, 2 x (conv1, conv2), linear
    CHECK(a.pairings == std::vector<std::string>(6, "LxU"));
    CHECK(a.worst_code_pct >= 99.9);
    CHECK(a.logit_rel_err < 1e-4);
    std::remove(path.c_str());
  }
  // Without activation quantizers the matmul-free CNN exports with F32 inputs, and the golden model
  // runs them in float.
  logart::apply(qm, 1.5, 0);
  const std::string path = test::temp_path("resnet_f32.lqm");
  export_lqm(*q, logart::export_source(qm, 1.5, 0), {{"family", "resnet"}}, images.slice(0, 32, 34), {0, 1}, path, "test");
  const Agreement a = check_file(path);
  CHECK(a.pairings == std::vector<std::string>(6, "F32"));
  CHECK(a.logit_rel_err < 1e-4);
  std::remove(path.c_str());
  CHECK_THROWS_WITH(logart::mantissa_frac_bits(1.45), Catch::Contains("K = 1.45"));
}

TEST_CASE("export: an AdaLog ViT runs in the golden network as in LibTorch", "[export][adalog]") {
  at::manual_seed(1);
  auto net = create_model_from_config(nlohmann::json::parse(
      R"({"family": "vit", "img_size": 16, "patch_size": 4, "in_chans": 1, "embed_dim": 16, "depth": 1, "num_heads": 2, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})"));
  net->eval();
  const at::Tensor images = at::randn({12, 1, 16, 16});
  adalog::Options o;
  o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 4;
  o.progress = false;
  adalog::QuantModel qm = adalog::calibrate(net, "vit", images.slice(0, 0, 8), o, [](const std::string&) {});
  adalog::fold_post_gelu_bias(qm);
  adalog::install(qm, true);
  const std::string path = test::temp_path("vit.lqm");
  export_lqm(*net, adalog::export_source(qm), {{"family", "vit"}, {"method", "adalog"}}, images.slice(0, 8, 12), {0, 1, 2, 3}, path, "test");
  const Agreement a = check_file(path);
  // patch embed (input kept float), qkv, q·kᵀ, softmax·V (AdaLog), proj, fc1, fc2 (post-GELU AdaLog), head
  CHECK(a.pairings == std::vector<std::string>{"F32", "UxU", "UxU", "UxA", "UxU", "UxU", "UxA", "UxU"});
  CHECK(a.worst_code_pct >= 99.0);
  CHECK(a.logit_rel_err < 1e-3);
  std::remove(path.c_str());
  // Ablation quantizers have no integer format: export says so.
  for (auto& l : qm.layers)
    if (l.kind == "matmul2") l.log_kind = "log2";
  CHECK_THROWS_WITH(export_lqm(*net, adalog::export_source(qm), {}, images.slice(0, 0, 1), {0}, path, "test"),
                    Catch::Contains("blocks.0.attn.matmul2") && Catch::Contains("'log2'"));
}

TEST_CASE("export: a LogART MobileNetV2 (depthwise convs, ReLU6, residual adds) runs in the golden network as in LibTorch", "[export][logart]") {
  const auto cfg = nlohmann::json::parse(
      R"({"family": "mobilenetv2", "width_mult": 0.25, "num_classes": 10, "stem_stride": 1, "last_channel": 64,
          "inverted_residual_setting": [[1, 8, 1, 1], [6, 16, 2, 2]]})");
  torch::manual_seed(4);
  auto fp = create_model_from_config(cfg);
  fp->eval();
  torch::manual_seed(4);
  auto q = create_model_from_config(cfg);
  q->eval();
  const at::Tensor images = at::randn({36, 3, 16, 16});
  logart::Options o;
  o.llr = false;
  o.progress = false;
  logart::QuantizedModel qm = logart::quantize(*fp, q, images.slice(0, 0, 32), images, o, [](const std::string&) {});
  logart::calibrate_activations(qm, images.slice(0, 0, 32), 8);
  logart::apply(qm, 1.5, 8);
  const std::string path = test::temp_path("mbv2.lqm");
  export_lqm(*q, logart::export_source(qm, 1.5, 8), {{"family", "mobilenetv2"}}, images.slice(0, 32, 36), {0, 1, 2, 3}, path, "test");
  const Agreement a = check_file(path);
  CHECK(a.layers == int64_t(qm.layers.size()));
  CHECK(a.worst_code_pct >= 99.9);
  CHECK(a.logit_rel_err < 1e-4);
  std::remove(path.c_str());
}

TEST_CASE("export: an AdaLog Swin (shifted windows, relative position bias, patch merging) runs in the golden network as in LibTorch", "[export][adalog]") {
  at::manual_seed(5);
  auto net = create_model_from_config(nlohmann::json::parse(
      R"({"family": "swin", "img_size": 16, "patch_size": 2, "in_chans": 1, "embed_dim": 16, "depths": [2, 2], "num_heads": [2, 4],
          "window_size": 4, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})"));
  net->eval();
  const at::Tensor images = at::randn({12, 1, 16, 16});
  adalog::Options o;
  o.w_bit = o.a_bit = o.s_bit = o.qhead_a_bit = 4;
  o.progress = false;
  adalog::QuantModel qm = adalog::calibrate(net, "swin", images.slice(0, 0, 8), o, [](const std::string&) {});
  adalog::fold_post_gelu_bias(qm);
  adalog::install(qm, true);
  const std::string path = test::temp_path("swin.lqm");
  export_lqm(*net, adalog::export_source(qm), {{"family", "swin"}}, images.slice(0, 8, 12), {0, 1, 2, 3}, path, "test");
  const Agreement a = check_file(path);
  CHECK(a.layers == int64_t(qm.layers.size()));  // every wrapped GEMM, PatchMerging's reduction included
  CHECK(a.worst_code_pct >= 99.0);
  CHECK(a.logit_rel_err < 1e-3);
  std::remove(path.c_str());
}
