// timm 0.9.2 VisionTransformer (ViT and DeiT presets): class token, learned position embedding
// added after the class token is prepended, pre-norm blocks, LayerNorm eps 1e-6, head on token 0.
// Attention keeps q@k^T and attn@v as MatMul modules (`attn.matmul1`, `attn.matmul2`) and applies
// the scale after matmul1, as AdaLog's wrapped attention does (spec/adalog.md section 2).
//
// Config keys: img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads, mlp_ratio,
// qkv_bias, drop_path_rate (training only).
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "quant/models/config.h"
#include "quant/export/graph.h"
#include "quant/models/models.h"

namespace logq {
namespace {

std::string export_layernorm(GraphBuilder& g, torch::nn::LayerNormImpl& ln, const std::string& name, const std::string& x) {
  return g.op(name, "layernorm", {x}, {{"eps", ln.options.eps()}}, {{"weight", ln.weight}, {"bias", ln.bias}});
}

struct ViTConfig {
  int64_t img_size = 224, patch_size = 16, in_chans = 3, num_classes = 1000;
  int64_t embed_dim = 768, depth = 12, num_heads = 12;
  double mlp_ratio = 4.0, drop_path_rate = 0.0;
  bool qkv_bias = true;
};

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads, bool qkv_bias) : heads_(heads) {
    scale_ = 1.0 / std::sqrt(double(dim / heads));
    qkv = register_module("qkv", nn::Linear(dim, dim * 3, qkv_bias));
    proj = register_module("proj", nn::Linear(dim, dim));
    matmul1 = register_module("matmul1", nn::MatMul());
    matmul2 = register_module("matmul2", nn::MatMul());
  }
  at::Tensor forward(const at::Tensor& x) {
    const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
    at::Tensor t = qkv(x).reshape({B, N, 3, heads_, C / heads_}).permute({2, 0, 3, 1, 4});
    at::Tensor q = t[0], k = t[1], v = t[2];
    at::Tensor attn = matmul1(q, k.transpose(-2, -1)) * scale_;
    attn = attn.softmax(-1);
    at::Tensor y = matmul2(attn, v).transpose(1, 2).reshape({B, N, C});
    return proj(y);
  }
  // Per image: x [N, C] → qkv [N, 3C] → [3, H, N, d]; q·kᵀ per head, ·scale, softmax, ·v.
  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x) {
    const int64_t N = g.shape(x)[0], C = g.shape(x)[1], d = C / heads_;
    std::string t = g.op(p + ".split", "reshape", {g.gemm(p + ".qkv", *qkv, x)}, {{"shape", {N, 3, heads_, d}}});
    t = g.op(p + ".heads", "permute", {t}, {{"dims", {1, 2, 0, 3}}});
    const auto part = [&](int i, const char* n) {
      const std::string s = g.op(p + "." + n + "_slice", "slice", {t}, {{"dim", 0}, {"start", i}, {"end", i + 1}});
      return g.op(p + "." + n, "reshape", {s}, {{"shape", {heads_, N, d}}});
    };
    const std::string q = part(0, "q"), k = part(1, "k"), v = part(2, "v");
    const std::string kt = g.op(p + ".k_t", "permute", {k}, {{"dims", {0, 2, 1}}});
    std::string a = g.op(p + ".scale", "scale", {g.matmul(p + ".matmul1", *matmul1, q, kt)}, {{"factor", scale_}});
    a = g.op(p + ".softmax", "softmax", {a});
    std::string y = g.op(p + ".merge", "permute", {g.matmul(p + ".matmul2", *matmul2, a, v)}, {{"dims", {1, 0, 2}}});
    y = g.op(p + ".concat_heads", "reshape", {y}, {{"shape", {N, C}}});
    return g.gemm(p + ".proj", *proj, y);
  }

  nn::Linear qkv{nullptr}, proj{nullptr};
  nn::MatMul matmul1{nullptr}, matmul2{nullptr};

 private:
  int64_t heads_;
  double scale_;
};
TORCH_MODULE(Attention);

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const ViTConfig& c, double dpr) : drop_path_(dpr) {
    norm1 = register_module("norm1", nn::layer_norm(c.embed_dim, 1e-6));
    attn = register_module("attn", Attention(c.embed_dim, c.num_heads, c.qkv_bias));
    norm2 = register_module("norm2", nn::layer_norm(c.embed_dim, 1e-6));
    mlp = register_module("mlp", nn::Mlp(c.embed_dim, int64_t(c.embed_dim * c.mlp_ratio)));
  }
  at::Tensor forward(at::Tensor x) {
    x = x + nn::drop_path(attn(norm1(x)), drop_path_, is_training());
    return x + nn::drop_path(mlp(norm2(x)), drop_path_, is_training());
  }
  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x) {
    std::string y = attn->export_graph(g, p + ".attn", export_layernorm(g, *norm1, p + ".norm1", x));
    const std::string x1 = g.op(p + ".add1", "add", {x, y});
    y = g.gemm(p + ".mlp.fc1", *mlp->fc1, export_layernorm(g, *norm2, p + ".norm2", x1));
    y = g.gemm(p + ".mlp.fc2", *mlp->fc2, g.op(p + ".mlp.gelu", "gelu", {y}));
    return g.op(p + ".add2", "add", {x1, y});
  }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  nn::Mlp mlp{nullptr};

 private:
  double drop_path_;
};
TORCH_MODULE(Block);

