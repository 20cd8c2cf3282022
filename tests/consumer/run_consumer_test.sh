#!/usr/bin/env bash
# Installs fitreel from a build tree into a temporary prefix, then builds and runs the
# consumer projects against that prefix alone, with -Wall -Wextra -Wpedantic -Werror on
# fitreel's headers:
#   1. the README's program ("Use fitreel from your project", its first ```cpp block, extracted
#      here so README and test cannot drift apart): a module of its own, trained and filmed;
#      it must write cubic.mp4, cubic.png and cubic.loss.csv;
#   2. the README's second program (its second ```cpp block): data from a CSV, a held-out
#      part, mini-batches, a schedule, a checkpoint resumed; then its checkpoint loaded by the
#      README's Python block (model.load_state_dict, optimizer.load_state_dict);
#   3. a C++17 program filling options member by member, training and drawing a frame;
#   4. core only, with OpenCV made unfindable, checking no OpenCV header path reaches it.
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
# readme_block LANGUAGE N: the N-th ```LANGUAGE block of the section "Use fitreel from your project".
readme_block() {
  awk -v lang="$1" -v want="$2" '/^## / { section = ($0 ~ /^## Use fitreel from your project/) }
       section && !inside && $0 == "```" lang { if (++seen == want) { inside = 1; next } }
       inside && /^```$/ { exit }
       inside { print }' "$readme"
}
readme_block cpp 1 >"$work/src/readme_program.cpp"
readme_block cpp 2 >"$work/src/readme_training.cpp"
readme_block python 1 >"$work/readme_python.py"
for program in readme_program readme_training; do
  if ! grep -q 'int main' "$work/src/$program.cpp"; then
    echo "README.md: no complete program in $program's block of 'Use fitreel from your project'" >&2
    exit 1
  fi
done

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

# The second program: own data, held-out part, mini-batches, a schedule, a resumed checkpoint;
# then its checkpoint in Python (Debian's python3-torch, which the test command installs).
mkdir "$work/training"
(cd "$work/training" && "$work/full/readme_training") | tee "$work/training.out"
grep -q "test MSE after 2000 epochs" "$work/training.out"
for file in wave.pt wave.mp4 wave.loss.csv; do
  test -s "$work/training/$file" || { echo "the README's second program wrote no $file" >&2; exit 1; }
done
(cd "$work/training" && /usr/bin/python3 "$work/readme_python.py") | tee "$work/python.out"
grep -q "^epoch 2000 " "$work/python.out"
echo "README's second program: resumed to 2000 epochs; Python loaded its checkpoint"

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
