// Multi-path Pathfinder (Zhang et al. 2022, Algorithm 2): independent
// Pathfinder runs from several starting points, their draws pooled and
// importance-resampled with Pareto-smoothed weights (psis.hpp), which
// corrects the normal approximations toward the target and reports k-hat.
//
//   auto r = vi::multipath::approximate(key, logdensity, starts);
//   // r->draws: resampled draws; r->k_hat: the weights' Pareto shape.
//
// Keys: path i uses fold_in(split_one(key, 0), i); resampled draw r uses
// fold_in(split_one(key, 1), r).
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nutshell/core/key.hpp"
#include "nutshell/core/logdensity.hpp"
#include "nutshell/vi/pathfinder.hpp"
#include "nutshell/vi/psis.hpp"

namespace nutshell::vi::multipath {

/// Settings: each path's (pathfinder.num_draws draws per path) and the pool.
struct Options {
  pathfinder::Options pathfinder;
  std::size_t num_draws = 1000;     ///< resampled draws returned
  bool importance_resampling = true;  ///< false: return the pool's first num_draws rows
};

/// What a multi-path run returns.
struct Result {
  Mat draws;         ///< num_draws rows, resampled with replacement from the pool
  Vec logdensities;  ///< log p of each returned draw
  double k_hat = 0.0;  ///< PSIS shape of the pooled weights (NaN: tail too short)
  std::vector<std::size_t> source_rows;  ///< pool row of each returned draw
  std::size_t num_paths_failed = 0;      ///< paths that ended in an error (skipped)
  std::vector<absl::Status> path_errors;  ///< their statuses
  std::vector<double> path_elbos;         ///< best ELBO of each successful path
  std::size_t num_evaluations = 0;        ///< log density evaluations in all
};

/// Runs one Pathfinder per starting point, pools the draws, and resamples.
/// A path that fails is skipped (recorded in `path_errors`); when every path
/// fails the first path's error is returned. Errors also: no starting points,
/// num_draws == 0, weights that are all zero.
template <LogDensity F>
absl::StatusOr<Result> approximate(const Key& key, F& logdensity,
                                   const std::vector<Vec>& initial_positions,
                                   const Options& options = {}) {
  if (initial_positions.empty() || options.num_draws == 0)
    return absl::InvalidArgumentError("multi-path pathfinder: no starting points or num_draws = 0");
  const Key path_key = split_one(key, 0), resample_key = split_one(key, 1);
  Result out;
  std::vector<Mat> draws;
  std::vector<Vec> log_ratios, lps;
  std::size_t pool = 0;
  for (std::size_t i = 0; i < initial_positions.size(); ++i) {
    auto r = pathfinder::approximate(fold_in(path_key, i), logdensity, initial_positions[i],
                                     options.pathfinder);
    if (!r.ok()) {
      out.path_errors.push_back(r.status());
      ++out.num_paths_failed;
      continue;
    }
    out.num_evaluations += r->num_evaluations;
    out.path_elbos.push_back(r->state.elbo);
    log_ratios.push_back(r->logdensities - r->log_q);
    lps.push_back(std::move(r->logdensities));
    pool += r->draws.shape(0);
    draws.push_back(std::move(r->draws));
  }
  if (draws.empty())
    return absl::Status(out.path_errors[0].code(),
                        absl::StrCat("multi-path pathfinder: every path failed; the first: ",
                                     out.path_errors[0].message()));
  const std::size_t d = draws[0].shape(1);
  Mat pooled = Mat::from_shape({pool, d});
  Vec pooled_ratio = Vec::from_shape({pool}), pooled_lp = Vec::from_shape({pool});
  for (std::size_t p = 0, row = 0; p < draws.size(); ++p)
    for (std::size_t r = 0; r < draws[p].shape(0); ++r, ++row) {
      xt::view(pooled, row, xt::all()) = xt::view(draws[p], r, xt::all());
      pooled_ratio(row) = log_ratios[p](r);
      pooled_lp(row) = lps[p](r);
    }
  out.draws = Mat::from_shape({options.num_draws, d});
  out.logdensities = Vec::from_shape({options.num_draws});
  out.source_rows.resize(options.num_draws);
  if (options.importance_resampling) {
    auto smoothed = psis(pooled_ratio);
    if (!smoothed.ok()) return smoothed.status();
    out.k_hat = smoothed->k_hat;
    const std::span<const double> logits(smoothed->log_weights.data(), pool);
    for (std::size_t r = 0; r < options.num_draws; ++r) {
      const std::ptrdiff_t c = categorical_logits(fold_in(resample_key, r), logits);
      if (c < 0) return absl::FailedPreconditionError("multi-path pathfinder: every weight is 0");
      out.source_rows[r] = static_cast<std::size_t>(c);
    }
  } else {
    out.k_hat = std::nan("");
    for (std::size_t r = 0; r < options.num_draws; ++r) out.source_rows[r] = r % pool;
  }
  for (std::size_t r = 0; r < options.num_draws; ++r) {
    xt::view(out.draws, r, xt::all()) = xt::view(pooled, out.source_rows[r], xt::all());
    out.logdensities(r) = pooled_lp(out.source_rows[r]);
  }
  return out;
}

}  // namespace nutshell::vi::multipath
