// Pareto-smoothed importance sampling (Vehtari, Simpson, Gelman, Yao and
// Gabry 2024): the largest importance ratios are replaced by the expected
// order statistics of a generalized Pareto distribution fitted to them
// (Zhang and Stephens 2009, with the weakly informative prior on k), and the
// fitted shape k-hat says whether the weights can be trusted (k-hat < 0.7).
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "nutshell/core/types.hpp"

namespace nutshell::vi {

/// A generalized Pareto fit: shape k and scale sigma.
struct GeneralizedPareto {
  double k = 0.0;
  double sigma = 0.0;
};

/// Zhang and Stephens' (2009) empirical-Bayes fit to positive exceedances
/// `x` (sorted ascending inside), with the posterior mean of k shrunk
/// toward 0.5 by the PSIS paper's prior (k n / (n + 10) + 5 / (n + 10)).
/// Errors: fewer than 5 values, or a non-finite or negative value.
absl::StatusOr<GeneralizedPareto> fit_generalized_pareto(Vec x);

/// Smoothed log weights and the tail shape.
struct PsisResult {
  Vec log_weights;  ///< smoothed, normalised so that they log-sum-exp to 0
  double k_hat = 0.0;  ///< NaN when the tail was too short to fit
  std::size_t tail_length = 0;
};

/// Pareto-smooths `log_ratios` (log p - log q of each draw; -inf allowed,
/// meaning weight 0). The tail is the M = ceil(min(0.2 S, 3 sqrt(S))) largest
/// ratios; each is replaced by the GPD quantile at (z - 1/2) / M, z = 1..M,
/// above the threshold, capped at the largest raw ratio. With M < 5 the
/// weights are only normalised. Errors: no finite ratio, or a NaN.
absl::StatusOr<PsisResult> psis(const Vec& log_ratios);

/// The diagnostic threshold min(1 - 1 / log10(S), 0.7) for S draws.
double psis_k_threshold(std::size_t num_draws);

}  // namespace nutshell::vi
