// The calibrated AdaLog model as one safetensors file: the network's state dict after
// reparameterization/bias folding ("net.*"), every quantizer's tensors ("q.<layer>.*"), and the
// plan (kinds, bits, q, flags) plus the model config in the metadata. Resumable like the
// reference's calibration checkpoints: --load-calibrated, then --optimize.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/json_input.h"
#include "io/safetensors.h"
#include "quant/adalog/adalog.h"
#include "quant/models/models.h"

namespace logq::adalog {

namespace {
void add(SafetensorsWriter& w, const std::string& k, const at::Tensor& t) {
  const at::Tensor c = t.detach().to(at::kFloat).contiguous();
  w.add(k, DType::F32, c.sizes().vec(), c.data_ptr(), size_t(c.numel()) * 4);
}

at::Tensor get(const SafetensorsFile& f, const std::string& k) {
  const TensorInfo* info = f.find(k);
  if (!info) throw Error(fmt::format("{}: missing tensor '{}'", f.path(), k));
  std::vector<float> v = f.read<float>(k, DType::F32);
  return at::from_blob(v.data(), info->shape, at::kFloat).clone();
}
}  // namespace

void save_calibrated(const QuantModel& qm, const nlohmann::json& model_config, const std::string& path,
                     const std::map<std::string, std::string>& meta) {
  SafetensorsWriter w;
  for (const auto& [k, v] : state_dict(*qm.net)) {
    if (v.scalar_type() != at::kFloat) {  // integer buffers (Swin relative_position_index) as int64
      const at::Tensor c = v.contiguous();
      w.add("net." + k, DType::I64, c.sizes().vec(), c.data_ptr(), size_t(c.numel()) * 8);
    } else {
      add(w, "net." + k, v);
    }
  }
  nlohmann::json plan = nlohmann::json::array();
  for (const auto& l : qm.layers) {
    plan.push_back({{"name", l.name}, {"kind", l.kind}, {"log_kind", l.log_kind}, {"w_bits", l.w.bits}, {"a_bits", l.a.bits},
                    {"b_bits", l.b.bits}, {"alog_bits", l.alog.bits}, {"q", l.alog.q}, {"twin_s0", l.twin_s0}, {"twin_s1", l.twin_s1},
                    {"bias_folded", l.bias_folded}});
    for (const auto& [tag, u] : {std::pair<const char*, const Uniform*>{"w", &l.w}, {"a", &l.a}, {"b", &l.b}})
      if (u->defined()) {
        add(w, fmt::format("q.{}.{}.s", l.name, tag), u->s);
        add(w, fmt::format("q.{}.{}.z", l.name, tag), u->z);
      }
    if (l.alog.s.defined()) add(w, fmt::format("q.{}.alog.s", l.name), l.alog.s);
  }
  w.set_metadata("logq.method", "adalog");
  w.set_metadata("logq.model_config", model_config.dump());
  w.set_metadata("logq.adalog.plan", plan.dump());
  for (const auto& [k, v] : meta) w.set_metadata(k, v);
  w.write(path);
}

QuantModel load_calibrated(const std::string& path, nlohmann::json* model_config) {
  const auto f = SafetensorsFile::open(path);
  if (f.metadata_or("logq.method", "") != "adalog") throw Error(fmt::format("{}: not an AdaLog calibrated model (logq.method)", path));
  nlohmann::json cfg, plan;
  try {
    cfg = resolve_model_config(parse_json_input(f.metadata_or("logq.model_config", ""), path + ": logq.model_config"));
    plan = parse_json_input(f.metadata_or("logq.adalog.plan", ""), path + ": logq.adalog.plan");
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: metadata: {}", path, e.what()));
  }
  QuantModel qm;
  qm.net = create_model_from_config(cfg);
  // Linears that gained a bias in the reparameterization (Swin's reduction) get it back first.
  StateDict sd;
  for (const auto& info : f.tensors()) {
    if (info.name.rfind("net.", 0) != 0) continue;
    const std::string k = info.name.substr(4);
    at::Tensor t;
    if (info.dtype == DType::I64) {
      std::vector<int64_t> v = f.read<int64_t>(info.name, DType::I64);
      t = at::from_blob(v.data(), info.shape, at::kLong).clone();
    } else {
      t = get(f, info.name);
    }
    sd.emplace_back(k, t);
  }
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : qm.net->named_modules("", false)) mods[item.key()] = item.value();
  for (const auto& [k, t] : sd) {
    const std::string suffix = ".bias";
    if (k.size() <= suffix.size() || k.compare(k.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string owner = k.substr(0, k.size() - suffix.size());
    if (!mods.count(owner)) continue;
    if (auto* lin = mods.at(owner)->as<nn::LinearImpl>(); lin && !lin->bias.defined())
      lin->bias = lin->register_parameter("bias", at::zeros({lin->out_features}));
  }
  load_state_dict(*qm.net, sd, path);
  qm.net->eval();
  try {
    for (const auto& p : plan) {
      QLayer l;
      l.name = p.at("name");
      if (!mods.count(l.name)) throw Error(fmt::format("{}: plan names layer '{}', which the model does not have", path, l.name));
      l.kind = p.at("kind");
      l.log_kind = p.at("log_kind");
      l.w.bits = p.at("w_bits");
      l.a.bits = p.at("a_bits");
      l.b.bits = p.at("b_bits");
      l.alog.bits = p.at("alog_bits");
      l.alog.q = p.at("q");
      l.twin_s0 = p.at("twin_s0");
      l.twin_s1 = p.at("twin_s1");
      l.bias_folded = p.at("bias_folded");
      if (l.alog.q < 1 || l.alog.q > 1000) throw Error(fmt::format("{}: layer '{}' has AdaLog q {}", path, l.name, l.alog.q));
      for (auto [tag, u] : {std::pair<const char*, Uniform*>{"w", &l.w}, {"a", &l.a}, {"b", &l.b}})
        if (f.find(fmt::format("q.{}.{}.s", l.name, tag))) {
          u->s = get(f, fmt::format("q.{}.{}.s", l.name, tag));
          u->z = get(f, fmt::format("q.{}.{}.z", l.name, tag));
        }
      if (f.find(fmt::format("q.{}.alog.s", l.name))) l.alog.s = get(f, fmt::format("q.{}.alog.s", l.name));
      qm.layers.push_back(l);
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: plan: {}", path, e.what()));
  }
  if (model_config) *model_config = cfg;
  return qm;
}

}  // namespace logq::adalog
