// The discrete log mass functions: values against closed forms written out
// here (and sums of the pmf to 1), gradients against finite differences for
// every subset of var parameters, propto, the support and invalid
// parameters.
#include <cmath>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "grad.hpp"
#include "nutshell/distributions/categorical.hpp"
#include "nutshell/distributions/discrete.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::check_all_masks;
using dist_testing::pick;

double lfact(double k) { return std::lgamma(k + 1.0); }
double logistic(double a) { return 1.0 / (1.0 + std::exp(-a)); }

TEST(LpmfDiscrete, Poisson) {
  EXPECT_NEAR(poisson_lpmf(3, 2.5), 3 * std::log(2.5) - 2.5 - lfact(3), 1e-14);
  EXPECT_NEAR(poisson_lpmf(0, 0.0), 0.0, 1e-15);
  EXPECT_EQ(poisson_lpmf(2, 0.0), -INFINITY);
  EXPECT_EQ(poisson_lpmf(-1, 2.0), -INFINITY);
  double total = 0;
  for (int k = 0; k < 100; ++k) total += std::exp(poisson_lpmf(k, 7.3));
  EXPECT_NEAR(total, 1.0, 1e-13);
  for (int k : {0, 4, 17})
    check_all_masks<1>(
        "poisson", [=]<unsigned M>(auto x) { return poisson_lpmf<false>(k, pick<M, 0>(x)); },
        [=]<unsigned M>(auto x) { return poisson_lpmf<true>(k, pick<M, 0>(x)); }, {3.2}, {0.4});
}

TEST(LpmfDiscrete, PoissonLog) {
  EXPECT_NEAR(poisson_log_lpmf(5, std::log(2.5)), poisson_lpmf(5, 2.5), 1e-13);
  EXPECT_NEAR(poisson_log_lpmf(0, -INFINITY), 0.0, 1e-15);
  EXPECT_EQ(poisson_log_lpmf(1, -INFINITY), -INFINITY);
  for (int k : {0, 9})
    check_all_masks<1>(
        "poisson_log", [=]<unsigned M>(auto x) { return poisson_log_lpmf<false>(k, pick<M, 0>(x)); },
        [=]<unsigned M>(auto x) { return poisson_log_lpmf<true>(k, pick<M, 0>(x)); }, {1.2}, {-3.0});
}

TEST(LpmfDiscrete, Binomial) {
  EXPECT_NEAR(binomial_lpmf(3, 10, 0.2),
              lfact(10) - lfact(3) - lfact(7) + 3 * std::log(0.2) + 7 * std::log(0.8), 1e-13);
  EXPECT_NEAR(binomial_lpmf(0, 10, 0.0), 0.0, 1e-15);
  EXPECT_NEAR(binomial_lpmf(10, 10, 1.0), 0.0, 1e-15);
  EXPECT_EQ(binomial_lpmf(11, 10, 0.5), -INFINITY);
  EXPECT_EQ(binomial_lpmf(-1, 10, 0.5), -INFINITY);
  EXPECT_EQ(binomial_lpmf(1, 10, 0.0), -INFINITY);
  double total = 0;
  for (int k = 0; k <= 25; ++k) total += std::exp(binomial_lpmf(k, 25, 0.37));
  EXPECT_NEAR(total, 1.0, 1e-13);
  for (int k : {0, 4, 12})
    check_all_masks<1>(
        "binomial", [=]<unsigned M>(auto x) { return binomial_lpmf<false>(k, 12, pick<M, 0>(x)); },
        [=]<unsigned M>(auto x) { return binomial_lpmf<true>(k, 12, pick<M, 0>(x)); }, {0.3}, {0.85});
}

TEST(LpmfDiscrete, BinomialLogit) {
  EXPECT_NEAR(binomial_logit_lpmf(4, 9, 0.7), binomial_lpmf(4, 9, logistic(0.7)), 1e-13);
  // Far in the tails the logit form stays finite where theta rounds to 1.
  EXPECT_TRUE(std::isfinite(binomial_logit_lpmf(3, 9, 40.0)));
  for (int k : {0, 4, 9})
    check_all_masks<1>(
        "binomial_logit", [=]<unsigned M>(auto x) { return binomial_logit_lpmf<false>(k, 9, pick<M, 0>(x)); },
        [=]<unsigned M>(auto x) { return binomial_logit_lpmf<true>(k, 9, pick<M, 0>(x)); }, {0.7}, {-2.5});
}

