// Sample quantiles of pooled draws, defined as R's default (type 7), which
// `posterior` uses for its summaries and tail diagnostics.
#pragma once

#include <span>

namespace nutshell::diagnostics {

/// The type-7 sample quantile at `prob` in [0, 1] (linear interpolation
/// between order statistics at (n - 1) * prob), as R's `quantile`.
/// NaN if `x` is empty or `prob` is outside [0, 1].
double quantile(std::span<const double> x, double prob);

/// The same, on values already sorted ascending (no copy, O(1)).
double quantile_sorted(std::span<const double> sorted, double prob);

/// The median (mean of the two middle values for even n), as R's `median`.
double median(std::span<const double> x);

/// The same, on values already sorted ascending (O(1)); the same bits.
double median_sorted(std::span<const double> sorted);

}  // namespace nutshell::diagnostics
