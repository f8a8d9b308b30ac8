// `logq area`, and the synthesized area/fmax rows other commands (sim, explore) use.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "golden/hw.h"

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

// The single kinds whose synthesized area and fmax make up `kind` (itself, or a composite's parts).
std::vector<const PeSpec*> parts_of(const PeSpec& kind);

// The clock of a design point, for `logq sim` and `logq explore` alike: the fmax of the synthesized
// R x C array of each part of `kind` (scripts/area.sh's array:KIND:R:C), the slowest one.
// clock_units: the area units that clock needs; clock_mhz reads it from `area` (keyed by unit).
// The RTL array has R, C >= 2 (kMinArraySide): a narrower array takes its parts' PE fmax.
constexpr int kMinArraySide = 2, kMaxArraySide = 256;
bool rtl_array_fits(int rows, int cols);
std::vector<std::string> clock_units(const PeSpec& kind, int rows, int cols);
double clock_mhz(const PeSpec& kind, int rows, int cols, const std::map<std::string, AreaRow>& area);

}  // namespace logq::cli
