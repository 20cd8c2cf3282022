#!/usr/bin/env bash
# Installs what the build and the tests need, checks the format, builds and runs the suite.
#   scripts/test.sh            the suite, Release build (preset release)
#   scripts/test.sh asan       the suite under AddressSanitizer + UBSan (preset asan)
#   scripts/test.sh release asan   both, one after the other
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release)
for preset in "${presets[@]}"; do
  case "$preset" in
    release | asan | dev) ;;
    *) echo "test.sh: unknown preset $preset (use release, asan or dev)" >&2; exit 2 ;;
  esac
done
bash scripts/deps.sh --test
bash scripts/check-format.sh
for preset in "${presets[@]}"; do
  bash scripts/build.sh "$preset"
  ctest --preset "$preset" --output-on-failure
done
