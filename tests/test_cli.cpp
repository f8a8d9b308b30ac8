// Runs the logq binary as a user would.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "golden/hw.h"
#include "io/file_io.h"
#include "io/safetensors.h"
#include "test_util.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using json = nlohmann::json;

namespace {

struct Run {
  int code;
  std::string out;
};

Run run_logq(const std::string& args, bool merge_stderr = true) {
  const std::string cmd = std::string(LOGQ_BINARY) + " " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string q(const std::string& path) { return "'" + path + "'"; }

// golden against the fake-quant model it was exported from: every layer's codes agree given the
// same inputs, and then the logits agree to float rounding. A float sum that lands on an AdaLog
// boundary can flip one code (seen once in 25,600 at fc2 with OpenBLAS's AVX-512 kernels, never
// with its SSE3 ones), after which the downstream layers drift apart; that case must stay a lone
// flip, and the logits are then not compared.
void check_golden_agrees(const json& agreement) {
  const double worst = agreement.at("worst_code_agreement_pct").get<double>();
  CHECK(worst >= 99.99);
  CHECK(agreement.at("top1_same") == agreement.at("images"));
  if (worst == 100.0) CHECK(agreement.at("logit_max_err").get<double>() < 1e-3);
  else WARN("a code at a rounding boundary flipped (worst layer " << worst << " %): logits not compared");
}

}  // namespace

TEST_CASE("logq --help, --version and inspect --help explain themselves", "[cli]") {
  const Run help = run_logq("--help");
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Contains("inspect") && Contains("AdaLog"));
  const Run ver = run_logq("--version");
  CHECK(ver.code == 0);
  CHECK_THAT(ver.out, Contains("logq 0."));
  const Run ih = run_logq("inspect --help");
  CHECK(ih.code == 0);
  CHECK_THAT(ih.out, Contains("--json") && Contains("--no-stats") && Contains("Never runs code"));
  CHECK(run_logq("").code != 0);  // a subcommand is required
}

TEST_CASE("logq inspect --json reports names, dtypes, shapes and exact stats", "[cli]") {
  const Run r = run_logq("inspect --json " + q(logq::test::data_path("pickle/wrapped_module_prefix_legacy.pt")), false);
  REQUIRE(r.code == 0);
  const json j = json::parse(r.out);
  CHECK(j["format"] == "torch-legacy");
  CHECK(j["state_dict"] == "state_dict");
  CHECK(j["module_prefix_stripped"] == true);
  CHECK(j["tensors"].size() == 18);
  CHECK(j["extras"]["epoch"] == "3");
  for (const auto& t : j["tensors"]) {
    if (t["name"] == "i8") {
      CHECK(t["dtype"] == "I8");
      CHECK(t["min"] == -128.0);
      CHECK(t["max"] == 127.0);
      CHECK(t["mean"] == -0.5);
      CHECK(t["bytes"] == 4);
    }
    if (t["name"] == "transposed") CHECK(t["shape"] == json::array({6, 4}));
  }
}

TEST_CASE("logq inspect reads safetensors and filters by name", "[cli]") {
  const Run r = run_logq("inspect --filter i6 " + q(logq::test::data_path("pickle/expected.safetensors")));
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("format: safetensors") && Contains("i64") && Contains("tensors: 1 "));
  CHECK_THAT(r.out, Contains("producer = scripts/fixtures/gen_pickle_cases.py"));
}

TEST_CASE("logq inspect fails with a clear message and non-zero exit on bad input", "[cli][bad-input]") {
  const Run evil = run_logq("inspect " + q(logq::test::data_path("pickle/evil_os_system.pt")));
  CHECK(evil.code == 1);
  CHECK_THAT(evil.out, Contains("logq: error:") && Contains("evil_os_system.pt") && Contains("'posix.system' is not allowed"));
  CHECK_THAT(evil.out, !Contains("pwned"));
  const Run missing = run_logq("inspect /no/such/file.pt");
  CHECK(missing.code != 0);
  CHECK_THAT(missing.out, Contains("/no/such/file.pt"));
  const std::string junk = logq::test::temp_path("junk.bin");
  std::ofstream(junk) << "definitely not a tensor file";
  const Run bad = run_logq("inspect " + q(junk));
  CHECK(bad.code == 1);
  CHECK_THAT(bad.out, Contains("junk.bin: invalid safetensors"));
  std::remove(junk.c_str());
}

TEST_CASE("logq inspect reads every shared checkpoint and DeiT-Tiny matches its manifest", "[cli][shared]") {
  REQUIRE_SHARED("fixtures/manifests/timm__deit_tiny_patch16_224.json");
  for (const char* f : {"fixtures/models/deit_tiny_patch16_224/deit_tiny_patch16_224.bin", "fixtures/models/vit_tiny_custom/vit_tiny_custom.bin",
                        "fixtures/models/swin_tiny_custom_56/swin_tiny_custom_56.bin", "fixtures/models/swin_tiny_custom_112/swin_tiny_custom_112.bin",
                        "fixtures/models/tv_resnet_l1111/resnet_l1111.pth", "fixtures/models/brecq_mobilenetv2_w0.25/mobilenetv2_w0.25.pth.tar",
                        "data/cifar10/models/resnet20-12fca82f.th", "data/cifar10/models/resnet56-4bfd9763.th",
                        "fixtures/quantizers/adalog_ref.safetensors", "fixtures/models/vit_tiny_custom/vit_tiny_custom.safetensors"}) {
    INFO(f);
    const Run r = run_logq("inspect --json " + q(logq::test::shared_path(f)), false);
    CHECK(r.code == 0);
    CHECK_NOTHROW(json::parse(r.out));
  }
  const Run r = run_logq("inspect --json --no-stats " + q(logq::test::shared_path("fixtures/models/deit_tiny_patch16_224/deit_tiny_patch16_224.bin")), false);
  const json got = json::parse(r.out)["tensors"];
  std::ifstream mf(logq::test::shared_path("fixtures/manifests/timm__deit_tiny_patch16_224.json"));
  const json man = json::parse(mf)["state_dict"];
  REQUIRE(got.size() == man.size());
  for (size_t k = 0; k < got.size(); ++k) {
    CHECK(got[k]["name"] == man[k]["key"]);
    CHECK(got[k]["shape"] == man[k]["shape"]);
    CHECK(got[k]["dtype"] == "F32");
    CHECK_FALSE(got[k].contains("min"));
  }
}

TEST_CASE("logq area synthesizes PEs with Yosys + OSU 0.18 um and times them with OpenSTA", "[cli][area]") {
  const std::string csv = logq::test::temp_path("area.csv");
  const Run r = run_logq("area --no-cache --units pe_int8,pe_lu,acc32 --arrays '' --csv " + q(csv));
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("pe_lu") && Contains("vs INT8") && Contains("datapath"));
  std::ifstream f(csv);
  std::string line;
  std::getline(f, line);
  CHECK(line == "unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz");
  std::map<std::string, std::vector<std::string>> rows;
  while (std::getline(f, line)) {
    std::vector<std::string> cols(1);
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) cols.emplace_back();
      else cols.back() += c;
    }
    rows[cols[0]] = cols;
  }
  REQUIRE(rows.size() == 3);
  const double int8 = std::stod(rows["pe_int8"][3]), lu = std::stod(rows["pe_lu"][3]), acc = std::stod(rows["acc32"][3]);
  CHECK(lu < int8);               // the shift-add PE is smaller than the INT8 MAC
  CHECK((lu - acc) / (int8 - acc) < 0.6);  // and its datapath much smaller
  for (const char* u : {"pe_int8", "pe_lu"}) {
    CHECK(std::stod(rows[u][5]) > 1.0);    // a real critical path (ns) ...
    CHECK(std::stod(rows[u][6]) > 50.0);   // ... and fmax (MHz) in a 0.18 um range
  }
  std::remove(csv.c_str());
}

TEST_CASE("logq models lists the presets, eval and train explain their options", "[cli][models]") {
  const Run m = run_logq("models");
  CHECK(m.code == 0);
  CHECK_THAT(m.out, Contains("deit_tiny_patch16_224") && Contains("swin_small_patch4_window7_224") &&
                        Contains("brecq_mobilenetv2") && Contains("resnet56_cifar") && Contains("fmnist_vit"));
  const Run mj = run_logq("models --json", false);
  REQUIRE(mj.code == 0);
  const json j = json::parse(mj.out);
  CHECK(j.size() >= 21);
  CHECK(j[0].at("config").at("family") == "vit");
  const Run eh = run_logq("eval --help");
  CHECK_THAT(eh.out, Contains("--model-config") && Contains("--checkpoint") && Contains("--limit") && Contains("--json"));
  const Run th = run_logq("train --help");
  CHECK_THAT(th.out, Contains("--epochs") && Contains("--seed") && Contains("cosine"));
}

TEST_CASE("logq eval and train: bad input is a clear error with non-zero exit", "[cli][models][bad-input]") {
  const Run no_model = run_logq("eval --data /nonexistent");
  CHECK(no_model.code != 0);
  CHECK_THAT(no_model.out, Contains("give --model, --model-config or a logq checkpoint"));
  const Run bad_data = run_logq("eval --model fmnist_resnet --data /nonexistent/fmnist");
  CHECK(bad_data.code != 0);
  CHECK_THAT(bad_data.out, Contains("/nonexistent/fmnist: dataset folder does not exist"));
  const Run wrong_ckpt = run_logq("eval --model fmnist_vit --checkpoint " + q(logq::test::data_path("pickle/zip_p2.pt")) + " --data /nonexistent");
  CHECK(wrong_ckpt.code != 0);
  CHECK_THAT(wrong_ckpt.out, Contains("zip_p2.pt: missing key 'cls_token'"));
  const Run unknown = run_logq("eval --model vit_huge --data /nonexistent");
  CHECK(unknown.code != 0);
  CHECK_THAT(unknown.out, Contains("unknown model 'vit_huge'; presets:"));
  const std::string cfg = logq::test::temp_path("bad_model.json");
  std::ofstream(cfg) << R"({"preset": "fmnist_vit", "depht": 2})";
  const Run bad_cfg = run_logq("eval --model-config " + q(cfg) + " --data /nonexistent");
  CHECK(bad_cfg.code != 0);
  CHECK_THAT(bad_cfg.out, Contains("unknown key 'depht' for family 'vit'"));
  std::ofstream(cfg) << "{ not json";
  CHECK(run_logq("eval --model-config " + q(cfg) + " --data /nonexistent").code != 0);
  std::remove(cfg.c_str());
}

