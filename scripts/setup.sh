#!/usr/bin/env bash
# Installs every dependency of logq from Debian packages (idempotent) and extracts the
# OSU 0.18 um standard-cell liberty into third_party/osu018 (git-ignored).
# Usage: scripts/setup.sh            (as root, or with sudo available)
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev
  libtorch-dev libopenblas0
  verilator libsystemc-dev
  libeigen3-dev libfmt-dev catch2 libcli11-dev nlohmann-json3-dev libbenchmark-dev
  zlib1g-dev libturbojpeg0-dev
  yosys opensta
  dataset-fashion-mnist
  python3 gnuplot-nox
  slurmctld slurmd slurm-client munge
  chromium
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[setup] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "[setup] all ${#PKGS[@]} Debian packages present"
fi

# OSU 0.18 um liberty: download the .deb and unpack it locally (no install needed).
LIBDIR=third_party/osu018
if [ ! -f "$LIBDIR/osu018_stdcells.lib" ]; then
  echo "[setup] extracting OSU 0.18 um liberty from qflow-tech-osu018"
  tmp=$(mktemp -d); chmod 1777 "$tmp"  # apt-get download writes as the _apt user
  (cd "$tmp" && apt-get download qflow-tech-osu018 >/dev/null)
  dpkg -x "$tmp"/qflow-tech-osu018_*.deb "$tmp/x"
  lib=$(find "$tmp/x" -name 'osu018_stdcells.lib' | head -n 1)
  [ -n "$lib" ] || { echo "[setup] error: osu018_stdcells.lib not found in qflow-tech-osu018" >&2; exit 1; }
  mkdir -p "$LIBDIR"
  cp "$lib" "$LIBDIR/osu018_stdcells.lib.tmp" && mv "$LIBDIR/osu018_stdcells.lib.tmp" "$LIBDIR/osu018_stdcells.lib"
  rm -rf "$tmp"
fi
# The headless-browser test's driver (tests/browser: playwright-core from the npm registry, pinned by
# package-lock.json; it drives Debian's chromium, it downloads no browser).
if command -v npm >/dev/null && [ ! -f tests/browser/node_modules/.package-lock.json -o tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  echo "[setup] npm ci in tests/browser"
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { echo "[setup] error: npm ci in tests/browser failed" >&2; exit 1; }
fi
echo "[setup] done"
