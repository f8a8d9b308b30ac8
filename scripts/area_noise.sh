#!/usr/bin/env bash
# How much of a unit's area and critical path is ABC's luck. Yosys names the cells and wires it
# creates from a counter; the same RTL elaborated after other modules (as a PE inside an array is)
# reaches ABC as the same logic under other names, and ABC can map it differently. This
# synthesizes each unit with scripts/area.sh's recipe once per sample; sample s first reads,
# elaborates and discards every source s times, which moves the counter (sample 0 is area.sh's run).
# Writes CSV rows: unit,sample,cells,area_um2,crit_path_ns
#
# Arrays are tiled from their PE unit's netlist (synth_tiled), so a PE's noise is its unit's.
#
#   scripts/area_noise.sh SAMPLES OUT.csv UNIT...     units as scripts/area.sh takes them, no arrays
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/synth_common.sh"
samples=$1 out=$2; shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "unit,sample,cells,area_um2,crit_path_ns" > "$out"
for unit in "$@"; do
  case $unit in array:*) echo "area_noise.sh: $unit: arrays are tiled from their PE unit's netlist; give the unit" >&2; exit 2 ;; esac
  IFS='|' read -r top params _ <<< "$(unit_spec "$unit")"
  for ((s = 0; s < samples; s++)); do
    echo "[area_noise] $unit: sample $s" >&2
    first=""
    for ((k = 0; k < s; k++)); do first="$first read_verilog -sv $srcs; design -reset;"; done
    synth_netlist "$top" "$params" "$work/net.v" "$work/yosys.log" "" "$first"
    read -r cells area <<< "$(netlist_stats "$work/yosys.log")"
    echo "$unit,$s,$cells,$area,$(sta_crit_ns "$top" "$work/net.v" "$work")" >> "$out"
  done
done
