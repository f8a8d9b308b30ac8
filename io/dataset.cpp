#include "io/dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <zlib.h>

#include "io/error.h"
#include "io/file_io.h"
#include "io/limits.h"

namespace fs = std::filesystem;

namespace logq {

namespace {

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// A gzip'd IDX file: the header is inflated and checked first, and the payload it claims must
// fit the inflate cap for the file's compressed size before a byte of it is allocated.
class GzipReader {
 public:
  explicit GzipReader(const std::string& path) : path_(path) {
    const auto bytes = Bytes::map_file(path);  // a regular file (a FIFO would block gzopen)
    compressed_ = bytes->size();
    f_ = gzopen(path.c_str(), "rb");
    if (!f_) throw Error(fmt::format("{}: cannot open", path));
  }
  ~GzipReader() { gzclose(f_); }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Up to n bytes: fewer only where the stream ends; a corrupt stream is an Error.
  uint64_t read(uint8_t* dst, uint64_t n) {
    uint64_t done = 0;
    while (done < n) {
      const int got = gzread(f_, dst + done, static_cast<unsigned>(std::min<uint64_t>(n - done, 1u << 30)));
      if (got < 0) fail("corrupt gzip");
      if (got == 0) break;
      done += static_cast<uint64_t>(got);
    }
    return done;
  }
  // The payload a header claims, checked against the cap before it is allocated, then exactly
  // that many bytes and no more.
  std::vector<uint8_t> read_payload(uint64_t n, const std::string& claim) {
    const InputLimits& lim = input_limits();
    const uint64_t cap = lim.inflate_ratio > (UINT64_MAX - lim.inflate_slack_bytes) / std::max<uint64_t>(compressed_, 1)
                             ? UINT64_MAX
                             : compressed_ * lim.inflate_ratio + lim.inflate_slack_bytes;
    if (n > cap)
      throw Error(fmt::format("{}: the header claims {} = {} bytes, more than {}x its {} compressed bytes {}", path_, claim, n,
                              lim.inflate_ratio, compressed_, kNoLimitsHint));
    std::vector<uint8_t> out(static_cast<size_t>(n));
    const uint64_t got = read(out.data(), n);
    if (got < n) throw Error(fmt::format("{}: header says {} but the file holds {} of its {} bytes", path_, claim, got, n));
    uint8_t extra;
    if (read(&extra, 1) != 0) throw Error(fmt::format("{}: more data than the header's {}", path_, claim));
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    int err = 0;
    const char* msg = gzerror(f_, &err);
    throw Error(fmt::format("{}: {}{}", path_, what, err != Z_OK && msg ? fmt::format(" ({})", msg) : ""));
  }
  std::string path_;
  uint64_t compressed_ = 0;
  gzFile f_ = nullptr;
};

class MemoryDataset : public Dataset {
 public:
  size_t size() const override { return labels.size(); }
  Image image(size_t i) const override {
    Image im{h, w, c, {}};
    const size_t n = size_t(h * w * c);
    im.hwc.assign(pixels.begin() + i * n, pixels.begin() + (i + 1) * n);
    return im;
  }
  int64_t label(size_t i) const override { return labels[i]; }
  std::string id(size_t i) const override { return ids.empty() ? std::to_string(i) : ids[i]; }
  int64_t h = 0, w = 0, c = 0;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  std::vector<std::string> ids;  // CIFAR-10 .bin: the file names of y_labels.csv
};

class FolderDataset : public Dataset {
 public:
  size_t size() const override { return files.size(); }
  Image image(size_t i) const override {
    auto bytes = Bytes::map_file(files[i]);
    return decode_jpeg(bytes->data(), bytes->size(), files[i]);
  }
  int64_t label(size_t i) const override { return labels[i]; }
  std::string id(size_t i) const override { return ids[i]; }
  std::vector<std::string> files, ids;  // ids: "<class>/<file name>"

