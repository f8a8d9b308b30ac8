#include "io/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

namespace logq {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string what, int64_t total, bool on)
    : what_(std::move(what)), total_(total), on_(on), tty_(stderr_is_terminal()) {
  last_ = tty_ ? start_ - std::chrono::seconds(1) : start_;  // a terminal shows the first step at once
}

void Progress::update(int64_t done, const std::string& extra) {
  if (!on_) return;
  const auto now = Clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const bool end = done >= total_;
  if (!end && since_last < (tty_ ? 0.5 : 30.0)) return;
  last_ = now;
  const double el = std::chrono::duration<double>(now - start_).count();
  const double eta = done ? el * double(total_ - done) / double(done) : 0.0;
  const std::string line = fmt::format("{} {}/{} ({:.0f}%){}{} {:.0f}s, eta {:.0f}s", what_, done, total_,
                                       100.0 * double(done) / double(std::max<int64_t>(total_, 1)), extra.empty() ? "" : " ", extra, el, eta);
  if (tty_) {
    std::fprintf(stderr, "\r%s   ", line.c_str());
    open_ = true;
    if (end) finish();
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (!open_) return;
  std::fprintf(stderr, "\n");
  open_ = false;
}

}  // namespace logq
