// The model options the LibTorch commands share (--model, --model-config, --checkpoint) and the
// command line recorded in their outputs. Included only by LibTorch TUs (model_cmds, quantize_cmd).
#pragma once
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "quant/eval/runner.h"

namespace logq::cli {

struct ModelArgs {
  std::string model, model_config, checkpoint;
};

inline void add_model_args(CLI::App* c, ModelArgs& m, bool checkpoint) {
  c->add_option("--model", m.model, "model preset (see `logq models`); with --model-config, the preset that config overrides");
  c->add_option("--model-config", m.model_config,
                "model config: a JSON file or the JSON itself ('{...}'): {\"preset\": NAME, overrides...} or {\"family\": ..., args..., "
                "\"data\": {\"img_size\", \"mean\", \"std\", ...}}");
  if (checkpoint)
    c->add_option("--checkpoint", m.checkpoint,
                  "weights: torch.save zip or legacy pickle (.pth/.bin/.th/.pth.tar) or safetensors; a logq "
                  "checkpoint carries its own model config");
}

inline nlohmann::json model_config(const ModelArgs& m) {
  if (m.model.empty() && m.model_config.empty()) return nullptr;  // from the checkpoint's metadata
  return model_config_from_cli(m.model, m.model_config);
}

inline std::string command_line(int argc, char** argv) {
  std::string s = "logq";
  for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

}  // namespace logq::cli
