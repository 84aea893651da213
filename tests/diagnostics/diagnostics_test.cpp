#include "nutshell/diagnostics/diagnostics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <xtensor/xview.hpp>

#include "fixtures.hpp"
#include "nutshell/diagnostics/autocovariance.hpp"
#include "nutshell/diagnostics/moments.hpp"
#include "nutshell/diagnostics/quantile.hpp"

namespace nutshell::diagnostics {
namespace {

using testing::relative_deviation;

constexpr double kTolerance = 1e-6;

using Metric = std::function<absl::StatusOr<PerDimension>(const Draws&)>;

// Pooled statistic of each dimension, for the summary statistics posterior
// computes with base R.
Metric pooled(std::function<double(std::span<const double>)> f) {
  return [f](const Draws& x) -> absl::StatusOr<PerDimension> {
    const std::size_t d = x.shape()[2];
    PerDimension out = xt::zeros<double>({d});
    for (std::size_t k = 0; k < d; ++k) {
      std::vector<double> v;
      for (std::size_t i = k; i < x.size(); i += d) v.push_back(x.data()[i]);
      out(k) = f(v);
    }
    return out;
  };
}

const std::vector<std::pair<std::string, Metric>>& metrics() {
  static const auto* m = new std::vector<std::pair<std::string, Metric>>{
      {"rhat", [](const Draws& x) { return rhat(x); }},
      {"rhat_basic", [](const Draws& x) { return rhat_basic(x); }},
      {"rhat_basic_nosplit", [](const Draws& x) { return rhat_basic(x, false); }},
      {"ess_bulk", [](const Draws& x) { return ess_bulk(x); }},
      {"ess_tail", [](const Draws& x) { return ess_tail(x); }},
      {"ess_basic", [](const Draws& x) { return ess_basic(x); }},
      {"ess_basic_nosplit", [](const Draws& x) { return ess_basic(x, false); }},
      {"ess_q5", [](const Draws& x) { return ess_quantile(x, 0.05); }},
      {"ess_q50", [](const Draws& x) { return ess_quantile(x, 0.5); }},
      {"ess_q95", [](const Draws& x) { return ess_quantile(x, 0.95); }},
      {"ess_q100", [](const Draws& x) { return ess_quantile(x, 1.0); }},
      {"mcse_mean", [](const Draws& x) { return mcse_mean(x); }},
      {"mcse_sd", [](const Draws& x) { return mcse_sd(x); }},
      {"mcse_q5", [](const Draws& x) { return mcse_quantile(x, 0.05); }},
      {"mcse_q50", [](const Draws& x) { return mcse_quantile(x, 0.5); }},
      {"mcse_q95", [](const Draws& x) { return mcse_quantile(x, 0.95); }},
      {"mean", pooled([](std::span<const double> v) { return mean(v); })},
      {"sd", pooled([](std::span<const double> v) { return sd(v); })},
      {"median", pooled([](std::span<const double> v) { return median(v); })},
      {"q5", pooled([](std::span<const double> v) { return quantile(v, 0.05); })},
      {"q95", pooled([](std::span<const double> v) { return quantile(v, 0.95); })},
  };
  return *m;
}

TEST(PosteriorFixtures, EveryDiagnosticMatchesPosterior) {
  const auto cases = testing::load_posterior_cases();
  ASSERT_GE(cases.size(), 10u);
  double overall = 0.0;
  for (const auto& [key, metric] : metrics()) {
    double worst = 0.0;
    std::string worst_case;
    for (const auto& c : cases) {
      SCOPED_TRACE(c.name + " " + key);
      ASSERT_TRUE(c.expected.count(key));
      const auto& expected = c.expected.at(key);
      const auto actual = metric(c.draws);
      ASSERT_TRUE(actual.ok()) << actual.status();
      ASSERT_EQ(actual->size(), expected.size());
      for (std::size_t k = 0; k < expected.size(); ++k) {
        const double dev = relative_deviation((*actual)(k), expected[k]);
        EXPECT_LE(dev, kTolerance)
            << "dim " << k << ": got " << (*actual)(k) << ", posterior " << expected[k];
        if (dev > worst) {
          worst = dev;
          worst_case = c.name;
        }
      }
    }
    std::cout << "max relative deviation " << key << ": " << worst
              << (worst_case.empty() ? "" : " (" + worst_case + ")") << "\n";
    overall = std::max(overall, worst);
  }
  std::cout << "max relative deviation overall: " << overall << "\n";
  ::testing::Test::RecordProperty("max_relative_deviation", std::to_string(overall));
}

TEST(PosteriorFixtures, ConstantDrawsGiveNaNLikePosteriorNA) {
  for (const auto& c : testing::load_posterior_cases()) {
    if (c.name != "constant_dim") continue;
    EXPECT_TRUE(std::isnan((*rhat(c.draws))(0)));
    EXPECT_TRUE(std::isnan((*ess_bulk(c.draws))(0)));
    EXPECT_TRUE(std::isnan((*ess_tail(c.draws))(0)));
    EXPECT_TRUE(std::isnan((*mcse_quantile(c.draws, 0.5))(0)));
    EXPECT_FALSE(std::isnan((*rhat(c.draws))(1)));
    return;
  }
  FAIL() << "constant_dim fixture missing";
}

TEST(PosteriorFixtures, AutocovarianceMatchesPosterior) {
  for (const auto& c : testing::load_posterior_cases()) {
    if (c.autocovariance_chain0.empty()) continue;
    const std::size_t n = c.draws.shape()[1];
    xt::xtensor<double, 1> chain0 = xt::view(c.draws, 0, xt::all(), 0);
    const auto acov = autocovariance(chain0);
    ASSERT_EQ(acov.size(), n);
    // Later lags are differences of O(1) terms, so compare absolutely
    // against the lag-0 variance.
    double worst = 0.0;
    for (std::size_t t = 0; t < n; ++t) {
      worst = std::max(worst, std::abs(acov(t) - c.autocovariance_chain0[t]) /
                                  c.autocovariance_chain0[0]);
    }
    EXPECT_LE(worst, 1e-12);
    EXPECT_LE(relative_deviation(acov(0), c.autocovariance_chain0[0]), 1e-14);
    return;
  }
  FAIL() << "no autocovariance fixture";
}

TEST(PosteriorFixtures, ScalarOverloadsAgreeWithPerDimension) {
  for (const auto& c : testing::load_posterior_cases()) {
    if (c.name != "odd_draws") continue;
    const auto all = *ess_tail(c.draws);
    const auto all_rhat = *rhat(c.draws);
    for (std::size_t k = 0; k < c.draws.shape()[2]; ++k) {
      ChainDraws slice = xt::view(c.draws, xt::all(), xt::all(), k);
      EXPECT_EQ(*ess_tail(slice), all(k));
      EXPECT_EQ(*rhat(slice), all_rhat(k));
    }
    return;
  }
  FAIL() << "odd_draws fixture missing";
}

// ---------------------------------------------------------------------------
// Properties that hold whatever the reference implementation says.

Draws normal_draws(std::size_t chains, std::size_t draws, std::size_t dims,
                   unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Draws x = Draws::from_shape({chains, draws, dims});
  for (double& v : x) v = normal(rng);
  return x;
}

TEST(Properties, IidNormalDrawsLookConverged) {
  const Draws x = normal_draws(4, 1000, 8, 1);
  const double s = 4000.0;
  const auto r = *rhat(x);
  const auto bulk = *ess_bulk(x);
  const auto tail = *ess_tail(x);
  const auto basic = *ess_basic(x);
  for (std::size_t k = 0; k < 8; ++k) {
    EXPECT_NEAR(r(k), 1.0, 0.01);
    EXPECT_NEAR(bulk(k) / s, 1.0, 0.15);
    EXPECT_NEAR(tail(k) / s, 1.0, 0.2);
    EXPECT_NEAR(basic(k) / s, 1.0, 0.15);
  }
}

TEST(Properties, ShiftedChainHasLargeRhat) {
  Draws x = normal_draws(4, 500, 1, 2);
  xt::view(x, 1, xt::all(), xt::all()) += 1.0;
  EXPECT_GT((*rhat_basic(x))(0), 1.1);
  EXPECT_GT((*rhat(x))(0), 1.1);
}

TEST(Properties, ChainWithLargerScaleIsCaughtByTailRhat) {
  // Same location, different scale: bulk R-hat barely moves; the folded
  // (tail) R-hat is what flags it.
  Draws x = normal_draws(4, 1000, 1, 3);
  xt::view(x, 0, xt::all(), xt::all()) *= 3.0;
  EXPECT_LT((*rhat_basic(x))(0), 1.01);
  EXPECT_GT((*rhat(x))(0), 1.05);
}

TEST(Properties, Ar1EssMatchesTheory) {
  // ESS / S = (1 - phi) / (1 + phi) for a stationary AR(1).
  const double phi = 0.8;
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal;
  ChainDraws x = ChainDraws::from_shape({4, 5000});
  for (std::size_t c = 0; c < 4; ++c) {
    double v = normal(rng) / std::sqrt(1 - phi * phi);
    for (std::size_t i = 0; i < 5000; ++i) x(c, i) = v = phi * v + normal(rng);
  }
  const double expected = 20000.0 * (1 - phi) / (1 + phi);
  EXPECT_NEAR(*ess_basic(x) / expected, 1.0, 0.15);
  EXPECT_NEAR(*ess_bulk(x) / expected, 1.0, 0.15);
  // The mean's MCSE is sd / sqrt(ESS): sd = 1 / sqrt(1 - phi^2).
  const double mcse = 1 / std::sqrt((1 - phi * phi) * expected);
  EXPECT_NEAR(*mcse_mean(x) / mcse, 1.0, 0.1);
}

TEST(Properties, AntitheticEssIsCappedAtSLog10S) {
  // AR(1) with phi = -0.9 has tau = 0.1 / 1.9, below 1 / log10(S).
  std::mt19937_64 rng(10);
  std::normal_distribution<double> normal;
  ChainDraws x = ChainDraws::from_shape({2, 1000});
  for (std::size_t c = 0; c < 2; ++c) {
    double v = 0.0;
    for (std::size_t i = 0; i < 1000; ++i) x(c, i) = v = -0.9 * v + normal(rng);
  }
  EXPECT_DOUBLE_EQ(*ess_basic(x), 2000.0 * std::log10(2000.0));
}

TEST(Properties, RankDiagnosticsAreInvariantToMonotoneTransforms) {
  const Draws x = normal_draws(4, 300, 1, 5);
  const Draws y = xt::exp(x);
  EXPECT_DOUBLE_EQ((*rhat(x))(0), (*rhat(y))(0));
  EXPECT_DOUBLE_EQ((*ess_bulk(x))(0), (*ess_bulk(y))(0));
  EXPECT_DOUBLE_EQ((*ess_tail(x))(0), (*ess_tail(y))(0));
}

// ---------------------------------------------------------------------------
// Invalid input.

void expect_invalid(const absl::Status& s, const std::string& fragment) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(std::string(s.message()).find(fragment), std::string::npos) << s;
}

TEST(BadInput, NoChain) {
  expect_invalid(rhat(Draws::from_shape({0, 10, 1})).status(), "no chain");
  expect_invalid(ess_bulk(ChainDraws::from_shape({0, 10})).status(), "no chain");
}

TEST(BadInput, TooFewDraws) {
  const ChainDraws x = xt::ones<double>({4, 3});
  expect_invalid(rhat(x).status(), "at least 4 draws");
  expect_invalid(ess_tail(Draws(xt::ones<double>({2, 0, 1}))).status(), "at least 4");
}

TEST(BadInput, NoDimension) {
  expect_invalid(ess_bulk(Draws::from_shape({2, 10, 0})).status(), "no dimension");
}

TEST(BadInput, NonFiniteDraws) {
  Draws x = normal_draws(2, 10, 3, 6);
  x(1, 4, 2) = std::numeric_limits<double>::quiet_NaN();
  expect_invalid(rhat(x).status(), "not finite");
  x(1, 4, 2) = std::numeric_limits<double>::infinity();
  expect_invalid(mcse_mean(x).status(), "not finite");
  ChainDraws y = xt::view(normal_draws(2, 10, 1, 7), xt::all(), xt::all(), 0);
  y(0, 0) = -std::numeric_limits<double>::infinity();
  expect_invalid(ess_basic(y).status(), "not finite");
}

TEST(BadInput, ProbabilityOutsideUnitInterval) {
  const Draws x = normal_draws(2, 10, 1, 8);
  expect_invalid(ess_quantile(x, 1.5).status(), "probability");
  expect_invalid(mcse_quantile(x, -0.1).status(), "probability");
  expect_invalid(
      mcse_quantile(x, std::numeric_limits<double>::quiet_NaN()).status(),
      "probability");
}

TEST(BadInput, FourDrawsAreAcceptedButTooFewForEss) {
  // Like posterior: 2 draws per split chain give an NA ESS, not an error.
  const Draws x = normal_draws(2, 4, 1, 9);
  ASSERT_TRUE(ess_bulk(x).ok());
  EXPECT_TRUE(std::isnan((*ess_bulk(x))(0)));
  EXPECT_FALSE(std::isnan((*rhat(x))(0)));
}

// ess_basic(x, /*split=*/false) computes the lags Geyer's truncation reads
// directly (FFT only past 32 lags); this is posterior's .ess on the FFT
// autocovariance of every lag (the implementation before that change,
// R-verified), for comparison on random and adversarial chains.
double ess_all_fft(const ChainDraws& x) {
  const std::size_t m = x.shape()[0], n = x.shape()[1];
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  if (n < 3 || std::abs(*hi - *lo) < std::numeric_limits<double>::epsilon())
    return std::numeric_limits<double>::quiet_NaN();
  const xt::xtensor<double, 2> acov = autocovariance(x);
  std::vector<double> acov_means(n, 0.0), means(m);
  for (std::size_t c = 0; c < m; ++c) {
    for (std::size_t t = 0; t < n; ++t) acov_means[t] += acov(c, t);
    means[c] = mean(std::span<const double>(x.data() + c * n, n));
  }
  for (double& a : acov_means) a /= static_cast<double>(m);
  const double dn = static_cast<double>(n);
  const double mean_var = acov_means[0] * dn / (dn - 1);
  double var_plus = mean_var * (dn - 1) / dn;
  if (m > 1) var_plus += variance(means);
  std::vector<double> rho(n, 0.0);
  auto rho_at = [&](std::size_t t) { return 1 - (mean_var - acov_means[t]) / var_plus; };
  std::size_t t = 0;
  double rho_even = 1.0, rho_odd = rho_at(1);
  rho[0] = rho_even;
  rho[1] = rho_odd;
  while (t + 5 < n && !std::isnan(rho_even + rho_odd) && rho_even + rho_odd > 0) {
    t += 2;
    rho_even = rho_at(t);
    rho_odd = rho_at(t + 1);
    if (rho_even + rho_odd >= 0) rho[t] = rho_even, rho[t + 1] = rho_odd;
  }
  const std::size_t max_t = t;
  if (rho_even > 0) rho[max_t] = rho_even;
  for (t = 2; t + 2 <= max_t; t += 2) {
    if (rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]) {
      rho[t] = (rho[t - 2] + rho[t - 1]) / 2;
      rho[t + 1] = rho[t];
    }
  }
  long double sum = 0.0L;
  for (std::size_t k = 0; k < std::max<std::size_t>(max_t, 1); ++k) sum += rho[k];
  const double draws = static_cast<double>(m * n);
  double tau = -1 + 2 * static_cast<double>(sum) + rho[max_t];
  tau = std::max(tau, 1 / std::log10(draws));
  return draws / tau;
}

