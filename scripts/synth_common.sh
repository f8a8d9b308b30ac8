# Sourced by scripts/area.sh, scripts/area_noise.sh and scripts/power.sh: the one synthesis recipe
# of logq's RTL on the OSU 0.18 um cells, its sources, and the unit rows of rtl/logq_units.tsv
# (generated from golden/hw.cpp's table by `logq hw --write-rtl rtl`). Expects $root; sets $lib, $rtl, $srcs.
lib=$root/third_party/osu018/osu018_stdcells.lib
[ -f "$lib" ] || { echo "$(basename "$0"): $lib missing (run scripts/setup.sh)" >&2; exit 1; }
rtl=$root/rtl
srcs="$rtl/logq_pkg.sv $rtl/logq_term_place.sv $rtl/logq_acc.sv $rtl/logq_pe_uu.sv $rtl/logq_pe_ua.sv $rtl/logq_pe_lu.sv $rtl/logq_pe_la.sv $rtl/logq_pe_lula.sv $rtl/logq_pe_universal.sv $rtl/logq_adalog_dequant.sv $rtl/logq_logw_decode.sv $rtl/logq_pe_slot.sv $rtl/logq_pe_position.sv $rtl/logq_pe_array.sv"

unit_row() {  # unit_row NAME USE -> "top<TAB>params<TAB>description" or nothing
  awk -F'\t' -v n="$1" -v u="$2" '!/^#/ && $1 == n && $2 == u { print $3 "\t" $4 "\t" $5; exit }' "$rtl/logq_units.tsv"
}
chparams() {  # "A=1 B=2" -> "-set A 1 -set B 2"
  local out="" kv
  for kv in $1; do out="$out -set ${kv%%=*} ${kv#*=}"; done
  echo "${out# }"
}
# opt_clean -purge drops the alias names flattening keeps: write_verilog gives some of them a
# concatenated left-hand side, which OpenSTA's reader rejects (sta_crit_ns fails on that).
# Optional Yosys commands: $5 before write_verilog, $6 first of all, $7 between elaboration and synth.
synth_netlist() {  # synth_netlist TOP "CHPARAM ARGS" NET.v LOG [BEFORE_WRITE] [FIRST] [BEFORE_SYNTH]
  yosys -q -l "$4" -p "${6:-} read_verilog -defer -sv $srcs; chparam $2 $1; hierarchy -check -top $1; ${7:-} synth -flatten -top $1; dfflibmap -liberty $lib; abc -liberty $lib; opt_clean -purge; stat -liberty $lib; ${5:-} write_verilog -noattr -noexpr $3" >/dev/null
}
netlist_stats() {  # netlist_stats LOG -> "cells area_um2" of the whole design, from Yosys's stat
  local cells area
  cells=$(grep -E "Number of cells:" "$1" | tail -1 | awk '{print $NF}')
  area=$(grep -E "Chip area for (top )?module" "$1" | tail -1 | awk '{print $NF}')
  echo "${cells:-0} ${area:-0}"
}
# synth_tiled "ARRAY CHPARAM ARGS" PE_TOP "PE CHPARAM ARGS" NET.v LOG -> "cells area_um2"
# An array tiled from its PE as a hardened macro: the PE is synthesized exactly as its own unit
# (synth_netlist: the same netlist that unit's fmax comes from), the array around it with that PE
# a black box, and NET.v holds both. Array and PE timing then differ only by what the array adds
# (operand and configuration registers, drain, loads), not by ABC mapping one PE two ways: the
# same logic under other internal names maps up to 15 % slower or faster (scripts/area_noise.sh).
synth_tiled() {
  local params=$1 pe_top=$2 pe_params=$3 net=$4 log=$5
  synth_netlist "$pe_top" "$pe_params" "$net.pe.v" "$log.pe"
  synth_netlist logq_pe_array "$params" "$net.arr.v" "$log" "" "" "blackbox *\\$pe_top;"
  # The black box's derived name (\$paramod$<hash>\PE_TOP) becomes the macro's own.
  perl -pe 's/^(\s*)\\\$paramod\$[0-9a-f]+\\'"$pe_top"' /${1}'"$pe_top"' /' "$net.arr.v" > "$net.tiles.v"
  local n_pe
  n_pe=$(grep -c "^ *$pe_top " "$net.tiles.v" || true)
  [ "$n_pe" -ge 1 ] || { echo "synth_tiled: no $pe_top macro in the array netlist" >&2; return 1; }
  cat "$net.pe.v" "$net.tiles.v" > "$net"
  local pe_cells pe_area arr_cells arr_area tiles
  read -r pe_cells pe_area <<< "$(netlist_stats "$log.pe")"
  read -r arr_cells arr_area <<< "$(netlist_stats "$log")"
  # stat counts each black-box PE as one cell of no area: R x C of them.
  tiles=$(grep -F "\\$pe_top " "$log" | awk '$1 ~ /^[$]paramod/ && NF == 2 { n = $2 } END { print n }')
  [ -n "$tiles" ] || { echo "synth_tiled: Yosys's stat lists no $pe_top tiles" >&2; return 1; }
  awk -v pc="$pe_cells" -v pa="$pe_area" -v ac="$arr_cells" -v aa="$arr_area" -v n="$tiles" \
    'BEGIN { printf "%d %.6f\n", ac - n + n * pc, aa + n * pa }'
}
# unit -> "top|chparam args|description", from rtl/logq_units.tsv: rows of use "area" by name;
# array:NAME:R:C from row array_NAME.
unit_spec() {
  local unit=$1 name=$1 use=area r="" c="" width=""
  case $unit in
    array:*) IFS=: read -r _ name r c <<< "$unit"; name=array_$name; use=array ;;
    acc[0-9]*) width=${unit#acc}; name=acc32 ;;
  esac
  local line top params desc
  line=$(unit_row "$name" "$use")
  [ -n "$line" ] || { echo "unknown unit $unit (rtl/logq_units.tsv)" >&2; exit 2; }
  IFS=$'\t' read -r top params desc <<< "$line"
  if [ -n "$r" ]; then params="$params R=$r C=$c"; desc="${r}x${c} $desc"; fi
  if [ -n "$width" ]; then params="ACC_W=$width"; desc="$width-bit accumulator register + adder"; fi
  echo "$top|$(chparams "$params")|$desc"
}
sta_crit_ns() {  # sta_crit_ns TOP NET.v WORKDIR -> critical path in ns at a 10 ns clock ("0": wires only)
  local top=$1 net=$2 work=$3
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
  # Worst slack over every reported path; none (wires only) leaves the path at 0.
  local slack
  sta -no_splash -exit "$work/sta.tcl" > "$work/sta.out" 2>&1 || true
  if grep -q "^Error" "$work/sta.out"; then  # a netlist OpenSTA read only in part would time too short
    echo "sta_crit_ns: OpenSTA on $net: $(grep -m1 "^Error" "$work/sta.out")" >&2
    return 1
  fi
  slack=$(awk '/slack \((MET|VIOLATED)\)/{ if (min == "" || $1 < min) min = $1 } END { print min }' "$work/sta.out")
  if [ -n "$slack" ]; then awk -v s="$slack" 'BEGIN{printf "%.3f", 10 - s}'; else echo 0; fi
}
