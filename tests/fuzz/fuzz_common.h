// Shared by the libFuzzer targets: tighter caps than the CLI's, so that every input the target
// accepts runs in milliseconds (a model the caps admit may legitimately take minutes an image).
#pragma once
#include "io/limits.h"

namespace logq::fuzz {

inline void tight_limits() {
  static const bool done = [] {
    InputLimits l;
    l.pickle_object_bytes = uint64_t{64} << 20;
    l.image_pixels = uint64_t{1} << 20;
    l.view_elements = uint64_t{1} << 20;
    l.layer_macs = uint64_t{1} << 20;
    l.value_elements = uint64_t{1} << 18;
    set_input_limits(l);
    return true;
  }();
  (void)done;
}

}  // namespace logq::fuzz
