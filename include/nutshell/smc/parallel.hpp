// A minimal deterministic parallel-for over particle ranges.
//
// smc sits below run/ and so cannot use run/pmap.hpp. Determinism comes from
// the callers, not from scheduling: every particle's randomness is keyed by
// its index (split/fold_in of the step key) and its result is written to its
// own slot, so the output is bitwise the same for any thread count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace nutshell::smc {

/// Calls `fn(worker, begin, end)` on `num_threads` contiguous blocks of
/// [0, n) (worker in [0, num_threads)), the first on the calling thread and
/// the rest on std::jthreads, and joins them. `num_threads` is clamped to
/// [1, n]; 1 runs everything inline. `fn` must not throw.
template <class Fn>
void parallel_for(std::size_t num_threads, std::size_t n, Fn&& fn) {
  if (n == 0) return;
  num_threads = std::clamp<std::size_t>(num_threads, 1, n);
  if (num_threads == 1) {
    fn(std::size_t{0}, std::size_t{0}, n);
    return;
  }
  const std::size_t block = (n + num_threads - 1) / num_threads;
  std::vector<std::jthread> workers;
  workers.reserve(num_threads - 1);
  for (std::size_t w = 1; w < num_threads; ++w) {
    const std::size_t begin = std::min(n, w * block), end = std::min(n, begin + block);
    workers.emplace_back([&fn, w, begin, end] { fn(w, begin, end); });
  }
  fn(std::size_t{0}, std::size_t{0}, std::min(n, block));
}  // jthreads join here

}  // namespace nutshell::smc
