// The one loop of "sample until converged", written once for every way of
// running chains: on the threads of this process (LocalBackend,
// converge.hpp) or spread over MPI ranks (the distributed module). What
// differs between them is a small "chain backend"; the loop, the check and
// the joining of blocks are shared, so the stop decision is the same code
// everywhere.
//
// THE CHAIN BACKEND CONCEPT (ChainBackend below). A backend owns a set of
// chains of one run (all of them for LocalBackend; a rank's share under
// MPI) and provides:
//
//   using Result = Draws<State, Params, Info>;   // the usual `sample` result
//
//   absl::StatusOr<Result> first_block(std::size_t num_samples);
//     Warmup, then the first num_samples sampling transitions of the chains
//     it owns: `sample` with SampleOptions::num_samples = num_samples (same
//     key, so chain c is keyed exactly as in `sample`).
//
//   absl::StatusOr<Result> next_block(const Result& previous, std::size_t num_samples);
//     The next num_samples transitions of the same chains: `resume` from
//     previous.checkpoints (bitwise an unbroken run).
//     `previous` is the run so far with its per-draw arrays (positions,
//     log density, ...) kept aside until the run ends: read only its
//     checkpoints, chains and per-chain fields.
//
//   absl::StatusOr<BlockPositions> gather(BlockPositions local);
//     Every chain's positions of this block, from every process, rows in
//     increasing global chain index, so every process gets the same array
//     (identity for LocalBackend; an allgather under MPI). `stopped` is
//     true on every process when it is true on any.
//
// Errors and collectives: every process must take the same path through
// the loop, so under MPI first_block and next_block return an error on all
// processes or on none (a rank whose own chains all failed returns a Result
// with zero rows and keeps gathering; the failures stay in its
// chain_status), and gather is collective.
//
// The loop calls first_block once, then next_block with the last block,
// and after each block gather, then the check of all gathered draws so far
// (ConvergenceChecker, bitwise check_convergence of the joined draws):
// every process holds the same draws, so it computes the same
// verdict and stops at the same block, whatever the number of processes
// and threads. It returns this process's chains joined over all blocks
// (equal to a plain `sample` of the same length) with the verdicts.
#pragma once

#include <concepts>
#include <cstddef>
#include <ostream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/diagnostics.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/converge_check.hpp"
#include "nutshell/run/converge_concat.hpp"
#include "nutshell/run/converge_state.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell {

/// The positions of one block of sampling: what processes exchange so that
/// each can check convergence on all chains.
struct BlockPositions {
  /// [chain, draw, dimension]: the block's kept draws.
  diagnostics::Draws positions;
  /// The global chain index of each row (increasing).
  std::vector<std::size_t> chains;
  /// A step callback stopped the run in this block.
  bool stopped = false;
};

/// A way of running the chains of a run block by block; see the file
/// comment for what each operation must do.
template <class B>
concept ChainBackend = requires(B& b, const typename B::Result& previous, std::size_t n,
                                BlockPositions local) {
  { b.first_block(n) } -> std::same_as<absl::StatusOr<typename B::Result>>;
  { b.next_block(previous, n) } -> std::same_as<absl::StatusOr<typename B::Result>>;
  { b.gather(std::move(local)) } -> std::same_as<absl::StatusOr<BlockPositions>>;
};

/// What `sample_until_converged` returns: the usual Draws of the whole run
/// plus how it decided to stop.
template <class D>
struct ConvergedDraws {
  /// The run's draws, all blocks joined (this process's chains).
  D draws;
  /// The last check (the one that stopped the run), always complete: the
  /// worst values over every parameter.
  ConvergenceVerdict verdict;
  /// Every check, one per block, in order; the ones before the last are
  /// `partial` when they stopped at a parameter that missed a target.
  std::vector<ConvergenceVerdict> history;
  /// Why the run stopped: converged, max_draws reached (verdict.converged
  /// is then false), or a step callback.
  ConvergenceStop reason = ConvergenceStop::kMaxDraws;
  /// The last check's sorted summary columns (ConvergenceChecker::ranked())
  /// of every chain's draws, the chains and draws of `verdict`; empty if
  /// that check was not complete. What the joined table of all chains
  /// reuses (distributed::merge), as the run's own table does when this
  /// process holds every chain.
  std::vector<diagnostics::RankedColumns> ranked;
  /// Wall time in the checks, in gather, in sampling (first_block and
  /// next_block), and in joining blocks and the final summary.
  double check_seconds = 0.0;
  double gather_seconds = 0.0;
  double sampling_seconds = 0.0;
  double join_seconds = 0.0;
};