TEST_CASE("logq train writes a checkpoint that logq eval reads with its own config", "[cli][models]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::temp_path("tiny_resnet.safetensors"), log = logq::test::temp_path("tiny_resnet.csv");
  const std::string cfg = logq::test::temp_path("tiny_resnet.json");
  std::ofstream(cfg) << R"({"preset": "fmnist_resnet", "layers": [1, 1, 1], "widths": [8, 16, 32]})";
  const Run tr = run_logq("train --model-config " + q(cfg) + " --epochs 3 --limit 2048 --optimizer adamw --lr 0.003 --weight-decay 0 --seed 1 --out " + q(ckpt) +
                          " --log " + q(log));
  INFO(tr.out);
  REQUIRE(tr.code == 0);
  CHECK_THAT(tr.out, Contains("epoch   3"));
  const auto csv = logq::test::read_bytes(log);
  CHECK_THAT(std::string(csv.begin(), csv.end()), StartsWith("epoch,train_loss,test_top1,test_top5,seconds\n1,"));
  const std::string js = logq::test::temp_path("tiny_eval.json");
  const Run ev = run_logq("eval --checkpoint " + q(ckpt) + " --data " + fmnist + " --limit 1000 --no-progress --json " + q(js));
  INFO(ev.out);
  REQUIRE(ev.code == 0);
  std::ifstream jf(js);
  const json r = json::parse(jf);
  CHECK(r.at("images") == 1000);
  CHECK(r.at("top1").get<double>() > 35.0);  // 3 epochs of 2,048 images (measured 54 %): far above chance
  CHECK(r.at("model") == "fmnist_resnet");
  for (const auto& p : {ckpt, log, cfg, js}) std::remove(p.c_str());
}

TEST_CASE("logq quantize --method logart: embedded ResNet, results CSV/JSON, save and reload", "[cli][logart]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::source_dir() + "/models/fmnist_resnet.safetensors";
  const std::string csv = logq::test::temp_path("logart.csv"), js = logq::test::temp_path("logart.json"),
                    saved = logq::test::temp_path("logart_q.safetensors");
  const std::string common = "quantize --method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist +
                             " --test-data " + fmnist + " --test-limit 500 --no-progress --w-bit 4 --act-bits 8";
  const Run r = run_logq(common + " --iters-w 30 --calib-samples 64 --results " + q(csv) + " --json " + q(js) + " --save " + q(saved));
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("DBS lw layer1.0.conv1") && Contains("LLR layer3.1") && Contains("U(8) activations"));
  std::ifstream jf(js);
  const json j = json::parse(jf);
  const json& res = j.at("results").at(0);
  CHECK(res.at("images") == 500);
  const double fp = res.at("fp_top1"), wq = res.at("q_top1"), aq = res.at("q_top1_act");
  CHECK(fp > 90.0);
  CHECK(wq > fp - 5.0);  // W4 DLog: a few points at most on 500 images
  CHECK(wq < 100.0);
  CHECK(aq > fp - 6.0);
  const auto text = logq::test::read_bytes(csv);
  const std::string s(text.begin(), text.end());
  CHECK_THAT(s, StartsWith("model,method,w_bits,act_bits,scale_method,search_method,llr,hardware_approx,options,"));
  CHECK_THAT(s, Contains("\nfmnist_resnet,logart,4,8,log_dynamic,layer_wise,1,0,"));
  // Reloading the saved parameters evaluates the same network.
  const std::string js2 = logq::test::temp_path("logart2.json");
  const Run back = run_logq(common + " --load-quantized " + q(saved) + " --json " + q(js2));
  INFO(back.out);
  REQUIRE(back.code == 0);
  std::ifstream jf2(js2);
  const json j2 = json::parse(jf2);
  CHECK(j2.at("results").at(0).at("q_top1") == wq);
  // The record names the BLAS kernels the floats came from (never Prescott on an AVX2 machine).
  CHECK(j2.at("blas_core").get<std::string>() != "");
  if (__builtin_cpu_supports("avx2") && !std::getenv("OPENBLAS_CORETYPE")) CHECK(j2.at("blas_core") != "Prescott");
  // Resumable: a DBS-only file, then LLR from it (the search is not repeated).
  const std::string searched = logq::test::temp_path("logart_dbs.safetensors"), resumed = logq::test::temp_path("logart_res.safetensors");
  const Run dbs = run_logq(common + " --no-llr --save " + q(searched));
  INFO(dbs.out);
  REQUIRE(dbs.code == 0);
  const Run rs = run_logq(common + " --iters-w 30 --calib-samples 64 --load-quantized " + q(searched) + " --save " + q(resumed));
  INFO(rs.out);
  REQUIRE(rs.code == 0);
  CHECK_THAT(rs.out, Contains("DBS parameters of 14 layers resumed") && Contains("LLR layer3.1"));
  CHECK_THAT(rs.out, !Contains("DBS lw"));
  // -j 2 (DBS candidates in two threads, one LibTorch thread each): the same chosen bases and
  // codes, byte for byte.
  const std::string threaded = logq::test::temp_path("logart_t2.safetensors");
  const Run t2 = run_logq(common + " --iters-w 30 --calib-samples 64 -j 2 --save " + q(threaded));
  INFO(t2.out);
  REQUIRE(t2.code == 0);
  const auto tensor_bytes = [](const std::string& path) {  // a safetensors file without its header (which holds the run's seconds)
    const auto b = logq::test::read_bytes(path);
    REQUIRE(b.size() >= 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | b[size_t(i)];
    REQUIRE(n <= b.size() - 8);
    return std::vector<uint8_t>(b.begin() + 8 + int64_t(n), b.end());
  };
  CHECK(tensor_bytes(threaded) == tensor_bytes(saved));
  for (const auto& p : {csv, js, js2, saved, searched, resumed, threaded}) std::remove(p.c_str());
}

TEST_CASE("logq quantize: bad input is a clear error with non-zero exit", "[cli][logart][bad-input]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  const std::string resnet = q(logq::test::source_dir() + "/models/fmnist_resnet.safetensors");
  const Run help = run_logq("quantize --help");
  CHECK_THAT(help.out, Contains("--scale-method") && Contains("--hardware-approx") && Contains("--iters-w") && Contains("--act-bits"));
  const Run method = run_logq(std::string("quantize --method gptq --checkpoint ") + resnet + " --calib-data " + fmnist);
  CHECK(method.code != 0);
  CHECK_THAT(method.out, Contains("--method 'gptq' is not logart | adalog"));
  const std::string cfg = logq::test::temp_path("bad_logart.json");
  std::ofstream(cfg) << R"({"w_bit": 4, "optim_sise": 2048})";
  const Run field = run_logq(std::string("quantize --method logart --config ") + q(cfg) + " --checkpoint " + resnet + " --calib-data " + fmnist);
  CHECK(field.code != 0);
  CHECK_THAT(field.out, Contains("unknown config field 'optim_sise'"));
  std::ofstream(cfg) << R"({"w_bit": 4, "a_bit": 4})";
  const Run abit = run_logq(std::string("quantize --method logart --config ") + q(cfg) + " --checkpoint " + resnet + " --calib-data " + fmnist);
  CHECK(abit.code != 0);
  CHECK_THAT(abit.out, Contains("a_bit = 4: LogART quantizes no activations"));
  std::remove(cfg.c_str());
  const Run scale = run_logq(std::string("quantize --method logart --scale-method linear_mse --checkpoint ") + resnet + " --calib-data " + fmnist);
  CHECK(scale.code != 0);
  CHECK_THAT(scale.out, Contains("scale method 'linear_mse'"));
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: the rest needs " << fmnist);
    return;
  }
  // LogART itself runs on every family since issue 19; the fully-log pairing needs a transformer.
  const Run fam = run_logq(std::string("quantize --method fulllog --checkpoint ") + resnet + " --calib-data " + fmnist + " --test-limit 10 --no-progress");
  CHECK(fam.code != 0);
  CHECK_THAT(fam.out, Contains("--method fulllog quantizes transformers (vit, swin); 'fmnist_resnet' is a resnet model"));
  const Run big = run_logq(std::string("quantize --method logart --checkpoint ") + resnet + " --calib-data " + fmnist +
                           " --test-limit 10 --search-samples 100000 --no-progress");
  CHECK(big.code != 0);
  CHECK_THAT(big.out, Contains("has 60000 images; 100000 were asked"));
  const Run bw = run_logq(std::string("quantize --method logart --checkpoint ") + resnet + " --calib-data " + fmnist +
                          " --test-limit 10 --search-method block_wise --no-progress");
  CHECK(bw.code != 0);
  CHECK_THAT(bw.out, Contains("block_wise search is not supported for CNNs"));
  const std::string junk = logq::test::temp_path("junk_q.safetensors");
  std::ofstream(junk) << "not a safetensors file";
  const Run load = run_logq(std::string("quantize --method logart --checkpoint ") + resnet + " --calib-data " + fmnist +
                            " --test-limit 10 --load-quantized " + q(junk) + " --no-progress");
  CHECK(load.code != 0);
  CHECK_THAT(load.out, Contains(junk));
  std::remove(junk.c_str());
}

