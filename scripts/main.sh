#!/usr/bin/env bash
# Sets everything up (apt-get, idempotent), builds, and runs logq's main job on the embedded
# default. Today that is what exists: inspecting a bundled checkpoint (reading it with logq's
# own safe unpickler) and writing its tensor table as JSON. The full chain (quantize, golden
# model, RTL verification) joins here as those parts land.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
bash scripts/build.sh
mkdir -p out
ckpt=tests/data/pickle/wrapped_module_prefix.pt
echo "[main] logq inspect $ckpt"
./build/cli/logq inspect "$ckpt"
./build/cli/logq inspect --json "$ckpt" > out/inspect.json.tmp && mv out/inspect.json.tmp out/inspect.json
echo "[main] wrote out/inspect.json"
