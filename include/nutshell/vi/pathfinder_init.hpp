// Pathfinder as the initialiser of window adaptation and NUTS (Blackjax's
// pathfinder_adaptation; Zhang et al. 2022, section 3.3): multi-path
// Pathfinder gives each chain a starting point drawn from its resampled
// draws, and the draws' variances are the initial inverse mass matrix.
//
//   auto init = vi::pathfinder_init(key, logdensity, starts, num_chains);
//   nuts::Params base;
//   base.inverse_mass_matrix = init->inverse_mass_matrix;
//   auto warmup = adaptation::window_adaptation(nuts::Kernel{}, f, {}, base);
//   auto adapted = warmup.run(chain_key, init->positions[c], num_warmup);
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/core/metric.hpp"
#include "nutshell/vi/multipath.hpp"

namespace nutshell::vi {

/// Settings of Pathfinder initialisation.
struct PathfinderInitOptions {
  multipath::Options multipath;
  /// Floor on each initial inverse mass entry, relative to the largest: keeps
  /// the metric usable when Pathfinder collapses a direction.
  double min_relative_variance = 1e-8;
};

/// What Pathfinder initialisation hands to the sampler.
struct PathfinderInit {
  std::vector<Vec> positions;  ///< one starting point per chain
  Metric inverse_mass_matrix;  ///< diagonal: the resampled draws' variances
  Vec inverse_mass_diagonal;   ///< the same, as a vector
  double k_hat = 0.0;          ///< PSIS k-hat of the importance weights
  std::size_t num_evaluations = 0;  ///< log density + gradient evaluations spent
  std::size_t num_paths_failed = 0;
};

/// Runs multi-path Pathfinder from `initial_positions` (one path each) and
/// returns `num_chains` starting points (resampled draws, distinct pool rows
/// where the pool allows) and the diagonal inverse mass matrix. Errors: those
/// of multipath::approximate, num_chains == 0 or larger than num_draws, and
/// a variance estimate that is not finite and positive.
template <LogDensity F>
absl::StatusOr<PathfinderInit> pathfinder_init(const Key& key, F& logdensity,
                                               const std::vector<Vec>& initial_positions,
                                               std::size_t num_chains,
                                               const PathfinderInitOptions& options = {}) {
  if (num_chains == 0 || num_chains > options.multipath.num_draws)
    return absl::InvalidArgumentError("pathfinder_init: need 0 < num_chains <= num_draws");
  auto r = multipath::approximate(key, logdensity, initial_positions, options.multipath);
  if (!r.ok()) return r.status();
  PathfinderInit out;
  out.k_hat = r->k_hat;
  out.num_evaluations = r->num_evaluations;
  out.num_paths_failed = r->num_paths_failed;
  std::vector<std::size_t> used;
  for (std::size_t pass = 0; pass < 2 && out.positions.size() < num_chains; ++pass)
    for (std::size_t i = 0; i < r->source_rows.size() && out.positions.size() < num_chains; ++i) {
      const bool seen = std::find(used.begin(), used.end(), r->source_rows[i]) != used.end();
      if (pass == 0 && seen) continue;  // first pass: distinct pool rows only
      used.push_back(r->source_rows[i]);
      out.positions.push_back(xt::view(r->draws, i, xt::all()));
    }
  Vec var = xt::variance(r->draws, {0});
  const double top = xt::amax(var)();
  if (!all_finite(var) || !(top > 0.0))
    return absl::FailedPreconditionError(
        "pathfinder_init: the draws' variances are not finite and positive");
  var = xt::maximum(var, options.min_relative_variance * top);
  auto metric = Metric::diagonal(var);
  if (!metric.ok()) return metric.status();
  out.inverse_mass_diagonal = std::move(var);
  out.inverse_mass_matrix = *std::move(metric);
  return out;
}

}  // namespace nutshell::vi
