// logq's model families and the registry of named presets.
//
//   create_model("deit_tiny_patch16_224")        a preset (see `logq models`)
//   create_model_from_config(json)               {"family": "vit", "embed_dim": 48, ...}
//
// A config is a preset's arguments, overridable key by key: {"preset": "resnet20_cifar",
// "in_chans": 1}. Each family file documents its keys; unknown keys are an error.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quant/models/layers.h"

namespace logq {

std::shared_ptr<Net> make_vit(const nlohmann::json& cfg);
std::shared_ptr<Net> make_swin(const nlohmann::json& cfg);
std::shared_ptr<Net> make_resnet(const nlohmann::json& cfg);
std::shared_ptr<Net> make_mobilenetv2(const nlohmann::json& cfg);

struct Preset {
  std::string name, family, description;
  std::string args_json;  // the family's arguments, including the data config
};
const std::vector<Preset>& presets();

// The full config of a preset, or of a config file/object (after applying "preset" + overrides).
nlohmann::json resolve_model_config(const nlohmann::json& cfg);
nlohmann::json preset_config(const std::string& name);  // Error listing the presets if unknown
std::shared_ptr<Net> create_model_from_config(const nlohmann::json& cfg);
std::shared_ptr<Net> create_model(const std::string& preset_name);
// `--model NAME`, `--model-config CONFIG` or both (the preset with CONFIG's overrides). CONFIG is a
// file, or inline JSON when it starts with '{'.
nlohmann::json model_config_from_cli(const std::string& name, const std::string& config);

}  // namespace logq
