// libFuzzer target: the restricted unpickler alone, with a stand-in storage loader.
#include "fuzz_common.h"
#include "io/error.h"
#include "io/pickle.h"

using namespace logq::pickle;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  const PersistentLoad load = [](Pickle& p, Value*) {
    Value* v = p.make(Kind::Storage);
    v->storage = std::make_shared<StorageData>();
    return v;
  };
  try {
    auto r = unpickle(data, size, 0, "fuzz.pkl", load);
    (void)repr(r->root);
  } catch (const logq::Error&) {
  }
  return 0;
}
