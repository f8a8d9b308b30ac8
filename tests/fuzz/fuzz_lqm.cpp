// libFuzzer target: the .lqm reader and validator on arbitrary bytes.
#include "fuzz_common.h"
#include "io/error.h"
#include "golden/lqm.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  try {
    (void)logq::LqmFile::parse(logq::Bytes::view(data, size), "fuzz.lqm");
  } catch (const logq::Error&) {
  }
  return 0;
}
