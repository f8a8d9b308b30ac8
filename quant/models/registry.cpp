#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/json_input.h"
#include "quant/models/models.h"

namespace logq {

namespace {
// Data configs as timm 0.9.2 resolves them for AdaLog (fixtures/manifests) and torchvision's
// eval transform (Resize 256 + CenterCrop 224, bilinear).
constexpr const char* kVitData = R"("data": {"img_size": 224, "crop_pct": 0.9, "interpolation": "bicubic", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]})";
constexpr const char* kInData = R"("data": {"img_size": 224, "crop_pct": 0.9, "interpolation": "bicubic", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})";
constexpr const char* kTvData = R"("data": {"img_size": 224, "crop_pct": 0.875, "interpolation": "bilinear", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})";
constexpr const char* kCifarData = R"("data": {"img_size": 32, "crop_pct": 1.0, "interpolation": "bilinear", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})";
// Fashion-MNIST training-set mean and std of pixel/255.
constexpr const char* kFmnistData = R"("data": {"img_size": 28, "crop_pct": 1.0, "interpolation": "bilinear", "mean": [0.2860], "std": [0.3530]})";

std::vector<Preset> build_presets() {
  auto vit = [](const char* n, int dim, int heads, const char* data, const char* what) {
    return Preset{n, "vit", what, fmt::format(R"({{"embed_dim": {}, "depth": 12, "num_heads": {}, {}}})", dim, heads, data)};
  };
  auto cifar = [](const char* n, int blocks) {
    return Preset{n, "resnet", fmt::format("CIFAR ResNet-{} (option-A shortcut, akamaster)", 6 * blocks + 2),
                  fmt::format(R"({{"stem": "cifar", "shortcut": "option_a", "layers": [{0}, {0}, {0}], "widths": [16, 32, 64], "num_classes": 10, {1}}})", blocks, kCifarData)};
  };
  return {
      vit("vit_small_patch16_224", 384, 6, kVitData, "timm ViT-S/16 (AdaLog: augreg_in21k_ft_in1k)"),
      vit("vit_base_patch16_224", 768, 12, kVitData, "timm ViT-B/16 (AdaLog: augreg_in21k_ft_in1k)"),
      vit("deit_tiny_patch16_224", 192, 3, kInData, "timm DeiT-T/16"),
      vit("deit_small_patch16_224", 384, 6, kInData, "timm DeiT-S/16"),
      vit("deit_base_patch16_224", 768, 12, kInData, "timm DeiT-B/16"),
      {"swin_small_patch4_window7_224", "swin", "timm Swin-S",
       fmt::format(R"({{"embed_dim": 96, "depths": [2, 2, 18, 2], "num_heads": [3, 6, 12, 24], {}}})", kInData)},
      {"swin_base_patch4_window7_224", "swin", "timm Swin-B",
       fmt::format(R"({{"embed_dim": 128, "depths": [2, 2, 18, 2], "num_heads": [4, 8, 16, 32], {}}})", kInData)},
      {"resnet18", "resnet", "torchvision ResNet-18", fmt::format(R"({{"block": "basic", "layers": [2, 2, 2, 2], {}}})", kTvData)},
      {"resnet50", "resnet", "torchvision ResNet-50", fmt::format(R"({{"block": "bottleneck", "layers": [3, 4, 6, 3], {}}})", kTvData)},
      {"brecq_resnet18", "resnet", "BRECQ/LogART-CNN ResNet-18 (torchvision layout)", fmt::format(R"({{"block": "basic", "layers": [2, 2, 2, 2], {}}})", kTvData)},
      {"brecq_resnet50", "resnet", "BRECQ/LogART-CNN ResNet-50 (torchvision layout)", fmt::format(R"({{"block": "bottleneck", "layers": [3, 4, 6, 3], {}}})", kTvData)},
      cifar("resnet20_cifar", 3), cifar("resnet32_cifar", 5), cifar("resnet44_cifar", 7), cifar("resnet56_cifar", 9),
      {"mobilenet_v2", "mobilenetv2", "torchvision MobileNetV2", fmt::format(R"({{"layout": "torchvision", {}}})", kTvData)},
      {"brecq_mobilenetv2", "mobilenetv2", "BRECQ/LogART-CNN MobileNetV2",
       fmt::format(R"({{"layout": "brecq", "dropout": 0.0, {}}})", kTvData)},
      // The embedded default: small models logq trains on Fashion-MNIST (models/README.md).
      {"fmnist_vit", "vit", "DeiT-style ViT for Fashion-MNIST (28x28, patch 4, 49 tokens)",
       fmt::format(R"({{"img_size": 28, "patch_size": 4, "in_chans": 1, "num_classes": 10, "embed_dim": 64, "depth": 6, "num_heads": 2, {}}})", kFmnistData)},
      {"fmnist_swin", "swin", "Swin for Fashion-MNIST (28x28, patch 2, window 7, two stages)",
       fmt::format(R"({{"img_size": 28, "patch_size": 2, "in_chans": 1, "num_classes": 10, "embed_dim": 32, "depths": [2, 2], "num_heads": [1, 2], "window_size": 7, {}}})", kFmnistData)},
      {"fmnist_resnet", "resnet", "CIFAR-style ResNet-14 (option A) for Fashion-MNIST (1 channel)",
       fmt::format(R"({{"stem": "cifar", "shortcut": "option_a", "layers": [2, 2, 2], "widths": [16, 32, 64], "in_chans": 1, "num_classes": 10, {}}})", kFmnistData)},
      {"fmnist_mobilenetv2", "mobilenetv2", "MobileNetV2 (torchvision layout, width 0.5, 14x14 after the stem) for Fashion-MNIST",
       fmt::format(R"({{"layout": "torchvision", "width_mult": 0.5, "in_chans": 1, "num_classes": 10, "last_channel": 512, "dropout": 0.1,
          "inverted_residual_setting": [[1, 16, 1, 1], [6, 24, 2, 1], [6, 32, 3, 2], [6, 64, 3, 1], [6, 96, 2, 1]], {}}})", kFmnistData)},
  };
}

const std::set<std::string>& family_keys(const std::string& family) {
  static const std::map<std::string, std::set<std::string>> keys{
      {"vit", {"img_size", "patch_size", "in_chans", "num_classes", "embed_dim", "depth", "num_heads", "mlp_ratio", "qkv_bias", "drop_path_rate"}},
      {"swin", {"img_size", "patch_size", "in_chans", "num_classes", "embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "qkv_bias", "drop_path_rate"}},
      {"resnet", {"block", "layers", "widths", "stem", "shortcut", "in_chans", "num_classes"}},
      {"mobilenetv2", {"layout", "width_mult", "in_chans", "num_classes", "dropout", "stem_stride", "last_channel", "inverted_residual_setting"}},
  };
  auto it = keys.find(family);
  if (it == keys.end()) throw Error(fmt::format("model config: unknown family '{}' (vit, swin, resnet, mobilenetv2)", family));
  return it->second;
}

DataConfig data_config(const nlohmann::json& cfg) {
  DataConfig d;
  const nlohmann::json& j = cfg.at("data");
  for (const auto& [k, v] : j.items())
    if (k != "img_size" && k != "crop_pct" && k != "interpolation" && k != "mean" && k != "std")
      throw Error(fmt::format("model config: unknown data key '{}'", k));
  d.img_size = j.value("img_size", d.img_size);
  d.crop_pct = j.value("crop_pct", d.crop_pct);
  d.interpolation = j.value("interpolation", d.interpolation);
  d.mean = j.value("mean", d.mean);
  d.std = j.value("std", d.std);
  d.in_chans = cfg.value("in_chans", int64_t(3));
  if (int64_t(d.mean.size()) != d.in_chans || int64_t(d.std.size()) != d.in_chans)
    throw Error(fmt::format("model config: data mean/std need {} values (in_chans)", d.in_chans));
  if (d.interpolation != "bilinear" && d.interpolation != "bicubic")
    throw Error(fmt::format("model config: interpolation '{}' is not bilinear|bicubic", d.interpolation));
  return d;
}
}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> p = build_presets();
  return p;
}

nlohmann::json preset_config(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) {
      nlohmann::json j = nlohmann::json::parse(p.args_json);
      j["family"] = p.family;
      j["name"] = p.name;
      return j;
    }
  std::string known;
  for (const auto& p : presets()) known += (known.empty() ? "" : ", ") + p.name;
  throw Error(fmt::format("unknown model '{}'; presets: {}", name, known));
}

