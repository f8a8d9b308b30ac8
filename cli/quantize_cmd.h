#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace logq::cli {
// `logq quantize` and `logq export` (built only with LibTorch).
void add_quantize_commands(CLI::App& app, int argc, char** argv);
// `logq quantize --replay FILE [output options]`: the arguments FILE records, with this call's
// output options; any other arguments unchanged.
std::vector<std::string> expand_replay_args(const std::vector<std::string>& args);
}
