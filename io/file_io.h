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
  // A regular file only: a FIFO, device or directory is an Error (opened non-blocking, so a
  // FIFO cannot hang the reader).
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

// A whole (regular) text file as a string; a file over max_bytes is an Error naming its size.
std::string read_text_file(const std::string& path, size_t max_bytes = size_t{256} << 20);

// Fails (Error naming the path) unless `path` is a regular file that can be opened for reading.
void require_regular_file(const std::string& path);

// Writes "<path>.tmp.<pid>.<random>" (created with O_CREAT|O_EXCL|O_NOFOLLOW beside the target,
// so a planted symlink is never followed) and renames it over path, so readers never see half
// a file. The temp file is removed on error and on SIGINT/SIGTERM; temp files of this name
// left by a logq process that no longer runs (kill -9) are removed on the next write.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::vector<uint8_t>& v) {
  write_file_atomic(path, v.data(), v.size());
}

// Checks up front that `path` can be written (its directory exists and takes a new file; an
// existing path is a regular file), so a long run does not find out at its end. Throws Error
// naming the path and `option` (e.g. "--export").
void check_output_path(const std::string& path, const std::string& option);

// Installs the SIGINT/SIGTERM handler that removes in-flight temp files (idempotent).
void install_temp_file_cleanup();

}  // namespace logq
