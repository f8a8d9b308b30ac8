// timm 0.9.2 SwinTransformer: NHWC blocks, PatchMerging at the *start* of stages 1..n-1
// (`layers.i.downsample`), window attention with relative position bias and, in every second
// block, a cyclic shift with its attention mask (a persistent buffer `attn_mask`, so it is part of
// the state dict). Where a stage's resolution is <= window_size the window shrinks to the
// resolution and the shift is dropped, as in timm. LayerNorm eps 1e-5. Attention scales q
// *before* matmul1 (spec/adalog.md section 2).
//
// Config keys: img_size, patch_size, in_chans, num_classes, embed_dim, depths, num_heads,
// window_size, mlp_ratio, qkv_bias, drop_path_rate (training only).
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

struct SwinConfig {
  int64_t img_size = 224, patch_size = 4, in_chans = 3, num_classes = 1000;
  int64_t embed_dim = 96, window_size = 7;
  std::vector<int64_t> depths{2, 2, 6, 2}, num_heads{3, 6, 12, 24};
  double mlp_ratio = 4.0, drop_path_rate = 0.0;
  bool qkv_bias = true;
};

// [B, H, W, C] -> [B * H/ws * W/ws, ws*ws, C]
at::Tensor window_partition(const at::Tensor& x, int64_t ws) {
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  return x.view({B, H / ws, ws, W / ws, ws, C}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, ws * ws, C});
}

at::Tensor window_reverse(const at::Tensor& w, int64_t ws, int64_t H, int64_t W) {
  const int64_t C = w.size(-1);
  const int64_t B = w.size(0) / ((H / ws) * (W / ws));
  return w.view({B, H / ws, W / ws, ws, ws, C}).permute({0, 1, 3, 2, 4, 5}).reshape({B, H, W, C});
}

// Index into the (2ws-1)^2 bias table for each pair of tokens in a window.
at::Tensor relative_position_index(int64_t ws) {
  at::Tensor idx = at::empty({ws * ws, ws * ws}, at::kLong);
  auto a = idx.accessor<int64_t, 2>();
  for (int64_t i = 0; i < ws * ws; ++i)
    for (int64_t j = 0; j < ws * ws; ++j) {
      const int64_t dh = i / ws - j / ws + ws - 1, dw = i % ws - j % ws + ws - 1;
      a[i][j] = dh * (2 * ws - 1) + dw;
    }
  return idx;
}

// 0 / -100 mask keeping attention inside the regions a cyclic shift brought together.
at::Tensor shift_attn_mask(int64_t H, int64_t W, int64_t ws, int64_t shift) {
  at::Tensor img = at::zeros({1, H, W, 1});
  auto region = [](int64_t i, int64_t n, int64_t ws, int64_t s) { return i < n - ws ? 0 : i < n - s ? 1 : 2; };
  auto a = img.accessor<float, 4>();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t w = 0; w < W; ++w) a[0][h][w][0] = float(region(h, H, ws, shift) * 3 + region(w, W, ws, shift));
  at::Tensor mw = window_partition(img, ws).squeeze(-1);  // nW, N
  at::Tensor diff = mw.unsqueeze(1) - mw.unsqueeze(2);
  return at::where(diff != 0, at::full({}, -100.0f), at::full({}, 0.0f));
}