nlohmann::json resolve_model_config(const nlohmann::json& cfg) {
  if (!cfg.is_object()) throw Error("model config: expected a JSON object");
  nlohmann::json out = cfg.contains("preset") ? preset_config(cfg.at("preset").get<std::string>()) : nlohmann::json::object();
  for (const auto& [k, v] : cfg.items()) {
    if (k == "preset") continue;
    if (k == "data" && out.contains("data")) out["data"].update(v);
    else out[k] = v;
  }
  if (!out.contains("family")) throw Error("model config: needs \"family\" or \"preset\"");
  if (!out.contains("name")) out["name"] = out["family"];
  if (!out.contains("data")) {  // no preset and no data block: ImageNet normalization fits 3 channels only
    const nlohmann::json& ch = out.contains("in_chans") ? out.at("in_chans") : nlohmann::json(3);
    if (ch != nlohmann::json(3))
      throw Error(fmt::format("model config: no \"data\" block, and the ImageNet default normalizes 3 channels but in_chans is {}: "
                              "add \"data\": {{\"mean\": [...], \"std\": [...]}} with {} value(s) each (img_size defaults to the model's), "
                              "or start from a preset: {{\"preset\": NAME, ...overrides}}", ch.dump(), ch.dump()));
    out["data"] = nlohmann::json::parse(std::string("{") + kInData + "}")["data"];
  }
  if (!out["data"].is_object()) throw Error("model config: \"data\" must be an object");
  if (!out["data"].contains("img_size") && out.contains("img_size")) out["data"]["img_size"] = out["img_size"];
  const auto& allowed = family_keys(out.at("family").get<std::string>());
  for (const auto& [k, v] : out.items())
    if (k != "family" && k != "name" && k != "data" && !allowed.count(k))
      throw Error(fmt::format("model config: unknown key '{}' for family '{}'", k, out.at("family").get<std::string>()));
  return out;
}

