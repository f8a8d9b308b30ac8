#include "quant/eval/runner.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include <fmt/format.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "io/checkpoint.h"
#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "io/progress.h"
#include "io/safetensors.h"

namespace logq {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

DType to_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return DType::F32;
    case at::kDouble: return DType::F64;
    case at::kLong: return DType::I64;
    case at::kInt: return DType::I32;
    case at::kByte: return DType::U8;
    case at::kBool: return DType::BOOL;
    default: throw Error(fmt::format("cannot save tensors of dtype {}", c10::toString(t)));
  }
}

}  // namespace

Preprocess preprocess_for(const Net& net) {
  Preprocess p;
  p.in_chans = net.data.in_chans;
  p.img_size = net.data.img_size;
  p.crop_pct = net.data.crop_pct;
  p.bicubic = net.data.interpolation == "bicubic";
  p.mean.assign(net.data.mean.begin(), net.data.mean.end());
  p.std.assign(net.data.std.begin(), net.data.std.end());
  return p;
}

at::Tensor make_batch(const Dataset& ds, const std::vector<int64_t>& idx, size_t begin, size_t end, const Preprocess& p,
                      at::Tensor* labels) {
  const int64_t n = int64_t(end - begin), S = p.img_size;
  at::Tensor x = at::empty({n, p.in_chans, S, S});
  at::Tensor y = at::empty({n}, at::kLong);
  float* xp = x.data_ptr<float>();
  int64_t* yp = y.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = size_t(idx[begin + i]);
    try {
      preprocess_eval(ds.image(k), p, xp + i * p.in_chans * S * S);
    } catch (const Error& e) {
      throw Error(fmt::format("{} image {}: {}", ds.name, k, e.what()));
    }
    yp[i] = ds.label(k);
  }
  if (labels) *labels = y;
  return x;
}

LoadedModel load_model(const nlohmann::json& config, const std::string& checkpoint) {
  nlohmann::json cfg = config;
  if (cfg.is_null()) {
    if (checkpoint.empty()) throw Error("no model: give --model, --model-config or a logq checkpoint");
    {  // a torch.save file holds weights only: say so before a safetensors parser calls it garbage
      const auto bytes = Bytes::map_file(checkpoint);
      if (is_torch_checkpoint(bytes->data(), bytes->size()))
        throw Error(fmt::format("{}: a torch checkpoint holds weights but no model config: give --model PRESET (see `logq models`), "
                                "--model-config JSON, or both (a preset with overrides)", checkpoint));
    }
    const auto f = SafetensorsFile::open(checkpoint);
    const std::string s = f.metadata_or("logq.model_config", "");
    if (s.empty()) throw Error(fmt::format("{}: no logq.model_config metadata; give --model or --model-config", checkpoint));
    try {
      cfg = resolve_model_config(parse_json_input(s, checkpoint + ": logq.model_config"));
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: logq.model_config: {}", checkpoint, e.what()));
    }
  }
  // Without a checkpoint the weights are the model file's random initialisation. LibTorch seeds
  // its default generator at random in every process, so without this two runs (and the FP and
  // quantized copies of one run) got different weights.
  if (checkpoint.empty()) at::manual_seed(0);
  LoadedModel m{create_model_from_config(cfg), cfg};
  if (!checkpoint.empty()) load_state_dict(*m.net, load_state_dict(checkpoint), checkpoint);
  m.net->eval();
  return m;
}

void save_model(const Net& net, const nlohmann::json& config, const std::string& path,
                const std::map<std::string, std::string>& meta) {
  SafetensorsWriter w;
  for (const auto& [k, v] : state_dict(net)) {
    const at::Tensor c = v.detach().contiguous();
    std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());
    w.add(k, to_dtype(c.scalar_type()), shape, c.data_ptr(), size_t(c.numel()) * c.element_size());
  }
  w.set_metadata("format", "pt");
  w.set_metadata("logq.model_config", config.dump());
  for (const auto& [k, v] : meta) w.set_metadata(k, v);
  w.write(path);
}