TEST(LpmfDiscrete, BernoulliAndLogit) {
  EXPECT_NEAR(bernoulli_lpmf(1, 0.3), std::log(0.3), 1e-15);
  EXPECT_NEAR(bernoulli_lpmf(0, 0.3), std::log(0.7), 1e-15);
  EXPECT_EQ(bernoulli_lpmf(2, 0.3), -INFINITY);
  EXPECT_EQ(bernoulli_lpmf(1, 0.0), -INFINITY);
  EXPECT_NEAR(bernoulli_logit_lpmf(1, -0.4), std::log(logistic(-0.4)), 1e-15);
  EXPECT_NEAR(bernoulli_logit_lpmf(0, -0.4), std::log(1 - logistic(-0.4)), 1e-15);
  EXPECT_NEAR(bernoulli_logit_lpmf(0, 800.0), -800.0, 1e-12);  // no overflow
  EXPECT_EQ(bernoulli_logit_lpmf(3, 0.1), -INFINITY);
  for (int k : {0, 1}) {
    check_all_masks<1>(
        "bernoulli", [=]<unsigned M>(auto x) { return bernoulli_lpmf<false>(k, pick<M, 0>(x)); },
        [=]<unsigned M>(auto x) { return bernoulli_lpmf<true>(k, pick<M, 0>(x)); }, {0.3}, {0.9});
    check_all_masks<1>(
        "bernoulli_logit", [=]<unsigned M>(auto x) { return bernoulli_logit_lpmf<false>(k, pick<M, 0>(x)); },
        [=]<unsigned M>(auto x) { return bernoulli_logit_lpmf<true>(k, pick<M, 0>(x)); }, {0.3}, {-4.0});
  }
}

TEST(LpmfDiscrete, CategoricalAndLogit) {
  const std::vector<double> theta{0.2, 0.5, 0.3};
  EXPECT_NEAR(categorical_lpmf(1, theta), std::log(0.5), 1e-15);
  const std::vector<int> ns{0, 2, 2, 1};
  EXPECT_NEAR(categorical_lpmf(ns, theta), std::log(0.2 * 0.3 * 0.3 * 0.5), 1e-14);
  EXPECT_EQ(categorical_lpmf(3, theta), -INFINITY);
  EXPECT_EQ(categorical_lpmf(-1, theta), -INFINITY);
  const std::vector<double> beta{0.4, -1.0, 2.0};
  const double lse = std::log(std::exp(0.4) + std::exp(-1.0) + std::exp(2.0));
  EXPECT_NEAR(categorical_logit_lpmf(ns, beta), 0.4 + 2 * 2.0 - 1.0 - 4 * lse, 1e-13);
  // Gradients in every coordinate of theta (off the simplex, the density
  // is still the formula; the simplex check allows 1e-8) and of beta.
  auto f = [&](auto x) { return categorical_logit_lpmf(ns, x); };
  dist_testing::expect_gradient(f, beta, 0u, "categorical_logit", true);
  auto g = [&](auto x) { return categorical_lpmf(ns, x); };
  std::vector<double> g_ad;
  dist_testing::ad_gradient(g, theta, g_ad);
  EXPECT_NEAR(g_ad[0], 1 / 0.2, 1e-12);
  EXPECT_NEAR(g_ad[1], 1 / 0.5, 1e-12);
  EXPECT_NEAR(g_ad[2], 2 / 0.3, 1e-12);
  EXPECT_EQ(categorical_lpmf<true>(ns, theta), 0.0);
}

