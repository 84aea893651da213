// Rank 0's half of a distributed run: every chain's piece, from whichever
// rank ran it, becomes one Draws, laid out exactly as `sample` lays out its
// own (rows in chain order, failed chains in `status` and `chain_status`,
// the summary and warnings computed on all rows), so the result is bitwise
// a single-process `sample`'s.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/diagnostics/summary.hpp"
#include "nutshell/distributed/chain_piece.hpp"
#include "nutshell/run/accounting.hpp"
#include "nutshell/run/converge_concat.hpp"
#include "nutshell/run/pmap.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::distributed {

/// Merges the pieces of the chains `expected` (ascending; the pieces in any
/// order; a chain with no piece is reported as lost) into Draws whose rows
/// follow `expected`. An error only when every chain failed (the aggregate
/// status, as `sample`). `ranked`, when given, is the sorted summary
/// columns of the merged positions as one convergence check saw them (all
/// chains; ConvergedDraws::ranked with its verdict's `checked_chains` x
/// `checked_draws`): the summary uses them if the merged draws have exactly
/// that shape, and sorts the draws itself otherwise.
template <class State, class Params, class Info>
absl::StatusOr<Draws<State, Params, Info>> merge(std::vector<ChainPiece<State, Params, Info>> pieces,
                                                 const std::vector<std::size_t>& expected,
                                                 const SampleOptions& options,
                                                 std::span<const diagnostics::RankedColumns> ranked = {},
                                                 std::size_t checked_chains = 0,
                                                 std::size_t checked_draws = 0) {
  std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.chain < b.chain; });
  std::vector<absl::StatusOr<int>> outcome;  // for pmap's aggregate message
  std::vector<const ChainPiece<State, Params, Info>*> ok;
  std::size_t next = 0;
  for (const std::size_t c : expected) {
    while (next < pieces.size() && pieces[next].chain < c) ++next;
    if (next == pieces.size() || pieces[next].chain != c) {
      outcome.emplace_back(absl::DataLossError(absl::StrCat("chain ", c, ": no rank reported it")));
      continue;
    }
    const auto& p = pieces[next];
    if (!p.status.ok()) {
      outcome.emplace_back(p.status);
      continue;
    }
    if (!ok.empty() && p.dim != ok[0]->dim) {
      outcome.emplace_back(absl::InvalidArgumentError(absl::StrCat(
          "chain ", c, ": its position has dimension ", p.dim, " but an earlier chain's has ", ok[0]->dim)));
      continue;
    }
    outcome.emplace_back(0);
    ok.push_back(&p);
  }
  Draws<State, Params, Info> d;
  d.status = nutshell::detail::aggregate_status(outcome);
  for (const auto& o : outcome) d.chain_status.push_back(o.ok() ? absl::OkStatus() : o.status());
  if (ok.empty()) return d.status;
  const std::size_t m = ok.size(), dim = ok[0]->dim;
  std::size_t keep = ok[0]->rows();
  for (const auto* p : ok) keep = std::min(keep, p->rows());
  d.sample_stats.names = nutshell::detail::stat_names<Info>();
  const std::size_t k = d.sample_stats.names.size();
  d.positions = diagnostics::Draws::from_shape({m, keep, dim});
  d.logdensity = diagnostics::ChainDraws::from_shape({m, keep});
  d.derived = diagnostics::Draws::from_shape({m, keep, 0});
  d.sample_stats.values = xt::xtensor<double, 3>::from_shape({m, keep, k});
  for (std::size_t r = 0; r < m; ++r) {
    const auto& p = *ok[r];
    if (p.stats.size() != p.rows() * k)
      return absl::DataLossError(absl::StrCat("chain ", p.chain, ": ", p.stats.size() / std::max<std::size_t>(p.rows(), 1),
                                              " statistics per draw, expected ", k));
    std::copy(p.positions.begin(), p.positions.begin() + keep * dim, keep * dim ? &d.positions(r, 0, 0) : nullptr);
    std::copy(p.logdensity.begin(), p.logdensity.begin() + keep, keep ? &d.logdensity(r, 0) : nullptr);
    std::copy(p.stats.begin(), p.stats.begin() + keep * k, keep * k ? &d.sample_stats.values(r, 0, 0) : nullptr);
    d.chains.push_back(p.chain);
    d.infos.emplace_back(p.infos.begin(), p.infos.begin() + keep);
    d.num_divergent += p.accounting.num_divergent;
    d.num_rejected_evaluations +=
        p.accounting.num_rejected_evaluations + p.accounting.num_rejected_evaluations_warmup;
    d.accounting.push_back(p.accounting);
    d.params.push_back(p.end.params);
    d.checkpoints.push_back(p.end);
  }
  const bool reuse =
      ranked.size() == dim && dim > 0 && m == checked_chains && keep == checked_draws;
  nutshell::detail::finish_run(d, options,
                               reuse ? ranked : std::span<const diagnostics::RankedColumns>());
  return d;
}

}  // namespace nutshell::distributed
