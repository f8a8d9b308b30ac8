#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
void add_area(CLI::App& app);
}
