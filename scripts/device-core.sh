#!/usr/bin/env bash
# Builds and tests what needs no OpenCV (fitreel::core, its tests, fitreel-bench) against
# another LibTorch, e.g. a CUDA LibTorch on a GPU machine that has CMake and a compiler but no
# OpenCV, spdlog, CLI11 or GoogleTest package.
#
#   scripts/device-core.sh --pack            here (Debian): copy GoogleTest's sources and
#                                            nlohmann-json into .device-deps/ (git-ignored),
#                                            to travel with the tree
#   scripts/device-core.sh TORCH_PREFIX      there: configure, build, run the core tests and
#                                            the benchmark (TORCH_PREFIX: LibTorch's CMake
#                                            prefix, e.g. python3 -c 'import torch;
#                                            print(torch.utils.cmake_prefix_path)')
set -euo pipefail
cd "$(dirname "$0")/.."
deps=$PWD/.device-deps

if [ "${1:-}" = "--pack" ]; then
  rm -rf "$deps"
  mkdir -p "$deps/include" "$deps/share/cmake"
  cp -r /usr/src/googletest "$deps/googletest"
  cp -r /usr/include/nlohmann "$deps/include/"
  cp -r /usr/share/cmake/nlohmann_json "$deps/share/cmake/"
  echo "packed $(du -sh "$deps" | cut -f1) into .device-deps/"
  exit 0
fi

torch_prefix=${1:?usage: scripts/device-core.sh --pack | TORCH_PREFIX}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B build/core "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DFITREEL_BUILD_RENDER=OFF -DFITREEL_BUILD_APP=OFF \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps" -DFITREEL_GTEST_SOURCE_DIR="$deps/googletest"
cmake --build build/core -j "$(nproc)"
(cd build/core && ctest --output-on-failure -j "$(nproc)")
build/core/app/bench/fitreel-bench --repeats 5