/// Runs blocks on `backend` until a check passes, max_draws is reached or
/// a callback stops the run (see the file comment). `options` gives the
/// thinning, names and warning thresholds of the joined run; `progress`,
/// when not null, gets one line per check (format_verdict with
/// options.names).
template <ChainBackend B>
absl::StatusOr<ConvergedDraws<typename B::Result>> run_until_converged(
    B& backend, const SampleOptions& options, const ConvergenceOptions& convergence,
    std::ostream* progress = nullptr) {
  if (auto s = validate(convergence); !s.ok()) return s;
  if (options.thinning == 0) return absl::InvalidArgumentError("thinning must be >= 1");
  using Clock = PhaseClock;
  ConvergedDraws<typename B::Result> out;
  // Every chain's draws so far, identical on every process, kept sorted per
  // parameter so that a check merges the new block instead of re-sorting
  // (converge_state.hpp).
  ConvergenceChecker checker;
  detail::BlockArrays arrays;  // the blocks' per-draw arrays, joined once at the end
  bool stopped = false;
  // Whether the checker holds exactly the joined draws (every chain is
  // local: one process, or one rank), so that the last check's sorted
  // columns can serve the summary table.
  bool checked_draws_are_joined = true;
  std::size_t done = 0;
  bool first = true;
  while (true) {
    const std::size_t block = next_block_size(done, convergence);
    Clock sampling;
    auto r = first ? backend.first_block(block * options.thinning)
                   : backend.next_block(out.draws, block * options.thinning);
    out.sampling_seconds += sampling.wall_seconds();
    if (!r.ok()) return r.status();
    Clock gathering;
    BlockPositions local{r->positions, r->chains, r->stopped};
    auto g = backend.gather(std::move(local));
    out.gather_seconds += gathering.wall_seconds();
    if (!g.ok()) return g.status();
    checked_draws_are_joined = checked_draws_are_joined && g->chains == r->chains;
    Clock joining;
    if (first) {
      out.draws = *std::move(r);
      arrays.take(out.draws);
    } else {
      if (auto s = detail::append_block(out.draws, *std::move(r), &arrays); !s.ok()) return s;
    }
    out.join_seconds += joining.wall_seconds();
    first = false;
    stopped = g->stopped;
    Clock checking;
    const std::size_t threads =
        detail::resolve_num_threads(options.num_threads, g->positions.shape(2));
    if (auto s = checker.add(std::move(g->positions), g->chains); !s.ok()) return s;
    done = checker.num_draws();
    // A check that cannot end the run unless it passes stops at the first
    // parameter that misses a target (the same decision, less work); the
    // last check of a run is always complete.
    const bool last = stopped || done >= convergence.max_draws;
    auto v = checker.check(convergence, threads, /*stop_at_first_failure=*/!last);
    out.check_seconds += checking.wall_seconds();
    if (!v.ok()) {
      // Only a callback stop can leave too few draws to check.
      if (!stopped) return v.status();
      out.reason = ConvergenceStop::kCallback;
      break;
    }
    out.verdict = *v;
    out.history.push_back(*v);
    if (progress) *progress << format_verdict(*v, convergence, options.names) << "\n" << std::flush;
    if (stopped) {
      out.reason = ConvergenceStop::kCallback;
      break;
    }
    if (v->converged) {
      out.reason = ConvergenceStop::kConverged;
      break;
    }
    if (done >= convergence.max_draws) {
      out.reason = ConvergenceStop::kMaxDraws;
      break;
    }
  }
  Clock finishing;
  if (auto s = arrays.restore(out.draws); !s.ok()) return s;
  // The last check was complete on these draws (it could have ended the
  // run): the summary reuses its sorts instead of sorting again.
  const auto ranked = checker.ranked();
  out.ranked.assign(ranked.begin(), ranked.end());
  const bool reuse = checked_draws_are_joined && !ranked.empty() &&
                     checker.num_draws() == out.draws.num_draws() &&
                     checker.num_chains() == out.draws.positions.shape(0) &&
                     ranked.size() == out.draws.positions.shape(2);
  detail::finish_run(out.draws, options,
                     reuse ? ranked : std::span<const diagnostics::RankedColumns>());
  out.join_seconds += finishing.wall_seconds();
  return out;
}

}  // namespace nutshell
