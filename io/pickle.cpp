#include "io/pickle.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "io/error.h"
#include "io/limits.h"

namespace logq::pickle {

namespace {

// Globals a tensor checkpoint may name. Nothing here is ever executed: each is interpreted by
// apply_reduce() below or only used as a type tag.
const std::set<std::string> kAllowedGlobals = {
    "collections.OrderedDict",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._tensor._rebuild_from_type_v2",
    "torch.Tensor",
    "torch.nn.parameter.Parameter",
    "torch.Size",
    "_codecs.encode",
    "builtins.set",
    "builtins.frozenset",
    "__builtin__.set",
    "numpy.core.multiarray.scalar",
    "numpy.dtype",
};

struct StorageType {
  const char* name;
  DType dtype;
};
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", DType::F32}, {"DoubleStorage", DType::F64}, {"HalfStorage", DType::F16},
    {"BFloat16Storage", DType::BF16}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16}, {"CharStorage", DType::I8}, {"ByteStorage", DType::U8},
    {"BoolStorage", DType::BOOL},
};

constexpr size_t kMaxMemo = size_t{1} << 26;

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, size_t pos, const std::string& name, const PersistentLoad& pl)
      : d_(data), n_(size), pos_(pos), name_(name), pl_(pl), out_(std::make_shared<Pickle>()) {}

  std::shared_ptr<Pickle> run();

 private:
  const uint8_t* d_;
  size_t n_, pos_, op_pos_ = 0;
  const std::string& name_;
  const PersistentLoad& pl_;
  std::shared_ptr<Pickle> out_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
  uint8_t op_ = 0;
  uint64_t built_bytes_ = 0;  // what the objects built so far cost (input_limits().pickle_object_bytes)

  // Every object the file makes us build is paid for first, so a small file cannot make
  // gigabytes (20 M one-byte pushes, or one list copied by a million set() calls).
  void charge(uint64_t bytes) {
    built_bytes_ += bytes;
    if (built_bytes_ > input_limits().pickle_object_bytes)
      fail(fmt::format("the pickle builds more than {} MiB of objects (a tensor checkpoint's builds a few MiB) {}",
                       input_limits().pickle_object_bytes >> 20, kNoLimitsHint));
  }
  static constexpr uint64_t kValueCost = sizeof(Value) + 16;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}: pickle error at byte {} (opcode 0x{:02x}): {}", name_, op_pos_, op_, what));
  }
  const uint8_t* take(uint64_t k) {
    if (k > n_ - pos_) fail(fmt::format("needs {} more bytes but the data ends (truncated file)", k));
    const uint8_t* p = d_ + pos_;
    pos_ += static_cast<size_t>(k);
    return p;
  }
  template <typename T>
  T read() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  std::string read_line() {
    const void* nl = std::memchr(d_ + pos_, '\n', n_ - pos_);
    if (!nl) fail("unterminated text argument (truncated file)");
    const size_t len = static_cast<const uint8_t*>(nl) - (d_ + pos_);
    std::string s(reinterpret_cast<const char*>(take(len)), len);
    take(1);
    return s;
  }
  Value* make(Kind k) {
    charge(kValueCost);
    return out_->make(k);
  }
  void charge_items(size_t n) { charge(uint64_t{n} * sizeof(Value*)); }
  Value* pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow (malformed pickle)");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) fail("stack underflow (malformed pickle)");
    return stack_.back();
  }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack (malformed pickle)");
    const size_t m = marks_.back();
    marks_.pop_back();
    charge_items(stack_.size() - m);
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void memo_put(uint64_t idx, Value* v) {
    if (memo_.size() >= kMaxMemo && !memo_.count(idx)) fail("memo grows beyond the limit");
    charge(48);  // one hash node
    memo_[idx] = v;
  }
  Value* memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail(fmt::format("memo index {} was never stored", idx));
    return it->second;
  }
  Value* str(Kind k, const uint8_t* p, uint64_t len) {
    charge(len);
    Value* v = make(k);
    v->s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
    return v;
  }
  Value* integer(int64_t i) {
    Value* v = make(Kind::Int);
    v->i = i;
    return v;
  }
  Value* long_bytes(const uint8_t* p, uint64_t len);
  Value* tuple(std::vector<Value*> items) {
    charge_items(items.size());
    Value* t = make(Kind::Tuple);
    t->items = std::move(items);
    return t;
  }
  void dict_set(Value* d, Value* k, Value* v);
  void append(Value* list, const std::vector<Value*>& items);
  Value* global(const std::string& module, const std::string& name);
  Value* apply_reduce(Value* fn, Value* args);
  Value* rebuild_tensor(Value* args, bool v2, const char* fname);
  void step();
};

