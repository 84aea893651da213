// Sampling until converged: `sample` in blocks, checking R-hat and bulk and
// tail ESS over all chains after each block, until they meet their targets
// or a maximum number of draws.
//
//   auto run = sample_until_converged(make_key(0), nuts::Kernel{}, logdensity, Vec{0.0, 0.0},
//                                     SampleOptions{.num_chains = 4},
//                                     ConvergenceOptions{.min_ess_bulk = 400, .min_ess_tail = 400});
//   if (!run.ok()) ...;
//   run->verdict.converged;  // false when max_draws was reached first
//   std::cout << *run->draws.summary;
//
// Why it is exact: the first block is `sample` with num_samples = the
// block's length and every later block is `resume` from the previous
// block's checkpoints, which continues bitwise as an unbroken run
// (checkpoint.hpp). So the joined draws are bitwise the first N draws of a
// plain `sample` with num_samples = N, and every check sees draws that
// depend only on the key and the settings: the run stops at the same draw
// whatever the thread count (and, through the chain backend of
// converge_loop.hpp, whatever the number of MPI ranks).
//
// Pieces: converge_check.hpp (options, the check, the block schedule),
// converge_loop.hpp (the loop and the ChainBackend concept),
// converge_concat.hpp (joining blocks).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <iostream>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/adaptation/kernel_traits.hpp"
#include "nutshell/core/key.hpp"
#include "nutshell/mcmc/nuts.hpp"
#include "nutshell/run/callbacks.hpp"
#include "nutshell/run/converge_check.hpp"
#include "nutshell/run/converge_loop.hpp"
#include "nutshell/run/resume.hpp"
#include "nutshell/run/sample.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell {

/// The chain backend of one process: every chain on this process's threads
/// (`sample`, then `resume`); gather is the identity.
template <class K, class G, class Callback = NoCallback>
struct LocalBackend {
  using Result = DrawsOf<K, G>;

  Key key;
  K kernel;
  G logdensity;
  InitialPositions initial;
  SampleOptions options;  ///< num_samples is set per block
  Callback callback;

  /// Warmup and the first block: `sample` with num_samples transitions.
  absl::StatusOr<Result> first_block(std::size_t num_samples) {
    SampleOptions o = options;
    o.num_samples = num_samples;
    o.summarize = false;  // finish_run summarises the joined blocks once
    return sample(key, kernel, logdensity, initial, o, callback);
  }
  /// The next block: `resume` from the previous block's checkpoints.
  absl::StatusOr<Result> next_block(const Result& previous, std::size_t num_samples) {
    SampleOptions o = options;
    o.num_samples = num_samples;
    o.summarize = false;  // finish_run summarises the joined blocks once
    return resume(previous.checkpoints, kernel, logdensity, o, callback);
  }
  /// One process holds every chain: nothing to exchange.
  absl::StatusOr<BlockPositions> gather(BlockPositions local) { return local; }
};

/// Warmup, then sampling in blocks (convergence.block_size kept draws per
/// chain, growing by convergence.block_growth) until max R-hat <
/// convergence.max_rhat and min bulk and tail ESS >= their targets over
/// all chains and parameters, or convergence.max_draws draws per chain.
/// `options` is `sample`'s (num_samples is ignored: the blocks decide);
/// `callback` is `sample`'s step callback (a stop ends the run after that
/// block's cut). Returns the joined Draws, bitwise the first N draws of
/// `sample` with num_samples = N * thinning, with every check's verdict.
/// With options.progress_bar and stderr a terminal, each check prints a
/// line with R-hat and ESS against their targets. Bad options are
/// InvalidArgument (validate(ConvergenceOptions), and `sample`'s own).
template <class K, class F, class Callback = NoCallback>
  requires detail::KernelFor<K, std::decay_t<F>>
absl::StatusOr<ConvergedDraws<DrawsOf<K, std::decay_t<F>>>> sample_until_converged(
    const Key& key, K kernel, F&& logdensity, InitialPositions initial,
    const SampleOptions& options, const ConvergenceOptions& convergence,
    const Callback& callback = {}) {
  if (auto s = validate(convergence); !s.ok()) return s;
  LocalBackend<K, std::decay_t<F>, Callback> backend{
      key, std::move(kernel), std::decay_t<F>(std::forward<F>(logdensity)), std::move(initial),
      options, callback};
  std::ostream* progress = options.progress_bar && isatty(STDERR_FILENO) ? &std::cerr : nullptr;
  return run_until_converged(backend, options, convergence, progress);
}

/// `sample_until_converged` with NUTS (Stan's defaults).
template <LogDensity F, class Callback = NoCallback>
absl::StatusOr<ConvergedDraws<DrawsOf<nuts::Kernel, std::decay_t<F>>>> sample_until_converged(
    const Key& key, F&& logdensity, InitialPositions initial, const SampleOptions& options,
    const ConvergenceOptions& convergence, const Callback& callback = {}) {
  return sample_until_converged(key, nuts::Kernel{}, std::forward<F>(logdensity),
                                std::move(initial), options, convergence, callback);
}

}  // namespace nutshell
