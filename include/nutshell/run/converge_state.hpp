// The convergence check of `sample_until_converged` (converge_loop.hpp):
// the draws so far, block by block, and the check of all of them.
//
// Each check computes rank-normalised R-hat, bulk ESS and tail ESS
// (diagnostics.hpp) of every parameter from its draws sorted once
// (diagnostics/sorted_draws.hpp, which summary() uses too): bitwise
// diagnostics::rhat / ess_bulk / ess_tail of the joined draws. The sort
// starts from scratch at every check, in per-thread buffers that are kept
// from check to check. An earlier version kept each parameter's draws
// sorted across checks and merged every new block in; its per-parameter
// arrays, fresh memory that grew at every check, cost more in first-touch
// page faults and merging than sorting again costs in warm buffers (2x
// per check, benchmarks/README.md).
//
// Why an early exit: a check that only has to decide "not yet" can stop at
// the first parameter that misses a target (the decision is the same as
// checking all), and starts with the parameter that missed at the previous
// check, the likeliest to miss again; the parameters it does not reach
// cost nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/diagnostics/sorted_draws.hpp"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/run/converge_check.hpp"

namespace nutshell {

/// All draws so far of a run's chains, block by block: a value type.
/// check() after any
/// sequence of add() gives the verdict of check_convergence on the joined
/// draws (bit for bit).
class ConvergenceChecker {
 public:
  /// Appends a block [row, draw, dimension] whose rows are the chains
  /// `chains` (global indices, one per row, increasing). After the first
  /// block every chain must already be known (InternalError otherwise);
  /// known chains missing from `chains` (they failed) are dropped with all
  /// their earlier draws, as the joined draws drop them. InvalidArgument
  /// for a non-finite draw or a dimension that differs from the first
  /// block's; the checker is then unchanged.
  absl::Status add(diagnostics::Draws block, const std::vector<std::size_t>& chains);

  /// check_convergence of the draws added so far (the same errors: no
  /// chain, fewer than diagnostics::kMinDraws draws per chain, invalid
  /// options); the same verdict for any `num_threads`.
  ///
  /// With `stop_at_first_failure` the parameters are checked in the order:
  /// the first failing parameter of the previous check, then the others by
  /// index, and the check stops at the first that misses a target: the
  /// verdict is then `partial`, with that parameter's values (the same
  /// `converged`; a passing check is always complete). Which parameter
  /// comes first depends only on the earlier checks, so the verdict is the
  /// same for any `num_threads`.
  absl::StatusOr<ConvergenceVerdict> check(const ConvergenceOptions& options,
                                           std::size_t num_threads = 1,
                                           bool stop_at_first_failure = false);

  /// Every parameter's summary columns that need its draws sorted
  /// (median, quantiles, R-hat, ESS), bitwise those of
  /// diagnostics::summary() of the joined draws, when the last check was
  /// complete (every parameter evaluated, no early exit) and nothing was
  /// added since; empty otherwise. A run's last check is complete, so its
  /// summary table needs no second sort (diagnostics::summary with ranked
  /// columns).
  std::span<const diagnostics::RankedColumns> ranked() const {
    return ranked_complete_ ? std::span<const diagnostics::RankedColumns>(ranked_)
                            : std::span<const diagnostics::RankedColumns>();
  }

  /// Draws per chain, chains and parameters added so far.
  std::size_t num_draws() const { return num_draws_; }
  std::size_t num_chains() const { return chains_.size(); }
  std::size_t dimension() const { return dim_; }

 private:
  /// A block as added, rows as in chains_ (rows of dropped chains are
  /// removed from every block).
  struct Block {
    diagnostics::Draws draws;
    std::size_t first_draw = 0;
  };
  absl::Status drop_chains(const std::vector<std::size_t>& chains);

  std::vector<Block> blocks_;
  std::vector<std::size_t> chains_;
  std::size_t num_draws_ = 0;
  std::size_t dim_ = 0;
  std::size_t first_failed_ = 0;  // checked first by an early-exit check
  // One thread's buffers each (the sort and the rank diagnostics), kept
  // from check to check: fresh ones at every check were first-touch page
  // faults and zero fills. They carry no values between uses.
  std::vector<diagnostics::SortedScratch> scratch_;
  std::vector<diagnostics::TaggedDraws> sorted_;  // per thread
  std::vector<double> scores_;  // rank-normal scores of the untied ranks
  std::vector<diagnostics::RankedColumns> ranked_;  // per parameter, last evaluation
  bool ranked_complete_ = false;
  bool started_ = false;
};

}  // namespace nutshell