TEST_CASE("logq quantize --method adalog: calibrate, save, reload and optimize the embedded ViT, bad input", "[cli][adalog]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  const std::string vit = q(logq::test::source_dir() + "/models/fmnist_vit.safetensors");
  const std::string resnet = q(logq::test::source_dir() + "/models/fmnist_resnet.safetensors");
  const std::string cfg = logq::test::temp_path("adalog_small.json");
  const Run help = run_logq("quantize --help");
  CHECK_THAT(help.out, Contains("--optimize") && Contains("--load-calibrated") && Contains("--a-bit"));
  std::ofstream(cfg) << R"({"w_bit": 4, "a_bit": 4, "s_bit": 4, "qhead_a_bit": 4, "eq_n": 32, "search_round": 1, "calib_size": 8})";
  std::ofstream(logq::test::temp_path("adalog_bad.json")) << R"({"w_bit": 4, "calib_sise": 8})";
  const Run field = run_logq("quantize --method adalog --checkpoint " + vit + " --config " + q(logq::test::temp_path("adalog_bad.json")) +
                             " --calib-data " + fmnist);
  CHECK(field.code != 0);
  CHECK_THAT(field.out, Contains("unknown config field 'calib_sise'"));
  const Run fam = run_logq("quantize --method adalog --checkpoint " + resnet + " --calib-data " + fmnist);
  CHECK(fam.code != 0);
  CHECK_THAT(fam.out, Contains("AdaLog supports vit (ViT/DeiT) and swin models; 'fmnist_resnet' is a resnet model"));
  const std::string junk = logq::test::temp_path("junk_cal.safetensors");
  std::ofstream(junk) << "junk";
  const Run bad_load = run_logq("quantize --method adalog --load-calibrated " + q(junk) + " --calib-data " + fmnist);
  CHECK(bad_load.code != 0);
  CHECK_THAT(bad_load.out, Contains(junk));
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: the rest needs " << fmnist);
    return;
  }
  const Run few = run_logq("quantize --method adalog --checkpoint " + vit + " --calib-data " + fmnist + " --calib-size 100000 --test-limit 10 --no-progress");
  CHECK(few.code != 0);
  CHECK_THAT(few.out, Contains("has 60000 images; 100000 were asked"));
  const std::string saved = logq::test::temp_path("adalog_cal.safetensors"), js = logq::test::temp_path("adalog.json");
  const Run cal = run_logq("quantize --method adalog --checkpoint " + vit + " --config " + q(cfg) + " --calib-data " + fmnist + " --test-data " +
                           fmnist + " --test-limit 300 --no-progress --save-calibrated " + q(saved) + " --json " + q(js));
  INFO(cal.out);
  REQUIRE(cal.code == 0);
  CHECK_THAT(cal.out, Contains("calib blocks.5.mlp.fc2") && Contains("post_gelu AdaLog s"));
  std::ifstream jf(js);
  const json j = json::parse(jf);
  const double fp = j.at("results").at(0).at("fp_top1"), qt = j.at("results").at(0).at("q_top1");
  CHECK(fp > 85.0);
  CHECK(qt > fp - 10.0);  // W4A4 with a reduced search on 8 images, 300 test images
  // Resume: the calibrated file, then a short --optimize (the reference's calibrate → optimize flow).
  const Run opt = run_logq("quantize --method adalog --load-calibrated " + q(saved) + " --calib-data " + fmnist + " --test-data " + fmnist +
                           " --test-limit 300 --no-progress --optimize --optim-iters 20 --optim-size 64");
  INFO(opt.out);
  REQUIRE(opt.code == 0);
  CHECK_THAT(opt.out, Contains("loaded 38 calibrated layers") && Contains("recon blocks.5") && Contains("recon head"));
  CHECK_THAT(opt.out, !Contains("calib blocks"));
  // A resume that contradicts the file stops before any evaluation and names the setting; the rest is the file's.
  const Run w3 = run_logq("quantize --method adalog --load-calibrated " + q(saved) + " --checkpoint " + vit + " --calib-data " + fmnist +
                          " --test-limit 50 --no-progress --w-bit 3");
  CHECK(w3.code == 1);
  CHECK_THAT(w3.out, Contains("was made with --w-bit 4; this run asks for --w-bit 3 (on the command line)"));
  CHECK_THAT(w3.out, !Contains("FP top-1"));
  const Run other_ckpt = run_logq("quantize --method adalog --load-calibrated " + q(saved) + " --checkpoint " + resnet + " --calib-data " +
                                  fmnist + " --test-limit 50 --no-progress");
  CHECK(other_ckpt.code == 1);
  CHECK_THAT(other_ckpt.out, Contains("was made from a checkpoint with sha256") && !Contains("FP top-1"));
  const std::string js2 = logq::test::temp_path("adalog_back.json");
  const Run back = run_logq("quantize --method adalog --load-calibrated " + q(saved) + " --calib-data " + fmnist + " --test-data " + fmnist +
                            " --test-limit 300 --no-progress --json " + q(js2));
  INFO(back.out);
  REQUIRE(back.code == 0);
  CHECK_THAT(back.out, Contains("from " + saved + ": ") && Contains("--calib-size 8"));
  std::ifstream jf2(js2);
  const json j2 = json::parse(jf2);
  CHECK(j2.at("results").at(0).at("q_top1") == j.at("results").at(0).at("q_top1"));
  CHECK(j2.at("calib_seconds") == j.at("calib_seconds"));  // the time of the run that calibrated, not of the load
  CHECK(j2.at("resumed_from").at("path") == saved);
  for (const auto& p : {cfg, saved, js, js2, junk, logq::test::temp_path("adalog_bad.json")}) std::remove(p.c_str());
}

namespace {

// Runs logq with stderr in its own file (a log, not a terminal).
Run run_logq_log(const std::string& args, const std::string& err_file) {
  return run_logq(args + " 2>" + q(err_file), false);
}

std::string text_of(const std::string& path) {
  const auto b = logq::test::read_bytes(path);
  return std::string(b.begin(), b.end());
}

json json_of(const std::string& path) {
  std::ifstream f(path);
  return json::parse(f);
}

}  // namespace

TEST_CASE("bringing one's own model: torch checkpoints without a config, presets with overrides, inline JSON, a missing data block", "[cli][models][bad-input]") {
  const std::string torch_ckpt = logq::test::data_path("pickle/legacy.pt");
  const Run bare = run_logq("eval --checkpoint " + q(torch_ckpt) + " --data /usr/share/datasets/fashion-mnist");
  CHECK(bare.code == 1);
  CHECK_THAT(bare.out, Contains(torch_ckpt + ": a torch checkpoint holds weights but no model config: give --model PRESET"));
  CHECK_THAT(bare.out, !Contains("safetensors"));
  const Run no_data = run_logq(R"(eval --model-config '{"family": "vit", "img_size": 28, "patch_size": 4, "in_chans": 1, "num_classes": 10, "embed_dim": 64, "depth": 6, "num_heads": 2}' --data /usr/share/datasets/fashion-mnist --limit 5)");
  CHECK(no_data.code == 1);
  CHECK_THAT(no_data.out, Contains("no \"data\" block, and the ImageNet default normalizes 3 channels but in_chans is 1") &&
                              Contains("\"mean\": [...], \"std\": [...]"));
  const Run clash = run_logq(R"(eval --model fmnist_resnet --model-config '{"family": "vit"}' --data /usr/share/datasets/fashion-mnist)");
  CHECK(clash.code == 1);
  CHECK_THAT(clash.out, Contains("\"family\": \"vit\" contradicts --model fmnist_resnet"));
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: the rest needs " << fmnist);
    return;
  }
  const std::string ckpt = q(logq::test::source_dir() + "/models/fmnist_resnet.safetensors");
  const auto top1 = [&](const std::string& model_args) {
    const std::string js = logq::test::temp_path("own_model.json");
    const Run r = run_logq("eval " + model_args + " --checkpoint " + ckpt + " --data " + fmnist + " --limit 200 --no-progress --json " + q(js));
    INFO(r.out);
    REQUIRE(r.code == 0);
    const double t = json_of(js).at("top1");
    std::remove(js.c_str());
    return t;
  };
  const double own = top1("");  // the checkpoint's own config
  CHECK(own > 85.0);
  CHECK(top1("--model fmnist_resnet") == own);
  CHECK(top1(R"(--model-config '{"preset": "fmnist_resnet"}')") == own);         // inline JSON
  CHECK(top1(R"(--model fmnist_resnet --model-config '{"num_classes": 10}')") == own);  // a preset with overrides
  // An override that changes the normalization changes the result: it was applied.
  CHECK(top1(R"(--model fmnist_resnet --model-config '{"data": {"mean": [0.0], "std": [1.0]}}')") != own);
}

