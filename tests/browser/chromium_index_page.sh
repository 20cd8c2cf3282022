#!/usr/bin/env bash
# A headless Chromium loads the DIR/index.html fitreel writes, from file://, through the DevTools
# protocol on a pipe (--remote-debugging-pipe: no port, no network): the test passes when the
# page logs no console error, loads every image, plays every <video> (the MP4s and the sweep's
# WebM) past 0.5 s with the 2 s duration and the 640x360 size fitreel was asked for, and a
# full-page screenshot (kept in the test's temp folder) is a sizeable PNG. The page's clock is
# real time: headless Chromium's virtual time (--virtual-time-budget) stops after the metadata
# on a loaded host, so playback is polled, not simulated.
#   chromium_index_page.sh FITREEL_EXE
# FITREEL_KEEP_SCREENSHOT=FILE also copies the screenshot to FILE, to look at.
set -euo pipefail
fitreel=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/out"
"$fitreel" all --epochs 300 --frames 60 --fps 30 --size 640x360 -q --out "$out"
"$fitreel" sweep net --lrs 0.1,1 --epochs 300 --frames 60 --fps 30 --size 640x360 --video webm \
  -q --out "$out"
test -f "$out/index.html"
${FITREEL_BREAK_PAGE:+rm "$out/net/after.png"}  # (a self-check: the test must then fail)
browser=$(command -v chromium || command -v chromium-browser)
status=0
timeout 150 python3 - "$browser" "$work" "file://$out/index.html" "$work/index.png" <<'PY' || status=$?
import base64, json, os, struct, subprocess, sys, time

browser, work, url, shot = sys.argv[1:5]
# Chromium reads commands from fd 3 and answers on fd 4, each message ending in a NUL byte.
to_browser_r, to_browser_w = os.pipe()
from_browser_r, from_browser_w = os.pipe()
def give_pipes():
    os.dup2(to_browser_r, 3)
    os.dup2(from_browser_w, 4)
chrome = subprocess.Popen(
    [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--user-data-dir=" + work + "/profile", "--autoplay-policy=no-user-gesture-required",
     "--window-size=1400,900", "--remote-debugging-pipe", "about:blank"],
    pass_fds=(3, 4), preexec_fn=give_pipes, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_browser_r); os.close(from_browser_w)

pending, events, next_id = b"", [], [0]
def receive():
    global pending
    while b"\0" not in pending:
        chunk = os.read(from_browser_r, 1 << 16)
        if not chunk:
            sys.exit("chromium closed the pipe")
        pending += chunk
    message, pending = pending.split(b"\0", 1)
    return json.loads(message)

def send(method, params=None, session=None):
    next_id[0] += 1
    message = {"id": next_id[0], "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_browser_w, json.dumps(message).encode() + b"\0")
    while True:
        answer = receive()
        if answer.get("id") == next_id[0]:
            if "error" in answer:
                sys.exit(f"{method}: {answer['error']}")
            return answer["result"]
        events.append(answer)

targets = send("Target.getTargets")["targetInfos"]
page = next(t["targetId"] for t in targets if t["type"] == "page")
session = send("Target.attachToTarget", {"targetId": page, "flatten": True})["sessionId"]
for domain in ("Runtime", "Log", "Page"):
    send(domain + ".enable", session=session)
send("Page.navigate", {"url": url}, session)

probe = """JSON.stringify({
  ready: document.readyState,
  videos: [...document.querySelectorAll('video')].map(v => ({src: v.currentSrc, t: v.currentTime,
                                                             duration: v.duration,
                                                             size: v.videoWidth + 'x' + v.videoHeight,
                                                             error: v.error && v.error.code})),
  images: [...document.querySelectorAll('img')].map(i => ({src: i.currentSrc,
                                                           ok: i.complete && i.naturalWidth > 0}))
})"""
deadline, state = time.time() + 60, None
while time.time() < deadline:
    state = json.loads(send("Runtime.evaluate", {"expression": probe, "returnByValue": True},
                            session)["result"]["value"])
    if (state["ready"] == "complete" and state["videos"] and
            all(v["t"] > 0.5 for v in state["videos"]) and all(i["ok"] for i in state["images"])):
        break
    time.sleep(0.5)
print(json.dumps(state, indent=1))

errors = []
for event in events:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        errors.append(params["exceptionDetails"].get("text"))
    elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        errors.append(json.dumps(params.get("args")))
    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
        errors.append(params["entry"].get("text") + " " + params["entry"].get("url", ""))

size = send("Page.getLayoutMetrics", session=session)["cssContentSize"]
picture = send("Page.captureScreenshot", {
    "format": "png", "captureBeyondViewport": True,
    "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}},
    session)["data"]
with open(shot, "wb") as f:
    f.write(base64.b64decode(picture))
try:
    send("Browser.close")
except SystemExit:
    pass
chrome.wait(timeout=30)

with open(shot, "rb") as f:
    png = f.read()
width, height = struct.unpack(">II", png[16:24])
print(f"screenshot {shot}: {width}x{height}, {len(png)} bytes")
failures = [f"console error: {e}" for e in errors]
if len(state["videos"]) != 3:
    failures.append(f"expected 3 videos (line, net, sweep-net), found {len(state['videos'])}")
failures += [f"video stuck at {v['t']}: {v['src']} (error {v['error']})"
             for v in state["videos"] if v["t"] <= 0.5]
failures += [f"video is {v['duration']} s, {v['size']}, not 2 s, 640x360: {v['src']}"
             for v in state["videos"] if v["duration"] != 2 or v["size"] != "640x360"]
if not any(v["src"].endswith(".mp4") for v in state["videos"]):
    failures.append("no MP4 among the page's videos")
failures += [f"image not shown: {i['src']}" for i in state["images"] if not i["ok"]]
if width < 800 or height < 2000 or len(png) < 100_000:
    failures.append("the full-page screenshot is too small to show the page")
for failure in failures:
    print(failure, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
if [ -n "${FITREEL_KEEP_SCREENSHOT:-}" ] && [ -f "$work/index.png" ]; then
  cp "$work/index.png" "$FITREEL_KEEP_SCREENSHOT"
fi
exit $status
