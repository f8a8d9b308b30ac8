// libFuzzer target: the safetensors reader on arbitrary bytes.
#include "fuzz_common.h"
#include "io/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  try {
    const auto f = logq::SafetensorsFile::parse(logq::Bytes::view(data, size), "fuzz");
    for (const auto& t : f.tensors())
      if (t.numel() < (1 << 20)) (void)f.to_doubles(t);
  } catch (const logq::Error&) {
  }
  return 0;
}
