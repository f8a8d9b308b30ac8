// `logq explore`.
#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
void add_explore(CLI::App& app);
}
