#!/usr/bin/env bash
# Builds all of fitreel (libraries, executable, tests, bench) against Debian 13's CUDA LibTorch
# (libtorch-cuda-dev 2.6 from contrib, nvidia-cuda-toolkit 12.4 from non-free), on a machine
# with no GPU: it proves that every CUDA code path compiles with the real CUDA headers and that
# every fitreel symbol resolves, linked against libtorch_cuda. It cannot run them: that needs a
# GPU, and cuDNN, which libtorch_cuda loads at start-up (scripts/device-check.sh runs the CUDA
# tests where there is a GPU). Run as root on Debian 13 with contrib and non-free enabled.
#
# cuDNN: Debian's nvidia-cudnn package downloads cuDNN from NVIDIA's site when it is installed,
# which fails without that network. libtorch-cuda-2.6 depends on it, so this script first
# installs a placeholder package of the same name (made here with dpkg-deb) that satisfies the
# dependency and holds no files; libcudnn.so.9 is then left unresolved in libtorch_cuda.so at
# link time (-Wl,--allow-shlib-undefined), as it would be resolved on the GPU machine.
#
#   scripts/cuda-build.sh          install the packages (once), configure build/cuda, build all
# Prints a summary at the end (also what scripts/cuda-build-check.sh records).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SECONDS=0
[ "$(id -u)" -eq 0 ] || { echo "cuda-build.sh: run as root (it installs Debian packages)" >&2; exit 2; }

if ! dpkg-query -W -f='${Status}' nvidia-cudnn 2>/dev/null | grep -q "install ok installed"; then
  work=$(mktemp -d)
  mkdir -p "$work/nvidia-cudnn/DEBIAN"
  cat >"$work/nvidia-cudnn/DEBIAN/control" <<'CONTROL'
Package: nvidia-cudnn
Version: 9.0.0.312~cuda12+fitreel.placeholder
Architecture: all
Maintainer: fitreel <fitreel@localhost>
Provides: libcudnn.so, libcudnn.so.9, libcudnn-dev
Description: placeholder for cuDNN (satisfies libtorch-cuda's dependency, holds no files)
 Debian's nvidia-cudnn downloads cuDNN from NVIDIA when installed; this placeholder lets
 libtorch-cuda-dev install without that download. Install the real cuDNN where a GPU runs it.
CONTROL
  dpkg-deb --build --root-owner-group "$work/nvidia-cudnn" "$work/nvidia-cudnn.deb" >/dev/null
  dpkg -i "$work/nvidia-cudnn.deb" >/dev/null
  apt-mark hold nvidia-cudnn >/dev/null
  rm -rf "$work"
fi
packages=(libtorch-cuda-dev nvidia-cuda-toolkit g++-13)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cuda-build: installing ${missing[*]} (about 3.3 GB to download)"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash scripts/deps.sh --test  # the rest (OpenCV, FFmpeg, GoogleTest, ...); deps.sh keeps libtorch-cuda
echo "cuda-build: packages ready after ${SECONDS}s"

# nvcc 12.4 takes host compilers up to GCC 13; Debian 13's default is 14.
mkdir -p build/cuda
cmake --preset release -B build/cuda -DFITREEL_PYTHON_PARITY=OFF \
  -DCMAKE_CUDA_HOST_COMPILER=/usr/bin/g++-13 \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--allow-shlib-undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--allow-shlib-undefined" >build/cuda/configure.log 2>&1
grep -E "fitreel|CUDA" build/cuda/configure.log || true
cmake --build build/cuda -j "$(nproc)" 2>&1 | tee build/cuda/build.log | grep -E "warning|error|Linking" || true
echo "cuda-build: built after ${SECONDS}s"

# What the build proves.
cuda_objects=$(grep -c "FITREEL_WITH_CUDA=1" build/cuda/compile_commands.json || true)
echo "== summary"
echo "configure: $(grep -o 'fitreel: LibTorch .*' build/cuda/configure.log | head -1)"
echo "compilers: $(g++ --version | head -1); $(nvcc --version | tail -1)"
echo "warnings in the build: $(grep -c 'warning:' build/cuda/build.log || true)"
grep -E "^CMAKE_CUDA_COMPILER:|^FITREEL_TORCH_HAS_CUDA" build/cuda/CMakeCache.txt || true
echo "sources compiled with FITREEL_WITH_CUDA=1 (the CUDA code paths): $cuda_objects"
for exe in build/cuda/app/fitreel build/cuda/tests/fitreel_core_tests build/cuda/app/bench/fitreel-bench; do
  linked=$(readelf -d "$exe" | grep -oE "libtorch_cuda[^]]*|libc10_cuda[^]]*" | sort -u | tr '\n' ' ')
  echo "$exe: NEEDED $linked"
done
undefined=$(nm -C --undefined-only build/cuda/app/fitreel build/cuda/tests/fitreel_core_tests | grep -c "fitreel::" || true)
echo "undefined fitreel symbols in the executables: $undefined"
echo "unresolved at link time (needed only at run time on a GPU): $(grep -oE "libcudnn[^ ,']*" build/cuda/build.log | sort -u | tr '\n' ' ')"
echo "cuda-build: done in ${SECONDS}s"
[ "$undefined" -eq 0 ] && [ "$cuda_objects" -gt 0 ]