TEST_CASE("logq quantize runs are reproducible: DBS-only accuracy, lists, resumption checks, provenance, --replay, logs without carriage returns", "[cli][logart][provenance]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::source_dir() + "/models/fmnist_resnet.safetensors";
  const std::string common = "quantize --method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist + " --test-limit 200 --search-samples 8";
  const std::string llr = " --iters-w 20 --calib-samples 32";
  const std::string j1 = logq::test::temp_path("prov1.json"), s1 = logq::test::temp_path("prov1.safetensors"),
                    err = logq::test::temp_path("prov1.err");
  const Run r1 = run_logq_log(common + llr + " --json " + q(j1) + " --save " + q(s1), err);
  INFO(r1.out << text_of(err));
  REQUIRE(r1.code == 0);
  CHECK(text_of(err).find('\r') == std::string::npos);  // stderr is a log here: no progress line rewriting
  CHECK(r1.out.find('\r') == std::string::npos);
  CHECK_THAT(r1.out, Contains("LogART W4 DBS only (before LLR) top-1"));
  const json rec = json_of(j1);
  // The record: checkpoint digest, data, every image used, the settings, the command line.
  CHECK(rec.at("checkpoint").at("sha256").get<std::string>().size() == 64);
  CHECK(rec.at("calib_data").at("name") == "fashion-mnist/train");
  CHECK(rec.at("images").at("search").at("ids").size() == 8);
  CHECK(rec.at("images").at("llr").at("count") == 32);
  CHECK(rec.at("argv").at(0) == "quantize");
  CHECK(rec.at("settings").at("search").at("w_bits") == 4);
  CHECK(rec.at("settings").at("llr").at("iters_w") == 20);
  const json res1 = rec.at("results").at(0);

  // The DBS-only number is what a --no-llr run reports.
  const std::string j_dbs = logq::test::temp_path("prov_dbs.json");
  const Run dbs = run_logq(common + " --no-llr --no-progress --no-fp-eval --json " + q(j_dbs));
  INFO(dbs.out);
  REQUIRE(dbs.code == 0);
  CHECK_THAT(dbs.out, !Contains("FP top-1"));
  const json rd = json_of(j_dbs).at("results").at(0);
  CHECK(rd.at("q_top1") == res1.at("dbs_top1"));
  CHECK(rd.at("fp_top1").is_null());

  // --replay repeats the recorded run and checks every number.
  const std::string j2 = logq::test::temp_path("prov2.json");
  const Run rp = run_logq("quantize --replay " + q(j1) + " --json " + q(j2));
  INFO(rp.out);
  REQUIRE(rp.code == 0);
  CHECK_THAT(rp.out, Contains("replay of " + j1 + ": the 5 recorded numbers and the image draws are reproduced exactly"));
  CHECK(json_of(j2).at("results") == rec.at("results"));
  CHECK(json_of(j2).at("argv") == rec.at("argv"));
  const Run rp_opt = run_logq("quantize --replay " + q(j1) + " --w-bit 3");
  CHECK(rp_opt.code == 1);
  CHECK_THAT(rp_opt.out, Contains("--replay takes only output options"));
  json doctored = rec;
  doctored["results"][0]["q_top1"] = 12.5;
  const std::string j3 = logq::test::temp_path("prov3.json");
  std::ofstream(j3) << doctored.dump();
  const Run rp_bad = run_logq("quantize --replay " + q(j3) + " --no-progress");
  CHECK(rp_bad.code == 1);
  CHECK_THAT(rp_bad.out, Contains("did not reproduce the record") && Contains("results[0].q_top1: recorded 12.5"));

  // A resume that contradicts the file fails before any evaluation, naming the setting.
  const Run approx = run_logq(common + " --load-quantized " + q(s1) + " --hardware-approx --no-progress");
  CHECK(approx.code == 1);
  CHECK_THAT(approx.out, Contains(s1 + " was made with --hardware-approx false; this run asks for --hardware-approx true"));
  CHECK_THAT(approx.out, !Contains("FP top-1"));
  const Run bits = run_logq(common + " --load-quantized " + q(s1) + " --w-bit 3 --no-progress");
  CHECK(bits.code == 1);
  CHECK_THAT(bits.out, Contains("was made with --w-bit 4; this run asks for --w-bit 3") && !Contains("FP top-1"));
  const Run seed = run_logq("quantize --method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist +
                            " --test-limit 200 --search-samples 8 --seed 3 --load-quantized " + q(s1) + " --no-progress");
  CHECK(seed.code == 1);
  CHECK_THAT(seed.out, Contains("was made with --seed 0; this run asks for --seed 3"));
  // Resumed as it was made: the file's settings, its search and LLR times.
  const std::string j4 = logq::test::temp_path("prov4.json");
  const Run back = run_logq("quantize --method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist + " --test-limit 200 --load-quantized " +
                            q(s1) + " --no-progress --no-fp-eval --json " + q(j4));
  INFO(back.out);
  REQUIRE(back.code == 0);
  CHECK_THAT(back.out, Contains("from " + s1 + ": ") && Contains("--search-samples 8") && Contains("--iters-w 20"));
  const json rb = json_of(j4);
  CHECK(rb.at("results").at(0).at("q_top1") == res1.at("q_top1"));
  CHECK(rb.at("search_seconds") == rec.at("search_seconds"));
  CHECK(rb.at("llr_seconds") == rec.at("llr_seconds"));

  // A list of the seeded draw's images (in the dataset's order) is the same run.
  std::vector<int64_t> idx = rec.at("images").at("search").at("indices").get<std::vector<int64_t>>();
  std::sort(idx.begin(), idx.end());
  const std::string list = logq::test::temp_path("prov_list.txt"), j5 = logq::test::temp_path("prov5.json");
  {
    std::ofstream l(list);
    l << "# the seeded draw of 8, by index\n";
    for (int64_t i : idx) l << i << "\n";
  }
  const Run listed = run_logq("quantize --method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist +
                              " --test-limit 200 --no-llr --no-progress --no-fp-eval --search-list " + q(list) + " --json " + q(j5));
  INFO(listed.out);
  REQUIRE(listed.code == 0);
  CHECK(json_of(j5).at("results").at(0).at("q_top1") == rd.at("q_top1"));
  CHECK(json_of(j5).at("images").at("search").at("ids") == rec.at("images").at("search").at("ids"));
  CHECK(json_of(j5).at("images").at("search").at("list") == list);
  const Run both = run_logq("quantize --method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist + " --no-llr --search-list " + q(list) +
                            " --search-samples 9");
  CHECK(both.code == 1);
  CHECK_THAT(both.out, Contains("--search-samples 9 but --search-list " + list + " lists 8 images"));

  // --calib-augment none: recorded, and other images than the train transform's.
  const std::string j6 = logq::test::temp_path("prov6.json");
  const Run plain = run_logq(common + " --no-llr --no-progress --no-fp-eval --calib-augment none --json " + q(j6));
  REQUIRE(plain.code == 0);
  CHECK(json_of(j6).at("images").at("search").at("augment") == "none");
  CHECK(json_of(j6).at("images").at("search").at("ids") == rec.at("images").at("search").at("ids"));
  CHECK(json_of(j6).at("images").at("search").at("digest") != rec.at("images").at("search").at("digest"));
  CHECK(run_logq(common + " --calib-augment crop").out.find("--calib-augment 'crop' is not train | none") != std::string::npos);

  // --image-draw numpy: the references' np.random.seed(5); permutation(N)[:n], in that order.
  const std::string j7 = logq::test::temp_path("prov7.json");
  const Run np = run_logq(common + " --fp-only --no-progress --image-draw numpy --seed 5 --json " + q(j7));
  REQUIRE(np.code == 0);
  CHECK(json_of(j7).at("images").at("search").at("indices") == json({22141, 38496, 30738, 15418, 13266, 8305, 42497, 6290}));
  CHECK(json_of(j7).at("images").at("search").at("draw") == "numpy");
  std::remove(j7.c_str());

  // --fp-only: the FP model only (the old meaning of --test-before-calibration).
  const Run fp_only = run_logq(common + " --fp-only --no-progress");
  REQUIRE(fp_only.code == 0);
  CHECK_THAT(fp_only.out, Contains("FP top-1") && !Contains("LogART W4 top-1") && !Contains("DBS"));
  const Run help = run_logq("quantize --help");
  CHECK_THAT(help.out, Contains("--no-progress") && Contains("--calib-augment") && Contains("--search-list") && Contains("--replay"));
  CHECK_THAT(help.out, !Contains("{false}"));
  for (const auto& p : {j1, s1, err, j_dbs, j2, j3, j4, list, j5, j6}) std::remove(p.c_str());
}

TEST_CASE("a list-driven calibration equals the same images as a symlink folder (real CIFAR-10 JPEGs, ResNet-20)", "[cli][logart][provenance][shared]") {
  if (!logq::test::have_shared("data/cifar10/train-jpeg-subset") || !logq::test::have_shared("data/cifar10/models/resnet20-12fca82f.th")) return;
  const std::string train = logq::test::shared_path("data/cifar10/train-jpeg-subset");
  const std::string folder = logq::test::temp_path("symlinked_calib"), list = logq::test::temp_path("symlinked_calib.txt");
  std::filesystem::remove_all(folder);
  {
    std::ofstream l(list);
    for (const char* cls : {"airplane", "cat", "ship"})
      for (const char* file : {"0003.jpg", "0010.jpg", "0042.jpg"}) {
        std::filesystem::create_directories(folder + "/" + cls);
        std::filesystem::create_symlink(std::filesystem::canonical(train + "/" + cls + "/" + file), folder + "/" + cls + "/" + file);
        l << cls << "/" << file << "\n";
      }
  }
  const std::string common = "quantize --method logart --model resnet20_cifar --checkpoint " +
                             q(logq::test::shared_path("data/cifar10/models/resnet20-12fca82f.th")) + " --test-data " +
                             q(logq::test::shared_path("data/cifar10/test-jpeg")) + " --test-limit 100 --iters-w 10 --no-fp-eval --no-progress";
  const std::string ja = logq::test::temp_path("sym_a.json"), jb = logq::test::temp_path("sym_b.json");
  const std::string sa = logq::test::temp_path("sym_a.safetensors"), sb = logq::test::temp_path("sym_b.safetensors");
  const Run a = run_logq(common + " --calib-data " + q(folder) + " --search-samples 9 --calib-samples 9 --json " + q(ja) + " --save " + q(sa));
  INFO(a.out);
  REQUIRE(a.code == 0);
  const Run b = run_logq(common + " --calib-data " + q(train) + " --search-list " + q(list) + " --calib-list " + q(list) + " --json " + q(jb) +
                         " --save " + q(sb));
  INFO(b.out);
  REQUIRE(b.code == 0);
  CHECK(json_of(ja).at("results") == json_of(jb).at("results"));
  CHECK(json_of(ja).at("images").at("llr").at("ids") == json_of(jb).at("images").at("llr").at("ids"));
  // The searched bases and learned roundings are the same, bit for bit.
  const auto fa = logq::SafetensorsFile::open(sa), fb = logq::SafetensorsFile::open(sb);
  REQUIRE(fa.tensors().size() == fb.tensors().size());
  for (const auto& t : fa.tensors()) {
    if (t.name.find(".logart.") == std::string::npos) continue;
    INFO(t.name);
    const auto& u = fb.at(t.name);
    REQUIRE(u.nbytes == t.nbytes);
    CHECK(std::memcmp(fa.data(t), fb.data(u), t.nbytes) == 0);
  }
  std::filesystem::remove_all(folder);
  for (const auto& p : {list, ja, jb, sa, sb}) std::remove(p.c_str());
}

