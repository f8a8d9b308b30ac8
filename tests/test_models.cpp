// Models against the reference Python code: logits and block outputs of every model in
// ../shared/fixtures/models, state-dict manifests of the full-size presets, real CIFAR-10
// weights, and the errors for mismatched checkpoints and configs.
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include "io/error.h"
#include "io/safetensors.h"
#include "quant/eval/runner.h"
#include "quant/models/models.h"
#include "test_util.h"

using namespace logq;

namespace {

const at::Tensor& find(const StateDict& sd, const std::string& name) {
  for (const auto& [n, t] : sd)
    if (n == name) return t;
  throw Error("fixture has no tensor " + name);
}

double max_rel_err(const at::Tensor& got, const at::Tensor& ref) {
  const double scale = ref.abs().max().item<double>();
  return (got.to(at::kDouble) - ref.to(at::kDouble)).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

struct Fixture {
  const char* dir;
  const char* checkpoint;  // relative to fixtures/models
  const char* config;
};

// Each fixture's Python constructor (its .json "build"), as a logq config.
const Fixture kFixtures[] = {
    {"vit_tiny_custom", "vit_tiny_custom/vit_tiny_custom.bin",
     R"({"family": "vit", "img_size": 32, "patch_size": 4, "in_chans": 3, "embed_dim": 48, "depth": 2, "num_heads": 3, "num_classes": 10})"},
    {"deit_tiny_patch16_224", "deit_tiny_patch16_224/deit_tiny_patch16_224.bin", R"({"preset": "deit_tiny_patch16_224"})"},
    {"swin_tiny_custom_56", "swin_tiny_custom_56/swin_tiny_custom_56.bin",
     R"({"family": "swin", "img_size": 56, "patch_size": 4, "window_size": 7, "embed_dim": 24, "depths": [2, 2], "num_heads": [1, 2], "num_classes": 10})"},
    {"swin_tiny_custom_112", "swin_tiny_custom_112/swin_tiny_custom_112.bin",
     R"({"family": "swin", "img_size": 112, "patch_size": 4, "window_size": 7, "embed_dim": 24, "depths": [2, 2], "num_heads": [1, 2], "num_classes": 10})"},
    {"tv_resnet_l1111", "tv_resnet_l1111/resnet_l1111.pth", R"({"preset": "resnet18", "layers": [1, 1, 1, 1], "num_classes": 10})"},
    {"brecq_resnet_l1111", "tv_resnet_l1111/resnet_l1111.pth", R"({"preset": "brecq_resnet18", "layers": [1, 1, 1, 1], "num_classes": 10})"},
    {"brecq_mobilenetv2_w0.25", "brecq_mobilenetv2_w0.25/mobilenetv2_w0.25.pth.tar",
     R"({"preset": "brecq_mobilenetv2", "width_mult": 0.25, "num_classes": 10})"},
};

}  // namespace

TEST_CASE("every fixture model reproduces the reference logits and block outputs", "[models][shared]") {
  REQUIRE_SHARED("fixtures/models");
  for (const auto& f : kFixtures) {
    INFO(f.dir);
    const std::string dir = test::shared_path(std::string("fixtures/models/") + f.dir);
    LoadedModel m = load_model(nlohmann::json::parse(f.config), test::shared_path(std::string("fixtures/models/") + f.checkpoint));
    const StateDict fx = load_state_dict(dir + "/" + f.dir + ".safetensors");
    std::map<std::string, at::Tensor> seen;
    m.net->observe = [&](const std::string& name, const at::Tensor& t) { seen[name] = t.clone(); };
    at::Tensor logits;
    {
      torch::NoGradGuard g;
      logits = m.net->forward(find(fx, "input"));
    }
    const at::Tensor& ref = find(fx, "logits");
    REQUIRE(logits.sizes() == ref.sizes());
    CHECK(max_rel_err(logits, ref) <= 1e-4);
    int hooks = 0;
    for (const auto& [name, t] : fx) {
      if (name.rfind("hook.", 0) != 0) continue;
      const std::string mod = name.substr(5);
      INFO(mod);
      REQUIRE(seen.count(mod));
      REQUIRE(seen[mod].sizes() == t.sizes());
      CHECK(max_rel_err(seen[mod], t) <= 1e-4);
      ++hooks;
    }
    CHECK(hooks >= 1);
  }
}

TEST_CASE("presets reproduce the reference state-dict manifests (names, order, shapes, dtypes)", "[models][shared]") {
  REQUIRE_SHARED("fixtures/manifests/index.json");
  const std::map<std::string, std::string> manifest_to_preset{
      {"timm__vit_small_patch16_224", "vit_small_patch16_224"}, {"timm__vit_base_patch16_224", "vit_base_patch16_224"},
      {"timm__deit_tiny_patch16_224", "deit_tiny_patch16_224"}, {"timm__deit_small_patch16_224", "deit_small_patch16_224"},
      {"timm__deit_base_patch16_224", "deit_base_patch16_224"}, {"timm__swin_small_patch4_window7_224", "swin_small_patch4_window7_224"},
      {"timm__swin_base_patch4_window7_224", "swin_base_patch4_window7_224"}, {"torchvision__resnet18", "resnet18"},
      {"torchvision__resnet50", "resnet50"}, {"torchvision__mobilenet_v2", "mobilenet_v2"}, {"brecq__resnet18", "brecq_resnet18"},
      {"brecq__resnet50", "brecq_resnet50"}, {"brecq__mobilenetv2", "brecq_mobilenetv2"}};
  for (const auto& [file, preset] : manifest_to_preset) {
    INFO(file);
    std::ifstream in(test::shared_path("fixtures/manifests/" + file + ".json"));
    REQUIRE(in);
    const auto j = nlohmann::json::parse(in);
    const auto net = create_model(preset);
    const StateDict sd = state_dict(*net);
    const auto& want = j.at("state_dict");
    REQUIRE(sd.size() == want.size());
    for (size_t i = 0; i < sd.size(); ++i) {
      INFO(i << " " << want[i].at("key").get<std::string>());
      CHECK(sd[i].first == want[i].at("key").get<std::string>());
      CHECK(std::vector<int64_t>(sd[i].second.sizes().begin(), sd[i].second.sizes().end()) == want[i].at("shape").get<std::vector<int64_t>>());
      CHECK(std::string(sd[i].second.scalar_type() == at::kLong ? "int64" : "float32") == want[i].at("dtype").get<std::string>());
    }
  }
}

TEST_CASE("the pretrained CIFAR-10 ResNets reach their accuracy on real images", "[models][shared][data]") {
  REQUIRE_SHARED("data/cifar10/models/resnet56-4bfd9763.th");
  struct Case { const char* preset; const char* ckpt; double lossless, jpeg; };
  for (const Case c : {Case{"resnet20_cifar", "resnet20-12fca82f.th", 89.0, 80.0}, Case{"resnet56_cifar", "resnet56-4bfd9763.th", 90.0, 82.0}}) {
    INFO(c.preset);
    LoadedModel m = load_model(preset_config(c.preset), test::shared_path(std::string("data/cifar10/models/") + c.ckpt));
    const auto lossless = open_dataset(test::shared_path("data/cifar10/test-lossless-200"));
    const EvalResult r = evaluate(*m.net, *lossless, EvalOptions{100, 0, false});
    CHECK(r.n == 200);
    CHECK(r.top1_pct() >= c.lossless);
    // Every 5th JPEG test image (2,000) keeps the test fast; the full set is `logq eval`'s job.
    const auto jpeg = open_dataset(test::shared_path("data/cifar10/test-jpeg"));
    REQUIRE(jpeg->size() == 10000);
    int64_t hit = 0, n = 0;
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < 10000; i += 5) idx.push_back(i);
    torch::NoGradGuard g;
    for (size_t b = 0; b < idx.size(); b += 200) {
      at::Tensor y;
      at::Tensor x = make_batch(*jpeg, idx, b, b + 200, preprocess_for(*m.net), &y);
      hit += m.net->forward(x).argmax(1).eq(y).sum().item<int64_t>();
      n += 200;
    }
    CHECK(100.0 * double(hit) / double(n) >= c.jpeg);
  }
}

