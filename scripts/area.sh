#!/usr/bin/env bash
# Area and timing of logq's RTL units on the OSU 0.18 um standard cells: Yosys (synth,
# dfflibmap, abc -liberty, stat -liberty) and OpenSTA (critical path at a 10 ns clock).
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

# unit -> "top|chparam args|description", from rtl/logq_units.tsv: rows of use "area" by name;
# array:NAME:R:C from row array_NAME.
spec() {
  local unit=$1 name=$1 use=area r="" c="" width=""
  case $unit in
    array:*) IFS=: read -r _ name r c <<< "$unit"; name=array_$name; use=array ;;
    acc[0-9]*) width=${unit#acc}; name=acc32 ;;
  esac
  local line top params desc
  line=$(unit_row "$name" "$use")
  [ -n "$line" ] || { echo "area.sh: unknown unit $unit (rtl/logq_units.tsv)" >&2; exit 2; }
  IFS=$'\t' read -r top params desc <<< "$line"
  if [ -n "$r" ]; then params="$params R=$r C=$c"; desc="${r}x${c} $desc"; fi
  if [ -n "$width" ]; then params="ACC_W=$width"; desc="$width-bit accumulator register + adder"; fi
  echo "$top|$(chparams "$params")|$desc"
}

[ -s "$out" ] || echo "unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz" > "$out"
for unit in "$@"; do
  line=$(spec "$unit")  # an unknown unit exits here (set -e)
  IFS='|' read -r top params desc <<< "$line"
  net=$work/$top.v
  echo "[area] $unit: yosys" >&2
  synth_netlist "$top" "$params" "$net" "$work/yosys.log"
  area=$(grep -E "Chip area for (top )?module" "$work/yosys.log" | tail -1 | awk '{print $NF}' || true)
  cells=$(grep -E "Number of cells:" "$work/yosys.log" | tail -1 | awk '{print $NF}' || true)
  area=${area:-0}
  cells=${cells:-0}
  echo "[area] $unit: OpenSTA" >&2
  cat > "$work/sta.tcl" <<TCL
read_liberty $lib
read_verilog $net
link_design $top
create_clock -name clk -period 10 [get_ports clk_i]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk_i]]
set_output_delay 0 -clock clk [all_outputs]
set_false_path -from [get_ports rst_ni]
report_checks -path_delay max -digits 3 -group_count 5
exit
TCL
  grep -q "rst_ni" "$net" || sed -i '/set_false_path/d' "$work/sta.tcl"
  if ! grep -q "clk_i" "$net"; then
    # Purely combinational unit: a virtual clock constrains input-to-output paths.
    sed -i 's/create_clock -name clk -period 10 \[get_ports clk_i\]/create_clock -name clk -period 10/; s/\[delete_from_list \[all_inputs\] \[get_ports clk_i\]\]/[all_inputs]/' "$work/sta.tcl"
  fi
  # Worst slack over every reported path; none (wires only) leaves crit at 0.
  slack=$(sta -no_splash -exit "$work/sta.tcl" 2>/dev/null | awk '/slack \((MET|VIOLATED)\)/{ if (min == "" || $1 < min) min = $1 } END { print min }')
  if [ -n "$slack" ]; then
    crit=$(awk -v s="$slack" 'BEGIN{printf "%.3f", 10 - s}')
    fmax=$(awk -v c="$crit" 'BEGIN{ if (c > 0) printf "%.1f", 1000 / c; else print "" }')
  else
    crit=0; fmax=""
  fi
  n2=$(awk -v a="$area" -v n="$nand2" 'BEGIN{printf "%.1f", a / n}')
  echo "$unit,\"$desc\",$cells,$area,$n2,$crit,$fmax" >> "$out"
done
