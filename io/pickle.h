// A restricted unpickler for PyTorch tensor checkpoints. It interprets the pickle opcodes a
// state_dict needs and builds plain data (dicts, lists, numbers, strings, tensor references);
// it never imports or calls anything. A GLOBAL outside a short allow-list (OrderedDict, torch's
// tensor/parameter rebuild functions, storage types, a few inert helpers) is rejected with an
// Error that names it — the same guarantee as torch.load(weights_only=True).
//
// Values live in an arena owned by the Pickle, so cyclic or deeply nested input can neither
// leak nor overflow the stack on destruction.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/dtype.h"

namespace logq::pickle {

// The bytes of one storage: filled after unpickling from the zip entry or the legacy stream.
struct StorageData {
  std::string key;
  DType dtype = DType::F32;
  int64_t numel = 0;
  bool loaded = false;
  std::shared_ptr<uint8_t> bytes;  // 64-byte aligned, numel * dtype_size(dtype)
};

struct TensorRef {
  std::shared_ptr<StorageData> storage;
  int64_t storage_offset = 0;  // elements
  int64_t storage_limit = 0;   // elements visible from storage_offset's base (legacy views)
  std::vector<int64_t> shape, stride;
  bool requires_grad = false;
  bool is_parameter = false;
};

enum class Kind { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Set, Global, Storage, Tensor, NumpyDType };

struct Value {
  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                             // Str, Bytes, BigInt (LE bytes), Global "module.name", NumpyDType
  std::vector<Value*> items;                 // Tuple, List, Set; Dict keys/values interleaved
  std::unordered_map<std::string, size_t> str_index;  // Dict: string key -> pair index
  std::shared_ptr<StorageData> storage;      // Storage
  int64_t storage_view_offset = 0;           // Storage (legacy view)
  int64_t storage_view_numel = -1;
  std::shared_ptr<TensorRef> tensor;         // Tensor
  Value* state = nullptr;                    // BUILD state kept, never applied (e.g. _metadata)

  size_t dict_size() const { return items.size() / 2; }
  Value* dict_key(size_t k) const { return items[2 * k]; }
  Value* dict_value(size_t k) const { return items[2 * k + 1]; }
  Value* dict_get(const std::string& key) const;
};

class Pickle {
 public:
  Value* make(Kind k);
  Value* root = nullptr;
  size_t end = 0;  // offset just past STOP

 private:
  std::vector<std::unique_ptr<Value>> arena_;
};

// Called for BINPERSID with the persistent id; returns a Value made in `p`.
using PersistentLoad = std::function<Value*(Pickle& p, Value* pid)>;

// Unpickles one pickle starting at `start`. `name` names the file in errors.
std::shared_ptr<Pickle> unpickle(const uint8_t* data, size_t size, size_t start, const std::string& name,
                                 const PersistentLoad& persistent_load);

// Storage type name ("FloatStorage", ...) of a torch.<X>Storage global -> dtype.
bool storage_dtype(const std::string& global, DType* out);

// Short human-readable rendering, depth-limited (for errors and inspect).
std::string repr(const Value* v, int depth = 3);

}  // namespace logq::pickle
