#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/json_input.h"
#include "io/limits.h"

namespace logq {

namespace {
// The safetensors spec caps the header at 100 MB; larger is treated as corruption.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw Error(fmt::format("{}: invalid safetensors: {}", file, what));
}

std::vector<int64_t> parse_int_array(const nlohmann::json& j, const std::string& file,
                                     const std::string& what) {
  if (!j.is_array()) fail(file, what + " is not an array");
  std::vector<int64_t> out;
  for (const auto& e : j) {
    if (!e.is_number_unsigned()) fail(file, what + " holds a value that is not a non-negative integer");
    const uint64_t v = e.get<uint64_t>();
    if (v > (uint64_t{1} << 62)) fail(file, what + " holds an out-of-range value");
    out.push_back(static_cast<int64_t>(v));
  }
  return out;
}
}  // namespace

int64_t TensorInfo::numel() const { return checked_numel(shape, name); }

std::string shape_str(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  return parse(Bytes::map_file(path), path);
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const Bytes> bytes, std::string name) {
  SafetensorsFile f;
  f.path_ = std::move(name);
  f.bytes_ = std::move(bytes);
  const std::string& file = f.path_;
  const size_t size = f.bytes_->size();
  if (size < 8) fail(file, fmt::format("file has {} bytes, fewer than the 8-byte header length", size));
  uint64_t header_len;
  std::memcpy(&header_len, f.bytes_->data(), 8);
  if (header_len > kMaxHeaderBytes) fail(file, fmt::format("header length {} exceeds the 100 MB limit", header_len));
  if (header_len > size - 8)
    fail(file, fmt::format("header length {} exceeds the {} bytes after the length field (truncated?)", header_len, size - 8));
  f.data_start_ = 8 + header_len;
  const char* hdr = reinterpret_cast<const char*>(f.bytes_->data() + 8);

  // One linear pass: duplicate names (top-level or inside an entry) and deep nesting are errors.
  nlohmann::json header;
  try {
    header = parse_json_input(std::string_view(hdr, header_len), "header");
  } catch (const JsonInputError& e) {
    if (e.duplicate_key.size() && e.key_depth == 1) fail(file, fmt::format("tensor name '{}' appears twice", printable(e.duplicate_key)));
    fail(file, fmt::format("header is not valid JSON ({})", e.detail));
  }
  if (!header.is_object()) fail(file, "header is not a JSON object");

  const uint64_t data_size = size - f.data_start_;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object()) fail(file, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(file, fmt::format("__metadata__ value of '{}' is not a string", m.key()));
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) fail(file, fmt::format("entry '{}' is not an object", key));
    auto need = [&](const char* field) -> const nlohmann::json& {
      auto fi = v.find(field);
      if (fi == v.end()) fail(file, fmt::format("tensor '{}' has no '{}'", key, field));
      return *fi;
    };
    TensorInfo t;
    t.name = key;
    const auto& dt = need("dtype");
    if (!dt.is_string()) fail(file, fmt::format("tensor '{}': dtype is not a string", key));
    auto dtype = dtype_from_name(dt.get<std::string>());
    if (!dtype) fail(file, fmt::format("tensor '{}': unknown dtype '{}'", key, dt.get<std::string>()));
    t.dtype = *dtype;
    t.shape = parse_int_array(need("shape"), file, fmt::format("tensor '{}': shape", key));
    const auto offs = parse_int_array(need("data_offsets"), file, fmt::format("tensor '{}': data_offsets", key));
    if (offs.size() != 2) fail(file, fmt::format("tensor '{}': data_offsets must have 2 entries", key));
    if (offs[0] > offs[1]) fail(file, fmt::format("tensor '{}': data_offsets [{}, {}] are reversed", key, offs[0], offs[1]));
    if (static_cast<uint64_t>(offs[1]) > data_size)
      fail(file, fmt::format("tensor '{}': data_offsets end {} is beyond the {}-byte data section (truncated?)", key, offs[1], data_size));
    int64_t numel = 0;
    uint64_t expect = 0;
    if (!try_numel(t.shape, &numel) || __builtin_mul_overflow(static_cast<uint64_t>(numel), dtype_size(t.dtype), &expect))
      fail(file, fmt::format("tensor '{}': shape {} overflows", key, shape_str(t.shape)));
    t.offset = static_cast<size_t>(offs[0]);
    t.nbytes = static_cast<size_t>(offs[1] - offs[0]);
    if (expect != t.nbytes)
      fail(file, fmt::format("tensor '{}': {} {} needs {} bytes but data_offsets give {}", key,
                             dtype_name(t.dtype), shape_str(t.shape), expect, t.nbytes));
    f.tensors_.push_back(std::move(t));
  }
  std::sort(f.tensors_.begin(), f.tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.nbytes < b.nbytes;
  });
  size_t pos = 0;
  for (const auto& t : f.tensors_) {
    if (t.offset < pos) fail(file, fmt::format("tensor '{}' overlaps the previous tensor", t.name));
    if (t.offset > pos) fail(file, fmt::format("gap of {} bytes before tensor '{}'", t.offset - pos, t.name));
    pos = t.offset + t.nbytes;
  }
  if (pos != data_size) fail(file, fmt::format("data section has {} bytes but tensors cover {}", data_size, pos));
  for (size_t i = 0; i < f.tensors_.size(); ++i) f.index_[f.tensors_[i].name] = i;
  return f;
}