Value* Unpickler::long_bytes(const uint8_t* p, uint64_t len) {
  if (len <= 8) {
    uint64_t u = 0;
    for (uint64_t k = 0; k < len; ++k) u |= uint64_t{p[k]} << (8 * k);
    if (len > 0 && len < 8 && (p[len - 1] & 0x80)) u |= ~uint64_t{0} << (8 * len);  // sign-extend
    return integer(static_cast<int64_t>(u));
  }
  return str(Kind::BigInt, p, len);
}

void Unpickler::dict_set(Value* d, Value* k, Value* v) {
  if (d->kind != Kind::Dict) fail("SETITEM(S) target is not a dict");
  if (k->kind == Kind::Str) {
    auto it = d->str_index.find(k->s);
    if (it != d->str_index.end()) {
      d->items[2 * it->second + 1] = v;  // Python semantics: a repeated key replaces the value
      return;
    }
    charge(64 + k->s.size());  // index node
    d->str_index[k->s] = d->dict_size();
  }
  charge_items(2);
  d->items.push_back(k);
  d->items.push_back(v);
}

void Unpickler::append(Value* list, const std::vector<Value*>& items) {
  if (list->kind != Kind::List && list->kind != Kind::Set) fail("APPEND(S)/ADDITEMS target is not a list or set");
  charge_items(items.size());
  list->items.insert(list->items.end(), items.begin(), items.end());
}

Value* Unpickler::global(const std::string& module, const std::string& name) {
  const std::string full = module + "." + name;
  bool ok = kAllowedGlobals.count(full) > 0;
  if (!ok && module == "torch") {
    DType t;
    ok = storage_dtype(full, &t);
  }
  if (!ok)
    fail(fmt::format("global '{}' is not allowed: logq loads tensor checkpoints only and never runs code "
                     "from a file (like torch.load(weights_only=True))", full));
  Value* g = make(Kind::Global);
  g->s = full;
  return g;
}

Value* Unpickler::rebuild_tensor(Value* args, bool v2, const char* fname) {
  const auto& a = args->items;
  if (a.size() < (v2 ? 6u : 4u)) fail(fmt::format("{} expects at least {} arguments, got {}", fname, v2 ? 6 : 4, a.size()));
  if (a[0]->kind != Kind::Storage) fail(fmt::format("{}: first argument is not a storage", fname));
  if (a[1]->kind != Kind::Int || a[1]->i < 0) fail(fmt::format("{}: storage offset is not a non-negative int", fname));
  auto ints = [&](Value* t, const char* what) {
    if (t->kind != Kind::Tuple && t->kind != Kind::List) fail(fmt::format("{}: {} is not a tuple", fname, what));
    std::vector<int64_t> out;
    for (Value* e : t->items) {
      if (e->kind != Kind::Int || e->i < 0) fail(fmt::format("{}: {} holds a value that is not a non-negative int", fname, what));
      out.push_back(e->i);
    }
    return out;
  };
  charge(sizeof(TensorRef) + 16 * (a[2]->items.size() + a[3]->items.size()));
  auto t = std::make_shared<TensorRef>();
  t->storage = a[0]->storage;
  if (__builtin_add_overflow(a[0]->storage_view_offset, a[1]->i, &t->storage_offset)) fail(fmt::format("{}: storage offset overflows", fname));
  t->storage_limit = a[0]->storage_view_numel >= 0 ? a[0]->storage_view_offset + a[0]->storage_view_numel : -1;
  t->shape = ints(a[2], "size");
  t->stride = ints(a[3], "stride");
  if (t->shape.size() != t->stride.size()) fail(fmt::format("{}: size and stride differ in length", fname));
  if (v2) t->requires_grad = a[4]->kind == Kind::Bool && a[4]->b;
  Value* v = make(Kind::Tensor);
  v->tensor = std::move(t);
  return v;
}

