// libFuzzer target: an .lqm that passes the reader is built into the golden network and runs one
// image (zeros), as `logq golden` would; nothing a file can say may crash or hang it.
#include "fuzz_common.h"
#include "io/error.h"
#include "golden/network.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  logq::fuzz::tight_limits();
  try {
    const logq::LqmFile f = logq::LqmFile::parse(logq::Bytes::view(data, size), "fuzz.lqm");
    logq::Network net(f);
    (void)net.run(std::vector<float>(static_cast<size_t>(logq::numel(net.input_shape())), 0.0f));
  } catch (const logq::Error&) {
  }
  return 0;
}