class WindowAttentionImpl : public torch::nn::Module {
 public:
  WindowAttentionImpl(int64_t dim, int64_t heads, int64_t ws, bool qkv_bias) : heads_(heads), ws_(ws) {
    scale_ = 1.0 / std::sqrt(double(dim / heads));
    torch::NoGradGuard g;
    relative_position_bias_table = register_parameter(
        "relative_position_bias_table", at::zeros({(2 * ws - 1) * (2 * ws - 1), heads}).normal_(0, 0.02).clamp_(-2, 2));
    rel_index = register_buffer("relative_position_index", relative_position_index(ws));
    qkv = register_module("qkv", nn::Linear(dim, dim * 3, qkv_bias));
    proj = register_module("proj", nn::Linear(dim, dim));
    matmul1 = register_module("matmul1", nn::MatMul());
    matmul2 = register_module("matmul2", nn::MatMul());
  }

  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask) {
    const int64_t B_ = x.size(0), N = x.size(1), C = x.size(2);
    at::Tensor t = qkv(x).reshape({B_, N, 3, heads_, C / heads_}).permute({2, 0, 3, 1, 4});
    at::Tensor q = t[0] * scale_, k = t[1], v = t[2];
    at::Tensor attn = matmul1(q, k.transpose(-2, -1));
    at::Tensor bias = relative_position_bias_table.index_select(0, rel_index.view(-1)).view({N, N, -1}).permute({2, 0, 1});
    attn = attn + bias.unsqueeze(0);
    if (mask.defined()) {
      const int64_t nW = mask.size(0);
      attn = attn.view({B_ / nW, nW, heads_, N, N}) + mask.unsqueeze(1).unsqueeze(0);
      attn = attn.view({-1, heads_, N, N});
    }
    attn = attn.softmax(-1);
    return proj(matmul2(attn, v).transpose(1, 2).reshape({B_, N, -1}));
  }

  // Per image: windows [nW, N, C] → [nW, N, C]. The attention matmuls batch (window, head) pairs
  // ([nW·heads, N, ·]); the bias (and the shift mask) are stored expanded to that batch.
  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x, const at::Tensor& mask) {
    const int64_t nW = g.shape(x)[0], N = g.shape(x)[1], C = g.shape(x)[2], d = C / heads_;
    std::string t = g.op(p + ".split", "reshape", {g.gemm(p + ".qkv", *qkv, x)}, {{"shape", {nW, N, 3, heads_, d}}});
    t = g.op(p + ".heads", "permute", {t}, {{"dims", {2, 0, 3, 1, 4}}});
    const auto part = [&](int i, const char* n) {
      const std::string sl = g.op(p + "." + n + "_slice", "slice", {t}, {{"dim", 0}, {"start", i}, {"end", i + 1}});
      return g.op(p + "." + n, "reshape", {sl}, {{"shape", {nW * heads_, N, d}}});
    };
    const std::string q = g.op(p + ".q_scaled", "scale", {part(0, "q")}, {{"factor", scale_}});
    const std::string kt = g.op(p + ".k_t", "permute", {part(1, "k")}, {{"dims", {0, 2, 1}}});
    const std::string v = part(2, "v");
    at::Tensor bias;
    {
      c10::NoGradGuard ng;
      bias = relative_position_bias_table.index_select(0, rel_index.view(-1)).view({N, N, -1}).permute({2, 0, 1});
    }
    std::string a = g.op(p + ".rel_pos_bias", "add", {g.matmul(p + ".matmul1", *matmul1, q, kt)}, {},
                         {{"other", bias.unsqueeze(0).expand({nW, heads_, N, N}).reshape({nW * heads_, N, N})}});
    if (mask.defined()) a = g.op(p + ".shift_mask", "add", {a}, {}, {{"other", mask.unsqueeze(1).expand({nW, heads_, N, N}).reshape({nW * heads_, N, N})}});
    a = g.op(p + ".softmax", "softmax", {a});
    std::string y = g.op(p + ".unbatch", "reshape", {g.matmul(p + ".matmul2", *matmul2, a, v)}, {{"shape", {nW, heads_, N, d}}});
    y = g.op(p + ".merge", "permute", {y}, {{"dims", {0, 2, 1, 3}}});
    y = g.op(p + ".concat_heads", "reshape", {y}, {{"shape", {nW, N, C}}});
    return g.gemm(p + ".proj", *proj, y);
  }

  at::Tensor relative_position_bias_table, rel_index;
  nn::Linear qkv{nullptr}, proj{nullptr};
  nn::MatMul matmul1{nullptr}, matmul2{nullptr};

 private:
  int64_t heads_, ws_;
  double scale_;
};
TORCH_MODULE(WindowAttention);

