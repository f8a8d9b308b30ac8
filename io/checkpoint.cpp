#include "io/checkpoint.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "io/error.h"
#include "io/limits.h"
#include "io/zip.h"

namespace logq {

namespace {

using pickle::Kind;
using pickle::StorageData;
using pickle::Value;

// First bytes of a legacy torch.save stream: PROTO 2, LONG1 10 bytes, the magic number
// 0x1950a86a20f9469cfc6c little-endian.
constexpr uint8_t kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
constexpr int64_t kLegacyProtocol = 1001;

std::shared_ptr<uint8_t> alloc_aligned(size_t n) {
  const size_t rounded = (std::max<size_t>(n, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw Error(fmt::format("out of memory allocating {} bytes for a storage", n));
  return std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), std::free);
}

// Storages named by persistent ids, one per key (shared storages stay shared).
struct Storages {
  const std::string& file;
  bool legacy;
  std::map<std::string, std::shared_ptr<StorageData>> by_key;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: invalid checkpoint: {}", file, what));
  }

  Value* load(pickle::Pickle& p, Value* pid) {
    if (pid->kind != Kind::Tuple || pid->items.empty()) fail(fmt::format("persistent id {} is not a tuple", pickle::repr(pid)));
    const auto& a = pid->items;
    if (a[0]->kind != Kind::Str || a[0]->s != "storage") {
      if (a[0]->kind == Kind::Str && a[0]->s == "module")
        fail("the file stores a pickled nn.Module (source code); save and load a state_dict instead");
      fail(fmt::format("persistent id {} is not a storage", pickle::repr(pid)));
    }
    if (a.size() != (legacy ? 6u : 5u)) fail(fmt::format("storage id {} has {} fields", pickle::repr(pid), a.size()));
    DType dtype;
    if (a[1]->kind != Kind::Global || !pickle::storage_dtype(a[1]->s, &dtype))
      fail(fmt::format("storage type {} is not supported", pickle::repr(a[1])));
    if (a[2]->kind != Kind::Str || a[2]->s.empty()) fail("storage key is not a string");
    if (a[4]->kind != Kind::Int || a[4]->i < 0) fail("storage size is not a non-negative int");
    const std::string& key = a[2]->s;
    if (key.find('/') != std::string::npos || key.find("..") != std::string::npos) fail(fmt::format("storage key '{}' is not a plain name", key));
    auto& sd = by_key[key];
    if (!sd) {
      sd = std::make_shared<StorageData>();
      sd->key = key;
      sd->dtype = dtype;
      sd->numel = a[4]->i;
    } else if (sd->dtype != dtype || sd->numel != a[4]->i) {
      fail(fmt::format("storage '{}' is referenced with two different types or sizes", key));
    }
    Value* v = p.make(Kind::Storage);
    v->storage = sd;
    if (legacy && a[5]->kind != Kind::None) {  // (view_key, offset, view_size): a slice of the root
      const Value* vm = a[5];
      if (vm->kind != Kind::Tuple || vm->items.size() != 3 || vm->items[1]->kind != Kind::Int || vm->items[2]->kind != Kind::Int ||
          vm->items[1]->i < 0 || vm->items[2]->i < 0 || vm->items[1]->i > sd->numel || vm->items[2]->i > sd->numel - vm->items[1]->i)
        fail(fmt::format("storage view {} of '{}' is malformed or out of range", pickle::repr(vm), key));
      v->storage_view_offset = vm->items[1]->i;
      v->storage_view_numel = vm->items[2]->i;
    }
    return v;
  }

