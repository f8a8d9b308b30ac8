// `logq sim` reports: a readable per-layer table, CSV (one row per layer plus "total": the
// columns of SCALE-Sim's COMPUTE, BANDWIDTH and DETAILED_ACCESS reports in one file) and JSON.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "sim/accelerator.h"

namespace logq::sim {

std::string report_table(const SimReport& s);
std::string report_csv(const SimReport& s);
nlohmann::json report_json(const SimReport& s);

}  // namespace logq::sim
