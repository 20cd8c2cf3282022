#!/usr/bin/env bash
# Adds up the tests that ran in the given logs and prints one closing line,
#   tests: P passed, F failed, S skipped
# from ctest's summaries ("100% tests passed, 0 tests failed out of 28", then "N - Name
# (Skipped)" for each entry that did not run) and GoogleTest's ("[  PASSED  ] N tests.",
# "[  FAILED  ] N tests, listed below:", "[  SKIPPED ] N tests, listed below:").
# Exits non-zero when a log holds no summary at all or a test failed.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: ci-tally.sh LOG..." >&2; exit 2; }
awk '
  FNR == 1 { if (NR > 1 && !summary) missing = missing " " previous; summary = 0; previous = FILENAME }
  match($0, /[0-9]+ tests failed out of [0-9]+/) {
    split(substr($0, RSTART, RLENGTH), words, " ")
    failed += words[1]; passed += words[6] - words[1]; summary = 1
  }
  /[0-9]+ - .* \(Skipped\)$/ { skipped++; passed-- }
  match($0, /\[  PASSED  \] [0-9]+ tests?\./) { split(substr($0, RSTART + 13), n, " "); passed += n[1]; summary = 1 }
  match($0, /\[  FAILED  \] [0-9]+ tests?/) { split(substr($0, RSTART + 13), n, " "); failed += n[1]; summary = 1 }
  match($0, /\[  SKIPPED \] [0-9]+ tests?/) { split(substr($0, RSTART + 13), n, " "); skipped += n[1] }
  END {
    if (!summary) missing = missing " " previous
    printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped
    if (missing != "") { print "ci-tally.sh: no test summary in" missing > "/dev/stderr"; exit 1 }
    exit failed > 0
  }' "$@"
