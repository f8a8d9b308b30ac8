#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
void add_golden(CLI::App& app);
}
