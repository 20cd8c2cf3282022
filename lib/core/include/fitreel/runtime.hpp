#pragma once

// The process that trains: how many threads it runs, and how it keeps its memory. Process-wide
// settings, for a program's start-up (the CLI calls both before it trains).

namespace fitreel {

/// The CPUs this process may run on (taskset, cgroups and containers narrow it), at least 1.
int usable_cpus();

/// One thread count for fitreel and LibTorch: `threads` (> 0), or usable_cpus() for 0. Gives it
/// to LibTorch (torch::set_num_threads, whose own default may be lower: one per physical core)
/// and returns it. train_batched() with BatchedOptions::threads = 0 takes usable_cpus() too, so
/// after this call both count the same threads. Throws InputError for a negative count.
int set_threads(int threads);

/// Keeps the large blocks LibTorch frees every epoch for the next one, instead of glibc's
/// malloc handing them back to the kernel (unmapping them, or trimming the heap) and faulting
/// them in again: on 100000 points an epoch of the exact path spent over half its time in the
/// kernel that way, and whether it did changed with the heap's layout (the same run took 1.4 or
/// 3.6 s). The price: memory freed stays with the process (its peak, not more). Does nothing
/// where the C library is not glibc.
void keep_freed_memory();

}  // namespace fitreel
