// PyTorch checkpoint reader without LibTorch: torch.save's zip format (<dir>/data.pkl +
// <dir>/data/<key>) and the legacy stream format (magic, protocol, sys_info, pickle, storage
// keys, raw storages). It finds the state dict inside common wrappers ({'state_dict': ...},
// {'model': ...}), strips a DataParallel 'module.' prefix, validates every tensor view against
// its storage, and keeps shared storages shared. quant/io/torch_checkpoint.h turns the result
// into torch tensors.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "io/file_io.h"
#include "io/pickle.h"

namespace logq {

struct RawTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape, stride;
  int64_t storage_offset = 0;
  std::shared_ptr<pickle::StorageData> storage;
  bool requires_grad = false;
  bool is_parameter = false;

  int64_t numel() const;
  bool is_contiguous() const;
  // Element i (row-major over shape) as a double.
  double at(int64_t i) const;
  // The tensor's elements, row-major and packed (copies through the strides).
  std::vector<uint8_t> contiguous_bytes() const;
};

struct CheckpointLoadOptions {
  bool strip_module_prefix = true;  // 'module.conv1.weight' -> 'conv1.weight' when every key has it
};

struct Checkpoint {
  std::string path;
  std::string format;          // "torch-zip" or "torch-legacy"
  std::string state_dict_key;  // "" when the file is a bare state dict, else e.g. "state_dict"
  bool stripped_module_prefix = false;
  std::vector<std::pair<std::string, RawTensor>> tensors;     // state-dict order
  std::vector<std::pair<std::string, std::string>> extras;    // non-tensor entries, repr'd
  std::shared_ptr<pickle::Pickle> pickle;                     // the full object, for callers that need more

  const RawTensor* find(const std::string& name) const;
};

bool is_torch_checkpoint(const uint8_t* data, size_t size);
Checkpoint load_torch_checkpoint(const std::string& path, const CheckpointLoadOptions& opts = {});
Checkpoint parse_torch_checkpoint(std::shared_ptr<const Bytes> bytes, const std::string& name,
                                  const CheckpointLoadOptions& opts = {});

}  // namespace logq
