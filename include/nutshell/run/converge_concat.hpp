// Joining the blocks of `sample_until_converged` into one run: draws,
// per-draw statistics, infos and accounting, as if the run had never been
// cut (converge_loop.hpp). A chain that fails in a block is dropped from
// the whole result, as `sample` drops a chain that fails, so the result
// always equals a plain `sample` of the same length.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/sample_types.hpp"
#include "nutshell/run/warnings.hpp"

namespace nutshell::detail {

/// For each row of `b_chains`, the row of `a_chains` holding the same chain
/// (every chain of b must be in a: a block continues earlier chains).
inline absl::StatusOr<std::vector<std::size_t>> match_rows(
    const std::vector<std::size_t>& a_chains, const std::vector<std::size_t>& b_chains) {
  std::unordered_map<std::size_t, std::size_t> row_of;
  for (std::size_t r = 0; r < a_chains.size(); ++r) row_of[a_chains[r]] = r;
  std::vector<std::size_t> rows;
  rows.reserve(b_chains.size());
  for (std::size_t c : b_chains) {
    auto it = row_of.find(c);
    if (it == row_of.end())
      return absl::InternalError(absl::StrCat("block has chain ", c, " that no earlier block had"));
    rows.push_back(it->second);
  }
  return rows;
}

/// [row, draw, ...] arrays a (rows a_rows of it, in that order) then b,
/// joined along the draw axis; their other axes are equal (one model, one
/// kernel). Works for rank 2 and 3 xtensors.
template <class T>
T join_draws(const T& a, const std::vector<std::size_t>& a_rows, const T& b) {
  auto shape = b.shape();
  const std::size_t na = a.shape(1), nb = b.shape(1);
  std::size_t width = 1;
  for (std::size_t k = 2; k < shape.size(); ++k) width *= shape[k];
  auto out_shape = shape;
  out_shape[1] = na + nb;
  T out = T::from_shape(out_shape);
  for (std::size_t r = 0; r < a_rows.size(); ++r) {
    double* dst = out.data() + r * (na + nb) * width;
    const double* src_a = a.data() + a_rows[r] * na * width;
    std::copy(src_a, src_a + na * width, dst);
    const double* src_b = b.data() + r * nb * width;
    std::copy(src_b, src_b + nb * width, dst + na * width);
  }
  return out;
}

/// [row, draw, ...] arrays `parts`, one per block, joined along the draw
/// axis with output row r taken from row rows[p][r] of parts[p] (all
/// blocks' other axes are equal). Each draw is copied once.
template <class T>
T join_all_draws(const std::vector<T>& parts, const std::vector<std::vector<std::size_t>>& rows) {
  auto shape = parts.back().shape();
  std::size_t width = 1, total = 0;
  for (std::size_t k = 2; k < shape.size(); ++k) width *= shape[k];
  for (const T& part : parts) total += part.shape(1);
  const std::size_t num_rows = rows.back().size();
  shape[0] = num_rows;
  shape[1] = total;
  T out = T::from_shape(shape);
  std::size_t offset = 0;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const std::size_t n = parts[p].shape(1);
    for (std::size_t r = 0; r < num_rows; ++r) {
      const double* src = parts[p].data() + rows[p][r] * n * width;
      std::copy(src, src + n * width, out.data() + (r * total + offset) * width);
    }
    offset += n;
  }
  return out;
}

/// The per-draw arrays of a run's blocks (positions, log density, derived
/// quantities, sample statistics) with each block's chains, kept aside and
/// joined once when the run ends: joining them at every block copied all
/// draws so far each time, about as costly as a check on a cheap density.
struct BlockArrays {
  std::vector<diagnostics::Draws> positions, derived, stats;
  std::vector<diagnostics::ChainDraws> logdensity;
  std::vector<std::vector<std::size_t>> chains;

  /// Moves d's per-draw arrays here (d keeps everything else).
  template <class D>
  void take(D& d) {
    positions.push_back(std::move(d.positions));
    logdensity.push_back(std::move(d.logdensity));
    derived.push_back(std::move(d.derived));
    stats.push_back(std::move(d.sample_stats.values));
    chains.push_back(d.chains);
  }
  /// Puts the joined arrays of every block taken, for d's chains, into d.
  template <class D>
  absl::Status restore(D& d) {
    if (positions.empty()) return absl::OkStatus();
    std::vector<std::vector<std::size_t>> rows;
    for (const auto& c : chains) {
      auto r = match_rows(c, d.chains);
      if (!r.ok()) return r.status();
      rows.push_back(*std::move(r));
    }
    d.positions = join_all_draws(positions, rows);
    d.logdensity = join_all_draws(logdensity, rows);
    d.derived = join_all_draws(derived, rows);
    d.sample_stats.values = join_all_draws(stats, rows);
    *this = BlockArrays{};
    return absl::OkStatus();
  }
};

