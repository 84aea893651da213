// Bitwise comparison of two runs' Draws, for the distributed tests: every
// array compared with memcmp (so -0.0 vs 0.0 or a different NaN counts as
// a difference), plus chains, statuses, accounting and checkpoints. Times
// are not compared (they are measurements), nor the Infos' vectors (not
// sent between ranks).
#pragma once

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "nutshell/distributed/chain_piece.hpp"
#include "nutshell/run/sample_types.hpp"

namespace nutshell::testing {

template <class T>
bool same_bytes(const T& a, const T& b) {
  return a.shape() == b.shape() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

/// "" when `a` and `b` are bitwise the same run; else what differs.
template <class State, class Params, class Info>
std::string draws_difference(const Draws<State, Params, Info>& a, const Draws<State, Params, Info>& b) {
  if (a.chains != b.chains) return "chains";
  if (!same_bytes(a.positions, b.positions)) return "positions";
  if (!same_bytes(a.logdensity, b.logdensity)) return "logdensity";
  if (a.sample_stats.names != b.sample_stats.names || !same_bytes(a.sample_stats.values, b.sample_stats.values))
    return "sample_stats";
  if (a.chain_status.size() != b.chain_status.size()) return "chain_status size";
  for (std::size_t c = 0; c < a.chain_status.size(); ++c)
    if (a.chain_status[c].code() != b.chain_status[c].code()) return absl::StrCat("chain_status ", c);
  if (a.status.code() != b.status.code()) return "status";
  if (a.num_divergent != b.num_divergent || a.num_rejected_evaluations != b.num_rejected_evaluations)
    return "counts";
  if (a.infos.size() != b.infos.size()) return "infos size";
  for (std::size_t r = 0; r < a.infos.size(); ++r) {
    if (a.infos[r].size() != b.infos[r].size()) return "infos rows";
    for (std::size_t i = 0; i < a.infos[r].size(); ++i) {
      std::string x, y;
      auto put = [](std::string& s) {
        return [&s](const auto& v) {
          const double d = static_cast<double>(v);
          s.append(reinterpret_cast<const char*>(&d), sizeof d);
        };
      };
      distributed::detail::for_each_info_scalar(a.infos[r][i], put(x));
      distributed::detail::for_each_info_scalar(b.infos[r][i], put(y));
      if (x != y) return absl::StrCat("infos ", r, " ", i);
    }
  }
  if (a.accounting.size() != b.accounting.size()) return "accounting size";
  for (std::size_t r = 0; r < a.accounting.size(); ++r) {
    const auto &x = a.accounting[r], &y = b.accounting[r];
    if (x.chain != y.chain || x.gradient_evaluations != y.gradient_evaluations ||
        x.gradient_evaluations_warmup != y.gradient_evaluations_warmup ||
        x.gradient_evaluations_step_size_search != y.gradient_evaluations_step_size_search ||
        x.num_divergent != y.num_divergent || x.num_max_tree_depth != y.num_max_tree_depth ||
        x.num_rejected_evaluations != y.num_rejected_evaluations ||
        std::memcmp(&x.step_size, &y.step_size, sizeof(double)) != 0)
      return absl::StrCat("accounting ", r);
  }
  if (a.checkpoints.size() != b.checkpoints.size()) return "checkpoints size";
  for (std::size_t r = 0; r < a.checkpoints.size(); ++r) {
    const auto &x = a.checkpoints[r], &y = b.checkpoints[r];
    if (!(x.key == y.key) || x.next_step != y.next_step || x.chain != y.chain ||
        !same_bytes(x.state.position, y.state.position) ||
        std::memcmp(&x.params.step_size, &y.params.step_size, sizeof(double)) != 0)
      return absl::StrCat("checkpoint ", r);
  }
  if (a.summary.ok() != b.summary.ok()) return "summary";
  if (a.summary.ok()) {  // every column of every row, to the bit
    const auto &x = a.summary->rows, &y = b.summary->rows;
    if (x.size() != y.size()) return "summary rows";
    for (std::size_t r = 0; r < x.size(); ++r) {
      const double u[] = {x[r].mean, x[r].sd, x[r].median, x[r].q5, x[r].q95, x[r].ess_bulk, x[r].ess_tail, x[r].rhat};
      const double v[] = {y[r].mean, y[r].sd, y[r].median, y[r].q5, y[r].q95, y[r].ess_bulk, y[r].ess_tail, y[r].rhat};
      if (x[r].name != y[r].name || std::memcmp(u, v, sizeof u) != 0) return absl::StrCat("summary row ", r);
    }
    if (a.summary->to_string() != b.summary->to_string()) return "summary table";
  }
  if (a.warnings.size() != b.warnings.size()) return "warnings";
  return "";
}

}  // namespace nutshell::testing
