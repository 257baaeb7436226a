#!/usr/bin/env bash
# The labelling app on a workspace of PHOTOS photos (the study's 3,665 by default), in headless
# chromium: the first screen (first paint, and the page ready with its grid), and for KEYS
# labelling key presses the time from the key to the label on disk (the server answers once the
# history is synced and the sheet replaced) and to the next photo drawn: median and worst.
#
#   bash bench/label.sh [PHOTOS] [KEYS] [LOADS]     (defaults: 3665 photos, 200 keys, 5 page loads)
set -euo pipefail
cd "$(dirname "$0")/.."
photos=${1:-3665} keys=${2:-200} loads=${3:-5}
python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium
scripts/build >/dev/null
facet=$(pwd)/.build/release/facet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$facet" synth "$tmp/dump" --count "$photos" --size 256 >/dev/null 2>&1
"$facet" ingest "$tmp/dump" -o "$tmp/ws" >/dev/null 2>&1
"$facet" tag "$tmp/ws" >/dev/null
echo "workspace: $(wc -l < "$tmp/ws/manifest.jsonl") photos; machine: $(nproc) cores; $(chromium --version 2>/dev/null)"
python3 - "$facet" "$tmp" "$keys" "$loads" <<'PY'
import re, statistics, subprocess, sys, time
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
facet, tmp, keys, loads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = time.time()
server = subprocess.Popen([facet, "label", tmp + "/ws", "--serve", "--labels", tmp + "/labels.csv"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
url = next(m.group(1) for line in server.stdout for m in [re.search(r"open (http://\S+)", line)] if m)
print(f"server up, thumbnails made: {time.time() - t0:.1f} s")
opts = Options()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-dev-shm-usage"]:
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    d.get(url)
    paints, readies = [], []
    for i in range(loads):
        if i:
            d.get(url.split("?")[0])
        WebDriverWait(d, 30).until(lambda d: d.execute_script("return window.facetReadyAt"))
        fcp = d.execute_script("const e = performance.getEntriesByName('first-contentful-paint'); return e.length ? e[0].startTime : null")
        paints.append(fcp)
        readies.append(d.execute_script("return window.facetReadyAt"))
    print(f"first screen over {loads} loads: first paint median {statistics.median(paints):.0f} ms (worst {max(paints):.0f}); "
          f"page ready with its grid median {statistics.median(readies):.0f} ms (worst {max(readies):.0f})")
    Select(d.find_element(By.ID, "filter")).select_by_value("all")
    for k in range(keys):
        before = d.execute_script("return window.facetTimings.length")
        ActionChains(d).send_keys(str(1 + k % 3)).perform()
        WebDriverWait(d, 10).until(lambda d: d.execute_script("return window.facetTimings.length") > before)
    t = d.execute_script("return window.facetTimings")
    saved = sorted(x["saved"] for x in t)
    shown = sorted(x["shown"] for x in t)
    print(f"{len(t)} key presses: key to label on disk median {statistics.median(saved):.1f} ms, worst {saved[-1]:.1f} ms; "
          f"key to the next photo drawn median {statistics.median(shown):.1f} ms, worst {shown[-1]:.1f} ms")
    rows = sum(1 for _ in open(tmp + "/labels.csv")) - 1
    print(f"labels on disk: {rows} rows")
finally:
    d.quit()
    server.terminate()
PY
