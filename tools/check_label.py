"""Drives `facet label --serve` in a real browser (Debian's chromium through chromium-driver and
Selenium) as a person would, and checks the files it writes: scripts/check-label runs it in CI.

    python3 tools/check_label.py FACET WORKSPACE OUT [EVALUATED_WORKSPACE] [PIPELINE]

WORKSPACE: an ingested, tagged workspace with no labels sheet yet (OUT/labels.csv is written).
EVALUATED_WORKSPACE (the demo's, after `facet demo`): its review view must list the test photos
whose label the model disputes, most disputed first; a confirmation and a correction each take
one off the list.
Labels photos by keys, undoes and redoes, discards, filters, reloads, opens a second tab whose
stale save must be refused, kills the server with SIGKILL and starts it again, and checks the
security rules (no token, another Host, a path out of the workspace). Screenshots in OUT.
"""
import csv
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

facet, workspace, out = sys.argv[1:4]
evaluated = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
pipeline = sys.argv[5] if len(sys.argv) > 5 else None
os.makedirs(out, exist_ok=True)
sheet = os.path.join(out, "labels.csv")
history = os.path.join(out, "labels.history.jsonl")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def start(ws=None, labels=None):
    log = open(os.path.join(out, "serve.log"), "a")
    p = subprocess.Popen([facet, "label", ws or workspace, "--serve", "--port", "0"] + (["--labels", labels or sheet] if labels != "" else []),
                         stdout=subprocess.PIPE, stderr=log, text=True)
    for line in p.stdout:
        m = re.search(r"open (http://\S+)", line)
        if m:
            return p, m.group(1)
    raise SystemExit("facet label --serve printed no URL")


def sheet_rows():
    if not os.path.exists(sheet):
        return {}
    with open(sheet, newline="") as f:
        return {r["file"]: r["label"] for r in csv.DictReader(f)}


def request(url, path, headers=None, method="GET", body=None):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.read()


server, url = start()
port = urllib.parse.urlparse(url).port
token = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["token"][0]

opts = Options()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--disable-dev-shm-usage"]:
    opts.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
wait = WebDriverWait(driver, 15)


def ready():
    wait.until(lambda d: d.find_element(By.ID, "msg").text.startswith("ready"))


def press(*keys, after=None, shift=False):
    before = driver.find_element(By.ID, "hist").text
    chain = ActionChains(driver)
    if shift:
        chain = chain.key_down(Keys.SHIFT).send_keys(*keys).key_up(Keys.SHIFT)
    else:
        chain = chain.send_keys(*keys)
    chain.perform()
    # Each key's change is answered before the next is pressed (a person is slower still).
    wait.until(lambda d: d.find_element(By.ID, "hist").text != before or after is None)


def progress():
    return driver.find_element(By.ID, "progress").text


