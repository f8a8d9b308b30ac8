#include <random>

#include "io/error.h"
#include "pickle_builder.h"
#include "io/pickle.h"
#include "test_util.h"

using namespace logq;
using namespace logq::pickle;
using Catch::Matchers::Contains;
using test::PickleBuilder;

namespace {
std::shared_ptr<Pickle> load(const PickleBuilder& p) {
  return unpickle(reinterpret_cast<const uint8_t*>(p.b.data()), p.b.size(), 0, "t.pkl", nullptr);
}
void expect_error(const PickleBuilder& p, const std::string& fragment) {
  CHECK_THROWS_WITH(load(p), Contains("t.pkl") && Contains(fragment));
}
}  // namespace

TEST_CASE("unpickler builds plain values for every data opcode", "[pickle]") {
  PickleBuilder p;
  p.proto(2).empty_dict().op('q').op(0).mark();
  p.str("i1").op('K').op(200);
  p.str("i2").op('M').le<uint16_t>(60000);
  p.str("i4").i(-123456);
  p.str("l1").op(0x8a).op(2).op(0x00).op(0x80);  // LONG1 -32768
  p.str("neg").op(0x8a).op(1).op(0xff);          // LONG1 -1
  p.str("big").op(0x8a).op(10).raw(std::string(10, '\x01'));
  p.str("f").op('G').raw(std::string("\x40\x09\x21\xfb\x54\x44\x2d\x18", 8));  // pi, big-endian
  p.str("t").op(0x88).str("n").none();
  p.str("tup").i(1).i(2).op(0x86);
  p.str("lst").op(']').op('q').op(1).mark().i(7).i(8).op('e');
  p.str("again").op('h').op(1);  // BINGET of the list
  p.str("sbs").op('U').op(3).raw("abc");
  p.str("by").op('C').op(2).raw(std::string("\x00\xff", 2));
  p.op('u').stop();
  const auto r = load(p);
  const Value* d = r->root;
  REQUIRE(d->kind == Kind::Dict);
  CHECK(d->dict_size() == 14);
  CHECK(d->dict_get("i1")->i == 200);
  CHECK(d->dict_get("i2")->i == 60000);
  CHECK(d->dict_get("i4")->i == -123456);
  CHECK(d->dict_get("l1")->i == -32768);
  CHECK(d->dict_get("neg")->i == -1);
  CHECK(d->dict_get("big")->kind == Kind::BigInt);
  CHECK(d->dict_get("f")->f == 3.141592653589793);
  CHECK(d->dict_get("t")->b);
  CHECK(d->dict_get("n")->kind == Kind::None);
  CHECK(d->dict_get("tup")->items.size() == 2);
  CHECK(d->dict_get("lst")->items.size() == 2);
  CHECK(d->dict_get("again") == d->dict_get("lst"));  // memo returns the same object
  CHECK(d->dict_get("sbs")->s == "abc");
  CHECK(d->dict_get("by")->s == std::string("\x00\xff", 2));
  CHECK(r->end == p.b.size());
}

TEST_CASE("unpickler: protocol 4 framing, MEMOIZE and STACK_GLOBAL", "[pickle]") {
  PickleBuilder p;
  p.proto(4).op(0x95).le<uint64_t>(0);
  p.op(0x8c).op(11).raw("collections").op(0x94).op(0x8c).op(11).raw("OrderedDict").op(0x94).op(0x93).op(0x94);
  p.empty_tuple().reduce().op(0x94);
  p.op(0x8c).op(1).raw("k").i(5).setitem();
  p.op(0x8c).op(1).raw("k").i(6).setitem();  // a repeated key replaces the value, as in Python
  p.stop();
  const auto r = load(p);
  REQUIRE(r->root->kind == Kind::Dict);
  CHECK(r->root->dict_size() == 1);
  CHECK(r->root->dict_get("k")->i == 6);
}

TEST_CASE("unpickler rejects every global outside the allow-list, naming it", "[pickle][security]") {
  SECTION("GLOBAL os.system") {
    expect_error(PickleBuilder().proto().global("os", "system").mark().str("echo hi").tuple().reduce().stop(),
                 "global 'os.system' is not allowed");
  }
  SECTION("STACK_GLOBAL builtins.eval") {
    expect_error(PickleBuilder().proto(4).op(0x8c).op(8).raw("builtins").op(0x8c).op(4).raw("eval").op(0x93).stop(),
                 "global 'builtins.eval' is not allowed");
  }
  SECTION("subprocess, pickled classes, torch internals that run code") {
    expect_error(PickleBuilder().proto().global("subprocess", "Popen").stop(), "'subprocess.Popen' is not allowed");
    expect_error(PickleBuilder().proto().global("torch.nn.modules.linear", "Linear").stop(), "is not allowed");
    expect_error(PickleBuilder().proto().global("torch", "load").stop(), "'torch.load' is not allowed");
    expect_error(PickleBuilder().proto().global("torch.serialization", "_load").stop(), "is not allowed");
  }
  SECTION("INST / OBJ opcodes") {
    expect_error(PickleBuilder().proto().mark().raw("ios\nsystem\n").stop(), "opcode 0x69 is not supported");
    expect_error(PickleBuilder().proto().mark().global("collections", "OrderedDict").op('o').stop(), "opcode 0x6f is not supported");
  }
  SECTION("NEWOBJ of anything but OrderedDict") {
    expect_error(PickleBuilder().proto().global("torch", "Size").empty_tuple().op(0x81).stop(), "NEWOBJ of torch.Size is not allowed");
  }
  SECTION("calling a non-global") {
    expect_error(PickleBuilder().proto().str("x").empty_tuple().reduce().stop(), "REDUCE calls 'x' which is not a global");
  }
  SECTION("an allowed global called with the wrong arguments") {
    expect_error(PickleBuilder().proto().global("_codecs", "encode").mark().str("x").str("rot13").tuple().reduce().stop(),
                 "_codecs.encode is allowed only as encode(str, 'latin1')");
  }
}

