// Paths and small helpers shared by the tests.
#pragma once
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

namespace logq::test {

inline std::string source_dir() { return LOGQ_SOURCE_DIR; }
inline std::string data_path(const std::string& rel) { return source_dir() + "/tests/data/" + rel; }
inline std::string shared_path(const std::string& rel) { return source_dir() + "/../shared/" + rel; }

inline bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// True when ../shared/<rel> exists; otherwise reports the skip (CTest shows it as skipped).
inline bool have_shared(const std::string& rel) {
  if (exists(shared_path(rel))) return true;
  WARN("SKIPPED: " << shared_path(rel) << " is absent (the ../shared folder beside the project)");
  return false;
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE(f.good());
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline std::string temp_path(const std::string& name) {
  return std::string(P_tmpdir) + "/logq_test_" + std::to_string(::getpid()) + "_" + name;
}

}  // namespace logq::test

#define REQUIRE_SHARED(rel) \
  if (!logq::test::have_shared(rel)) return
