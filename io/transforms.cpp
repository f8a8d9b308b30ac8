// Image decoding and the eval/train transforms. The resize reproduces Pillow's Resample.c (the
// code behind torchvision's Resize on PIL images): separable, horizontal pass first, filter
// support widened by the scale when downscaling (antialias), coefficients in 22-bit fixed point,
// 8-bit result after each pass.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <turbojpeg.h>

#include "io/error.h"
#include "io/limits.h"
#include "io/dataset.h"

namespace logq {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bilinear_filter(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coeffs {
  std::vector<int> first, count;
  std::vector<int32_t> k;  // count per output, padded to ksize
  int ksize = 0;
};

Coeffs precompute(int64_t in_size, int64_t out_size, bool bicubic) {
  const double support0 = bicubic ? 2.0 : 1.0;
  const double scale = double(in_size) / double(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = support0 * filterscale;
  Coeffs c;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.k.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (double(xx) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = int(in_size);
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double v = (x + xmin - center + 0.5) * ss;
      w[x] = bicubic ? bicubic_filter(v) : bilinear_filter(v);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double k = ww != 0.0 ? w[x] / ww : w[x];
      c.k[xx * c.ksize + x] = k < 0 ? int32_t(-0.5 + k * (1 << kPrecisionBits)) : int32_t(0.5 + k * (1 << kPrecisionBits));
    }
    c.first.push_back(xmin);
    c.count.push_back(xmax);
  }
  return c;
}

uint8_t clip8(int64_t v) {
  v >>= kPrecisionBits;  // arithmetic: floor for negative sums, as Pillow's lookup does
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

Image resample_h(const Image& in, int64_t out_w, bool bicubic) {
  const Coeffs c = precompute(in.w, out_w, bicubic);
  Image out{in.h, out_w, in.c, std::vector<uint8_t>(size_t(in.h * out_w * in.c))};
  for (int64_t y = 0; y < in.h; ++y)
    for (int64_t x = 0; x < out_w; ++x)
      for (int64_t ch = 0; ch < in.c; ++ch) {
        int64_t acc = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < c.count[x]; ++i)
          acc += int64_t(in.hwc[(y * in.w + c.first[x] + i) * in.c + ch]) * c.k[x * c.ksize + i];
        out.hwc[(y * out_w + x) * in.c + ch] = clip8(acc);
      }
  return out;
}

Image resample_v(const Image& in, int64_t out_h, bool bicubic) {
  const Coeffs c = precompute(in.h, out_h, bicubic);
  Image out{out_h, in.w, in.c, std::vector<uint8_t>(size_t(out_h * in.w * in.c))};
  for (int64_t y = 0; y < out_h; ++y)
    for (int64_t x = 0; x < in.w; ++x)
      for (int64_t ch = 0; ch < in.c; ++ch) {
        int64_t acc = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < c.count[y]; ++i)
          acc += int64_t(in.hwc[((c.first[y] + i) * in.w + x) * in.c + ch]) * c.k[y * c.ksize + i];
        out.hwc[(y * in.w + x) * in.c + ch] = clip8(acc);
      }
  return out;
}

// Writes the normalized CHW floats of the h x w window at (top, left) of img, zero outside.
void write_chw(const Image& img, int64_t top, int64_t left, bool flip, const Preprocess& p, float* out) {
  const int64_t S = p.img_size;
  if (img.c != 1 && img.c != p.in_chans)
    throw Error(fmt::format("image has {} channels, the model takes {}", img.c, p.in_chans));
  for (int64_t ch = 0; ch < p.in_chans; ++ch) {
    const int64_t src_c = img.c == 1 ? 0 : ch;
    const float m = p.mean[ch], inv = 1.0f / p.std[ch];
    for (int64_t y = 0; y < S; ++y)
      for (int64_t x = 0; x < S; ++x) {
        const int64_t sy = top + y, sx = left + (flip ? S - 1 - x : x);
        float v = 0.0f;
        if (sy >= 0 && sy < img.h && sx >= 0 && sx < img.w) v = float(img.hwc[(sy * img.w + sx) * img.c + src_c]) / 255.0f;
        out[(ch * S + y) * S + x] = (v - m) * inv;
      }
  }
}

}  // namespace

Image resize_pil(const Image& img, int64_t out_h, int64_t out_w, bool bicubic) {
  if (out_h <= 0 || out_w <= 0) throw Error("resize: output size must be positive");
  Image r = img;
  if (out_w != img.w) r = resample_h(r, out_w, bicubic);
  if (out_h != img.h) r = resample_v(r, out_h, bicubic);
  return r;
}

void preprocess_eval(const Image& img, const Preprocess& p, float* out) {
  // timm: scale_size = floor(img_size / crop_pct); torchvision Resize(int): short side -> size,
  // long side int(size * long / short).
  const int64_t scale = int64_t(std::floor(double(p.img_size) / p.crop_pct));
  Image r = img;
  if (std::min(img.h, img.w) != scale) {
    int64_t nh = scale, nw = scale;
    if (img.w < img.h) nh = int64_t(double(scale) * double(img.h) / double(img.w));
    else if (img.h < img.w) nw = int64_t(double(scale) * double(img.w) / double(img.h));
    r = resize_pil(img, nh, nw, p.bicubic);
  }
  const int64_t top = int64_t(std::round((r.h - p.img_size) / 2.0)), left = int64_t(std::round((r.w - p.img_size) / 2.0));
  write_chw(r, top, left, false, p, out);
}

void preprocess_train(const Image& img, const Preprocess& p, int64_t pad, bool hflip, std::mt19937_64& rng, float* out) {
  if (img.h != p.img_size || img.w != p.img_size)
    throw Error(fmt::format("train transform: image is {}x{}, expected {}x{}", img.h, img.w, p.img_size, p.img_size));
  std::uniform_int_distribution<int64_t> off(-pad, pad);
  const int64_t top = off(rng), left = off(rng);
  const bool flip = hflip && (rng() & 1);
  write_chw(img, top, left, flip, p, out);
}

