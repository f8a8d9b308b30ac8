// Helpers shared by the logq subcommands.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace logq::cli {

// The command line main() parsed (after --replay expansion), for messages that repeat it.
void set_command_line(std::vector<std::string> args);
const std::vector<std::string>& command_line();

// The source tree the flow scripts live in (LOGQ_ROOT, else the one logq was built from).
std::string project_root();

// FNV-1a over s, continuing from h: the cache keys of the synthesis flows (area, power).
uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull);

// The cache key of a synthesis flow's results: `h` continued over every file of rtl/ and
// scripts/synth_common.sh (what every flow synthesizes with), in name order.
uint64_t rtl_hash(uint64_t h);

// Where a flow caches its results: LOGQ_CACHE_DIR/<flow> (a directory every node sees, on a
// cluster: docs/cluster.md), else ~/.cache/logq/<flow>.
std::string cache_dir(const std::string& flow);

// 'text' for a POSIX shell (system(3) commands).
std::string shell_quote(const std::string& s);

// Writes a report: "-" is stdout, anything else a file written atomically (temp file + rename).
void write_text(const std::string& path, const std::string& text);

// Parallel by process (one torch/BLAS thread each, as this machine wants): forked workers run
// work(i) and send back a string (JSON) through a pipe; the parent collects them in worker order.
// Throws Error naming `who` when a worker fails (its message is printed on stderr by the worker).
std::vector<std::string> run_in_processes(int64_t procs, const std::function<std::string(int64_t worker)>& work, const std::string& who);

}  // namespace logq::cli
