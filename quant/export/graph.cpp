#include "quant/export/graph.h"

#include <fmt/format.h>

#include "io/error.h"
#include "golden/lqm.h"
#include "quant/models/layers.h"

namespace logq {

using json = nlohmann::json;

GraphBuilder::GraphBuilder(GemmSource source, Shape input_shape, json model) : source_(std::move(source)) {
  model["input_shape"] = input_shape;
  graph_ = {{"model", std::move(model)}, {"inputs", {kInput}}, {"outputs", json::array()}, {"layers", json::array()}};
  shapes_[kInput] = std::move(input_shape);
}

std::string GraphBuilder::gemm(const std::string& name, torch::nn::Module& module, const std::string& x) {
  QLayer l = source_(name, module);
  l.name = name;
  const Shape& in = shapes_.at(x);
  if (auto* c = module.as<nn::Conv2dImpl>()) {
    if (in.size() != 3) throw Error(fmt::format("export: conv '{}' input {} is not [C, H, W]", name, shape_str(in)));
    const nn::ConvSpec& s = c->spec;
    l.op = LayerOp::Conv2d;
    l.conv = Conv2dShape{in[0], in[1], in[2], s.out, s.kernel, s.kernel, s.stride, s.padding, 1, s.groups};
    l.out_features = s.out;
    l.in_features = s.in / s.groups * s.kernel * s.kernel;
  } else if (auto* lin = module.as<nn::LinearImpl>()) {
    l.op = LayerOp::Linear;
    l.out_features = lin->out_features;
    l.in_features = lin->in_features;
  } else {
    throw Error(fmt::format("export: '{}' is not a Linear or Conv2d", name));
  }
  shapes_[name] = gemm_shape(l, {in});
  add_layer(graph_, writer_, l, {x}, {name});
  gemms_.push_back(std::move(l));
  return name;
}

std::string GraphBuilder::matmul(const std::string& name, torch::nn::Module& module, const std::string& a, const std::string& b) {
  QLayer l = source_(name, module);
  l.name = name;
  l.op = LayerOp::Matmul;
  const Shape &sa = shapes_.at(a), &sb = shapes_.at(b);
  if (sa.size() != 3 || sb.size() != 3) throw Error(fmt::format("export: matmul '{}' operands {} and {} are not [H, M, K] / [H, K, N]", name, shape_str(sa), shape_str(sb)));
  l.heads = sa[0];
  // Swin batches (window, head) pairs: per-head parameters repeat for every window.
  for (UniformParams* u : {&l.x_uniform, &l.b_uniform}) {
    const int64_t h = int64_t(u->scale.size());
    if (h <= 1 || h == l.heads) continue;
    if (l.heads % h) throw Error(fmt::format("export: matmul '{}' has {} per-head scales for a batch of {}", name, h, l.heads));
    std::vector<float> s;
    std::vector<int32_t> z;
    for (int64_t i = 0; i < l.heads; ++i) s.push_back(u->scale[size_t(i % h)]), z.push_back(u->zero_point[size_t(i % h)]);
    u->scale = s;
    u->zero_point = z;
  }
  l.in_features = sa[2];
  l.out_features = sb[2];
  shapes_[name] = gemm_shape(l, {sa, sb});
  add_layer(graph_, writer_, l, {a, b}, {name});
  gemms_.push_back(std::move(l));
  return name;
}

std::string GraphBuilder::op(const std::string& name, const std::string& op, const std::vector<std::string>& inputs,
                             const json& attrs, const std::map<std::string, at::Tensor>& tensors) {
  json layer = {{"name", name}, {"op", op}, {"inputs", inputs}, {"outputs", {name}}};
  if (!attrs.empty()) layer["attrs"] = attrs;
  std::map<std::string, Shape> tshapes;
  for (const auto& [role, t] : tensors) {
    const at::Tensor c = t.detach().to(at::kFloat).contiguous();
    const std::string tname = name + "." + role;
    writer_.add(tname, DType::F32, c.sizes().vec(), c.data_ptr<float>(), size_t(c.numel()) * sizeof(float));
    layer["tensors"][role] = tname;
    tshapes[role] = c.sizes().vec();
  }
  std::vector<Shape> in;
  for (const auto& v : inputs) in.push_back(shapes_.at(v));
  shapes_[name] = float_op_shape(layer, in, tshapes);
  graph_["layers"].push_back(layer);
  return name;
}

std::string GraphBuilder::batchnorm(const std::string& name, torch::nn::Module& m, const std::string& x) {
  auto* bn = m.as<nn::BatchNorm2dImpl>();
  if (!bn) throw Error(fmt::format("export: '{}' is not a BatchNorm2d", name));
  if (bn->folded) return x;
  return op(name, "batchnorm2d", {x}, {{"eps", bn->eps}},
            {{"weight", bn->weight}, {"bias", bn->bias}, {"running_mean", bn->running_mean}, {"running_var", bn->running_var}});
}

void GraphBuilder::finish(const std::string& output) { graph_["outputs"] = {output}; }

namespace {

// Wraps a hook so that it also records its input; the previous hook still runs.
void record_into(nn::TensorFn& hook, std::vector<at::Tensor>& store) {
  nn::TensorFn old = hook;
  hook = [old, &store](const at::Tensor& x) {
    store.push_back(x.detach().clone());
    return old ? old(x) : x;
  };
}

}  // namespace

void export_lqm(Net& net, const GraphBuilder::GemmSource& source, json model, const at::Tensor& samples,
                const std::vector<int64_t>& labels, const std::string& path, const std::string& producer) {
  const Shape in_shape(samples.sizes().begin() + 1, samples.sizes().end());
  if (!model.contains("name")) model["name"] = net.arch.empty() ? std::string("model") : net.arch;
  GraphBuilder g(source, in_shape, std::move(model));
  net.export_graph(g);
  if (samples.size(0) == 0) return write_lqm(path, g.graph(), std::move(g.tensors()), producer);

  // The fake-quant model on the sample images, recording every GEMM input.
  std::map<std::string, std::shared_ptr<torch::nn::Module>> mods;
  for (const auto& item : net.named_modules("", false)) mods[item.key()] = item.value();
  struct Saved { nn::TensorFn* hook; nn::TensorFn old; };
  std::vector<Saved> saved;
  std::map<std::string, std::vector<at::Tensor>> xs, bs;
  for (const QLayer& l : g.gemms()) {
    auto m = mods.at(l.name);
    nn::TensorFn* hx = nullptr;
    nn::TensorFn* hb = nullptr;
    if (auto* c = m->as<nn::Conv2dImpl>()) hx = &c->input_hook;
    else if (auto* li = m->as<nn::LinearImpl>()) hx = &li->input_hook;
    else if (auto* mm = m->as<nn::MatMulImpl>()) hx = &mm->a_hook, hb = &mm->b_hook;
    saved.push_back({hx, *hx});
    record_into(*hx, xs[l.name]);
    if (hb) {
      saved.push_back({hb, *hb});
      record_into(*hb, bs[l.name]);
    }
  }
  at::Tensor logits;
  try {
    c10::NoGradGuard ng;
    logits = net.forward(samples).contiguous();
  } catch (...) {
    for (auto& s : saved) *s.hook = s.old;
    throw;
  }
  for (auto& s : saved) *s.hook = s.old;

  SafetensorsWriter& w = g.tensors();
  const int64_t n = samples.size(0);
  const at::Tensor imgs = samples.contiguous();
  w.add("samples/images", DType::F32, imgs.sizes().vec(), imgs.data_ptr<float>(), size_t(imgs.numel()) * sizeof(float));
  w.add("samples/logits", DType::F32, logits.sizes().vec(), logits.data_ptr<float>(), size_t(logits.numel()) * sizeof(float));
  w.add("samples/labels", DType::I64, {n}, labels);
  for (const QLayer& l : g.gemms()) {
    if (l.x_float) continue;
    const at::Tensor x = at::cat(xs.at(l.name), 0).contiguous();
    const int64_t per = x.numel() / n;
    std::vector<int32_t> codes;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = x.data_ptr<float>() + i * per;
      const std::vector<float> xi(p, p + per);
      const int64_t rows = l.op == LayerOp::Matmul ? x.size(2) : (l.op == LayerOp::Linear ? per / l.in_features : 1);
      const auto c = encode_x(l, xi, rows);
      codes.insert(codes.end(), c.begin(), c.end());
    }
    std::vector<int64_t> shape = x.sizes().vec();
    w.add("samples/" + l.name + ".x", DType::I32, shape, codes);
    if (l.op == LayerOp::Matmul) {
      const at::Tensor b = at::cat(bs.at(l.name), 0).contiguous();
      const int64_t pb = b.numel() / n;
      std::vector<int32_t> bc;
      for (int64_t i = 0; i < n; ++i) {
        const float* p = b.data_ptr<float>() + i * pb;
        const auto c = encode_b(l, std::vector<float>(p, p + pb));
        bc.insert(bc.end(), c.begin(), c.end());
      }
      w.add("samples/" + l.name + ".b", DType::I32, b.sizes().vec(), bc);
    }
  }
  write_lqm(path, g.graph(), std::move(w), producer);
}

}  // namespace logq
