// Datasets and preprocessing: Fashion-MNIST (Debian's package), CIFAR-10 .bin and JPEG folders
// (../shared/data), Pillow-exact resizing, seeded index lists, and the errors for bad input.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <zlib.h>

#include "io/error.h"
#include "io/dataset.h"
#include "io/sha256.h"
#include "test_util.h"

using namespace logq;
namespace fs = std::filesystem;

namespace {
const char* kFmnist = "/usr/share/datasets/fashion-mnist";

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
}

std::vector<uint8_t> be32(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> r;
  for (const auto& p : parts) r.insert(r.end(), p.begin(), p.end());
  return r;
}
}  // namespace

TEST_CASE("Fashion-MNIST is read from Debian's gzip IDX files", "[data]") {
  if (!test::exists(kFmnist)) {
    WARN("SKIPPED: " << kFmnist << " is absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const auto test = open_dataset(kFmnist, "test");
  const auto train = open_fashion_mnist(kFmnist, "train");
  CHECK(test->size() == 10000);
  CHECK(train->size() == 60000);
  std::vector<int> count(10);
  for (size_t i = 0; i < test->size(); ++i) count[size_t(test->label(i))]++;
  CHECK(count == std::vector<int>(10, 1000));  // the test set is balanced
  const Image im = test->image(0);
  CHECK((im.h == 28 && im.w == 28 && im.c == 1));
  // Training-set pixel statistics behind the fmnist presets' normalization (0.2860, 0.3530).
  double s = 0, s2 = 0;
  for (size_t i = 0; i < train->size(); ++i) {
    for (uint8_t p : train->image(i).hwc) {
      s += p / 255.0;
      s2 += (p / 255.0) * (p / 255.0);
    }
  }
  const double n = 60000.0 * 784.0, mean = s / n;
  CHECK(mean == Approx(0.2860).margin(0.0005));
  CHECK(std::sqrt(s2 / n - mean * mean) == Approx(0.3530).margin(0.0005));
}

TEST_CASE("malformed Fashion-MNIST files are clear errors", "[data][errors]") {
  const std::string dir = test::temp_path("fmnist_bad");
  fs::create_directories(dir);
  const auto labels = cat({be32(0x801), be32(2), {1, 2}});
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", labels);
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", cat({be32(0x803), be32(2), be32(28), be32(28), std::vector<uint8_t>(100)}));
  CHECK(error_of([&] { open_dataset(dir, "test"); }).find("header says 2 images of 28x28 but the file holds") != std::string::npos);
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", cat({be32(0x801), be32(2)}));
  CHECK(error_of([&] { open_dataset(dir, "test"); }).find("not an IDX3 ubyte image file") != std::string::npos);
  write(dir + "/t10k-images-idx3-ubyte.gz", {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3});  // truncated gzip
  CHECK(error_of([&] { open_dataset(dir, "test"); }).find("t10k-images-idx3-ubyte.gz") != std::string::npos);
  write_gz(dir + "/t10k-images-idx3-ubyte.gz", cat({be32(0x803), be32(2), be32(2), be32(2), std::vector<uint8_t>(8)}));
  write_gz(dir + "/t10k-labels-idx1-ubyte.gz", cat({be32(0x801), be32(2), {1, 12}}));
  CHECK(error_of([&] { open_dataset(dir, "test"); }).find("label 12 of image 1 is out of range") != std::string::npos);
  CHECK(error_of([&] { open_dataset(dir + "/nope"); }).find("dataset folder does not exist") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("CIFAR-10 .bin and JPEG folders read with their labels", "[data][shared]") {
  REQUIRE_SHARED("data/cifar10/test-jpeg");
  const auto bin = open_dataset(test::shared_path("data/cifar10/test-lossless-200"));
  CHECK(bin->size() == 200);
  const Image b0 = bin->image(0);
  CHECK((b0.h == 32 && b0.w == 32 && b0.c == 3));
  const auto jpg = open_dataset(test::shared_path("data/cifar10/test-jpeg"));
  CHECK(jpg->size() == 10000);
  CHECK(jpg->classes.front() == "airplane");
  CHECK(jpg->classes.back() == "truck");
  CHECK(jpg->label(0) == 0);
  CHECK(jpg->label(9999) == 9);
  const Image j0 = jpg->image(0);
  CHECK((j0.h == 32 && j0.w == 32 && j0.c == 3));
  std::set<uint8_t> distinct(j0.hwc.begin(), j0.hwc.end());
  CHECK(distinct.size() > 50);  // a real photo, not a constant
}

TEST_CASE("corrupt images and CIFAR .bin files are clear errors naming the file", "[data][errors]") {
  const std::string dir = test::temp_path("imgs_bad");
  fs::create_directories(dir + "/cat");
  write(dir + "/cat/0000.jpg", {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F'});  // header only
  const auto ds = open_dataset(dir);
  CHECK(ds->size() == 1);
  const std::string e = error_of([&] { ds->image(0); });
  CHECK(e.find("0000.jpg") != std::string::npos);
  CHECK(e.find("JPEG") != std::string::npos);
  fs::remove_all(dir);

  const std::string bdir = test::temp_path("bin_bad");
  fs::create_directories(bdir);
  std::ofstream(bdir + "/y_labels.csv") << "a.bin,10,3\n";
  write(bdir + "/a.bin", std::vector<uint8_t>(3000));
  CHECK(error_of([&] { open_dataset(bdir); }).find("3000 bytes, a CIFAR-10 .bin image has 3072") != std::string::npos);
  std::ofstream(bdir + "/y_labels.csv") << "a.bin,10,11\n";
  CHECK(error_of([&] { open_dataset(bdir); }).find("label '11' is not 0..9") != std::string::npos);
  fs::remove_all(bdir);
  const std::string empty = test::temp_path("empty_folder");
  fs::create_directories(empty);
  CHECK(error_of([&] { open_dataset(empty); }).find("no class folders") != std::string::npos);
  fs::remove_all(empty);
}

TEST_CASE("resize equals Pillow's Image.resize bit for bit", "[data][resize]") {
  std::ifstream cases(test::data_path("resize/cases.txt"));
  REQUIRE(cases);
  std::string name, filter;
  int64_t h, w, c, oh, ow;
  int n = 0;
  while (cases >> name >> h >> w >> c >> oh >> ow >> filter) {
    INFO(name << " " << h << "x" << w << " -> " << oh << "x" << ow << " " << filter);
    Image in{h, w, c, test::read_bytes(test::data_path("resize/" + name + ".in"))};
    const auto want = test::read_bytes(test::data_path("resize/" + name + ".out"));
    const Image out = resize_pil(in, oh, ow, filter == "bicubic");
    REQUIRE(out.hwc.size() == want.size());
    size_t diff = 0;
    for (size_t i = 0; i < want.size(); ++i) diff += out.hwc[i] != want[i];
    CHECK(diff == 0);
    ++n;
  }
  CHECK(n == 7);
}

TEST_CASE("eval preprocessing resizes the short side, centre-crops and normalizes", "[data]") {
  // 40x60 constant image: any resize keeps the constant; output = (v/255 - mean)/std.
  Image im{40, 60, 3, std::vector<uint8_t>(40 * 60 * 3, 51)};
  Preprocess p;
  p.img_size = 32;
  p.crop_pct = 0.875;
  p.bicubic = true;
  std::vector<float> out(3 * 32 * 32);
  preprocess_eval(im, p, out.data());
  for (int ch = 0; ch < 3; ++ch) CHECK(out[size_t(ch) * 1024 + 500] == Approx((0.2f - p.mean[ch]) / p.std[ch]));
  // Grey images feed 3-channel models; an RGB image cannot feed a 1-channel model.
  Image grey{32, 32, 1, std::vector<uint8_t>(1024, 255)};
  p.crop_pct = 1.0;
  preprocess_eval(grey, p, out.data());
  CHECK(out[2048] == Approx((1.0f - p.mean[2]) / p.std[2]));
  Preprocess one = p;
  one.in_chans = 1;
  one.mean = {0.5f};
  one.std = {0.5f};
  Image rgb{32, 32, 3, std::vector<uint8_t>(3072, 0)};
  CHECK(error_of([&] { preprocess_eval(rgb, one, out.data()); }).find("3 channels, the model takes 1") != std::string::npos);
}

TEST_CASE("calibration index draws are seeded and reproducible", "[data]") {
  const auto a = select_indices(1000, 32, 5), b = select_indices(1000, 32, 5), c = select_indices(1000, 32, 6);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::set<int64_t>(a.begin(), a.end()).size() == 32);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(error_of([&] { select_indices(10, 11, 0); }).find("cannot select 11") != std::string::npos);
}

TEST_CASE("numpy's legacy permutation is reproduced: the references' calibration draws", "[data]") {
  // np.random.seed(0); np.random.permutation(10) and the same with seed 42, as numpy prints them.
  CHECK(numpy_permutation(10, 0) == std::vector<int64_t>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5});
  CHECK(numpy_permutation(10, 42) == std::vector<int64_t>{8, 1, 5, 0, 7, 2, 9, 4, 3, 6});
  // AdaLog's draw on a 60,000-image train set: seed 5, the first 8 of its 32.
  const auto p = numpy_permutation(60000, 5);
  CHECK(std::vector<int64_t>(p.begin(), p.begin() + 8) == std::vector<int64_t>{22141, 38496, 30738, 15418, 13266, 8305, 42497, 6290});
  CHECK(std::set<int64_t>(p.begin(), p.end()).size() == 60000);
  CHECK(numpy_permutation(1, 3) == std::vector<int64_t>{0});
  CHECK(numpy_permutation(0, 3).empty());
  CHECK(error_of([] { numpy_permutation(4, uint64_t(1) << 32); }).find("below 2^32") != std::string::npos);
}

TEST_CASE("image lists name images by index or id, in their own order, and every bad line is named", "[data]") {
  // A CIFAR-10 .bin folder of four images: ids are the file names of y_labels.csv.
  const std::string dir = test::temp_path("list_bin");
  ::mkdir(dir.c_str(), 0755);
  std::string csv;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "img_" + std::to_string(i) + ".bin";
    std::ofstream(dir + "/" + name, std::ios::binary) << std::string(3072, char(i));
    csv += name + ",10," + std::to_string(i) + "\n";
  }
  std::ofstream(dir + "/y_labels.csv") << csv;
  const auto ds = open_dataset(dir);
  CHECK(ds->id(2) == "img_2.bin");
  const std::string list = test::temp_path("images.txt");
  auto read = [&](const std::string& text) {
    std::ofstream(list) << text;
    return read_image_list(list, *ds);
  };
  CHECK(read("# search images\nimg_3.bin\n1\n\nimg_0.bin\r\n") == std::vector<int64_t>{3, 1, 0});
  CHECK(error_of([&] { read("img_9.bin\n"); }).find("images.txt:1: 'img_9.bin' names no image of") != std::string::npos);
  CHECK(error_of([&] { read("0\n7\n"); }).find("images.txt:2: index 7 is outside") != std::string::npos);
  CHECK(error_of([&] { read("img_1.bin\n1\n"); }).find("images.txt:2: image 1 ('img_1.bin') is listed twice (line 1 too)") != std::string::npos);
  CHECK(error_of([&] { read("# nothing\n"); }).find("lists no images") != std::string::npos);
  CHECK(error_of([&] { read("-1\n"); }).find("names no image") != std::string::npos);
  // Fashion-MNIST has no file names: its ids are its indices.
  if (test::exists("/usr/share/datasets/fashion-mnist")) CHECK(open_dataset("/usr/share/datasets/fashion-mnist", "test")->id(17) == "17");
  std::remove(list.c_str());
  std::filesystem::remove_all(dir);
}

TEST_CASE("SHA-256 of the provenance record matches FIPS 180-4's examples", "[data]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;  // a million 'a's, fed in uneven pieces: the block boundary handling
  const std::string chunk(977, 'a');
  size_t left = 1000000;
  while (left) {
    const size_t n = std::min(left, chunk.size());
    h.update(chunk.data(), n);
    left -= n;
  }
  CHECK(h.hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const std::string path = test::temp_path("sha.txt");
  std::ofstream(path) << "abc";
  CHECK(sha256_file(path) == sha256_hex("abc"));
  std::remove(path.c_str());
  CHECK(error_of([] { sha256_file("/nonexistent/file"); }).find("/nonexistent/file: cannot open") != std::string::npos);
}

TEST_CASE("timm's train transform is seeded and stays within the image's value range", "[data]") {
  // A 64x48 image whose left half is black and right half white: every crop + jitter keeps
  // values within [0, 1] before normalization, and both halves show up across draws.
  Image im{48, 64, 3, std::vector<uint8_t>(48 * 64 * 3)};
  for (int64_t y = 0; y < 48; ++y)
    for (int64_t x = 32; x < 64; ++x)
      for (int k = 0; k < 3; ++k) im.hwc[size_t((y * 64 + x) * 3 + k)] = 255;
  Preprocess p;
  p.img_size = 32;
  p.bicubic = true;
  p.mean = {0.f, 0.f, 0.f};
  p.std = {1.f, 1.f, 1.f};
  std::vector<float> a(3 * 32 * 32), b(a.size()), c(a.size());
  std::mt19937_64 r1(9), r2(9), r3(10);
  preprocess_timm_train(im, p, r1, a.data());
  preprocess_timm_train(im, p, r2, b.data());
  preprocess_timm_train(im, p, r3, c.data());
  CHECK(a == b);
  CHECK(a != c);
  double lo = 1, hi = 0;
  for (int i = 0; i < 50; ++i) {
    preprocess_timm_train(im, p, r1, a.data());
    for (float v : a) {
      REQUIRE(v >= 0.0f);
      REQUIRE(v <= 1.0f);
      lo = std::min(lo, double(v));
      hi = std::max(hi, double(v));
    }
  }
  CHECK(lo == 0.0);
  CHECK(hi > 0.9);
}
