#include "nutshell/diagnostics/quantile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace nutshell::diagnostics {

double quantile_sorted(std::span<const double> sorted, double prob) {
  if (sorted.empty() || std::isnan(prob) || prob < 0.0 || prob > 1.0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  // R's arithmetic step by step (1-based index, interpolate only between
  // distinct neighbours) so that x <= quantile holds for exactly the same
  // draws as in R, which the quantile ESS depends on.
  const double index = 1.0 + static_cast<double>(sorted.size() - 1) * prob;
  const double lo = std::floor(index);
  const double hi = std::ceil(index);
  const double q_lo = sorted[static_cast<std::size_t>(lo) - 1];
  const double q_hi = sorted[static_cast<std::size_t>(hi) - 1];
  if (index > lo && q_hi != q_lo) {
    const double h = index - lo;
    return (1.0 - h) * q_lo + h * q_hi;
  }
  return q_lo;
}

double quantile(std::span<const double> x, double prob) {
  if (x.empty() || std::isnan(prob) || prob < 0.0 || prob > 1.0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  // Only the two order statistics around the index are needed: O(n)
  // selection instead of a sort.
  std::vector<double> v(x.begin(), x.end());
  const double index = 1.0 + static_cast<double>(v.size() - 1) * prob;
  const std::size_t lo = static_cast<std::size_t>(std::floor(index)) - 1;
  std::nth_element(v.begin(), v.begin() + lo, v.end());
  if (lo + 1 < v.size()) {
    std::iter_swap(v.begin() + lo + 1, std::min_element(v.begin() + lo + 1, v.end()));
  }
  return quantile_sorted(v, prob);
}

double median(std::span<const double> x) {
  const std::size_t n = x.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  std::vector<double> v(x.begin(), x.end());
  const std::size_t half = (n + 1) / 2 - 1;
  std::nth_element(v.begin(), v.begin() + half, v.end());
  if (n % 2 == 1) return v[half];
  const double lower = v[half];
  const double upper = *std::min_element(v.begin() + half + 1, v.end());
  // R takes mean(c(lower, upper)): the correctly rounded midpoint.
  return static_cast<double>((static_cast<long double>(lower) + upper) / 2);
}

double median_sorted(std::span<const double> sorted) {
  const std::size_t n = sorted.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t half = (n + 1) / 2 - 1;
  if (n % 2 == 1) return sorted[half];
  return static_cast<double>((static_cast<long double>(sorted[half]) + sorted[half + 1]) / 2);
}

}  // namespace nutshell::diagnostics
