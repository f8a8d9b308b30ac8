// logq: logarithmic post-training quantization of vision models and the hardware that runs them.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/area.h"
#include "cli/explore_cmd.h"
#include "cli/golden_cmd.h"
#include "cli/inspect.h"
#include "cli/sim_cmd.h"
#include "cli/verify_cmd.h"
#ifdef LOGQ_WITH_TORCH
#include "cli/torch_commands.h"
#endif
#include "golden/error.h"
#include "logq_version.h"

int main(int argc, char** argv) {
  CLI::App app{"logq " LOGQ_VERSION
               " - logarithmic post-training quantization (AdaLog, LogART) of vision models,\n"
               "a bit-accurate integer golden model, Verilated RTL and a SystemC accelerator model.\n"
               "Run 'logq COMMAND --help' for each command."};
  app.set_version_flag("--version", "logq " LOGQ_VERSION);
  app.require_subcommand(1);
  logq::cli::add_inspect(app);
  logq::cli::add_area(app);
  logq::cli::add_golden(app);
  logq::cli::add_verify(app);
  logq::cli::add_sim(app);
  logq::cli::add_explore(app);
#ifdef LOGQ_WITH_TORCH
  logq::cli::add_torch_commands(app, argc, argv);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const logq::Error& e) {
    fmt::print(stderr, "logq: error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "logq: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