TEST_CASE("logq quantize --export, logq export and logq golden: the embedded ResNet under hardware numerics", "[cli][golden]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::source_dir() + "/models/fmnist_resnet.safetensors";
  const std::string lqm = logq::test::temp_path("resnet.lqm"), lqm2 = logq::test::temp_path("resnet2.lqm"),
                    saved = logq::test::temp_path("resnet_q.safetensors"), js = logq::test::temp_path("golden.json"),
                    csv = logq::test::temp_path("golden.csv");
  const std::string common = "--method logart --checkpoint " + q(ckpt) + " --calib-data " + fmnist + " --test-data " + fmnist +
                             " --test-limit 300 --no-progress --w-bit 4 --act-bits 8 --no-llr --hardware-approx";
  const Run r = run_logq("quantize " + common + " --save " + q(saved) + " --export " + q(lqm));
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("wrote " + lqm + " (8 sample images of fashion-mnist/test)"));
  const Run g = run_logq("golden " + q(lqm) + " --data " + fmnist + " --limit 300 --no-progress -j 2 --json " + q(js) + " --csv " + q(csv));
  INFO(g.out);
  REQUIRE(g.code == 0);
  std::ifstream jf(js);
  const json j = json::parse(jf);
  CHECK(j.at("images") == 300);
  CHECK(std::fabs(j.at("delta_pp").get<double>()) <= 0.34);  // at most one image of 300 flips
  CHECK(j.at("agreement").at("worst_code_agreement_pct").get<double>() >= 99.9);
  CHECK(j.at("agreement").at("top1_same") == 8);
  REQUIRE(j.at("layers").size() == 14);
  for (const auto& l : j.at("layers")) {
    CHECK(l.at("overflows") == 0);
    CHECK(l.at("pairing") == "LxU");
    CHECK(l.at("terms").get<int64_t>() > 0);
  }
  const auto csv_bytes = logq::test::read_bytes(csv);
  CHECK_THAT(std::string(csv_bytes.begin(), csv_bytes.end()), StartsWith("layer,pairing,out_shape,acc_bits"));
  // logq export writes the same network from the saved parameters.
  const Run e = run_logq("export " + common + " --load-quantized " + q(saved) + " -o " + q(lqm2));
  INFO(e.out);
  REQUIRE(e.code == 0);
  const Run g2 = run_logq("golden " + q(lqm2) + " --no-eval --json -");
  REQUIRE(g2.code == 0);
  CHECK_THAT(g2.out, Contains("top-1 8/8"));
  // The RTL array computes the default block (layer1.0: both convs, im2col) bit for bit; a flipped
  // expected bit fails with the first-mismatch report and a waveform.
  const std::string vcd = logq::test::temp_path("mismatch.vcd");
  const Run v = run_logq("verify " + q(lqm) + " --images 2 -j 2");
  INFO(v.out);
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Contains("layer1.0.conv1") && Contains("784x16x144") && Contains("4 passed, 0 failed, 0 skipped"));
  const Run vf = run_logq("verify " + q(lqm) + " --flip-expected 1 --waveform " + q(vcd));
  INFO(vf.out);
  CHECK(vf.code != 0);
  CHECK_THAT(vf.out, Contains("MISMATCH in layer1.0.conv2 (image 0)") && Contains("FAIL") && Contains("waveform: " + vcd));
  CHECK(logq::test::exists(vcd));
  std::remove(vcd.c_str());
  // A narrow accumulator overflows and the report says so.
  const Run narrow = run_logq("golden " + q(lqm) + " --data " + fmnist + " --limit 20 --no-progress --acc-bits 12 --json " + q(js));
  REQUIRE(narrow.code == 0);
  std::ifstream nf(js);
  const json n = json::parse(nf);
  int64_t ovf = 0;
  for (const auto& l : n.at("layers")) ovf += l.at("overflows").get<int64_t>();
  CHECK(ovf > 0);
  // Mutation: one weight exponent changed in the file. The file stays valid, the golden model
  // runs it, and the agreement report shows the drift from the fake-quant model.
  auto bytes = logq::test::read_bytes(lqm);
  {
    const auto st = logq::SafetensorsFile::parse(logq::Bytes::view(bytes.data(), bytes.size()), lqm);
    const auto& t = st.at("conv1.w.exp");
    const size_t off = size_t(st.data(t) - bytes.data());
    int16_t e;
    std::memcpy(&e, bytes.data() + off, 2);
    e = int16_t(e + 4);  // two octaves larger
    std::memcpy(bytes.data() + off, &e, 2);
  }
  logq::write_file_atomic(lqm2, bytes);
  const Run m = run_logq("golden " + q(lqm2) + " --no-eval --json " + q(js));
  INFO(m.out);
  REQUIRE(m.code == 0);
  std::ifstream mf(js);
  const json mj = json::parse(mf);
  CHECK(mj.at("agreement").at("worst_code_agreement_pct").get<double>() < 99.9);
  CHECK(mj.at("agreement").at("logit_max_err").get<double>() > 1e-3);
  // ... while the RTL still computes exactly what the (changed) file says.
  const Run mv = run_logq("verify " + q(lqm2) + " --layers conv1 --layers layer1.0");
  INFO(mv.out);
  CHECK(mv.code == 0);
  CHECK_THAT(mv.out, Contains("3 passed, 0 failed"));
  for (const auto& p : {lqm, lqm2, saved, js, csv}) std::remove(p.c_str());
}

// `logq sim --backend rtl` on an .lqm runs the model's own operands (golden's codes of a sample
// image, every block checked against golden's accumulators) and takes the fast model's cycles.
// Element totals per op of the vector unit's work in a sim JSON report (quantize_u and
// quantize_adalog together as "quantize").
static std::map<std::string, int64_t> vector_totals(const json& sim) {
  std::map<std::string, int64_t> t;
  for (const json& l : sim.at("layers"))
    for (const json& v : l.at("vector_work")) {
      const std::string op = v.at("op");
      t[op.rfind("quantize", 0) == 0 ? "quantize" : op] += v.at("elements").get<int64_t>();
    }
  return t;
}

// The vector work logq sim takes from the model's own graph against the one it infers from the
// layer names of the committed topology of the same network: equal but for `differences`
// (topology minus graph, explained where they are given).
static void check_vector_work_matches_topology(const std::string& lqm, const std::string& topology, std::map<std::string, int64_t> differences) {
  const std::string a = logq::test::temp_path("vec_graph.json"), b = logq::test::temp_path("vec_names.json");
  REQUIRE(run_logq("sim " + q(lqm) + " --clock-mhz 100 -q --json " + q(a)).code == 0);
  REQUIRE(run_logq("sim " + q(logq::test::source_dir() + "/configs/topologies/" + topology) + " --clock-mhz 100 -q --json " + q(b)).code == 0);
  std::ifstream fa(a), fb(b);
  const auto graph = vector_totals(json::parse(fa)), names = vector_totals(json::parse(fb));
  std::set<std::string> ops;
  for (const auto& [op, n] : graph) ops.insert(op);
  for (const auto& [op, n] : names) ops.insert(op);
  CHECK(ops.count("dequant"));
  for (const std::string& op : ops) {
    INFO(topology << ": vector op " << op << ", graph " << (graph.count(op) ? graph.at(op) : 0) << " elements, names " << (names.count(op) ? names.at(op) : 0));
    CHECK((names.count(op) ? names.at(op) : 0) - (graph.count(op) ? graph.at(op) : 0) == differences[op]);
  }
  std::remove(a.c_str());
  std::remove(b.c_str());
}

static void check_sim_rtl_equals_fast(const std::string& lqm) {
  const std::string hw4 = logq::test::source_dir() + "/configs/hw/universal_4x4.json";
  const std::string fj = logq::test::temp_path("sim_fast.json"), rj = logq::test::temp_path("sim_rtl.json");
  const Run fast = run_logq("sim " + q(lqm) + " --hw " + q(hw4) + " --clock-mhz 100 -q --json " + q(fj));
  INFO(fast.out);
  REQUIRE(fast.code == 0);
  const Run rtl = run_logq("sim " + q(lqm) + " --hw " + q(hw4) + " --clock-mhz 100 -q --backend rtl --image 1 --json " + q(rj));
  INFO(rtl.out);
  REQUIRE(rtl.code == 0);
  std::ifstream ff(fj), rf(rj);
  const json a = json::parse(ff), b = json::parse(rf);
  CHECK(b.at("backend") == "rtl");
  CHECK(b.at("total").at("total_cycles") == a.at("total").at("total_cycles"));
  CHECK(b.at("total").at("total_cycles").get<int64_t>() > 100000);
  // K-splitting on the model's own operands: 1 KiB operand SRAMs (128-word bank halves) split the
  // layers with K > 128; every chunk runs on the Verilated array into its output buffer's partial
  // sums, which must equal the network's accumulators, and the cycles equal the fast model's.
  const std::string small = logq::test::temp_path("hw_small.json");
  std::ofstream(small) << R"({"array": {"rows": 4, "cols": 4, "pe": "universal"}, "sram": {"act_kib": 1, "weight_kib": 1, "out_kib": 16}})";
  const Run sfast = run_logq("sim " + q(lqm) + " --hw " + q(small) + " --clock-mhz 100 -q --json " + q(fj));
  const Run srtl = run_logq("sim " + q(lqm) + " --hw " + q(small) + " --clock-mhz 100 --backend rtl --json " + q(rj));
  INFO(sfast.out << srtl.out);
  REQUIRE(sfast.code == 0);
  REQUIRE(srtl.code == 0);
  CHECK_THAT(srtl.out, Contains("K-split"));
  std::ifstream sff(fj), srf(rj);
  const json sa = json::parse(sff), sb = json::parse(srf);
  int split = 0;
  for (const json& l : sa.at("layers")) {
    if (l.at("skipped").get<bool>() || l.at("k_chunks").get<int64_t>() == 1) continue;
    ++split;
    // The SystemC model's compute cycles are golden/hw's K-split formula over the layer's blocks.
    const int64_t M = l.at("M"), N = l.at("N"), K = l.at("K"), Mb = l.at("block_m"), Nb = l.at("block_n"), Kb = l.at("block_k");
    uint64_t want = 0;
    for (int64_t m0 = 0; m0 < M; m0 += Mb)
      for (int64_t n0 = 0; n0 < N; n0 += Nb) want += logq::array_cycles_k_split(4, 4, std::min(Mb, M - m0), std::min(Nb, N - n0), K, Kb);
    INFO(l.at("layer"));
    CHECK(l.at("compute_cycles").get<uint64_t>() == want * l.at("count").get<uint64_t>());
  }
  CHECK(split >= 3);
  CHECK(sb.at("total").at("compute_cycles") == sa.at("total").at("compute_cycles"));
  CHECK(sb.at("total").at("total_cycles") == sa.at("total").at("total_cycles"));
  std::remove(small.c_str());
  const Run bad = run_logq("sim " + q(lqm) + " --hw " + q(hw4) + " --clock-mhz 100 -q --backend rtl --image 99");
  CHECK(bad.code == 1);
  CHECK_THAT(bad.out, Contains("--image 99") && Contains("holds sample images 0..7"));
  std::remove(fj.c_str());
  std::remove(rj.c_str());
}

