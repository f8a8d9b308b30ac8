# Sourced by scripts/area.sh and scripts/power.sh: the one synthesis recipe of logq's RTL on the
# OSU 0.18 um cells, its sources, and the unit rows of rtl/logq_units.tsv (generated from
# golden/hw.cpp's table by `logq hw --write-rtl rtl`). Expects $root; sets $lib, $rtl, $srcs.
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
synth_netlist() {  # synth_netlist TOP "CHPARAM ARGS" NET.v LOG [YOSYS COMMANDS before write_verilog]
  yosys -q -l "$4" -p "read_verilog -defer -sv $srcs; chparam $2 $1; hierarchy -check -top $1; synth -flatten -top $1; dfflibmap -liberty $lib; abc -liberty $lib; opt_clean; stat -liberty $lib; ${5:-} write_verilog -noattr -noexpr $3" >/dev/null
}