class SwinBlockImpl : public torch::nn::Module {
 public:
  SwinBlockImpl(const SwinConfig& c, int64_t dim, int64_t res, int64_t heads, bool shifted, double dpr)
      : ws_(c.window_size), shift_(shifted ? c.window_size / 2 : 0), drop_path_(dpr) {
    if (res <= ws_) {  // the window covers the whole map: no partition, no shift
      ws_ = res;
      shift_ = 0;
    }
    if (res % ws_) throw Error(fmt::format("swin: stage resolution {} is not a multiple of window_size {}", res, ws_));
    if (shift_ > 0) attn_mask = register_buffer("attn_mask", shift_attn_mask(res, res, ws_, shift_));
    norm1 = register_module("norm1", nn::layer_norm(dim, 1e-5));
    attn = register_module("attn", WindowAttention(dim, heads, ws_, c.qkv_bias));
    norm2 = register_module("norm2", nn::layer_norm(dim, 1e-5));
    mlp = register_module("mlp", nn::Mlp(dim, int64_t(dim * c.mlp_ratio)));
  }

  at::Tensor forward(at::Tensor x) {  // [B, H, W, C]
    const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
    x = x + nn::drop_path(window_attention(norm1(x)), drop_path_, is_training());
    x = x.reshape({B, -1, C});
    x = x + nn::drop_path(mlp(norm2(x)), drop_path_, is_training());
    return x.reshape({B, H, W, C});
  }

  // Per image [H, W, C] → [H, W, C].
  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x) {
    const int64_t H = g.shape(x)[0], W = g.shape(x)[1], C = g.shape(x)[2], ws = ws_;
    std::string h = export_layernorm(g, *norm1, p + ".norm1", x);
    if (shift_ > 0) h = g.op(p + ".shift", "roll", {h}, {{"shifts", {-shift_, -shift_}}, {"dims", {0, 1}}});
    h = g.op(p + ".windows", "reshape", {h}, {{"shape", {H / ws, ws, W / ws, ws, C}}});
    h = g.op(p + ".window_order", "permute", {h}, {{"dims", {0, 2, 1, 3, 4}}});
    h = g.op(p + ".window_partition", "reshape", {h}, {{"shape", {(H / ws) * (W / ws), ws * ws, C}}});
    h = attn->export_graph(g, p + ".attn", h, attn_mask);
    h = g.op(p + ".window_grid", "reshape", {h}, {{"shape", {H / ws, W / ws, ws, ws, C}}});
    h = g.op(p + ".window_unorder", "permute", {h}, {{"dims", {0, 2, 1, 3, 4}}});
    h = g.op(p + ".window_reverse", "reshape", {h}, {{"shape", {H, W, C}}});
    if (shift_ > 0) h = g.op(p + ".unshift", "roll", {h}, {{"shifts", {shift_, shift_}}, {"dims", {0, 1}}});
    const std::string x1 = g.op(p + ".add1", "add", {x, h});
    h = g.gemm(p + ".mlp.fc1", *mlp->fc1, export_layernorm(g, *norm2, p + ".norm2", x1));
    h = g.gemm(p + ".mlp.fc2", *mlp->fc2, g.op(p + ".mlp.gelu", "gelu", {h}));
    return g.op(p + ".add2", "add", {x1, h});
  }

  at::Tensor attn_mask;
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attn{nullptr};
  nn::Mlp mlp{nullptr};

 private:
  at::Tensor window_attention(const at::Tensor& x) {
    const int64_t H = x.size(1), W = x.size(2), C = x.size(3);
    at::Tensor s = shift_ > 0 ? at::roll(x, {-shift_, -shift_}, {1, 2}) : x;
    at::Tensor w = attn(window_partition(s, ws_), attn_mask);
    s = window_reverse(w.view({-1, ws_, ws_, C}), ws_, H, W);
    return shift_ > 0 ? at::roll(s, {shift_, shift_}, {1, 2}) : s;
  }
  int64_t ws_, shift_;
  double drop_path_;
};
TORCH_MODULE(SwinBlock);

