// io/limits, io/json_input, io/file_io and io/process: the pieces every reader of a hostile file
// goes through (checked sizes, escaped messages, bounded JSON, safe writes, regular files only).
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/error.h"
#include "io/file_io.h"
#include "io/json_input.h"
#include "io/limits.h"
#include "io/process.h"
#include "test_util.h"

using namespace logq;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::vector<std::string> temp_siblings(const std::string& path) {
  std::vector<std::string> out;
  const fs::path p(path);
  for (const auto& e : fs::directory_iterator(p.parent_path()))
    if (e.path().filename().string().rfind(p.filename().string() + ".tmp.", 0) == 0) out.push_back(e.path().string());
  return out;
}

}  // namespace

TEST_CASE("checked sizes: empty shapes are empty, overflow is an Error", "[limits]") {
  int64_t n = -1;
  CHECK(try_numel({int64_t{1} << 32, int64_t{1} << 32, 0}, &n));
  CHECK(n == 0);
  CHECK(try_numel({2, 3, 4}, &n));
  CHECK(n == 24);
  CHECK_FALSE(try_numel({int64_t{1} << 32, int64_t{1} << 32}, &n));
  CHECK_FALSE(try_numel({-1, 2}, &n));
  CHECK_THROWS_WITH(checked_numel({int64_t{1} << 40, int64_t{1} << 40}, "tensor 'w'"), Contains("tensor 'w'") && Contains("2^62"));
  CHECK_THROWS_WITH(checked_mul(int64_t{1} << 40, int64_t{1} << 40, "layer 'x'"), Contains("layer 'x'") && Contains("overflows"));
  CHECK(checked_add(2, 3, "x") == 5);
}

TEST_CASE("printable escapes control characters and invalid UTF-8, keeps valid UTF-8", "[limits]") {
  CHECK(printable("plain") == "plain");
  CHECK(printable("a\x1b[31mb") == "a\\x1b[31mb");
  CHECK(printable("line\nnext\t") == "line\\nnext\\t");
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");  // é and €
  CHECK(printable("\xff\xc3") == "\\xff\\xc3");                              // invalid, truncated
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");                     // a UTF-16 surrogate
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");                              // overlong '/'
}

TEST_CASE("file JSON: duplicate keys at any depth and deep nesting are errors", "[limits][json]") {
  CHECK(parse_json_input(R"({"a": {"b": [1, 2]}, "c": null})", "x")["a"]["b"][1] == 2);
  try {
    parse_json_input(R"({"t": {"dtype": "F32", "dtype": "I8"}})", "hdr");
    FAIL("accepted a duplicate key");
  } catch (const JsonInputError& e) {
    CHECK(e.duplicate_key == "dtype");
    CHECK(e.key_depth == 2);
    CHECK_THAT(e.what(), Contains("hdr") && Contains("'dtype' appears twice"));
  }
  const std::string deep = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK_NOTHROW(parse_json_input(deep, "x"));
  const std::string too_deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK_THROWS_WITH(parse_json_input(too_deep, "cfg.json"), Contains("cfg.json") && Contains("nested deeper than 64"));
  CHECK_THROWS_WITH(parse_json_input("{\"a\": ", "cfg.json"), Contains("cfg.json: not valid JSON"));
}

TEST_CASE("write_file_atomic never follows a planted symlink and cleans stale temps", "[limits][file_io]") {
  const std::string dir = test::temp_path("atomic_dir");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string target = dir + "/out.csv", victim = dir + "/victim.txt";
  std::ofstream(victim) << "precious\n";
  // every name the old "<path>.tmp.<pid>" scheme could have used for this process and its neighbours
  for (int pid = ::getpid() - 3; pid <= ::getpid() + 3; ++pid) fs::create_symlink(victim, target + ".tmp." + std::to_string(pid));
  const std::string stale = target + ".tmp.999999999.0123456789ab";  // no process has this pid
  std::ofstream(stale) << "debris of a kill -9\n";
  const std::string alive = target + ".tmp." + std::to_string(::getppid()) + ".0123456789ab";  // a running process's
  std::ofstream(alive) << "in flight\n";
  write_file_atomic(target, std::string("a,b\n1,2\n").data(), 8);
  CHECK(read_all(target) == "a,b\n1,2\n");
  CHECK(read_all(victim) == "precious\n");
  CHECK_FALSE(test::exists(stale));
  CHECK(test::exists(alive));
  CHECK(temp_siblings(target).size() == 8);  // the 7 symlinks and the live process's file: nothing of ours
  CHECK_THROWS_WITH(write_file_atomic(dir + "/no/such/dir/x", "x", 1), Contains("cannot create"));
  fs::remove_all(dir);
}

