#!/usr/bin/env bash
# Fails when a C++ file differs from what clang-format (.clang-format) makes of it. One pinned
# formatter, clang-format 19, which both Debian 12 (bookworm) and 13 (trixie) ship: versions
# format differently (14 and 19 disagree on some lines), so the check must not follow the
# platform's default.
#   scripts/check-format.sh          check
#   scripts/check-format.sh --fix    reformat in place
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=clang-format-19
command -v "$formatter" >/dev/null || { echo "check-format: $formatter is missing (apt-get install $formatter, or scripts/deps.sh --test)" >&2; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find app lib tests -name '*.[ch]pp')
if [ "${1:-}" = "--fix" ]; then
  "$formatter" -i "${files[@]}"
  exit 0
fi
"$formatter" --dry-run --Werror "${files[@]}"
echo "check-format: ${#files[@]} files formatted as .clang-format says ($("$formatter" --version | grep -o 'version [0-9.]*'))"
