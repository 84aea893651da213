// Forward mode through the distributions: with ad::dual arguments a density
// returns its value and the directional derivative sum_k d lp / d arg_k *
// tangent_k, which must equal the reverse-mode gradient dotted with the same
// direction (scalar and vector arguments, broadcasting, every argument or a
// subset). And normal_lpdf's blocked sum of log-scales equals the plain sum.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "nutshell/ad/ad.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions {
namespace {

// f over x = (mu, sigma, y[0..4]) mixing scalar and vector arguments.
template <class T>
T model(std::span<const T> x) {
  const auto y = x.subspan(2);
  const std::vector<double> data = {0.5, 1.5, 2.0, 0.25, 3.0};
  const std::vector<int> counts = {0, 3, 1, 7, 2};
  return normal_lpdf(y, x[0], x[1]) + cauchy_lpdf(x[0], 0.0, 2.0) + gamma_lpdf(x[1], 2.0, 1.5) +
         lognormal_lpdf(std::span<const double>(data), x[0], x[1]) + student_t_lpdf(y, 4.0, x[0], 2.0) +
         poisson_lpmf(std::span<const int>(counts), x[1]) + normal_lpdf(x[0], y, 3.0) +
         exponential_lpdf(x[1], 0.7) + beta_lpdf(0.3, x[1], 2.0);
}

TEST(DistributionsDual, DirectionalDerivativeEqualsGradientAlongDirection) {
  const std::vector<double> x = {0.3, 1.7, -0.5, 0.9, 2.2, -1.4, 0.05};
  const std::vector<double> v = {0.8, -0.35, 1.0, 0.2, -0.6, 0.45, -1.1};
  auto f = [](auto u) { return model(u); };
  std::vector<double> g(x.size());
  const double lp = ad::value_and_gradient(f, std::span<const double>(x), std::span<double>(g));
  double gv = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) gv += g[i] * v[i];
  double lp_fwd = 0.0;
  const double dd =
      ad::directional_derivative(f, std::span<const double>(x), std::span<const double>(v), &lp_fwd);
  EXPECT_DOUBLE_EQ(lp_fwd, lp);
  EXPECT_NEAR(dd, gv, 1e-12 * std::max(1.0, std::abs(gv)));
}

TEST(DistributionsDual, ConstantArgumentsHaveZeroTangent) {
  const ad::dual mu(0.4, 1.0);
  const std::vector<double> y = {1.0, -2.0, 0.5};
  const ad::dual lp = normal_lpdf(std::span<const double>(y), mu, 2.0);
  double expect = 0.0;  // d/dmu = sum (y - mu) / sigma^2
  for (double yi : y) expect += (yi - 0.4) / 4.0;
  EXPECT_NEAR(lp.d_, expect, 1e-15);
  EXPECT_DOUBLE_EQ(lp.val_, normal_lpdf(std::span<const double>(y), 0.4, 2.0));
  // A double-only call stays double.
  static_assert(std::is_same_v<decltype(normal_lpdf(1.0, 0.0, 1.0)), double>);
}

TEST(DistributionsSumLog, BlockedSumOfLogScalesEqualsPlainSum) {
  // More than one block of 16, extreme exponents, subnormal and 1.0 scales.
  std::vector<double> sigma;
  for (int i = 0; i < 37; ++i) sigma.push_back(std::ldexp(1.0 + 0.37 * (i % 5), (i * 53) % 1900 - 950));
  sigma.push_back(1.0);
  const std::vector<double> y(sigma.size(), 0.0);
  double plain = 0.0;
  for (double s : sigma) plain += std::log(s);
  const double lp = normal_lpdf(std::span<const double>(y), 0.0, std::span<const double>(sigma));
  const double expect = -plain - static_cast<double>(y.size()) * 0.5 * std::log(2.0 * M_PI);
  EXPECT_NEAR(lp, expect, 1e-13 * std::abs(expect));
  // Subnormal and infinite values take the plain log.
  sigma.push_back(std::numeric_limits<double>::denorm_min() * 3.0);
  plain += std::log(sigma.back());
  EXPECT_NEAR(detail::sum_log(detail::seq(sigma), sigma.size()), plain, 1e-13 * std::abs(plain));
  sigma.push_back(std::numeric_limits<double>::infinity());
  EXPECT_EQ(detail::sum_log(detail::seq(sigma), sigma.size()), std::numeric_limits<double>::infinity());
  // An empty vector of scales.
  EXPECT_EQ(normal_lpdf(std::span<const double>(), 0.0, std::span<const double>()), 0.0);
}

}  // namespace
}  // namespace nutshell::distributions
