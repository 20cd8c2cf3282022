#!/usr/bin/env bash
# Remakes the README's stills in docs/images/ from the release build: the line demo after training
# at 960x540 and at 640x360, and the net demo after training at 1280x720 (the default size).
# Seed 0 as always, so they change only when the drawing does. Run it after changing the look.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release >/dev/null
fitreel=build/release/app/fitreel
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
still() {  # still DEMO WxH NAME: DEMO's after.png at WxH, as docs/images/NAME
  "$fitreel" "$1" -q --video none --size "$2" --out "$work/$2"
  cp "$work/$2/$1/after.png" "docs/images/$3"
  echo "docs/images/$3"
}
still line 960x540 line-after.png
still line 640x360 line-after-640x360.png
still net 1280x720 net-after.png