TEST_CASE("logq verify: a full AdaLog ViT block on the RTL array, bit for bit", "[cli][verify]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::source_dir() + "/models/fmnist_vit.safetensors", lqm = logq::test::temp_path("vit.lqm"),
                    js = logq::test::temp_path("verify.json");
  const Run r = run_logq("quantize --method adalog --checkpoint " + q(ckpt) + " --config " + q(logq::test::source_dir() + "/configs/adalog/4bit.json") +
                         " --calib-data " + fmnist + " --calib-size 8 --test-limit 50 --no-progress --export " + q(lqm));
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, !Contains("patch-embed input top-1"));  // the reference: the image stays float
  const Run v = run_logq("verify " + q(lqm) + " --json " + q(js));
  INFO(v.out);
  REQUIRE(v.code == 0);
  std::ifstream jf(js);
  const json j = json::parse(jf);
  CHECK(j.at("passed") == 6);  // qkv, q·kᵀ (per head), softmax·V (per head), proj, fc1, fc2
  CHECK(j.at("failed") == 0);
  std::set<std::string> layers;
  for (const auto& row : j.at("jobs")) layers.insert(row.at("layer").get<std::string>());
  CHECK(layers == std::set<std::string>{"blocks.0.attn.qkv", "blocks.0.attn.matmul1", "blocks.0.attn.matmul2", "blocks.0.attn.proj",
                                        "blocks.0.mlp.fc1", "blocks.0.mlp.fc2"});
  const Run g = run_logq("golden " + q(lqm) + " --data " + fmnist + " --limit 50 --no-progress --json " + q(js));
  INFO(g.out);
  REQUIRE(g.code == 0);
  std::ifstream gf(js);
  const json gj = json::parse(gf);
  CHECK(std::fabs(gj.at("delta_pp").get<double>()) <= 2.0);  // at most one image of 50
  CHECK(gj.at("agreement").at("worst_code_agreement_pct").get<double>() >= 99.9);
  check_sim_rtl_equals_fast(lqm);
  // The accelerator model on the ViT: heads and U x A layers as they are; the float patch embed is skipped.
  const Run s = run_logq("sim " + q(lqm) + " --pe int8+ua --clock-mhz 100 --json " + q(js));
  INFO(s.out);
  REQUIRE(s.code == 0);
  CHECK_THAT(s.out, Contains("skipped: float input"));
  std::ifstream sf(js);
  const json sj = json::parse(sf);
  std::map<std::string, json> by;
  for (const auto& l : sj.at("layers")) by[l.at("layer").get<std::string>()] = l;
  CHECK(by.at("patch_embed.proj").at("skipped") == true);
  CHECK(by.at("blocks.0.attn.matmul1").at("count") == 2);  // one GEMM per head
  CHECK(by.at("blocks.0.attn.matmul2").at("pairing") == "UxA");
  CHECK(by.at("blocks.0.mlp.fc2").at("pairing") == "UxA");
  CHECK(by.at("blocks.0.mlp.fc1").at("pairing") == "UxU");
  CHECK(by.at("blocks.0.mlp.fc2").at("compute_cycles").get<int64_t>() > 0);
  const Run ua = run_logq("sim " + q(lqm) + " --pe ua --clock-mhz 100");
  CHECK(ua.code != 0);
  CHECK_THAT(ua.out, Contains("is UxU") && Contains("'ua' PE array cannot run it"));
  // The hardware path: the patch-embed image as U(8); then every GEMM of the network is integer
  // and runs on the array (--all).
  const Run r8 = run_logq("quantize --method adalog --checkpoint " + q(ckpt) + " --config " + q(logq::test::source_dir() + "/configs/adalog/4bit.json") +
                          " --calib-data " + fmnist + " --calib-size 8 --test-limit 50 --no-progress --act-bits 8 --export " + q(lqm));
  INFO(r8.out);
  REQUIRE(r8.code == 0);
  CHECK_THAT(r8.out, Contains("+ U(8) patch-embed input top-1"));
  const Run all = run_logq("verify " + q(lqm) + " --all -j 2");
  INFO(all.out);
  CHECK(all.code == 0);
  CHECK_THAT(all.out, Contains("38 passed, 0 failed, 0 skipped"));
  // The non-GEMM work from the graph equals the one inferred from the topology's names, but for the
  // class token: the names' rule adds the position embedding and LayerNorm on the 49 patches only.
  check_vector_work_matches_topology(lqm, "fmnist_vit_adalog_w4a4.csv", {{"add", -64}, {"layernorm", -64}});
  for (const auto& p : {lqm, js}) std::remove(p.c_str());
}

TEST_CASE("logq quantize --method fulllog: LogART weights x AdaLog activations on the embedded ViT, through golden, the RTL and sim", "[cli][fulllog]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string src = logq::test::source_dir();
  const std::string vit = src + "/models/fmnist_vit.safetensors", lqm = logq::test::temp_path("fulllog.lqm"),
                    js = logq::test::temp_path("fulllog.json"), csv = logq::test::temp_path("fulllog.csv");
  std::remove(csv.c_str());
  const std::string small = " --calib-data " + std::string(fmnist) + " --calib-size 8 --search-samples 16 --calib-samples 32 --iters-w 20 --test-limit 50 --no-progress";
  const Run r = run_logq("quantize --method fulllog --checkpoint " + q(vit) + " --config " + q(src + "/configs/fulllog/4bit.json") + small +
                         " --hardware-approx --approx-everywhere --act-bits 8 --export " + q(lqm) + " --json " + q(js) + " --results " + q(csv));
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("fulllog (acts-first): LogART W4") && Contains("AdaLog-only W4A4 (uniform weights) top-1") &&
                        Contains("fulllog W4A4 top-1") && Contains("+ U(8) patch-embed input top-1") && Contains("LLR blocks.5"));
  {
    std::ifstream jf(js);
    const json j = json::parse(jf);
    CHECK(j.at("method") == "fulllog");
    CHECK(j.at("options").at("order") == "acts-first");
    CHECK(j.at("images").contains("calib"));
    CHECK(j.at("images").contains("search"));
    CHECK(j.at("images").contains("llr"));
    CHECK(j.at("results").at(0).contains("adalog_top1"));
    CHECK(j.at("llr_seconds").get<double>() > 0);
  }
  CHECK_THAT(logq::read_text_file(csv), StartsWith("model,method,order,w_bits,a_bits,hardware_approx,") && Contains("fmnist_vit,fulllog,acts-first,4,4,1,"));
  // The exported pairings: every weight log-coded, fc2's input AdaLog, attention matmuls uniform x uniform / AdaLog.
  const Run s = run_logq("sim " + q(lqm) + " --pe lu+la+uu4+ua --clock-mhz 100 --json " + q(js));
  INFO(s.out);
  REQUIRE(s.code == 0);
  {
    std::ifstream sf(js);
    const json sj = json::parse(sf);
    std::map<std::string, std::string> pairing;
    for (const auto& l : sj.at("layers")) pairing[l.at("layer").get<std::string>()] = l.at("pairing").get<std::string>();
    REQUIRE(pairing.size() == 38);
    for (const auto& [layer, p] : pairing) {
      INFO(layer);
      const auto ends = [&](const std::string& t) { return layer.size() >= t.size() && layer.compare(layer.size() - t.size(), t.size(), t) == 0; };
      if (ends(".fc2")) CHECK(p == "LxA");
      else if (ends(".matmul1")) CHECK(p == "UxU");
      else if (ends(".matmul2")) CHECK(p == "UxA");
      else CHECK(p == "LxU");  // patch embed (U(8) image), qkv, proj, fc1, head
    }
  }
  const Run lula = run_logq("sim " + q(lqm) + " --pe lu+la --clock-mhz 100");
  CHECK(lula.code != 0);
  CHECK_THAT(lula.out, Contains("blocks.0.attn.matmul1' is UxU"));
  // The synthesized dual PE takes both weight pairings; with uu4 and ua it runs the whole model.
  const Run dual = run_logq("sim " + q(lqm) + " --pe lula --clock-mhz 100");
  CHECK(dual.code != 0);
  CHECK_THAT(dual.out, Contains("blocks.0.attn.matmul1' is UxU"));
  const Run full = run_logq("sim " + q(lqm) + " --pe lula+uu4+ua --clock-mhz 100 --json " + q(js));
  INFO(full.out);
  REQUIRE(full.code == 0);
  {
    std::ifstream sf(js);
    const json sj = json::parse(sf);
    std::map<std::string, int64_t> macs;
    for (const auto& l : sj.at("layers")) macs[l.at("pairing").get<std::string>()] += l.at("macs").get<int64_t>();
    CHECK(macs.size() == 4);  // L x U, L x A, U x U and U x A all run, each on its part
    CHECK(macs["LxU"] > macs["LxA"]);
  }
  // golden equals the fake-quant model (the fc2 bias folded with the LogART weights: logits agree to float rounding).
  const Run g = run_logq("golden " + q(lqm) + " --data " + fmnist + " --limit 50 --no-progress --json " + q(js));
  INFO(g.out);
  REQUIRE(g.code == 0);
  {
    std::ifstream gf(js);
    const json gj = json::parse(gf);
    CHECK(std::fabs(gj.at("delta_pp").get<double>()) <= 2.0);  // at most one image of 50
    check_golden_agrees(gj.at("agreement"));
  }
  // One block on the RTL array, bit for bit: L x U, L x A and the matmuls.
  const Run v = run_logq("verify " + q(lqm) + " --json " + q(js));
  INFO(v.out);
  REQUIRE(v.code == 0);
  {
    std::ifstream vf(js);
    const json vj = json::parse(vf);
    CHECK(vj.at("passed") == 6);
    CHECK(vj.at("failed") == 0);
  }
  // The other order: LogART on float activations, then AdaLog's activation search again with the LogART weights.
  const Run w = run_logq("quantize --method fulllog --checkpoint " + q(vit) + " --config " + q(src + "/configs/fulllog/4bit.json") + small +
                         " --no-llr --no-adalog-eval --fulllog-order weights-first --hardware-approx --approx-everywhere --act-bits 8 --export " + q(lqm));
  INFO(w.out);
  REQUIRE(w.code == 0);
  CHECK_THAT(w.out, Contains("fulllog (weights-first)") && Contains("AdaLog: activations again, with the LogART weights fixed") && !Contains("AdaLog-only"));
  const Run g2 = run_logq("golden " + q(lqm) + " --no-eval --json " + q(js));
  INFO(g2.out);
  REQUIRE(g2.code == 0);
  {
    std::ifstream gf(js);
    check_golden_agrees(json::parse(gf).at("agreement"));
  }
  // Bad input: clear errors, non-zero exit, before any work.
  const auto config = [](const std::string& name, const std::string& text) {
    const std::string path = logq::test::temp_path(name);
    std::ofstream(path) << text;
    return q(path);
  };
  const std::map<std::string, std::string> bad = {
      {"--method fulllog --checkpoint " + q(src + "/models/fmnist_resnet.safetensors"), "quantizes transformers (vit, swin)"},
      {"--method fulllog --checkpoint " + q(vit) + " --fulllog-order sideways", "--fulllog-order 'sideways' is not acts-first | weights-first"},
      {"--method fulllog --checkpoint " + q(vit) + " --save " + q(logq::test::temp_path("x.safetensors")), "does not take --save"},
      {"--method fulllog --checkpoint " + q(vit) + " --config " + config("fl1.json", R"({"logart": {"w_bit": 3}, "adalog": {"w_bit": 4}})"), "adalog.w_bit and logart.w_bit differ"},
      {"--method fulllog --checkpoint " + q(vit) + " --config " + config("fl2.json", R"({"adalog": 4})"), "field 'adalog' must be an object"},
      {"--method fulllog --checkpoint " + q(vit) + " --config " + config("fl3.json", R"({"logart": {"a_bit": 4}})"), "LogART quantizes no activations"},
  };
  for (const auto& [args, msg] : bad) {
    const Run b = run_logq("quantize " + args + " --calib-data " + fmnist + " --test-limit 5 --no-progress");
    INFO(args << "\n" << b.out);
    CHECK(b.code != 0);
    CHECK_THAT(b.out, Contains(msg));
  }
  for (const auto& p : {lqm, js, csv}) std::remove(p.c_str());
}