TEST_CASE("a write interrupted by SIGTERM leaves no temp file", "[limits][file_io]") {
  const std::string dir = test::temp_path("sigterm_dir");
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string target = dir + "/big.bin";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The default actions, not Catch's fatal-signal reporter: the child reports by how it ends.
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
    std::vector<uint8_t> big(size_t{1} << 30, 7);  // slow enough to be caught mid-write
    try {
      write_file_atomic(target, big);
    } catch (...) {
    }
    ::_exit(0);
  }
  // Wait for the temp file to appear, then stop the writer at once: the signal lands in the
  // window right after the file is created, which once left the temp behind.
  bool seen = false;
  for (int i = 0; i < 60000 && !seen; ++i) {
    seen = !temp_siblings(target).empty();
    if (!seen) ::usleep(1000);
  }
  ::kill(child, SIGTERM);
  int status = 0;
  ::waitpid(child, &status, 0);
  INFO("temp file seen before the signal: " << seen);
  if (WIFSIGNALED(status)) {  // caught mid-write: the handler removed the temp and re-raised
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK_FALSE(test::exists(target));
  }
  CHECK(temp_siblings(target).empty());
  fs::remove_all(dir);
}

TEST_CASE("readers refuse FIFOs and directories at once, and outputs are checked up front", "[limits][file_io]") {
  const std::string fifo = test::temp_path("fifo");
  ::unlink(fifo.c_str());
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(Bytes::map_file(fifo), Contains(fifo) && Contains("FIFO"));
  CHECK_THROWS_WITH(read_text_file(fifo), Contains("FIFO"));
  ::unlink(fifo.c_str());
  CHECK_THROWS_WITH(Bytes::map_file("/tmp"), Contains("/tmp: cannot read: it is a directory"));
  CHECK_THROWS_WITH(check_output_path("/nonexistent-dir/x.lqm", "--export"),
                    Contains("--export /nonexistent-dir/x.lqm") && Contains("does not exist"));
  CHECK_THROWS_WITH(check_output_path("/tmp", "--json"), Contains("not a regular file"));
  CHECK_NOTHROW(check_output_path(test::temp_path("fresh.json"), "--json"));
  CHECK_FALSE(test::exists(test::temp_path("fresh.json")));
}

TEST_CASE("run_in_threads runs every index once, on new threads, and rethrows the lowest one's error", "[process]") {
  std::mutex mu;
  std::vector<int> seen;
  std::set<std::thread::id> ids;
  run_in_threads(3, [&](int t) {
    std::lock_guard<std::mutex> g(mu);
    seen.push_back(t);
    ids.insert(std::this_thread::get_id());
  });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<int>{0, 1, 2});
  CHECK(ids.size() == 3);
  CHECK(ids.count(std::this_thread::get_id()) == 0);

  std::thread::id one;
  run_in_threads(1, [&](int t) {
    CHECK(t == 0);
    one = std::this_thread::get_id();
  });
  CHECK(one == std::this_thread::get_id());  // one thread: the caller's own

  int finished = 0;
  CHECK_THROWS_WITH(run_in_threads(4,
                                   [&](int t) {
                                     if (t == 2) throw std::runtime_error("two");
                                     if (t == 1) throw std::runtime_error("one");
                                     std::lock_guard<std::mutex> g(mu);
                                     ++finished;
                                   }),
                    "one");
  CHECK(finished == 2);  // the others still ran to the end before the rethrow
}
