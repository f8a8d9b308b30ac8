// libFuzzer target: the dataset readers. The first byte picks one: a JPEG (decode_jpeg), a
// Fashion-MNIST IDX image file (written raw: gzread passes non-gzip data through, so the
// fuzzer mutates the IDX bytes themselves), or a CIFAR-10 y_labels.csv.
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "fuzz_common.h"
#include "io/error.h"
#include "io/dataset.h"

namespace {

std::string scratch_dir() {
  static const std::string dir = [] {
    const std::string d = std::string(std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp") + "/logq_fuzz_dataset_" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

void write(const std::string& path, const uint8_t* p, size_t n) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return;
  std::fwrite(p, 1, n, f);
  std::fclose(f);
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  if (size < 1) return 0;
  const uint8_t kind = data[0] % 4;
  ++data, --size;
  try {
    if (kind == 0) {
      const logq::Image im = logq::decode_jpeg(data, size, "fuzz.jpg");
      (void)im;
    } else if (kind == 1) {
      const std::string d = scratch_dir();
      write(d + "/t10k-images-idx3-ubyte.gz", data, size);
      // labels to match the header's count when it is small (else a header alone)
      const uint32_t n = size >= 8 ? be32(data + 4) : 0;
      std::vector<uint8_t> lab = {0, 0, 8, 1, uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
      if (n <= 4096) lab.resize(8 + n, 1);
      write(d + "/t10k-labels-idx1-ubyte.gz", lab.data(), lab.size());
      auto ds = logq::open_fashion_mnist(d, "test");
      if (ds->size()) (void)ds->image(0);
    } else if (kind == 3) {  // an image list (--search-list) against a one-image CIFAR .bin folder
      const std::string d = scratch_dir() + "/listed";
      std::filesystem::create_directories(d);
      const std::string csv = "a.bin,10,1\n";
      write(d + "/y_labels.csv", reinterpret_cast<const uint8_t*>(csv.data()), csv.size());
      const uint8_t img[3072] = {};
      write(d + "/a.bin", img, sizeof img);
      write(d + "/list.txt", data, size);
      auto ds = logq::open_cifar_bin(d);
      (void)logq::read_image_list(d + "/list.txt", *ds);
    } else {
      const std::string d = scratch_dir() + "/cifar";
      std::filesystem::create_directories(d);
      write(d + "/y_labels.csv", data, size);
      const uint8_t img[3072] = {};
      write(d + "/a.bin", img, sizeof img);
      auto ds = logq::open_cifar_bin(d);
      (void)ds->image(0);
    }
  } catch (const logq::Error&) {
  }
  return 0;
}
