#!/usr/bin/env bash
# Configures (the first time, or when options are given) and builds one CMake preset with both
# cores. Later builds re-run CMake by themselves when a CMakeLists.txt changes.
#   scripts/build.sh [preset] [extra cmake -D options...]     preset: app, release (default),
#                                                             dev, asan (CMakePresets.json)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true
# A configure that failed (a package missing) leaves a cache but no build files: configure again.
if [ $# -gt 0 ] || { [ ! -f "build/$preset/Makefile" ] && [ ! -f "build/$preset/build.ninja" ]; }; then
  cmake --preset "$preset" "$@" >/dev/null
fi
cmake --build --preset "$preset" -j "$(nproc)"
