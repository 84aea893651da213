// Checks of sample moments against known truths with Monte Carlo standard
// errors.
//
// The MCSE comes from non-overlapping batch means (Flegal and Jones 2010):
// with b = floor(sqrt(n)) batches' means of the series, MCSE = sd(batch
// means) / sqrt(b). It is independent of the ESS code under test in
// diagnostics, which is deliberate. Variances are checked the same way, on
// the series (x - truth_mean)^2 whose mean is the variance.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/core/types.hpp"

namespace nutshell::testing {

struct MeanAndError {
  double mean = 0.0;
  double mcse = 0.0;
};

/// Mean and batch-means MCSE of a series.
inline MeanAndError batch_means(const std::vector<double>& x) {
  const std::size_t n = x.size();
  const std::size_t b = static_cast<std::size_t>(std::sqrt(static_cast<double>(n)));
  const std::size_t len = n / b;
  std::vector<double> means(b, 0.0);
  double total = 0.0;
  for (std::size_t k = 0; k < b; ++k) {
    for (std::size_t i = 0; i < len; ++i) means[k] += x[k * len + i];
    means[k] /= static_cast<double>(len);
    total += means[k];
  }
  const double grand = total / static_cast<double>(b);
  double ss = 0.0;
  for (double m : means) ss += (m - grand) * (m - grand);
  const double var_of_means = ss / static_cast<double>(b - 1);
  return {grand, std::sqrt(var_of_means / static_cast<double>(b))};
}

/// Column `j` of a [draw, dim] matrix as a series.
inline std::vector<double> column(const Mat& draws, std::size_t j) {
  std::vector<double> out(draws.shape(0));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = draws(i, j);
  return out;
}

/// Expects every coordinate's mean within `z` MCSE of `mean` and every
/// variance within `z` MCSE of `variance`. The MCSE is floored at 1e-3 of the
/// scale so a sampler that is stuck (zero spread) still fails.
inline void expect_moments(const Mat& draws, const Vec& mean, const Vec& variance, double z = 4.0,
                           const std::string& label = "") {
  for (std::size_t j = 0; j < mean.size(); ++j) {
    const auto series = column(draws, j);
    const auto m = batch_means(series);
    const double sd = std::sqrt(variance(j));
    EXPECT_GT(m.mcse, 1e-3 * sd) << label << " coordinate " << j << " looks stuck";
    EXPECT_LT(std::abs(m.mean - mean(j)), z * m.mcse)
        << label << " mean of coordinate " << j << ": " << m.mean << " vs " << mean(j)
        << " (mcse " << m.mcse << ")";
    std::vector<double> sq(series.size());
    for (std::size_t i = 0; i < sq.size(); ++i) sq[i] = (series[i] - mean(j)) * (series[i] - mean(j));
    const auto v = batch_means(sq);
    EXPECT_LT(std::abs(v.mean - variance(j)), z * v.mcse)
        << label << " variance of coordinate " << j << ": " << v.mean << " vs " << variance(j)
        << " (mcse " << v.mcse << ")";
    // A loose relative check on top: the MCSE itself is noisy for short runs.
    EXPECT_LT(std::abs(v.mean - variance(j)) / variance(j), 0.25)
        << label << " variance of coordinate " << j;
  }
}

}  // namespace nutshell::testing
