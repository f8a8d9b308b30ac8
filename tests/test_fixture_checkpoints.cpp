// The real checkpoints in ../shared: timm/torchvision/BRECQ zip files and the legacy CIFAR
// ResNets, checked against the fixture manifests and against values computed independently.
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "test_util.h"

using namespace logq;
using json = nlohmann::json;

namespace {

json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  return json::parse(f);
}

DType manifest_dtype(const std::string& s) {
  if (s == "float32") return DType::F32;
  if (s == "int64") return DType::I64;
  FAIL("unexpected manifest dtype " << s);
  return DType::F32;
}

int64_t total_numel(const Checkpoint& ck) {
  int64_t n = 0;
  for (const auto& t : ck.tensors) n += t.second.numel();
  return n;
}

const char* kModels[] = {"deit_tiny_patch16_224", "vit_tiny_custom", "swin_tiny_custom_56", "swin_tiny_custom_112",
                         "tv_resnet_l1111", "brecq_resnet_l1111", "brecq_mobilenetv2_w0.25"};

}  // namespace

TEST_CASE("every fixture model checkpoint has the key count and element count its JSON records", "[checkpoint][shared]") {
  REQUIRE_SHARED("fixtures/models");
  for (const char* m : kModels) {
    INFO(m);
    const std::string dir = test::shared_path(std::string("fixtures/models/") + m + "/");
    const json meta = read_json(dir + m + ".json");
    const Checkpoint ck = load_torch_checkpoint(dir + meta["checkpoint"]["file"].get<std::string>());
    CHECK(ck.format == "torch-zip");
    CHECK(static_cast<int64_t>(ck.tensors.size()) == meta["state_dict_keys"].get<int64_t>());
    CHECK(total_numel(ck) == meta["num_params"].get<int64_t>() + meta["num_buffer_elements"].get<int64_t>());
  }
}

TEST_CASE("DeiT-Tiny checkpoint matches the timm 0.9.2 manifest key by key", "[checkpoint][shared]") {
  REQUIRE_SHARED("fixtures/manifests/timm__deit_tiny_patch16_224.json");
  const json man = read_json(test::shared_path("fixtures/manifests/timm__deit_tiny_patch16_224.json"));
  const Checkpoint ck = load_torch_checkpoint(test::shared_path("fixtures/models/deit_tiny_patch16_224/deit_tiny_patch16_224.bin"));
  const auto& sd = man["state_dict"];
  REQUIRE(ck.tensors.size() == sd.size());
  for (size_t k = 0; k < sd.size(); ++k) {
    INFO(sd[k]["key"]);
    CHECK(ck.tensors[k].first == sd[k]["key"].get<std::string>());
    CHECK(ck.tensors[k].second.shape == sd[k]["shape"].get<std::vector<int64_t>>());
    CHECK(ck.tensors[k].second.dtype == manifest_dtype(sd[k]["dtype"]));
  }
}

TEST_CASE("ResNet-l1111 keys are the torchvision ResNet-18 manifest's (one block per stage)", "[checkpoint][shared]") {
  REQUIRE_SHARED("fixtures/manifests/torchvision__resnet18.json");
  const json man = read_json(test::shared_path("fixtures/manifests/torchvision__resnet18.json"));
  const Checkpoint ck = load_torch_checkpoint(test::shared_path("fixtures/models/tv_resnet_l1111/resnet_l1111.pth"));
  size_t expected = 0;
  for (const auto& e : man["state_dict"]) {
    const std::string key = e["key"];
    const bool second_block = key.rfind("layer", 0) == 0 && key.size() > 8 && key[7] == '1' && key[8] == '.';
    if (second_block) continue;  // layerN.1.* does not exist in l1111
    ++expected;
    INFO(key);
    const RawTensor* t = ck.find(key);
    REQUIRE(t);
    CHECK(t->dtype == manifest_dtype(e["dtype"]));
    if (key.rfind("fc.", 0) != 0) CHECK(t->shape == e["shape"].get<std::vector<int64_t>>());  // fc has 10 classes
  }
  CHECK(ck.tensors.size() == expected);
  CHECK(ck.find("fc.weight")->shape == std::vector<int64_t>{10, 512});
  for (const auto& [name, t] : ck.tensors)
    if (name.find("num_batches_tracked") != std::string::npos) CHECK(t.at(0) == 4.0);  // BN stats re-estimated from 4 batches
}

