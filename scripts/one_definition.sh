#!/usr/bin/env bash
# One definition of each thing the hardware description owns (issue 18, docs/architecture.md):
# fails, naming the files, when a second copy of the PE table, pairing_name, the cycle formula,
# the odd-mantissa constant, a bare PE-kind number, the lowering (im2col), K-splitting's chunks or the
# vector unit's cost table appears outside its home.
# Used by CTest (hw_one_definition).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fail=0
src() { git ls-files -- '*.cpp' '*.h' '*.sv' '*.sh' 'CMakeLists.txt' '*/CMakeLists.txt' | grep -v '^tests/' | grep -v '^scripts/one_definition.sh$'; }

only_in() {  # only_in WHAT HOME PATTERN: PATTERN (grep -E) may match in HOME (its .cpp and .h) only
  local what=$1 home=$2 pattern=$3 hits
  hits=$(src | xargs grep -lE -- "$pattern" 2>/dev/null | grep -vxF -e "$home" -e "${home%.cpp}.h" || true)
  if [ -n "$hits" ]; then
    echo "FAIL $what: defined outside $home in: $(echo $hits)"; fail=1
  else
    echo "ok   $what: $home"
  fi
}

never() {  # never WHAT PATTERN
  local what=$1 pattern=$2 hits
  hits=$(src | xargs grep -nE -- "$pattern" 2>/dev/null || true)
  if [ -n "$hits" ]; then echo "FAIL $what:"; echo "$hits" | head; fail=1; else echo "ok   $what: nowhere"; fi
}

only_in "pairing_name" golden/hw.cpp 'pairing_name\(Pairing p\) \{'
never "a second PE table (area units by name)" '"pe_(int8|uu4|uu6|lu|lu_exact|ua|la|universal)"|pe_lu_exact\)'
only_in "the PE table (its composite rows)" golden/hw.cpp '"uu6", "ua"|"uu6\+ua"'

only_in "the array cycle formula" golden/hw.cpp 'K \+ R \+ C - 1;|K \+ c\.rows \+ c\.cols - 1'
only_in "K-splitting's chunks" golden/hw.cpp '\(K \+ Kc - 1\) / Kc|K - chunk \* Kc'
only_in "the vector unit's cost table" sim/vector_unit.cpp '\{"(layernorm|softmax|gelu|quantize_adalog)", \{'
only_in "the stored operand word widths" golden/hw.cpp 'table\.bits \+ 1|w_log_bits \+ 1'
only_in "im2col (the lowering of a conv)" golden/lower.cpp '(void|std::vector<int32_t>) im2col\('
only_in "a matmul's per-head transpose (the lowering of attention)" golden/lower.cpp '\[n \* K \+ k\] = '
never "a K_ODD set apart from MANT_F" 'parameter int unsigned K_ODD|-GK_ODD|-set K_ODD'
never "a bare PE-kind number in the RTL" 'KIND [!=]= [0-9]'
never "a PE kind set by number in a script or build file" '(-set KIND|-GKIND=)[0-9]'
exit $fail
