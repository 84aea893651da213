// Goodness-of-fit checks for the random draws: moments with their standard
// errors, Kolmogorov-Smirnov against a CDF, chi-square against a pmf; and
// the regularized incomplete gamma function the gamma CDF and the chi-square
// p-value need (the C++ standard library has neither).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/core/key.hpp"

namespace nutshell::dist_testing {

/// The keys every draw test runs on: each one must pass, so no test is
/// tuned to one seed. NUTSHELL_DIST_KEYS=n runs n keys (3 by default).
inline std::vector<Key> test_keys() {
  int n = 3;
  if (const char* e = std::getenv("NUTSHELL_DIST_KEYS")) n = std::max(1, std::atoi(e));
  std::vector<Key> keys;
  for (int i = 0; i < n; ++i) keys.push_back(make_key(1000 + 7919 * static_cast<std::uint64_t>(i)));
  return keys;
}

/// Regularized lower incomplete gamma P(a, x): the series for x < a + 1,
/// Lentz's continued fraction for Q otherwise (Numerical Recipes' split).
inline double gamma_p(double a, double x) {
  if (x <= 0.0) return 0.0;
  const double log_prefix = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1.0) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 100000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::abs(term) < std::abs(sum) * 1e-16) break;
    }
    return sum * std::exp(log_prefix);
  }
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < 1e-16) break;
  }
  return 1.0 - std::exp(log_prefix) * h;
}

/// P-value of the Kolmogorov-Smirnov statistic of `x` against `cdf`
/// (Stephens' finite-n correction of the asymptotic distribution).
inline double ks_pvalue(std::vector<double> x, const std::function<double(double)>& cdf) {
  std::sort(x.begin(), x.end());
  const double n = static_cast<double>(x.size());
  // Draws are rounded to doubles, so a distribution with mass piled within
  // an ulp of a point (Beta(0.05, 0.05) near 1) yields ties: compare each
  // group of equal draws with the CDF just below it and at it.
  double d = 0.0;
  for (std::size_t i = 0; i < x.size();) {
    std::size_t j = i;
    while (j < x.size() && x[j] == x[i]) ++j;
    const double below = cdf(std::nextafter(x[i], -INFINITY)), at = cdf(x[i]);
    d = std::max({d, below - i / n, j / n - at});
    i = j;
  }
  const double lambda = (std::sqrt(n) + 0.12 + 0.11 / std::sqrt(n)) * d;
  double p = 0.0;
  for (int k = 1; k < 100; ++k) p += 2.0 * ((k % 2) ? 1.0 : -1.0) * std::exp(-2.0 * k * k * lambda * lambda);
  return std::clamp(p, 0.0, 1.0);
}

/// P-value of Pearson's chi-square test of integer draws against `pmf` on
/// 0, 1, 2, ...: cells are merged until each expects at least 10 draws, the
/// last cell takes the whole upper tail.
inline double chi_square_pvalue(const std::vector<std::int64_t>& draws,
                                const std::function<double(std::int64_t)>& pmf, std::int64_t kmax) {
  const double n = static_cast<double>(draws.size());
  std::vector<double> count(static_cast<std::size_t>(kmax) + 2, 0.0);
  for (auto k : draws) {
    EXPECT_GE(k, 0) << "negative draw";
    count[static_cast<std::size_t>(std::clamp<std::int64_t>(k, 0, kmax + 1))] += 1.0;
  }
  double stat = 0.0, prob_used = 0.0, observed_used = 0.0, cell_p = 0.0, cell_o = 0.0;
  int cells = 0;
  for (std::int64_t k = 0; k <= kmax; ++k) {
    cell_p += pmf(k);
    cell_o += count[static_cast<std::size_t>(k)];
    if (n * cell_p >= 10.0 && n * (1.0 - prob_used - cell_p) >= 10.0) {
      stat += (cell_o - n * cell_p) * (cell_o - n * cell_p) / (n * cell_p);
      prob_used += cell_p;
      observed_used += cell_o;
      cell_p = cell_o = 0.0;
      ++cells;
    }
  }
  const double last_p = 1.0 - prob_used, last_o = n - observed_used;
  stat += (last_o - n * last_p) * (last_o - n * last_p) / (n * last_p);
  ++cells;
  if (cells < 2) return 1.0;
  return 1.0 - gamma_p(0.5 * (cells - 1), 0.5 * stat);
}

/// Expects the sample mean and variance of `x` within `z` standard errors of
/// the truth (the variance's standard error from the sample fourth moment).
inline void expect_mean_var(const std::vector<double>& x, double mean, double var,
                            const std::string& label, double z = 5.0) {
  const double n = static_cast<double>(x.size());
  double m = 0.0;
  for (double v : x) m += v;
  m /= n;
  double m2 = 0.0, m4 = 0.0;
  for (double v : x) {
    const double d2 = (v - mean) * (v - mean);
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= n;
  m4 /= n;
  EXPECT_LT(std::abs(m - mean), z * std::sqrt(var / n)) << label << ": mean " << m << " vs " << mean;
  const double se_var = std::sqrt(std::max(m4 - m2 * m2, 1e-300) / n);
  EXPECT_LT(std::abs(m2 - var), z * se_var) << label << ": variance " << m2 << " vs " << var;
}

/// A p-value below this fails a goodness-of-fit test: with ~100 such tests
/// over 3 keys, a correct sampler fails one by chance with probability 3e-3.
inline constexpr double kMinPValue = 1e-5;

}  // namespace nutshell::dist_testing
