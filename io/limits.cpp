#include "io/limits.h"

#include <fmt/ranges.h>
#include <limits>

#include <fmt/format.h>

#include "io/error.h"

namespace logq {

namespace {
InputLimits g_limits;
bool g_lifted = false;
constexpr int64_t kMaxNumel = int64_t{1} << 62;
}  // namespace

const InputLimits& input_limits() { return g_limits; }

void lift_input_limits() {
  constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
  g_limits.pickle_object_bytes = kNone;
  g_limits.inflate_ratio = kNone;
  g_limits.inflate_slack_bytes = kNone;
  g_limits.image_pixels = kNone;
  g_limits.view_elements = kNone;
  g_limits.layer_macs = kNone;
  g_limits.value_elements = kNone;
  g_lifted = true;
}

bool input_limits_lifted() { return g_lifted; }

void set_input_limits(const InputLimits& l) { g_limits = l; }

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxNumel || r < -kMaxNumel)
    throw Error(fmt::format("{}: size {} x {} overflows", what, a, b));
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r) || r > kMaxNumel || r < -kMaxNumel)
    throw Error(fmt::format("{}: size {} + {} overflows", what, a, b));
  return r;
}

bool try_numel(const std::vector<int64_t>& shape, int64_t* out) {
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (d == 0) {  // an empty tensor, however large its other dimensions
      *out = 0;
      return true;
    }
  }
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxNumel) return false;
  *out = n;
  return true;
}

int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& what) {
  int64_t n;
  if (!try_numel(shape, &n))
    throw Error(fmt::format("{}: shape [{}] has a negative size or more than 2^62 elements", what, fmt::join(shape, ", ")));
  return n;
}

std::string printable(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  const auto hex = [&](unsigned char c) { out += fmt::format("\\x{:02x}", c); };
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') { out += "\\n"; ++i; continue; }
    if (c == '\t') { out += "\\t"; ++i; continue; }
    if (c < 0x20 || c == 0x7f) { hex(c); ++i; continue; }
    if (c < 0x80) { out += static_cast<char>(c); ++i; continue; }
    // A well-formed UTF-8 sequence (no overlongs, no surrogates, <= U+10FFFF) is kept whole.
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    bool ok = len > 0 && c <= 0xf4 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
    }
    if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (!ok) { hex(c); ++i; continue; }
    out.append(s, i, len);
    i += len;
  }
  return out;
}

}  // namespace logq
