#!/usr/bin/env bash
# Opens a facet report in headless Chromium and screenshots it, then every figure file on its own,
# and checks that each picture has ink (a figure that failed to render is a blank page).
#
#   tools/screenshot_report.sh WORKSPACE/report OUT_FOLDER [HEIGHT]
#
# Writes OUT_FOLDER/report.png (1280 px wide, HEIGHT tall, default 5200), OUT_FOLDER/top.png (the
# first screen) and OUT_FOLDER/figures/NAME.png; exits 1 naming any blank one. Needs Debian's chromium.
set -euo pipefail
report=$(cd "${1:?report folder}" && pwd -P)
out=${2:?output folder}
height=${3:-5200}
mkdir -p "$out/figures"
out=$(cd "$out" && pwd -P)
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "screenshot_report: no chromium (apt-get install chromium)" >&2; exit 2; }
shot() {  # URL PNG WIDTH HEIGHT
    rm -f "$2"
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
        --window-size="$3,$4" --screenshot="$2" "$1" >/dev/null 2>&1 || true
    [ -s "$2" ] || { echo "screenshot_report: chromium wrote no $2" >&2; exit 1; }
}
shot "file://$report/index.html" "$out/report.png" 1280 "$height"
shot "file://$report/index.html" "$out/top.png" 1280 900
for svg in "$report"/figures/*.svg; do
    shot "file://$svg" "$out/figures/$(basename "$svg" .svg).png" 600 380
done
python3 "$(dirname "$0")/png_ink.py" "$out/report.png" "$out/top.png" "$out"/figures/*.png