Value* Unpickler::apply_reduce(Value* fn, Value* args) {
  if (fn->kind != Kind::Global) fail(fmt::format("REDUCE calls {} which is not a global", repr(fn)));
  if (args->kind != Kind::Tuple) fail("REDUCE arguments are not a tuple");
  const std::string& f = fn->s;
  const auto& a = args->items;
  if (f == "collections.OrderedDict") {
    Value* d = make(Kind::Dict);
    if (!a.empty()) {  // OrderedDict([(k, v), ...])
      if (a[0]->kind != Kind::List && a[0]->kind != Kind::Tuple) fail("OrderedDict argument is not a list of pairs");
      for (Value* kv : a[0]->items) {
        if ((kv->kind != Kind::Tuple && kv->kind != Kind::List) || kv->items.size() != 2) fail("OrderedDict item is not a pair");
        dict_set(d, kv->items[0], kv->items[1]);
      }
    }
    return d;
  }
  if (f == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(args, true, "_rebuild_tensor_v2");
  if (f == "torch._utils._rebuild_tensor") return rebuild_tensor(args, false, "_rebuild_tensor");
  if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
    if (a.size() < 3 || a[0]->kind != Kind::Tensor) fail("_rebuild_parameter expects (tensor, requires_grad, hooks)");
    Value* v = make(Kind::Tensor);
    charge(sizeof(TensorRef) + 16 * (a[0]->tensor->shape.size() + a[0]->tensor->stride.size()));
    v->tensor = std::make_shared<TensorRef>(*a[0]->tensor);
    v->tensor->is_parameter = true;
    v->tensor->requires_grad = a[1]->kind == Kind::Bool && a[1]->b;
    return v;
  }
  if (f == "torch._tensor._rebuild_from_type_v2") {  // (func, type, args, state): func(*args)
    // Unwrapped in a loop, not by recursion: a file may nest the call in its own arguments.
    Value* inner_fn = fn;
    Value* inner_args = args;
    for (int depth = 0; inner_fn->kind == Kind::Global && inner_fn->s == f; ++depth) {
      const auto& ia = inner_args->items;
      if (depth >= kMaxPickleNesting) fail(fmt::format("_rebuild_from_type_v2 nested more than {} deep", kMaxPickleNesting));
      if (ia.size() < 3 || ia[1]->kind != Kind::Global || (ia[1]->s != "torch.Tensor" && ia[1]->s != "torch.nn.parameter.Parameter"))
        fail("_rebuild_from_type_v2 is allowed only for torch.Tensor / Parameter");
      if (ia[2]->kind != Kind::Tuple) fail("_rebuild_from_type_v2 arguments are not a tuple");
      inner_fn = ia[0];
      inner_args = ia[2];
    }
    Value* v = apply_reduce(inner_fn, inner_args);
    if (v->kind != Kind::Tensor) fail("_rebuild_from_type_v2 did not rebuild a tensor");
    return v;
  }
  if (f == "torch.Size") {
    if (a.size() != 1 || a[0]->kind != Kind::Tuple) fail("torch.Size expects one tuple");
    return a[0];
  }
  if (f == "_codecs.encode") {  // protocol-2 pickles of bytes: encode(str, 'latin1')
    if (a.size() != 2 || a[0]->kind != Kind::Str || a[1]->kind != Kind::Str || (a[1]->s != "latin1" && a[1]->s != "latin-1"))
      fail("_codecs.encode is allowed only as encode(str, 'latin1')");
    Value* b = make(Kind::Bytes);
    const std::string& u = a[0]->s;  // UTF-8 of code points < 256
    charge(u.size());
    for (size_t k = 0; k < u.size(); ++k) {
      const uint8_t c = static_cast<uint8_t>(u[k]);
      if (c < 0x80) b->s.push_back(static_cast<char>(c));
      else if ((c & 0xFE) == 0xC2 && k + 1 < u.size()) b->s.push_back(static_cast<char>(((c & 0x03) << 6) | (u[++k] & 0x3F)));  // U+0080..U+00FF
      else fail("_codecs.encode: string is not latin-1");
    }
    return b;
  }
  if (f == "builtins.set" || f == "builtins.frozenset" || f == "__builtin__.set") {
    Value* s = make(Kind::Set);
    if (!a.empty()) {
      if (a[0]->kind != Kind::List && a[0]->kind != Kind::Tuple) fail("set() argument is not a list");
      charge_items(a[0]->items.size());
      s->items = a[0]->items;
    }
    return s;
  }
  if (f == "numpy.dtype") {
    if (a.empty() || a[0]->kind != Kind::Str) fail("numpy.dtype expects a type string");
    Value* t = make(Kind::NumpyDType);
    charge(a[0]->s.size());
    t->s = a[0]->s;
    return t;
  }
  if (f == "numpy.core.multiarray.scalar") {  // numpy scalars such as a saved best accuracy
    if (a.size() != 2 || a[0]->kind != Kind::NumpyDType || a[1]->kind != Kind::Bytes)
      fail("numpy scalar expects (dtype, bytes)");
    const std::string& t = a[0]->s;
    const std::string& raw = a[1]->s;
    const Value* st = a[0]->state;  // numpy.dtype state: (version, byteorder, ...)
    if (st && st->kind == Kind::Tuple && st->items.size() > 1 && st->items[1]->kind == Kind::Str && st->items[1]->s == ">")
      fail("big-endian numpy scalars are not supported");
    auto need = [&](size_t k) { if (raw.size() != k) fail(fmt::format("numpy {} scalar has {} bytes", t, raw.size())); };
    Value* v;
    if (t == "f8") { need(8); double x; std::memcpy(&x, raw.data(), 8); v = make(Kind::Float); v->f = x; }
    else if (t == "f4") { need(4); float x; std::memcpy(&x, raw.data(), 4); v = make(Kind::Float); v->f = x; }
    else if (t == "i8") { need(8); int64_t x; std::memcpy(&x, raw.data(), 8); v = integer(x); }
    else if (t == "i4") { need(4); int32_t x; std::memcpy(&x, raw.data(), 4); v = integer(x); }
    else if (t == "b1") { need(1); v = make(Kind::Bool); v->b = raw[0] != 0; }
    else fail(fmt::format("numpy scalar of dtype '{}' is not supported", t));
    return v;
  }
  fail(fmt::format("calling '{}' is not supported", f));
}

