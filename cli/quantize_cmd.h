#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
// `logq quantize` and `logq export` (built only with LibTorch).
void add_quantize_commands(CLI::App& app, int argc, char** argv);
}
