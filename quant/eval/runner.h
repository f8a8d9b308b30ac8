// Float evaluation and training of logq's models, and loading/saving them.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/dataset.h"
#include "quant/models/models.h"

namespace logq {

Preprocess preprocess_for(const Net& net);

// Preprocessed images idx[begin, end) as an NCHW float tensor, and their labels.
at::Tensor make_batch(const Dataset& ds, const std::vector<int64_t>& idx, size_t begin, size_t end, const Preprocess& p,
                      at::Tensor* labels);

// A model ready to run: config (preset or file) + checkpoint. With an empty config the
// checkpoint must be one logq wrote (its metadata holds "logq.model_config"). Without a
// checkpoint: the random initialisation under seed 0, the same weights in every call.
struct LoadedModel {
  std::shared_ptr<Net> net;
  nlohmann::json config;
};
LoadedModel load_model(const nlohmann::json& config, const std::string& checkpoint);
// safetensors: state dict in PyTorch order + metadata (model config and anything in `meta`).
void save_model(const Net& net, const nlohmann::json& config, const std::string& path,
                const std::map<std::string, std::string>& meta);

struct EvalOptions {
  int64_t batch = 64;
  int64_t limit = 0;  // 0: all
  bool progress = true;
};
struct EvalResult {
  int64_t n = 0, top1 = 0, top5 = 0;
  double seconds = 0;
  double top1_pct() const { return n ? 100.0 * double(top1) / double(n) : 0.0; }
  double top5_pct() const { return n ? 100.0 * double(top5) / double(n) : 0.0; }
};
EvalResult evaluate(Net& net, const Dataset& ds, const EvalOptions& opt);

struct TrainOptions {
  int64_t epochs = 10, batch = 128, pad = 2, limit = 0;
  bool hflip = true;
  std::string optimizer = "adamw";  // "adamw" | "sgd" (momentum 0.9, nesterov)
  double lr = 1e-3, weight_decay = 0.05, warmup_epochs = 1.0, label_smoothing = 0.0;
  uint64_t seed = 0;
};
// Trains in place (cosine schedule with linear warm-up per step); calls on_epoch after each
// epoch with the test accuracy. Returns the final test result.
EvalResult train(Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& opt,
                 const std::function<void(int64_t epoch, double loss, const EvalResult& test)>& on_epoch);

}  // namespace logq
