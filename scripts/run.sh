#!/usr/bin/env bash
# Installs what building and running fitreel need (no test tools), builds the executable alone
# (preset `app`, in build/app: no tests, no bench) and runs `fitreel all`; the results land in
# fitreel-out/. Extra arguments go to fitreel, e.g. scripts/run.sh --epochs 500.
# A second call installs nothing and rebuilds nothing that has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh app
exec ./build/app/app/fitreel all "$@"