TEST_CASE("logq golden and logq export: bad input is a clear error with non-zero exit", "[cli][golden][bad-input]") {
  const std::string st = logq::test::temp_path("plain.safetensors");
  logq::SafetensorsWriter w;
  w.add("x", logq::DType::F32, {1}, std::vector<float>{1.0f});
  w.write(st);
  const Run plain = run_logq("golden " + q(st) + " --no-eval");
  CHECK(plain.code != 0);
  CHECK_THAT(plain.out, Contains("not an lqm file"));
  const Run missing = run_logq("golden /nonexistent/model.lqm");
  CHECK(missing.code != 0);
  CHECK_THAT(missing.out, Contains("/nonexistent/model.lqm"));
  const Run round = run_logq("golden " + q(st) + " --rounding up");
  CHECK(round.code != 0);
  const Run ex = run_logq("export --method logart --checkpoint " + q(st) + " --calib-data /tmp -o /tmp/x.lqm");
  CHECK(ex.code != 0);
  CHECK_THAT(ex.out, Contains("logq export needs --load-quantized FILE (LogART) or --load-calibrated FILE (AdaLog)"));
  std::remove(st.c_str());
}

TEST_CASE("logq quantize --method uniform: the INT8 baseline through golden, the RTL and logq sim", "[cli][uniform][sim]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::source_dir() + "/models/fmnist_resnet.safetensors", hw = logq::test::source_dir() + "/configs/hw/";
  const std::string lqm = logq::test::temp_path("int8.lqm"), js = logq::test::temp_path("int8.json"), csv = logq::test::temp_path("sim.csv"),
                    sj = logq::test::temp_path("sim.json");
  const Run r = run_logq("quantize --method uniform --checkpoint " + q(ckpt) + " --calib-data " + fmnist + " --test-data " + fmnist +
                         " --test-limit 300 --no-progress --w-bit 8 --export " + q(lqm));
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Contains("uniform W8A8 top-1"));
  const Run g = run_logq("golden " + q(lqm) + " --data " + fmnist + " --limit 300 --no-progress --json " + q(js));
  INFO(g.out);
  REQUIRE(g.code == 0);
  std::ifstream jf(js);
  const json j = json::parse(jf);
  CHECK(std::fabs(j.at("delta_pp").get<double>()) <= 0.34);
  CHECK(j.at("agreement").at("worst_code_agreement_pct").get<double>() >= 99.9);
  REQUIRE(j.at("layers").size() == 14);
  for (const auto& l : j.at("layers")) {
    CHECK(l.at("pairing") == "UxU");
    CHECK(l.at("overflows") == 0);
  }
  const Run v = run_logq("verify " + q(lqm));
  INFO(v.out);
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Contains("2 passed, 0 failed"));
  // The accelerator: per-layer CSV and JSON, the INT8 array runs it, a log array cannot.
  const Run s = run_logq("sim " + q(lqm) + " --hw " + q(hw + "int8_16x16.json") + " --clock-mhz 100 --csv " + q(csv) + " --json " + q(sj));
  INFO(s.out);
  REQUIRE(s.code == 0);
  CHECK_THAT(s.out, Contains("fmnist_resnet on a 16x16 int8 array at 100.0 MHz") && Contains("images/s"));
  std::ifstream sf(sj);
  const json sim = json::parse(sf);
  REQUIRE(sim.at("layers").size() == 14);
  CHECK(sim.at("total").at("macs") == 19983232);
  CHECK(sim.at("layers")[0].at("pairing") == "UxU");
  const double ips = sim.at("images_per_s");
  CHECK(ips == Approx(100e6 / sim.at("total").at("total_cycles").get<double>()));
  const auto csv_bytes = logq::test::read_bytes(csv);
  const std::string csv_text(csv_bytes.begin(), csv_bytes.end());
  CHECK_THAT(csv_text, StartsWith("layer,op,pairing,M,N,K,count,macs,") && Contains("\ntotal,"));
  CHECK(std::count(csv_text.begin(), csv_text.end(), '\n') == 16);  // header, 14 layers, total
  // The array jobs as a topology: the committed file (written from the LogART export) has the same shapes.
  const std::string topo = logq::test::temp_path("int8_topology.csv");
  REQUIRE(run_logq("sim " + q(lqm) + " --topology-out " + q(topo)).code == 0);
  const auto mine = logq::test::read_bytes(topo), committed = logq::test::read_bytes(logq::test::source_dir() + "/configs/topologies/fmnist_resnet_logart_w4a8.csv");
  CHECK(std::string(mine.begin(), mine.end()) == std::string(committed.begin(), committed.end()));
  std::remove(topo.c_str());
  const Run lu = run_logq("sim " + q(lqm) + " --hw " + q(hw + "lu_16x16.json") + " --clock-mhz 100");
  CHECK(lu.code != 0);
  CHECK_THAT(lu.out, Contains("layer 'conv1' is UxU") && Contains("'lu' PE array cannot run it"));
  check_sim_rtl_equals_fast(lqm);
  // The non-GEMM work from the graph equals the one inferred from the topology's names, but for
  // the first convolution's input: a GEMM row has no ifmap, so its quantizer counts the 784 x 9
  // im2col elements instead of the 28 x 28 image.
  check_vector_work_matches_topology(lqm, "fmnist_resnet_logart_w4a8.csv", {{"quantize", 784 * 9 - 28 * 28}});
  for (const auto& p : {lqm, js, csv, sj}) std::remove(p.c_str());
}

