#!/usr/bin/env bash
# Installs the Debian packages fitreel needs (sudo only when not root).
#   scripts/deps.sh          what building and running the fitreel executable need
#   scripts/deps.sh --test   plus what the tests need (GoogleTest, ffprobe, Chromium, Xvfb,
#                            clang-format 19 (the pinned formatter), strace, python3 to drive Chromium's DevTools pipe,
#                            python3-torch for parity with this platform's Python PyTorch)
#   scripts/deps.sh --bench  plus the Python reference (python3-torch, matplotlib)
set -euo pipefail

packages=(
  cmake g++ make pkg-config ccache
  libtorch-dev libopencv-dev libspdlog-dev libcli11-dev nlohmann-json3-dev
  libavcodec-dev libavformat-dev libswscale-dev libavutil-dev libzip-dev libxcb1-dev
  libopencv-contrib-dev fonts-dejavu-core
)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(libgtest-dev ffmpeg chromium xvfb xauth clang-format-19 strace python3 python3-torch) ;;
    --bench) packages+=(ffmpeg python3-torch python3-matplotlib) ;;
    *) echo "deps.sh: unknown option $arg (use --test or --bench)" >&2; exit 2 ;;
  esac
done

# Debian 13's CUDA LibTorch (libtorch-cuda-dev, contrib) replaces libtorch-dev and the CPU
# python3-torch: keep it, and leave the Python parity tests to a CPU machine.
if dpkg-query -W -f='${Status}' libtorch-cuda-dev 2>/dev/null | grep -q "install ok installed"; then
  kept=()
  for p in "${packages[@]}"; do
    case "$p" in
      libtorch-dev) kept+=(libtorch-cuda-dev) ;;
      python3-torch) ;;
      *) kept+=("$p") ;;
    esac
  done
  packages=("${kept[@]}")
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
