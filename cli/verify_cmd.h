#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
void add_verify(CLI::App& app);
}
