// Threads and memory of the training process.
#include <fitreel/error.hpp>
#include <fitreel/runtime.hpp>

#include <torch/torch.h>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <string>
#include <thread>

namespace fitreel {

int usable_cpus() {
#if defined(__linux__)
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    return std::max(1, CPU_COUNT(&allowed));
  }
#endif
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int set_threads(int threads) {
  if (threads < 0) {
    throw InputError("a thread count of " + std::to_string(threads) +
                     " was asked for: give a count, or 0 for one per CPU");
  }
  const int count = threads > 0 ? threads : usable_cpus();
  torch::set_num_threads(count);
  return count;
}

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Blocks up to glibc's largest mmap threshold (32 MiB on 64-bit) come from the heap, and the
  // heap is trimmed only past 1 GiB free at its top. Each setting alone still left the
  // slow runs (measured); together they make every run of the same work take the same time.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
}

}  // namespace fitreel
