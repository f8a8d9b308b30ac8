// `logq area`, and the synthesized area/fmax rows other commands (sim, explore) use.
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace logq::cli {

void add_area(CLI::App& app);

struct AreaRow {
  std::string unit, description;
  int64_t cells = 0;
  double area_um2 = 0, nand2_eq = 0, crit_ns = 0, fmax_mhz = 0;  // fmax 0: no timing path
};
// Synthesizes `units` (scripts/area.sh unit names, array:KIND:R:C for arrays) or reads the cached
// results (~/.cache/logq/area, keyed by the RTL sources and the unit list). csv_text: the raw CSV.
std::vector<AreaRow> area_results(const std::vector<std::string>& units, bool no_cache = false, std::string* csv_text = nullptr);

// The rows of an area CSV (scripts/area.sh's, `logq area --csv`'s); `where` names it in errors.
std::vector<AreaRow> parse_area_csv(const std::string& text, const std::string& where);

}  // namespace logq::cli
