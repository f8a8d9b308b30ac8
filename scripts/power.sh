#!/usr/bin/env bash
# Energy of one PE array position (logq_pe_position) on the OSU 0.18 um cells, from the model's own
# switching (`logq power` writes the stimulus and reads what this leaves in DIR; docs/sim.md,
# "Energy"):
#   1. Yosys synthesizes the position of PE kind KIND exactly as scripts/area.sh does, every internal
#      net renamed to a plain identifier so the netlist, the VCD and OpenSTA name nets alike.
#   2. Verilator simulates that gate-level netlist (cell functions from the liberty) on DIR/stim.txt
#      (power_bench.cpp), checks every accumulator the stimulus expects, and writes DIR/sim.vcd.
#   3. OpenSTA prices every cell from the liberty's internal-power tables and pin capacitances at
#      the netlist's own slews and loads: per-instance power at activity 0 and at 1 transition per
#      cycle on every pin (DIR/sta_a0.txt, sta_a1.txt; power is linear in each cell's transitions),
#      and the design's power with DIR/ports.tcl's measured input-port activities propagated by
#      OpenSTA itself (DIR/sta_vectorless.txt, the cheaper estimate it is compared with).
#   DIR/outputs.txt lists each cell's output pins (from the liberty) for the join `logq power` makes.
#
#   scripts/power.sh KIND DIR        (KIND: a single PE kind, row position_KIND of rtl/logq_units.tsv)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/synth_common.sh"
# Only the position's own modules: ABC's mapping of the universal position changes (+1.7 % pJ/MAC)
# when the unused array and decoder modules are read too; results/power.csv was measured so.
srcs="$rtl/logq_pkg.sv $rtl/logq_term_place.sv $rtl/logq_acc.sv $rtl/logq_pe_uu.sv $rtl/logq_pe_ua.sv $rtl/logq_pe_lu.sv $rtl/logq_pe_la.sv $rtl/logq_pe_lula.sv $rtl/logq_pe_universal.sv $rtl/logq_pe_slot.sv $rtl/logq_pe_position.sv"
kind=$1 dir=$2
[ -f "$dir/stim.txt" ] || { echo "power.sh: $dir/stim.txt missing (logq power writes it)" >&2; exit 1; }
line=$(unit_row "position_$kind" power)
[ -n "$line" ] || { echo "power.sh: no row position_$kind in rtl/logq_units.tsv" >&2; exit 2; }
IFS=$'\t' read -r top params _ <<< "$line"
period=10  # ns; the energy per transition does not depend on it, leakage per cycle does (docs/sim.md)

echo "[power] $kind: yosys" >&2
# As scripts/area.sh, then every wire but the ports made private: write_verilog names them _N_.
synth_netlist "$top" "$(chparams "$params")" "$dir/net.v" "$dir/yosys.log" "rename -hide w:* i:* o:* %u %d;"
[ -f "$dir/cells.v" ] || yosys -q -p "read_liberty -ignore_miss_func $lib; write_verilog -noattr $dir/cells.v" >/dev/null
# Every cell pin of the liberty: "CELL PIN DIRECTION CAPACITANCE_PF" (outputs: capacitance 0).
awk '/^[ \t]*cell *\(/ { gsub(/.*\(|\).*/, ""); cell = $0 } /^[ \t]*pin *\(/ { p = $0; gsub(/.*\(|\).*/, "", p); pin = p }
     /^[ \t]*direction *:/ { d = $3; gsub(/;/, "", d) } /^[ \t]*capacitance *:/ { v = $3; gsub(/;/, "", v); print cell, pin, d, v }' "$lib" > "$dir/pins.txt"
awk '$3 == "output" { print $1, $2 }' "$dir/pins.txt" > "$dir/outputs.txt"

# In the array each operand-register output drives the next position's inputs: load the output
# ports (a_word_o, w_word_o, valid_o, first_o) with the pin capacitance of the matching input net
# of this netlist (liberty pin capacitances, pF), so the registers are charged what they drive.
awk 'NR == FNR { cap[$1 " " $2] = $4; next }
     /^ *[A-Z][A-Z0-9]* +_[0-9]+_ +\($/ { cell = $1; next }
     /^ *\.[A-Za-z]+\(/ && cell != "" { pin = $0; sub(/^ *\./, "", pin); net = pin; sub(/\(.*/, "", pin); sub(/^[^(]*\(/, "", net); sub(/\).*/, "", net); gsub(/ /, "", net)
       if (net ~ /^(a_word_i|w_word_i|valid_i|first_i)/) load[net] += cap[cell " " pin]; next }
     /^ *\);/ { cell = "" }
     END { for (n in load) { o = n; sub(/_i/, "_o", o); printf "set_load -pin_load %.6f [get_ports {%s}]\n", load[n], o } }' \
  "$dir/pins.txt" "$dir/net.v" | sort > "$dir/loads.tcl"

echo "[power] $kind: gate-level simulation (Verilator)" >&2
# -O0: Verilator 5.006's optimizer miscompiles these cell netlists (an XNOR2X1 output wrong, seen
# against Icarus Verilog on the same netlist); unoptimized it agrees, and every accumulator the
# stimulus carries is checked, so a wrong simulation fails here rather than pricing wrong activity.
verilator --cc --exe --build -j 2 -O0 --trace --trace-underscore -Wno-fatal -Wno-lint -Wno-style -Wno-MULTIDRIVEN \
  --top-module "$top" -Mdir "$dir/obj" "$dir/net.v" "$dir/cells.v" "$root/testbenches/power_bench.cpp" \
  -CFLAGS -O1 > "$dir/verilator.log" 2>&1 || { tail -20 "$dir/verilator.log" >&2; echo "power.sh: verilator failed ($dir/verilator.log)" >&2; exit 1; }
"$dir/obj/V$top" "$dir/stim.txt" "$dir/sim.vcd" > "$dir/sim.txt"

echo "[power] $kind: OpenSTA report_power" >&2
sta_run() {  # sta_run OUT ACTIVITY_TCL REPORT
  cat > "$dir/sta.tcl" <<TCL
read_liberty $lib
read_verilog $dir/net.v
link_design $top
create_clock -name clk -period $period [get_ports clk_i]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk_i]]
set_output_delay 0 -clock clk [all_outputs]
source $dir/loads.tcl
report_checks -path_delay max > /dev/null
$2
$3
exit
TCL
  sta -no_splash -exit "$dir/sta.tcl" > "$1" 2>&1
}
sta_run "$dir/sta_a0.txt" "set_power_activity -global -activity 0 -duty 0.5" "report_power -instances [get_cells *] -digits 8"
sta_run "$dir/sta_a1.txt" "set_power_activity -global -activity 1 -duty 0.5" "report_power -instances [get_cells *] -digits 8"
sta_run "$dir/sta_vectorless.txt" "source $dir/ports.tcl" "report_power -digits 8"
echo "period_ns $period" > "$dir/flow.txt"
echo "[power] $kind: done" >&2
