#!/usr/bin/env bash
# explore.html in a real browser: a small explore study (two uniform ResNet models, int8 and uu4
# PEs, 4x4 and 8x8 arrays, 40 images), then tests/browser/explore_html.mjs opens the page in
# Debian's headless chromium: no console errors or failed loads, the three plots decoded, one
# table row per CSV point, a column that sorts, a screenshot. Skips (77) without chromium, node
# or tests/browser/node_modules (scripts/setup.sh installs them), or without the dataset.
# Usage: explore_html_test.sh LOGQ [SCREENSHOT.png]
set -euo pipefail
L=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
F=/usr/share/datasets/fashion-mnist
[ -d "$F" ] || { echo "SKIPPED: $F is absent (apt-get install dataset-fashion-mnist)"; exit 77; }
command -v node >/dev/null || { echo "SKIPPED: node is absent"; exit 77; }
[ -x /usr/bin/chromium ] || { echo "SKIPPED: /usr/bin/chromium is absent (apt-get install chromium)"; exit 77; }
[ -d "$root/tests/browser/node_modules/playwright-core" ] || { echo "SKIPPED: tests/browser/node_modules is absent (cd tests/browser && npm ci)"; exit 77; }
w=$(mktemp -d /tmp/logq_explore_html.XXXXXX)
trap 'rm -rf "$w"' EXIT
cd "$w"
for b in 8 4; do
  "$L" quantize --method uniform --checkpoint "$root/models/fmnist_resnet.safetensors" --calib-data "$F" --test-data "$F" \
    --test-limit 50 --no-progress --w-bit $b --act-bits $b --export "w$b.lqm" > "quantize$b.log" 2>&1 || { cat "quantize$b.log"; exit 1; }
done
"$L" explore w8.lqm w4.lqm --data "$F" --images 40 --arrays 4x4,8x8 --pe int8,uu4 -j 2 -o study > explore.log 2>&1 || { cat explore.log; exit 1; }
grep -q "wrote study/explore.html" explore.log || { echo "FAIL: explore did not report explore.html"; exit 1; }
node "$root/tests/browser/explore_html.mjs" study/explore.html "${2:-$w/explore_html.png}"
