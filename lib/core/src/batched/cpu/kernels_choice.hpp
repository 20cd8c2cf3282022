#pragma once

// Internal: which compiled variant of the fused kernels this process runs. Apart from epoch.hpp,
// which the kernels themselves include: they call no inline library function. Not installed.

#include <optional>
#include <string>

namespace fitreel::detail {

/// Which compiled variant of the kernels runs: the portable build, or AVX2 with FMA.
enum class CpuKernels { baseline, avx2 };

/// The variant FITREEL_CPU_KERNELS asks for (unset: the best this CPU runs; "baseline", to test
/// and compare the portable build; "avx2") given whether this build and CPU run AVX2+FMA, and
/// a warning when the value is not one of those or asks for what the CPU lacks.
struct CpuKernelsChoice {
  CpuKernels kernels = CpuKernels::baseline;
  std::string warning{};
};
CpuKernelsChoice choose_cpu_kernels(const char* requested, bool avx2_runs);

/// The variant this process runs: chosen once, on first use, as ATen's DispatchStub does (a
/// cached static), its warning given once through LibTorch's warning handler.
CpuKernels cpu_kernels();
/// Tests: run `kernels` from now on instead (nullopt: the choice above again).
void force_cpu_kernels(std::optional<CpuKernels> kernels);

}  // namespace fitreel::detail
