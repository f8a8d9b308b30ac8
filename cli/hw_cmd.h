// `logq hw`: the hardware table of golden/hw.h, and the RTL files generated from it.
#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {

void add_hw(CLI::App& app);

}  // namespace logq::cli
