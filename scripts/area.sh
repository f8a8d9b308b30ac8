#!/usr/bin/env bash
# Area and timing of logq's RTL units on the OSU 0.18 um standard cells: Yosys (synth,
# dfflibmap, abc -liberty, stat -liberty) and OpenSTA (critical path at a 10 ns clock).
# Writes CSV rows: unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz
#
#   scripts/area.sh OUT.csv UNIT...       units: see `units` below, or array:KIND:R:C
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib=$root/third_party/osu018/osu018_stdcells.lib
[ -f "$lib" ] || { echo "area.sh: $lib missing (run scripts/setup.sh)" >&2; exit 1; }
out=$1; shift
rtl=$root/rtl
srcs="$rtl/logq_pkg.sv $rtl/logq_term_place.sv $rtl/logq_acc.sv $rtl/logq_pe_uu.sv $rtl/logq_pe_ua.sv $rtl/logq_pe_lu.sv $rtl/logq_pe_la.sv $rtl/logq_pe_lula.sv $rtl/logq_pe_universal.sv $rtl/logq_adalog_dequant.sv $rtl/logq_logw_decode.sv $rtl/logq_pe_slot.sv $rtl/logq_pe_position.sv $rtl/logq_pe_array.sv"
nand2=$(awk '/cell \(NAND2X1\)/{f=1} f&&/area/{gsub(/[^0-9.]/,"",$3); print $3; exit}' "$lib")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# unit -> "top|chparam args|description", from rtl/logq_units.tsv (generated from golden/hw.cpp's
# table by `logq hw --write-rtl rtl`): rows of use "area" by name; array:NAME:R:C from row array_NAME.
units_tsv=$rtl/logq_units.tsv
row() {  # row NAME USE -> "top<TAB>params<TAB>description" or nothing
  awk -F'\t' -v n="$1" -v u="$2" '!/^#/ && $1 == n && $2 == u { print $3 "\t" $4 "\t" $5; exit }' "$units_tsv"
}
chparams() {  # "A=1 B=2" -> "-set A 1 -set B 2"
  local out="" kv
  for kv in $1; do out="$out -set ${kv%%=*} ${kv#*=}"; done
  echo "${out# }"
}
spec() {
  local unit=$1 name=$1 use=area r="" c="" width=""
  case $unit in
    array:*) IFS=: read -r _ name r c <<< "$unit"; name=array_$name; use=array ;;
    acc[0-9]*) width=${unit#acc}; name=acc32 ;;
  esac
  local line top params desc
  line=$(row "$name" "$use")
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
  yosys -q -l "$work/yosys.log" -p "read_verilog -defer -sv $srcs; chparam $params $top; hierarchy -check -top $top; synth -flatten -top $top; dfflibmap -liberty $lib; abc -liberty $lib; opt_clean; stat -liberty $lib; write_verilog -noattr -noexpr $net" >/dev/null
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