void Unpickler::step() {
  op_pos_ = pos_;
  op_ = *take(1);
  switch (op_) {
    case 0x80: take(1); break;                                 // PROTO
    case 0x95: take(8); break;                                 // FRAME (framing is advisory)
    case '.': break;                                           // STOP, handled by run()
    case '(': marks_.push_back(stack_.size()); break;          // MARK
    case 'N': stack_.push_back(make(Kind::None)); break;
    case 0x88: case 0x89: { Value* v = make(Kind::Bool); v->b = op_ == 0x88; stack_.push_back(v); break; }
    case 'J': stack_.push_back(integer(read<int32_t>())); break;   // BININT
    case 'K': stack_.push_back(integer(read<uint8_t>())); break;   // BININT1
    case 'M': stack_.push_back(integer(read<uint16_t>())); break;  // BININT2
    case 0x8a: { const uint8_t n = read<uint8_t>(); stack_.push_back(long_bytes(take(n), n)); break; }  // LONG1
    case 0x8b: {                                                 // LONG4
      const int32_t n = read<int32_t>();
      if (n < 0) fail("negative LONG4 length");
      stack_.push_back(long_bytes(take(static_cast<uint64_t>(n)), static_cast<uint64_t>(n)));
      break;
    }
    case 'I': case 'L': {                                        // INT / LONG (text)
      std::string s = read_line();
      if (!s.empty() && s.back() == 'L') s.pop_back();
      if (s == "00" || s == "01") { Value* v = make(Kind::Bool); v->b = s == "01"; stack_.push_back(v); break; }
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end || errno) fail(fmt::format("bad integer literal '{}'", s));
      stack_.push_back(integer(v));
      break;
    }
    case 'G': {                                                  // BINFLOAT (big-endian)
      const uint8_t* p = take(8);
      uint64_t u = 0;
      for (int k = 0; k < 8; ++k) u = (u << 8) | p[k];
      Value* v = make(Kind::Float);
      std::memcpy(&v->f, &u, 8);
      stack_.push_back(v);
      break;
    }
    case 'F': {                                                  // FLOAT (text)
      const std::string s = read_line();
      char* end = nullptr;
      Value* v = make(Kind::Float);
      v->f = std::strtod(s.c_str(), &end);
      if (s.empty() || *end) fail(fmt::format("bad float literal '{}'", s));
      stack_.push_back(v);
      break;
    }
    case 'X': { const uint32_t n = read<uint32_t>(); stack_.push_back(str(Kind::Str, take(n), n)); break; }     // BINUNICODE
    case 0x8c: { const uint8_t n = read<uint8_t>(); stack_.push_back(str(Kind::Str, take(n), n)); break; }     // SHORT_BINUNICODE
    case 0x8d: { const uint64_t n = read<uint64_t>(); stack_.push_back(str(Kind::Str, take(n), n)); break; }   // BINUNICODE8
    case 'T': {                                                  // BINSTRING (py2 str; torch keys may be these)
      const int32_t n = read<int32_t>();
      if (n < 0) fail("negative BINSTRING length");
      stack_.push_back(str(Kind::Str, take(static_cast<uint64_t>(n)), static_cast<uint64_t>(n)));
      break;
    }
    case 'U': { const uint8_t n = read<uint8_t>(); stack_.push_back(str(Kind::Str, take(n), n)); break; }      // SHORT_BINSTRING
    case 'B': { const uint32_t n = read<uint32_t>(); stack_.push_back(str(Kind::Bytes, take(n), n)); break; }  // BINBYTES
    case 'C': { const uint8_t n = read<uint8_t>(); stack_.push_back(str(Kind::Bytes, take(n), n)); break; }    // SHORT_BINBYTES
    case 0x8e: case 0x96: { const uint64_t n = read<uint64_t>(); stack_.push_back(str(Kind::Bytes, take(n), n)); break; }  // BINBYTES8, BYTEARRAY8
    case ')': stack_.push_back(make(Kind::Tuple)); break;        // EMPTY_TUPLE
    case ']': stack_.push_back(make(Kind::List)); break;         // EMPTY_LIST
    case '}': stack_.push_back(make(Kind::Dict)); break;         // EMPTY_DICT
    case 0x8f: stack_.push_back(make(Kind::Set)); break;         // EMPTY_SET
    case 't': stack_.push_back(tuple(pop_mark())); break;        // TUPLE
    case 0x85: { Value* a = pop(); stack_.push_back(tuple({a})); break; }
    case 0x86: { Value* b = pop(); Value* a = pop(); stack_.push_back(tuple({a, b})); break; }
    case 0x87: { Value* c = pop(); Value* b = pop(); Value* a = pop(); stack_.push_back(tuple({a, b, c})); break; }
    case 'l': { Value* l = make(Kind::List); l->items = pop_mark(); stack_.push_back(l); break; }  // LIST
    case 0x91: { Value* s = make(Kind::Set); s->items = pop_mark(); stack_.push_back(s); break; }  // FROZENSET
    case 'd': {                                                  // DICT
      auto items = pop_mark();
      if (items.size() % 2) fail("DICT with an odd number of items");
      Value* d = make(Kind::Dict);
      for (size_t k = 0; k < items.size(); k += 2) dict_set(d, items[k], items[k + 1]);
      stack_.push_back(d);
      break;
    }
    case 'a': { Value* v = pop(); append(top(), {v}); break; }   // APPEND
    case 'e': case 0x90: { auto items = pop_mark(); append(top(), items); break; }  // APPENDS, ADDITEMS
    case 's': { Value* v = pop(); Value* k = pop(); dict_set(top(), k, v); break; }  // SETITEM
    case 'u': {                                                  // SETITEMS
      auto items = pop_mark();
      if (items.size() % 2) fail("SETITEMS with an odd number of items");
      Value* d = top();
      for (size_t k = 0; k < items.size(); k += 2) dict_set(d, items[k], items[k + 1]);
      break;
    }
    case '0': pop(); break;                                      // POP
    case '1': pop_mark(); break;                                 // POP_MARK
    case '2': stack_.push_back(top()); break;                    // DUP
    case 'q': memo_put(read<uint8_t>(), top()); break;           // BINPUT
    case 'r': memo_put(read<uint32_t>(), top()); break;          // LONG_BINPUT
    case 0x94: memo_put(memo_.size(), top()); break;             // MEMOIZE
    case 'p': {                                                  // PUT (text)
      const std::string s = read_line();
      char* end = nullptr;
      const unsigned long long idx = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end) fail("bad PUT index");
      memo_put(idx, top());
      break;
    }
    case 'h': stack_.push_back(memo_get(read<uint8_t>())); break;    // BINGET
    case 'j': stack_.push_back(memo_get(read<uint32_t>())); break;   // LONG_BINGET
    case 'g': {                                                  // GET (text)
      const std::string s = read_line();
      char* end = nullptr;
      const unsigned long long idx = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end) fail("bad GET index");
      stack_.push_back(memo_get(idx));
      break;
    }
    case 'c': {                                                  // GLOBAL
      const std::string module = read_line();
      const std::string name = read_line();
      stack_.push_back(global(module, name));
      break;
    }
    case 0x93: {                                                 // STACK_GLOBAL
      Value* name = pop();
      Value* module = pop();
      if (name->kind != Kind::Str || module->kind != Kind::Str) fail("STACK_GLOBAL operands are not strings");
      stack_.push_back(global(module->s, name->s));
      break;
    }
    case 'R': { Value* args = pop(); Value* fn = pop(); stack_.push_back(apply_reduce(fn, args)); break; }  // REDUCE
    case 0x81: {                                                 // NEWOBJ: cls.__new__(cls, *args)
      Value* args = pop();
      Value* cls = pop();
      if (cls->kind != Kind::Global || cls->s != "collections.OrderedDict" || args->kind != Kind::Tuple)
        fail(fmt::format("NEWOBJ of {} is not allowed", repr(cls)));
      stack_.push_back(make(Kind::Dict));
      break;
    }
    case 'b': {                                                  // BUILD: state is kept, never applied
      Value* state = pop();
      Value* obj = top();
      if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor && obj->kind != Kind::NumpyDType)
        fail(fmt::format("BUILD on {} is not allowed", repr(obj, 1)));
      obj->state = state;
      break;
    }
    case 'Q': {                                                  // BINPERSID
      Value* pid = pop();
      if (!pl_) fail("persistent id without a storage loader");
      stack_.push_back(pl_(*out_, pid));
      break;
    }
    default:
      fail(fmt::format("opcode 0x{:02x} is not supported by logq's restricted unpickler "
                       "(INST/OBJ/EXT/PERSID and buffers are never needed by a tensor checkpoint)", op_));
  }
}

