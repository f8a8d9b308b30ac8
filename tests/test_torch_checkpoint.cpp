#include <ATen/ATen.h>

#include "quant/io/torch_checkpoint.h"
#include "test_util.h"

using namespace logq;

namespace {
const at::Tensor& get(const StateDict& sd, const std::string& name) {
  for (const auto& [n, t] : sd)
    if (n == name) return t;
  FAIL("no tensor " << name);
  static at::Tensor none;
  return none;
}
}  // namespace

TEST_CASE("checkpoints become torch tensors equal to what torch saved", "[torch][checkpoint]") {
  const StateDict expected = load_state_dict(test::data_path("pickle/expected.safetensors"));
  for (const char* f : {"pickle/zip_p2.pt", "pickle/legacy.pt", "pickle/zip_deflated.pt", "pickle/wrapped_module_prefix.pt"}) {
    INFO(f);
    const StateDict sd = load_state_dict(test::data_path(f));
    REQUIRE(sd.size() == expected.size());
    for (size_t k = 0; k < sd.size(); ++k) {
      INFO(sd[k].first);
      CHECK(sd[k].first == expected[k].first);
      CHECK(sd[k].second.scalar_type() == expected[k].second.scalar_type());
      CHECK(sd[k].second.sizes() == expected[k].second.sizes());
      CHECK(at::equal(sd[k].second, expected[k].second));
    }
    // Views share one torch storage, with the file's strides and offsets.
    const at::Tensor& base = get(sd, "base");
    const at::Tensor& tr = get(sd, "transposed");
    CHECK(tr.strides() == at::IntArrayRef({1, 6}));
    CHECK(tr.storage().data() == base.storage().data());
    CHECK(get(sd, "row_slice").storage_offset() == 6);
    CHECK(get(sd, "bf16").scalar_type() == at::kBFloat16);
  }
}

TEST_CASE("the tensors outlive the checkpoint object that produced them", "[torch][checkpoint]") {
  at::Tensor kept;
  {
    const StateDict sd = load_state_dict(test::data_path("pickle/zip_p2.pt"));
    kept = get(sd, "dense").clone();
    at::Tensor view = get(sd, "transposed");
    kept = view;  // keep only a view; the storage must stay alive through it
  }
  CHECK(kept.sizes() == at::IntArrayRef({6, 4}));
  CHECK(std::isfinite(kept.sum().item<float>()));
}

TEST_CASE("the CIFAR ResNet-20 legacy checkpoint loads into torch tensors", "[torch][checkpoint][shared]") {
  REQUIRE_SHARED("data/cifar10/models/resnet20-12fca82f.th");
  const StateDict sd = load_state_dict(test::shared_path("data/cifar10/models/resnet20-12fca82f.th"));
  CHECK(sd.size() == 97);
  CHECK(sd.front().first == "conv1.weight");
  CHECK(get(sd, "linear.weight").sizes() == at::IntArrayRef({10, 64}));
  CHECK(get(sd, "bn1.running_var").min().item<float>() > 0.0f);  // variances are positive
}