namespace {
Image crop(const Image& img, int64_t top, int64_t left, int64_t h, int64_t w) {
  Image r{h, w, img.c, std::vector<uint8_t>(size_t(h * w * img.c))};
  for (int64_t y = 0; y < h; ++y)
    std::memcpy(&r.hwc[size_t(y * w * img.c)], &img.hwc[size_t(((top + y) * img.w + left) * img.c)], size_t(w * img.c));
  return r;
}

uint8_t blend8(double a, double b, double alpha) {  // Pillow's Image.blend: a + alpha (b - a), clipped
  const double v = a + alpha * (b - a);
  return uint8_t(v <= 0.0 ? 0 : v >= 255.0 ? 255 : int(v));
}

uint8_t grey_of(const uint8_t* px, int64_t c) {  // Pillow's L conversion (ITU-R 601-2, fixed point)
  return c == 1 ? px[0] : uint8_t((px[0] * 19595 + px[1] * 38470 + px[2] * 7471 + 0x8000) >> 16);
}

void color_jitter(Image& img, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> factor(0.6, 1.4);
  int order[3] = {0, 1, 2};  // brightness, contrast, saturation (hue = None)
  std::shuffle(order, order + 3, rng);
  const size_t n = size_t(img.h * img.w);
  for (int op : order) {
    const double f = factor(rng);
    if (op == 0) {
      for (auto& v : img.hwc) v = blend8(0.0, v, f);
    } else if (op == 1) {
      double sum = 0;
      for (size_t i = 0; i < n; ++i) sum += grey_of(&img.hwc[i * img.c], img.c);
      const double mean = std::floor(sum / double(n) + 0.5);
      for (auto& v : img.hwc) v = blend8(mean, v, f);
    } else if (img.c == 3) {
      for (size_t i = 0; i < n; ++i) {
        const double g = grey_of(&img.hwc[i * 3], 3);
        for (int k = 0; k < 3; ++k) img.hwc[i * 3 + k] = blend8(g, img.hwc[i * 3 + k], f);
      }
    }
  }
}
}  // namespace

void preprocess_timm_train(const Image& img, const Preprocess& p, std::mt19937_64& rng, float* out) {
  const double area = double(img.h * img.w);
  std::uniform_real_distribution<double> scale(0.08, 1.0), log_ratio(std::log(3.0 / 4.0), std::log(4.0 / 3.0));
  int64_t top = -1, left = 0, h = 0, w = 0;
  for (int attempt = 0; attempt < 10 && top < 0; ++attempt) {
    const double target = scale(rng) * area, ar = std::exp(log_ratio(rng));
    w = int64_t(std::nearbyint(std::sqrt(target * ar)));
    h = int64_t(std::nearbyint(std::sqrt(target / ar)));
    if (w > 0 && h > 0 && w <= img.w && h <= img.h) {
      top = std::uniform_int_distribution<int64_t>(0, img.h - h)(rng);
      left = std::uniform_int_distribution<int64_t>(0, img.w - w)(rng);
    }
  }
  if (top < 0) {  // timm's fallback: the central crop clamped to the ratio range
    const double in_ratio = double(img.w) / double(img.h);
    w = img.w, h = img.h;
    if (in_ratio < 3.0 / 4.0) h = int64_t(std::nearbyint(double(w) / (3.0 / 4.0)));
    else if (in_ratio > 4.0 / 3.0) w = int64_t(std::nearbyint(double(h) * (4.0 / 3.0)));
    top = (img.h - h) / 2, left = (img.w - w) / 2;
  }
  Image r = resize_pil(crop(img, top, left, h, w), p.img_size, p.img_size, p.bicubic);
  const bool flip = rng() & 1;
  color_jitter(r, rng);
  write_chw(r, 0, 0, flip, p, out);
}

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& what) {
  tjhandle h = tjInitDecompress();
  if (!h) throw Error("turbojpeg: cannot initialise");
  int w = 0, hh = 0, sub = 0, cs = 0;
  if (tjDecompressHeader3(h, data, (unsigned long)size, &w, &hh, &sub, &cs) != 0 || w <= 0 || hh <= 0 || w > 65535 || hh > 65535) {
    const std::string err = tjGetErrorStr2(h);
    tjDestroy(h);
    throw Error(fmt::format("{}: not a readable JPEG ({})", what, err));
  }
  if (uint64_t(w) * uint64_t(hh) > input_limits().image_pixels) {
    tjDestroy(h);
    throw Error(fmt::format("{}: the JPEG header claims {}x{} = {} pixels, more than the {} logq decodes {}", what, w, hh,
                            uint64_t(w) * uint64_t(hh), input_limits().image_pixels, kNoLimitsHint));
  }
  const bool grey = cs == TJCS_GRAY;
  Image img{hh, w, grey ? 1 : 3, std::vector<uint8_t>(size_t(w) * hh * (grey ? 1 : 3))};
  // Default flags: accurate integer DCT and fancy upsampling, as libjpeg/Pillow decode.
  const int rc = tjDecompress2(h, data, (unsigned long)size, img.hwc.data(), w, 0, hh, grey ? TJPF_GRAY : TJPF_RGB, 0);
  const std::string err = rc ? tjGetErrorStr2(h) : "";
  tjDestroy(h);
  // Warnings too (e.g. premature end of data): a truncated file is an error, as in Pillow.
  if (rc != 0) throw Error(fmt::format("{}: corrupt JPEG ({})", what, err));
  return img;
}

}  // namespace logq
