// LogART (quant/logart): the DBS grid and tensor-wise search against the reference's own
// layer_search (fixtures/quantizers/logart_ref.safetensors), the learned rounding against golden's
// codes, BN folding and staged forwards against the plain model, the quantized checkpoint, and
// the errors for inputs the reference crashes or asserts on.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <fmt/format.h>
#include <torch/utils.h>

#include "io/dataset.h"
#include "io/error.h"
#include "io/safetensors.h"
#include "quant/eval/runner.h"
#include "quant/logart/logart.h"
#include "quant/models/models.h"
#include "test_util.h"

using namespace logq;
using namespace logq::logart;

namespace {

const char* kRef = "fixtures/quantizers/logart_ref.safetensors";

at::Tensor load_f32(const SafetensorsFile& f, const std::string& name) {
  const auto& info = f.at(name);
  std::vector<float> v = f.read<float>(name, DType::F32);
  return at::from_blob(v.data(), info.shape, at::kFloat).clone();
}

bool same_float(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }  // +0 == -0

WeightQuant make_quant(const std::string& name, const at::Tensor& w, int bits, bool sym, bool hw) {
  WeightQuant q;
  q.name = name;
  q.n_bits = bits;
  q.sym = sym;
  q.k_odd = hw ? 1.5 : 0.0;
  q.init(w);
  return q;
}

std::shared_ptr<Net> tiny_resnet() {
  torch::manual_seed(3);
  auto net = create_model_from_config(nlohmann::json::parse(
      R"({"family": "resnet", "block": "basic", "layers": [1, 1], "widths": [8, 16], "stem": "cifar", "shortcut": "option_a", "in_chans": 3, "num_classes": 10})"));
  // Non-trivial BN statistics, so that folding has something to get wrong.
  {
    c10::NoGradGuard g;
    for (auto& item : net->named_modules("", false))
      if (auto* bn = item.value()->as<nn::BatchNorm2dImpl>()) {
        bn->weight.uniform_(0.5, 1.5);
        bn->bias.uniform_(-0.2, 0.2);
        bn->running_mean.uniform_(-0.3, 0.3);
        bn->running_var.uniform_(0.5, 2.0);
      }
  }
  net->eval();
  return net;
}

}  // namespace

TEST_CASE("LogART DBS grid equals the reference's torch.arange values bit for bit", "[logart][shared]") {
  REQUIRE_SHARED(kRef);
  const auto f = SafetensorsFile::open(test::shared_path(kRef));
  const auto ref = f.read<float>("logart.search_grid", DType::F32);
  REQUIRE(ref.size() == scale_grid().size());
  int differs_from_naive = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    CHECK(std::memcmp(&ref[i], &scale_grid()[i], 4) == 0);
    differs_from_naive += ref[i] != float(1.0 - 0.01 * double(i));
  }
  CHECK(differs_from_naive == 22);  // fixtures/README "Surprises" 1
}

