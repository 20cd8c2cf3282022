#!/usr/bin/env bash
# The GPU check: builds fitreel::core with its tests (the CUDA ones among them) and
# fitreel-bench against a CUDA LibTorch, on a machine that has CMake, a compiler and PyTorch but
# none of Debian's OpenCV, spdlog or GoogleTest packages and no network; runs the tests that need
# a device (CPU vs CUDA parity on the seed demos within the batch contract, CUDA-graph replay,
# the batched trainer on CUDA) and the rest of the core's tests (the parity goldens and the batch
# contract among them), then prints µs per epoch. Tests that need a device but find none are
# listed as not run, with the reason.
#
#   scripts/device-check.sh --pack          here (Debian): copy GoogleTest's sources and
#                                           nlohmann-json into .device-deps/ (git-ignored, a
#                                           few MB), to travel with the tree
#   scripts/device-check.sh [TORCH_PREFIX]  there: TORCH_PREFIX is LibTorch's CMake prefix;
#                                           default: the PyTorch wheel's,
#                                           python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'
# Also the check of building against another LibTorch through CMAKE_PREFIX_PATH: run it here
# with Debian's (scripts/device-check.sh /usr/lib/x86_64-linux-gnu/cmake/Torch).
set -euo pipefail
cd "$(dirname "$0")/.."
deps=$PWD/.device-deps
SECONDS=0

if [ "${1:-}" = "--pack" ]; then
  rm -rf "$deps"
  mkdir -p "$deps/include" "$deps/share/cmake"
  cp -r /usr/src/googletest "$deps/googletest"
  cp -r /usr/include/nlohmann "$deps/include/"
  cp -r /usr/share/cmake/nlohmann_json "$deps/share/cmake/"
  echo "packed $(du -sh "$deps" | cut -f1) into .device-deps/"
  exit 0
fi
[ -d "$deps/googletest" ] || { echo "device-check.sh: no .device-deps/; run scripts/device-check.sh --pack first (on a Debian machine)" >&2; exit 2; }

torch_prefix=${1:-}
python=$(command -v python3 || true)
if [ -z "$torch_prefix" ]; then
  [ -n "$python" ] || { echo "device-check.sh: give TORCH_PREFIX (no python3 to ask torch)" >&2; exit 2; }
  torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
fi
# A PyTorch wheel may be built with the old C++ ABI: everything (GoogleTest and fitreel::files
# too) must then be compiled with it, or std::string crosses libraries in two layouts.
abi_flags=
if [ -n "$python" ] && abi=$("$python" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))' 2>/dev/null); then
  if [ "$torch_prefix" = "$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)" ]; then
    abi_flags="-D_GLIBCXX_USE_CXX11_ABI=$abi"
  fi
fi
build=build/device
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
echo "== configure against $torch_prefix ${abi_flags:+($abi_flags)}"
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DFITREEL_BUILD_RENDER=OFF -DFITREEL_BUILD_APP=OFF -DFITREEL_USE_CCACHE=OFF \
  -DCMAKE_CXX_FLAGS="$abi_flags" \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$deps" -DFITREEL_GTEST_SOURCE_DIR="$deps/googletest" |
  grep -E "fitreel|Torch|CUDA" || true
echo "== build ($(nproc) cores), after ${SECONDS}s"
cmake --build "$build" -j "$(nproc)" --target fitreel_core_tests fitreel-bench
echo "== tests, after ${SECONDS}s"
status=0
(cd "$build" && ctest -j "$(nproc)" --output-on-failure 2>&1) |
  tee "$build/device-tests.log" || status=$?
# ctest lists tests that skipped themselves (no device) as not run; say which and why.
not_run=$(grep -E "\*\*\*Skipped|Not Run" "$build/device-tests.log" | sed -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: //; s/ \.+.*//' || true)
if [ -n "$not_run" ]; then
  echo "== not run (they need a CUDA device, and this machine or this LibTorch has none):"
  echo "$not_run" | sed 's/^/   /'
fi
echo "== µs per training epoch, after ${SECONDS}s"
"$build/app/bench/fitreel-bench" --repeats 3 --line-epochs 3000 --net-epochs 3000 \
  --batched-epochs 500 --batch-sizes 16,64
echo "device-check: done in ${SECONDS}s (tests: exit $status)"
exit "$status"