TEST_CASE("BRECQ MobileNetV2 x0.25 has the BRECQ manifest's keys in order", "[checkpoint][shared]") {
  REQUIRE_SHARED("fixtures/manifests/brecq__mobilenetv2.json");
  const json man = read_json(test::shared_path("fixtures/manifests/brecq__mobilenetv2.json"));
  const Checkpoint ck = load_torch_checkpoint(test::shared_path("fixtures/models/brecq_mobilenetv2_w0.25/mobilenetv2_w0.25.pth.tar"));
  CHECK(ck.state_dict_key == "model");
  REQUIRE(ck.tensors.size() == man["state_dict"].size());
  for (size_t k = 0; k < ck.tensors.size(); ++k) {
    CHECK(ck.tensors[k].first == man["state_dict"][k]["key"].get<std::string>());
    CHECK(ck.tensors[k].second.shape.size() == man["state_dict"][k]["shape"].size());
  }
}

TEST_CASE("Swin int64 relative_position_index and attn_mask equal timm's formulas", "[checkpoint][shared]") {
  REQUIRE_SHARED("fixtures/models/swin_tiny_custom_112");
  const int ws = 7, shift = ws / 2;
  for (const char* m : {"swin_tiny_custom_56", "swin_tiny_custom_112"}) {
    INFO(m);
    const Checkpoint ck = load_torch_checkpoint(test::shared_path(std::string("fixtures/models/") + m + "/" + m + ".bin"));
    int masks = 0, indices = 0;
    for (const auto& [name, t] : ck.tensors) {
      if (name.find("relative_position_index") != std::string::npos) {
        ++indices;
        REQUIRE(t.dtype == DType::I64);
        REQUIRE(t.shape == std::vector<int64_t>{49, 49});
        for (int i = 0; i < 49; ++i)
          for (int j = 0; j < 49; ++j)
            CHECK(t.at(i * 49 + j) == (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1));
      }
      if (name.find("attn_mask") != std::string::npos) {
        ++masks;
        INFO(name);
        REQUIRE(t.shape.size() == 3);
        const int n_win = static_cast<int>(t.shape[0]);
        const int side = ws * static_cast<int>(std::lround(std::sqrt(n_win)));  // feature map H = W
        // Regions of the shifted image (timm: slices (0,-ws), (-ws,-shift), (-shift,None)).
        auto region = [&](int x) { return x < side - ws ? 0 : (x < side - shift ? 1 : 2); };
        for (int w = 0; w < n_win; ++w) {
          const int wy = w / (side / ws), wx = w % (side / ws);
          for (int p = 0; p < 49; ++p)
            for (int q = 0; q < 49; ++q) {
              const int lp = region(wy * ws + p / ws) * 3 + region(wx * ws + p % ws);
              const int lq = region(wy * ws + q / ws) * 3 + region(wx * ws + q % ws);
              CHECK(t.at((static_cast<int64_t>(w) * 49 + p) * 49 + q) == (lp == lq ? 0.0 : -100.0));
            }
        }
      }
    }
    CHECK(indices == 4);
    CHECK(masks == (std::string(m) == "swin_tiny_custom_56" ? 1 : 2));  // README: at 112 both stages shift
  }
}

TEST_CASE("CIFAR-10 ResNet-20/56: legacy pickle, 'module.' stripped, parameter count from the architecture", "[checkpoint][shared]") {
  REQUIRE_SHARED("data/cifar10/models/resnet20-12fca82f.th");
  for (auto [file, n] : {std::pair<const char*, int>{"resnet20-12fca82f.th", 3}, {"resnet56-4bfd9763.th", 9}}) {
    INFO(file);
    const Checkpoint ck = load_torch_checkpoint(test::shared_path(std::string("data/cifar10/models/") + file));
    CHECK(ck.format == "torch-legacy");
    CHECK(ck.state_dict_key == "state_dict");
    CHECK(ck.stripped_module_prefix);
    for (const char* key : {"conv1.weight", "layer1.0.bn1.running_var", "linear.weight", "linear.bias"}) CHECK(ck.find(key));
    CHECK(ck.find("layer3.0.conv1.weight")->shape == std::vector<int64_t>{64, 32, 3, 3});
    // Parameters of He et al.'s CIFAR ResNet-(6n+2) with option-A shortcuts (no shortcut weights).
    int64_t expect = 3 * 16 * 9 + 2 * 16 + 64 * 10 + 10;
    int in = 16;
    for (int planes : {16, 32, 64}) {
      for (int b = 0; b < n; ++b) {
        expect += in * planes * 9 + planes * planes * 9 + 4 * planes;
        in = planes;
      }
    }
    int64_t params = 0;
    for (const auto& [name, t] : ck.tensors)
      if (name.find("running_") == std::string::npos && name.find("num_batches") == std::string::npos) params += t.numel();
    CHECK(params == expect);
    CHECK(ck.tensors.size() == static_cast<size_t>(1 + 4 + 3 * n * 10 + 2));
    bool has_acc = false;
    for (const auto& [k, v] : ck.extras) has_acc = has_acc || (k == "best_prec1" && std::stod(v) > 90.0);
    CHECK(has_acc);
  }
}