class PatchMergingImpl : public torch::nn::Module {
 public:
  PatchMergingImpl(int64_t dim, int64_t out_dim) {
    norm = register_module("norm", nn::layer_norm(4 * dim, 1e-5));
    reduction = register_module("reduction", nn::Linear(4 * dim, out_dim, false));
  }
  at::Tensor forward(const at::Tensor& x) {  // [B, H, W, C] -> [B, H/2, W/2, out]
    const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
    // channel order x0 (even h, even w), x1 (odd h, even w), x2 (even h, odd w), x3 (odd, odd)
    at::Tensor y = x.reshape({B, H / 2, 2, W / 2, 2, C}).permute({0, 1, 3, 4, 2, 5}).flatten(3);
    return reduction(norm(y));
  }
  std::string export_graph(GraphBuilder& g, const std::string& p, const std::string& x) {
    const int64_t H = g.shape(x)[0], W = g.shape(x)[1], C = g.shape(x)[2];
    std::string y = g.op(p + ".split", "reshape", {x}, {{"shape", {H / 2, 2, W / 2, 2, C}}});
    y = g.op(p + ".order", "permute", {y}, {{"dims", {0, 2, 3, 1, 4}}});
    y = g.op(p + ".merge", "reshape", {y}, {{"shape", {H / 2, W / 2, 4 * C}}});
    return g.gemm(p + ".reduction", *reduction, export_layernorm(g, *norm, p + ".norm", y));
  }
  torch::nn::LayerNorm norm{nullptr};
  nn::Linear reduction{nullptr};
};
TORCH_MODULE(PatchMerging);

class StageImpl : public torch::nn::Module {
 public:
  StageImpl(const SwinConfig& c, int64_t in_dim, int64_t dim, int64_t res, int64_t depth, int64_t heads,
            bool downsample_first, const std::vector<double>& dpr) {
    if (downsample_first) downsample = register_module("downsample", PatchMerging(in_dim, dim));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < depth; ++i) blocks->push_back(SwinBlock(c, dim, res, heads, i % 2 == 1, dpr[i]));
  }
  PatchMerging downsample{nullptr};
  torch::nn::ModuleList blocks{nullptr};
};
TORCH_MODULE(Stage);

class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int64_t in_chans, int64_t dim, int64_t patch) {
    proj = register_module("proj", nn::Conv2d(nn::ConvSpec{in_chans, dim, patch, patch, 0, 1, true}));
    norm = register_module("norm", nn::layer_norm(dim, 1e-5));
  }
  at::Tensor forward(const at::Tensor& x) { return norm(proj(x).permute({0, 2, 3, 1})); }  // NHWC
  nn::Conv2d proj{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(PatchEmbed);

class HeadImpl : public torch::nn::Module {
 public:
  HeadImpl(int64_t dim, int64_t classes) { fc = register_module("fc", nn::Linear(dim, classes)); }
  at::Tensor forward(const at::Tensor& x) { return fc(x.mean({1, 2})); }
  nn::Linear fc{nullptr};
};
TORCH_MODULE(Head);

class SwinTransformer : public Net {
 public:
  explicit SwinTransformer(const SwinConfig& c) {
    patch_embed = register_module("patch_embed", PatchEmbed(c.in_chans, c.embed_dim, c.patch_size));
    layers = register_module("layers", torch::nn::ModuleList());
    int64_t total = 0;
    for (auto d : c.depths) total += d;
    int64_t res = c.img_size / c.patch_size, dim = c.embed_dim, k = 0;
    for (size_t i = 0; i < c.depths.size(); ++i) {
      const int64_t in_dim = dim;
      if (i > 0) { dim *= 2; res /= 2; }
      std::vector<double> dpr;
      for (int64_t b = 0; b < c.depths[i]; ++b, ++k) dpr.push_back(total > 1 ? c.drop_path_rate * double(k) / double(total - 1) : 0.0);
      layers->push_back(Stage(c, in_dim, dim, res, c.depths[i], c.num_heads[i], i > 0, dpr));
    }
    norm = register_module("norm", nn::layer_norm(dim, 1e-5));
    head = register_module("head", Head(dim, c.num_classes));
    for (auto& m : modules(false))
      if (auto* l = m->as<nn::LinearImpl>()) nn::init_trunc_normal(*l, 0.02);
    num_classes = c.num_classes;
  }

  at::Tensor forward(const at::Tensor& img) override {
    at::Tensor x = patch_embed(img);
    for (size_t i = 0; i < layers->size(); ++i) {
      auto* stage = layers[i]->as<StageImpl>();
      if (!stage->downsample.is_empty()) x = stage->downsample(x);
      for (size_t b = 0; b < stage->blocks->size(); ++b) {
        x = stage->blocks[b]->as<SwinBlockImpl>()->forward(x);
        emit(fmt::format("layers.{}.blocks.{}", i, b), x);
      }
      emit(fmt::format("layers.{}", i), x);
    }
    return head(norm(x));
  }

  // AdaLog's reconstruction units: patch_embed, each PatchMerging (before its stage's blocks),
  // each block, the head (pooling + fc); the final norm is glue.
  std::vector<logq::Stage> stages() override {
    std::vector<logq::Stage> st;
    st.push_back({"patch_embed", "block", patch_embed.ptr(), [this](const at::Tensor& x) { return patch_embed(x); }});
    for (size_t i = 0; i < layers->size(); ++i) {
      auto* stage = layers[i]->as<StageImpl>();
      if (!stage->downsample.is_empty())
        st.push_back({fmt::format("layers.{}.downsample", i), "block", stage->downsample.ptr(),
                      [d = stage->downsample.ptr()](const at::Tensor& x) { return d->forward(x); }});
      for (size_t b = 0; b < stage->blocks->size(); ++b) {
        auto blk = stage->blocks[b]->as<SwinBlockImpl>();
        st.push_back({fmt::format("layers.{}.blocks.{}", i, b), "block", stage->blocks->ptr(b), [blk](const at::Tensor& x) { return blk->forward(x); }});
      }
    }
    st.push_back({"norm", "glue", nullptr, [this](const at::Tensor& x) { return norm(x); }});
    st.push_back({"head", "block", head.ptr(), [this](const at::Tensor& x) { return head(x); }});
    return st;
  }

  void export_graph(GraphBuilder& g) override {
    std::string x = g.gemm("patch_embed.proj", *patch_embed->proj, GraphBuilder::kInput);
    x = export_layernorm(g, *patch_embed->norm, "patch_embed.norm", g.op("patch_embed.nhwc", "permute", {x}, {{"dims", {1, 2, 0}}}));
    for (size_t i = 0; i < layers->size(); ++i) {
      auto* stage = layers[i]->as<StageImpl>();
      if (!stage->downsample.is_empty()) x = stage->downsample->export_graph(g, fmt::format("layers.{}.downsample", i), x);
      for (size_t b = 0; b < stage->blocks->size(); ++b)
        x = stage->blocks[b]->as<SwinBlockImpl>()->export_graph(g, fmt::format("layers.{}.blocks.{}", i, b), x);
    }
    x = export_layernorm(g, *norm, "norm", x);
    const int64_t C = g.shape(x)[2];
    x = g.op("head.pool", "mean_tokens", {g.op("head.tokens", "reshape", {x}, {{"shape", {-1, C}}})});
    g.finish(g.gemm("head.fc", *head->fc, x));
  }

  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  Head head{nullptr};
};

}  // namespace

