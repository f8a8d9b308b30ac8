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
srcs="$rtl/logq_term_place.sv $rtl/logq_acc.sv $rtl/logq_pe_uu.sv $rtl/logq_pe_ua.sv $rtl/logq_pe_lu.sv $rtl/logq_pe_la.sv $rtl/logq_pe_universal.sv $rtl/logq_adalog_dequant.sv $rtl/logq_logw_decode.sv $rtl/logq_pe_slot.sv $rtl/logq_pe_array.sv"
nand2=$(awk '/cell \(NAND2X1\)/{f=1} f&&/area/{gsub(/[^0-9.]/,"",$3); print $3; exit}' "$lib")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# unit -> "top|chparam args|description"
spec() {
  case $1 in
    pe_int8)      echo "logq_pe_uu|-set DW 9 -set DA 9 -set ACC_W 32|INT8 x INT8 MAC (baseline), 32-bit acc" ;;
    pe_uu4)       echo "logq_pe_uu|-set DW 5 -set DA 5 -set ACC_W 32|U(4) x U(4) MAC, 32-bit acc" ;;
    pe_uu6)       echo "logq_pe_uu|-set DW 7 -set DA 7 -set ACC_W 32|U(6) x U(6) MAC, 32-bit acc" ;;
    pe_lu)        echo "logq_pe_lu|-set DA 9 -set KW 4 -set ACC_W 32|L(4) x U(8) shift-add PE (1+1/2), 32-bit acc" ;;
    pe_lu_exact)  echo "logq_pe_lu|-set DA 9 -set KW 4 -set MANT_F 6 -set K_ODD 91 -set ACC_W 32|L(4) x U(8), exact mantissa f=6 (91/64), 32-bit acc" ;;
    pe_ua)        echo "logq_pe_ua|-set DW 5 -set MW 5 -set EW 6 -set FW 6 -set ACC_W 32|U(4) x A(4) PE, 32-bit acc" ;;
    pe_la)        echo "logq_pe_la|-set MW 5 -set EW 6 -set FW 6 -set KW 4 -set ACC_W 32|L(4) x A(4) PE, 32-bit acc" ;;
    pe_universal) echo "logq_pe_universal|-set ACC_W 48|universal PE (all pairings), 48-bit acc" ;;
    acc32)        echo "logq_acc|-set ACC_W 32|32-bit accumulator register + adder (part of every PE above)" ;;
    acc[0-9]*)    w=${1#acc}; echo "logq_acc|-set ACC_W $w|$w-bit accumulator register + adder" ;;
    adalog_dequant) echo "logq_adalog_dequant|-set B 4 -set EW 6|AdaLog dequant, b=4, LUT of 16 (M,E)" ;;
    logw_decode)  echo "logq_logw_decode|-set KW 4|LogART weight decoder" ;;
    array:*)      IFS=: read -r _ kind r c <<< "$1"
                  case $kind in
                    int8) echo "logq_pe_array|-set KIND 0 -set R $r -set C $c -set DW 9 -set DA 9 -set ACC_W 32|${r}x${c} array of INT8 MACs" ;;
                    lu)   echo "logq_pe_array|-set KIND 2 -set R $r -set C $c -set DA 9 -set KW 4 -set ACC_W 32|${r}x${c} array of L(4)xU(8) PEs" ;;
                    ua)   echo "logq_pe_array|-set KIND 1 -set R $r -set C $c -set DW 5 -set MW 5 -set EW 6 -set FW 6 -set ACC_W 32|${r}x${c} array of U(4)xA(4) PEs" ;;
                    la)   echo "logq_pe_array|-set KIND 3 -set R $r -set C $c -set MW 5 -set EW 6 -set FW 6 -set KW 4 -set ACC_W 32|${r}x${c} array of L(4)xA(4) PEs" ;;
                    *) echo "area.sh: unknown array kind $kind" >&2; exit 2 ;;
                  esac ;;
    *) echo "area.sh: unknown unit $1" >&2; exit 2 ;;
  esac
}

[ -s "$out" ] || echo "unit,description,cells,area_um2,nand2_eq,crit_path_ns,fmax_mhz" > "$out"
for unit in "$@"; do
  IFS='|' read -r top params desc <<< "$(spec "$unit")"
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