class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int64_t in_chans, int64_t dim, int64_t patch) {
    proj = register_module("proj", nn::Conv2d(nn::ConvSpec{in_chans, dim, patch, patch, 0, 1, true}));
  }
  at::Tensor forward(const at::Tensor& x) { return proj(x).flatten(2).transpose(1, 2); }  // B, N, C
  nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class VisionTransformer : public Net {
 public:
  explicit VisionTransformer(const ViTConfig& c) {
    const int64_t grid = c.img_size / c.patch_size;
    torch::NoGradGuard g;
    cls_token = register_parameter("cls_token", at::zeros({1, 1, c.embed_dim}).normal_(0, 1e-6));
    pos_embed = register_parameter("pos_embed", at::zeros({1, grid * grid + 1, c.embed_dim}).normal_(0, 0.02).clamp_(-2, 2));
    patch_embed = register_module("patch_embed", PatchEmbed(c.in_chans, c.embed_dim, c.patch_size));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.depth; ++i) {
      const double dpr = c.depth > 1 ? c.drop_path_rate * double(i) / double(c.depth - 1) : 0.0;
      blocks->push_back(Block(c, dpr));
    }
    norm = register_module("norm", nn::layer_norm(c.embed_dim, 1e-6));
    head = register_module("head", nn::Linear(c.embed_dim, c.num_classes));
    for (auto& m : modules(false))
      if (auto* l = m->as<nn::LinearImpl>()) nn::init_trunc_normal(*l, 0.02);
    num_classes = c.num_classes;
  }

  at::Tensor forward(const at::Tensor& img) override {
    at::Tensor x = patch_embed(img);
    x = at::cat({cls_token.expand({x.size(0), -1, -1}), x}, 1) + pos_embed;
    for (size_t i = 0; i < blocks->size(); ++i) {
      x = blocks[i]->as<BlockImpl>()->forward(x);
      emit(fmt::format("blocks.{}", i), x);
    }
    x = norm(x);
    return head(x.select(1, 0));
  }

  // LogART-ViT's units: patch_embed, each block, head; embedding and final norm/pool are glue.
  std::vector<Stage> stages() override {
    std::vector<Stage> st;
    st.push_back({"patch_embed", "block", patch_embed.ptr(), [this](const at::Tensor& x) { return patch_embed(x); }});
    st.push_back({"pos_embed", "glue", nullptr, [this](const at::Tensor& x) {
                    return at::cat({cls_token.expand({x.size(0), -1, -1}), x}, 1) + pos_embed; }});
    for (size_t i = 0; i < blocks->size(); ++i) {
      auto blk = blocks[i]->as<BlockImpl>();
      st.push_back({fmt::format("blocks.{}", i), "block", blocks->ptr(i), [blk](const at::Tensor& x) { return blk->forward(x); }});
    }
    st.push_back({"norm", "glue", nullptr, [this](const at::Tensor& x) { return norm(x).select(1, 0); }});
    st.push_back({"head", "layer", head.ptr(), [this](const at::Tensor& x) { return head(x); }});
    return st;
  }

  void export_graph(GraphBuilder& g) override {
    std::string x = g.gemm("patch_embed.proj", *patch_embed->proj, GraphBuilder::kInput);
    const int64_t D = g.shape(x)[0];
    x = g.op("patch_embed.tokens", "permute", {g.op("patch_embed.flatten", "reshape", {x}, {{"shape", {D, -1}}})}, {{"dims", {1, 0}}});
    x = g.op("cls_token", "add_tokens", {x}, {}, {{"tokens", cls_token.reshape({1, D})}});
    x = g.op("pos_embed", "add", {x}, {}, {{"other", pos_embed.reshape({-1, D})}});
    for (size_t i = 0; i < blocks->size(); ++i) x = blocks[i]->as<BlockImpl>()->export_graph(g, fmt::format("blocks.{}", i), x);
    x = g.op("pool", "select_token", {export_layernorm(g, *norm, "norm", x)}, {{"index", 0}});
    g.finish(g.gemm("head", *head, x));
  }

  at::Tensor cls_token, pos_embed;
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  nn::Linear head{nullptr};
};

}  // namespace

std::shared_ptr<Net> make_vit(const nlohmann::json& j) {
  ViTConfig c;
  config_get(j, "img_size", c.img_size);
  config_get(j, "patch_size", c.patch_size);
  config_get(j, "in_chans", c.in_chans);
  config_get(j, "num_classes", c.num_classes);
  config_get(j, "embed_dim", c.embed_dim);
  config_get(j, "depth", c.depth);
  config_get(j, "num_heads", c.num_heads);
  config_get(j, "mlp_ratio", c.mlp_ratio);
  config_get(j, "qkv_bias", c.qkv_bias);
  config_get(j, "drop_path_rate", c.drop_path_rate);
  if (c.patch_size <= 0 || c.img_size % c.patch_size)
    throw Error(fmt::format("vit: img_size {} is not a multiple of patch_size {}", c.img_size, c.patch_size));
  if (c.num_heads <= 0 || c.embed_dim % c.num_heads)
    throw Error(fmt::format("vit: embed_dim {} is not a multiple of num_heads {}", c.embed_dim, c.num_heads));
  return std::make_shared<VisionTransformer>(c);
}

}  // namespace logq
