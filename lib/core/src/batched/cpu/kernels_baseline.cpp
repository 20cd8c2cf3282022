// The fused CPU kernels for any CPU this build targets (x86-64: SSE2).
#define FITREEL_CPU_VARIANT cpu_baseline
#include "batched/cpu/kernels.inc"
