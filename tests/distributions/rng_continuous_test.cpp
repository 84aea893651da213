// Draws from the continuous families: Kolmogorov-Smirnov against the exact
// CDF and the first two moments, at several parameter values (small shapes
// included, where naive gamma-ratio methods underflow), on several keys.
#include <cmath>
#include <functional>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/diagnostics/special_functions.hpp"
#include "nutshell/distributions/rng_continuous.hpp"
#include "stats.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::expect_mean_var;
using dist_testing::kMinPValue;
using dist_testing::ks_pvalue;
using dist_testing::test_keys;

constexpr std::size_t kN = 20000;

std::vector<double> draws(const Key& key, const std::function<double(const Key&)>& rng) {
  std::vector<double> x(kN);
  for (std::size_t i = 0; i < kN; ++i) x[i] = rng(fold_in(key, i));
  return x;
}

double phi(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// Runs the KS test (and the moment test when `var` is finite) on every key.
void check(const std::string& label, const std::function<double(const Key&)>& rng,
           const std::function<double(double)>& cdf, double mean = NAN, double var = NAN) {
  for (const Key& key : test_keys()) {
    const auto x = draws(key, rng);
    EXPECT_GT(ks_pvalue(x, cdf), kMinPValue) << label;
    if (std::isfinite(var)) expect_mean_var(x, mean, var, label);
  }
}

TEST(RngContinuous, Normal) {
  for (auto [mu, sigma] : {std::pair{0.0, 1.0}, {-3.0, 0.1}, {100.0, 25.0}})
    check("normal", [=](const Key& k) { return normal_rng(k, mu, sigma); },
          [=](double x) { return phi((x - mu) / sigma); }, mu, sigma * sigma);
}

TEST(RngContinuous, StudentT) {
  for (double nu : {0.1, 0.7, 1.5, 3.0, 10.0, 80.0}) {
    const double mu = 1.0, sigma = 2.0;
    auto cdf = [=](double y) {
      const double t = (y - mu) / sigma;
      const double tail = 0.5 * diagnostics::beta_inc(0.5 * nu, 0.5, nu / (nu + t * t));
      return t > 0 ? 1.0 - tail : tail;
    };
    const double var = nu > 4.0 ? sigma * sigma * nu / (nu - 2.0) : NAN;
    check("student_t nu=" + std::to_string(nu), [=](const Key& k) { return student_t_rng(k, nu, mu, sigma); },
          cdf, mu, var);
  }
}

TEST(RngContinuous, Cauchy) {
  check("cauchy", [](const Key& k) { return cauchy_rng(k, -1.0, 0.5); },
        [](double x) { return 0.5 + std::atan((x + 1.0) / 0.5) / std::numbers::pi; });
}

TEST(RngContinuous, Exponential) {
  for (double beta : {0.01, 1.0, 30.0})
    check("exponential", [=](const Key& k) { return exponential_rng(k, beta); },
          [=](double x) { return -std::expm1(-beta * x); }, 1.0 / beta, 1.0 / (beta * beta));
}

TEST(RngContinuous, GammaIncludingTinyShapes) {
  for (double alpha : {0.05, 0.3, 1.0, 2.5, 40.0}) {
    const double beta = 3.0;
    check("gamma alpha=" + std::to_string(alpha), [=](const Key& k) { return gamma_rng(k, alpha, beta); },
          [=](double x) { return dist_testing::gamma_p(alpha, beta * x); }, alpha / beta,
          alpha / (beta * beta));
  }
}

TEST(RngContinuous, InvGamma) {
  for (double alpha : {0.5, 3.0, 6.0}) {
    const double beta = 2.0;
    const double var =
        alpha > 4.0 ? beta * beta / ((alpha - 1.0) * (alpha - 1.0) * (alpha - 2.0)) : NAN;
    check("inv_gamma alpha=" + std::to_string(alpha),
          [=](const Key& k) { return inv_gamma_rng(k, alpha, beta); },
          [=](double x) { return 1.0 - dist_testing::gamma_p(alpha, beta / x); }, beta / (alpha - 1.0),
          var);
  }
}

TEST(RngContinuous, Lognormal) {
  const double mu = 0.5, sigma = 0.4;
  check("lognormal", [=](const Key& k) { return lognormal_rng(k, mu, sigma); },
        [=](double x) { return phi((std::log(x) - mu) / sigma); }, std::exp(mu + 0.5 * sigma * sigma),
        std::expm1(sigma * sigma) * std::exp(2 * mu + sigma * sigma));
}

TEST(RngContinuous, BetaIncludingSmallShapes) {
  for (auto [a, b] : {std::pair{0.05, 0.05}, {0.3, 2.0}, {1.0, 1.0}, {2.0, 5.0}, {200.0, 50.0}}) {
    const double s = a + b;
    check("beta " + std::to_string(a) + "," + std::to_string(b),
          [=](const Key& k) { return beta_rng(k, a, b); },
          [=](double x) { return diagnostics::beta_inc(a, b, x); }, a / s, a * b / (s * s * (s + 1.0)));
  }
}

TEST(RngContinuous, Uniform) {
  check("uniform", [](const Key& k) { return uniform_rng(k, -2.0, 5.0); },
        [](double x) { return (x + 2.0) / 7.0; }, 1.5, 49.0 / 12.0);
}

TEST(RngContinuous, SameKeySameDraw) {
  const Key k = make_key(5);
  EXPECT_EQ(gamma_rng(k, 0.7, 2.0), gamma_rng(k, 0.7, 2.0));
  EXPECT_NE(gamma_rng(k, 0.7, 2.0), gamma_rng(fold_in(k, 1), 0.7, 2.0));
}

TEST(RngContinuous, InvalidParametersThrow) {
  const Key k = make_key(1);
  EXPECT_THROW(normal_rng(k, 0.0, 0.0), std::domain_error);
  EXPECT_THROW(normal_rng(k, NAN, 1.0), std::domain_error);
  EXPECT_THROW(student_t_rng(k, -1.0, 0.0, 1.0), std::domain_error);
  EXPECT_THROW(cauchy_rng(k, 0.0, -1.0), std::domain_error);
  EXPECT_THROW(exponential_rng(k, 0.0), std::domain_error);
  EXPECT_THROW(gamma_rng(k, 0.0, 1.0), std::domain_error);
  EXPECT_THROW(inv_gamma_rng(k, 1.0, INFINITY), std::domain_error);
  EXPECT_THROW(lognormal_rng(k, 0.0, -2.0), std::domain_error);
  EXPECT_THROW(beta_rng(k, 1.0, 0.0), std::domain_error);
  EXPECT_THROW(uniform_rng(k, 1.0, 1.0), std::domain_error);
}

}  // namespace
}  // namespace nutshell::distributions

namespace nutshell::distributions {
namespace {
// The KS check must be able to fail: a gamma with a 4% error in its shape is
// caught on every key.
TEST(RngContinuous, TheKsCheckCatchesASmallError) {
  for (const Key& key : test_keys()) {
    const auto x = draws(key, [](const Key& k) { return gamma_rng(k, 2.08, 1.0); });
    EXPECT_LT(ks_pvalue(x, [](double v) { return dist_testing::gamma_p(2.0, v); }), kMinPValue);
  }
}
}  // namespace
}  // namespace nutshell::distributions