TEST_CASE("a checkpoint that does not match the model names the first bad key", "[models][errors]") {
  const auto cfg = nlohmann::json::parse(R"({"family": "vit", "img_size": 32, "patch_size": 4, "embed_dim": 48, "depth": 2, "num_heads": 3, "num_classes": 10})");
  auto net = create_model_from_config(cfg);
  StateDict sd = state_dict(*net);
  auto expect_error = [&](StateDict bad, const std::string& needle) {
    auto fresh = create_model_from_config(cfg);
    try {
      load_state_dict(*fresh, bad, "ckpt.bin");
      FAIL("no error for " << needle);
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
      CHECK(std::string(e.what()).find("ckpt.bin") != std::string::npos);
    }
  };
  StateDict missing = sd;
  missing.erase(missing.begin() + 5);
  expect_error(missing, "missing key '" + sd[5].first + "'");
  StateDict extra = sd;
  extra.emplace_back("blocks.7.attn.qkv.weight", at::zeros({3}));
  expect_error(extra, "unexpected key 'blocks.7.attn.qkv.weight'");
  StateDict shaped = sd;
  shaped[2].second = at::zeros({7});
  expect_error(shaped, "key '" + sd[2].first + "' has shape [7]");
  // A matching state dict loads and changes the weights.
  auto other = create_model_from_config(cfg);
  load_state_dict(*other, sd, "ok");
  CHECK(at::equal(state_dict(*other)[3].second, sd[3].second));
}

