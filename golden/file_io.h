// Whole-file reading (mmap) and crash-safe writing (temp file + rename).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace logq {

// Read-only bytes of a file or of an in-memory buffer; cheap to share.
class Bytes {
 public:
  static std::shared_ptr<const Bytes> map_file(const std::string& path);  // throws Error
  static std::shared_ptr<const Bytes> from_vector(std::vector<uint8_t> v);
  static std::shared_ptr<const Bytes> view(const uint8_t* data, size_t size);  // caller keeps alive

  ~Bytes();
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  Bytes() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<uint8_t> owned_;
};

// Writes to "<path>.tmp.<pid>" and renames over path, so readers never see half a file.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::vector<uint8_t>& v) {
  write_file_atomic(path, v.data(), v.size());
}

}  // namespace logq
