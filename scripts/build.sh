#!/usr/bin/env bash
# Configures (CMake + Ninja, Release, ccache) and builds logq into build/. Run scripts/setup.sh first.
#   bash scripts/build.sh [ninja targets...]   (default: everything, tests included)
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Hash paths relative to the checkout, so a fresh clone in another folder (as CI makes) hits the
# cache the last build filled.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
# cli/ uses a precompiled header: ccache caches its users only with these (ccache manual, "Precompiled headers").
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > build.configure.log 2>&1 \
    || { cat build.configure.log >&2; echo "[build] cmake configure failed" >&2; exit 1; }
  mv build.configure.log build/configure.log
fi
echo "[build] compiling (first build ~2 min on 2 cores; ccache makes rebuilds fast)"
start=$(date +%s)
ninja -C build "$@"
echo "[build] done in $(( $(date +%s) - start )) s: build/cli/logq"
