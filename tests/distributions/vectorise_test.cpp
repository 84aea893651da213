// The vectorised calls: a call over vectors equals the sum of the scalar
// calls (value and gradient), records ONE tape node, broadcasts scalars,
// rejects vectors of different lengths, and allocates nothing in steady
// state.
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grad.hpp"
#include "nutshell/distributions/distributions.hpp"
#include "tests/support/alloc_counter.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::ad_gradient;
using dist_testing::nodes_recorded;

// The first n coordinates of x are a vector argument, the rest scalars.
template <class V, class S>
void expect_vector_is_sum(const std::string& label, V vec, S scal, const std::vector<double>& x,
                          bool propto = false) {
  std::vector<double> gv, gs;
  const double v = ad_gradient(vec, x, gv);
  const double s = ad_gradient(scal, x, gs);
  EXPECT_NEAR(v, s, 1e-12 * std::max(1.0, std::abs(s))) << label;
  // (With propto and only doubles, everything is dropped.)
  if (!propto) {
    EXPECT_NEAR(static_cast<double>(vec(std::span<const double>(x))), v, 1e-12 * std::max(1.0, std::abs(v)))
        << label;
  }
  for (std::size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(gv[i], gs[i], 1e-11 * std::max(1.0, std::abs(gs[i]))) << label << " coordinate " << i;
  EXPECT_EQ(nodes_recorded(vec, x), 1u) << label;
}

template <class T>
using elem = std::remove_cvref_t<T>;

constexpr std::size_t kN = 7;
const std::vector<double> kY{0.3, 1.2, 0.05, 2.5, 0.7, 0.9, 1.6};     // positive data
const std::vector<double> kU{0.3, 0.2, 0.05, 0.5, 0.7, 0.9, 0.6};     // in (0, 1)
const std::vector<int> kCounts{0, 3, 1, 7, 2, 0, 12};
const std::vector<int> kBinary{0, 1, 1, 0, 1, 0, 0};
const std::vector<int> kTrials{3, 5, 1, 9, 2, 4, 12};
std::vector<double> params(double a, double b, double c = 0.0) {
  std::vector<double> x{0.4, 1.1, 0.2, 2.0, 0.9, 0.35, 1.7};  // the vector argument (positive)
  x.push_back(a);
  x.push_back(b);
  x.push_back(c);
  return x;
}

#define NUTSHELL_SUM(EXPR)                                         \
  [&](auto x) {                                                    \
    using T = elem<decltype(x[0])>;                                \
    T acc(0.0);                                                    \
    for (std::size_t i = 0; i < kN; ++i) acc = acc + (EXPR);       \
    return acc;                                                    \
  }

TEST(Vectorise, ContinuousFamiliesOverDataAndVarVectors) {
  const auto x = params(0.3, 1.4, 2.5);
  // Data y, var vector location, var scalar scale.
  expect_vector_is_sum("normal y-data mu-vector",
                       [&](auto x) { return normal_lpdf(kY, x.first(kN), x[kN + 1]); },
                       NUTSHELL_SUM(normal_lpdf(kY[i], x[i], x[kN + 1])), x);
  // Var y vector (a prior on a parameter vector), var scalar mu and sigma.
  expect_vector_is_sum("normal y-vector", [&](auto x) { return normal_lpdf(x.first(kN), x[kN], x[kN + 1]); },
                       NUTSHELL_SUM(normal_lpdf(x[i], x[kN], x[kN + 1])), x);
  expect_vector_is_sum("normal propto", [&](auto x) { return normal_lpdf<true>(x.first(kN), 0.0, x[kN + 1]); },
                       NUTSHELL_SUM(normal_lpdf<true>(x[i], 0.0, x[kN + 1])), x, true);
  expect_vector_is_sum("student_t", [&](auto x) { return student_t_lpdf(kY, x[kN + 2], x.first(kN), x[kN + 1]); },
                       NUTSHELL_SUM(student_t_lpdf(kY[i], x[kN + 2], x[i], x[kN + 1])), x);
  expect_vector_is_sum("cauchy", [&](auto x) { return cauchy_lpdf(x.first(kN), x[kN], x[kN + 1]); },
                       NUTSHELL_SUM(cauchy_lpdf(x[i], x[kN], x[kN + 1])), x);
  expect_vector_is_sum("lognormal", [&](auto x) { return lognormal_lpdf(x.first(kN), x[kN], x[kN + 1]); },
                       NUTSHELL_SUM(lognormal_lpdf(x[i], x[kN], x[kN + 1])), x);
  expect_vector_is_sum("exponential", [&](auto x) { return exponential_lpdf(kY, x.first(kN)); },
                       NUTSHELL_SUM(exponential_lpdf(kY[i], x[i])), x);
  expect_vector_is_sum("gamma", [&](auto x) { return gamma_lpdf(x.first(kN), x[kN + 2], x[kN + 1]); },
                       NUTSHELL_SUM(gamma_lpdf(x[i], x[kN + 2], x[kN + 1])), x);
  expect_vector_is_sum("inv_gamma", [&](auto x) { return inv_gamma_lpdf(kY, x.first(kN), x[kN + 1]); },
                       NUTSHELL_SUM(inv_gamma_lpdf(kY[i], x[i], x[kN + 1])), x);
  expect_vector_is_sum("beta", [&](auto x) { return beta_lpdf(kU, x.first(kN), x[kN + 1]); },
                       NUTSHELL_SUM(beta_lpdf(kU[i], x[i], x[kN + 1])), x);
  const std::vector<double> u{0.09, 0.06, 0.015, 0.15, 0.21, 0.27, 0.18};  // below the upper bounds
  expect_vector_is_sum("uniform", [&](auto x) { return uniform_lpdf(u, -1.0, x.first(kN)); },
                       NUTSHELL_SUM(uniform_lpdf(u[i], -1.0, x[i])), x);
}

TEST(Vectorise, DiscreteFamiliesOverCounts) {
  const auto x = params(0.3, 1.4, 2.5);
  expect_vector_is_sum("poisson", [&](auto x) { return poisson_lpmf(kCounts, x.first(kN)); },
                       NUTSHELL_SUM(poisson_lpmf(kCounts[i], x[i])), x);
  expect_vector_is_sum("poisson scalar rate", [&](auto x) { return poisson_lpmf(kCounts, x[kN + 2]); },
                       NUTSHELL_SUM(poisson_lpmf(kCounts[i], x[kN + 2])), x);
  expect_vector_is_sum("poisson_log", [&](auto x) { return poisson_log_lpmf(kCounts, x.first(kN)); },
                       NUTSHELL_SUM(poisson_log_lpmf(kCounts[i], x[i])), x);
  expect_vector_is_sum("binomial", [&](auto x) { return binomial_lpmf(kBinary, kTrials, x[kN]); },
                       NUTSHELL_SUM(binomial_lpmf(kBinary[i], kTrials[i], x[kN])), x);
  expect_vector_is_sum("binomial_logit", [&](auto x) { return binomial_logit_lpmf(kCounts, kTrials, x.first(kN)); },
                       NUTSHELL_SUM(binomial_logit_lpmf(kCounts[i], kTrials[i], x[i])), x);
  expect_vector_is_sum("bernoulli scalar", [&](auto x) { return bernoulli_lpmf(kBinary, x[kN]); },
                       NUTSHELL_SUM(bernoulli_lpmf(kBinary[i], x[kN])), x);
  expect_vector_is_sum("bernoulli_logit", [&](auto x) { return bernoulli_logit_lpmf(kBinary, x.first(kN)); },
                       NUTSHELL_SUM(bernoulli_logit_lpmf(kBinary[i], x[i])), x);
  expect_vector_is_sum("neg_binomial_2", [&](auto x) { return neg_binomial_2_lpmf(kCounts, x.first(kN), x[kN + 1]); },
                       NUTSHELL_SUM(neg_binomial_2_lpmf(kCounts[i], x[i], x[kN + 1])), x);
  expect_vector_is_sum("neg_binomial_2_log",
                       [&](auto x) { return neg_binomial_2_log_lpmf(kCounts, x.first(kN), x[kN + 2]); },
                       NUTSHELL_SUM(neg_binomial_2_log_lpmf(kCounts[i], x[i], x[kN + 2])), x);
  const std::vector<int> cats{0, 2, 2, 1, 0, 2, 1};
  expect_vector_is_sum("categorical_logit",
                       [&](auto x) { return categorical_logit_lpmf(cats, x.subspan(kN, 3)); },
                       NUTSHELL_SUM(categorical_logit_lpmf(cats[i], x.subspan(kN, 3))), x);
}

// Longer than the 256-element chunks bernoulli_logit works in.
TEST(Vectorise, BernoulliLogitAcrossChunks) {
  const std::size_t n = 600;
  std::vector<int> y(n);
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = (i * 7) % 5 < 2;
    x[i] = 3.0 * std::sin(0.1 * static_cast<double>(i));
  }
  auto vec = [&](auto a) { return bernoulli_logit_lpmf(y, a); };
  auto scal = [&](auto a) {
    using T = elem<decltype(a[0])>;
    T acc(0.0);
    for (std::size_t i = 0; i < n; ++i) acc = acc + bernoulli_logit_lpmf(y[i], a[i]);
    return acc;
  };
  expect_vector_is_sum("bernoulli_logit 600", vec, scal, x);
}

