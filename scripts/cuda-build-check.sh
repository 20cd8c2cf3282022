#!/usr/bin/env bash
# Runs scripts/cuda-build.sh on a brand-new Debian 13 root with contrib and non-free (made by
# ../shared/tools/fresh-machine.sh, which keeps the downloaded packages in its apt cache between
# calls while the root itself starts new each time), and records the result in
# docs/cuda-build.md: the commit, the times, what compiled and what linked. Run it before every
# submission that touches CUDA code or the build files, and commit docs/cuda-build.md.
#   scripts/cuda-build-check.sh        (as root; ~3.3 GB of packages the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
tool=../shared/tools/fresh-machine.sh
[ -f "$tool" ] || { echo "cuda-build-check: needs $tool (shared/ beside the checkout)" >&2; exit 2; }
commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- lib app tests cmake CMakeLists.txt scripts)" ] ||
  echo "cuda-build-check: note: uncommitted changes are not in the build (it clones HEAD)" >&2
# fresh-machine.sh runs the first two scripts/ commands of a README: a throw-away clone whose
# README names scripts/cuda-build.sh.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/repo"
printf '```sh\nscripts/cuda-build.sh\nscripts/cuda-build.sh\n```\n' >"$work/repo/README.md"
git -C "$work/repo" -c user.name=fitreel -c user.email=fitreel@localhost commit -qam "cuda build"
export FRESH_SUITE=trixie FRESH_COMPONENTS="main contrib non-free"
apt_cache=${FRESH_APT_CACHE:-/var/tmp/fresh-trixie-main-contrib-non-free.apt}
cold=$([ -d "$apt_cache" ] && [ -n "$(ls "$apt_cache"/*.deb 2>/dev/null | head -1)" ] && echo warm || echo cold)
SECONDS=0
status=0
bash "$tool" run "$work/repo" || status=$?
seconds=$SECONDS
log=/var/tmp/fresh-trixie-main-contrib-non-free.run.log
{
  echo "# The CUDA build (scripts/cuda-build-check.sh)"
  echo
  echo "The last run of \`scripts/cuda-build.sh\` on a brand-new Debian 13 root with contrib and"
  echo "non-free, against Debian's CUDA LibTorch, without a GPU. It proves that the CUDA code"
  echo "paths compile with the real headers and that fitreel links against libtorch_cuda with every"
  echo "fitreel symbol resolved; it does not run them (that needs a GPU and cuDNN:"
  echo "\`scripts/device-check.sh\`)."
  echo
  echo "- commit: $commit ($(git log -1 --format=%cd --date=short))"
  echo "- result: $([ $status -eq 0 ] && echo passed || echo "FAILED (exit $status)")"
  echo "- time: ${seconds} s with a $cold package cache; package cache $(du -sh "$apt_cache" 2>/dev/null | cut -f1), root after the build $(du -sh /var/tmp/fresh-trixie-main-contrib-non-free.work 2>/dev/null | cut -f1)"
  echo
  echo '```'
  sed -n '/^== summary/,$p' "$log"
  echo '```'
} >docs/cuda-build.md
cat docs/cuda-build.md
exit $status
