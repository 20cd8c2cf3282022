// The fused CPU kernels with AVX2 and FMA (this file is compiled with -mavx2 -mfma; it runs
// only where the CPU reports both).
#define FITREEL_CPU_VARIANT cpu_avx2
#include "batched/cpu/kernels.inc"
