#!/usr/bin/env bash
# Area and timing of logq's RTL units on the OSU 0.18 um standard cells: Yosys (synth,
# dfflibmap, abc -liberty, stat -liberty) and OpenSTA (critical path at a 10 ns clock). An array
# array:KIND:R:C is tiled from the netlist of unit pe_KIND (synth_tiled in synth_common.sh).
# Writes CSV rows: unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz
#
#   scripts/area.sh OUT.csv UNIT...       units: see `units` below, or array:KIND:R:C
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/synth_common.sh"
out=$1; shift
nand2=$(awk '/cell \(NAND2X1\)/{f=1} f&&/area/{gsub(/[^0-9.]/,"",$3); print $3; exit}' "$lib")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -s "$out" ] || echo "unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz" > "$out"
for unit in "$@"; do
  line=$(unit_spec "$unit")  # an unknown unit exits here (set -e)
  IFS='|' read -r top params desc <<< "$line"
  net=$work/$top.v
  echo "[area] $unit: yosys" >&2
  case $unit in
    array:*)  # tiled from the netlist of its PE's own unit row, pe_KIND (synth_tiled)
      IFS=: read -r _ kind _ <<< "$unit"
      IFS='|' read -r pe_top pe_params _ <<< "$(unit_spec "pe_$kind")"
      read -r cells area <<< "$(synth_tiled "$params" "$pe_top" "$pe_params" "$net" "$work/yosys.log")" ;;
    *)
      synth_netlist "$top" "$params" "$net" "$work/yosys.log"
      read -r cells area <<< "$(netlist_stats "$work/yosys.log")" ;;
  esac
  echo "[area] $unit: OpenSTA" >&2
  crit=$(sta_crit_ns "$top" "$net" "$work")
  fmax=$(awk -v c="$crit" 'BEGIN{ if (c > 0) printf "%.1f", 1000 / c; else print "" }')
  n2=$(awk -v a="$area" -v n="$nand2" 'BEGIN{printf "%.1f", a / n}')
  echo "$unit,\"$desc\",$cells,$area,$n2,$crit,$fmax" >> "$out"
done
