#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
// `logq models`, `logq eval`, `logq train` (built only with LibTorch).
void add_model_commands(CLI::App& app, int argc, char** argv);
}
