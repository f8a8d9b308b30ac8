// One exception type for bad input: the message names the file and what is wrong, and the
// CLI prints it and exits non-zero. Never thrown for programming errors.
#pragma once
#include <stdexcept>
#include <string>

namespace logq {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace logq
