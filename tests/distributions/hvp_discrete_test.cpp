// Hessian-vector products through the distributions (forward over reverse:
// the densities' nested-scalar path) for the count families (poisson, binomial, bernoulli and their log/logit forms, neg_binomial_2, categorical).
// See hvp_check.hpp for what each check asserts: HVP against finite
// differences of the gradient at points including the domain's edges, for
// each subset of the arguments made autodiff, full and propto; symmetry; no
// NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "hvp_check.hpp"
#include "nutshell/ad/ad.hpp"
#include "nutshell/constraints/constraints.hpp"
#include "nutshell/distributions/distributions.hpp"

namespace nutshell::distributions {
namespace {

using namespace hvp_test;  // NOLINT: the shared checks of this test family

TEST(DistributionsHvp, Poisson) {
  const std::vector<Point> points = {{2.5}, {1e-4}, {300.0}};
  NUTSHELL_HVP_COUNT("poisson", (poisson_lpmf<propto>(kCounts, x[0])));
  NUTSHELL_HVP_COUNT("poisson scalar", (poisson_lpmf<propto>(0, x[0])));
}

TEST(DistributionsHvp, PoissonLog) {
  const std::vector<Point> points = {{0.9}, {-12.0}, {6.0}};
  NUTSHELL_HVP_COUNT("poisson_log", (poisson_log_lpmf<propto>(kCounts, x[0])));
}

TEST(DistributionsHvp, Binomial) {
  const std::vector<Point> points = {{0.4}, {1e-5}, {1.0 - 1e-5}};
  NUTSHELL_HVP_COUNT("binomial (scalar)", (binomial_lpmf<propto>(3, 5, x[0])));
  NUTSHELL_HVP_COUNT("binomial k = 0", (binomial_lpmf<propto>(0, 5, x[0])));
  NUTSHELL_HVP_COUNT("binomial k = n", (binomial_lpmf<propto>(5, 5, x[0])));
}

TEST(DistributionsHvp, BinomialVector) {
  const std::vector<Point> points = {{0.4}, {0.02}, {0.97}};
  NUTSHELL_HVP_COUNT("binomial", (binomial_lpmf<propto>(kCounts, kTrials, x[0])));
}

TEST(DistributionsHvp, BinomialLogit) {
  const std::vector<Point> points = {{0.4}, {-30.0}, {25.0}};
  NUTSHELL_HVP_COUNT("binomial_logit", (binomial_logit_lpmf<propto>(kCounts, kTrials, x[0])));
}

TEST(DistributionsHvp, Bernoulli) {
  const std::vector<Point> points = {{0.4}, {1e-6}, {1.0 - 1e-6}};
  NUTSHELL_HVP_COUNT("bernoulli 1", (bernoulli_lpmf<propto>(1, x[0])));
  NUTSHELL_HVP_COUNT("bernoulli 0", (bernoulli_lpmf<propto>(0, x[0])));
  const std::vector<Point> inner = {{0.4}, {0.01}, {0.99}};
  for (const Point& x : inner)
    check("bernoulli vector", [](auto x) { return bernoulli_lpmf(kBits, x[0]); }, x);
}

TEST(DistributionsHvp, BernoulliLogit) {
  const std::vector<Point> points = {{0.4}, {-40.0}, {35.0}};
  NUTSHELL_HVP_COUNT("bernoulli_logit", (bernoulli_logit_lpmf<propto>(kBits, x[0])));
}

TEST(DistributionsHvp, NegBinomial2) {
  const std::vector<Point> points = {{2.5, 1.5}, {1e-3, 1e-2}, {40.0, 1e4}};
  masks<2>([&]<unsigned M>() {
    for (const Point& x : points)
      check("neg_binomial_2 mask " + std::to_string(M),
            [](auto x) { return neg_binomial_2_lpmf(kCounts, arg<M, 0>(x), arg<M, 1>(x)); }, x, M);
    for (const Point& x : points)
      check("neg_binomial_2_log mask " + std::to_string(M), [](auto x) {
        return neg_binomial_2_log_lpmf<true>(kCounts, arg<M, 0>(x), arg<M, 1>(x));
      }, x, M);
  });
}

TEST(DistributionsHvp, Categorical) {
  // theta = softmax(x) (a simplex built in the model), and the logit form.
  const std::vector<Point> points = {{0.1, -0.3, 0.8, 0.0}, {-12.0, 0.0, 3.0, 9.0}};
  const std::vector<int> cats = {0, 2, 2, 3, 1, 2};
  for (const Point& x : points) {
    check("categorical", [&](auto x) {
      using T = typename decltype(x)::value_type;
      const T lse = ad::log_sum_exp(x);
      std::vector<T> theta;
      for (const T& v : x) theta.push_back(ad::exp(v - lse));
      return categorical_lpmf(cats, theta);
    }, x);
    check("categorical_logit", [&](auto x) { return categorical_logit_lpmf(cats, x); }, x);
    check("categorical_logit one", [&](auto x) { return categorical_logit_lpmf<true>(3, x); }, x);
  }
}

}  // namespace
}  // namespace nutshell::distributions