std::shared_ptr<Pickle> Unpickler::run() {
  if (pos_ >= n_) {
    op_pos_ = pos_;
    fail("no pickle data (empty or truncated file)");
  }
  do {
    step();
  } while (op_ != '.');
  if (stack_.size() != 1 || !marks_.empty()) fail("STOP with a malformed stack");
  out_->root = stack_.back();
  out_->end = pos_;
  return out_;
}

}  // namespace

Value* Value::dict_get(const std::string& key) const {
  auto it = str_index.find(key);
  return it == str_index.end() ? nullptr : items[2 * it->second + 1];
}

Value* Pickle::make(Kind k) {
  arena_.push_back(std::make_unique<Value>());
  arena_.back()->kind = k;
  return arena_.back().get();
}

std::shared_ptr<Pickle> unpickle(const uint8_t* data, size_t size, size_t start, const std::string& name,
                                 const PersistentLoad& persistent_load) {
  return Unpickler(data, size, start, name, persistent_load).run();
}

bool storage_dtype(const std::string& global, DType* out) {
  const std::string prefix = "torch.";
  if (global.compare(0, prefix.size(), prefix) != 0) return false;
  const std::string n = global.substr(prefix.size());
  for (const auto& s : kStorageTypes)
    if (n == s.name) { *out = s.dtype; return true; }
  return false;
}

