#!/usr/bin/env bash
# Installs what fitreel needs, builds it (Release) and runs `fitreel all`; the results land in
# fitreel-out/. Extra arguments go to fitreel, e.g. scripts/run.sh --epochs 500.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
exec ./build/release/app/fitreel all "$@"
