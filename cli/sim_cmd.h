// `logq sim`.
#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {
void add_sim(CLI::App& app);
}
