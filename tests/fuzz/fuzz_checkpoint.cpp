// libFuzzer target: zip + legacy PyTorch checkpoints (zip reader, unpickler, storage loader).
#include "fuzz_common.h"
#include "io/error.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  try {
    const auto ck = logq::parse_torch_checkpoint(logq::Bytes::view(data, size), "fuzz.pt");
    for (const auto& [name, t] : ck.tensors) (void)t.contiguous_bytes();
  } catch (const logq::Error&) {
  }
  return 0;
}
