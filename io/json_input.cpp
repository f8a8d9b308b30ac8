#include "io/json_input.h"

#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "io/error.h"
#include "io/file_io.h"
#include "io/limits.h"

namespace logq {

namespace {

using json = nlohmann::json;

// Forwards to nlohmann's DOM builder after checking depth and key uniqueness.
class CheckedSax {
 public:
  explicit CheckedSax(json& out) : dom_(out, false) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& s) { return dom_.number_float(v, s); }
  bool string(json::string_t& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) {
    if (!enter()) return false;
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    if (!keys_.back().insert(k).second) {
      error_ = fmt::format("key '{}' appears twice in one object", printable(k));
      duplicate_ = k;
      duplicate_depth_ = depth_;
      return false;
    }
    return dom_.key(k);
  }
  bool end_object() {
    keys_.pop_back();
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <typename Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& ex) {
    error_ = ex.what();
    return false;
  }
  const std::string& error() const { return error_; }
  const std::string& duplicate() const { return duplicate_; }
  int duplicate_depth() const { return duplicate_depth_; }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth) {
      error_ = fmt::format("nested deeper than {} levels", kMaxJsonDepth);
      return false;
    }
    return true;
  }
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<std::unordered_set<std::string>> keys_;
  int depth_ = 0, duplicate_depth_ = 0;
  std::string error_, duplicate_;
};

}  // namespace

json parse_json_input(std::string_view text, const std::string& what) {
  json out;
  CheckedSax sax(out);
  bool ok = false;
  std::string detail;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax, json::input_format_t::json, true);
    detail = sax.error().empty() ? "parse error" : sax.error();
  } catch (const json::exception& e) {
    detail = printable(e.what());
  }
  if (!ok) throw JsonInputError(fmt::format("{}: not valid JSON ({})", what, detail), detail, sax.duplicate(), sax.duplicate_depth());
  return out;
}

json read_json_file(const std::string& path, const std::string& what_for) {
  const auto bytes = Bytes::map_file(path);
  constexpr size_t kMaxConfigBytes = size_t{64} << 20;
  if (bytes->size() > kMaxConfigBytes)
    throw Error(fmt::format("{}: {} of {} bytes is larger than the 64 MiB a JSON {} may have", path, what_for, bytes->size(), what_for));
  return parse_json_input(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), path);
}

std::string json_string_or(const nlohmann::json& o, const char* key, const std::string& fallback, const std::string& where) {
  if (!o.is_object()) throw Error(fmt::format("{}: expected a JSON object", where));
  const auto it = o.find(key);
  if (it == o.end()) return fallback;
  if (!it->is_string()) throw Error(fmt::format("{}: '{}' must be a string, not {}", where, key, it->type_name()));
  return it->get<std::string>();
}

}  // namespace logq