/// One chain's accounting after two blocks: warmup from the first,
/// sampling counts and times summed, the tuned parameters of the last.
inline ChainAccounting join_accounting(const ChainAccounting& a, ChainAccounting b) {
  b.gradient_evaluations_warmup = a.gradient_evaluations_warmup;
  b.gradient_evaluations_step_size_search = a.gradient_evaluations_step_size_search;
  b.num_divergent_warmup = a.num_divergent_warmup;
  b.num_rejected_evaluations_warmup = a.num_rejected_evaluations_warmup;
  b.num_init_redraws = a.num_init_redraws;
  b.warmup_wall_seconds = a.warmup_wall_seconds;
  b.warmup_cpu_seconds = a.warmup_cpu_seconds;
  b.gradient_evaluations += a.gradient_evaluations;
  b.num_divergent += a.num_divergent;
  b.num_max_tree_depth += a.num_max_tree_depth;
  b.num_rejected_evaluations += a.num_rejected_evaluations;
  b.sampling_wall_seconds += a.sampling_wall_seconds;
  b.sampling_cpu_seconds += a.sampling_cpu_seconds;
  return b;
}

/// Appends `block` (a resume from acc's checkpoints) to `acc`. Chains
/// missing from the block (they failed in it) leave the result; their
/// status is kept in chain_status and status. The summary and warnings are
/// left for finish_run (one computation at the end, not one per block).
/// With `arrays`, the block's per-draw arrays go there (acc's must have
/// gone there too) to be joined by arrays->restore at the end.
template <class State, class Params, class Info>
absl::Status append_block(Draws<State, Params, Info>& acc, Draws<State, Params, Info>&& block,
                          BlockArrays* arrays = nullptr) {
  auto rows = match_rows(acc.chains, block.chains);
  if (!rows.ok()) return rows.status();
  // block.chain_status is per checkpoint, i.e. per row of acc.
  if (block.chain_status.size() == acc.chains.size())
    for (std::size_t r = 0; r < acc.chains.size(); ++r)
      if (!block.chain_status[r].ok() && acc.chains[r] < acc.chain_status.size())
        acc.chain_status[acc.chains[r]] = block.chain_status[r];
  if (!block.status.ok())
    acc.status = acc.status.ok() ? block.status
                                 : absl::Status(acc.status.code(), absl::StrCat(acc.status.message(),
                                                                                "; ", block.status.message()));
  if (arrays) {
    arrays->take(block);
  } else {
    acc.positions = join_draws(acc.positions, *rows, block.positions);
    acc.logdensity = join_draws(acc.logdensity, *rows, block.logdensity);
    acc.derived = join_draws(acc.derived, *rows, block.derived);
    acc.sample_stats.values =
        join_draws(acc.sample_stats.values, *rows, block.sample_stats.values);
  }
  std::vector<std::vector<Info>> infos(block.chains.size());
  std::vector<ChainAccounting> accounting(block.chains.size());
  for (std::size_t r = 0; r < block.chains.size(); ++r) {
    infos[r] = std::move(acc.infos[(*rows)[r]]);
    infos[r].insert(infos[r].end(), std::make_move_iterator(block.infos[r].begin()),
                    std::make_move_iterator(block.infos[r].end()));
    accounting[r] = join_accounting(acc.accounting[(*rows)[r]], std::move(block.accounting[r]));
  }
  if (!acc.others.empty() && acc.others.size() == acc.chains.size()) {
    decltype(acc.others) others(block.chains.size());
    for (std::size_t r = 0; r < block.chains.size(); ++r) {
      others[r] = std::move(acc.others[(*rows)[r]]);
      if (r < block.others.size())
        others[r].insert(others[r].end(), block.others[r].begin(), block.others[r].end());
    }
    acc.others = std::move(others);
  }
  acc.infos = std::move(infos);
  acc.accounting = std::move(accounting);
  acc.chains = std::move(block.chains);
  acc.params = std::move(block.params);
  acc.checkpoints = std::move(block.checkpoints);
  acc.stopped = block.stopped;
  acc.num_divergent = 0;
  acc.num_rejected_evaluations = 0;
  for (const auto& a : acc.accounting) {
    acc.num_divergent += a.num_divergent;
    acc.num_rejected_evaluations += a.num_rejected_evaluations + a.num_rejected_evaluations_warmup;
  }
  acc.summary = absl::UnknownError("no summary yet: the run is not finished");
  acc.warnings.clear();
  return absl::OkStatus();
}

/// The summary table and warnings of the joined run, as `sample` computes
/// them for one run of the same draws (neither with options.summarize
/// false). Also the end of distributed::merge. `ranked`, when not empty,
/// is every parameter's sorted columns of exactly d.positions (the last,
/// complete convergence check's: ConvergenceChecker::ranked()), so the
/// table needs no second sort.
template <class State, class Params, class Info>
void finish_run(Draws<State, Params, Info>& d, const SampleOptions& options,
                std::span<const diagnostics::RankedColumns> ranked = {}) {
  if (!options.summarize) {
    d.summary = absl::UnknownError("not summarised: SampleOptions::summarize is false");
    d.warnings.clear();
    return;
  }
  d.summary = ranked.empty()
                  ? diagnostics::summary(d.positions, d.num_divergent, options.names)
                  : diagnostics::summary(d.positions, d.num_divergent, options.names, ranked);
  d.warnings = run_warnings(d.summary.ok() ? &*d.summary : nullptr, d.logdensity, d.sample_stats,
                            d.accounting, d.num_draws() * options.thinning, options.warnings);
  if (d.summary.ok())
    for (const auto& w : d.warnings) d.summary->warnings.push_back(w.message);
}

}  // namespace nutshell::detail
