#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (gcc): configures
# build-asan/ (RelWithDebInfo, -fsanitize=address,undefined, any UB report fatal), builds, and
# runs CTest there. Run scripts/setup.sh first.
#
#   bash scripts/sanitize.sh [CTEST ARGS...]     e.g. -L hostile, or -R checkpoint
#
# With LibTorch (Debian's is not instrumented, but logq's own code around it is; LOGQ_SANITIZE_TORCH=OFF
# leaves the LibTorch parts and their tests out for a quicker run of every file reader). The fuzz
# targets have their own ASan + UBSan build (scripts/fuzz.sh) and are left out here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache} CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
# Every UB report is fatal, except misaligned stores, which are reported and then suppressed for
# Verilator's own VCD tracer (tests/sanitize.supp), the one place outside logq that has them.
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fsanitize-recover=alignment -fno-omit-frame-pointer"
if [ ! -f build-asan/build.ninja ] || ! grep -q "LOGQ_WITH_TORCH:BOOL=${LOGQ_SANITIZE_TORCH:-ON}" build-asan/CMakeCache.txt; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOGQ_WITH_TORCH="${LOGQ_SANITIZE_TORCH:-ON}" \
    -DCMAKE_CXX_FLAGS="$san" -DCMAKE_C_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
fi
ninja -C build-asan
cd build-asan
# SystemC switches stacks (its threads are coroutines): neither ASan's stack-use-after-return
# check nor LeakSanitizer's scan of thread stacks can follow that (LSan crashes at the exit of
# `logq sim`), so both stay off; every other ASan check and every UBSan check stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=0:detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:suppressions=$PWD/../tests/sanitize.supp}
# tests/hostile: ASan's shadow memory cannot live under a 4 GiB RLIMIT_AS; its RSS limit holds.
export LOGQ_HOSTILE_NO_AS_LIMIT=1 ASAN_OPTIONS="$ASAN_OPTIONS:hard_rss_limit_mb=4096:allocator_may_return_null=1"
exec ctest -j"$(nproc --all)" --output-on-failure --timeout 3000 -E "^fuzz_" "$@"