std::shared_ptr<Net> make_swin(const nlohmann::json& j) {
  SwinConfig c;
  config_get(j, "img_size", c.img_size);
  config_get(j, "patch_size", c.patch_size);
  config_get(j, "in_chans", c.in_chans);
  config_get(j, "num_classes", c.num_classes);
  config_get(j, "embed_dim", c.embed_dim);
  config_get(j, "depths", c.depths);
  config_get(j, "num_heads", c.num_heads);
  config_get(j, "window_size", c.window_size);
  config_get(j, "mlp_ratio", c.mlp_ratio);
  config_get(j, "qkv_bias", c.qkv_bias);
  config_get(j, "drop_path_rate", c.drop_path_rate);
  if (c.depths.empty() || c.depths.size() != c.num_heads.size())
    throw Error("swin: 'depths' and 'num_heads' must be non-empty and of equal length");
  int64_t res = c.img_size / c.patch_size;
  if (c.patch_size <= 0 || c.img_size % c.patch_size) throw Error(fmt::format("swin: img_size {} is not a multiple of patch_size {}", c.img_size, c.patch_size));
  if (res % (int64_t(1) << (c.depths.size() - 1)))
    throw Error(fmt::format("swin: patch grid {} cannot be halved {} times", res, c.depths.size() - 1));
  int64_t dim = c.embed_dim;
  for (size_t i = 0; i < c.depths.size(); ++i, dim *= 2)
    if (c.num_heads[i] <= 0 || dim % c.num_heads[i]) throw Error(fmt::format("swin: stage {} dim {} is not a multiple of num_heads {}", i, dim, c.num_heads[i]));
  return std::make_shared<SwinTransformer>(c);
}

}  // namespace logq
