// Convergence diagnostics of MCMC draws: rank-normalised split R-hat, bulk,
// tail and basic effective sample sizes and Monte Carlo standard errors
// (Vehtari, Gelman, Simpson, Carpenter, Buerkner 2021).
//
// Every value reproduces R's `posterior` package (1.4.0): same chain
// splitting, rank normalisation, Geyer initial positive + monotone sequence
// truncation, ESS cap at S * log10(S) and type-7 quantiles. Where posterior
// returns NA -- all draws (nearly) equal, within 2.2e-16, or too few draws
// after splitting (fewer than 3 per split chain for ESS) -- these return a
// quiet NaN inside an OK status.
//
// Draws of one scalar quantity are [chain, draw]; draws of a vector are
// [chain, draw, dimension] and give one value per dimension. Invalid input
// (no chain, fewer than 4 draws, no dimension, a non-finite draw) is an
// InvalidArgument error.
#pragma once

#include <xtensor/xtensor.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nutshell::diagnostics {

/// Draws of one scalar quantity, shaped [chain, draw].
using ChainDraws = xt::xtensor<double, 2>;
/// Draws of a vector quantity, shaped [chain, draw, dimension].
using Draws = xt::xtensor<double, 3>;
/// One diagnostic value per dimension.
using PerDimension = xt::xtensor<double, 1>;

/// The fewest draws per chain the diagnostics accept.
inline constexpr std::size_t kMinDraws = 4;

/// OK if `x` has a chain, at least kMinDraws draws and only finite values;
/// otherwise the InvalidArgument error every diagnostic below returns.
absl::Status validate_draws(const ChainDraws& x);
/// The same for [chain, draw, dimension] draws (also needs a dimension).
absl::Status validate_draws(const Draws& x);

/// Rank-normalised split R-hat: the larger of bulk R-hat (split, rank
/// normalised draws) and tail R-hat (the same on draws folded around the
/// median). Near 1 for converged chains; > 1.01 suggests otherwise.
/// Matches posterior's `rhat`.
absl::StatusOr<double> rhat(const ChainDraws& x);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> rhat(const Draws& x);

/// The classic potential scale reduction factor without rank
/// normalisation, of split chains by default. posterior's `rhat_basic`.
absl::StatusOr<double> rhat_basic(const ChainDraws& x, bool split = true);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> rhat_basic(const Draws& x, bool split = true);

/// Bulk effective sample size: ESS of split, rank-normalised draws, the
/// reliability of estimates of the centre of the distribution.
/// posterior's `ess_bulk`.
absl::StatusOr<double> ess_bulk(const ChainDraws& x);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> ess_bulk(const Draws& x);

/// Tail effective sample size: the smaller ESS of the 5% and 95% quantiles,
/// the reliability of interval estimates. posterior's `ess_tail`.
absl::StatusOr<double> ess_tail(const ChainDraws& x);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> ess_tail(const Draws& x);

/// ESS without rank normalisation (split chains by default): the ESS that
/// governs the error of the posterior mean. posterior's `ess_basic`
/// (`ess_mean` is the split version).
absl::StatusOr<double> ess_basic(const ChainDraws& x, bool split = true);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> ess_basic(const Draws& x, bool split = true);

/// ESS for the `prob` quantile (ESS of the indicator x <= quantile), with
/// prob in [0, 1]. posterior's `ess_quantile`.
absl::StatusOr<double> ess_quantile(const ChainDraws& x, double prob);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> ess_quantile(const Draws& x, double prob);

/// Monte Carlo standard error of the posterior mean, sd / sqrt(ESS of
/// split chains). posterior's `mcse_mean`.
absl::StatusOr<double> mcse_mean(const ChainDraws& x);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> mcse_mean(const Draws& x);

/// Monte Carlo standard error of the posterior standard deviation
/// (delta method on the variance). posterior's `mcse_sd` (1.4.0).
absl::StatusOr<double> mcse_sd(const ChainDraws& x);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> mcse_sd(const Draws& x);

/// Monte Carlo standard error of the `prob` quantile, from the +-1 sd
/// interval of a Beta distribution of the quantile's rank.
/// posterior's `mcse_quantile`.
absl::StatusOr<double> mcse_quantile(const ChainDraws& x, double prob);
/// The same for each dimension of [chain, draw, dimension] draws.
absl::StatusOr<PerDimension> mcse_quantile(const Draws& x, double prob);

}  // namespace nutshell::diagnostics
