// Minimal read-only ZIP reader for PyTorch checkpoints (torch.save's zip container):
// stored and deflated entries, ZIP64, CRC-32 checked on every read. Anything it cannot
// vouch for (encryption, multi-disk, offsets outside the file) is an Error naming the file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/file_io.h"

namespace logq {

class ZipArchive {
 public:
  struct Entry {
    std::string name;
    uint16_t method = 0;  // 0 stored, 8 deflate
    uint32_t crc32 = 0;
    uint64_t compressed_size = 0;
    uint64_t size = 0;
    uint64_t data_offset = 0;  // resolved from the local header
  };

  static bool looks_like_zip(const uint8_t* data, size_t size);
  static ZipArchive parse(std::shared_ptr<const Bytes> bytes, std::string name);

  const std::string& path() const { return path_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(const std::string& name) const;
  // Decompresses (if needed) and CRC-checks one entry into `out` (resized to entry.size).
  void read(const Entry& e, std::vector<uint8_t>& out) const;
  void read_into(const Entry& e, uint8_t* dst) const;  // dst holds e.size bytes

 private:
  std::string path_;
  std::shared_ptr<const Bytes> bytes_;
  std::vector<Entry> entries_;
};

}  // namespace logq