  size_t nbytes(const StorageData& sd) const {
    uint64_t n;
    if (__builtin_mul_overflow(static_cast<uint64_t>(sd.numel), dtype_size(sd.dtype), &n) || n > (uint64_t{1} << 40))
      fail(fmt::format("storage '{}' claims an impossible size of {} elements", sd.key, sd.numel));
    return static_cast<size_t>(n);
  }
};

std::string zip_root_dir(const ZipArchive& z) {
  for (const auto& e : z.entries()) {
    const auto slash = e.name.find('/');
    if (slash != std::string::npos && e.name.compare(slash, std::string::npos, "/data.pkl") == 0)
      return e.name.substr(0, slash);
  }
  throw Error(fmt::format("{}: zip file has no <dir>/data.pkl: not a torch.save checkpoint", z.path()));
}

std::shared_ptr<pickle::Pickle> load_zip(std::shared_ptr<const Bytes> bytes, const std::string& name) {
  const ZipArchive z = ZipArchive::parse(std::move(bytes), name);
  const std::string dir = zip_root_dir(z);
  std::vector<uint8_t> buf;
  if (const auto* bo = z.find(dir + "/byteorder")) {
    z.read(*bo, buf);
    if (std::string(buf.begin(), buf.end()) != "little")
      throw Error(fmt::format("{}: checkpoint was saved on a big-endian machine; not supported", name));
  }
  z.read(*z.find(dir + "/data.pkl"), buf);
  Storages st{name, false, {}};
  auto p = pickle::unpickle(buf.data(), buf.size(), 0, name + ":data.pkl",
                            [&](pickle::Pickle& pk, Value* pid) { return st.load(pk, pid); });
  for (auto& [key, sd] : st.by_key) {
    const auto* e = z.find(dir + "/data/" + key);
    if (!e) throw Error(fmt::format("{}: invalid checkpoint: storage '{}' has no entry {}/data/{}", name, key, dir, key));
    const size_t n = st.nbytes(*sd);
    if (e->size != n)
      throw Error(fmt::format("{}: invalid checkpoint: storage '{}' holds {} bytes but {} x {} needs {}", name, key, e->size,
                              sd->numel, dtype_name(sd->dtype), n));
    sd->bytes = alloc_aligned(n);
    z.read_into(*e, sd->bytes.get());
    sd->loaded = true;
  }
  return p;
}

std::shared_ptr<pickle::Pickle> load_legacy(const std::shared_ptr<const Bytes>& bytes, const std::string& name) {
  const uint8_t* d = bytes->data();
  const size_t n = bytes->size();
  auto magic = pickle::unpickle(d, n, 0, name, nullptr);
  const Value* m = magic->root;
  if (m->kind != Kind::BigInt || m->s != std::string(reinterpret_cast<const char*>(kLegacyMagic), sizeof kLegacyMagic))
    throw Error(fmt::format("{}: not a torch.save file (legacy magic number missing)", name));
  auto proto = pickle::unpickle(d, n, magic->end, name, nullptr);
  if (proto->root->kind != Kind::Int || proto->root->i != kLegacyProtocol)
    throw Error(fmt::format("{}: legacy checkpoint protocol {} is not supported (expected 1001)", name, pickle::repr(proto->root)));
  auto sys = pickle::unpickle(d, n, proto->end, name, nullptr);
  if (sys->root->kind == Kind::Dict) {
    const Value* le = sys->root->dict_get("little_endian");
    if (le && le->kind == Kind::Bool && !le->b)
      throw Error(fmt::format("{}: checkpoint was saved on a big-endian machine; not supported", name));
  }
  Storages st{name, true, {}};
  auto main = pickle::unpickle(d, n, sys->end, name,
                               [&](pickle::Pickle& pk, Value* pid) { return st.load(pk, pid); });
  auto keys = pickle::unpickle(d, n, main->end, name, nullptr);
  if (keys->root->kind != Kind::List) throw Error(fmt::format("{}: invalid checkpoint: storage key list missing", name));
  size_t pos = keys->end;
  for (const Value* k : keys->root->items) {
    if (k->kind != Kind::Str) throw Error(fmt::format("{}: invalid checkpoint: storage key is not a string", name));
    auto it = st.by_key.find(k->s);
    if (it == st.by_key.end()) throw Error(fmt::format("{}: invalid checkpoint: storage '{}' is listed but never used", name, k->s));
    StorageData& sd = *it->second;
    if (sd.loaded) throw Error(fmt::format("{}: invalid checkpoint: storage '{}' is listed twice", name, k->s));
    int64_t count;
    if (n - pos < 8) throw Error(fmt::format("{}: truncated: storage '{}' header is missing at byte {}", name, k->s, pos));
    std::memcpy(&count, d + pos, 8);
    pos += 8;
    if (count != sd.numel)
      throw Error(fmt::format("{}: invalid checkpoint: storage '{}' has {} elements in the data but {} in the pickle", name, k->s, count, sd.numel));
    const size_t nb = st.nbytes(sd);
    if (n - pos < nb) throw Error(fmt::format("{}: truncated: storage '{}' needs {} bytes at byte {}, file has {}", name, k->s, nb, pos, n - pos));
    sd.bytes = alloc_aligned(nb);
    if (nb) std::memcpy(sd.bytes.get(), d + pos, nb);
    sd.loaded = true;
    pos += nb;
  }
  for (const auto& [key, sd] : st.by_key)
    if (!sd->loaded) throw Error(fmt::format("{}: invalid checkpoint: storage '{}' has no data (truncated file?)", name, key));
  return main;
}

RawTensor to_raw(const pickle::TensorRef& t, const std::string& file, const std::string& name) {
  RawTensor r;
  r.storage = t.storage;
  r.dtype = t.storage->dtype;
  r.shape = t.shape;
  r.stride = t.stride;
  r.storage_offset = t.storage_offset;
  r.requires_grad = t.requires_grad;
  r.is_parameter = t.is_parameter;
  if (!t.storage->loaded) throw Error(fmt::format("{}: tensor '{}': storage '{}' has no data", file, name, t.storage->key));
  // The furthest element the view touches must lie inside the storage (or the legacy view).
  const int64_t limit = t.storage_limit >= 0 ? t.storage_limit : t.storage->numel;
  bool empty = false;
  uint64_t last = static_cast<uint64_t>(t.storage_offset);
  for (size_t k = 0; k < t.shape.size(); ++k) {
    if (t.shape[k] == 0) empty = true;
    uint64_t span;
    if (t.shape[k] > 0 && (__builtin_mul_overflow(static_cast<uint64_t>(t.shape[k] - 1), static_cast<uint64_t>(t.stride[k]), &span) ||
                           __builtin_add_overflow(last, span, &last)))
      throw Error(fmt::format("{}: tensor '{}': shape/stride overflow", file, name));
  }
  // A stride-0 (broadcast) view may hold more elements than its storage; cap it so a tiny file
  // cannot make a reader allocate terabytes.
  constexpr uint64_t kMaxBroadcastNumel = uint64_t{1} << 28;
  int64_t signed_numel = 0;
  if (!try_numel(t.shape, &signed_numel))
    throw Error(fmt::format("{}: tensor '{}': shape [{}] overflows", file, name, fmt::join(t.shape, ", ")));
  const uint64_t numel = static_cast<uint64_t>(signed_numel);
  if (numel > static_cast<uint64_t>(t.storage->numel) && numel > kMaxBroadcastNumel)
    throw Error(fmt::format("{}: tensor '{}': view of {} elements over a {}-element storage exceeds the 2^28 broadcast limit",
                            file, name, numel, t.storage->numel));
  if (!empty && last >= static_cast<uint64_t>(limit))
    throw Error(fmt::format("{}: tensor '{}': view [{}] stride [{}] offset {} reaches element {} of a {}-element storage", file, name,
                            fmt::join(t.shape, ", "), fmt::join(t.stride, ", "), t.storage_offset, last, limit));
  return r;
}

void flatten(const Value* dict, const std::string& prefix, int depth, Checkpoint& ck, std::set<std::string>& seen) {
  if (depth > 16) throw Error(fmt::format("{}: dictionaries nested deeper than 16 levels", ck.path));
  for (size_t k = 0; k < dict->dict_size(); ++k) {
    const Value* key = dict->dict_key(k);
    const Value* val = dict->dict_value(k);
    std::string name;
    if (key->kind == Kind::Str) name = key->s;
    else if (key->kind == Kind::Int) name = std::to_string(key->i);
    else throw Error(fmt::format("{}: state dict key {} is not a string", ck.path, pickle::repr(key)));
    name = prefix + name;
    if (val->kind == Kind::Tensor) {
      if (!seen.insert(name).second) throw Error(fmt::format("{}: tensor name '{}' appears twice", ck.path, name));
      ck.tensors.emplace_back(name, to_raw(*val->tensor, ck.path, name));
    } else if (val->kind == Kind::Dict) {
      flatten(val, name + ".", depth + 1, ck, seen);
    } else {
      ck.extras.emplace_back(name, pickle::repr(val));
    }
  }
}

bool holds_tensors(const Value* v, int depth = 0) {
  if (v->kind == Kind::Tensor) return true;
  if (v->kind != Kind::Dict || depth > 16) return false;
  for (size_t k = 0; k < v->dict_size(); ++k)
    if (holds_tensors(v->dict_value(k), depth + 1)) return true;
  return false;
}

}  // namespace

