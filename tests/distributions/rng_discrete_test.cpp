// Draws from the discrete families: chi-square against the exact pmf and the
// first two moments, on both sides of every algorithm switch (Poisson
// inversion below mean 10, PTRS from 10; binomial inversion below n p = 10,
// BTRS from it, with p on both sides of 1/2), on several keys.
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nutshell/distributions/rng_discrete.hpp"
#include "stats.hpp"

namespace nutshell::distributions {
namespace {

using dist_testing::chi_square_pvalue;
using dist_testing::expect_mean_var;
using dist_testing::kMinPValue;
using dist_testing::test_keys;

constexpr std::size_t kN = 20000;

void check(const std::string& label, const std::function<std::int64_t(const Key&)>& rng,
           const std::function<double(std::int64_t)>& log_pmf, std::int64_t kmax, double mean,
           double var) {
  for (const Key& key : test_keys()) {
    std::vector<std::int64_t> k(kN);
    std::vector<double> x(kN);
    for (std::size_t i = 0; i < kN; ++i) x[i] = static_cast<double>(k[i] = rng(fold_in(key, i)));
    EXPECT_GT(chi_square_pvalue(k, [&](std::int64_t j) { return std::exp(log_pmf(j)); }, kmax),
              kMinPValue)
        << label;
    expect_mean_var(x, mean, var, label);
  }
}

double lfact(double k) { return std::lgamma(k + 1.0); }

TEST(RngDiscrete, PoissonAcrossTheAlgorithmSwitch) {
  for (double lambda : {0.5, 3.0, 9.0, 9.99, 10.0, 27.0, 1000.0, 1e6}) {
    const auto kmax = static_cast<std::int64_t>(lambda + 12.0 * std::sqrt(lambda) + 20.0);
    check("poisson " + std::to_string(lambda), [=](const Key& k) { return poisson_rng(k, lambda); },
          [=](std::int64_t k) { return k * std::log(lambda) - lambda - lfact(k); }, kmax, lambda, lambda);
  }
}

TEST(RngDiscrete, PoissonLogAndZeroRate) {
  check("poisson_log", [](const Key& k) { return poisson_log_rng(k, std::log(4.0)); },
        [](std::int64_t k) { return k * std::log(4.0) - 4.0 - lfact(k); }, 40, 4.0, 4.0);
  EXPECT_EQ(poisson_rng(make_key(3), 0.0), 0);
}

TEST(RngDiscrete, BinomialAcrossTheAlgorithmSwitch) {
  struct Case {
    std::int64_t n;
    double p;
  };
  for (Case c : {Case{1, 0.3}, {20, 0.1}, {20, 0.9}, {19, 0.5}, {100, 0.0999}, {100, 0.1}, {100, 0.93},
                 {1000, 0.5}, {100000, 0.02}, {5000000, 0.7}}) {
    const double nd = static_cast<double>(c.n), q = 1.0 - c.p;
    const double sd = std::sqrt(nd * c.p * q);
    const auto kmax = std::min<std::int64_t>(c.n, static_cast<std::int64_t>(nd * c.p + 12 * sd + 20));
    check("binomial " + std::to_string(c.n) + "," + std::to_string(c.p),
          [=](const Key& k) { return binomial_rng(k, c.n, c.p); },
          [=](std::int64_t k) {
            if (k > c.n) return -HUGE_VAL;
            return lfact(nd) - lfact(k) - lfact(nd - k) + k * std::log(c.p) + (nd - k) * std::log1p(-c.p);
          },
          kmax, nd * c.p, nd * c.p * q);
  }
}

TEST(RngDiscrete, BinomialEdges) {
  const Key k = make_key(9);
  EXPECT_EQ(binomial_rng(k, 0, 0.4), 0);
  EXPECT_EQ(binomial_rng(k, 17, 0.0), 0);
  EXPECT_EQ(binomial_rng(k, 17, 1.0), 17);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    const auto x = binomial_rng(fold_in(k, i), 30, 0.6);
    EXPECT_GE(x, 0);
    EXPECT_LE(x, 30);
  }
}

TEST(RngDiscrete, BinomialLogit) {
  const double p = 1.0 / (1.0 + std::exp(-0.8));
  check("binomial_logit", [](const Key& k) { return binomial_logit_rng(k, 50, 0.8); },
        [=](std::int64_t k) {
          return lfact(50) - lfact(k) - lfact(50 - k) + k * std::log(p) + (50 - k) * std::log1p(-p);
        },
        50, 50 * p, 50 * p * (1 - p));
}

TEST(RngDiscrete, BernoulliAndLogit) {
  for (double p : {0.02, 0.5, 0.97}) {
    auto lpmf = [=](std::int64_t k) { return k == 0 ? std::log1p(-p) : k == 1 ? std::log(p) : -HUGE_VAL; };
    check("bernoulli", [=](const Key& k) { return bernoulli_rng(k, p); }, lpmf, 1, p, p * (1 - p));
    const double a = std::log(p / (1 - p));
    check("bernoulli_logit", [=](const Key& k) { return bernoulli_logit_rng(k, a); }, lpmf, 1, p,
          p * (1 - p));
  }
}

TEST(RngDiscrete, CategoricalAndLogit) {
  const std::vector<double> theta{0.1, 0.0, 0.45, 0.05, 0.4};
  std::vector<double> beta;
  for (double t : theta) beta.push_back(t > 0 ? std::log(t) + 3.0 : -INFINITY);
  double mean = 0, second = 0;
  for (std::size_t k = 0; k < theta.size(); ++k) {
    mean += k * theta[k];
    second += k * k * theta[k];
  }
  auto lpmf = [&](std::int64_t k) { return k < 5 ? std::log(theta[static_cast<std::size_t>(k)]) : -HUGE_VAL; };
  check("categorical", [&](const Key& k) { return categorical_rng(k, theta); }, lpmf, 4, mean,
        second - mean * mean);
  check("categorical_logit", [&](const Key& k) { return categorical_logit_rng(k, beta); }, lpmf, 4, mean,
        second - mean * mean);
}

TEST(RngDiscrete, NegBinomial2) {
  for (auto [mu, phi] : {std::pair{0.5, 0.2}, {4.0, 1.0}, {30.0, 5.0}, {200.0, 1000.0}}) {
    auto lpmf = [=](std::int64_t k) {
      return std::lgamma(k + phi) - lfact(k) - std::lgamma(phi) + k * std::log(mu / (mu + phi)) +
             phi * std::log(phi / (mu + phi));
    };
    const double var = mu + mu * mu / phi;
    const auto kmax = static_cast<std::int64_t>(mu + 30.0 * std::sqrt(var) + 30);
    check("neg_binomial_2 " + std::to_string(mu) + "," + std::to_string(phi),
          [=](const Key& k) { return neg_binomial_2_rng(k, mu, phi); }, lpmf, kmax, mu, var);
    check("neg_binomial_2_log", [=](const Key& k) { return neg_binomial_2_log_rng(k, std::log(mu), phi); },
          lpmf, kmax, mu, var);
  }
}

TEST(RngDiscrete, InvalidParametersThrow) {
  const Key k = make_key(1);
  EXPECT_THROW(poisson_rng(k, -1.0), std::domain_error);
  EXPECT_THROW(poisson_rng(k, INFINITY), std::domain_error);
  EXPECT_THROW(poisson_log_rng(k, NAN), std::domain_error);
  EXPECT_THROW(binomial_rng(k, -1, 0.5), std::domain_error);
  EXPECT_THROW(binomial_rng(k, 3, 1.5), std::domain_error);
  EXPECT_THROW(bernoulli_rng(k, -0.1), std::domain_error);
  const std::vector<double> not_simplex{0.5, 0.6};
  EXPECT_THROW(categorical_rng(k, not_simplex), std::domain_error);
  EXPECT_THROW(neg_binomial_2_rng(k, 1.0, 0.0), std::domain_error);
}

}  // namespace
}  // namespace nutshell::distributions

namespace nutshell::distributions {
namespace {
// The checks above must be able to fail: a 3% error in a Poisson mean, or a
// binomial drawn at the wrong p, is caught on every key.
TEST(RngDiscrete, TheChiSquareCheckCatchesASmallError) {
  for (const Key& key : test_keys()) {
    std::vector<std::int64_t> k(kN);
    for (std::size_t i = 0; i < kN; ++i) k[i] = poisson_rng(fold_in(key, i), 10.3);
    EXPECT_LT(chi_square_pvalue(k, [](std::int64_t j) { return std::exp(j * std::log(10.0) - 10.0 - lfact(j)); }, 60),
              kMinPValue);
    for (std::size_t i = 0; i < kN; ++i) k[i] = binomial_rng(fold_in(key, i), 1000, 0.51);
    EXPECT_LT(chi_square_pvalue(k, [](std::int64_t j) {
      return std::exp(lfact(1000) - lfact(j) - lfact(1000 - j) + (j + 0.0) * std::log(0.5) + (1000.0 - j) * std::log(0.5));
    }, 1000), kMinPValue);
  }
}
}  // namespace
}  // namespace nutshell::distributions
