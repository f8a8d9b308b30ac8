// Progress of a long step on stderr. On a terminal: one line rewritten in place (\r), at most
// twice a second. In a log (stderr redirected to a file or pipe): a whole line at most every
// 30 s and one at the end, never a \r, so logs stay readable line by line.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace logq {

// The default of every --progress option: on when stderr is a terminal.
bool stderr_is_terminal();

class Progress {
 public:
  Progress(std::string what, int64_t total, bool on);
  // `done` of `total` steps; `extra` is printed after the count (e.g. "top-1 93.10%").
  void update(int64_t done, const std::string& extra = "");
  // Ends the in-place line (terminal) once; called by the destructor too.
  void finish();
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  using Clock = std::chrono::steady_clock;
  std::string what_;
  int64_t total_;
  bool on_, tty_, open_ = false;
  Clock::time_point start_ = Clock::now(), last_;
};

}  // namespace logq
