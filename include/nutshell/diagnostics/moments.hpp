// Mean and variance computed the way R computes them, so that diagnostics
// built on them reproduce R's `posterior` package to the last few ulps.
#pragma once

#include <cstddef>
#include <span>

namespace nutshell::diagnostics {

/// The arithmetic mean with R's refinement pass (so a constant sequence has
/// exactly its value as mean).
/// NaN for an empty sequence.
double mean(std::span<const double> x);

/// The unbiased sample variance (denominator n - 1) as R's `var`.
/// NaN for fewer than two values.
double variance(std::span<const double> x);

/// mean() and variance() of each row of the row-major [rows, n] array `x`,
/// bit for bit: each row's sums run in the same order, but eight rows at a
/// time, so that their additions overlap (one row's sum is a chain of
/// dependent additions, bound by their latency). `variances` may be null.
void row_moments(const double* x, std::size_t rows, std::size_t n, double* means,
                 double* variances);

/// The sample standard deviation sqrt(variance(x)), as R's `sd`.
double sd(std::span<const double> x);

}  // namespace nutshell::diagnostics
