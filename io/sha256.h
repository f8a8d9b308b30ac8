// SHA-256 (FIPS 180-4), for the provenance of a run: the checkpoint and list files a result came
// from are recorded by their digest, so a replay can tell whether it reads the same bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace logq {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  std::string hex();  // finishes the digest: lower-case hex, 64 characters

 private:
  void block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t used_ = 0;
  uint64_t bytes_ = 0;
};

std::string sha256_hex(const std::string& data);
// The digest of a file's bytes, read in chunks (any size); an error names the file.
std::string sha256_file(const std::string& path);

}  // namespace logq
