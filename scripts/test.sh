#!/usr/bin/env bash
# Installs what the build and the tests need, builds (Release, with tests) and runs them.
#   scripts/test.sh            the suite
#   scripts/test.sh --asan     the suite again under AddressSanitizer + UBSan (preset asan)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
bash scripts/check-format.sh
presets=(release)
[ "${1:-}" = "--asan" ] && presets+=(asan)
for preset in "${presets[@]}"; do
  bash scripts/build.sh "$preset"
  ctest --preset "$preset" --output-on-failure
done
