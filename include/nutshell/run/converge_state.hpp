// The convergence check of `sample_until_converged`, kept up to date block
// by block instead of recomputed from all the draws (converge_loop.hpp).
//
// Why it is cheaper and still exact: rank-normalised R-hat, bulk ESS and
// tail ESS (diagnostics.hpp) rank all draws so far of each parameter, and
// sorting them was the main cost of a check. The checker keeps each
// parameter's pooled draws sorted, tagged with (chain, draw), and merges
// each new block into them in O(N) (only the block is sorted). From the
// sorted draws a check reads the median and the 5% / 95% quantiles
// directly, ranks the split chains' draws by skipping the middle draw of
// each odd-length chain (the split moves as chains grow, so split ranks are
// derived at each check, not kept), and gets the folded draws |x - median|
// in sorted order by a two-pointer walk outward from the median, so no
// check sorts anything. The split, rank-normalised chains are then handed
// to the diagnostics' own R-hat and ESS (unchecked.hpp), so every value is
// bitwise diagnostics::rhat / ess_bulk / ess_tail of the joined draws.
//
// Why lazily, and why an early exit: a check that only has to decide "not
// yet" can stop at the first parameter that misses a target (the decision
// is the same as checking all), and starts with the parameter that missed
// at the previous check, the likeliest to miss again. A parameter that no
// check reaches keeps its new blocks pending and sorts and merges them
// (all at once, in the same order as block by block) only when a check
// reaches it, so skipped parameters cost nothing beyond storing the block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/run/converge_check.hpp"

namespace nutshell {
namespace detail {
/// std::allocator whose resize leaves new doubles and integers
/// uninitialised: the checker's arrays are always written before they are
/// read, and zeroing them first was a tenth of a check.
template <class T>
struct UninitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = UninitAllocator<U>;
  };
  UninitAllocator() = default;
  template <class U>
  UninitAllocator(const UninitAllocator<U>&) {}
  template <class U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <class T>
using UninitVector = std::vector<T, UninitAllocator<T>>;
}  // namespace detail

/// All draws so far of a run's chains, in the form the check needs: a value
/// type holding, per parameter, the pooled draws sorted. check() after any
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
  /// block's; the checker is then unchanged. `num_threads` share the
  /// parameters.
  absl::Status add(const diagnostics::Draws& block, const std::vector<std::size_t>& chains,
                   std::size_t num_threads = 1);

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

  /// Draws per chain, chains and parameters added so far.
  std::size_t num_draws() const { return num_draws_; }
  std::size_t num_chains() const { return chains_.size(); }
  std::size_t dimension() const { return sorted_.size(); }

 private:
  /// One parameter's merged draws, ascending by value, and for each its
  /// (row << 32 | draw) within the chains so far; `merged` counts the
  /// blocks in them (the later ones are still in pending_).
  struct Sorted {
    detail::UninitVector<double> values;
    detail::UninitVector<std::uint64_t> tags;
    std::size_t merged = 0;
  };
  /// A block not yet merged into every parameter, rows as in chains_.
  struct Pending {
    diagnostics::Draws block;
    std::size_t first_draw = 0;
  };
  absl::Status drop_chains(const std::vector<std::size_t>& chains, std::size_t num_threads);
  /// Merges parameter k's pending blocks into sorted_[k].
  void catch_up(std::size_t k);

  std::vector<Sorted> sorted_;
  std::deque<Pending> pending_;  // blocks pending_base_, pending_base_ + 1, ...
  std::size_t pending_base_ = 0;
  std::vector<std::size_t> chains_;
  std::size_t num_draws_ = 0;
  std::size_t first_failed_ = 0;  // checked first by an early-exit check
  bool started_ = false;
};

}  // namespace nutshell