try:
    driver.get(url)
    ready()
    total = int(re.search(r"/ (\d+)", progress()).group(1))
    check(driver.current_url.endswith("/") and "token" not in driver.current_url, "the token leaves the address bar once the page is open")
    driver.save_screenshot(os.path.join(out, "label-start.png"))

    # Label 30 photos by keys, 1, 2, 3 in turn, showing the unlabelled ones: the view moves on by itself.
    Select(driver.find_element(By.ID, "filter")).select_by_value("unlabelled")
    labelled = {}
    for i in range(30):
        name = driver.find_element(By.CSS_SELECTOR, "#view .name").text
        press(str(1 + i % 3), after=True)
        labelled[name] = ["happy", "normal", "sad"][i % 3]
    rows = sheet_rows()
    check(all(rows.get(n) == l for n, l in labelled.items()), f"30 photos labelled by keys are in the sheet ({len(rows)} rows: near duplicates share a label)")
    n30 = len(rows)

    # Undo three, redo two: the sheet follows every step.
    for _ in range(3):
        press("z", after=True)
    last3 = list(labelled)[-3:]
    rows = sheet_rows()
    check(all(n not in rows for n in last3), "three undos take the last three labels off the sheet")
    for _ in range(2):
        press("Z", after=True, shift=True)
    rows = sheet_rows()
    check(rows.get(last3[0]) == labelled[last3[0]] and rows.get(last3[1]) == labelled[last3[1]] and last3[2] not in rows,
          "two redos put two back, in order")
    check("undo 29" in driver.find_element(By.ID, "hist").text and "redo 1" in driver.find_element(By.ID, "hist").text,
          "the page counts what can be undone and redone: " + driver.find_element(By.ID, "hist").text)

    # Discard the photo on view.
    name = driver.find_element(By.CSS_SELECTOR, "#view .name").text
    press("x", after=True)
    check(sheet_rows().get(name) == "discard", f"x discards {name}")

    # Override a condition by its key, undo it, set it again; toggling back to the measured value clears it.
    conditions = os.path.join(out, "conditions.csv")

    def overrides():
        if not os.path.exists(conditions):
            return {}
        with open(conditions, newline="") as f:
            return {r["file"]: r for r in csv.DictReader(f)}

    name = driver.find_element(By.CSS_SELECTOR, "#view .name").text
    measured = driver.find_element(By.CSS_SELECTOR, "button.tag[data-field=lighting] b").text
    other = {"dim": "bright", "bright": "dim"}[measured]
    press("l", after=True)
    check(overrides().get(name, {}).get("lighting") == other, f"l sets {name}'s lighting to {other} in conditions.csv")
    check(driver.find_element(By.CSS_SELECTOR, "button.tag[data-field=lighting] b").text == other
          and "you" in driver.find_element(By.CSS_SELECTOR, "button.tag[data-field=lighting]").get_attribute("class"),
          "the page shows the override as set here")
    press("z", after=True)
    check(overrides().get(name, {}).get("lighting", "") == "", "undo takes the override back")
    press("Z", after=True, shift=True)
    driver.find_element(By.CSS_SELECTOR, "button.tag[data-field=background]").click()
    wait.until(lambda d: overrides().get(name, {}).get("background", "") != "")
    row = overrides().get(name, {})
    check(row.get("lighting") == other and row.get("background") in ("plain", "cluttered"), f"redo, and a click on background: {row}")
    tagged = subprocess.run([facet, "tag", workspace, "--overrides", conditions], capture_output=True, text=True)
    with open(os.path.join(workspace, "manifest.jsonl")) as f:
        rec = next(json.loads(l) for l in f if json.loads(l)["source"] == name)
    check(tagged.returncode == 0 and rec["conditions"]["lighting"]["value"] == other and rec["conditions"]["source"] == "sheet",
          f"facet tag --overrides takes the app's conditions sheet: {rec['conditions']['lighting']}")
    press("l", after=True)
    check(overrides().get(name, {}).get("lighting", "") == "", "changing it back to the measured value clears the override")

    # Filter: unlabelled photos only.
    Select(driver.find_element(By.ID, "filter")).select_by_value("unlabelled")
    cells = driver.find_elements(By.CSS_SELECTOR, "#grid .cell")
    unlabelled = total - len(sheet_rows())
    check(len(cells) == unlabelled, f"the unlabelled filter shows the {unlabelled} photos without a label ({len(cells)})")
    Select(driver.find_element(By.ID, "filter")).select_by_value("label:happy")
    cells = driver.find_elements(By.CSS_SELECTOR, "#grid .cell")
    check(len(cells) == sum(1 for v in sheet_rows().values() if v == "happy"), "the class filter shows that class's photos")
    driver.save_screenshot(os.path.join(out, "label-filtered.png"))

    # Reload: everything kept.
    before = progress()
    driver.get(f"http://127.0.0.1:{port}/")
    ready()
    check(progress() == before, f"after a reload the page shows the same progress: {progress()}")

    # A second tab saw a photo before the first tab changed it: its save is refused, with a message.
    Select(driver.find_element(By.ID, "filter")).select_by_value("unlabelled")
    first = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(f"http://127.0.0.1:{port}/")
    ready()
    Select(driver.find_element(By.ID, "filter")).select_by_value("unlabelled")
    second = driver.current_window_handle
    target = driver.find_element(By.CSS_SELECTOR, "#view .name").text
    driver.switch_to.window(first)
    check(driver.find_element(By.CSS_SELECTOR, "#view .name").text == target, "both tabs show the same unlabelled photo")
    press("1", after=True)
    driver.switch_to.window(second)
    ActionChains(driver).send_keys("3").perform()
    wait.until(lambda d: d.find_element(By.ID, "msg").get_attribute("class") == "err")
    check("changed since this page showed it" in driver.find_element(By.ID, "msg").text and sheet_rows().get(target) == "happy",
          "the stale tab's save is refused: " + driver.find_element(By.ID, "msg").text)
    driver.close()
    driver.switch_to.window(first)
    labelled_before_kill = sheet_rows()

    # SIGKILL, then start again: every action is there, and undo still reaches back.
    server.send_signal(signal.SIGKILL)
    server.wait()
    server, url = start()
    port = urllib.parse.urlparse(url).port
    token = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)["token"][0]
    driver.get(url)
    ready()
    check(sheet_rows() == labelled_before_kill, "after SIGKILL and a restart the sheet holds every action")
    check(progress().startswith(f"labelled {len(labelled_before_kill)} / {total} "), "the restarted app shows them: " + progress())
    press("z", after=True)
    check(target not in sheet_rows(), "undo after the restart takes back the last action before the kill")
    press("Z", after=True, shift=True)
    check(sheet_rows() == labelled_before_kill, "and redo puts it back")
    with open(history) as f:
        kinds = [json.loads(l)["kind"] for l in f]
    check(kinds.count("undo") == 5 and kinds.count("redo") == 4, f"the history holds every action, undo and redo ({len(kinds)} lines)")
    driver.save_screenshot(os.path.join(out, "label-after-restart.png"))

    # Safe by default.
    status, _ = request(url, "/api/state")
    check(status == 403, f"a request without the token is refused ({status})")
    status, _ = request(url, f"/api/state?token={token}", headers={"Host": f"evil.example:{port}"})
    check(status == 403, f"a request naming another Host is refused ({status})")
    status, _ = request(url, f"/api/state?token={token}")
    check(status == 200, "with the token it is served")
    for path in ["/photo/..%2F..%2F..%2Fetc%2Fpasswd", "/../../etc/passwd", "/thumb/" + "0" * 64, "/photo/%2Fetc%2Fpasswd"]:
        status, body = request(url, path + ("&" if "?" in path else "?") + f"token={token}")
        check(status == 404 and b"root:" not in body, f"{path}: refused ({status})")
    status, _ = request(url, f"/api/undo?token={token}", method="POST")
    check(status == 403, f"a change without the X-Facet-Token header is refused ({status})")
    status, _ = request(url, f"/api/undo?token={token}", method="GET")
    check(status in (404, 405), f"a change by GET is refused ({status})")
    if evaluated:
        # The review after the demo: the test photos the model disputes, most disputed first.
        server.send_signal(signal.SIGTERM)
        server.wait()
        review_sheet = os.path.join(out, "review", "labels.csv")
        os.makedirs(os.path.dirname(review_sheet), exist_ok=True)
        server, url = start(evaluated, review_sheet)
        driver.get(url)
        ready()
        with open(os.path.join(evaluated, "evaluation", "metrics.jsonl")) as f:
            evals = [json.loads(l) for l in f]
        best = max((e for e in evals if e.get("predictions")), key=lambda e: e["report"]["accuracy"])
        with open(os.path.join(evaluated, "dataset", "manifest.jsonl")) as f:
            byfile = {d["file"]: d for d in (json.loads(l) for l in f)}
        classes = ["happy", "normal", "sad"]
        disputed = []
        for pr in best["predictions"]:
            d = byfile[pr["file"]]
            k = classes.index(d["label"])
            if max(range(3), key=lambda i: pr["p"][i]) != k:
                disputed.append((-__import__("math").log(max(pr["p"][k], 1e-6)), d["source"]))
        disputed.sort(reverse=True)
        Select(driver.find_element(By.ID, "filter")).select_by_value("review")
        cells = driver.find_elements(By.CSS_SELECTOR, "#grid .cell img")
        listed = [c.get_attribute("alt") for c in cells]
        check(len(disputed) > 0 and listed == [s for _, s in disputed],
              f"the review lists the {len(disputed)} test photos {best['name']} disputes, most disputed first")
        check("disputes" in driver.find_element(By.CSS_SELECTOR, "#view .review").text, "the view shows the model's probabilities")
        driver.save_screenshot(os.path.join(out, "label-review.png"))
        first = driver.find_element(By.CSS_SELECTOR, "#view .name").text
        press("c", after=True)
        with open(os.path.join(out, "review", "labels.confirmed.csv"), newline="") as f:
            confirmed = {r["file"]: r["confirmed"] for r in csv.DictReader(f)}
        check(first in confirmed and len(driver.find_elements(By.CSS_SELECTOR, "#grid .cell")) == len(disputed) - 1,
              "c confirms the label, and the photo leaves the review")
        second = driver.find_element(By.CSS_SELECTOR, "#view .name").text
        press("2", after=True)
        with open(review_sheet, newline="") as f:
            corrected = {r["file"]: r["label"] for r in csv.DictReader(f)}
        check(corrected.get(second) == "normal" and len(driver.find_elements(By.CSS_SELECTOR, "#grid .cell")) == len(disputed) - 2,
              "a number corrects the label, and the photo leaves the review")
        # A restart remembers the confirmation: the same photo is not asked about again.
        server.send_signal(signal.SIGKILL)
        server.wait()
        server, url = start(evaluated, review_sheet)
        driver.get(url)
        ready()
        Select(driver.find_element(By.ID, "filter")).select_by_value("review")
        listed = [c.get_attribute("alt") for c in driver.find_elements(By.CSS_SELECTOR, "#grid .cell img")]
        check(first not in listed and second not in listed and len(listed) == len(disputed) - 2, "after a restart neither is asked about again")
    if pipeline:
        # On a pipeline: labels by keys, then facet run reruns label and split, and nothing else.
        server.send_signal(signal.SIGTERM)
        server.wait()
        server, url = start(pipeline, "")
        driver.get(url)
        ready()
        pipeline_sheet = os.path.join(os.path.dirname(os.path.dirname(pipeline)), "Manifests", "check", "labels.csv")
        rows_before = sum(1 for _ in open(pipeline_sheet)) - 1
        Select(driver.find_element(By.ID, "filter")).select_by_value("unlabelled")
        for i in range(6):
            press(str(1 + i % 3), after=True)
        added = sum(1 for _ in open(pipeline_sheet)) - 1 - rows_before
        status = subprocess.run([facet, "status", pipeline], capture_output=True, text=True).stdout
        check(f"labels: {added} photos changed since the last run" in status and added >= 6,
              f"facet status says what the labels changed ({added} photos: six keys, near duplicates with them)")
        check(re.search(r"label\s+stale", status) is not None and re.search(r"tag\s+fresh", status) is not None,
              "facet status: label stale, tag fresh")
        ran = subprocess.run([facet, "run", pipeline], capture_output=True, text=True)
        check(ran.returncode == 0 and "ran label, split;" in ran.stdout, "facet run reruns label and split only: "
              + (ran.stdout.strip().splitlines() or ["(nothing)"])[-1])
finally:
    driver.quit()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()

print(f"{len(failures)} failed" if failures else "label app: every check passed")
sys.exit(1 if failures else 0)
