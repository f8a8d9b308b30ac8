#include "quant/io/torch_checkpoint.h"

#include <map>

#include <fmt/format.h>

#include "io/error.h"
#include "io/safetensors.h"

namespace logq {

at::ScalarType to_scalar_type(DType t) {
  switch (t) {
    case DType::BOOL: return at::kBool;
    case DType::U8: return at::kByte;
    case DType::I8: return at::kChar;
    case DType::I16: return at::kShort;
    case DType::I32: return at::kInt;
    case DType::I64: return at::kLong;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::F32: return at::kFloat;
    case DType::F64: return at::kDouble;
    default: throw Error(fmt::format("dtype {} has no LibTorch 1.13 equivalent", dtype_name(t)));
  }
}

StateDict to_torch(const Checkpoint& ck) {
  std::map<const pickle::StorageData*, at::Tensor> flat;  // one torch storage per file storage
  StateDict out;
  for (const auto& [name, t] : ck.tensors) {
    auto& base = flat[t.storage.get()];
    if (!base.defined()) {
      std::shared_ptr<uint8_t> keep = t.storage->bytes;  // the tensor owns a reference to the bytes
      base = at::from_blob(keep.get(), {t.storage->numel}, [keep](void*) mutable { keep.reset(); },
                           at::TensorOptions().dtype(to_scalar_type(t.dtype)));
    }
    out.emplace_back(name, base.as_strided(t.shape, t.stride, t.storage_offset));
  }
  return out;
}

namespace {
StateDict load_safetensors(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::open(path);
  StateDict out;
  for (const auto& t : f.tensors()) {
    at::Tensor x = at::empty(t.shape, at::TensorOptions().dtype(to_scalar_type(t.dtype)));
    if (t.nbytes) std::memcpy(x.data_ptr(), f.data(t), t.nbytes);
    out.emplace_back(t.name, x);
  }
  return out;
}
}  // namespace

StateDict load_state_dict(const std::string& path, const CheckpointLoadOptions& opts) {
  auto bytes = Bytes::map_file(path);
  if (is_torch_checkpoint(bytes->data(), bytes->size())) return to_torch(parse_torch_checkpoint(bytes, path, opts));
  return load_safetensors(path);
}

}  // namespace logq
