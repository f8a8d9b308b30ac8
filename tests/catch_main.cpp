// Catch2's main, after the process settings logq itself starts with (io/process.h): the tests
// run the same allocator and BLAS configuration as the CLI.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "io/process.h"

int main(int argc, char* argv[]) {
  logq::set_up_process(argv);
  return Catch::Session().run(argc, argv);
}