  std::vector<int64_t> labels;
};

bool is_jpeg_name(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return e == ".jpg" || e == ".jpeg";
}

}  // namespace

std::unique_ptr<Dataset> open_fashion_mnist(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "test") throw Error(fmt::format("fashion-mnist: split '{}' is not train|test", split));
  const std::string pre = dir + "/" + (split == "train" ? "train" : "t10k");
  const std::string ipath = pre + "-images-idx3-ubyte.gz", lpath = pre + "-labels-idx1-ubyte.gz";
  GzipReader img(ipath), lab(lpath);
  uint8_t ih[16] = {}, lh[8] = {};
  if (img.read(ih, 16) < 16 || be32(ih) != 0x803) throw Error(fmt::format("{}: not an IDX3 ubyte image file", ipath));
  if (lab.read(lh, 8) < 8 || be32(lh) != 0x801) throw Error(fmt::format("{}: not an IDX1 ubyte label file", lpath));
  const uint64_t n = be32(ih + 4), h = be32(ih + 8), w = be32(ih + 12);
  if (h == 0 || w == 0 || h > 4096 || w > 4096) throw Error(fmt::format("{}: header says images of {}x{} (1..4096 each)", ipath, h, w));
  if (be32(lh + 4) != n) throw Error(fmt::format("{}: {} labels but {} images in {}", lpath, be32(lh + 4), n, ipath));
  const std::vector<uint8_t> pixels = img.read_payload(n * h * w, fmt::format("{} images of {}x{}", n, h, w));
  const std::vector<uint8_t> labels = lab.read_payload(n, fmt::format("{} labels", n));
  auto ds = std::make_unique<MemoryDataset>();
  ds->name = "fashion-mnist/" + split;
  ds->classes = {"t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"};
  ds->h = int64_t(h), ds->w = int64_t(w), ds->c = 1;
  ds->pixels = pixels;
  for (uint64_t i = 0; i < n; ++i) {
    if (labels[i] >= 10) throw Error(fmt::format("{}: label {} of image {} is out of range 0..9", lpath, labels[i], i));
    ds->labels.push_back(labels[i]);
  }
  return ds;
}

std::unique_ptr<Dataset> open_cifar_bin(const std::string& dir) {
  const std::string csv = dir + "/y_labels.csv";
  if (!fs::exists(csv)) throw Error(fmt::format("{}: cannot open (a CIFAR-10 .bin folder needs y_labels.csv)", csv));
  std::istringstream in(read_text_file(csv));
  auto ds = std::make_unique<MemoryDataset>();
  ds->name = "cifar10-bin:" + fs::path(dir).filename().string();
  ds->classes = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  ds->h = ds->w = 32, ds->c = 3;
  std::string line;
  int64_t row = 0;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty() || line == "\r") continue;
    std::stringstream ss(line);
    std::string file, ncls, label;
    if (!std::getline(ss, file, ',') || !std::getline(ss, ncls, ',') || !std::getline(ss, label))
      throw Error(fmt::format("{}:{}: expected 'file,10,label'", csv, row));
    int64_t y = -1;
    try { y = std::stoll(label); } catch (...) {}
    if (y < 0 || y >= 10) throw Error(fmt::format("{}:{}: label '{}' is not 0..9", csv, row, label));
    auto bytes = Bytes::map_file(dir + "/" + file);
    if (bytes->size() != 3072) throw Error(fmt::format("{}/{}: {} bytes, a CIFAR-10 .bin image has 3072", dir, file, bytes->size()));
    ds->pixels.insert(ds->pixels.end(), bytes->data(), bytes->data() + 3072);
    ds->labels.push_back(y);
    ds->ids.push_back(file);
  }
  if (ds->labels.empty()) throw Error(fmt::format("{}: no images listed", csv));
  return ds;
}

std::unique_ptr<Dataset> open_image_folder(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error(fmt::format("{}: not a directory", dir));
  auto ds = std::make_unique<FolderDataset>();
  ds->name = "folder:" + fs::path(dir).filename().string();
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw Error(fmt::format("{}: no class folders", dir));
  for (size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / classes[c]))
      if (e.is_regular_file() && is_jpeg_name(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      ds->ids.push_back(classes[c] + "/" + fs::path(f).filename().string());
      ds->files.push_back(f);
      ds->labels.push_back(int64_t(c));
    }
  }
  if (ds->files.empty()) throw Error(fmt::format("{}: no JPEG images in its class folders", dir));
  ds->classes = classes;
  return ds;
}

