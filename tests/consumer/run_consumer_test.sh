#!/usr/bin/env bash
# Installs fitreel from a build tree into a temporary prefix, then builds and runs the
# consumer projects against that prefix alone, with -Wall -Wextra -Wpedantic -Werror on
# fitreel's headers:
#   1. the README's program ("Use fitreel from your project", its first ```cpp block, extracted
#      here so README and test cannot drift apart): a module of its own, trained and filmed;
#      it must write cubic.mp4, cubic.png and cubic.loss.csv;
#   2. a C++17 program filling options member by member, training and drawing a frame;
#   3. core only, with OpenCV made unfindable, checking no OpenCV header path reaches it.
#   run_consumer_test.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
readme="$here/../../README.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/fitreel"
"$work/prefix/bin/fitreel" --version

cp -r "$here" "$work/src"
awk '/^## Use fitreel from your project/ { section = 1 }
     section && !inside && /^```cpp$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$readme" >"$work/src/readme_program.cpp"
if ! grep -q 'int main' "$work/src/readme_program.cpp"; then
  echo "README.md: no complete program in the first cpp block of 'Use fitreel from your project'" >&2
  exit 1
fi

cmake -S "$work/src" -B "$work/full" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/full" -j 2 >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
"$work/full/train_and_draw" "$work/frame.png"
test -s "$work/frame.png"

mkdir "$work/run"
(cd "$work/run" && "$work/full/readme_program")
for file in cubic.mp4 cubic.png cubic.loss.csv; do
  test -s "$work/run/$file" || { echo "the README's program wrote no $file" >&2; exit 1; }
done
# The three files are what they claim: a playable MP4 box, a PNG, a loss per epoch.
head -c 12 "$work/run/cubic.mp4" | grep -q ftyp || { echo "cubic.mp4 is not an MP4" >&2; exit 1; }
head -c 8 "$work/run/cubic.png" | grep -q PNG || { echo "cubic.png is not a PNG" >&2; exit 1; }
rows=$(($(wc -l <"$work/run/cubic.loss.csv") - 1))
head -1 "$work/run/cubic.loss.csv" | grep -qx 'epoch,loss'
if [ "$rows" -lt 100 ]; then
  echo "cubic.loss.csv has $rows rows" >&2
  exit 1
fi
if command -v ffprobe >/dev/null; then
  frames=$(ffprobe -v error -count_frames -select_streams v:0 \
    -show_entries stream=nb_read_frames -of csv=p=0 "$work/run/cubic.mp4")
  test "$frames" -ge 2 || { echo "cubic.mp4 decodes to $frames frames" >&2; exit 1; }
fi
echo "README program: $(grep -c '' "$work/src/readme_program.cpp") lines; wrote cubic.mp4, cubic.png, cubic.loss.csv ($rows epochs)"

cmake -S "$work/src" -B "$work/core" -DCONSUMER_CORE_ONLY=ON -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_OpenCV=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
if grep -q opencv "$work/core/compile_commands.json"; then
  echo "OpenCV's headers are on the core-only consumer's include path" >&2
  exit 1
fi
cmake --build "$work/core" -j 2 >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
(cd "$work" && "$work/core/core_only")  # writes a checkpoint there
echo "consumer test: the projects built against the installed package and ran"