TEST(Vectorise, BroadcastingRulesAndEmptyVectors) {
  const std::vector<double> a{1.0, 2.0}, b{1.0, 2.0, 3.0}, empty;
  EXPECT_THROW(normal_lpdf(a, b, 1.0), std::invalid_argument);
  EXPECT_EQ(normal_lpdf(empty, 0.0, 1.0), 0.0);
  // A scalar against a vector broadcasts; a 1-vector is a vector.
  EXPECT_NEAR(normal_lpdf(a, 0.5, 2.0), normal_lpdf(1.0, 0.5, 2.0) + normal_lpdf(2.0, 0.5, 2.0), 1e-14);
  const std::vector<double> one{0.5};
  EXPECT_THROW(normal_lpdf(a, one, 2.0), std::invalid_argument);
  // std::array and std::span are vectors too.
  const std::array<double, 2> arr{1.0, 2.0};
  EXPECT_EQ(normal_lpdf(arr, 0.5, 2.0), normal_lpdf(std::span<const double>(a), 0.5, 2.0));
}

// A logistic regression's likelihood over 1000 observations and a normal
// prior: after a warm-up, a gradient allocates nothing.
TEST(Vectorise, SteadyStateGradientAllocatesNothing) {
  const std::size_t n = 1000;
  std::vector<int> y(n);
  std::vector<double> xdata(n);
  for (std::size_t i = 0; i < n; ++i) {
    xdata[i] = std::sin(0.37 * i);
    y[i] = (i % 3) == 0;
  }
  auto model = [&](auto theta) {
    using T = elem<decltype(theta[0])>;
    // eta_i = a + b x_i, as one node per element here: the likelihood is the
    // part under test.
    std::vector<T> eta;
    eta.reserve(n);
    for (std::size_t i = 0; i < n; ++i) eta.push_back(theta[0] + theta[1] * xdata[i]);
    return bernoulli_logit_lpmf(y, eta) + normal_lpdf<true>(theta, 0.0, 2.5);
  };
  std::vector<double> x{0.2, -0.4}, g;
  ad_gradient(model, x, g);
  // eta itself is a std::vector; the distributions' own part is measured by
  // the difference from the same model without them.
  auto eta_only = [&](auto theta) {
    using T = elem<decltype(theta[0])>;
    std::vector<T> eta;
    eta.reserve(n);
    for (std::size_t i = 0; i < n; ++i) eta.push_back(theta[0] + theta[1] * xdata[i]);
    return eta[0];
  };
  ad_gradient(eta_only, x, g);
  long with, without;
  {
    nutshell::testing::AllocationScope scope;
    ad_gradient(model, x, g);
    with = scope.count();
  }
  {
    nutshell::testing::AllocationScope scope;
    ad_gradient(eta_only, x, g);
    without = scope.count();
  }
  EXPECT_EQ(with, without);
  // And a double-only multivariate call uses the stack for small dimensions.
  const std::vector<double> yy{0.1, 0.2, 0.3}, mu{0, 0, 0}, L{1, 0, 0, 0.5, 1, 0, 0.2, 0.3, 1};
  nutshell::testing::AllocationScope scope;
  const double v = multi_normal_cholesky_lpdf(yy, mu, L);
  EXPECT_EQ(scope.count(), 0);
  EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace nutshell::distributions