std::shared_ptr<Net> create_model_from_config(const nlohmann::json& cfg_in) {
  const nlohmann::json cfg = resolve_model_config(cfg_in);
  const std::string family = cfg.at("family");
  std::shared_ptr<Net> net;
  try {
    if (family == "vit") net = make_vit(cfg);
    else if (family == "swin") net = make_swin(cfg);
    else if (family == "resnet") net = make_resnet(cfg);
    else net = make_mobilenetv2(cfg);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("model config '{}': {}", cfg.at("name").get<std::string>(), e.what()));
  }
  net->arch = cfg.at("name");
  net->data = data_config(cfg);
  return net;
}

std::shared_ptr<Net> create_model(const std::string& name) { return create_model_from_config(preset_config(name)); }

nlohmann::json model_config_from_cli(const std::string& name, const std::string& config) {
  if (name.empty() && config.empty()) throw Error("no model: give --model NAME, --model-config JSON, or both (a preset and overrides)");
  if (config.empty()) return preset_config(name);
  // --model-config is a file, or the JSON itself when it starts with '{'.
  const bool inline_json = config.find_first_not_of(" \t\n\r") != std::string::npos && config[config.find_first_not_of(" \t\n\r")] == '{';
  const std::string what = inline_json ? "--model-config" : config;
  nlohmann::json j = inline_json ? parse_json_input(config, "--model-config") : read_json_file(config, "model config");
  try {
    if (!name.empty()) {  // --model NAME --model-config {overrides}: the preset, overridden
      if (!j.is_object()) throw Error(fmt::format("{}: a model config must be a JSON object", what));
      if (j.contains("preset") && j.at("preset") != nlohmann::json(name))
        throw Error(fmt::format("{}: \"preset\": {} contradicts --model {}", what, j.at("preset").dump(), name));
      if (j.contains("family") && j.at("family") != preset_config(name).at("family"))
        throw Error(fmt::format("{}: \"family\": {} contradicts --model {} (a {} preset)", what, j.at("family").dump(), name,
                                preset_config(name).at("family").get<std::string>()));
      j["preset"] = name;
    }
    return resolve_model_config(j);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: {}", what, e.what()));
  } catch (const Error& e) {
    const std::string m = e.what();
    if (m.rfind(what, 0) == 0) throw;
    throw Error(fmt::format("{}: {}", what, m));
  }
}

}  // namespace logq
