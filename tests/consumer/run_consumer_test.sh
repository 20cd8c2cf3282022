#!/usr/bin/env bash
# Installs fitreel from a build tree into a temporary prefix, then builds and runs the
# consumer projects against that prefix alone:
#   1. core + render, as the README shows, training and drawing a frame;
#   2. core only, with OpenCV made unfindable, checking no OpenCV header path reaches it.
#   run_consumer_test.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/fitreel"
"$work/prefix/bin/fitreel" --version

cmake -S "$here" -B "$work/full" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/full" -j 2 >/dev/null
"$work/full/train_and_draw" "$work/frame.png"
test -s "$work/frame.png"
(cd "$work" && "$work/full/readme_example")
test -s "$work/sin.mp4"

cmake -S "$here" -B "$work/core" -DCONSUMER_CORE_ONLY=ON -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_OpenCV=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
if grep -q opencv "$work/core/compile_commands.json"; then
  echo "OpenCV's headers are on the core-only consumer's include path" >&2
  exit 1
fi
cmake --build "$work/core" -j 2 >/dev/null
(cd "$work" && "$work/core/core_only")  # writes a checkpoint there
echo "consumer test: both projects built against the installed package and ran"
