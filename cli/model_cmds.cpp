// `logq models`, `logq eval`, `logq train`: the float model commands. One of the two LibTorch TUs of
// cli/ (with quantize_cmd.cpp): each TU that pulls in torch costs ~13 s and 1 GB to compile, so the
// LibTorch commands stay in these two files, which build in parallel.
#include "cli/model_cmds.h"
#include "cli/common.h"
#include "cli/model_args.h"


#include <ATen/Parallel.h>
#include <torch/utils.h>
#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <limits>
#include <type_traits>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "io/limits.h"
#include "logq_version.h"
#include "quant/eval/runner.h"
#include "quant/adalog/adalog.h"
#include "quant/logart/logart.h"
#include "quant/uniform/uniform.h"

namespace logq::cli {

namespace {


void run_models(bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : presets()) out.push_back({{"name", p.name}, {"family", p.family}, {"description", p.description}, {"config", preset_config(p.name)}});
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("{:<32} {:<12} {}\n", "preset", "family", "description");
  for (const auto& p : presets()) fmt::print("{:<32} {:<12} {}\n", p.name, p.family, p.description);
}

struct EvalArgs {
  ModelArgs m;
  std::string data, split = "test", json, csv;
  int64_t batch = 64, limit = 0;
  bool no_progress = false;
};

void run_eval(const EvalArgs& a) {
  check_output_path(a.json, "--json");
  check_output_path(a.csv, "--csv");
  LoadedModel lm = load_model(model_config(a.m), a.m.checkpoint);
  auto ds = open_dataset(a.data, a.split);
  EvalResult r = evaluate(*lm.net, *ds, EvalOptions{a.batch, a.limit, !a.no_progress});
  const double ips = r.seconds > 0 ? double(r.n) / r.seconds : 0.0;
  fmt::print("{}  {}  images {}  top-1 {:.2f}%  top-5 {:.2f}%  {:.1f} images/s ({:.2f} ms/image, 1 thread)\n", lm.net->arch, ds->name,
             r.n, r.top1_pct(), r.top5_pct(), ips, ips > 0 ? 1000.0 / ips : 0.0);
  if (!a.json.empty()) {
    nlohmann::json j{{"model", lm.net->arch}, {"checkpoint", a.m.checkpoint}, {"dataset", ds->name}, {"images", r.n},
                     {"top1", r.top1_pct()}, {"top5", r.top5_pct()}, {"correct_top1", r.top1}, {"correct_top5", r.top5},
                     {"seconds", r.seconds}, {"images_per_s", ips}, {"model_config", lm.config}};
    write_text(a.json, j.dump(2) + "\n");
  }
  if (!a.csv.empty())
    write_text(a.csv, fmt::format("model,checkpoint,dataset,images,top1,top5,seconds,images_per_s\n{},{},{},{},{:.4f},{:.4f},{:.3f},{:.2f}\n",
                                  lm.net->arch, a.m.checkpoint, ds->name, r.n, r.top1_pct(), r.top5_pct(), r.seconds, ips));
}

struct TrainArgs {
  ModelArgs m;
  TrainOptions o;
  std::string data = "/usr/share/datasets/fashion-mnist", out, log, init;
  std::string cmd;
};

void run_train(const TrainArgs& a) {
  if (a.out.empty()) throw Error("--out FILE.safetensors is required");
  check_output_path(a.out, "--out");
  check_output_path(a.log, "--log");
  const nlohmann::json cfg = model_config_from_cli(a.m.model, a.m.model_config);
  torch::manual_seed(a.o.seed);
  auto net = create_model_from_config(cfg);  // initialised under the seed
  if (!a.init.empty()) load_state_dict(*net, load_state_dict(a.init), a.init);  // continue from weights
  auto train_set = open_dataset(a.data, "train");
  auto test_set = open_dataset(a.data, "test");
  int64_t params = 0;
  for (const auto& p : net->parameters()) params += p.numel();
  fmt::print("train {} ({} parameters) on {} ({} images), test {} ({} images), {} epochs\n", net->arch, params, train_set->name,
             train_set->size(), test_set->name, test_set->size(), a.o.epochs);
  std::string log = "epoch,train_loss,test_top1,test_top5,seconds\n";
  const auto t0 = std::chrono::steady_clock::now();
  EvalResult r = train(*net, *train_set, *test_set, a.o, [&](int64_t epoch, double loss, const EvalResult& t) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("epoch {:>3}  loss {:.4f}  test top-1 {:.2f}%  top-5 {:.2f}%  ({:.0f} s)\n", epoch, loss, t.top1_pct(), t.top5_pct(), s);
    std::fflush(stdout);
    log += fmt::format("{},{:.6f},{:.4f},{:.4f},{:.1f}\n", epoch, loss, t.top1_pct(), t.top5_pct(), s);
    if (!a.log.empty()) write_text(a.log, log);
  });
  save_model(*net, cfg, a.out,
             {{"logq.version", LOGQ_VERSION}, {"logq.command", a.cmd}, {"logq.test_top1", fmt::format("{:.2f}", r.top1_pct())},
              {"logq.test_dataset", test_set->name}, {"logq.parameters", std::to_string(params)}});
  fmt::print("wrote {} (test top-1 {:.2f}%)\n", a.out, r.top1_pct());
}
}  // namespace

