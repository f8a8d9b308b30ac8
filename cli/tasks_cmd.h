// `logq tasks`: run, submit and inspect the task plans that `--plan DIR` writes (batch/).
#pragma once
#include <CLI/CLI.hpp>

namespace logq::cli {

void add_tasks(CLI::App& app);

}  // namespace logq::cli