TEST_CASE("model configs are checked key by key", "[models][errors]") {
  auto err = [](const char* json) {
    try {
      create_model_from_config(nlohmann::json::parse(json));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err(R"({"preset": "nope"})").find("unknown model 'nope'") != std::string::npos);
  CHECK(err(R"({"family": "vit", "depht": 3})").find("unknown key 'depht'") != std::string::npos);
  CHECK(err(R"({"family": "cnn"})").find("unknown family 'cnn'") != std::string::npos);
  CHECK(err(R"({"family": "vit", "img_size": 30, "patch_size": 4})").find("not a multiple of patch_size") != std::string::npos);
  CHECK(err(R"({"family": "vit", "depth": "twelve"})").find("vit") != std::string::npos);
  CHECK(err(R"({"preset": "resnet20_cifar", "in_chans": 1})").find("mean/std need 1 values") != std::string::npos);
  CHECK(err(R"({"preset": "fmnist_swin", "img_size": 30})").find("swin") != std::string::npos);
}

TEST_CASE("a logq checkpoint round-trips with its own config", "[models]") {
  torch::manual_seed(3);
  auto net = create_model("fmnist_swin");
  const std::string path = test::temp_path("fmnist_swin_roundtrip.safetensors");
  save_model(*net, preset_config("fmnist_swin"), path, {{"note", "test"}});
  LoadedModel back = load_model(nullptr, path);
  CHECK(back.net->arch == "fmnist_swin");
  torch::NoGradGuard g;
  net->eval();
  const at::Tensor x = at::randn({2, 1, 28, 28});
  CHECK(at::equal(net->forward(x), back.net->forward(x)));
  std::remove(path.c_str());
}

TEST_CASE("the committed Fashion-MNIST models reach their targets on the 10k test set", "[models][embedded]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const auto test_set = open_dataset(fmnist, "test");
  struct Target { const char* name; double top1; };
  for (const Target t : {Target{"fmnist_vit", 90.0}, Target{"fmnist_swin", 90.0}, Target{"fmnist_resnet", 92.5},
                         Target{"fmnist_mobilenetv2", 92.0}}) {
    INFO(t.name);
    const std::string path = test::source_dir() + "/models/" + t.name + ".safetensors";
    REQUIRE(test::exists(path));
    LoadedModel m = load_model(nullptr, path);
    CHECK(m.net->arch == t.name);
    const EvalResult r = evaluate(*m.net, *test_set, EvalOptions{256, 0, false});  // the batch train() evaluates with
    CHECK(r.n == 10000);
    CHECK(r.top1_pct() >= t.top1);
    // The accuracy recorded at training time (models/README.md quotes it) is what eval gives;
    // 5 images of slack for float kernels that differ in the last bits on another CPU.
    const std::string recorded = SafetensorsFile::open(path).metadata_or("logq.test_top1", "");
    REQUIRE(!recorded.empty());
    CHECK(std::abs(std::stod(recorded) - r.top1_pct()) <= 0.05);
  }
}

TEST_CASE("A model without a checkpoint: the same random weights in every load", "[models]") {
  // LibTorch seeds its generator at random per process; the quantize command loads an FP and a
  // quantized copy, which must hold the same weights.
  const nlohmann::json cfg = nlohmann::json::parse(
      R"({"family": "vit", "img_size": 16, "patch_size": 4, "in_chans": 1, "embed_dim": 16, "depth": 1, "num_heads": 2, "num_classes": 4, "data": {"mean": [0.5], "std": [0.5]}})");
  at::manual_seed(123);
  LoadedModel a = load_model(cfg, "");
  (void)at::randn({100});  // the generator moves on between the loads
  LoadedModel b = load_model(cfg, "");
  const auto sa = state_dict(*a.net), sb = state_dict(*b.net);
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    INFO(sa[i].first);
    CHECK(at::equal(sa[i].second, sb[i].second));
  }
  CHECK(sa.front().second.abs().sum().item<double>() > 0);  // cls_token: initialised, not zeros
}
