// Builds pickle byte streams opcode by opcode, for tests of the restricted unpickler.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace logq::test {

struct PickleBuilder {
  std::string b;

  PickleBuilder& raw(const std::string& s) { b += s; return *this; }
  PickleBuilder& op(uint8_t c) { b.push_back(static_cast<char>(c)); return *this; }
  template <typename T>
  PickleBuilder& le(T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof v);
    b.append(buf, sizeof buf);
    return *this;
  }
  PickleBuilder& proto(uint8_t v = 2) { return op(0x80).op(v); }
  PickleBuilder& str(const std::string& s) { return op('X').le<uint32_t>(static_cast<uint32_t>(s.size())).raw(s); }
  PickleBuilder& i(int32_t v) { return op('J').le(v); }
  PickleBuilder& global(const std::string& m, const std::string& n) { return op('c').raw(m + "\n" + n + "\n"); }
  PickleBuilder& mark() { return op('('); }
  PickleBuilder& tuple() { return op('t'); }
  PickleBuilder& none() { return op('N'); }
  PickleBuilder& empty_dict() { return op('}'); }
  PickleBuilder& empty_tuple() { return op(')'); }
  PickleBuilder& reduce() { return op('R'); }
  PickleBuilder& setitem() { return op('s'); }
  PickleBuilder& stop() { return op('.'); }
  // OrderedDict() as torch writes the backward_hooks argument.
  PickleBuilder& ordered_dict() { return global("collections", "OrderedDict").empty_tuple().reduce(); }
  // The legacy persistent id ('storage', torch.<type>, key, 'cpu', numel, None) + BINPERSID.
  PickleBuilder& legacy_storage(const std::string& type, const std::string& key, int32_t numel) {
    return mark().str("storage").global("torch", type).str(key).str("cpu").i(numel).none().tuple().op('Q');
  }
  // _rebuild_tensor_v2(<storage already pushed by f>, offset, size, stride, False, OrderedDict())
  template <typename F>
  PickleBuilder& tensor_v2(F push_storage, int32_t offset, const std::vector<int32_t>& size, const std::vector<int32_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    push_storage(*this);
    i(offset).mark();
    for (int32_t s : size) i(s);
    tuple().mark();
    for (int32_t s : stride) i(s);
    tuple().op(0x89).ordered_dict().tuple().reduce();
    return *this;
  }

  std::vector<uint8_t> bytes() const { return {b.begin(), b.end()}; }
};

// A legacy torch.save stream: magic, protocol 1001, sys_info, `main`, storage keys, storages.
inline std::vector<uint8_t> legacy_stream(const PickleBuilder& main, const std::vector<std::string>& keys,
                                          const std::vector<std::pair<int64_t, std::vector<float>>>& storages) {
  PickleBuilder p;
  const uint8_t magic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  p.proto().op(0x8a).op(10).raw(std::string(reinterpret_cast<const char*>(magic), 10)).stop();
  p.proto().op('M').le<uint16_t>(1001).stop();
  p.proto().empty_dict().str("little_endian").op(0x88).setitem().stop();
  p.raw(main.b);
  p.proto().op(']').mark();
  for (const auto& k : keys) p.str(k);
  p.op('e').stop();
  for (const auto& [n, data] : storages) {
    p.le<int64_t>(n);
    p.raw(std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float)));
  }
  return p.bytes();
}

}  // namespace logq::test
