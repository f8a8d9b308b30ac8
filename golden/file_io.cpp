#include "golden/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "golden/error.h"

namespace logq {

std::shared_ptr<const Bytes> Bytes::map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(fmt::format("{}: not a regular file", path));
  }
  std::shared_ptr<Bytes> b(new Bytes());
  b->size_ = static_cast<size_t>(st.st_size);
  if (b->size_ > 0) {
    void* p = ::mmap(nullptr, b->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw Error(fmt::format("{}: cannot map: {}", path, std::strerror(errno)));
    }
    b->data_ = static_cast<const uint8_t*>(p);
    b->mapped_ = true;
  }
  ::close(fd);
  return b;
}

std::shared_ptr<const Bytes> Bytes::from_vector(std::vector<uint8_t> v) {
  std::shared_ptr<Bytes> b(new Bytes());
  b->owned_ = std::move(v);
  b->data_ = b->owned_.data();
  b->size_ = b->owned_.size();
  return b;
}

std::shared_ptr<const Bytes> Bytes::view(const uint8_t* data, size_t size) {
  std::shared_ptr<Bytes> b(new Bytes());
  b->data_ = data;
  b->size_ = size;
  return b;
}

Bytes::~Bytes() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  const bool ok = std::fwrite(data, 1, size, f) == size && std::fflush(f) == 0 &&
                  ::fsync(::fileno(f)) == 0;
  const int err = errno;
  std::fclose(f);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(fmt::format("{}: write failed: {}", path, std::strerror(ok ? errno : err)));
  }
}

}  // namespace logq