void add_model_commands(CLI::App& app, int argc, char** argv) {
  at::set_num_threads(1);  // one thread per process: in-process threading is slow on these machines

  static bool models_json = false;
  auto* models = app.add_subcommand("models", "List the model presets (name, family, description)");
  models->add_flag("--json", models_json, "print every preset's full config as JSON");
  models->callback([] { run_models(models_json); });

  static EvalArgs ea;
  auto* ev = app.add_subcommand("eval", "Float top-1/top-5 of a model on a dataset (one thread, batched)");
  add_model_args(ev, ea.m, true);
  ev->add_option("--data", ea.data,
                 "dataset folder: Fashion-MNIST (gzip IDX), CIFAR-10 .bin folder with y_labels.csv, ImageNet root "
                 "(train/ val/) or a folder of class folders of JPEGs")->required();
  ev->add_option("--split", ea.split, "train | test (Fashion-MNIST); train | val (ImageNet root)")->capture_default_str();
  ev->add_option("--batch", ea.batch, "images per forward")->capture_default_str()->check(CLI::PositiveNumber);
  ev->add_option("--limit", ea.limit, "evaluate only the first N images (0: all)")->capture_default_str();
  ev->add_option("--json", ea.json, "write the result as JSON to FILE (- for stdout)");
  ev->add_option("--csv", ea.csv, "write the result as a CSV row (with header) to FILE (- for stdout)");
  ev->add_flag("--no-progress", ea.no_progress, "no progress line on stderr");
  ev->callback([] { run_eval(ea); });

  static TrainArgs ta;
  ta.cmd = command_line(argc, argv);
  auto* tr = app.add_subcommand("train", "Train a model from scratch on Fashion-MNIST (the embedded default models)");
  add_model_args(tr, ta.m, false);
  tr->add_option("--data", ta.data, "Fashion-MNIST folder")->capture_default_str();
  tr->add_option("--out", ta.out, "checkpoint to write (safetensors, with the model config in its metadata)")->required();
  tr->add_option("--init", ta.init, "start from these weights instead of a random initialisation (fine-tuning)");
  tr->add_option("--log", ta.log, "per-epoch CSV log (epoch,train_loss,test_top1,test_top5,seconds)");
  tr->add_option("--epochs", ta.o.epochs, "epochs")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--batch", ta.o.batch, "batch size")->capture_default_str()->check(CLI::PositiveNumber);
  tr->add_option("--optimizer", ta.o.optimizer, "adamw | sgd (momentum 0.9, Nesterov)")->capture_default_str();
  tr->add_option("--lr", ta.o.lr, "peak learning rate (cosine schedule after warm-up)")->capture_default_str();
  tr->add_option("--weight-decay", ta.o.weight_decay, "weight decay")->capture_default_str();
  tr->add_option("--warmup-epochs", ta.o.warmup_epochs, "linear warm-up length")->capture_default_str();
  tr->add_option("--label-smoothing", ta.o.label_smoothing, "cross-entropy label smoothing")->capture_default_str();
  tr->add_option("--pad", ta.o.pad, "random-crop padding in pixels (augmentation)")->capture_default_str();
  tr->add_option("--hflip", ta.o.hflip, "random horizontal flip")->capture_default_str();
  tr->add_option("--seed", ta.o.seed, "seed of initialisation, shuffling and augmentation")->capture_default_str();
  tr->add_option("--limit", ta.o.limit, "train on the first N shuffled images per epoch (0: all)")->capture_default_str();
  tr->callback([] { run_train(ta); });
}

}  // namespace logq::cli
