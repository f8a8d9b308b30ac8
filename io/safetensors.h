// safetensors reader and writer (https://github.com/huggingface/safetensors format):
// 8-byte little-endian header length N, N bytes of JSON header, then the tensor bytes.
// The reader validates everything before handing out a pointer: header bounds, JSON shape,
// dtypes, shapes, that offsets tile the data section exactly (no gap, no overlap), and that
// names are unique. Any violation is a logq::Error naming the file and the tensor.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/dtype.h"
#include "io/file_io.h"

namespace logq {

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t offset = 0;  // into the data section
  size_t nbytes = 0;
  int64_t numel() const;
};

std::string shape_str(const std::vector<int64_t>& shape);  // "[2, 3]"

class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::string& path);
  // Parses an in-memory image; `name` is used in error messages.
  static SafetensorsFile parse(std::shared_ptr<const Bytes> bytes, std::string name);

  const std::string& path() const { return path_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // data-offset order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::string metadata_or(const std::string& key, const std::string& fallback) const;

  const TensorInfo* find(std::string_view name) const;
  const TensorInfo& at(std::string_view name) const;  // throws Error naming file and tensor
  const uint8_t* data(const TensorInfo& t) const { return bytes_->data() + data_start_ + t.offset; }

  // Copies a tensor's elements converted to double (any dtype).
  std::vector<double> to_doubles(const TensorInfo& t) const;
  // Copies a tensor whose dtype must equal `expected` (else Error naming file/tensor/dtypes).
  template <typename T>
  std::vector<T> read(std::string_view name, DType expected) const;

 private:
  std::string path_;
  std::shared_ptr<const Bytes> bytes_;
  size_t data_start_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, size_t, std::less<>> index_;
};

class SafetensorsWriter {
 public:
  void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }
  // Copies the bytes; nbytes must equal numel(shape) * dtype_size(dtype).
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data,
           size_t nbytes);
  template <typename T>
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape,
           const std::vector<T>& v) {
    add(name, dtype, std::move(shape), v.data(), v.size() * sizeof(T));
  }
  std::vector<uint8_t> serialize() const;
  void write(const std::string& path) const { write_file_atomic(path, serialize()); }

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace logq
