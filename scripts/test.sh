#!/usr/bin/env bash
# Installs what the build and the tests need, checks the format, builds and runs the suite.
#   scripts/test.sh            the suite, Release build (preset release)
#   scripts/test.sh asan       the suite under AddressSanitizer + UBSan (preset asan)
#   scripts/test.sh release asan   both, one after the other
#   scripts/test.sh tsan       the concurrency tests under ThreadSanitizer (preset tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(release)
for preset in "${presets[@]}"; do
  case "$preset" in
    release | asan | tsan | dev) ;;
    *) echo "test.sh: unknown preset $preset (use release, asan, tsan or dev)" >&2; exit 2 ;;
  esac
done
bash scripts/deps.sh --test
bash scripts/check-format.sh
for preset in "${presets[@]}"; do
  bash scripts/build.sh "$preset"
  ctest --preset "$preset" --output-on-failure
done