TEST_CASE("unpickler reports malformed streams instead of crashing", "[pickle][bad-input]") {
  SECTION("empty") { CHECK_THROWS_WITH(unpickle(nullptr, 0, 0, "t.pkl", nullptr), Contains("no pickle data")); }
  SECTION("no STOP") { expect_error(PickleBuilder().proto().empty_dict(), "truncated file"); }
  SECTION("string longer than the data") { expect_error(PickleBuilder().proto().op('X').le<uint32_t>(0xFFFFFFFF).raw("ab"), "needs 4294967295 more bytes"); }
  SECTION("stack underflow") { expect_error(PickleBuilder().proto().op('s').stop(), "stack underflow"); }
  SECTION("pop across a MARK") { expect_error(PickleBuilder().proto().i(1).mark().op(0x85).stop(), "stack underflow"); }
  SECTION("memo index never stored") { expect_error(PickleBuilder().proto().op('h').op(9).stop(), "memo index 9 was never stored"); }
  SECTION("odd SETITEMS") { expect_error(PickleBuilder().proto().empty_dict().mark().i(1).op('u').stop(), "odd number"); }
  SECTION("negative LONG4") { expect_error(PickleBuilder().proto().op(0x8b).le<int32_t>(-5).stop(), "negative LONG4 length"); }
  SECTION("APPEND to a dict") { expect_error(PickleBuilder().proto().empty_dict().i(1).op('a').stop(), "is not a list"); }
  SECTION("BUILD on a list") { expect_error(PickleBuilder().proto().op(']').empty_dict().op('b').stop(), "BUILD on [] is not allowed"); }
  SECTION("STOP with extra items") { expect_error(PickleBuilder().proto().i(1).i(2).stop(), "STOP with a malformed stack"); }
  SECTION("persistent id without a loader") { expect_error(PickleBuilder().proto().str("x").op('Q').stop(), "persistent id without a storage loader"); }
  SECTION("unknown opcode") { expect_error(PickleBuilder().proto().op(0xfe).stop(), "opcode 0xfe is not supported"); }
}

TEST_CASE("a million nested lists neither overflow the stack nor leak", "[pickle][bad-input]") {
  PickleBuilder p;
  p.proto();
  const int depth = 1000000;
  for (int k = 0; k < depth; ++k) p.op(']');
  for (int k = 1; k < depth; ++k) p.op('a');
  p.stop();
  const auto r = load(p);
  CHECK(r->root->kind == Kind::List);
  CHECK(repr(r->root).size() < 100);  // depth-limited
  // A list that contains itself: cyclic, still freed with the arena.
  const auto cyc = load(PickleBuilder().proto().op(']').op('q').op(0).op('h').op(0).op('a').stop());
  CHECK(cyc->root->items.at(0) == cyc->root);
}

TEST_CASE("random mutations of a valid pickle never crash the unpickler", "[pickle][bad-input]") {
  PickleBuilder p;
  p.proto().global("collections", "OrderedDict").empty_tuple().reduce().op('q').op(0).mark();
  p.str("w").tensor_v2([](PickleBuilder& b) { b.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").i(4).tuple().op('Q'); },
                       0, {2, 2}, {2, 1});
  p.str("n").op('K').op(3).op('u').stop();
  const auto dummy = [](Pickle& pk, Value*) {
    Value* v = pk.make(Kind::Storage);
    v->storage = std::make_shared<StorageData>();
    return v;
  };
  REQUIRE_NOTHROW(unpickle(reinterpret_cast<const uint8_t*>(p.b.data()), p.b.size(), 0, "t", dummy));
  std::mt19937 rng(12345);
  int rejected = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string m = p.b;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<char>(rng() & 0xFF);
    if (rng() % 4 == 0) m.resize(rng() % m.size());
    try {
      unpickle(reinterpret_cast<const uint8_t*>(m.data()), m.size(), 0, "t", dummy);
    } catch (const Error&) {
      ++rejected;
    }
  }
  CHECK(rejected > 10000);  // most mutations are invalid; none may crash or throw anything else
}
