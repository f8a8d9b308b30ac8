#include "io/file_io.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "io/error.h"

namespace logq {

namespace {

// Open regular files only: O_NONBLOCK keeps open() of a FIFO from waiting for a writer, and
// fstat then refuses it.
int open_regular(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    const char* kind = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" : "not a regular file";
    throw Error(fmt::format("{}: cannot read: it is {}, not a regular file", path, kind));
  }
  return fd;
}

// Temp files being written, for the signal handler. Fixed storage: the handler may only use
// async-signal-safe calls (unlink, signal, raise). A slot is claimed, filled, and only then
// marked live, so the handler never reads a half-copied path.
constexpr int kMaxTemps = 16;
constexpr size_t kMaxTempPath = 4096;
char g_temp_paths[kMaxTemps][kMaxTempPath];
std::atomic<bool> g_temp_claimed[kMaxTemps];
std::atomic<bool> g_temp_live[kMaxTemps];

int register_temp(const std::string& path) {
  if (path.size() >= kMaxTempPath) return -1;
  for (int i = 0; i < kMaxTemps; ++i) {
    bool expected = false;
    if (!g_temp_claimed[i].compare_exchange_strong(expected, true)) continue;
    std::memcpy(g_temp_paths[i], path.c_str(), path.size() + 1);
    g_temp_live[i].store(true);
    return i;
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot < 0) return;
  g_temp_live[slot].store(false);
  g_temp_claimed[slot].store(false);
}

// What each signal did before our handler: the handler restores it after removing the temps,
// so the signal then has its usual effect (or reaches a handler installed before ours).
constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];

extern "C" void remove_temps_and_reraise(int sig) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_live[i].load()) ::unlink(g_temp_paths[i]);
  for (int k = 0; k < 3; ++k)
    if (kCleanupSignals[k] == sig) ::sigaction(sig, &g_previous[k], nullptr);
  ::raise(sig);
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "<base>.tmp.<pid>.<hex>" siblings whose pid no longer runs: debris of a killed logq.
void remove_stale_temps(const std::string& path) {
  const std::string dir = dir_of(path), prefix = base_of(path) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    char* end = nullptr;
    const long pid = std::strtol(rest.c_str(), &end, 10);
    if (pid <= 0 || !end || *end != '.' || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running (or not ours to judge)
    const std::string full = dir + "/" + name;
    struct stat st {};
    if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::getuid()) ::unlink(full.c_str());
  }
  ::closedir(d);
}

// Creates a fresh temp file beside `path`: never follows or reuses an existing name. The name is
// registered for the signal handler before the file exists, so no signal can leave it behind;
// the caller unregisters `*slot` once the file is renamed or removed.
int create_temp(const std::string& path, std::string* tmp, int* slot) {
  static std::mutex rng_mutex;
  static std::mt19937_64 rng(std::random_device{}() ^ (uint64_t(::getpid()) << 32));
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint64_t draw;
    {
      std::lock_guard<std::mutex> lock(rng_mutex);
      draw = rng();
    }
    *tmp = fmt::format("{}.tmp.{}.{:012x}", path, ::getpid(), draw & 0xffffffffffffULL);
    *slot = register_temp(*tmp);
    const int fd = ::open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0) return fd;
    const int err = errno;
    unregister_temp(*slot);  // the name is someone else's: the handler must not remove it
    *slot = -1;
    if (err != EEXIST) throw Error(fmt::format("{}: cannot create a temp file beside it: {}", path, std::strerror(err)));
  }
  throw Error(fmt::format("{}: cannot create a temp file beside it (names taken)", path));
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

std::shared_ptr<const Bytes> Bytes::map_file(const std::string& path) {
  const int fd = open_regular(path);
  struct stat st {};
  ::fstat(fd, &st);
  std::shared_ptr<Bytes> b(new Bytes());
  b->size_ = static_cast<size_t>(st.st_size);
  if (b->size_ > 0) {
    void* p = ::mmap(nullptr, b->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw Error(fmt::format("{}: cannot map: {}", path, std::strerror(err)));
    }
    b->data_ = static_cast<const uint8_t*>(p);
    b->mapped_ = true;
  }
  ::close(fd);
  return b;
}

std::shared_ptr<const Bytes> Bytes::from_vector(std::vector<uint8_t> v) {
  std::shared_ptr<Bytes> b(new Bytes());
  b->owned_ = std::move(v);
  b->data_ = b->owned_.data();
  b->size_ = b->owned_.size();
  return b;
}

std::shared_ptr<const Bytes> Bytes::view(const uint8_t* data, size_t size) {
  std::shared_ptr<Bytes> b(new Bytes());
  b->data_ = data;
  b->size_ = size;
  return b;
}

Bytes::~Bytes() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void require_regular_file(const std::string& path) { ::close(open_regular(path)); }

std::string read_text_file(const std::string& path, size_t max_bytes) {
  const auto b = Bytes::map_file(path);
  if (b->size() > max_bytes) throw Error(fmt::format("{}: {} bytes, more than the {} a text input of logq may have", path, b->size(), max_bytes));
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

void install_temp_file_cleanup() {
  // Checked at every write, not once: a library or test harness may have replaced the handler.
  for (int k = 0; k < 3; ++k) {
    struct sigaction now {};
    ::sigaction(kCleanupSignals[k], nullptr, &now);
    if (now.sa_handler == SIG_IGN || now.sa_handler == remove_temps_and_reraise) continue;  // nohup: keep ignoring
    struct sigaction ours {};
    ours.sa_handler = remove_temps_and_reraise;
    sigemptyset(&ours.sa_mask);
    ::sigaction(kCleanupSignals[k], &ours, &g_previous[k]);
  }
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  install_temp_file_cleanup();
  remove_stale_temps(path);
  std::string tmp;
  int slot = -1;
  const int fd = create_temp(path, &tmp, &slot);
  const bool ok = write_all(fd, static_cast<const uint8_t*>(data), size) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_err = errno;
    ::unlink(tmp.c_str());
    unregister_temp(slot);
    throw Error(fmt::format("{}: write failed: {}", path, std::strerror(ok ? rename_err : err)));
  }
  unregister_temp(slot);
}

void check_output_path(const std::string& path, const std::string& option) {
  if (path.empty() || path == "-") return;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw Error(fmt::format("{} {}: exists and is not a regular file", option, path));
  std::string tmp;
  int fd, slot = -1;
  try {
    fd = create_temp(path, &tmp, &slot);
  } catch (const Error&) {
    throw Error(fmt::format("{} {}: cannot write there: {}", option, path,
                            ::access(dir_of(path).c_str(), F_OK) != 0 ? "the directory does not exist" : std::strerror(errno)));
  }
  ::close(fd);
  ::unlink(tmp.c_str());
  unregister_temp(slot);
}

}  // namespace logq
