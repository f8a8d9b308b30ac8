// logq: logarithmic post-training quantization of vision models and the hardware that runs them.
#include <climits>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/area.h"
#include "cli/common.h"
#include "cli/explore_cmd.h"
#include "cli/tasks_cmd.h"
#include "cli/golden_cmd.h"
#include "cli/hw_cmd.h"
#include "cli/inspect.h"
#include "cli/sim_cmd.h"
#include "cli/verify_cmd.h"
#include "cli/power_cmd.h"
#ifdef LOGQ_WITH_TORCH
#include "cli/model_cmds.h"
#include "cli/quantize_cmd.h"
#endif
#include "io/error.h"
#include "io/file_io.h"
#include "io/limits.h"
#include "io/process.h"
#include "logq_version.h"

namespace {
// The commands that run LibTorch, whose float math goes through OpenBLAS: only these restart
// with the CPU's BLAS kernels (io/process.h); the others are spared the second start-up.
bool uses_blas(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    for (const char* c : {"quantize", "export", "eval", "train"})
      if (std::strcmp(argv[i], c) == 0) return true;
    return false;
  }
  return false;
}
}  // namespace

int main(int argc_in, char** argv_in) {
  logq::set_up_process(uses_blas(argc_in, argv_in) ? argv_in : nullptr);  // allocator and BLAS (io/process.h)
  // `quantize --replay FILE` stands for the arguments FILE records (expanded before parsing).
  std::vector<std::string> args(argv_in, argv_in + argc_in);
#ifdef LOGQ_WITH_TORCH
  try {
    args = logq::cli::expand_replay_args(args);
  } catch (const std::exception& e) {
    fmt::print(stderr, "logq: error: {}\n", logq::printable(e.what()));
    return 1;
  }
#endif
  logq::cli::set_command_line(args);
  std::vector<char*> argv_vec;
  for (auto& a : args) argv_vec.push_back(a.data());
  argv_vec.push_back(nullptr);
  int argc = int(args.size());
  char** argv = argv_vec.data();
  CLI::App app{"logq " LOGQ_VERSION
               " - logarithmic post-training quantization (AdaLog, LogART) of vision models,\n"
               "a bit-accurate integer golden model, Verilated RTL and a SystemC accelerator model.\n"
               "Run 'logq COMMAND --help' for each command."};
  app.set_version_flag("--version", "logq " LOGQ_VERSION);
  app.require_subcommand(1);
  // Read before anything else (and before any file): the caps of golden/limits.h hold unless lifted.
  bool no_limits = false;
  app.add_flag("--no-limits", no_limits,
               "lift the caps on memory and work that protect against hostile or broken files (pickle objects,\n"
               "inflated sizes, image pixels, MACs and values per image of a model); for a user who means it")
      ->envname("LOGQ_NO_LIMITS");
  app.fallthrough();
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--no-limits") no_limits = true;
  if (const char* env = std::getenv("LOGQ_NO_LIMITS"); env && *env && std::string(env) != "0") no_limits = true;
  if (no_limits) logq::lift_input_limits();
  logq::install_temp_file_cleanup();
  logq::cli::add_inspect(app);
  logq::cli::add_area(app);
  logq::cli::add_hw(app);
  logq::cli::add_golden(app);
  logq::cli::add_verify(app);
  logq::cli::add_power(app);
  logq::cli::add_sim(app);
  logq::cli::add_explore(app);
  logq::cli::add_tasks(app);
#ifdef LOGQ_WITH_TORCH
  logq::cli::add_model_commands(app, argc, argv);
  logq::cli::add_quantize_commands(app, argc, argv);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;  // --help/--version: 0; every bad argument: 1, like every other error
  } catch (const std::bad_alloc&) {
    // Readers check every size a file claims before allocating; this is the last line of defence.
    fmt::print(stderr, "logq: error: out of memory (the input asks for more memory than this machine has)\n");
    return 1;
  } catch (const std::exception& e) {
    // Messages echo names and values from files: escape control characters and invalid UTF-8.
    // LibTorch appends its C++ stack ("frame #0: ...") to its errors: the first line is the message.
    std::string what = e.what();
    if (const auto frames = what.find("\nframe #"); frames != std::string::npos) what.resize(frames);
    fmt::print(stderr, "logq: error: {}\n", logq::printable(what));
    return 1;
  }
  return 0;
}