std::string repr(const Value* v, int depth) {
  if (!v) return "<null>";
  switch (v->kind) {
    case Kind::None: return "None";
    case Kind::Bool: return v->b ? "True" : "False";
    case Kind::Int: return std::to_string(v->i);
    case Kind::BigInt: return fmt::format("<{}-byte int>", v->s.size());
    case Kind::Float: return fmt::format("{}", v->f);
    case Kind::Str: return fmt::format("'{}'", v->s.size() > 80 ? v->s.substr(0, 80) + "..." : v->s);
    case Kind::Bytes: return fmt::format("<{} bytes>", v->s.size());
    case Kind::Global: return v->s;
    case Kind::NumpyDType: return fmt::format("numpy.dtype('{}')", v->s);
    case Kind::Storage: return fmt::format("<storage {} {}x{}>", v->storage->key, dtype_name(v->storage->dtype), v->storage->numel);
    case Kind::Tensor: return fmt::format("<tensor {} [{}]>", dtype_name(v->tensor->storage->dtype), fmt::join(v->tensor->shape, ", "));
    case Kind::Tuple: case Kind::List: case Kind::Set: {
      const char* open = v->kind == Kind::Tuple ? "(" : v->kind == Kind::List ? "[" : "{";
      const char* close = v->kind == Kind::Tuple ? ")" : v->kind == Kind::List ? "]" : "}";
      if (depth <= 0) return fmt::format("{}...{} items{}", open, v->items.size(), close);
      std::string s = open;
      for (size_t k = 0; k < v->items.size() && k < 8; ++k) s += (k ? ", " : "") + repr(v->items[k], depth - 1);
      if (v->items.size() > 8) s += ", ...";
      return s + close;
    }
    case Kind::Dict: {
      if (depth <= 0) return fmt::format("{{...{} items}}", v->dict_size());
      std::string s = "{";
      for (size_t k = 0; k < v->dict_size() && k < 8; ++k)
        s += (k ? ", " : "") + repr(v->dict_key(k), depth - 1) + ": " + repr(v->dict_value(k), depth - 1);
      if (v->dict_size() > 8) s += ", ...";
      return s + "}";
    }
  }
  return "?";
}

}  // namespace logq::pickle