TEST(LpmfDiscrete, NegBinomial2AndLog) {
  const double mu = 3.5, phi = 1.7;
  for (int k : {0, 2, 11}) {
    EXPECT_NEAR(neg_binomial_2_lpmf(k, mu, phi),
                std::lgamma(k + phi) - std::lgamma(phi) - lfact(k) + k * std::log(mu / (mu + phi)) +
                    phi * std::log(phi / (mu + phi)),
                1e-13);
    EXPECT_NEAR(neg_binomial_2_log_lpmf(k, std::log(mu), phi), neg_binomial_2_lpmf(k, mu, phi), 1e-13);
    check_all_masks<2>(
        "neg_binomial_2",
        [=]<unsigned M>(auto x) { return neg_binomial_2_lpmf<false>(k, pick<M, 0>(x), pick<M, 1>(x)); },
        [=]<unsigned M>(auto x) { return neg_binomial_2_lpmf<true>(k, pick<M, 0>(x), pick<M, 1>(x)); },
        {mu, phi}, {0.3, 25.0});
    check_all_masks<2>(
        "neg_binomial_2_log",
        [=]<unsigned M>(auto x) { return neg_binomial_2_log_lpmf<false>(k, pick<M, 0>(x), pick<M, 1>(x)); },
        [=]<unsigned M>(auto x) { return neg_binomial_2_log_lpmf<true>(k, pick<M, 0>(x), pick<M, 1>(x)); },
        {0.4, phi}, {-2.0, 0.2});
  }
  double total = 0;
  for (int k = 0; k < 2000; ++k) total += std::exp(neg_binomial_2_lpmf(k, 20.0, 0.8));
  EXPECT_NEAR(total, 1.0, 1e-10);
  EXPECT_EQ(neg_binomial_2_lpmf(-1, mu, phi), -INFINITY);
}

TEST(LpmfDiscrete, InvalidParametersThrowDomainError) {
  EXPECT_THROW(poisson_lpmf(1, -0.5), std::domain_error);
  EXPECT_THROW(poisson_lpmf(1, INFINITY), std::domain_error);
  EXPECT_THROW(poisson_log_lpmf(1, NAN), std::domain_error);
  EXPECT_THROW(binomial_lpmf(1, -2, 0.5), std::domain_error);
  EXPECT_THROW(binomial_lpmf(1, 2, 1.5), std::domain_error);
  EXPECT_THROW(binomial_logit_lpmf(1, 2, NAN), std::domain_error);
  EXPECT_THROW(bernoulli_lpmf(1, -0.1), std::domain_error);
  EXPECT_THROW(bernoulli_logit_lpmf(1, NAN), std::domain_error);
  const std::vector<double> not_simplex{0.5, 0.6}, bad_beta{0.0, NAN};
  EXPECT_THROW(categorical_lpmf(0, not_simplex), std::domain_error);
  EXPECT_THROW(categorical_logit_lpmf(0, bad_beta), std::domain_error);
  EXPECT_THROW(neg_binomial_2_lpmf(1, 0.0, 1.0), std::domain_error);
  EXPECT_THROW(neg_binomial_2_lpmf(1, 1.0, -1.0), std::domain_error);
  EXPECT_THROW(neg_binomial_2_log_lpmf(1, INFINITY, 1.0), std::domain_error);
}

}  // namespace
}  // namespace nutshell::distributions

namespace nutshell::distributions {
namespace {
// Far out in valid parameter space the value is finite, and so is the AD
// gradient, which still matches finite differences (an infinite or NaN
// gradient where the value is finite would be a bug).
TEST(LpmfDiscrete, GradientsFiniteAtExtremeValidArguments) {
  for (double a : {-40.0, -8.0, 8.0, 40.0}) {
    for (int k : {0, 1}) {
      auto f = [=](auto x) { return bernoulli_logit_lpmf(k, x[0]); };
      dist_testing::expect_gradient(f, {a}, 1u, "bernoulli_logit a=" + std::to_string(a), false, 1e-5);
    }
    auto g = [=](auto x) { return binomial_logit_lpmf(3, 10, x[0]); };
    dist_testing::expect_gradient(g, {a}, 1u, "binomial_logit a=" + std::to_string(a), false, 1e-5);
  }
  for (double a : {-30.0, 0.0, 12.0}) {
    auto f = [=](auto x) { return poisson_log_lpmf(7, x[0]); };
    dist_testing::expect_gradient(f, {a}, 1u, "poisson_log a=" + std::to_string(a), false, 1e-5);
    auto g = [=](auto x) { return neg_binomial_2_log_lpmf(7, x[0], x[1]); };
    dist_testing::expect_gradient(g, {a, 0.01}, 3u, "neg_binomial_2_log small phi", false, 1e-5);
    dist_testing::expect_gradient(g, {a, 1e5}, 3u, "neg_binomial_2_log large phi", false, 1e-5);
  }
  for (double theta : {1e-9, 0.5, 1 - 1e-3}) {
    auto f = [=](auto x) { return binomial_lpmf(2, 5, x[0]); };
    dist_testing::expect_gradient(f, {theta}, 1u, "binomial theta", false, 1e-5);
  }
}
}  // namespace
}  // namespace nutshell::distributions
