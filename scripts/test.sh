#!/usr/bin/env bash
# Sets everything up (apt-get, idempotent), builds, and runs the whole test suite with CTest.
# Tests that need ../shared (reference fixtures and real data beside the project) report
# themselves as skipped when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build.sh
cd build
# nproc --all: plain nproc follows OMP_NUM_THREADS, which scripts/env.sh sets to 1 (tests ran serially).
ctest -j"$(nproc --all)" --output-on-failure --timeout 1200