TEST_CASE("logq sim: DeiT-Tiny and ResNet-18 topologies, the RTL back-end, bad configs", "[cli][sim]") {
  const std::string topo = logq::test::source_dir() + "/configs/topologies/", hw = logq::test::source_dir() + "/configs/hw/";
  const Run d = run_logq("sim " + q(topo + "deit_tiny_patch16_224.csv") + " --hw " + q(hw + "lu_16x16.json") + " --clock-mhz 100 --json -", false);
  REQUIRE(d.code == 0);
  const json dj = json::parse(d.out.substr(d.out.find("\n{") + 1));
  CHECK(dj.at("total").at("macs") == 1253683200);
  CHECK(dj.at("layers").size() == 122);
  const Run r = run_logq("sim " + q(topo + "resnet18.csv") + " --pe int8 --clock-mhz 100");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("layer4.1.conv2") && Contains("49x512x4608") && Contains("1814073344 MACs"));
  // The Verilated array as the back-end: the same cycles as the fast model.
  const Run fast = run_logq("sim " + q(topo + "fmnist_vit_adalog_w4a4.csv") + " --hw " + q(hw + "universal_4x4.json") + " -q");
  const Run rtl = run_logq("sim " + q(topo + "fmnist_vit_adalog_w4a4.csv") + " --hw " + q(hw + "universal_4x4.json") + " -q --backend rtl");
  INFO(fast.out << rtl.out);
  REQUIRE(fast.code == 0);
  REQUIRE(rtl.code == 0);
  const auto cycles = [](const std::string& out) { return out.substr(out.find("simulated "), out.find(" cycles in") - out.find("simulated ")); };
  CHECK(cycles(fast.out) == cycles(rtl.out));
  CHECK_THAT(rtl.out, Contains("rtl back-end"));
  const Run big = run_logq("sim " + q(topo + "deit_tiny_patch16_224.csv") + " --clock-mhz 100 --backend rtl");
  CHECK(big.code != 0);
  CHECK_THAT(big.out, Contains("Verilated 4x4 universal array"));
  // Bad input: zero bandwidth, an unknown PE kind, an output buffer that cannot hold one tile, a missing file.
  const std::string bad = logq::test::temp_path("bad_hw.json");
  const auto with = [&](const std::string& text) {
    std::ofstream(bad) << text;
    return run_logq("sim " + q(topo + "resnet18.csv") + " --hw " + q(bad) + " --clock-mhz 100");
  };
  Run b = with(R"({"dram": {"bandwidth_gbps": 0}})");
  CHECK(b.code != 0);
  CHECK_THAT(b.out, Contains("dram.bandwidth_gbps: must be > 0"));
  b = with(R"({"array": {"pe": "int3"}})");
  CHECK(b.code != 0);
  CHECK_THAT(b.out, Contains("unknown PE kind 'int3'"));
  // 8 KiB of weights: K = 576 needs 576 words per bank, a bank half holds 256: K-split in 3 x 192.
  b = with(R"({"sram": {"weight_kib": 8}})");
  CHECK(b.code == 0);
  CHECK_THAT(b.out, Contains("K-split") && Contains("layer1.0.conv1 (3 x 192)") && Contains("layer4.1.conv2 (18 x 256)"));
  b = with(R"({"sram": {"weight_kib": 8, "out_kib": 1}})");
  CHECK(b.code != 0);
  CHECK_THAT(b.out, Contains("layer 'layer1.0.conv1': the 1 KiB output SRAM holds 85 48-bit partial sums (K-split)"));
  b = with("{not json");
  CHECK(b.code != 0);
  CHECK_THAT(b.out, Contains("not valid JSON"));
  const Run m = run_logq("sim /nonexistent/model.lqm");
  CHECK(m.code != 0);
  CHECK_THAT(m.out, Contains("/nonexistent/model.lqm"));
  std::remove(bad.c_str());
}

TEST_CASE("logq explore: a small sweep writes the CSV with Pareto flags and PNG plots, and rejects bad input", "[cli][explore]") {
  const char* fmnist = "/usr/share/datasets/fashion-mnist";
  if (!logq::test::exists(fmnist)) {
    WARN("SKIPPED: " << fmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const std::string ckpt = logq::test::source_dir() + "/models/fmnist_resnet.safetensors";
  const std::string w8 = logq::test::temp_path("explore_w8.lqm"), w4 = logq::test::temp_path("explore_w4.lqm"),
                    out = logq::test::temp_path("explore_out");
  for (const auto& [bits, path] : {std::pair{8, w8}, std::pair{4, w4}}) {
    const Run r = run_logq(fmt::format("quantize --method uniform --checkpoint {} --calib-data {} --test-data {} --test-limit 50 --no-progress --w-bit {} --act-bits {} --export {}",
                                    q(ckpt), fmnist, fmnist, bits, bits, q(path)));
    INFO(r.out);
    REQUIRE(r.code == 0);
  }
  const Run e = run_logq("explore " + q(w8) + " " + q(w4) + " --data " + fmnist + " --images 40 --arrays 4x4,8x8 --pe int8,uu4 -j 2 -o " + q(out));
  INFO(e.out);
  REQUIRE(e.code == 0);
  const auto csv = logq::test::read_bytes(out + "/explore.csv");
  const std::string text(csv.begin(), csv.end());
  CHECK_THAT(text, StartsWith("model,file,method,pe,array,rows,cols,acc_bits,mant_frac_bits,top1,"));
  // W8A8 runs on int8 only (uu4 takes 4-bit operands); W4A4 on both: 3 kinds-models x 2 arrays.
  CHECK(std::count(text.begin(), text.end(), '\n') == 7);
  CHECK_THAT(text, Contains(",uu4,8x8,8,8,") && Contains(",int8,4x4,4,4,"));
  // The same model on a 4x larger array: the same accuracy, 4x the area, more images/s.
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    rows.emplace_back();
    std::istringstream ls(line);
    for (std::string f; std::getline(ls, f, ',');) rows.back().push_back(f);
  }
  const auto find = [&](const std::string& pe, const std::string& arr, const std::string& bits_tag) {
    for (const auto& r : rows)
      if (r[3] == pe && r[4] == arr && r[0].find(bits_tag) != std::string::npos) return r;
    return std::vector<std::string>{};
  };
  for (const auto& r : rows) REQUIRE(r.size() == 24);
  bool any_pareto = false;
  for (const auto& r : rows) any_pareto |= r[19] == "1";
  CHECK(any_pareto);
  for (const auto& r : rows) CHECK(std::stoll(r[22]) > 0);  // the vector unit's non-GEMM cycles
  for (const auto& r : rows) CHECK(std::stod(r[23]) > 0);   // and its energy
  const auto a4 = find("uu4", "4x4", "W4A4"), a8 = find("uu4", "8x8", "W4A4");
  REQUIRE(!a4.empty());
  REQUIRE(!a8.empty());
  CHECK(a4[9] == a8[9]);                                                       // top-1
  CHECK(std::stod(a8[12]) == Approx(4 * std::stod(a4[12])).epsilon(0.01));     // array area
  CHECK(std::stod(a8[15]) > std::stod(a4[15]));                                // images/s
  CHECK_THAT(a4[0], Contains("W4A4"));
  // The clock of each point is its synthesized array's fmax, not the lone PE's.
  const std::string area_csv = out + "/area_check.csv";
  const Run ar = run_logq("area --units pe_uu4 --arrays uu4:4:4,uu4:8:8 --csv " + q(area_csv));
  INFO(ar.out);
  REQUIRE(ar.code == 0);
  std::map<std::string, std::string> fmax_of;
  {
    std::istringstream ain(text_of(area_csv));
    for (std::string l; std::getline(ain, l);) {
      const size_t comma = l.find(',');
      fmax_of[l.substr(0, comma)] = l.substr(l.rfind(',') + 1);
    }
  }
  REQUIRE(fmax_of.count("array:uu4:4:4"));
  CHECK(std::stod(a4[13]) == Approx(std::stod(fmax_of["array:uu4:4:4"])));
  CHECK(std::stod(a8[13]) == Approx(std::stod(fmax_of["array:uu4:8:8"])));
  CHECK(std::stod(a4[13]) != Approx(std::stod(fmax_of["pe_uu4"])));
  // logq sim clocks the same design point alike: its default is the synthesized array's fmax, and a
  // 1-wide array (none in the RTL) takes the PE's.
  const std::string sj = out + "/sim_uu4_4x4.json", sj1 = out + "/sim_uu4_1x4.json";
  const Run s44 = run_logq("sim " + q(w4) + " --pe uu4 --rows 4 --cols 4 -q --json " + q(sj));
  INFO(s44.out);
  REQUIRE(s44.code == 0);
  CHECK_THAT(s44.out, Contains("fmax of the synthesized 4x4 uu4 array"));
  CHECK(json::parse(text_of(sj))["clock_mhz"].get<double>() == Approx(std::stod(a4[13])));
  const Run s14 = run_logq("sim " + q(w4) + " --pe uu4 --rows 1 --cols 4 -q --json " + q(sj1));
  REQUIRE(s14.code == 0);
  CHECK_THAT(s14.out, Contains("fmax of one uu4 PE") && Contains("the RTL array needs R, C >= 2"));
  CHECK(json::parse(text_of(sj1))["clock_mhz"].get<double>() == Approx(std::stod(fmax_of["pe_uu4"])));
  for (const char* png : {"/accuracy_vs_area.png", "/throughput_per_area_vs_accuracy.png", "/energy_vs_accuracy.png"}) {
    const auto b = logq::test::read_bytes(out + png);
    REQUIRE(b.size() > 1000);
    CHECK(std::string(b.begin() + 1, b.begin() + 4) == "PNG");
  }
  // The accuracy axis is zoomed to the points (not 0..100), and the page holds the plots and one row per point
  // (a real browser opens it in the CTest explore_html_browser).
  const auto gp = logq::test::read_bytes(out + "/accuracy_vs_area.png.gp");
  CHECK_THAT(std::string(gp.begin(), gp.end()), Contains("set yrange [") && !Contains("set yrange [0"));
  const auto page = logq::test::read_bytes(out + "/explore.html");
  const std::string html(page.begin(), page.end());
  CHECK_THAT(html, Contains("<img src=\"accuracy_vs_area.png\"") && Contains("<img src=\"energy_vs_accuracy.png\""));
  size_t trs = 0;
  for (size_t at = html.find("<tr"); at != std::string::npos; at = html.find("<tr", at + 1)) ++trs;
  CHECK(trs == 1 + 6);  // the header and the 6 points
  const Run bad = run_logq("explore " + q(w8) + " --data " + fmnist + " --arrays 0x4 -o " + q(out));
  CHECK(bad.code != 0);
  CHECK_THAT(bad.out, Contains("--arrays: '0x4' outside 2x2..256x256"));
  const Run nokind = run_logq("explore " + q(w8) + " --data " + fmnist + " --pe lu -o " + q(out));
  CHECK(nokind.code != 0);
  CHECK_THAT(nokind.out, Contains("no PE kind of --pe runs every layer of this model"));
  const Run unk = run_logq("explore " + q(w8) + " --data " + fmnist + " --pe fp16 -o " + q(out));
  CHECK(unk.code != 0);
  CHECK_THAT(unk.out, Contains("unknown PE kind 'fp16'"));
  std::remove(w8.c_str());
  std::remove(w4.c_str());
  std::filesystem::remove_all(out);
}
