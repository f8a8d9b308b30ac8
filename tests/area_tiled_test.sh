#!/usr/bin/env bash
# An array is tiled from its PE's own netlist (synth_tiled, scripts/synth_common.sh): the 4x4
# universal array's netlist defines the PE once, exactly as the pe_universal unit's netlist, and
# instantiates it 16 times; its area is 16 PEs plus the array's own logic; its critical path is
# the PE's plus the array's loads, within 10 % of the PE's fmax (issue 20, item 2). Skips (77)
# without Yosys, OpenSTA or the liberty.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for t in yosys sta; do command -v $t >/dev/null || { echo "SKIPPED: $t is absent (scripts/setup.sh)"; exit 77; }; done
[ -f "$root/third_party/osu018/osu018_stdcells.lib" ] || { echo "SKIPPED: the OSU 0.18 um liberty is absent (scripts/setup.sh)"; exit 77; }
source "$root/scripts/synth_common.sh"
w=$(mktemp -d /tmp/logq_area_tiled.XXXXXX)
trap 'rm -rf "$w"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
IFS='|' read -r pe_top pe_params _ <<< "$(unit_spec pe_universal)"
IFS='|' read -r _ arr_params _ <<< "$(unit_spec array:universal:4:4)"
synth_netlist "$pe_top" "$pe_params" "$w/pe.v" "$w/pe.log"
read -r cells area <<< "$(synth_tiled "$arr_params" "$pe_top" "$pe_params" "$w/arr.v" "$w/arr.log")"
[ "$(grep -c "^module $pe_top(" "$w/arr.v")" = 1 ] || fail "the array netlist does not define $pe_top once"
[ "$(grep -c "^ *$pe_top " "$w/arr.v")" = 1 ] || fail "the position does not instantiate $pe_top once"
grep -q '\$paramod.*logq_pe_universal ' "$w/arr.v" && fail "a derived (re-mapped) PE module is left in the array netlist"
# The PE inside is the unit's netlist, cell for cell.
diff <(sed -n "/^module $pe_top(/,/^endmodule/p" "$w/pe.v") <(sed -n "/^module $pe_top(/,/^endmodule/p" "$w/arr.v") > /dev/null \
  || fail "the array's PE differs from the pe_universal netlist"
pe_area=$(grep -E "Chip area for (top )?module" "$w/pe.log" | tail -1 | awk '{print $NF}')
pe_cells=$(grep -E "Number of cells:" "$w/pe.log" | tail -1 | awk '{print $NF}')
awk -v a="$area" -v p="$pe_area" -v c="$cells" -v pc="$pe_cells" 'BEGIN { exit !(a > 16 * p && a < 16 * p * 1.3 && c > 16 * pc) }' \
  || fail "area $area / cells $cells are not 16 PEs ($pe_area, $pe_cells) plus the array's own logic"
pe_crit=$(sta_crit_ns "$pe_top" "$w/pe.v" "$w")
arr_crit=$(sta_crit_ns logq_pe_array "$w/arr.v" "$w")
echo "pe_universal: $pe_area um^2, $pe_crit ns; 4x4 array: $area um^2, $arr_crit ns"
awk -v p="$pe_crit" -v a="$arr_crit" 'BEGIN { exit !(a >= p && p / a >= 0.9) }' \
  || fail "array path $arr_crit ns against the PE's $pe_crit ns: not within 10 % of the PE's fmax"
echo "ok"