std::unique_ptr<Dataset> open_dataset(const std::string& path, const std::string& split) {
  if (!fs::exists(path)) throw Error(fmt::format("{}: dataset folder does not exist", path));
  if (fs::exists(fs::path(path) / "t10k-images-idx3-ubyte.gz")) return open_fashion_mnist(path, split == "val" ? "test" : split);
  if (fs::exists(fs::path(path) / "y_labels.csv")) return open_cifar_bin(path);
  const std::string sub = split == "test" ? "val" : split;
  if (fs::is_directory(fs::path(path) / sub) && fs::is_directory(fs::path(path) / "train")) return open_image_folder(path + "/" + sub);
  return open_image_folder(path);
}

std::vector<int64_t> select_indices(size_t size, size_t n, uint64_t seed) {
  if (n > size) throw Error(fmt::format("cannot select {} images from a dataset of {}", n, size));
  std::vector<int64_t> all(size);
  for (size_t i = 0; i < size; ++i) all[i] = int64_t(i);
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < n; ++i) {  // partial Fisher-Yates: the first n are a uniform sample
    std::uniform_int_distribution<size_t> d(i, size - 1);
    std::swap(all[i], all[d(rng)]);
  }
  all.resize(n);
  std::sort(all.begin(), all.end());
  return all;
}

std::vector<int64_t> numpy_permutation(size_t size, uint64_t seed) {
  if (seed > 0xffffffffu) throw Error(fmt::format("numpy draws take seeds below 2^32 (got {})", seed));
  std::mt19937 mt{uint32_t(seed)};  // numpy's mt19937_seed is init_genrand, as std::mt19937's constructor
  std::vector<int64_t> a(size);
  for (size_t i = 0; i < size; ++i) a[i] = int64_t(i);
  for (size_t i = size; i-- > 1;) {
    uint64_t mask = i;
    for (int sh : {1, 2, 4, 8, 16, 32}) mask |= mask >> sh;
    uint64_t j;
    if (i <= 0xffffffffu) {
      do j = uint64_t(mt()) & mask; while (j > i);
    } else {  // numpy's 64-bit path: two 32-bit outputs, high word first
      do j = ((uint64_t(mt()) << 32) | uint64_t(mt())) & mask; while (j > i);
    }
    std::swap(a[i], a[size_t(j)]);
  }
  return a;
}

std::vector<int64_t> read_image_list(const std::string& path, const Dataset& ds) {
  std::unordered_map<std::string, int64_t> by_id;
  by_id.reserve(ds.size());
  for (size_t i = 0; i < ds.size(); ++i) by_id.emplace(ds.id(i), int64_t(i));
  std::istringstream in(read_text_file(path, size_t{64} << 20));
  std::vector<int64_t> out;
  std::unordered_map<int64_t, int64_t> line_of;  // index -> the line that listed it
  std::string line;
  for (int64_t row = 1; std::getline(in, line); ++row) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    int64_t idx = -1;
    if (const auto it = by_id.find(line); it != by_id.end()) {
      idx = it->second;
    } else if (line.find_first_not_of("0123456789") == std::string::npos && line.size() <= 18) {
      idx = std::stoll(line);
      if (size_t(idx) >= ds.size())
        throw Error(fmt::format("{}:{}: index {} is outside {} ({} images)", path, row, idx, ds.name, ds.size()));
    } else {
      throw Error(fmt::format("{}:{}: '{}' names no image of {} (give an index below {} or an id such as '{}')", path, row,
                              printable(line.substr(0, 200)), ds.name, ds.size(), ds.id(0)));
    }
    if (const auto [it, fresh] = line_of.emplace(idx, row); !fresh)
      throw Error(fmt::format("{}:{}: image {} ('{}') is listed twice (line {} too)", path, row, idx, ds.id(size_t(idx)), it->second));
    out.push_back(idx);
  }
  if (out.empty()) throw Error(fmt::format("{}: lists no images", path));
  return out;
}

}  // namespace logq
