#!/usr/bin/env bash
# Writes the C++ file that compiles results/power.csv (logq power's measurements, the activity
# energy table of sim/hw_config.cpp) into sim: the CSV's text as one string. Run by the build
# (sim/CMakeLists.txt) and by scripts/fuzz.sh.
#   scripts/gen_power_table.sh OUT.cpp
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
csv=$root/results/power.csv
out=$1
grep -q ')logq_power_csv' "$csv" && { echo "gen_power_table.sh: $csv holds the string's delimiter" >&2; exit 1; }
{
  echo "// GENERATED from results/power.csv by scripts/gen_power_table.sh: do not edit."
  echo "namespace logq::sim {"
  echo "extern const char* const kPowerCsv;"
  echo "const char* const kPowerCsv = R\"logq_power_csv($(cat "$csv"))logq_power_csv\";"
  echo "}  // namespace logq::sim"
} > "$out.tmp"
mv "$out.tmp" "$out"
