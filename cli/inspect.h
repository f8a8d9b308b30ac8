#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
void add_inspect(CLI::App& app);
}