EvalResult evaluate(Net& net, const Dataset& ds, const EvalOptions& opt) {
  torch::NoGradGuard no_grad;
  net.eval();
  const Preprocess p = preprocess_for(net);
  const size_t n = opt.limit > 0 ? std::min<size_t>(size_t(opt.limit), ds.size()) : ds.size();
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  EvalResult r;
  const auto t0 = Clock::now();
  Progress bar("eval " + ds.name, int64_t(n), opt.progress);
  for (size_t b = 0; b < n; b += size_t(opt.batch)) {
    const size_t e = std::min(n, b + size_t(opt.batch));
    at::Tensor y;
    at::Tensor logits = net.forward(make_batch(ds, idx, b, e, p, &y));
    const int64_t k = std::min<int64_t>(5, logits.size(1));
    at::Tensor top = std::get<1>(logits.topk(k, 1));
    at::Tensor hit = top.eq(y.unsqueeze(1));
    r.top1 += hit.select(1, 0).sum().item<int64_t>();
    r.top5 += hit.any(1).sum().item<int64_t>();
    r.n += int64_t(e - b);
    bar.update(r.n, fmt::format("top-1 {:.2f}%", r.top1_pct()));
  }
  r.seconds = since(t0);
  return r;
}

EvalResult train(Net& net, const Dataset& train_set, const Dataset& test_set, const TrainOptions& opt,
                 const std::function<void(int64_t, double, const EvalResult&)>& on_epoch) {
  const Preprocess p = preprocess_for(net);
  std::mt19937_64 rng(opt.seed);
  const size_t n = opt.limit > 0 ? std::min<size_t>(size_t(opt.limit), train_set.size()) : train_set.size();
  const int64_t steps_per_epoch = int64_t((n + size_t(opt.batch) - 1) / size_t(opt.batch));
  const int64_t total = steps_per_epoch * opt.epochs, warm = int64_t(opt.warmup_epochs * double(steps_per_epoch));
  std::unique_ptr<torch::optim::Optimizer> optim;
  if (opt.optimizer == "adamw")
    optim = std::make_unique<torch::optim::AdamW>(net.parameters(), torch::optim::AdamWOptions(opt.lr).weight_decay(opt.weight_decay));
  else if (opt.optimizer == "sgd")
    optim = std::make_unique<torch::optim::SGD>(net.parameters(),
                                                torch::optim::SGDOptions(opt.lr).momentum(0.9).nesterov(true).weight_decay(opt.weight_decay));
  else
    throw Error(fmt::format("optimizer '{}' is not adamw|sgd", opt.optimizer));
  auto set_lr = [&](double lr) {
    for (auto& g : optim->param_groups()) {
      if (opt.optimizer == "adamw") static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      else static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
    }
  };
  std::vector<int64_t> order(train_set.size());
  std::iota(order.begin(), order.end(), 0);
  const int64_t S = p.img_size, per = p.in_chans * S * S;
  EvalResult last;
  int64_t step = 0;
  for (int64_t epoch = 0; epoch < opt.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    net.train();
    double loss_sum = 0;
    int64_t seen = 0;
    Progress bar(fmt::format("epoch {}/{}", epoch + 1, opt.epochs), int64_t(n), stderr_is_terminal());
    for (size_t b = 0; b < n; b += size_t(opt.batch), ++step) {
      const size_t e = std::min(n, b + size_t(opt.batch));
      at::Tensor x = at::empty({int64_t(e - b), p.in_chans, S, S}), y = at::empty({int64_t(e - b)}, at::kLong);
      float* xp = x.data_ptr<float>();
      int64_t* yp = y.data_ptr<int64_t>();
      for (size_t i = b; i < e; ++i) {
        preprocess_train(train_set.image(size_t(order[i])), p, opt.pad, opt.hflip, rng, xp + int64_t(i - b) * per);
        yp[i - b] = train_set.label(size_t(order[i]));
      }
      const double lr = step < warm ? opt.lr * double(step + 1) / double(warm)
                                    : 0.5 * opt.lr * (1.0 + std::cos(M_PI * double(step - warm) / double(std::max<int64_t>(1, total - warm))));
      set_lr(lr);
      optim->zero_grad();
      at::Tensor loss = torch::nn::functional::cross_entropy(
          net.forward(x), y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(opt.label_smoothing));
      loss.backward();
      optim->step();
      loss_sum += loss.item<double>() * double(e - b);
      seen += int64_t(e - b);
      bar.update(seen, fmt::format("loss {:.4f} lr {:.2e}", loss_sum / double(seen), lr));
    }
    last = evaluate(net, test_set, EvalOptions{256, 0, false});
    if (on_epoch) on_epoch(epoch + 1, loss_sum / double(std::max<int64_t>(seen, 1)), last);
  }
  return last;
}

}  // namespace logq
