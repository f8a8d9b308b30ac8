#!/usr/bin/env bash
# Lint every RTL module with `verilator --lint-only -Wall` and synthesize the synthesizable ones
# with Yosys; any warning or error fails. `equiv` proves, with Yosys's equivalence checker, that
# every module with a simulation-only form (`ifdef VERILATOR`) computes the same function as the
# form that is synthesized. Used by CTest (rtl_lint, rtl_synth, rtl_equiv).
#   scripts/rtl_check.sh lint | synth | equiv
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rtl=$root/rtl
core="$rtl/logq_pkg.sv $rtl/logq_term_place.sv $rtl/logq_acc.sv $rtl/logq_pe_uu.sv $rtl/logq_pe_ua.sv $rtl/logq_pe_lu.sv $rtl/logq_pe_la.sv $rtl/logq_pe_lula.sv $rtl/logq_pe_universal.sv $rtl/logq_adalog_dequant.sv $rtl/logq_logw_decode.sv"
array="$core $rtl/logq_pe_slot.sv $rtl/logq_pe_position.sv $rtl/logq_pe_array.sv"
sim="$array $rtl/logq_gemm_ctrl.sv $rtl/logq_gemm_top.sv $rtl/logq_unit_top.sv"
fail=0

lint() {  # lint TOP [-Gparam=v ...]
  local top=$1; shift
  if ! out=$(verilator --lint-only -Wall $sim --top-module "$top" "$@" 2>&1) || [ -n "$out" ]; then
    echo "LINT FAIL $top $*"; echo "$out" | head -20; fail=1
  else
    echo "lint ok   $top $*"
  fi
}

synth() {  # synth TOP [chparam args]
  local top=$1 params=${2:-}
  local log
  log=$(yosys -p "read_verilog -defer -sv $array; ${params:+chparam $params $top;} hierarchy -check -top $top; synth -top $top; check -assert" 2>&1) || { echo "SYNTH FAIL $top $params"; echo "$log" | grep -iE "error" | head; fail=1; return; }
  if echo "$log" | grep -qiE "^warning|: warning"; then
    echo "SYNTH WARN $top $params"; echo "$log" | grep -iE "warning" | head; fail=1
  else
    echo "synth ok  $top $params ($(echo "$log" | grep -E 'Number of cells:' | tail -1 | awk '{print $4}') cells)"
  fi
}

equiv() {  # equiv TOP FILES...: the VERILATOR form vs the synthesis form, registers included
  local top=$1; shift
  local files="$*" log
  log=$(yosys -q -p "
    read_verilog -defer -sv -DVERILATOR $files; hierarchy -top $top; proc; flatten; async2sync; opt_clean
    rename $top gate; design -stash gate
    read_verilog -defer -sv $files; hierarchy -top $top; proc; flatten; async2sync; opt_clean
    rename $top gold; design -stash gold
    design -copy-from gold -as gold gold; design -copy-from gate -as gate gate
    equiv_make gold gate equiv; hierarchy -top equiv; equiv_simple -seq 2; equiv_induct; equiv_status -assert" 2>&1) \
    && echo "equiv ok  $top (simulation form == synthesis form)" \
    || { echo "EQUIV FAIL $top"; echo "$log" | tail -5; fail=1; }
}

case "${1:-}" in
  lint)
    for m in logq_term_place logq_acc logq_pe_uu logq_pe_ua logq_pe_lu logq_pe_la logq_pe_lula logq_pe_universal \
             logq_adalog_dequant logq_logw_decode logq_gemm_ctrl logq_unit_top; do lint $m; done
    for k in 0 1 2 3 4 5; do lint logq_pe_slot -GKIND=$k; lint logq_pe_position -GKIND=$k; lint logq_pe_array -GKIND=$k; lint logq_gemm_top -GKIND=$k; done
    # Every unit and Verilated model of the hardware table, with its parameters.
    while IFS=$'\t' read -r name use top params _; do
      if [ "$use" = array ]; then  # square and non-square
        lint "$top" $(for kv in $params R=4 C=4; do echo "-G$kv"; done)
        lint "$top" $(for kv in $params R=8 C=16; do echo "-G$kv"; done)
      else
        lint "$top" $(for kv in $params; do echo "-G$kv"; done)
      fi
    done < <(grep -v '^#' "$rtl/logq_units.tsv")
    lint logq_pe_array -GR=2 -GC=3
    ;;
  synth)
    for m in logq_pe_uu logq_pe_ua logq_pe_lu logq_pe_la logq_pe_lula logq_pe_universal logq_adalog_dequant logq_logw_decode; do synth $m; done
    for k in 0 1 2 3 4 5; do synth logq_pe_array "-set KIND $k"; done
    # The PE and array units `logq area` synthesizes (rtl/logq_units.tsv), with their parameters.
    while IFS=$'\t' read -r name use top params _; do
      case $use in area) ;; array) params="$params R=2 C=2" ;; *) continue ;; esac
      synth "$top" "$(for kv in $params; do printf -- '-set %s %s ' "${kv%%=*}" "${kv#*=}"; done)"
    done < <(grep -v '^#' "$rtl/logq_units.tsv")
    ;;
  equiv)
    equiv logq_pe_lu "$rtl/logq_pkg.sv $rtl/logq_term_place.sv $rtl/logq_acc.sv $rtl/logq_pe_lu.sv"
    ;;
  *) echo "usage: $0 lint|synth|equiv" >&2; exit 2 ;;
esac
exit $fail
