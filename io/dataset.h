// Datasets and preprocessing, without LibTorch (images are 8-bit HWC; batches are float NCHW).
//
//   Fashion-MNIST   directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (Debian's
//                   dataset-fashion-mnist: /usr/share/datasets/fashion-mnist)
//   CIFAR-10 .bin   directory of 3072-byte HWC RGB files + y_labels.csv rows `file,10,label`
//   image folder    <root>/<class>/*.{jpg,jpeg,JPEG,png?}: class index = sorted folder names
//                   (ImageNet `val/<wnid>/`, CIFAR-10 `test/<class>/`); JPEG only
// open_dataset() picks the reader from what the directory holds.
#pragma once
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace logq {

struct Image {
  int64_t h = 0, w = 0, c = 0;
  std::vector<uint8_t> hwc;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  virtual Image image(size_t i) const = 0;  // decodes on demand where the source is compressed
  virtual int64_t label(size_t i) const = 0;
  // The name an image list may use for image i: its path under the dataset folder for an image
  // folder ("cat/0001.jpg"), its file name for a CIFAR-10 .bin folder, its index otherwise.
  virtual std::string id(size_t i) const { return std::to_string(i); }
  std::string name;                          // e.g. "fashion-mnist/test"
  std::vector<std::string> classes;
};

// split: "train" | "test" (Fashion-MNIST), "train" | "val" for an ImageNet-style root; ignored
// for a folder that directly holds class folders or .bin files.
std::unique_ptr<Dataset> open_dataset(const std::string& path, const std::string& split = "test");
std::unique_ptr<Dataset> open_fashion_mnist(const std::string& dir, const std::string& split);
std::unique_ptr<Dataset> open_cifar_bin(const std::string& dir);
std::unique_ptr<Dataset> open_image_folder(const std::string& dir);

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& what);  // RGB or grey

// Preprocessing (timm / torchvision eval transform): resize the short side to
// floor(img_size / crop_pct) with PIL's resampling (antialiased bilinear/bicubic, 8-bit), centre
// crop img_size, /255, normalize. Grey images feed 3-channel models by replication.
struct Preprocess {
  int64_t in_chans = 3, img_size = 224;
  double crop_pct = 0.875;
  bool bicubic = false;
  std::vector<float> mean{0.485f, 0.456f, 0.406f}, std{0.229f, 0.224f, 0.225f};
};
// Writes in_chans * img_size^2 floats (CHW) to out.
void preprocess_eval(const Image& img, const Preprocess& p, float* out);
// Training augmentation for small images: pad `pad` pixels (zeros), random crop back, random
// horizontal flip; then normalize. Deterministic given the generator.
void preprocess_train(const Image& img, const Preprocess& p, int64_t pad, bool hflip, std::mt19937_64& rng, float* out);

// timm's train transform, used for calibration/reconstruction images (spec/adalog.md section 5):
// RandomResizedCrop(img_size, scale (0.08, 1), ratio (3/4, 4/3)) with the model's interpolation,
// horizontal flip p = 0.5, ColorJitter(brightness, contrast, saturation = 0.4) in random order,
// then normalize. Same distributions as timm/torchvision (Pillow's 8-bit blends), drawn from the
// seeded generator: reproducible run to run, not the same draws as Python's unseeded `random`.
void preprocess_timm_train(const Image& img, const Preprocess& p, std::mt19937_64& rng, float* out);

// PIL's Image.resize (8-bit, separable, antialiased when downscaling): exposed for tests.
Image resize_pil(const Image& img, int64_t out_h, int64_t out_w, bool bicubic);

// A seeded, reproducible selection of n indices out of size (without replacement, sorted).
std::vector<int64_t> select_indices(size_t size, size_t n, uint64_t seed);
// numpy's legacy `np.random.seed(seed); np.random.permutation(size)` (MT19937 seeded by
// init_genrand, Fisher-Yates from the end with masked rejection sampling): the draw both
// reference pipelines use for their calibration subsets. Seeds must fit 32 bits, as in numpy.
std::vector<int64_t> numpy_permutation(size_t size, uint64_t seed);

// An image list (--search-list, --calib-list, ...): one image per line, named by its index in the
// dataset's order (a whole number) or by its id (Dataset::id: "cat/0001.jpg", "img_17.bin");
// blank lines and lines starting with '#' are skipped. Returns the indices in the list's order.
// Every line is checked (unknown name, index out of range, an image listed twice) with file:line.
std::vector<int64_t> read_image_list(const std::string& path, const Dataset& ds);

}  // namespace logq