TEST_CASE("LogART tensor-wise DBS picks the reference's s and c2 per row, with its errors and weights", "[logart][shared]") {
  REQUIRE_SHARED(kRef);
  const auto f = SafetensorsFile::open(test::shared_path(kRef));
  int cases = 0;
  for (int n : {3, 4})
    for (const char* wname : {"conv", "lin", "special"})
      for (bool sym : {false, true})
        for (int hw : {0, 1}) {
          const std::string p = fmt::format("logart.n{}.{}{}.hw{}.tw", n, wname, sym ? ".sym" : "", hw);
          if (!f.find(p + ".deq")) continue;
          ++cases;
          INFO(p);
          const at::Tensor w = load_f32(f, std::string("logart.w.") + wname);
          WeightQuant q = make_quant(p, w, n, sym, hw != 0);
          std::vector<float> table;
          dbs_tensor_wise(q, w, &table);
          const auto s_idx = f.read<int32_t>(p + ".s_idx", DType::I32);
          const auto c2 = f.read<int32_t>(p + ".c2", DType::I32);
          const auto scale = f.read<float>(p + ".scale", DType::F32);
          const auto err_table = f.read<float>(p + ".err_table", DType::F32);
          REQUIRE(table.size() == err_table.size());
          for (int64_t r = 0; r < q.rows; ++r) {
            CHECK(q.s_idx[size_t(r)] == s_idx[size_t(r)]);
            CHECK(q.c2[size_t(r)] == c2[size_t(r)]);
            CHECK(same_float(q.scale[size_t(r)], scale[size_t(r)]));
          }
          double worst = 0;
          for (size_t i = 0; i < table.size(); ++i)
            worst = std::max(worst, std::fabs(double(table[i]) - double(err_table[i])) / std::max(1e-30, std::fabs(double(err_table[i]))));
          CHECK(worst < 1e-5);  // the same errors, summed in another order
          const at::Tensor deq = q.quantize(w).contiguous();
          const auto ref = f.read<float>(p + ".deq", DType::F32);
          const float* d = deq.data_ptr<float>();
          int64_t bad = 0;
          for (size_t i = 0; i < ref.size(); ++i) bad += !same_float(d[i], ref[i]);
          CHECK(bad == 0);
        }
  CHECK(cases == 16);  // n ∈ {3,4} × {conv, lin, lin.sym, special} × hw ∈ {0,1}
}