std::string SafetensorsFile::metadata_or(const std::string& key, const std::string& fallback) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? fallback : it->second;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& SafetensorsFile::at(std::string_view name) const {
  const TensorInfo* t = find(name);
  if (!t) throw Error(fmt::format("{}: no tensor named '{}'", path_, name));
  return *t;
}

std::vector<double> SafetensorsFile::to_doubles(const TensorInfo& t) const {
  std::vector<double> out(static_cast<size_t>(t.numel()));
  const uint8_t* p = data(t);
  for (size_t i = 0; i < out.size(); ++i) out[i] = load_as_double(t.dtype, p, i);
  return out;
}

template <typename T>
std::vector<T> SafetensorsFile::read(std::string_view name, DType expected) const {
  const TensorInfo& t = at(name);
  if (t.dtype != expected)
    throw Error(fmt::format("{}: tensor '{}' has dtype {}, expected {}", path_, name, dtype_name(t.dtype), dtype_name(expected)));
  if (dtype_size(expected) != sizeof(T))
    throw Error(fmt::format("{}: tensor '{}': element size mismatch", path_, name));
  std::vector<T> out(static_cast<size_t>(t.numel()));
  if (t.nbytes) std::memcpy(out.data(), data(t), t.nbytes);
  return out;
}

template std::vector<float> SafetensorsFile::read<float>(std::string_view, DType) const;
template std::vector<double> SafetensorsFile::read<double>(std::string_view, DType) const;
template std::vector<int32_t> SafetensorsFile::read<int32_t>(std::string_view, DType) const;
template std::vector<int64_t> SafetensorsFile::read<int64_t>(std::string_view, DType) const;
template std::vector<uint8_t> SafetensorsFile::read<uint8_t>(std::string_view, DType) const;
template std::vector<int8_t> SafetensorsFile::read<int8_t>(std::string_view, DType) const;
template std::vector<int16_t> SafetensorsFile::read<int16_t>(std::string_view, DType) const;

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                            const void* data, size_t nbytes) {
  if (name == "__metadata__") throw Error("safetensors: '__metadata__' is reserved, not a tensor name");
  for (const auto& e : entries_)
    if (e.name == name) throw Error(fmt::format("safetensors: tensor '{}' added twice", name));
  int64_t numel = 0;
  if (!try_numel(shape, &numel) || static_cast<uint64_t>(numel) * dtype_size(dtype) != nbytes)
    throw Error(fmt::format("safetensors: tensor '{}': {} bytes do not match {} {}", name, nbytes,
                            dtype_name(dtype), shape_str(shape)));
  Entry e{name, dtype, std::move(shape), {}};
  e.bytes.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + nbytes);
  entries_.push_back(std::move(e));
}

std::vector<uint8_t> SafetensorsWriter::serialize() const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  size_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", dtype_name(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned
  std::vector<uint8_t> out(8 + text.size() + offset);
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  size_t pos = 8 + text.size();
  for (const auto& e : entries_) {
    if (!e.bytes.empty()) std::memcpy(out.data() + pos, e.bytes.data(), e.bytes.size());
    pos += e.bytes.size();
  }
  return out;
}

}  // namespace logq
