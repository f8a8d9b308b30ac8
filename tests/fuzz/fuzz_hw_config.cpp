// libFuzzer target: a hardware config (logq sim --hw) through the checked JSON parser and the
// config parser, and the DRAM figures derived from it at its clock.
#include <string_view>

#include "io/error.h"
#include "io/json_input.h"
#include "sim/hw_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto j = logq::parse_json_input(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
    const logq::sim::AccelConfig h = logq::sim::parse_accel(j, "fuzz.json");
    if (h.clock_mhz) {
      (void)h.dram_bytes_per_cycle();
      (void)h.dram_latency_cycles();
      (void)h.act_bank_words(8);
    }
  } catch (const logq::Error&) {
  }
  return 0;
}