TEST(EssDirectLags, EqualsTheAllLagFftOnRandomAndAdversarialChains) {
  std::mt19937_64 rng(20261207);
  std::normal_distribution<double> normal;
  std::size_t cases = 0, fft_fallbacks = 0;
  for (int rep = 0; rep < 400; ++rep) {
    const std::size_t m = 1 + rng() % 9, n = 4 + rng() % 400;
    // AR(1) from antithetic to nearly a random walk (the slow ones need
    // more than 32 lags: the FFT fallback).
    const double phis[] = {-0.7, -0.2, 0.0, 0.3, 0.8, 0.97, 0.999};
    const double phi = phis[rng() % 7];
    const int kind = static_cast<int>(rng() % 5);
    ChainDraws x({m, n});
    for (std::size_t c = 0; c < m; ++c) {
      double v = normal(rng);
      for (std::size_t i = 0; i < n; ++i) {
        v = phi * v + normal(rng);
        double y = v;
        if (kind == 1) y = std::round(v);                     // many ties
        if (kind == 2) y = v > 0.5 ? 1.0 : 0.0;               // an indicator
        if (kind == 3 && c == 0) y = 2.0;                     // one constant chain
        if (kind == 4) y = 1e8 + 1e-3 * v;                    // large offset
        x(c, i) = y;
      }
    }
    const double fast = *ess_basic(x, /*split=*/false);
    const double ref = ess_all_fft(x);
    if (phi >= 0.97) ++fft_fallbacks;
    ++cases;
    if (std::isnan(ref)) {
      EXPECT_TRUE(std::isnan(fast)) << rep;
      continue;
    }
    EXPECT_LE(std::abs(fast - ref), 1e-12 * std::abs(ref))
        << "rep " << rep << " m " << m << " n " << n << " phi " << phi << " kind " << kind;
  }
  EXPECT_EQ(cases, 400u);
  EXPECT_GT(fft_fallbacks, 50u);
  // All draws constant: NA as before.
  ChainDraws constant({3, 20});
  constant.fill(1.5);
  EXPECT_TRUE(std::isnan(*ess_basic(constant, false)));
}

}  // namespace
}  // namespace nutshell::diagnostics