TEST_CASE("LogART learned rounding: hard decisions are golden's codes, the soft forward reaches them at h in {0,1}", "[logart][shared]") {
  REQUIRE_SHARED(kRef);
  const auto f = SafetensorsFile::open(test::shared_path(kRef));
  for (int hw : {0, 1}) {
    INFO("hw " << hw);
    const at::Tensor w = load_f32(f, "logart.w.conv");
    WeightQuant q = make_quant("conv", w, 4, false, hw != 0);
    dbs_tensor_wise(q, w);
    const at::Tensor nearest = q.quantize(w).contiguous();
    LlrWeight llr(q, w);
    // At initialisation α ≥ 0 ⇔ the fractional part ≥ 0.5: round half up, i.e. nearest except at exact ties.
    q.round_up = llr.hard_round_up();
    const at::Tensor init = q.quantize(w).contiguous();
    CHECK(at::equal(init, nearest));
    // Push every α to one side: the soft forward must equal golden's decode of the hard codes.
    {
      c10::NoGradGuard g;
      at::Tensor flip = at::rand_like(llr.alpha) < 0.5;
      llr.alpha.copy_(at::where(flip, at::full_like(llr.alpha, 100.0), at::full_like(llr.alpha, -100.0)));
    }
    q.round_up = llr.hard_round_up();
    const at::Tensor hard = q.quantize(w).contiguous();
    const at::Tensor soft = llr.soft().detach().contiguous();
    CHECK(at::equal(hard == 0, soft == 0));
    CHECK((soft - hard).abs().max().item<float>() <= 2e-7f * hard.abs().max().item<float>());
    CHECK(!at::equal(hard, nearest));  // the flips changed something
    // The regulariser is 0 at h ∈ {0, 1}, and gradients reach α through the soft weights.
    CHECK(llr.round_loss(2.0).item<double>() == Approx(0.0).margin(1e-6));
  }
  at::Tensor w = at::randn({4, 9});
  WeightQuant q = make_quant("g", w, 3, false, false);
  dbs_tensor_wise(q, w);
  LlrWeight llr(q, w);
  (llr.soft() * at::randn({4, 9})).sum().backward();
  CHECK(llr.alpha.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("LogART DBS with data in threads: the same bases as one loop, ties to the earlier candidate", "[logart]") {
  torch::manual_seed(11);
  const at::Tensor w = at::randn({6, 3, 3, 3});
  const at::Tensor x = at::randn({4, 3, 8, 8});
  const at::Tensor y = at::conv2d(x, w, {}, 1, 1);
  auto conv = [&](const at::Tensor& wh) { return at::conv2d(x, wh, {}, 1, 1); };
  WeightQuant one = make_quant("conv", w, 4, false, false);
  dbs_with_data(one, w, conv, y, false, 1);
  for (int jobs : {2, 3, 7}) {
    INFO("jobs " << jobs);
    WeightQuant many = make_quant("conv", w, 4, false, false);
    dbs_with_data(many, w, conv, y, false, jobs);
    CHECK(many.s_idx == one.s_idx);
    CHECK(many.c2 == one.c2);
    CHECK(many.scale == one.scale);
  }
  std::set<int32_t> picked(one.s_idx.begin(), one.s_idx.end());
  CHECK(!(picked.size() == 1 && *picked.begin() == 0));  // the data moved the choice off the first scale
  // Every candidate ties (an output that ignores the weight): the first one wins, as in one loop.
  WeightQuant tie = make_quant("conv", w, 4, false, false);
  dbs_with_data(tie, w, [&](const at::Tensor&) { return y + 1; }, y, false, 3);
  for (int64_t r = 0; r < tie.rows; ++r) CHECK(tie.s_idx[size_t(r)] == 0);
  WeightQuant tie1 = make_quant("conv", w, 4, false, false);
  dbs_with_data(tie1, w, [&](const at::Tensor&) { return y + 1; }, y, false, 1);
  CHECK(tie.c2 == tie1.c2);  // the first c2 candidate in both
  // An error in a worker reaches the caller.
  WeightQuant bad = make_quant("conv", w, 4, false, false);
  CHECK_THROWS_WITH(dbs_with_data(bad, w, [&](const at::Tensor&) -> at::Tensor { throw Error("boom"); }, y, false, 2), "boom");
}

TEST_CASE("LogART quantizer rejects all-zero rows, per-tensor weights and unknown methods", "[logart]") {
  at::Tensor w = at::randn({3, 5});
  w[1].zero_();
  CHECK_THROWS_WITH(make_quant("blocks.0.fc1", w, 4, false, false), Catch::Contains("'blocks.0.fc1' row 1 is all zero"));
  CHECK_THROWS_WITH(make_quant("v", at::randn({7}), 4, false, false), Catch::Contains("per-tensor quantization is not supported"));
  CHECK_THROWS_WITH(parse_scale_method("linear_mse"), Catch::Contains("linear_mse"));
  CHECK_THROWS_WITH(parse_search_method("bw"), Catch::Contains("tensor_wise | layer_wise | block_wise"));
  CHECK(c2_candidates(4, ScaleMethod::LogDynamic) == std::vector<int>{8, 6, 4, 2, 0});
  CHECK(c2_candidates(3, ScaleMethod::LogDynamic) == std::vector<int>{4, 2, 0});
}

TEST_CASE("BN folding keeps the network's function, stages compose to forward bitwise", "[logart][models]") {
  auto net = tiny_resnet();
  const at::Tensor x = at::randn({4, 3, 16, 16});
  c10::NoGradGuard g;
  const at::Tensor before = net->forward(x);
  at::Tensor y = x;
  for (const auto& s : net->stages()) y = s.run(y);
  CHECK(at::equal(y, before));
  fold_batchnorms(*net);
  const at::Tensor after = net->forward(x);
  CHECK((after - before).abs().max().item<double>() < 1e-5 * before.abs().max().item<double>());
  fold_batchnorms(*net);  // idempotent: folded BNs are skipped
  CHECK(at::equal(net->forward(x), after));
  for (const char* preset : {"fmnist_mobilenetv2", "fmnist_vit", "fmnist_resnet", "fmnist_swin"}) {
    INFO(preset);
    torch::manual_seed(1);
    auto m = create_model(preset);
    m->eval();
    const at::Tensor xi = at::randn({2, m->data.in_chans, m->data.img_size, m->data.img_size});
    at::Tensor z = xi;
    for (const auto& s : m->stages()) z = s.run(z);
    CHECK(at::equal(z, m->forward(xi)));
  }
}

TEST_CASE("LogART end to end on a small CNN: search, LLR, save, load, activation quantizers", "[logart]") {
  auto fp = tiny_resnet();
  auto q = tiny_resnet();
  const at::Tensor images = at::randn({64, 3, 16, 16});
  Options o;
  o.iters = 40;
  o.progress = false;
  std::vector<std::string> lines;
  QuantizedModel qm = quantize(*fp, q, images.slice(0, 0, 32), images, o, [&](const std::string& s) { lines.push_back(s); });
  REQUIRE(qm.layers.size() == quantizable_layers(*fp).size());
  for (const auto& [n, w] : qm.layers) CHECK(w.round_up.size() == size_t(w.rows * w.cols));
  c10::NoGradGuard g;
  const at::Tensor y_fp = fp->forward(images);
  apply(qm, 0.0, 0);
  const at::Tensor y_q = q->forward(images);
  // W4 log weights: close to FP but not equal.
  const double rel = (y_q - y_fp).norm().item<double>() / y_fp.norm().item<double>();
  CHECK(rel > 0.0);
  CHECK(rel < 0.5);
  // Every quantized weight is a golden value: ±s·√2^E or 0.
  for (auto& item : q->named_modules("", false))
    if (auto* c = item.value()->as<nn::Conv2dImpl>()) {
      const at::Tensor wq = c->weight_hook(c->weight);
      CHECK(!at::equal(wq, c->weight));
    }
  // Save and load: the same quantized network.
  const std::string path = test::temp_path("logart_q.safetensors");
  save_quantized(qm, path, {{"note", "test"}});
  auto q2 = tiny_resnet();
  fold_batchnorms(*q2);
  QuantizedModel back;
  back.net = q2;
  load_quantized(back, path, o);
  apply(back, 0.0, 0);
  CHECK(at::equal(q2->forward(images), y_q));
  // Activations: U(8) min/max quantizers, elementwise the golden uniform encode/decode.
  calibrate_activations(qm, images, 8);
  apply(qm, 0.0, 8);
  REQUIRE(!qm.acts.empty());
  const auto& a = qm.acts.front();
  const at::Tensor xin = at::randn({1000}) * 3;
  auto* first = q->named_modules("", false)[a.name]->as<nn::Conv2dImpl>();
  REQUIRE(first);
  const at::Tensor xq = first->input_hook(xin).contiguous();
  for (int64_t i = 0; i < 1000; ++i) {
    const float v = xin[i].item<float>();
    CHECK(same_float(xq[i].item<float>(), uniform_decode_ref(uniform_encode(v, a.scale, a.zero, 8), a.scale, a.zero)));
  }
  const at::Tensor y_qa = q->forward(images);
  CHECK(!at::equal(y_qa, y_q));
  // A corrupt file is an error naming it.
  std::vector<uint8_t> bytes = test::read_bytes(path);
  bytes.resize(bytes.size() / 2);
  write_file_atomic(path, bytes);
  auto q3 = tiny_resnet();
  fold_batchnorms(*q3);
  QuantizedModel bad;
  bad.net = q3;
  CHECK_THROWS_WITH(load_quantized(bad, path, o), Catch::Contains(path));
  std::remove(path.c_str());
  // Objective/model mismatches are errors, not crashes.
  Options bw = o;
  bw.search_method = SearchMethod::BlockWise;
  CHECK_THROWS_WITH(quantize(*tiny_resnet(), tiny_resnet(), images, images, bw, [](const std::string&) {}),
                    Catch::Contains("block_wise search is not supported for CNNs"));
  Options l2 = o;
  l2.scale_method = ScaleMethod::Log2;  // the reference's DBS raises for log_2: s = 1, no search
  CHECK_THROWS_WITH(quantize(*tiny_resnet(), tiny_resnet(), images, images, l2, [](const std::string&) {}),
                    Catch::Contains("log_2 has no base search"));
  Options dn = o;
  dn.search_method = SearchMethod::None;
  CHECK_THROWS_WITH(quantize(*tiny_resnet(), tiny_resnet(), images, images, dn, [](const std::string&) {}),
                    Catch::Contains("log_dynamic is defined by its Dynamic Base Search"));
  l2.search_method = SearchMethod::None;
  l2.llr = false;
  QuantizedModel base2 = quantize(*tiny_resnet(), tiny_resnet(), images, images, l2, [](const std::string&) {});
  for (const auto& [n, w] : base2.layers)
    for (int64_t r = 0; r < w.rows; ++r) {
      CHECK(w.scale[size_t(r)] == 1.0f);
      CHECK(w.c2[size_t(r)] == 8);
    }
}

TEST_CASE("LogART finer sqrt2 approximations scale only odd sqrt2 levels", "[logart]") {
  const LogArtRow row = logart_row(0.30f, 0.2f, 4, 4, false);  // spec §1.4 row (A = 2)
  const LogWeight odd = logart_encode(-0.2f, 1.0f, row);       // E = -5, √2 region
  const LogWeight even = logart_encode(0.05f, 1.0f, row);      // E = -8, base 2
  REQUIRE(odd.E == -5);
  REQUIRE(!odd.base2);
  for (double k : {1.5, 1.4375, 1.421875}) {
    INFO(k);
    CHECK(logart_decode_ref_k(odd, 1.0f, k) == Approx(-k * std::ldexp(1.0, -3)).epsilon(1e-6));
    CHECK(logart_decode_ref_k(even, 1.0f, k) == logart_decode_ref_k(even, 1.0f, 0.0));
  }
  CHECK(logart_decode_ref_k(odd, 1.0f, 1.5) == logart_decode_ref(odd, 1.0f, true));
  CHECK(logart_decode_ref_k(odd, 1.0f, 0.0) == logart_decode_ref(odd, 1.0f, false));
}

TEST_CASE("LogART block-wise DBS and Hessian-weighted LLR run on a ViT", "[logart][models]") {
  torch::manual_seed(5);
  auto cfg = nlohmann::json::parse(R"({"preset": "fmnist_vit", "depth": 1})");
  auto fp = create_model_from_config(cfg);
  torch::manual_seed(5);
  auto q = create_model_from_config(cfg);
  fp->eval();
  q->eval();
  const at::Tensor images = at::randn({16, fp->data.in_chans, fp->data.img_size, fp->data.img_size});
  Options o;
  o.search_method = SearchMethod::BlockWise;
  o.iters = 10;
  o.lr_min_ratio = 1.0;
  o.progress = false;
  std::vector<std::string> lines;
  QuantizedModel qm = quantize(*fp, q, images, images, o, [&](const std::string& s) { lines.push_back(s); });
  int bw = 0, llr = 0;
  for (const auto& l : lines) {
    bw += l.rfind("DBS bw", 0) == 0;
    llr += l.rfind("LLR", 0) == 0;
  }
  CHECK(bw == int(quantizable_layers(*fp).size()));
  CHECK(llr == 3);  // patch_embed, blocks.0, head
  // The hardware path quantizes every GEMM input, attention operands included.
  calibrate_activations(qm, images, 8);
  std::set<std::string> sites;
  for (const auto& a : qm.acts) sites.insert(a.name);
  CHECK(sites.count("blocks.0.attn.matmul1.a"));
  CHECK(sites.count("blocks.0.attn.matmul2.b"));
  CHECK(sites.count("blocks.0.mlp.fc2"));
  CHECK(sites.size() == quantizable_layers(*fp).size() + 4);
  Options lw = o;
  lw.search_method = SearchMethod::LayerWise;
  torch::manual_seed(5);
  auto fp2 = create_model_from_config(cfg);
  CHECK_THROWS_WITH(quantize(*fp2, create_model_from_config(cfg), images, images, lw, [](const std::string&) {}),
                    Catch::Contains("ViTs use block_wise"));
}

namespace {

// A CIFAR-10 .bin folder of n random 32x32 images (labels i % 10).
std::unique_ptr<Dataset> random_bin_folder(const std::string& name, int n) {
  const std::string dir = test::temp_path(name);
  std::filesystem::create_directories(dir);
  std::mt19937 rng(11);
  std::string csv;
  for (int i = 0; i < n; ++i) {
    std::string px(3072, '\0');
    for (auto& c : px) c = char(rng() & 0xff);
    const std::string file = fmt::format("im{}.bin", i);
    std::ofstream(dir + "/" + file, std::ios::binary) << px;
    csv += fmt::format("{},10,{}\n", file, i % 10);
  }
  std::ofstream(dir + "/y_labels.csv") << csv;
  return open_dataset(dir);
}

}  // namespace

TEST_CASE("search and calibration draws: a whole-folder list is the folder's draw, and --calib-augment none is the eval transform", "[logart][data]") {
  auto net = tiny_resnet();
  const auto ds = random_bin_folder("draws_bin", 12);
  ImageDraw seeded;
  seeded.n = 12;
  seeded.seed = 4;
  ImageDraw listed = seeded;
  listed.list = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};  // the folder's own order
  const auto order = draw_order(*ds, seeded);
  CHECK(order == draw_order(*ds, listed));
  CHECK(order != listed.list);  // shuffled into loader order
  CHECK(at::equal(sample_images(*net, *ds, seeded), sample_images(*net, *ds, listed)));
  // A list keeps its images (in the seed's loader order), whatever n says.
  listed.list = {7, 2, 9};
  listed.n = 999;
  const auto three = draw_order(*ds, listed);
  CHECK(std::set<int64_t>(three.begin(), three.end()) == std::set<int64_t>{2, 7, 9});
  // No augmentation: exactly the evaluation batch of those images.
  ImageDraw plain = seeded;
  plain.augment = false;
  const at::Tensor x = sample_images(*net, *ds, plain);
  CHECK(at::equal(x, make_batch(*ds, order, 0, order.size(), preprocess_for(*net), nullptr)));
  CHECK(!at::equal(x, sample_images(*net, *ds, seeded)));  // the train transform moved pixels
  std::filesystem::remove_all(test::temp_path("draws_bin"));
}

TEST_CASE("LogART DBS-only evaluation hook sees the --no-llr result and leaves LLR bit-identical", "[logart]") {
  const at::Tensor images = at::randn({48, 3, 16, 16});
  Options o;
  o.iters = 30;
  o.progress = false;
  const auto quiet = [](const std::string&) {};
  // The reference run: DBS + LLR, no hook.
  auto fp1 = tiny_resnet();
  QuantizedModel plain = quantize(*fp1, tiny_resnet(), images.slice(0, 0, 16), images, o, quiet);
  // DBS only.
  Options no_llr = o;
  no_llr.llr = false;
  auto fp2 = tiny_resnet();
  QuantizedModel dbs = quantize(*fp2, tiny_resnet(), images.slice(0, 0, 16), images, no_llr, quiet);
  // DBS + LLR with the hook.
  LayerParams seen;
  auto fp3 = tiny_resnet();
  QuantizedModel hooked = quantize(*fp3, tiny_resnet(), images.slice(0, 0, 16), images, o, quiet, nullptr,
                                   [&](const LayerParams& p) { seen = p; });
  REQUIRE(seen.size() == dbs.layers.size());
  REQUIRE(hooked.layers.size() == plain.layers.size());
  for (size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].first == dbs.layers[i].first);
    CHECK(seen[i].second.s_idx == dbs.layers[i].second.s_idx);
    CHECK(seen[i].second.c2 == dbs.layers[i].second.c2);
    CHECK(seen[i].second.round_up.empty());
    CHECK(hooked.layers[i].second.s_idx == plain.layers[i].second.s_idx);
    CHECK(hooked.layers[i].second.round_up == plain.layers[i].second.round_up);
  }
}
