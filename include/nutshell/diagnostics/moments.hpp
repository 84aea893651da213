// Mean and variance computed the way R computes them, so that diagnostics
// built on them reproduce R's `posterior` package to the last few ulps.
#pragma once

#include <span>

namespace nutshell::diagnostics {

/// The arithmetic mean with R's refinement pass (so a constant sequence has
/// exactly its value as mean).
/// NaN for an empty sequence.
double mean(std::span<const double> x);

/// The unbiased sample variance (denominator n - 1) as R's `var`.
/// NaN for fewer than two values.
double variance(std::span<const double> x);

/// The sample standard deviation sqrt(variance(x)), as R's `sd`.
double sd(std::span<const double> x);

}  // namespace nutshell::diagnostics
