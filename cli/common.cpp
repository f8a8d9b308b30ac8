#include "cli/common.h"

#include <cstdlib>
#include <filesystem>
#include <algorithm>

#include <sys/wait.h>
#include <unistd.h>

#include <exception>

#include <fmt/format.h>

#include "io/error.h"
#include "io/file_io.h"

namespace logq::cli {

namespace {

bool write_all(int fd, const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    const ssize_t w = write(fd, s.data() + off, s.size() - off);
    if (w <= 0) return false;
    off += size_t(w);
  }
  return true;
}

std::vector<std::string>& stored_command_line() {
  static std::vector<std::string> args;
  return args;
}

}  // namespace

void set_command_line(std::vector<std::string> args) { stored_command_line() = std::move(args); }
const std::vector<std::string>& command_line() { return stored_command_line(); }

std::string project_root() {
  if (const char* r = std::getenv("LOGQ_ROOT")) return r;
  return LOGQ_SOURCE_DIR;
}

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

uint64_t rtl_hash(uint64_t h) {
  namespace fs = std::filesystem;
  const fs::path root = project_root();
  std::vector<fs::path> srcs = {root / "scripts/synth_common.sh"};
  for (const auto& e : fs::directory_iterator(root / "rtl"))
    if (e.path().extension() == ".sv" || e.path().extension() == ".tsv") srcs.push_back(e.path());
  std::sort(srcs.begin() + 1, srcs.end());
  for (const auto& p : srcs) h = fnv1a(read_text_file(p.string()), h);
  return h;
}

std::string cache_dir(const std::string& flow) {
  const char* env = std::getenv("LOGQ_CACHE_DIR");
  const char* home = std::getenv("HOME");
  return env && *env ? (std::filesystem::path(env) / flow).string()
                     : (std::filesystem::path(home ? home : "/tmp") / ".cache/logq" / flow).string();
}

std::string shell_quote(const std::string& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

void write_text(const std::string& path, const std::string& text) {
  if (path == "-") {
    fmt::print("{}", text);
    return;
  }
  write_file_atomic(path, text.data(), text.size());
}

std::vector<std::string> run_in_processes(int64_t procs, const std::function<std::string(int64_t)>& work, const std::string& who) {
  std::vector<std::pair<pid_t, int>> kids;
  for (int64_t p = 0; p < procs; ++p) {
    int fd[2];
    if (pipe(fd) != 0) throw Error(who + ": pipe() failed");
    const pid_t pid = fork();
    if (pid < 0) throw Error(who + ": fork() failed");
    if (pid == 0) {
      close(fd[0]);
      int rc = 0;
      try {
        rc = write_all(fd[1], work(p)) ? 0 : 1;
      } catch (const std::exception& e) {
        fmt::print(stderr, "{} worker {}: {}\n", who, p, e.what());
        rc = 1;
      }
      close(fd[1]);
      _exit(rc);
    }
    close(fd[1]);
    kids.push_back({pid, fd[0]});
  }
  std::vector<std::string> out;
  bool ok = true;
  for (auto& [pid, fd] : kids) {
    std::string buf;
    char tmp[65536];
    for (ssize_t r; (r = read(fd, tmp, sizeof tmp)) > 0;) buf.append(tmp, size_t(r));
    close(fd);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || buf.empty()) ok = false;
    out.push_back(std::move(buf));
  }
  if (!ok) throw Error(who + ": a worker process failed (see its message above)");
  return out;
}

}  // namespace logq::cli