int64_t RawTensor::numel() const { return checked_numel(shape, "tensor"); }

bool RawTensor::is_contiguous() const {
  int64_t expect = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    if (shape[k] != 1 && stride[k] != expect) return false;
    expect *= shape[k];
  }
  return true;
}

double RawTensor::at(int64_t i) const {
  int64_t off = storage_offset;
  for (size_t k = shape.size(); k-- > 0;) {
    off += (i % shape[k]) * stride[k];
    i /= shape[k];
  }
  return load_as_double(dtype, storage->bytes.get(), static_cast<size_t>(off));
}

std::vector<uint8_t> RawTensor::contiguous_bytes() const {
  const size_t es = dtype_size(dtype);
  const int64_t n = numel();
  std::vector<uint8_t> out(static_cast<size_t>(n) * es);
  const uint8_t* base = storage->bytes.get();
  if (is_contiguous()) {
    if (n) std::memcpy(out.data(), base + storage_offset * es, out.size());
    return out;
  }
  std::vector<int64_t> idx(shape.size(), 0);
  int64_t off = storage_offset;
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out.data() + i * es, base + off * es, es);
    for (size_t k = shape.size(); k-- > 0;) {  // odometer increment
      off += stride[k];
      if (++idx[k] < shape[k]) break;
      off -= stride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

const RawTensor* Checkpoint::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

bool is_torch_checkpoint(const uint8_t* data, size_t size) {
  if (ZipArchive::looks_like_zip(data, size)) return true;
  return size >= 14 && data[0] == 0x80 && data[2] == 0x8a && data[3] == 0x0a &&
         std::memcmp(data + 4, kLegacyMagic, sizeof kLegacyMagic) == 0;
}

Checkpoint parse_torch_checkpoint(std::shared_ptr<const Bytes> bytes, const std::string& name,
                                  const CheckpointLoadOptions& opts) {
  Checkpoint ck;
  ck.path = name;
  const bool zip = ZipArchive::looks_like_zip(bytes->data(), bytes->size());
  if (!zip && bytes->size() > 262 && std::memcmp(bytes->data() + 257, "ustar", 5) == 0)
    throw Error(fmt::format("{}: tar-based checkpoints (PyTorch < 0.4) are not supported", name));
  if (!is_torch_checkpoint(bytes->data(), bytes->size()))
    throw Error(fmt::format("{}: not a PyTorch checkpoint (neither a torch.save zip nor a legacy pickle stream)", name));
  ck.format = zip ? "torch-zip" : "torch-legacy";
  ck.pickle = zip ? load_zip(bytes, name) : load_legacy(bytes, name);

  const Value* root = ck.pickle->root;
  if (root->kind == Kind::Tensor) {
    ck.tensors.emplace_back("tensor", to_raw(*root->tensor, name, "tensor"));
    return ck;
  }
  if (root->kind != Kind::Dict)
    throw Error(fmt::format("{}: top-level object is {}, not a state dict", name, pickle::repr(root, 1)));
  const Value* sd = root;
  for (const char* key : {"state_dict", "model", "model_state_dict", "module", "net", "network"}) {
    const Value* v = root->dict_get(key);
    if (v && v->kind == Kind::Dict && holds_tensors(v)) {
      sd = v;
      ck.state_dict_key = key;
      break;
    }
  }
  std::set<std::string> seen;
  if (sd != root) {
    for (size_t k = 0; k < root->dict_size(); ++k) {
      const Value* key = root->dict_key(k);
      if (key->kind == Kind::Str && key->s == ck.state_dict_key) continue;
      ck.extras.emplace_back(key->kind == Kind::Str ? key->s : pickle::repr(key), pickle::repr(root->dict_value(k)));
    }
  }
  flatten(sd, "", 0, ck, seen);
  if (ck.tensors.empty()) throw Error(fmt::format("{}: the checkpoint holds no tensors", name));
  if (opts.strip_module_prefix) {
    bool all = true;
    for (const auto& t : ck.tensors) all = all && t.first.rfind("module.", 0) == 0;
    if (all) {
      for (auto& t : ck.tensors) t.first.erase(0, 7);
      ck.stripped_module_prefix = true;
    }
  }
  return ck;
}

Checkpoint load_torch_checkpoint(const std::string& path, const CheckpointLoadOptions& opts) {
  return parse_torch_checkpoint(Bytes::map_file(path), path, opts);
}

}  // namespace logq
