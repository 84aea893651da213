// The convergence check of `sample_until_converged` (converge.hpp): its
// options, its verdict, and the block schedule. Pure functions of the draws
// and the options, so every process (thread count, MPI rank) that holds the
// same draws reaches the same verdict.
//
// Why geometric blocks: a check reads every draw so far (R-hat and ESS rank
// the pooled draws; the loop keeps them sorted, converge_state.hpp, so a
// check is O(N)), so checking after every B draws costs O(N^2 / B) over
// a run of N draws, against O(N) sampling. Letting each block add a fixed
// fraction of the draws so far (block_growth) makes the checks cost a
// constant times one check of the final draws, i.e. O(N), and the overshoot
// past the first draw at which the targets were met at most that fraction.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/diagnostics/diagnostics.hpp"

namespace nutshell {

/// When `sample_until_converged` stops, and how it samples until then.
struct ConvergenceOptions {
  /// Stop only when every parameter's rank-normalised split R-hat is below
  /// this (posterior's `rhat`); must be > 1.
  double max_rhat = 1.01;
  /// Stop only when every parameter's bulk ESS, over all chains, reaches
  /// this (posterior's `ess_bulk`); 400 is Vehtari et al.'s (2021) advice
  /// of 100 per chain at 4 chains. Must be >= 0 (0: no bulk target).
  double min_ess_bulk = 400.0;
  /// The same for tail ESS (posterior's `ess_tail`).
  double min_ess_tail = 400.0;
  /// Kept draws per chain of the first block (>= 4, the fewest the
  /// diagnostics take); every later block has at least this many.
  std::size_t block_size = 100;
  /// Later blocks make the draws so far grow by this factor (>= 1): block
  /// k+1 has max(block_size, ceil((block_growth - 1) * draws so far))
  /// kept draws per chain (times SampleOptions::thinning transitions). 1 gives constant
  /// blocks. The default 1.5 overshoots the first passing block by at
  /// most 50%; checks before the last stop at the first failing
  /// parameter, so they cost about one parameter each and the run's
  /// checks about one complete check of its final draws. The checks' share
  /// of the run time is measured in benchmarks/README.md ("Sampling until
  /// converged" and the sections after it).
  double block_growth = 1.5;
  /// The most kept draws per chain; the run stops there, converged or not
  /// (the last block is cut to fit). Must be >= block_size.
  std::size_t max_draws = 100000;
};

/// OK, or InvalidArgument naming the first bad option.
absl::Status validate(const ConvergenceOptions& options);

/// The draws per chain of the block after `draws_so_far` kept draws per
/// chain (the first block when 0), cut so the total stays <= max_draws;
/// 0 when max_draws is reached. Assumes valid options.
std::size_t next_block_size(std::size_t draws_so_far, const ConvergenceOptions& options);

/// The outcome of one check.
struct ConvergenceVerdict {
  /// Kept draws per chain and chains the check saw.
  std::size_t num_draws = 0;
  std::size_t num_chains = 0;
  /// The largest R-hat, smallest bulk and tail ESS over all parameters
  /// (NaN when posterior gives NA for a parameter, e.g. constant draws or
  /// too few draws: a NaN never meets a target).
  double max_rhat = 0.0;
  double min_ess_bulk = 0.0;
  double min_ess_tail = 0.0;
  /// The parameters (dimension index) that gave them.
  std::size_t worst_rhat_index = 0;
  std::size_t worst_ess_bulk_index = 0;
  std::size_t worst_ess_tail_index = 0;
  /// max_rhat < target, and both ESS >= their targets.
  bool converged = false;
  /// The check stopped at the first parameter that missed a target (the
  /// non-final checks of `sample_until_converged`, which only have to say
  /// "not yet"): the three values and indices above are then that
  /// parameter's, not the worst over all parameters.
  bool partial = false;
  /// Parameters checked up to and including that one (all when complete).
  std::size_t parameters_checked = 0;
};

/// The check: max R-hat, min bulk ESS and min tail ESS of `draws` [chain,
/// draw, dimension] (all chains, all draws so far), with posterior's
/// definitions (diagnostics.hpp), against the targets of `options`.
/// InvalidArgument for draws the diagnostics refuse (fewer than 4 draws,
/// non-finite values) or invalid options. `num_threads` (1: this thread)
/// share the dimensions; the verdict is the same for any number.
absl::StatusOr<ConvergenceVerdict> check_convergence(const diagnostics::Draws& draws,
                                                     const ConvergenceOptions& options,
                                                     std::size_t num_threads = 1);

/// One line for the progress display, e.g.
/// "converge: 400 draws/chain | R-hat 1.004 (< 1.01) | ESS bulk 812 (>= 400) |
/// ESS tail 655 (>= 400) | converged", and for a partial verdict which
/// parameter missed which target: "converge: 200 draws/chain | x[3] misses
/// ESS tail (1st parameter checked) | R-hat 1.004 (< 1.01) | ...".
/// `names` name the parameters (empty: x[0], x[1], ...).
std::string format_verdict(const ConvergenceVerdict& verdict, const ConvergenceOptions& options,
                           const std::vector<std::string>& names = {});

/// Why `sample_until_converged` stopped.
enum class ConvergenceStop {
  kConverged,  ///< a check met every target
  kMaxDraws,   ///< max_draws reached without converging
  kCallback,   ///< the step callback stopped the run (see `sample`)
};

}  // namespace nutshell
