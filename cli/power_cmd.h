// `logq power`: energy per MAC of PE kinds from the liberty and the model's own switching.
#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {

void add_power(CLI::App& app);

}  // namespace logq::cli
